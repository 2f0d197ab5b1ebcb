"""The period's searches as one SQL CTE ``s`` (outcome group, action flag, found flag, broad
ethnicity), the breakdowns and counts built on it, and the outcome rates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.analysis.intervals import add_rate
from harmscope.analysis.stopsearch.mapping import UNMAPPED, mapping_frame
from harmscope.analysis.stopsearch.selection import Period, _resolve_period
from harmscope.store.queries.stopsearch import force_filter

if TYPE_CHECKING:
    from harmscope.store import Store

NOT_RECORDED = "(not recorded)"

BROAD_ETHNICITY = ("Asian", "Black", "Mixed", "Other", "White")
NOT_STATED = "Not stated"

# Expressions for each breakdown. Blank cells become one visible value rather than vanishing.
DIMENSIONS: dict[str, str] = {
    "month": "strftime(month, '%Y-%m')",
    "legislation": f"coalesce(nullif(trim(legislation), ''), '{NOT_RECORDED}')",
    "object_of_search": f"coalesce(nullif(trim(object_of_search), ''), '{NOT_RECORDED}')",
    "age_range": f"coalesce(nullif(trim(age_range), ''), '{NOT_RECORDED}')",
    "gender": f"coalesce(nullif(trim(gender), ''), '{NOT_RECORDED}')",
    "self_defined_ethnicity": f"coalesce(nullif(trim(self_defined_ethnicity), ''), '{NOT_RECORDED}')",
    "self_defined_broad": "self_broad",
    "officer_defined_ethnicity": "officer_broad",
    "strip_search": (
        "CASE removal_of_more_than_just_outer_clothing WHEN TRUE THEN 'more than outer clothing' "
        f"WHEN FALSE THEN 'outer clothing at most' ELSE '{NOT_RECORDED}' END"
    ),
    "type": f"coalesce(nullif(trim(type), ''), '{NOT_RECORDED}')",
}

# Self-defined 18+1 categories -> the 5 broad groups police.uk uses for officer-defined
# ethnicity, plus "Not stated". The prefix before " - " names the broad group (2011/2021
# census wording); "Other ethnic group - Not stated" is a refusal, not the Other group.
_SELF_BROAD_SQL = f"""
    CASE
        WHEN nullif(trim(self_defined_ethnicity), '') IS NULL THEN '{NOT_STATED}'
        WHEN lower(self_defined_ethnicity) LIKE '%not stated%' THEN '{NOT_STATED}'
        WHEN lower(self_defined_ethnicity) LIKE 'white%' THEN 'White'
        WHEN lower(self_defined_ethnicity) LIKE 'black%' THEN 'Black'
        WHEN lower(self_defined_ethnicity) LIKE 'asian%' THEN 'Asian'
        WHEN lower(self_defined_ethnicity) LIKE 'mixed%' THEN 'Mixed'
        WHEN lower(self_defined_ethnicity) LIKE 'other%' THEN 'Other'
        ELSE '{NOT_STATED}'
    END
"""
_OFFICER_BROAD_SQL = f"""
    CASE
        WHEN trim(officer_defined_ethnicity) IN ('Asian', 'Black', 'Mixed', 'Other', 'White')
            THEN trim(officer_defined_ethnicity)
        ELSE '{NOT_STATED}'
    END
"""


def base_sql(mapping: pd.DataFrame, period: Period, force: str | None) -> tuple[str, list]:
    """A CTE ``s``: the period's searches with outcome group, action flag and broad ethnicity."""
    values = ", ".join(
        ["(CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS BOOLEAN))"] * len(mapping)
    )
    params: list[Any] = []
    for row in mapping.itertuples():
        params += [row.key, row.group, row.action]
    force_sql, force_params = force_filter("ss.force", force)
    sql = f"""
        WITH map(raw, grp, action) AS (VALUES {values}),
        s AS (
            SELECT ss.*,
                   coalesce(m.grp, '{UNMAPPED}') AS grp,
                   m.action AS action,
                   coalesce(ss.outcome_linked_to_object_of_search, FALSE) AS found,
                   {_SELF_BROAD_SQL} AS self_broad,
                   {_OFFICER_BROAD_SQL} AS officer_broad
            FROM stop_searches ss
            LEFT JOIN map m ON lower(trim(coalesce(ss.outcome, ''))) = m.raw
            WHERE ss.month BETWEEN ? AND ? {force_sql}
        )
    """
    return sql, [*params, period.start, period.end, *force_params]


def _select_searches(
    store: Store,
    date_from: str | date | None,
    date_to: str | date | None,
    *,
    force: str | None,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
) -> tuple[Period, str, list]:
    """The period asked for and the CTE ``s`` over its searches (with its parameters)."""
    mapping = mapping_frame(outcome_mapping)
    period = _resolve_period(store, date_from, date_to, force=force)
    sql, params = base_sql(mapping, period, force)
    return period, sql, params


AGGREGATES = """
    count(*) AS searches,
    count(*) FILTER (WHERE grp = 'arrest') AS arrests,
    count(*) FILTER (WHERE action) AS actions,
    count(*) FILTER (WHERE grp = 'no_further_action') AS nfa,
    count(*) FILTER (WHERE found) AS finds,
    count(*) FILTER (WHERE action AND found) AS finds_in_action,
    count(*) FILTER (WHERE found OR grp = 'arrest') AS found_or_arrest,
    count(*) FILTER (WHERE grp IN ('blank', 'unknown', 'unmapped')) AS outcome_missing,
    count(*) FILTER (WHERE outcome_linked_to_object_of_search IS NULL) AS linked_missing
"""
COUNTS = [
    "searches",
    "arrests",
    "actions",
    "nfa",
    "finds",
    "finds_in_action",
    "found_or_arrest",
    "outcome_missing",
    "linked_missing",
]
# rate name -> (numerator, denominator)
RATES = {
    "arrest_rate": ("arrests", "searches"),
    "action_rate": ("actions", "searches"),
    "no_further_action_rate": ("nfa", "searches"),
    "find_rate": ("finds", "searches"),
    "find_rate_of_outcomes": ("finds_in_action", "actions"),
    # the public's measures: "something was found or an arrest took place", and a find that
    # came with an action (the outcome linked to the object and not no further action)
    "found_or_arrest_rate": ("found_or_arrest", "searches"),
    "linked_action_rate": ("finds_in_action", "searches"),
}

# Every rate in plain words, for the text, the report and the JSON alike.
RATE_DEFINITIONS = {
    "arrest_rate": "searches that ended in arrest, out of all searches",
    "action_rate": "searches with a recorded outcome other than no further action (arrest, "
    "summons, caution, community resolution, drugs warning, penalty notice), out of all searches",
    "no_further_action_rate": "searches recorded as no further action, out of all searches",
    "find_rate": "searches whose outcome was recorded as linked to the object of the search "
    "(what the officer was looking for was found), out of all searches",
    "find_rate_of_outcomes": "searches linked to the object of the search, out of searches "
    "with an action outcome",
    "found_or_arrest_rate": "searches where the object was found (outcome linked to the object "
    "of the search) OR the person was arrested, out of all searches; each search counts once",
    "linked_action_rate": "searches linked to the object of the search AND with an outcome "
    "other than no further action, out of all searches",
}


def add_rates(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Every rate of :data:`RATES` with its Wilson bounds, added to a frame of counts."""
    for name, (num, den) in RATES.items():
        add_rate(frame, num, den, name, alpha)
    return frame
