"""`harmscope harm`: harm-weighted counts and rates by area (and month)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.analysis.harm import harm_by_area
from harmscope.analysis.result import _jsonable, frame_records
from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json
from harmscope.errors import HarmscopeError
from harmscope.reference.offences import load_weights
from harmscope.store import Store


def run(store: Store, **options: Any) -> dict[str, Any]:
    """Everything the command prints, as one JSON-ready dict, through the publishing path
    (keywords as :func:`publication`)."""
    return publication(store, **options).document()


def publication(
    store: Store,
    *,
    level: str = "district",
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights: str | Path | None = None,
    by_month: bool = False,
    categories: list[str] | None = None,
    audience: str = "internal",
    threshold: int = 5,
):
    """The finished Publication behind :func:`run` (what ``--out`` writes)."""
    from harmscope.privacy.publishers import publish_harm

    return publish_harm(
        store,
        audience,
        threshold,
        level=level,
        area=area,
        date_from=date_from,
        date_to=date_to,
        scheme=scheme,
        weights=weights,
        by_month=by_month,
        categories=categories or None,
    )


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "suppressed"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _print(payload: dict[str, Any], by_month: bool) -> None:
    console = Console()
    s = payload["summary"]
    console.print(
        f"[bold]Harm[/] ({s['scheme']}), {s['area']}, {s['first_month']}..{s['last_month']} "
        f"({s['months']} months), level {s['level']}",
        highlight=False,
    )
    ci = s.get("harm_ci") or [None, None]
    estimated = " (estimated: includes suppressed counts)" if s.get("harm_estimated") else ""
    console.print(
        f"{_fmt(s['count'])} crimes and ASB incidents; harm {_fmt(s['harm'], 0)}{estimated} "
        f"(95% CI {_fmt(ci[0], 0)} to {_fmt(ci[1], 0)})",
        highlight=False,
    )
    t = Table(title="Areas ranked by harm (rates per 1,000 residents over the period; 95% CI)")
    cols = (
        ["area"]
        + (["month"] if by_month else [])
        + ["count", "rate", "harm", "harm rate", "harm rate CI"]
    )
    for c in cols:
        t.add_column(c, justify="left" if c in ("area", "month") else "right")
    for r in payload["totals"][:60]:
        ci = (
            "suppressed"
            if r.get("harm_rate_ci_low") is None
            else f"{r['harm_rate_ci_low']:,.0f}-{r['harm_rate_ci_high']:,.0f}"
        )
        row = [str(r["area_name"])] + ([str(r["month"])] if by_month else [])
        row += [
            _fmt(r["count"]),
            _fmt(r.get("rate_per_1000")),
            _fmt(r.get("harm"), 0),
            _fmt(r.get("harm_rate_per_1000"), 0),
            ci,
        ]
        t.add_row(*row)
    console.print(t)
    ct = Table(title="Harm against count, by category")
    for c in ("category", "count", "share of count", "harm", "share of harm"):
        ct.add_column(c, justify="left" if c == "category" else "right")
    for r in payload["by_category"]:
        ct.add_row(
            r["category"],
            _fmt(r["count"]),
            "suppressed" if r["count_share"] is None else f"{r['count_share']:.1%}",
            _fmt(r["harm"], 0),
            "suppressed" if r["harm_share"] is None else f"{r['harm_share']:.1%}",
        )
    console.print(ct)
    for note in payload["notes"]:
        console.print(f"Note: {note}", highlight=False)
    console.print(f"[dim]Method: {payload['method']}[/]", highlight=False)


def _print_weights(scheme: str, weights: str | None, json_out: bool) -> None:
    table = load_weights(scheme, path=weights)
    if json_out:
        print_json(
            {"scheme": scheme if weights is None else "custom", "weights": frame_records(table)}
        )
        return
    console = Console()
    t = Table(title=f"Category weights ({scheme if weights is None else weights})")
    for c in ("category", "weight", "range of sub-groups", "status"):
        t.add_column(c)
    for r in table.itertuples():
        rng = "" if r.weight_low != r.weight_low else f"{r.weight_low:g}-{r.weight_high:g}"
        t.add_row(r.category, f"{r.weight:,.2f}", rng, r.status)
    console.print(t)
    console.print(
        "Sources and derivations: --json, or reference/data/offences/SOURCES.md", highlight=False
    )


def _run_codes(path: Path, scheme: str, weights: str | None, json_out: bool) -> None:
    from harmscope.analysis.harm import harm_from_codes
    from harmscope.errors import HarmscopeError

    try:
        frame = pd.read_csv(path, dtype={"code": str}, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise HarmscopeError(
            f"cannot read it as CSV ({type(exc).__name__})",
            where=f"--codes {path}",
            fix="give a UTF-8 CSV with a header row: code,count[,area,month]",
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    by = [c for c in frame.columns if c not in ("code", "count")]
    res = harm_from_codes(frame, scheme=scheme, weights=weights, by=by)
    payload = _jsonable(
        {
            "summary": res.summary,
            "method": res.method,
            "table": frame_records(res.table.drop(columns=["harm_w2", "w_max"])),
            "tables": {
                k: frame_records(v.drop(columns=["harm_w2", "w_max"]))
                for k, v in res.tables.items()
            },
        }
    )
    if json_out:
        print_json(payload)
        return
    console = Console()
    s = payload["summary"]
    console.print(
        f"[bold]Harm from offence codes[/] ({s['scheme']}): {s['count']:,.0f} offences, harm "
        f"{s['harm']:,.0f} (95% CI {s['harm_ci'][0]:,.0f} to {s['harm_ci'][1]:,.0f})",
        highlight=False,
    )
    t = Table(title="By ONS sub-group")
    for c in ("sub-group", "count", "harm"):
        t.add_column(c)
    for r in payload["tables"]["by_subgroup"]:
        t.add_row(str(r["ons_subgroup"]), f"{r['count']:,.0f}", f"{r['harm']:,.0f}")
    console.print(t)
    console.print(f"[dim]Method: {payload['method']}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def harm(
        level: str = typer.Option(
            "district", "--level", help="county (force area) | district | lsoa."
        ),
        area: str = typer.Option(
            None,
            "--area",
            help="Force (Kent Police), county (Kent), district name or GSS code, several "
            'districts ("Dartford,Gravesham") or a named CSP ("Safer Maidstone Partnership").',
        ),
        date_from: str = typer.Option(None, "--from", help="First month, YYYY-MM."),
        date_to: str = typer.Option(None, "--to", help="Last month, YYYY-MM."),
        scheme: str = typer.Option(
            "css",
            "--scheme",
            help="css (ONS Crime Severity Score) | chi (Cambridge Crime Harm Index).",
        ),
        weights: str = typer.Option(
            None,
            "--weights",
            help="CSV of category weights replacing the packaged table (columns category,weight[,source,status,derivation]).",
        ),
        by_month: bool = typer.Option(False, "--by-month", help="One row per area and month."),
        category: list[str] = typer.Option(
            None, "--category", help="Only this police.uk category (repeat for several)."
        ),
        audience: str = typer.Option(
            "internal",
            "--audience",
            help="internal | partner | public (public suppresses small counts).",
        ),
        threshold: int = typer.Option(
            5, "--threshold", help="Smallest count shown to a public audience."
        ),
        out: Path = typer.Option(
            None,
            "--out",
            help="Also write the area x category table; the format comes from the extension: "
            ".csv, .xlsx (with a README sheet) or .parquet.",
        ),
        csv_out: Path = typer.Option(
            None, "--csv", hidden=True, help="Old name of --out (kept for one release)."
        ),
        show_weights: bool = typer.Option(
            False, "--show-weights", help="Print the weights in use and stop."
        ),
        codes: Path = typer.Option(
            None,
            "--codes",
            help="A force extract aggregated by Home Office offence code: CSV with code,count "
            "and any grouping columns (area, month...). Weighs it instead of the store's data.",
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Harm-weighted counts and rates per 1,000 residents by area, month and category."""
        validate.store_path(db)
        validate.area(area)
        from harmscope.export.files import check_out

        if csv_out is not None:
            if out is not None:
                raise HarmscopeError(
                    "--csv is the old name of --out; both were given",
                    where="--csv",
                    fix="give only --out FILE",
                )
            # the old flag always meant CSV, whatever the name ends in
            out, old_csv = csv_out, True
            if not quiet:
                Console(stderr=True).print(
                    "Note: --csv is now --out FILE (.csv, .xlsx or .parquet); --csv will be "
                    "removed in a later release.",
                    highlight=False,
                )
        else:
            old_csv = False
        if not old_csv:
            check_out(out)
        else:
            validate.output_file(out, "--csv")
        validate.input_file(codes, "--codes")
        if show_weights:
            _print_weights(scheme, weights, json_out)
            return
        if codes is not None:
            _run_codes(codes, scheme, weights, json_out)
            return
        with Store.open(db, read_only=True) as store:
            pub = publication(
                store,
                level=level,
                area=area,
                date_from=date_from,
                date_to=date_to,
                scheme=scheme,
                weights=weights,
                by_month=by_month,
                categories=category,
                audience=audience,
                threshold=threshold,
            )
        payload = pub.document()
        if out is not None:
            from harmscope.export.files import readme_rows, suppressed_columns, write_tables
            from harmscope.export.rounding import write_csv

            table = pub.tables["table"]
            if old_csv:
                write_csv(table, out)
            else:
                write_tables(
                    {"table": table},
                    out,
                    readme=readme_rows(pub, "Harm by area and category (harmscope harm)"),
                    suppressed_cols=suppressed_columns(pub),
                )
        if json_out:
            print_json(payload)
        else:
            _print(payload, by_month)
            if out is not None and not quiet:
                Console(stderr=True).print(f"Wrote {out}")


def demo(store: Store, out_dir: Path) -> list[str]:
    """Harm by district for the bundled sample, as CSV."""
    out = Path(out_dir) / "harm_by_district.csv"
    res = harm_by_area(store, level="district", area="Kent Police")
    res.tables["totals"].drop(columns=["harm_w2", "w_max"]).to_csv(out, index=False)
    s = res.summary
    return [
        f"harm by district ({s['scheme']}): {s['count']:,} crimes, harm {s['harm']:,.0f}; "
        f"top category by harm: {s.get('top_harm_category')} -> {out}"
    ]
