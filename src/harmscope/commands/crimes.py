"""`harmscope crimes ingest` (a force crime extract) and `harmscope simulate crimes`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    JsonOption,
    ingest_command,
    print_json,
)
from harmscope.commands._simulate_app import simulate_app
from harmscope.errors import HarmscopeError

crimes_app = typer.Typer(
    help="Force recorded-crime extracts (person-level; pseudonymised at the door).",
    no_args_is_help=True,
)


def _ingest_crime_extract(store, path: Path, *, key_file: Path | None):
    # imported on use: `harmscope --help` and `crimes --help` stay light
    from harmscope.sources.crime_extract import ingest_crime_extract

    return ingest_crime_extract(store, path, key_file=key_file)


ingest_command(
    crimes_app,
    _ingest_crime_extract,
    file_help="Crime extract CSV (format v1).",
    help="Validate, pseudonymise and load one extract (one transaction; rows conserved).",
)


# `simulate` is owned by commands/simulate.py; the crimes generator joins its group here so the
# simulate module needs no edit (typer builds the group when the app runs).
@simulate_app.command("crimes")
def simulate_crimes_cmd(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same file)."),
    out: Path = typer.Option(..., "--out", help="Extract CSV to write (labelled SYNTHETIC)."),
    crimes: int = typer.Option(
        None, "--crimes", help="Number of crimes (default: one year of Kent, about 69,000)."
    ),
    clean: bool = typer.Option(False, "--clean", help="No duplicate or invalid rows."),
    json_out: bool = JsonOption,
) -> None:
    """A synthetic force crime extract calibrated on Kent, with planted truth written beside
    it (FILE.truth.json, FILE.truth_persons.csv)."""
    from harmscope.simulate.crimes import simulate_crimes, write_crimes_csv

    validate.seed(seed)
    validate.output_file(out, "--out", suffixes=[".csv"], example="crimes_synthetic.csv")
    if crimes is not None:
        validate.int_at_least(crimes, 100, "--crimes", fix="ask for at least 100 crimes")
        if crimes > 20_000_000:
            raise HarmscopeError(
                f"{crimes:,} crimes is more than the generator makes (20,000,000)",
                where="--crimes",
                fix="ask for at most 20,000,000 crimes",
            )
    sim = simulate_crimes(seed, crimes=crimes, messy=not clean)
    path, truth_path, persons_path = write_crimes_csv(sim, out)
    doc = {
        "synthetic": True,
        "out": str(path),
        "truth": str(truth_path),
        "truth_persons": str(persons_path),
        "rows": len(sim.written),
        "truth_summary": {k: v for k, v in sim.truth.items() if k != "hour_share"},
    }
    if json_out:
        print_json(doc)
        return
    t = sim.truth
    Console().print(
        f"SYNTHETIC crime extract: {path} ({len(sim.written):,} rows, seed {seed})\n"
        f"  planted: {t['power_few_ids_count']:,} power-few offenders, {t['cohort_ids_count']} "
        f"escalating young people, {t['overlap_persons']:,} victim-offenders\n"
        f"  truth: top-5% offender harm share {t['power_few_share_top5pct']:.3f}, repeat "
        f"victim rate {t['repeat_victim_rate']:.3f}\n"
        f"  truth files: {truth_path}, {persons_path}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(crimes_app, name="crimes")
