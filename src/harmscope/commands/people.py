"""`harmscope people`: the profile of people in a crime extract, published for an audience.

Aggregates go out through the publishing path (``privacy.publish``) for every audience; the
person-level tables (RFG ranking, escalation flags) are written only for the internal audience
with ``--export DIR``, and every run is recorded in ``audit_log``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    OldSchemeOption,
    harm_weights,
    print_json,
)
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.analysis.people.profile import PeopleProfile

AUDIENCES = ("internal", "partner", "public")


def _rfg_weights(text: str | None) -> dict | None:
    if not text:
        return None
    parts = text.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != 3:
        raise HarmscopeError(
            f"expected three numbers, got {text!r}",
            where="--rfg-weights",
            fix="give recency,frequency,gravity weights that sum to 1, e.g. 0.2,0.3,0.5",
        )
    for v in vals:
        validate.finite(v, "--rfg-weights", ge=0)
    return dict(zip(("recency", "frequency", "gravity"), vals, strict=True))


def people_cmd(
    db: str = DbOption,
    json_out: bool = JsonOption,
    audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
    threshold: int = typer.Option(5, "--threshold", help="Suppress counts below this."),
    weights: str = typer.Option(None, "--weights", help="Harm weights: css | chi (default css)."),
    scheme_old: str = OldSchemeOption,
    reps: int = typer.Option(200, "--reps", help="Bootstrap replicates."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    rfg_weights: str = typer.Option(
        None, "--rfg-weights", help="recency,frequency,gravity weights (default 0.2,0.3,0.5)."
    ),
    flag_top: float = typer.Option(0.05, "--flag-top", help="Share of offenders flagged by RFG."),
    truth: Path = typer.Option(
        None, "--truth", help="Planted truth (FILE.truth_persons.csv) to measure flag errors."
    ),
    key_file: Path = typer.Option(None, "--key-file", help="Key file (else HARMSCOPE_KEY)."),
    export: Path = typer.Option(
        None, "--export", help="Folder for person-level CSVs (internal only; audited)."
    ),
) -> None:
    """Offence-level harm, the power few, repeat victims, overlap, RFG, young people, timing,
    knife-enabled violence: one profile, published for the audience."""
    from harmscope.analysis.people import people_profile
    from harmscope.export.people import export_person_tables
    from harmscope.privacy.people import publish_people_audited
    from harmscope.sources.truth_persons import read_truth_persons
    from harmscope.store import Store

    validate.store_path(db)
    audience = validate.choice(audience, AUDIENCES, "--audience")
    scheme, _ = harm_weights(weights, scheme_old, old_name="--scheme", quiet=json_out)
    validate.int_at_least(threshold, 1, "--threshold")
    validate.int_at_least(reps, 20, "--reps")
    validate.seed(seed)
    validate.finite(flag_top, "--flag-top", gt=0, lt=1)
    rfg = _rfg_weights(rfg_weights)
    if export is not None:
        if audience != "internal":  # before any work; export_person_tables checks it again
            raise HarmscopeError(
                "person-level tables are internal only",
                where="--export",
                fix="use --audience internal (partners and the public get aggregates only)",
            )
        validate.output_folder(export, "--export", create=True)
    truth_df = key = None
    if truth is not None:
        validate.input_file(truth, "--truth")
        truth_df, key = read_truth_persons(truth, key_file)
    with Store.open(db) as store:
        profile = people_profile(
            store,
            scheme=scheme,
            reps=reps,
            seed=seed,
            rfg_weights=rfg,
            flag_top=flag_top,
            truth_persons=truth_df,
            key=key,
        )
        pub = publish_people_audited(store, profile, audience, threshold, scheme=scheme)
        written = []
        if export is not None:
            written = export_person_tables(
                store,
                profile,
                export,
                audience=audience,
                query=f"people --export (scheme={scheme!r}, weights={rfg}, flag_top={flag_top})",
            )
    doc = pub.document()
    if written:
        doc["exported"] = written
    if json_out:
        print_json(doc)
        return
    _print(doc, profile, written)


def _print(doc: dict, profile: PeopleProfile, written: list[str]) -> None:
    c = Console()
    if profile.synthetic:
        c.print("SYNTHETIC data", style="bold")
    for k, v in doc["summary"].items():
        if not k.endswith("_ci"):
            ci = doc["summary"].get(f"{k}_ci")
            c.print(f"{k}: {v}" + (f"  (95% CI {ci[0]} - {ci[1]})" if ci else ""), highlight=False)
    for name, rec in profile.transparency.items():
        c.print(f"{name}: {rec['statement']}", highlight=False)
    for w in doc.get("withheld", []):
        c.print(f"withheld: {w}", highlight=False)
    for path in written:
        c.print(f"wrote {path} (audited)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("people")(people_cmd)
