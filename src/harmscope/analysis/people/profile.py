"""All the people analyses at once: the profile behind `harmscope people`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harmscope.analysis.people._data import is_synthetic, require_crimes
from harmscope.analysis.people.harm import offence_harm
from harmscope.analysis.people.knife import knife_enabled
from harmscope.analysis.people.power_few import power_few
from harmscope.analysis.people.repeat import repeat_victimisation, victim_offender_overlap
from harmscope.analysis.people.rfg import DEFAULT_FLAG_TOP, rfg_ranking
from harmscope.analysis.people.timing import time_profile
from harmscope.analysis.people.transparency import error_rates, transparency_record
from harmscope.analysis.people.young import MIN_OFFENCES, MIN_TREND, young_people
from harmscope.analysis.result import Result, ResultBundle

RFG_PRECISION_TARGET = 0.7
ESCALATION_PRECISION_TARGET = 0.5


@dataclass
class PeopleProfile(ResultBundle):
    """Every people analysis (``results``, each a Result with its method text), the headline
    figures drawn from them (``summary``), the flags' measured error rates and whether the
    store's people are synthetic: a declared bundle of Results."""

    results: dict[str, Result]
    summary: dict
    transparency: dict[str, dict] = field(default_factory=dict)
    synthetic: bool = False


def people_profile(
    store,
    *,
    scheme: str = "css",
    reps: int = 200,
    seed: int = 0,
    rfg_weights: dict | None = None,
    flag_top: float = DEFAULT_FLAG_TOP,
    truth_persons: pd.DataFrame | None = None,
    key: bytes | None = None,
) -> PeopleProfile:
    """Run every people analysis; with planted truth (and the key) measure the flags."""
    require_crimes(store)
    results = {
        "offence_harm": offence_harm(store),
        "power_few": power_few(store, scheme=scheme, reps=reps, seed=seed),
        "repeat_victims": repeat_victimisation(store, seed=seed),
        "overlap": victim_offender_overlap(store),
        "rfg": rfg_ranking(store, weights=rfg_weights, flag_top=flag_top, scheme=scheme),
        "young": young_people(store, scheme=scheme),
        "timing": time_profile(store),
        "knife": knife_enabled(store),
    }
    synthetic = is_synthetic(store)
    summary: dict = {"synthetic": synthetic}
    pf = results["power_few"].summary
    rv = results["repeat_victims"].summary
    summary.update(
        {
            "crimes": results["offence_harm"].summary["crimes"],
            "power_few_share_top5pct": pf["power_few_share_top5pct"],
            "power_few_share_top5pct_ci": pf["power_few_share_top5pct_ci"],
            "power_few_share_top1pct": pf["power_few_share_top1pct"],
            "power_few_share_top1pct_ci": pf["power_few_share_top1pct_ci"],
            "power_few_share_top10pct": pf["power_few_share_top10pct"],
            "power_few_share_top10pct_ci": pf["power_few_share_top10pct_ci"],
            "victim_share_top5pct": pf["victim_share_top5pct"],
            "victim_share_top5pct_ci": pf["victim_share_top5pct_ci"],
            "place_share_top5pct": pf["place_share_top5pct"],
            "place_share_top5pct_ci": pf["place_share_top5pct_ci"],
            "repeat_victim_rate": rv.get("repeat_victim_rate"),
            "repeat_victim_rate_ci": rv.get("repeat_victim_rate_ci"),
            "median_days_to_repeat": rv.get("median_days_to_repeat"),
            "overlap_share_of_victims": results["overlap"].summary["overlap_share_of_victims"],
            "overlap_share_of_victims_ci": results["overlap"].summary[
                "overlap_share_of_victims_ci"
            ],
            "young_offenders": results["young"].summary["young_offenders"],
            "peak_age": results["young"].summary["peak_age"],
            "knife_share_of_selected": results["knife"].summary["knife_share_of_selected"],
            "knife_share_of_selected_ci": results["knife"].summary["knife_share_of_selected_ci"],
            "night_share": results["timing"].summary["night_share"],
            "night_share_ci": results["timing"].summary["night_share_ci"],
        }
    )
    rfg_rates = esc_rates = None
    note = ""
    if truth_persons is not None and key is not None:
        note = "planted truth of a synthetic extract (harmscope simulate crimes)"
        rfg_rates = error_rates(results["rfg"].table, truth_persons, "power_few", key)
        esc = results["young"].tables["escalation"].rename(columns={"escalating": "flagged"})
        esc_rates = error_rates(esc, truth_persons, "cohort", key)
        results["rfg"].tables["error_rates"] = rfg_rates
        results["young"].tables["error_rates"] = esc_rates
    w = results["rfg"].summary.get("weights", {})
    records = {
        "rfg": transparency_record(
            name="RFG harm ranking of offenders",
            purpose="Order offenders for an offender-management review of the most harmful.",
            uses="Recorded crimes where the person is the offender: dates, Home Office offence "
            "codes and their harm weights. No ethnicity, address or intelligence.",
            how=f"Percentile ranks of recency, frequency and gravity, weighted "
            f"{w.get('recency')}/{w.get('frequency')}/{w.get('gravity')}; the top "
            f"{flag_top:.0%} are flagged.",
            not_for=[
                "any automated decision, sanction, exclusion or disclosure",
                "predicting an individual's future offending",
                "sharing with partners or the public (aggregates only)",
                "decisions about victims or people never recorded as offenders",
            ],
            precision_target=RFG_PRECISION_TARGET,
            rates=rfg_rates,
            truth_note=note + " (planted 'power few' group)" if note else "",
        ),
        "escalation": transparency_record(
            name="Young people escalation flag",
            purpose="Find young people (first offence at 10-24) whose recorded offences rise "
            "in harm, for an early-intervention referral review.",
            uses="Recorded offences, ages at offence and harm weights.",
            how=f"At least {MIN_OFFENCES} offences (with 3, a Spearman rho >= 0.5 arises by "
            "chance in half of all orderings); first of low harm, a later of high harm; harm "
            f"rising with order (Spearman >= {MIN_TREND}). Precision target kept at "
            f"{ESCALATION_PRECISION_TARGET:.2f}: measured on planted truth across seeds it is "
            "about 0.46 (0.22 with 3 offences), short of the target because prolific young "
            "offenders whose harm rises by chance are flagged too; a flag is a prompt for "
            "review, never a finding.",
            not_for=[
                "any automated referral, sanction or school/housing decision",
                "labelling a child as a 'gang member' or 'county lines' nominal",
                "sharing with partners or the public (aggregates only)",
            ],
            precision_target=ESCALATION_PRECISION_TARGET,
            rates=esc_rates,
            truth_note=note + " (planted escalating cohort)" if note else "",
        ),
    }
    for name, rec in records.items():
        if rec["error_rates"] is not None:
            overall = [r for r in rec["error_rates"] if r["group"] == "all"][0]
            summary[f"{name}_flag_precision"] = overall["precision"]
            summary[f"{name}_flag_precision_ci"] = [
                overall["precision_low"],
                overall["precision_high"],
            ]
            summary[f"{name}_flag_recall"] = overall["recall"]
            summary[f"{name}_flag_recall_ci"] = [overall["recall_low"], overall["recall_high"]]
    return PeopleProfile(
        results=results, summary=summary, transparency=records, synthetic=synthetic
    )
