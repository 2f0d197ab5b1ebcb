"""`harmscope covariates`: bring in an area x period series (officer FTE, youth-service spend)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json, table

FORMAT_HELP = (
    "FILE is a CSV with the columns area, period, value (optional area_name, unit); lines "
    "starting with # are notes. area: a force (slug 'kent', 'Kent Police' or 'Kent'), a CSP "
    "('Ashford CSP') or a district (GSS code or name), one level per file. period: a year "
    "(2019), a financial year (2018/19, starting 1 April) or a month (2019-03), one kind per "
    "file. A file with any bad row (unknown area, duplicate area and period, value not a "
    "number, no unit) is refused whole and the store is left as it was."
)

covariates_app = typer.Typer(
    help="Area x period series (officer FTE, spend...) for `harmscope drivers`.",
    no_args_is_help=True,
)


@covariates_app.command("add", help="Store a covariate file as the series --name. " + FORMAT_HELP)
def add(
    file: Path = typer.Argument(..., help="The covariate CSV."),
    name: str = typer.Option(..., "--name", help="Series name, e.g. officers_fte."),
    unit: str = typer.Option(
        None, "--unit", help="What the values count, e.g. FTE (or a unit column)."
    ),
    source: str = typer.Option(
        ..., "--source", help="Where the figures come from (publisher, table, date, licence)."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace a series of the same name."),
    synthetic: bool = typer.Option(
        False, "--synthetic", help="Label the series synthetic in every output."
    ),
    db: str = DbOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    from harmscope.store import Store

    validate.store_path(db)
    validate.input_file(file, "FILE")
    validate.not_blank(unit, "--unit", fix="say what the values count, e.g. --unit FTE")
    from harmscope.sources.covariates import add_covariate

    with Store.open(db) as store:
        rep = add_covariate(
            store, file, name=name, unit=unit, source=source, synthetic=synthetic, replace=replace
        )
    if json_out:
        print_json(rep.to_dict())
        return
    Console().print(
        f"{rep.name}: {rep.rows_loaded} of {rep.rows_read} rows loaded ({rep.areas} {rep.area_level} "
        f"areas, {len(rep.periods)} {rep.period_kind.replace('_', ' ')}s {rep.periods[0]} to "
        f"{rep.periods[-1]}; unit {rep.unit})" + (" [replaced]" if rep.replaced else ""),
        highlight=False,
        soft_wrap=True,
    )


@covariates_app.command("list", help="The covariates held, with unit, source and coverage.")
def list_(db: str = DbOption, json_out: bool = JsonOption) -> None:
    from harmscope.store import Store
    from harmscope.store.queries.catalog import covariates_held

    validate.store_path(db)
    with Store.open(db, read_only=True) as store:
        df = covariates_held(store)
    if json_out:
        from harmscope.analysis.result import frame_records

        print_json({"covariates": frame_records(df)})
        return
    t = table("Covariates", ("name", "unit", "areas", "periods", "source"))
    for r in df.itertuples():
        t.add_row(
            r.name + (" (synthetic)" if r.synthetic else ""),
            r.unit,
            f"{r.areas} {r.area_level}",
            f"{r.first} to {r.last}",
            r.source,
        )
    Console().print(t)


@covariates_app.command(
    "example",
    help="Write the example files to --out: officers_fte.csv (real: Home Office officer FTE by "
    "force, 31 March 2015-2019) and recorded_crime_SYNTHETIC.csv (a SYNTHETIC outcome table: no "
    "public copy of recorded crime by force and year could be obtained when this was built).",
)
def example(
    out: Path = typer.Option(
        ..., "--out", help="Folder to write the two files into (made if missing)."
    ),
    elasticity: float = typer.Option(
        -0.1, "--elasticity", help="Elasticity planted in the SYNTHETIC outcome."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the SYNTHETIC outcome."),
    json_out: bool = JsonOption,
) -> None:
    from harmscope.sources.covariates_example import write_example

    validate.output_folder(out, "--out", create=True)
    validate.finite(elasticity, "--elasticity", ge=-5, le=5, fix="e.g. --elasticity -0.1")
    validate.seed(seed)
    paths = write_example(out, elasticity=elasticity, seed=seed)
    if json_out:
        print_json({"written": [str(p) for p in paths], "planted_elasticity": elasticity})
        return
    for p in paths:
        Console().print(f"Wrote {p}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(covariates_app, name="covariates")
