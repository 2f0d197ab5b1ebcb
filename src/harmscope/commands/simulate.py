"""`harmscope simulate ed`: synthetic ISTV ED data with planted under-reporting (labelled synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json
from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv, write_police_csv
from harmscope.store import Store

simulate_app = typer.Typer(
    help="Synthetic data with known ground truth (always labelled synthetic).", no_args_is_help=True
)


@simulate_app.command("ed")
def simulate_ed_cmd(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed and store, same file)."),
    out: Path = typer.Option(
        ..., "--out", help="ISTV CSV to write (a # SYNTHETIC header is added)."
    ),
    police_out: Path = typer.Option(
        None, "--police-out", help="Also write the linkable police victim extract here."
    ),
    truth_out: Path = typer.Option(None, "--truth-out", help="Write the planted truth as JSON."),
    hidden: str = typer.Option(
        None, "--hidden", help="Comma-separated district codes to plant as hidden hotspots."
    ),
    clean: bool = typer.Option(False, "--clean", help="No deliberately messy records."),
    force: str = typer.Option("Kent Police", "--force", help="Police force to calibrate on."),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Simulate ED assault attendances calibrated on the police violence counts in the store."""
    validate.store_path(db)
    validate.seed(seed)
    validate.not_blank(force, "--force", fix="name a force, e.g. --force 'Kent Police'")
    validate.output_file(out, "--out", example="ed_synthetic.csv")
    validate.output_file(police_out, "--police-out", example="police_victims.csv")
    validate.output_file(truth_out, "--truth-out", example="truth.json")
    with Store.open(db, read_only=True) as store:
        volumes = police_volumes(store, force)
    hidden_t = validate.codes(hidden, volumes.lad_code.unique(), "--hidden", what="district code")
    sim = simulate_ed(volumes, seed=seed, hidden=hidden_t, messy=not clean)
    write_ed_csv(sim, out)
    if police_out:
        write_police_csv(sim, police_out)
    truth = sim.truth | {"ed_file": str(out), "rows": len(sim.ed), "synthetic": True}
    if truth_out:
        Path(truth_out).write_text(json.dumps(truth, indent=2, default=str), encoding="utf-8")
    if json_out:
        print_json(truth)
        return
    console = Console()
    console.print(f"SYNTHETIC ED file: {out} ({len(sim.ed):,} rows, seed {seed})", highlight=False)
    console.print(
        f"  planted hidden hotspots: {', '.join(sim.truth['hidden_hotspots'])}", highlight=False
    )
    console.print(
        f"  victims {truth['population']:,}: ED {truth['ed_victims']:,}, police "
        f"{truth['police_victims']:,}, both {truth['both']:,}",
        highlight=False,
    )
    if police_out:
        console.print(
            f"  police victim extract: {police_out} ({len(sim.police):,} rows)", highlight=False
        )


def register(app: typer.Typer) -> None:
    app.add_typer(simulate_app, name="simulate")
