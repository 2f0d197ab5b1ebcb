"""`harmscope knox`: near repeats (Knox test) in dated, located records, with a Monte Carlo p.

Registered by commands/hotspots.py (the CLI's command table names that module for `knox`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    QuietOption,
    print_json,
    print_notes,
    table,
)
from harmscope.errors import HarmscopeError
from harmscope.months import parse_month


def knox(
    source: str = typer.Option(
        "stop_search", "--source", help="stop_search | ed (records in the store)."
    ),
    csv: Path = typer.Option(
        None, "--csv", help="Or a CSV extract with longitude, latitude and date columns."
    ),
    lon_col: str = typer.Option("longitude", "--lon-col", help="Longitude column of --csv."),
    lat_col: str = typer.Option("latitude", "--lat-col", help="Latitude column of --csv."),
    date_col: str = typer.Option("date", "--date-col", help="Date or date-time column of --csv."),
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
    from harmscope.analysis.result import frame_records
    from harmscope.store import Store

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
    t = table(
        "Knox test: close pairs observed vs expected",
        ("distance", "time", "observed", "expected (95% range)", "ratio", "p"),
    )
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
    print_notes(res, console)


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
