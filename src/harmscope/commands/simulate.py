"""`harmscope simulate ed`: synthetic ISTV ED data with planted under-reporting (labelled synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json, require_area
from harmscope.commands._simulate_app import simulate_app


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
    force: str = typer.Option(
        None,
        "--force",
        help="Police force to calibrate on; required when the store holds several forces "
        "(a single-force store's force is used and announced).",
    ),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Simulate ED assault attendances calibrated on the police violence counts in the store."""
    from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv, write_police_csv
    from harmscope.store import Store

    validate.store_path(db)
    validate.seed(seed)
    validate.not_blank(force, "--force", fix="name a force, e.g. --force 'Kent Police'")
    validate.output_file(out, "--out", example="ed_synthetic.csv")
    validate.output_file(police_out, "--police-out", example="police_victims.csv")
    validate.output_file(truth_out, "--truth-out", example="truth.json")
    with Store.open(db, read_only=True) as store:
        force = require_area(store, force, where="--force", quiet=json_out)
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


@simulate_app.command("lines")
def simulate_lines_cmd(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same files)."),
    out: Path = typer.Option(..., "--out", help="Folder for links.csv and truth.json."),
    lines: int = typer.Option(4, "--lines", help="County lines to plant."),
    missing_rate: float = typer.Option(
        0.2, "--missing-rate", help="Share of true links never recorded (0 to below 1)."
    ),
    months: int = typer.Option(12, "--months", help="Months in the window."),
    background: int = typer.Option(
        300, "--background", help="Background people (about 2 recorded links each)."
    ),
    start: str = typer.Option("2025-01", "--start", help="First month, YYYY-MM."),
    json_out: bool = JsonOption,
) -> None:
    """Simulate county-lines link data with planted lines, brokers and runners (SYNTHETIC)."""
    from harmscope.simulate.lines import write_lines

    validate.seed(seed)
    validate.output_folder(out, "--out", create=True)
    links_path, truth_path = write_lines(
        out,
        seed,
        n_lines=lines,
        missing_rate=missing_rate,
        months=months,
        background_people=background,
        start=start,
    )
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    summary = {
        "synthetic": True,
        "links_file": str(links_path),
        "truth_file": str(truth_path),
        "lines": len(truth["lines"]),
        "recorded_links": truth["recorded_links"],
        "missing_links": truth["missing_links"],
        "seed": seed,
    }
    if json_out:
        print_json(summary)
        return
    Console().print(
        f"SYNTHETIC county-lines links: {links_path} ({truth['recorded_links']:,} links, "
        f"{truth['missing_links']:,} true links left unrecorded, {len(truth['lines'])} lines, "
        f"seed {seed}); truth: {truth_path}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(simulate_app, name="simulate")
