"""`harmscope hotspots` (Gi*, KDE, emerging hotspots, PAI/PEI evaluation) and `harmscope knox`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.analysis.harm import parse_month
from harmscope.analysis.result import Result, frame_records
from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, Stages, print_json
from harmscope.errors import HarmscopeError
from harmscope.export.files import check_out
from harmscope.store import Store

CSV_COLUMNS = ["x", "y", "count", "value", "gi_z", "gi_p", "gi_p_adjusted", "class"]
FORMATS = {
    ".csv": "csv",
    ".xlsx": "table",
    ".parquet": "table",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
}


def _shift(d: date, months: int) -> date:
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


def held_months(store: Store) -> tuple[date, date]:
    r = store.query("SELECT min(month) AS lo, max(month) AS hi FROM street_crimes")
    if pd.isna(r.lo[0]):
        raise HarmscopeError(
            "the store holds no street crimes",
            where="--db",
            fix="run `harmscope ingest PATH...` first",
        )
    return pd.Timestamp(r.lo[0]).date(), pd.Timestamp(r.hi[0]).date()


def write_units(
    res: Result,
    extra_cells: pd.DataFrame,
    out: Path,
    cell_size: float | None,
    meta: dict | None = None,
) -> Path:
    """Write one row/feature per unit as CSV, Excel, parquet (tables, BNG x/y), GeoJSON (RFC 7946,
    WGS84) or GeoPackage (EPSG:27700, QGIS style); the format comes from the extension (export.files
    rules). ``meta`` (``export.gis.metadata``) goes into the GeoJSON and a ``.meta.json`` sidecar."""
    from harmscope.export.files import check_out, write_table
    from harmscope.export.rounding import round_for_export

    fmt = FORMATS[check_out(out, formats=FORMATS)]
    t = extra_cells
    cols = [c for c in CSV_COLUMNS if c in t] + [c for c in t.columns if c not in CSV_COLUMNS]
    t = t[cols]
    if fmt in ("csv", "table"):
        return write_table(t, out)
    t = round_for_export(t)
    from harmscope.analysis.grid import cell_boxes
    from harmscope.export import gis

    if "geometry_bng" in res.tables:
        geoms = res.tables["geometry_bng"]["geometry"].to_numpy()
    else:
        geoms = cell_boxes(t.x, t.y, cell_size)
    if fmt == "geojson":
        return gis.write_geojson(geoms, t, out, meta)
    return gis.write_gpkg(geoms, t, out, meta)


def district_cell(area: str | None) -> tuple[float, str] | None:
    """The district cell size and its announcement when ``area`` is one district (the report's
    rule, analysis.grid.district_cell_size); None otherwise (a force keeps sfhotspot's rule)."""
    from harmscope.analysis import grid as gridmod
    from harmscope.analysis.hotspot_inputs import area_boundary, area_lad_codes

    codes = area_lad_codes(area)
    if codes is None or len(codes) != 1:
        return None
    boundary = area_boundary(area)
    if boundary is None:
        return None
    x0, y0, x1, y1 = boundary.bounds
    size = gridmod.district_cell_size(x1 - x0, y1 - y0)
    return size, gridmod.district_rule_note(size, min(x1 - x0, y1 - y0))


def _announce_size(res: Result, note: str | None) -> None:
    # the grid says "Cell size: ... (set by the user)", which would misname the district rule
    if note:
        res.notes[:] = [note, *(n for n in res.notes if not n.startswith("Cell size"))]


def run_hotspots(store: Store, **kwargs) -> Result:
    """``analysis.hotspots.hotspots`` (same keywords), with a note when the permutation p floor
    leaves no cell able to pass Holm."""
    from harmscope.analysis.hotspots import hotspots

    res = hotspots(store, **kwargs)
    permutations, n = res.summary["permutations"], res.summary["units"]
    floor = 2 / (permutations + 1)
    if permutations and res.summary["correction"] == "holm" and floor * n > 0.05:
        res.notes.append(
            f"With {permutations} permutations the smallest possible p is {floor:.4f}; after Holm over {n:,} "
            "units no cell can reach 95%. Use more permutations, --correction fdr, or the analytic p."
        )
    return res


def _print_result(res: Result, title: str, console: Console) -> None:
    t = Table(title=title)
    t.add_column("measure")
    t.add_column("value")
    for k, v in res.summary.items():
        if isinstance(v, float):
            v = f"{v:,.4g}"
        elif isinstance(v, list):
            v = ", ".join(f"{x:,.4g}" if isinstance(x, float) else str(x) for x in v)
        t.add_row(k, str(v))
    console.print(t)
    for name, df in res.tables.items():
        if name in ("units", "geometry_bng") or len(df) > 30:
            continue
        bt = Table(title=name)
        for c in df.columns:
            bt.add_column(str(c))
        for rec in frame_records(df):
            bt.add_row(*[f"{v:,.4g}" if isinstance(v, float) else str(v) for v in rec.values()])
        console.print(bt)
    _print_notes(res, console)


def _print_notes(res: Result, console: Console) -> None:
    for note in res.notes:
        console.print(f"Note: {note}", highlight=False, soft_wrap=True)
    console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)


def _eval_table(res: Result, console: Console) -> None:
    t = Table(title="Hotspot accuracy on the later period")
    for c in ("selection", "cells", "area", "hit rate (95% CI)", "PAI (95% CI)", "PEI"):
        t.add_column(c)
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
    _print_notes(res, console)


def register(app: typer.Typer) -> None:
    @app.command()
    def hotspots(
        crime_type: list[str] = typer.Option(
            None, "--crime-type", help="police.uk category (repeat for several); default all."
        ),
        date_from: str = typer.Option(
            None, "--from", help="First month, YYYY-MM (default: first held)."
        ),
        date_to: str = typer.Option(None, "--to", help="Last month, YYYY-MM (default: last held)."),
        area: str = typer.Option(
            None, "--area", help="District (LAD code or name); default the whole store."
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
        weight: str = typer.Option("none", "--weight", help="Harm weights: css | chi | none."),
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
        out: Path = typer.Option(
            None,
            "--out",
            help="Write cells; the format comes from the extension: .csv, .xlsx, .parquet, "
            ".geojson or .gpkg.",
        ),
        audience: str = typer.Option(
            "internal", "--audience", help="internal | partner | public (suppresses small counts)."
        ),
        threshold: int = typer.Option(
            5, "--threshold", help="Disclosure threshold for --audience public."
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Where harm concentrates: Gi* hotspots (or KDE, emerging patterns, accuracy) on a BNG grid or LSOAs."""
        validate.store_path(db)
        validate.area(area)
        validate.finite(cell_size, "--cell-size", gt=0, fix="pass metres, e.g. --cell-size 250")
        validate.finite(bandwidth, "--bandwidth", gt=0, fix="pass metres, e.g. --bandwidth 400")
        validate.int_at_least(permutations, 0, "--permutations", fix="pass 0 (analytic) or 999")
        validate.seed(seed)
        check_out(out, formats=FORMATS)
        console = Console(stderr=json_out)
        d_from, d_to = parse_month(date_from, "--from"), parse_month(date_to, "--to")
        if d_from and d_to and d_from > d_to:
            raise HarmscopeError(
                "--from is after --to", where="--from/--to", fix="swap the two months"
            )
        size_note = None
        if cell_size is None and units == "grid":
            chosen = district_cell(area)
            if chosen:
                cell_size, size_note = chosen
        # what every analysis below is asked about, and (all but KDE) how units are formed
        scope = dict(crime_types=crime_type or None, area=area, cell_size=cell_size, weight=weight)
        unit_rule = dict(units=units, neighbours=neighbours)
        with (
            Store.open(db, read_only=True) as store,
            Stages("hotspots", quiet=quiet or json_out) as stages,
        ):
            lo, hi = held_months(store)
            if evaluate:
                stages("accuracy on the later period")
                from harmscope.analysis.accuracy import evaluate_hotspots

                tr = (d_from or lo, d_to or hi)
                span = (tr[1].year * 12 + tr[1].month) - (tr[0].year * 12 + tr[0].month)
                t0 = parse_month(test_from, "--test-from") or _shift(tr[1], 1)
                t1 = parse_month(test_to, "--test-to") or _shift(t0, span)
                res = evaluate_hotspots(
                    store,
                    train=tr,
                    test=(t0, t1),
                    **scope,
                    **unit_rule,
                    correction=correction,
                    seed=seed,
                )
                _announce_size(res, size_note)
                stages.close()
                if json_out:
                    print_json(res.to_dict())
                else:
                    _eval_table(res, console)
                return
            period = dict(date_from=d_from, date_to=d_to)
            if kde_flag:
                from harmscope.analysis.kde import kde

                stages("kernel density")
                res = kde(store, **scope, **period, bandwidth=bandwidth)
                title = "Kernel density"
            elif emerging:
                from harmscope.analysis.hotspots import emerging_hotspots

                stages("emerging hotspots (Gi* month by month, Mann-Kendall trends)")
                res = emerging_hotspots(store, **scope, **period, **unit_rule)
                title = "Emerging hotspots"
            else:
                stages(
                    f"Gi* with {permutations:,} permutations"
                    if permutations
                    else "Gi* (analytic p)"
                )
                res = run_hotspots(
                    store,
                    **scope,
                    **period,
                    **unit_rule,
                    permutations=permutations,
                    seed=seed,
                    correction=correction,
                )
                title = "Gi* hotspots"
            _announce_size(res, size_note)
            from harmscope.privacy.publishers import publish_hotspots

            pub = publish_hotspots(res, audience, threshold)
            cells, size = pub.tables["cells"], res.summary.get("cell_size_m")
            if out is not None:
                stages(f"writing {out.name}")
            if units == "lsoa" and out is not None and out.suffix.lower() != ".csv":
                from harmscope.analysis.hotspot_inputs import lsoa_units

                _, polys = lsoa_units(area)
                res.tables["geometry_bng"] = pd.DataFrame({"geometry": polys})
            meta = None
            if out is not None:
                from harmscope.export.gis import metadata

                months = ((d_from or lo).strftime("%Y-%m"), (d_to or hi).strftime("%Y-%m"))
                meta = metadata(
                    pub, res.summary, crime_types=crime_type, period=months, units=units
                )
            written = write_units(res, cells, out, size, meta) if out is not None else None
        if json_out:
            doc = pub.document()
            payload = {k: v for k, v in doc.items() if k != "cells"}
            payload["written"] = str(written) if written else None
            print_json(payload)
            return
        _print_result(res, title, console)
        if written and not quiet:
            console.print(f"Wrote {written}")

    @app.command()
    def knox(
        source: str = typer.Option(
            "stop_search", "--source", help="stop_search | ed (records in the store)."
        ),
        csv: Path = typer.Option(
            None, "--csv", help="Or a CSV extract with longitude, latitude and date columns."
        ),
        lon_col: str = typer.Option("longitude", "--lon-col", help="Longitude column of --csv."),
        lat_col: str = typer.Option("latitude", "--lat-col", help="Latitude column of --csv."),
        date_col: str = typer.Option(
            "date", "--date-col", help="Date or date-time column of --csv."
        ),
        date_from: str = typer.Option(None, "--from", help="First month, YYYY-MM."),
        date_to: str = typer.Option(None, "--to", help="Last month, YYYY-MM."),
        distance_bands: str = typer.Option(
            "200,400,800", "--distance-bands", help="Upper limits in metres, comma-separated."
        ),
        time_bands: str = typer.Option(
            "7,14,28", "--time-bands", help="Upper limits in days, comma-separated."
        ),
        iterations: int = typer.Option(999, "--iterations", help="Monte Carlo shuffles."),
        seed: int = typer.Option(None, "--seed", help="Random seed."),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Near repeats (Knox test) in dated, located records, with a Monte Carlo p."""
        validate.store_path(db)
        validate.int_at_least(iterations, 1, "--iterations", fix="pass e.g. --iterations 999")
        validate.seed(seed)
        validate.input_file(csv, "--csv")
        from harmscope.analysis.knox import knox_points, knox_store, read_extract

        d_b = _floats(distance_bands, "--distance-bands")
        t_b = _floats(time_bands, "--time-bands")
        kw = dict(distance_bands=d_b, time_bands=t_b, iterations=iterations, seed=seed)
        if csv is not None:
            lon, lat, days, skipped = read_extract(csv, lon=lon_col, lat=lat_col, when=date_col)
            res = knox_points(lon, lat, days, what=f"records from {csv.name}", **kw)
            if skipped:
                res.notes.append(
                    f"{skipped:,} rows without a location or a readable date were left out."
                )
        else:
            with Store.open(db, read_only=True) as store:
                res = knox_store(
                    store,
                    source=source,
                    date_from=parse_month(date_from, "--from"),
                    date_to=parse_month(date_to, "--to"),
                    **kw,
                )
        if json_out:
            print_json(res.to_dict())
            return
        console = Console()
        t = Table(title="Knox test: close pairs observed vs expected")
        for c in ("distance", "time", "observed", "expected (95% range)", "ratio", "p"):
            t.add_column(c)
        for r in frame_records(res.table):
            t.add_row(
                r["distance_band"],
                r["time_band"],
                f"{r['observed']:,}",
                f"{r['expected']:,.1f} ({r['expected_lo']:,.0f}-{r['expected_hi']:,.0f})",
                f"{r['ratio']:.2f}",
                f"{r['p']:.3f}",
            )
        console.print(t)
        _print_notes(res, console)


def _floats(text: str, where: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise HarmscopeError(
            f"{text!r} is not a list of numbers", where=where, fix="e.g. 200,400,800"
        ) from None
    if not values:
        raise HarmscopeError("no bands given", where=where, fix="e.g. 200,400,800")
    for x in values:
        validate.finite(x, where, gt=0, fix="give positive numbers, e.g. 200,400,800")
    return values


def demo(store: Store, out_dir: Path) -> list[str]:
    """Violence hotspots on the demo store: a GeoJSON of Gi* cells (public audience) and a KDE CSV."""
    out_dir = Path(out_dir)
    n = store.query(
        "SELECT count(*) AS n FROM street_crimes WHERE crime_type = 'Violence and sexual offences'"
    ).n[0]
    if n == 0:
        return ["no violence rows in the sample: skipped"]
    res = run_hotspots(store, crime_types=["Violence and sexual offences"])  # all defaults
    from harmscope.export.gis import metadata
    from harmscope.privacy.publishers import publish_hotspots

    pub = publish_hotspots(res, "public", 5)
    cells = pub.tables["cells"]
    held = tuple(d.strftime("%Y-%m") for d in held_months(store))
    meta = metadata(
        pub, res.summary, crime_types=["Violence and sexual offences"], period=held, units="grid"
    )
    gj = write_units(
        res, cells, out_dir / "hotspots_violence.geojson", res.summary["cell_size_m"], meta
    )
    csv = write_units(res, cells, out_dir / "hotspots_violence.csv", res.summary["cell_size_m"])
    s = res.summary
    return [
        f"violence hotspots: {s['units']:,} cells of {s['cell_size_m']:g} m; {s['hot_units_95']} hot at 95%+ "
        f"({s['hot_share_of_units']:.1%} of cells) hold {s['hot_share_of_events']:.1%} of violence",
        str(gj),
        str(csv),
        *_demo_knox(store),
    ]


def _demo_knox(store: Store) -> list[str]:
    if store.query("SELECT count(*) AS n FROM stop_searches WHERE latitude IS NOT NULL").n[0] < 50:
        return []
    from harmscope.analysis.knox import knox_stop_search

    k = knox_stop_search(store, iterations=199, seed=1).summary
    return [
        f"near repeats (Knox, stop and search): pairs within 200 m and 7 days are {k['closest_ratio']:.2f}x "
        f"the shuffled expectation (p = {k['closest_p']:.3f}, 199 shuffles, seed 1)"
    ]
