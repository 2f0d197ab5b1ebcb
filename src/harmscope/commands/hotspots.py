"""`harmscope hotspots`: Gi*, KDE, emerging hotspots and PAI/PEI accuracy (analysis.hotspot_run).

`harmscope knox` is in commands/knox.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    AudienceOption,
    CategoryOption,
    DbOption,
    FromOption,
    JsonOption,
    OldCrimeTypeOption,
    OldWeightOption,
    QuietOption,
    Stages,
    ThresholdOption,
    ToOption,
    area_option,
    harm_weights,
    out_option,
    print_json,
    print_notes,
    print_result,
    renamed,
    require_area,
    table,
)
from harmscope.commands._knox import knox
from harmscope.errors import HarmscopeError
from harmscope.months import parse_month

if TYPE_CHECKING:
    from harmscope.analysis.result import Result
    from harmscope.store import Store


def _eval_table(res: Result, console: Console) -> None:
    from harmscope.analysis.result import frame_records

    t = table(
        "Hotspot accuracy on the later period",
        ("selection", "cells", "area", "hit rate (95% CI)", "PAI (95% CI)", "PEI"),
    )
    for r in frame_records(res.table):
        t.add_row(
            r["selection"],
            str(r["selected_units"]),
            f"{r['area_share']:.1%}",
            f"{r['hit_rate']:.1%} ({r['hit_rate_ci'][0]:.1%}-{r['hit_rate_ci'][1]:.1%})",
            f"{r['pai']:.2f} ({r['pai_ci'][0]:.2f}-{r['pai_ci'][1]:.2f})",
            f"{r['pei']:.2f}",
        )
    console.print(t)
    s = res.summary
    console.print(
        f"Andresen S-index {s['train']} vs {s['test']}: S = {s['s_index']:.3f}, robust S (units with events) = "
        f"{s['s_index_robust']:.3f} over {s['s_active_units']:,} units (original test); bootstrap robust S "
        f"(both periods resampled) = {s['s_index_boot_robust']:.3f}.",
        highlight=False,
    )
    print_notes(res, console)


def _mode(kde_flag: bool, emerging: bool, evaluate: bool) -> str:
    return "evaluate" if evaluate else "kde" if kde_flag else "emerging" if emerging else "gistar"


def register(app: typer.Typer) -> None:
    app.command()(knox)  # commands/_knox.py

    @app.command()
    def hotspots(
        category: list[str] = CategoryOption,
        date_from: str = FromOption,
        date_to: str = ToOption,
        area: str = area_option(
            "District (LAD code or name), or a force; required when the store holds several forces."
        ),
        units: str = typer.Option(
            "grid", "--units", help="grid (BNG square cells) or lsoa (2011 LSOAs)."
        ),
        cell_size: float = typer.Option(
            None, "--cell-size", help="Cell size in metres (default: automatic, announced)."
        ),
        neighbours: str = typer.Option(
            "queen", "--neighbours", help="queen | distance:METRES | knn:K."
        ),
        weights: str = typer.Option(
            None, "--weights", help="Harm weights: css | chi | none (default none)."
        ),
        permutations: int = typer.Option(
            0, "--permutations", help="Permutation p-values (e.g. 999); 0 = analytic."
        ),
        seed: int = typer.Option(
            None, "--seed", help="Random seed for permutations and resampling."
        ),
        correction: str = typer.Option("holm", "--correction", help="holm | fdr | none."),
        kde_flag: bool = typer.Option(False, "--kde", help="Kernel density instead of Gi*."),
        bandwidth: float = typer.Option(
            None, "--bandwidth", help="KDE radius in metres (default: rule of thumb, announced)."
        ),
        emerging: bool = typer.Option(
            False, "--emerging", help="Emerging hotspot patterns over the months."
        ),
        evaluate: bool = typer.Option(
            False,
            "--evaluate",
            help="Score hotspots of --from..--to on the next period: PAI, PEI, hit rate, S-index.",
        ),
        test_from: str = typer.Option(
            None,
            "--test-from",
            help="First month of the evaluation period (default: the month after --to).",
        ),
        test_to: str = typer.Option(
            None,
            "--test-to",
            help="Last month of the evaluation period (default: as long as the training period).",
        ),
        out: Path = out_option(
            "Write cells",
            formats="the format comes from the extension: .csv, .xlsx, .parquet, .geojson or .gpkg.",
        ),
        audience: str = AudienceOption,
        threshold: int = ThresholdOption,
        crime_type: list[str] = OldCrimeTypeOption,
        weight: str = OldWeightOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Where harm concentrates: Gi* hotspots (or KDE, emerging patterns, accuracy) on a BNG grid or LSOAs."""
        from harmscope.analysis import hotspot_run
        from harmscope.export.files import check_out
        from harmscope.export.units import FORMATS
        from harmscope.store import Store

        validate.store_path(db)
        validate.area(area)
        validate.finite(cell_size, "--cell-size", gt=0, fix="pass metres, e.g. --cell-size 250")
        validate.finite(bandwidth, "--bandwidth", gt=0, fix="pass metres, e.g. --bandwidth 400")
        validate.int_at_least(permutations, 0, "--permutations", fix="pass 0 (analytic) or 999")
        validate.seed(seed)
        check_out(out, formats=FORMATS)
        hush = quiet or json_out
        categories = renamed(category, crime_type, new="--category", old="--crime-type", quiet=hush)
        scheme, _ = harm_weights(
            weights,
            weight,
            old_name="--weight",
            default="none",
            choices=("css", "chi", "none"),
            quiet=hush,
        )
        d_from, d_to = parse_month(date_from, "--from"), parse_month(date_to, "--to")
        if d_from and d_to and d_from > d_to:
            raise HarmscopeError(
                "--from is after --to", where="--from/--to", fix="swap the two months"
            )
        mode = _mode(kde_flag, emerging, evaluate)
        with Store.open(db, read_only=True) as store, Stages("hotspots", quiet=hush) as stages:
            require_area(store, area, quiet=quiet)
            res = hotspot_run.run(
                store,
                mode,
                crime_types=categories or None,
                area=area,
                date_from=d_from,
                date_to=d_to,
                units=units,
                cell_size=cell_size,
                neighbours=neighbours,
                weight=scheme,
                permutations=permutations,
                seed=seed,
                correction=correction,
                bandwidth=bandwidth,
                test_from=parse_month(test_from, "--test-from"),
                test_to=parse_month(test_to, "--test-to"),
                progress=stages,
            )
            if mode == "evaluate":
                stages.close()
                if not json_out:
                    return _eval_table(res, Console())
                from harmscope.privacy.publishers import accuracy_document

                return print_json(accuracy_document(res, audience))
            from harmscope.privacy.publishers import publish_hotspots

            pub = publish_hotspots(res, audience, threshold)
            written = None
            if out is not None:
                from harmscope.export.units import write_hotspot_cells
                from harmscope.store.queries.catalog import held_period

                stages(f"writing {out.name}")
                period = tuple(d.strftime("%Y-%m") for d in held_period(store, d_from, d_to))
                written = write_hotspot_cells(
                    res, pub, out, period=period, area=area, units=units, crime_types=categories
                )
        if json_out:
            payload = {k: v for k, v in pub.document().items() if k != "cells"}
            print_json(payload | {"written": str(written) if written else None})
            return
        print_result(res, hotspot_run.TITLES[mode], Console())
        if written and not quiet:
            Console().print(f"Wrote {written}")


def demo(store: Store, out_dir: Path) -> list[str]:
    """Violence hotspots on the demo store: a GeoJSON of Gi* cells (public audience) and a CSV."""
    from harmscope.analysis.hotspot_run import gistar
    from harmscope.export.units import write_hotspot_cells
    from harmscope.privacy.publishers import publish_hotspots
    from harmscope.store.queries.catalog import held_months, street_crime_count

    violence = ["Violence and sexual offences"]
    if street_crime_count(store, violence[0]) == 0:
        return ["no violence rows in the sample: skipped"]
    res = gistar(store, crime_types=violence)  # all defaults
    pub = publish_hotspots(res, "public", 5)
    held = tuple(d.strftime("%Y-%m") for d in held_months(store))
    out_dir = Path(out_dir)
    gj = write_hotspot_cells(
        res, pub, out_dir / "hotspots_violence.geojson", period=held, crime_types=violence
    )
    csv = write_hotspot_cells(res, pub, out_dir / "hotspots_violence.csv", period=held)
    s = res.summary
    return [
        f"violence hotspots: {s['units']:,} cells of {s['cell_size_m']:g} m; {s['hot_units_95']} hot at 95%+ "
        f"({s['hot_share_of_units']:.1%} of cells) hold {s['hot_share_of_events']:.1%} of violence",
        str(gj),
        str(csv),
        *_demo_knox(store),
    ]


def _demo_knox(store: Store) -> list[str]:
    # the near-repeat line stays with the hotspots demo (its place in `harmscope demo --json`)
    from harmscope.store.queries.catalog import stop_search_count

    if stop_search_count(store, located=True) < 50:
        return []
    from harmscope.analysis.knox import knox_stop_search

    k = knox_stop_search(store, iterations=199, seed=1).summary
    return [
        f"near repeats (Knox, stop and search): pairs within 200 m and 7 days are {k['closest_ratio']:.2f}x "
        f"the shuffled expectation (p = {k['closest_p']:.3f}, 199 shuffles, seed 1)"
    ]
