"""What each audience may see of the county-lines network analyses (issue 15).

* **internal** (the partnership's analysts): the summary, every table, the person-level
  lists (brokers, young people at risk, cuckooing candidates) by *shortened* pseudonym (the
  first 10 hex characters: enough to find the person in the store, useless without it), the
  accuracy table and the transparency records. Full keys leave only in the audited
  GraphML/GEXF export (``export.network``).
* **partner**: counts per in-area place or area only (lines linked, people in lines, young
  people at risk): no person, phone or address, no pseudonym, no community table.
* **public**: the same area counts with small-number suppression (counts 1 to threshold-1
  hidden, with secondary suppression, ``privacy.disclosure``); nothing at person level.

Accuracy figures measured on planted truth (synthetic data only) describe the method, not
anyone, and go to every audience beside the transparency records.
"""

from __future__ import annotations

from harmscope.privacy.publish import Publication

# Person-level tables and the columns an internal reader gets (never the full key).
PERSON_TABLES = {
    "brokers": (
        "brokers",
        None,
        [
            "rank",
            "line",
            "pseudonym",
            "age",
            "broker_score",
            "betweenness_norm",
            "degree_in_line",
            "largest_component_drop",
            "pairs_disconnected",
            "line_size",
        ],
    ),
    "young_at_risk": (
        "young_at_risk",
        None,
        ["rank", "pseudonym", "age", "line", "score", "flagged", "reasons"],
    ),
    "cuckooing": (
        "cuckooing",
        None,
        [
            "address",
            "community",
            "line",
            "non_resident_visitors",
            "residents",
            "vulnerable_resident",
        ],
    ),
}
AREA_COUNTS = ["lines", "people_in_lines", "young_at_risk"]
ACCURACY_KEYS = (
    "lines_planted",
    "lines_recovered",
    "ari",
    "broker_precision",
    "broker_recall",
    "baseline_broker_precision",
    "baseline_broker_recall",
    "at_risk_precision",
    "at_risk_recall",
    "baseline_at_risk_precision",
    "baseline_at_risk_recall",
)
# Whole-network figures an internal reader gets in the summary (counts of entities, lines).
INTERNAL_FIGURES = (
    "entities",
    "core_entities",
    "links",
    "components",
    "largest_component",
    "communities",
    "communities_3plus",
    "modularity",
    "deal_phones",
    "lines_found",
    "people_in_lines",
    "people_whose_removal_splits_a_line",
    "under_18",
    "young_exposed",
    "young_flagged",
    "cuckooing_candidates",
    "cuckooing_in_lines",
    "cuckooing_vulnerable",
    "people_linked_outside",
    "phones_linked_outside",
    "routes",
    "top_route",
    "months",
    "networks_tracked",
    "betweenness_exact",
)


def publish_networks(profile, audience: str, threshold: int = 5) -> Publication:
    """The view of a :class:`~harmscope.analysis.networks.NetworkProfile` for ``audience``."""
    pub = Publication.for_audience(audience, "networks", threshold)
    internal = pub.audience.name == "internal"
    r = profile.results
    areas = pub.table("areas", profile.areas, counts=AREA_COUNTS)
    pub.figure("synthetic", profile.synthetic, source="reference")
    if areas is not None:
        pub.figure("areas", int(len(areas)), source="areas")
    for key in ACCURACY_KEYS:  # measured on synthetic truth: about the method, not anyone
        if key in profile.summary:
            pub.figure(key, profile.summary[key], source="reference")
    if internal:
        s = profile.summary
        for key in INTERNAL_FIGURES:
            if key in s:
                pub.figure(key, s[key], source="communities")
        pub.table(
            "communities",
            r["communities"].table,
            counts=[
                "entities",
                "persons",
                "phones",
                "addresses",
                "deal_phones",
                "under_18",
                "supply_adults",
                "out_of_area_persons",
            ],
        )
        for name, (res_key, sub, cols) in PERSON_TABLES.items():
            df = r[res_key].table if sub is None else r[res_key].tables[sub]
            pub.table(name, df[cols], event_level=True)
        routes = r["lines_into_area"]
        pub.table("routes", routes.table, counts=["people", "lines"])
        pub.table(
            "stations", routes.tables["stations"], counts=["people", "people_from_outside", "lines"]
        )
        if "change" in r:
            pub.table(
                "change_by_month",
                r["change"].tables["by_month"],
                counts=["new", "growing", "stable", "fading", "ended"],
            )
            pub.table("change", r["change"].table, counts=["people", "people_before"])
        if profile.accuracy is not None:
            pub.table("accuracy", profile.accuracy, reference=True)
        pub.text("method", {name: res.method for name, res in r.items()})
    else:
        pub.text(
            "method",
            {
                "areas": "Counts per in-area place or area of the lines (communities holding a "
                "deal-line phone) linked to it, the people of those lines linked to it and the "
                "young people flagged at risk linked to it, from pseudonymised link records. "
                + (
                    f"Counts from 1 to {threshold - 1} are suppressed, with secondary suppression. "
                    if pub.audience.suppress
                    else ""
                )
                + "People, phones and addresses are never listed outside the partnership's "
                "analysts.",
                **{name: res.method for name, res in r.items() if name == "communities"},
            },
        )
    pub.text("transparency", profile.transparency)
    if profile.synthetic:
        pub.text("label", "SYNTHETIC: made by harmscope simulate lines; no real person.")
    return pub.finish()
