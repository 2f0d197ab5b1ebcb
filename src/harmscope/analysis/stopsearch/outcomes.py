"""Outcome figures: searches and arrest, any-action, no-further-action and find rates,
overall and by each breakdown, with Wilson intervals."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.analysis.breaks import BreakRule
from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.breaks import pooled_notes, rates_around_breaks, recording_breaks
from harmscope.analysis.stopsearch.charts import monthly_rates_chart
from harmscope.analysis.stopsearch.mapping import UNMAPPED
from harmscope.analysis.stopsearch.searches import (
    AGGREGATES,
    COUNTS,
    DIMENSIONS,
    NOT_RECORDED,
    RATE_DEFINITIONS,
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
    "an action outcome; found-or-arrest rate = searches linked to the object OR ending in arrest "
    "(each search once) / all searches; linked-with-an-action rate = searches linked to the "
    "object AND with an outcome other than no further action / all searches. Searches with a blank or unknown outcome stay in every denominator and "
    "in no numerator, so rates are lower bounds when outcomes are missing. Intervals are "
    "95% Wilson score intervals: they treat each search as an independent trial of a stable "
    "process, so they show how far a rate could move by chance, not recording error. "
    "police.uk outcome recording changes over time, so month-to-month differences can be "
    "recording changes rather than policing changes: months where the recording changed are "
    "found by a stated test (see the recording breaks), and when a break lies inside the period "
    "the pooled rates carry a note and the rates on each side of the break are given "
    "(rates_around_breaks)."
)


def outcome_figures(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
    alpha: float = 0.05,
    breaks: Result | None = None,
    rule: BreakRule | None = None,
    published_rate: float | None = None,
) -> Result:
    """Searches and outcome rates with Wilson intervals, overall and by each breakdown.

    ``breaks`` (a :func:`recording_breaks` result for the same period; computed when not
    given) decides whether the pooled figures span a recording change: if so the result
    carries a note naming it and ``tables['rates_around_breaks']`` the rates on each side.
    ``published_rate`` (a proportion, e.g. a force's "found or arrest" figure) is set against
    each definition in ``tables['public_measures']`` and the reconciliation note.

    Returns a Result whose ``table`` is long (dimension, value, counts, rates and bounds),
    ``tables`` holds one frame per breakdown plus ``outcome_groups`` (every raw outcome seen
    and its group) and ``unmapped_outcomes``; ``summary`` holds ``searches``, ``arrest_rate``,
    ``action_rate``, ``no_further_action_rate``, ``find_rate`` and ``find_rate_of_outcomes``,
    ``found_or_arrest_rate`` and ``linked_action_rate``, each with a ``*_ci`` pair, and
    ``spans_recording_change``.
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
    if breaks is None:
        breaks = recording_breaks(
            store, period.start, period.end, force=force, outcome_mapping=outcome_mapping, rule=rule
        )
    flagged = breaks.tables["flagged"]
    around = rates_around_breaks(tables["by_month"], flagged, alpha)
    tables["rates_around_breaks"] = around
    summary["spans_recording_change"] = bool(len(around))
    summary["recording_breaks"] = breaks.summary.get("break_months", [])
    summary["published_rate"] = published_rate
    notes = pooled_notes(around) + notes
    tables["public_measures"] = public_measures(summary, published_rate, alpha)
    notes.append(reconciliation_note(summary, tables["by_month"], published_rate))
    notes.insert(0, definitions_note())
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


# The measures set side by side for the reconciliation: (key, label, numerator, denominator).
_MEASURES = (
    ("found_or_arrest_rate", "Found or arrest", "found_or_arrest", "searches"),
    ("linked_action_rate", "Linked with an action", "finds_in_action", "searches"),
    ("find_rate", "Find rate (linked to object)", "finds", "searches"),
    ("arrest_rate", "Arrest rate", "arrests", "searches"),
    ("action_rate", "Any action (not NFA)", "actions", "searches"),
    (
        "found_or_arrest_recorded",
        "Found or arrest, of searches with an outcome recorded",
        "found_or_arrest",
        "searches_recorded",
    ),
)


def definitions_note() -> str:
    """Every headline rate defined in plain words (shown beside the figures, not only in JSON)."""
    return (
        "Definitions: "
        + "; ".join(f"{name.replace('_', ' ')} = {text}" for name, text in RATE_DEFINITIONS.items())
        + "."
    )


def public_measures(
    summary: dict[str, Any], published: float | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """The figure under each definition for the period, with Wilson bounds and, when a
    published figure is given, whether each interval holds it and the gap to it."""
    counts = dict(summary)
    counts["searches_recorded"] = summary["searches"] - summary["outcome_missing"]
    rows = []
    for key, label, num, den in _MEASURES:
        value, (low, high) = rate_with_ci(counts[num], counts[den], alpha)
        definition = RATE_DEFINITIONS.get(key) or (
            RATE_DEFINITIONS["found_or_arrest_rate"].replace(
                "out of all searches", "out of searches with an outcome recorded"
            )
        )
        row = {
            "measure": key,
            "label": label,
            "definition": definition,
            "numerator": num,
            "count": counts[num],
            "denominator": den,
            "searches": counts[den],
            "value": value,
            "value_low": low,
            "value_high": high,
        }
        if published is not None and value is not None:
            row["published"] = published
            row["gap_points"] = (value - published) * 100
            row["interval_holds_published"] = bool(low <= published <= high)
        rows.append(row)
    return pd.DataFrame(rows)


def _month_range(by_month: pd.DataFrame, col: str) -> str:
    vals = pd.to_numeric(by_month[col], errors="coerce").dropna()
    if len(vals) < 2:
        return "month by month figures: not available (fewer than two months shown)"
    lo, hi = by_month.loc[vals.idxmin()], by_month.loc[vals.idxmax()]
    return (
        f"month by month the found-or-arrest rate runs from {vals.min():.1%} ({lo['value']}) "
        f"to {vals.max():.1%} ({hi['value']})"
    )


def reconciliation_note(
    summary: dict[str, Any], by_month: pd.DataFrame, published: float | None = None
) -> str:
    """Why a force's published 'found or arrest' figure can differ from harmscope's, with the
    figure under each definition computed for the period (nothing here is a fixed number)."""

    def pct(key: str) -> str:
        v = summary.get(key)
        return "suppressed" if v is None else f"{v:.1%}"

    against = (
        f"The published figure given ({published:.1%}) "
        if published is not None
        else "A force's published 'found or an arrest took place' figure "
    )
    breaks = summary.get("recording_breaks") or []
    return (
        f"Reconciliation: {against}can differ from harmscope's found-or-arrest rate "
        f"({pct('found_or_arrest_rate')} for {summary['period']}) for four reasons: "
        f"(a) definition: finds alone give {pct('find_rate')}, arrests alone "
        f"{pct('arrest_rate')}, finds that came with an action {pct('linked_action_rate')}, any "
        f"action {pct('action_rate')}. (b) which outcomes count: harmscope keeps searches with "
        "no outcome recorded in the denominator; the table public_measures also gives the rate "
        "over searches with an outcome recorded. (c) recording changes: "
        + (
            f"breaks flagged in {', '.join(breaks)}; "
            if breaks
            else "no recording break flagged in this period; "
        )
        + f"{_month_range(by_month, 'found_or_arrest_rate')}. (d) the period: a force figure "
        "often covers a financial year or a different run of months. Each figure and its "
        "interval is in the table public_measures."
    )
