"""What the people profile publishes for an audience (aggregates only).

Person-level tables (the RFG ranking, escalation flags) never go into this Publication: they
leave only through :func:`harmscope.export.people.export_person_tables`, internal and audited.
The People report section and `harmscope people` both publish through here.
"""

from __future__ import annotations

from harmscope.analysis.people.profile import PeopleProfile
from harmscope.privacy.publish import Publication


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


def publish_people_audited(
    store, profile: PeopleProfile, audience: str, threshold: int, *, scheme: str
) -> Publication:
    """:func:`publish_people`, with the one ``audit_log`` row every people output writes."""
    from harmscope.privacy import audit

    pub = publish_people(profile, audience, threshold)
    audit.record(
        store,
        action="picture",
        what="people profile (aggregates)",
        query=f"people_profile(scheme={scheme!r}, audience={audience!r}, threshold={threshold})",
        audience=audience,
        rows=int(profile.summary.get("crimes") or 0),
    )
    return pub
