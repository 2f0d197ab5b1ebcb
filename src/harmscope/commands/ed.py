"""`harmscope ed ...`: load ED assault data safely, read it beside police data, export with audit."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    KeyFileOption,
    QuietOption,
    print_json,
)
from harmscope.errors import HarmscopeError

ed_app = typer.Typer(
    help="ED assault data (ISTV): ingest, true picture, export.", no_args_is_help=True
)

AudienceOption = typer.Option("partner", "--audience", help="internal | partner | public.")
ThresholdOption = typer.Option(
    5, "--threshold", help="Public suppression threshold (counts below it)."
)
# Record-level columns an internal export may carry (never the duplicate key).
DEMO_KEY = b"harmscope-demo-key-for-synthetic-data-only"


def _load(ingest, path: Path, db: str | None, **options):
    """Run one ED-side loader on ``path`` in one store transaction and return its report."""
    from harmscope.store import Store

    if not path.is_file():
        raise HarmscopeError("file not found", where=str(path), fix="check the path")
    with Store.open(db) as store:
        return ingest(store, path, **options)


@ed_app.command("ingest")
def ingest_cmd(
    path: Path = typer.Argument(..., help="ISTV CSV file."),
    key_file: Path = KeyFileOption,
    gazetteer: Path = typer.Option(
        None, "--gazetteer", help="Venue list CSV: name,type,longitude,latitude."
    ),
    postcodes: Path = typer.Option(None, "--postcodes", help="ONSPD/NSPL CSV (pcds, lsoa11)."),
    db: str = DbOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Pseudonymise, redact, place and load one ED file (one transaction)."""
    from harmscope.sources.ed import ingest_ed

    report = _load(ingest_ed, path, db, key_file=key_file, gazetteer=gazetteer, postcodes=postcodes)
    if json_out:
        print_json(report.to_dict())
    elif not quiet:
        Console().print("\n".join(report.lines()), highlight=False)


@ed_app.command("link-police")
def link_cmd(
    path: Path = typer.Argument(
        ..., help="Police victim extract CSV (nhs_number, offence_date[, lad_code])."
    ),
    key_file: Path = KeyFileOption,
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Load a police victim extract, pseudonymised with the same key, for capture-recapture."""
    from harmscope.sources.ed import ingest_police_victims

    report = _load(ingest_police_victims, path, db, key_file=key_file)
    if json_out:
        print_json(report.to_dict())
    else:
        Console().print(report.lines()[0], highlight=False)


@ed_app.command("picture")
def picture_cmd(
    level: str = typer.Option("lad", "--level", help="lad (district) or lsoa11."),
    audience: str = AudienceOption,
    threshold: int = ThresholdOption,
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """ED assaults beside police violence: ratios, hidden hotspots, time profile, dark figure."""
    from harmscope.analysis.linkage import true_picture
    from harmscope.privacy import audit
    from harmscope.store import Store

    validate.store_path(db)
    from harmscope.privacy.publishers import publish_ed_picture

    with Store.open(db) as store:
        result = true_picture(store, level=level, audience=audience, threshold=threshold)
        pub = publish_ed_picture(result, audience, threshold)
        audit.record(
            store,
            action="picture",
            what=f"true picture by {level} (screen/JSON)",
            query=f"true_picture(level={level!r}, audience={audience!r}, threshold={threshold})",
            audience=audience,
            rows=len(result.table),
            suppressed=result.summary.get("suppressed_cells"),
        )
    if json_out:
        doc = pub.document()
        tables = {k: doc[k] for k in pub.tables if k != "table"}
        payload = {k: doc[k] for k in ("summary", "audience", "method", "notes", "table")}
        print_json(payload | {"tables": tables, "withheld": doc.get("withheld", [])})
        return
    console = Console()
    for note in result.notes[:2]:
        console.print(note, highlight=False)
    table = Table(
        title=f"ED assaults beside police violence ({result.summary['first_month']}.."
        f"{result.summary['last_month']})"
    )
    for col in ("area", "ED", "police", "ratio (95% CI)", "q", "hidden hotspot"):
        table.add_column(col)
    shown = pub.tables.get("table")
    for r in [] if shown is None else shown.itertuples():
        ratio = (
            "suppressed"
            if _na(r.ratio)
            else f"{r.ratio:.3f} ({r.ratio_low:.3f}-{r.ratio_high:.3f})"
        )
        table.add_row(
            str(r.area_name),
            "suppressed" if _na(r.ed) else f"{int(r.ed):,}",
            f"{int(r.police):,}",
            ratio,
            "" if _na(r.q_value) else f"{r.q_value:.2g}",
            "" if _na(r.hidden_hotspot) else ("yes" if r.hidden_hotspot else ""),
        )
    console.print(table)
    s = result.summary
    if "capture_N" in s:
        lo, hi = s["capture_N_ci"]
        console.print(
            f"Dark figure (Chapman): {s['capture_N']:,.0f} victims (95% CI {lo:,.0f}-{hi:,.0f}); "
            f"reporting rate {s['reporting_rate']:.1%} "
            f"({s['reporting_rate_ci'][0]:.1%}-{s['reporting_rate_ci'][1]:.1%})",
            highlight=False,
        )


def _na(v) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@ed_app.command("export")
def export_cmd(
    out: Path = typer.Option(
        ...,
        "--out",
        help="A folder (one CSV per table and a JSON summary), or one file whose extension "
        "picks the format: .xlsx (a sheet per table and a README), .csv or .parquet.",
    ),
    audience: str = AudienceOption,
    threshold: int = ThresholdOption,
    records: bool = typer.Option(
        False, "--records", help="Record-level export (internal audience only)."
    ),
    level: str = typer.Option("lad", "--level", help="lad or lsoa11."),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Export ED outputs for an audience; every file gets an audit-log row."""
    from harmscope.export.ed import export_ed
    from harmscope.store import Store

    validate.store_path(db)
    from harmscope.export.files import check_out

    if check_out(out, folder_ok=True) == "":
        validate.output_folder(out, "--out", create=True)
    with Store.open(db) as store:
        paths = export_ed(
            store, out, audience=audience, threshold=threshold, records=records, level=level
        )
    if json_out:
        print_json({"written": [str(p) for p in paths], "audience": audience})
    else:
        for p in paths:
            Console().print(f"wrote {p}", highlight=False)


@ed_app.command("audit")
def audit_cmd(
    limit: int = typer.Option(50, "--limit", help="How many of the latest entries to show."),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Show the latest ED audit-log entries (who, when, audience, what, query)."""
    from harmscope.privacy import audit
    from harmscope.store import Store

    validate.store_path(db)
    validate.int_at_least(limit, 1, "--limit", fix="pass e.g. --limit 50")
    with Store.open(db, read_only=True) as store:
        frame = audit.entries(store, limit)
    if json_out:
        print_json(frame.to_dict(orient="records"))
        return
    table = Table(title="ED audit log")
    for col in ("audit_id", "logged_at", "who", "audience", "action", "what", "output"):
        table.add_column(col)
    for r in frame.itertuples():
        table.add_row(
            str(r.audit_id),
            str(r.logged_at)[:19],
            r.who,
            r.audience,
            r.action,
            r.what,
            "" if _na(r.output) else str(r.output),
        )
    Console().print(table)


def demo(store, out_dir: Path) -> list[str]:
    """Simulate ED data from the police sample in ``store``, ingest it, write a partner export."""
    from harmscope.analysis.linkage import true_picture
    from harmscope.export.ed import export_ed
    from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv, write_police_csv
    from harmscope.sources.ed import ingest_ed, ingest_police_victims
    from harmscope.store.queries.catalog import district_name, forces_held

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    forces = forces_held(store)  # the bundled sample: one force (Kent)
    sim = simulate_ed(police_volumes(store, forces[0]), seed=7)
    ed_path = write_ed_csv(sim, out_dir / "ed_synthetic_seed7.csv")
    pol_path = write_police_csv(sim, out_dir / "police_victims_synthetic_seed7.csv")
    (out_dir / "ed_synthetic_seed7_truth.json").write_text(
        json.dumps(sim.truth, indent=2, default=str), encoding="utf-8"
    )
    # The demo key is public and only ever used on synthetic data.
    rep = ingest_ed(store, ed_path, key=DEMO_KEY)
    ingest_police_victims(store, pol_path, key=DEMO_KEY)
    written = export_ed(store, out_dir / "ed_export_public", audience="public")
    res = true_picture(store, audience="public")
    s = res.summary
    lines = [
        f"SYNTHETIC ED data {ed_path} ({rep.rows_loaded:,} loaded, {rep.rows_rejected:,} rejected, "
        f"{sum(rep.unplaced.values()):,} not placed)",
        f"hidden hotspots found: {', '.join(s['hidden_hotspots']) or 'none'} "
        f"(planted: {', '.join(district_name(store, c) for c in sim.truth['hidden_hotspots'])})",
    ]
    if "capture_N" in s:
        lo, hi = s["capture_N_ci"]
        lines.append(
            f"dark figure {s['capture_N']:,.0f} (95% CI {lo:,.0f}-{hi:,.0f}); "
            f"true {sim.truth['population']:,}"
        )
    lines.append(f"public export ({len(written)} files, audited): {written[0].parent}")
    return lines


def register(app: typer.Typer) -> None:
    app.add_typer(ed_app, name="ed")
