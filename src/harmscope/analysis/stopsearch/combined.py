"""Every stop-and-search analysis for one period: what the CLI and the report show."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harmscope.analysis.breaks import BreakRule
from harmscope.analysis.result import Results
from harmscope.analysis.stopsearch.agreement import ethnicity_agreement
from harmscope.analysis.stopsearch.breaks import recording_breaks
from harmscope.analysis.stopsearch.hit_rate import hit_rate_test
from harmscope.analysis.stopsearch.intelligence import intelligence_led
from harmscope.analysis.stopsearch.mapping import mapping_frame
from harmscope.analysis.stopsearch.outcomes import outcome_figures
from harmscope.analysis.stopsearch.population_rates import disproportionality

if TYPE_CHECKING:
    from harmscope.store import Store

# Result key -> the breakdown whose find rates the outcome test compares.
HIT_RATE_TESTS = {
    "hit_rate_ethnicity": "officer_defined_ethnicity",
    "hit_rate_self_defined": "self_defined_broad",
    "hit_rate_age": "age_range",
}


def scrutiny(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    population: str | Path | pd.DataFrame | None = None,
    crime_from: str | date | None = None,
    crime_to: str | date | None = None,
    cell_m: float = 500.0,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
    alpha: float = 0.05,
    rule: BreakRule | None = None,
    published_rate: float | None = None,
) -> Results:
    """Every stop-and-search analysis for one period (what the CLI and the report show), as a
    bundle of Results (a dict name -> Result).

    The intelligence-led comparison is left out (with a note on the outcome result) when
    the store holds no street crimes. ``recording_breaks`` holds the recording-break tests
    (rule ``rule``); when one is flagged inside the period, every result that pools months
    (outcomes, the outcome tests) carries a note naming it.
    """
    mapping = mapping_frame(outcome_mapping)
    breaks = recording_breaks(
        store, date_from, date_to, force=force, outcome_mapping=mapping, rule=rule
    )
    outcomes = outcome_figures(
        store,
        date_from,
        date_to,
        force=force,
        outcome_mapping=mapping,
        alpha=alpha,
        breaks=breaks,
        published_rate=published_rate,
    )
    period = (outcomes.summary["date_from"], outcomes.summary["date_to"])
    results = Results(outcomes=outcomes, recording_breaks=breaks)
    pooled = _pooled_warning(breaks.summary.get("break_months", []))
    for key, by in HIT_RATE_TESTS.items():
        results[key] = hit_rate_test(
            store, *period, by=by, force=force, outcome_mapping=mapping, alpha=alpha
        )
        if pooled:
            results[key].notes.append(pooled)
    results["disproportionality"] = disproportionality(
        store, *period, population=population, force=force, alpha=alpha
    )
    results["ethnicity_agreement"] = ethnicity_agreement(store, *period, force=force, alpha=alpha)
    has_crimes = store.query("SELECT count(*) AS n FROM street_crimes").n[0] > 0
    if has_crimes:
        results["intelligence_led"] = intelligence_led(
            store,
            *period,
            crime_from=crime_from,
            crime_to=crime_to,
            force=force,
            cell_m=cell_m,
            alpha=alpha,
        )
    else:
        outcomes.notes.append(
            "Whether searches follow violence is not assessed: the store holds no street crimes."
        )
    return results


def _pooled_warning(months: list[str]) -> str | None:
    """The note a result pooling months carries when a recording break lies inside them."""
    if not months:
        return None
    return (
        "These find rates pool months across a recording change (breaks flagged from "
        f"{', '.join(months)}; see the recording breaks): a difference between groups can "
        "come from when each group was searched, not only from the grounds for searching."
    )
