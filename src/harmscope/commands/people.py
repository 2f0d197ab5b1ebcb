"""`harmscope people`: the profile of people in a crime extract, published for an audience.

Aggregates go out through the publishing path (``privacy.publish``) for every audience; the
person-level tables (RFG ranking, escalation flags) are written only for the internal audience
with ``--export DIR``, and every run is recorded in ``audit_log``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console

from harmscope.analysis.people import people_profile
from harmscope.analysis.people.profile import PeopleProfile
from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json
from harmscope.errors import HarmscopeError
from harmscope.privacy import audit
from harmscope.privacy.publish import Publication
from harmscope.store import Store

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


def publish_people(profile: PeopleProfile, audience: str, threshold: int) -> Publication:
    """The aggregate view of the profile for ``audience`` (person-level tables never go in)."""
    pub = Publication.for_audience(audience, "people", threshold)
    r = profile.results
    harm = r["offence_harm"]
    pub.table(
        "offence_harm",
        harm.table[
            [
                "code",
                "label",
                "ons_subgroup",
                "police_category",
                "crimes",
                "knife",
                "css_weight",
                "chi_weight",
                "css_harm",
                "chi_harm",
            ]
        ],
        counts=["crimes", "knife"],
        derived={"css_harm": "crimes", "chi_harm": "crimes"},
    )
    pub.table(
        "harm_by_category",
        harm.tables["by_category"],
        counts=["crimes"],
        derived={
            "css_harm_code_level": "crimes",
            "css_harm_category_level": "crimes",
            "ratio_code_to_category": "crimes",
        },
    )
    pf = r["power_few"].table
    pub.table(
        "power_few",
        pf,
        counts=["units", "units_in_top"],
        derived={
            "harm_share": "units_in_top",
            "harm_share_low": "units_in_top",
            "harm_share_high": "units_in_top",
        },
    )
    rv = r["repeat_victims"]
    pub.table("repeat_victims", rv.table, counts=["victims"])
    pub.table(
        "time_to_repeat",
        rv.tables["time_to_repeat"],
        counts=["repeats"],
        derived={"share": "repeats", "share_low": "repeats", "share_high": "repeats"},
    )
    pub.table(
        "victim_offender_overlap",
        r["overlap"].table,
        counts=["persons", "victims", "offenders", "both"],
    )
    young = r["young"]
    pub.table("age_crime_curve", young.table, counts=["offences", "offenders"])
    pub.table("first_contact", young.tables["first_contact"], counts=["offenders"])
    hours = (
        r["timing"]
        .tables["by_hour"]
        .assign(crimes=lambda d: d.weight.round().astype(int))[["hour", "crimes", "share"]]
    )
    pub.table("by_hour", hours, counts=["crimes"], derived={"share": "crimes"})
    days = (
        r["timing"]
        .tables["by_day"]
        .assign(crimes=lambda d: d.weight.round().astype(int))[["day", "crimes", "share"]]
    )
    pub.table("by_day", days, counts=["crimes"], derived={"share": "crimes"})
    knife = r["knife"]
    pub.table("knife_enabled", knife.table, counts=["selected", "knife"])
    pub.table("knife_by_month", knife.tables["by_month"], counts=["selected", "knife"])
    s = profile.summary
    sources = {
        "crimes": "offence_harm",
        "power_few_share_top1pct": "power_few",
        "power_few_share_top5pct": "power_few",
        "power_few_share_top10pct": "power_few",
        "victim_share_top5pct": "power_few",
        "place_share_top5pct": "power_few",
        "repeat_victim_rate": "repeat_victims",
        "median_days_to_repeat": "time_to_repeat",
        "overlap_share_of_victims": "victim_offender_overlap",
        "young_offenders": "first_contact",
        "peak_age": "age_crime_curve",
        "knife_share_of_selected": "knife_enabled",
        "night_share": "by_hour",
    }
    pub.figure("synthetic", profile.synthetic, source="reference")
    for key, src in sources.items():
        pub.figure(key, s.get(key), source=src)
        if f"{key}_ci" in s:
            pub.figure(f"{key}_ci", s[f"{key}_ci"], source=src)
    for key in [k for k in s if k.startswith(("rfg_flag", "escalation_flag"))]:
        pub.figure(key, s[key], source="reference")  # measured on synthetic truth only
    pub.text("method", {name: res.method for name, res in r.items()})
    pub.text("transparency", profile.transparency)
    if profile.synthetic:
        pub.text("label", "SYNTHETIC: made by harmscope simulate crimes; no real person.")
    return pub.finish()


def people_cmd(
    db: str = DbOption,
    json_out: bool = JsonOption,
    audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
    threshold: int = typer.Option(5, "--threshold", help="Suppress counts below this."),
    scheme: str = typer.Option("css", "--scheme", help="css | chi harm weights."),
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
    validate.store_path(db)
    audience = validate.choice(audience, AUDIENCES, "--audience")
    validate.choice(scheme, ("css", "chi"), "--scheme")
    validate.int_at_least(threshold, 1, "--threshold")
    validate.int_at_least(reps, 20, "--reps")
    validate.seed(seed)
    validate.finite(flag_top, "--flag-top", gt=0, lt=1)
    weights = _rfg_weights(rfg_weights)
    if export is not None:
        if audience != "internal":
            raise HarmscopeError(
                "person-level tables are internal only",
                where="--export",
                fix="use --audience internal (partners and the public get aggregates only)",
            )
        validate.output_folder(export, "--export", create=True)
    truth_df = key = None
    if truth is not None:
        validate.input_file(truth, "--truth")
        from harmscope.sources.crime_extract import crime_key_material

        key = crime_key_material(None, key_file)
        truth_df = pd.read_csv(truth)
        need = {"person_id", "sex", "birth_year", "power_few", "cohort"}
        if not need <= set(truth_df.columns):
            raise HarmscopeError(
                "not a planted-truth persons file",
                where="--truth",
                fix="pass the FILE.truth_persons.csv written by `harmscope simulate crimes`",
            )
    with Store.open(db) as store:
        profile = people_profile(
            store,
            scheme=scheme,
            reps=reps,
            seed=seed,
            rfg_weights=weights,
            flag_top=flag_top,
            truth_persons=truth_df,
            key=key,
        )
        pub = publish_people(profile, audience, threshold)
        audit.record(
            store,
            action="picture",
            what="people profile (aggregates)",
            query=f"people_profile(scheme={scheme!r}, audience={audience!r}, "
            f"threshold={threshold})",
            audience=audience,
            rows=int(profile.summary.get("crimes") or 0),
        )
        written = []
        if export is not None:
            Path(export).mkdir(parents=True, exist_ok=True)
            for name, df in (
                ("rfg_ranking.csv", profile.results["rfg"].table),
                ("escalation_flags.csv", profile.results["young"].tables["escalation"]),
            ):
                out = Path(export) / name
                df.to_csv(out, index=False)
                written.append(str(out))
                audit.record(
                    store,
                    action="export",
                    what=f"person-level {name[:-4]} (pseudonymised)",
                    query=f"people --export (scheme={scheme!r}, weights={weights}, "
                    f"flag_top={flag_top})",
                    audience="internal",
                    rows=len(df),
                    output=str(out),
                )
    doc = pub.document()
    if written:
        doc["exported"] = written
    if json_out:
        print_json(doc)
        return
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
