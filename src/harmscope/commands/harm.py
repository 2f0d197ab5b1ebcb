"""`harmscope harm`: harm-weighted counts and rates by area (and month).

What is published is decided in privacy.publishers.publish_harm; files are written by
export.harm.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    AudienceOption,
    DbOption,
    FromOption,
    JsonOption,
    OldSchemeOption,
    QuietOption,
    ThresholdOption,
    ToOption,
    area_option,
    harm_weights,
    out_option,
    print_json,
    require_area,
)
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.store import Store


def _old_csv(out: Path | None, csv_out: Path | None, quiet: bool) -> tuple[Path | None, bool]:
    """--out, or the old --csv (which always meant CSV, whatever the name ends in)."""
    from harmscope.export.files import check_out

    if csv_out is None:
        check_out(out)
        return out, False
    if out is not None:
        raise HarmscopeError(
            "--csv is the old name of --out; both were given",
            where="--csv",
            fix="give only --out FILE",
        )
    if not quiet:
        Console(stderr=True).print(
            "Note: --csv is now --out FILE (.csv, .xlsx or .parquet); --csv will be "
            "removed in a later release.",
            highlight=False,
        )
    validate.output_file(csv_out, "--csv")
    return csv_out, True


def register(app: typer.Typer) -> None:
    @app.command()
    def harm(
        level: str = typer.Option(
            "district", "--level", help="county (force area) | district | lsoa."
        ),
        area: str = area_option(),
        date_from: str = FromOption,
        date_to: str = ToOption,
        weights: str = typer.Option(
            None,
            "--weights",
            help="css (ONS Crime Severity Score, the default) | chi (Cambridge Crime Harm Index) | "
            "a CSV of category weights replacing the packaged table (columns "
            "category,weight[,source,status,derivation]).",
        ),
        by_month: bool = typer.Option(False, "--by-month", help="One row per area and month."),
        category: list[str] = typer.Option(
            None, "--category", help="Only this police.uk category (repeat for several)."
        ),
        audience: str = AudienceOption,
        threshold: int = ThresholdOption,
        out: Path = out_option("Also write the area x category table"),
        csv_out: Path = typer.Option(
            None, "--csv", hidden=True, help="Old name of --out (kept for one release)."
        ),
        show_weights: bool = typer.Option(
            False, "--show-weights", help="Print the weights in use and stop."
        ),
        sensitivity: bool = typer.Option(
            False,
            "--sensitivity",
            help="Shares and rankings of harm under every plausible weighting (CSS and CHI, "
            "central, low, high and the mixed extremes) and the conclusions that survive all of "
            "them. Needs --area; --out writes its tables.",
        ),
        codes: Path = typer.Option(
            None,
            "--codes",
            help="A force extract aggregated by Home Office offence code: CSV with code,count "
            "and any grouping columns (area, month...). Weighs it instead of the store's data.",
        ),
        pounds: bool = typer.Option(
            False,
            "--pounds",
            help="Harm in pounds: recorded crimes x the Home Office unit cost of crime (Research "
            "Report 99, 2015/16 prices) by category and district, beside harm in sentence-days, "
            "with intervals. Needs --area.",
        ),
        price_year: str = typer.Option(
            None,
            "--price-year",
            help="With --pounds: the financial year to price in, YYYY (its first year, e.g. 2024 "
            "for 2024/25); default the source year 2015/16.",
        ),
        costs: Path = typer.Option(
            None,
            "--costs",
            help="With --pounds: a CSV of unit costs replacing the packaged table (columns "
            "category,unit_cost_gbp,unit_cost_low,unit_cost_high,price_year,costed,source).",
        ),
        scheme_old: str = OldSchemeOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Harm-weighted counts and rates per 1,000 residents by area, month and category."""
        from harmscope.commands._harm_view import print_harm, print_weights, run_codes
        from harmscope.store import Store

        validate.store_path(db)
        validate.area(area)
        out, old_csv = _old_csv(out, csv_out, quiet)
        validate.input_file(codes, "--codes")
        scheme, weights_file = harm_weights(
            weights, scheme_old, old_name="--scheme", files=True, quiet=quiet or json_out
        )
        if show_weights:
            return print_weights(scheme, weights_file, json_out)
        if codes is not None:
            return run_codes(codes, scheme, weights_file, json_out)
        if pounds:
            validate.input_file(costs, "--costs")
            by = ["category"] + (["district"] if level == "district" else [])
            by += ["month"] if by_month else []
            return _pounds(
                db,
                area,
                date_from,
                date_to,
                by,
                price_year,
                costs,
                (scheme, weights_file),
                (audience, threshold),
                out,
                json_out,
                quiet,
            )
        if sensitivity:
            return _sensitivity(
                db, area, date_from, date_to, audience, threshold, out, json_out, quiet
            )
        from harmscope.privacy.publishers import publish_harm

        with Store.open(db, read_only=True) as store:
            require_area(store, area, quiet=quiet)
            pub = publish_harm(
                store,
                audience,
                threshold,
                level=level,
                area=area,
                date_from=date_from,
                date_to=date_to,
                scheme=scheme,
                weights=weights_file,
                by_month=by_month,
                categories=category or None,
            )
        if out is not None:
            from harmscope.export.harm import write_harm_table

            write_harm_table(pub, out, csv_only=old_csv)
        if json_out:
            print_json(pub.document())
            return
        print_harm(pub.document(), by_month)
        if out is not None and not quiet:
            Console(stderr=True).print(f"Wrote {out}")


def _sensitivity(db, area, date_from, date_to, audience, threshold, out, json_out, quiet) -> None:
    """`harm --sensitivity`: run, publish, print (and write) the weight sensitivity."""
    from harmscope.analysis.harm import weight_sensitivity
    from harmscope.export.harm import sensitivity_text, write_sensitivity_tables
    from harmscope.privacy.publishers import publish_weight_sensitivity
    from harmscope.store import Store

    with Store.open(db, read_only=True) as store:
        area = require_area(store, area, quiet=quiet)
        res = weight_sensitivity(store, area=area, date_from=date_from, date_to=date_to)
    pub = publish_weight_sensitivity(res, audience, threshold)
    if out is not None:
        write_sensitivity_tables(pub, out)
    if json_out:
        print_json(pub.document())
        return
    typer.echo(sensitivity_text(pub.document()))
    if out is not None and not quiet:
        Console(stderr=True).print(f"Wrote {out}")


def _pounds(
    db, area, date_from, date_to, by, price_year, costs, weighting, aud, out, json_out, quiet
) -> None:
    """`harm --pounds`: run, publish, print (and write) harm in pounds. ``weighting``: (scheme,
    weights file or None) for the harm beside the pounds; ``aud``: (audience, threshold)."""
    from harmscope.analysis.costs import harm_in_pounds
    from harmscope.export.harm import pounds_text, write_pounds_tables
    from harmscope.privacy.costs import publish_harm_in_pounds
    from harmscope.store import Store

    with Store.open(db, read_only=True) as store:
        area = require_area(store, area, quiet=quiet)
        res = harm_in_pounds(
            store,
            area=area,
            date_from=date_from,
            date_to=date_to,
            by=by,
            price_year=price_year,
            costs_file=costs,
            scheme=weighting[0],
            weights=weighting[1],
        )
    pub = publish_harm_in_pounds(res, *aud)
    if out is not None:
        write_pounds_tables(pub, out)
    if json_out:
        print_json(pub.document())
        return
    typer.echo(pounds_text(pub.document()))
    if out is not None and not quiet:
        Console(stderr=True).print(f"Wrote {out}")


def demo(store: Store, out_dir: Path) -> list[str]:
    """Harm by district for the bundled sample (its one force), as CSV."""
    from harmscope.analysis.harm import harm_by_area
    from harmscope.store.queries.catalog import forces_held

    forces = forces_held(store)
    if not forces:
        return ["no street crimes in the sample: skipped"]
    out = Path(out_dir) / "harm_by_district.csv"
    res = harm_by_area(store, level="district", area=forces[0])
    res.tables["totals"].drop(columns=["harm_w2", "w_max"]).to_csv(out, index=False)
    s = res.summary
    return [
        f"harm by district ({s['scheme']}): {s['count']:,} crimes, harm {s['harm']:,.0f}; "
        f"top category by harm: {s.get('top_harm_category')} -> {out}"
    ]
