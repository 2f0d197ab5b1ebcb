"""All the network analyses at once: the profile behind `harmscope networks`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from harmscope.analysis.networks._graph import NetGraph, load_graph
from harmscope.analysis.networks.accuracy import accuracy
from harmscope.analysis.networks.brokers import brokers
from harmscope.analysis.networks.change import change_over_time
from harmscope.analysis.networks.exposure import FLAG_SCORE, cuckooing, young_at_risk
from harmscope.analysis.networks.structure import Structure, communities, find_structure
from harmscope.analysis.networks.travel import area_counts, lines_into_area
from harmscope.analysis.people.transparency import transparency_record
from harmscope.analysis.result import Result, ResultBundle

BROKER_PRECISION_TARGET = 0.6
AT_RISK_PRECISION_TARGET = 0.6


@dataclass
class NetworkProfile(ResultBundle):
    """Every network analysis (``results``, each a Result with its method text), the headline
    figures drawn from them, the graph and structure they share, area counts for partners and
    the flags' transparency records: a declared bundle of Results."""

    results: dict[str, Result]
    summary: dict
    net: NetGraph
    structure: Structure
    areas: pd.DataFrame
    transparency: dict[str, dict] = field(default_factory=dict)
    accuracy: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.net.synthetic


def _rates(acc: pd.DataFrame | None, measure: str) -> pd.DataFrame | None:
    if acc is None:
        return None
    row = acc[acc.measure == measure].head(1).assign(group="all", value="all")
    return row


def network_profile(
    store,
    *,
    seed: int = 0,
    month_from: str | None = None,
    month_to: str | None = None,
    truth: dict | None = None,
    change: bool = True,
) -> NetworkProfile:
    """Run every network analysis; with keyed planted truth (``accuracy.keyed_truth``) measure
    them against it."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    net = load_graph(store, month_from, month_to)
    t["graph"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    st = find_structure(net, seed)
    t["communities"] = time.perf_counter() - t0
    results: dict[str, Result] = {"communities": communities(net, st)}
    for name, fn in (
        ("brokers", brokers),
        ("young_at_risk", young_at_risk),
        ("cuckooing", cuckooing),
        ("lines_into_area", lines_into_area),
    ):
        t0 = time.perf_counter()
        results[name] = fn(net, st)
        t[name] = time.perf_counter() - t0
    if change:
        t0 = time.perf_counter()
        results["change"] = change_over_time(net, st, seed)
        t["change"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    areas = area_counts(net, st, results["young_at_risk"].table)
    t["areas"] = time.perf_counter() - t0
    summary: dict = {"synthetic": net.synthetic}
    for r in results.values():
        summary.update(r.summary)
    acc = None
    if truth is not None:
        acc, acc_summary = accuracy(
            net, st, results["brokers"].table, results["young_at_risk"].table, truth
        )
        summary.update(acc_summary)
    note = (
        "planted truth of a synthetic network (harmscope simulate lines)" if acc is not None else ""
    )
    records = {
        "brokers": transparency_record(
            name="County-lines broker ranking",
            purpose="Show analysts which people a line's links run through, to plan "
            "disruption of the line (not of the young people it exploits).",
            uses="Recorded links between pseudonymised people, phones and addresses "
            "(co-offending, association, phone use, residence, visits) from the agencies "
            "that hold them. No ethnicity, no free text.",
            how="Inside each detected line (a Leiden community holding a deal-line phone), "
            "the share of shortest paths from the deal line to the line's under-18 members "
            "that pass through the person (subset betweenness); the people whose removal "
            "most fragments the line are shown beside it.",
            not_for=[
                "any automated decision, arrest, sanction or disclosure",
                "treating a young runner who is central as an organiser: exploited children "
                "are victims first",
                "sharing with partners or the public (counts per area only)",
            ],
            precision_target=BROKER_PRECISION_TARGET,
            rates=_rates(acc, "brokers"),
            truth_note=note + " (planted brokers)" if note else "",
        ),
        "young_at_risk": transparency_record(
            name="Young people at risk of county-lines exploitation",
            purpose="Start a safeguarding review (a multi-agency child exploitation "
            "meeting) for children linked to supply adults or a deal line.",
            uses="Recorded links, ages, and the supply-offence flag of linked adults.",
            how="Under-18s within two steps of an adult with a supply offence or of a deal "
            f"line, scored by closeness and kind of link; flagged at score {FLAG_SCORE:g} or "
            "more, with the reasons listed per child.",
            not_for=[
                "any enforcement action against the child",
                "labelling a child as a 'gang member' or 'county lines' nominal",
                "sharing with partners or the public (counts per area only)",
            ],
            precision_target=AT_RISK_PRECISION_TARGET,
            rates=_rates(acc, "young_at_risk"),
            truth_note=note + " (planted exploited children)" if note else "",
        ),
    }
    for rec in records.values():  # the people records' wording, said of links
        rec["human_oversight"] = (
            "A place on a list starts a review by a named practitioner, who sees the reasons "
            "(the links behind the score, by shortened pseudonym) and decides; no action "
            "follows from the list alone. The lists are internal only and every export of "
            "them is audited."
        )
        rec["risks"] = (
            "Recorded links reflect where police and partners look: people policed more "
            "heavily are linked more often for the same behaviour. A link never recorded "
            "hides a person (a false negative); a shared address or phone can make a "
            "bystander look central (a false positive). Pseudonyms that split one person, or "
            "merge two, distort the graph."
        )
    return NetworkProfile(
        results=results,
        summary=summary,
        net=net,
        structure=st,
        areas=areas,
        transparency=records,
        accuracy=acc,
        timings=t,
    )
