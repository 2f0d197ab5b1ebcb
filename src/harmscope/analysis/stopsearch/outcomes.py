"""Outcome figures: searches and arrest, any-action, no-further-action and find rates,
overall and by each breakdown, with Wilson intervals."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.charts import monthly_rates_chart
from harmscope.analysis.stopsearch.mapping import UNMAPPED
from harmscope.analysis.stopsearch.searches import (
    AGGREGATES,
    COUNTS,
    DIMENSIONS,
    NOT_RECORDED,
    RATES,
    _select_searches,
    add_rates,
)
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.store import Store

OUTCOME_METHOD = (
    "Counts are police.uk stop-and-search records in the period (by the month of the published "
    "file). Outcomes are grouped with the packaged table reference/data/stopsearch/"
    "outcome_groups.csv, which pairs the names used before April 2018 with the current ones "
    "(pairings inferred from the names; see its SOURCES.md). Rates: arrest rate = searches "
    "ending in arrest / all searches; any-action rate = searches with a recorded outcome other "
    "than no further action / all searches; NFA rate = no further action / all searches; find "
    "rate = 'outcome linked to object of search' True / all searches, and among searches with "
    "an action outcome. Searches with a blank or unknown outcome stay in every denominator and "
    "in no numerator, so rates are lower bounds when outcomes are missing. Intervals are "
    "95% Wilson score intervals: they treat each search as an independent trial of a stable "
    "process, so they show how far a rate could move by chance, not recording error. "
    "police.uk outcome recording changes over time (Kent 2018: community resolutions fall from "
    "about 150-200 to 16-33 a month in some months, with NFA rising to match), so month-to-month "
    "differences can be recording changes rather than policing changes."
)


def outcome_figures(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> Result:
    """Searches and outcome rates with Wilson intervals, overall and by each breakdown.

    Returns a Result whose ``table`` is long (dimension, value, counts, rates and bounds),
    ``tables`` holds one frame per breakdown plus ``outcome_groups`` (every raw outcome seen
    and its group) and ``unmapped_outcomes``; ``summary`` holds ``searches``, ``arrest_rate``,
    ``action_rate``, ``no_further_action_rate``, ``find_rate`` and ``find_rate_of_outcomes``,
    each with a ``*_ci`` pair.
    """
    period, base, params = _select_searches(
        store, date_from, date_to, force=force, outcome_mapping=outcome_mapping
    )

    dims = list(DIMENSIONS)
    select_dims = ", ".join(f"{expr} AS d_{name}" for name, expr in DIMENSIONS.items())
    sets = ", ".join(f"(d_{name})" for name in dims) + ", ()"
    grouping = ", ".join(f"GROUPING(d_{name}) AS g_{name}" for name in dims)
    cube = store.query(
        f"""{base}, d AS (SELECT *, {select_dims} FROM s)
        SELECT {", ".join(f"d_{n}" for n in dims)}, {grouping}, {AGGREGATES}
        FROM d GROUP BY GROUPING SETS ({sets})""",
        params,
    )
    total = cube[(cube[[f"g_{n}" for n in dims]] == 1).all(axis=1)]
    searches = int(total.searches.iloc[0]) if len(total) else 0
    if searches == 0:
        raise HarmscopeError(
            f"no stop-and-search records in {period.label}"
            + (f" for force '{force}'" if force else ""),
            where="--from/--to",
            fix="check the months with `harmscope status`, or ingest the stop-and-search files",
        )

    parts = []
    for name in dims:
        others = [f"g_{n}" for n in dims if n != name]
        rows = cube[(cube[f"g_{name}"] == 0) & (cube[others] == 1).all(axis=1)]
        part = rows[[f"d_{name}", *COUNTS]].rename(columns={f"d_{name}": "value"})
        part.insert(0, "dimension", name)
        parts.append(part.sort_values("value", kind="stable"))
    table = pd.concat(parts, ignore_index=True)
    for col in COUNTS:
        table[col] = table[col].astype("int64")
    table = add_rates(table, alpha)

    outcome_groups = store.query(
        f"""{base}
        SELECT coalesce(outcome, '') AS raw_outcome, grp AS "group", action, count(*) AS searches
        FROM s GROUP BY ALL ORDER BY searches DESC, raw_outcome""",
        params,
    )
    unmapped = outcome_groups[outcome_groups["group"] == UNMAPPED].reset_index(drop=True)

    totals = {c: int(total[c].iloc[0]) for c in COUNTS}
    summary: dict[str, Any] = {
        "period": period.label,
        "date_from": f"{period.start:%Y-%m}",
        "date_to": f"{period.end:%Y-%m}",
        "months": period.months,
        "force": force,
        **totals,
    }
    for name, (num, den) in RATES.items():
        value, ci = rate_with_ci(totals[num], totals[den], alpha)
        summary[name] = value
        summary[f"{name}_ci"] = ci
    summary["unmapped_outcomes"] = int(unmapped.searches.sum()) if len(unmapped) else 0
    summary["confidence"] = 1 - alpha

    notes = _outcome_notes(table, unmapped, totals)
    tables = {
        f"by_{name}": table[table.dimension == name]
        .drop(columns="dimension")
        .reset_index(drop=True)
        for name in dims
    }
    tables["outcome_groups"] = outcome_groups
    tables["unmapped_outcomes"] = unmapped
    return Result(
        table=table,
        summary=summary,
        charts={"monthly_rates": monthly_rates_chart(tables["by_month"])},
        method=OUTCOME_METHOD,
        tables=tables,
        notes=notes,
        title="Stop and search: searches and outcomes",
    )


def _outcome_notes(table: pd.DataFrame, unmapped: pd.DataFrame, totals: dict) -> list[str]:
    notes = []
    if len(unmapped):
        listing = "; ".join(f"'{r.raw_outcome}' ({r.searches})" for r in unmapped.itertuples())
        notes.append(
            f"Unmapped outcome categories (counted as searches, in no outcome group): {listing}. "
            "Add them to reference/data/stopsearch/outcome_groups.csv."
        )
    if totals["outcome_missing"]:
        notes.append(
            f"{totals['outcome_missing']} searches have a blank, unknown or unmapped outcome; they "
            "stay in the denominators."
        )
    strip = table[table.dimension == "strip_search"]
    if len(strip) == 1 and strip.value.iloc[0] == NOT_RECORDED:
        notes.append(
            "Strip searches (removal of more than outer clothing) are not recorded in any search "
            "in this period, so no strip-search figures can be given."
        )
    if totals["linked_missing"]:
        notes.append(
            f"'Outcome linked to object of search' is missing for {totals['linked_missing']} "
            "searches; they count as not found."
        )
    return notes
