"""Recording breaks in stop and search: months where the outcome recording changed, and the
outcome rates on each side of a break (so a pooled rate is never silently pooled across one).

Three mixes by month are tested with :func:`harmscope.analysis.breaks.find_breaks`:

- ``outcome``: the outcome groups (arrest, summons, community resolution, no further action...)
  as shares of all searches;
- ``nfa_linked``: among 'no further action' searches, the share recorded as 'outcome linked to
  the object of search' (an inconsistent pairing: nothing came of the search, yet the outcome
  was linked to what was looked for);
- ``arrest_linked``: among arrests, the share linked to the object of search (the find rate
  moves with it).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.analysis.breaks import (
    BreakRule,
    break_months,
    describe_break,
    find_breaks,
    rule_method,
)
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.searches import COUNTS, _select_searches, add_rates
from harmscope.store.queries import stopsearch as queries

if TYPE_CHECKING:
    from harmscope.store import Store

# Outcome groups as plain words (blank, unknown and unmapped outcomes are one "not recorded").
GROUP_LABELS = {
    "arrest": "arrest",
    "summons": "summons / charged by post",
    "caution": "caution",
    "community_resolution": "community resolution",
    "drugs_warning": "drugs (khat or cannabis) warning",
    "penalty_notice": "penalty notice",
    "no_further_action": "no further action",
    "other_action": "other action",
    "not_recorded": "outcome not recorded",
    "linked": "linked to the object of search",
    "not_linked": "not linked to the object of search",
}
MIXES = {
    "outcome": ("outcome groups", "searches"),
    "nfa_linked": ("'no further action' searches linked to the object of search", "NFA searches"),
    "arrest_linked": ("arrests linked to the object of search", "arrests"),
}

BREAKS_METHOD = (
    "Recording breaks: searches counted by month, outcome group and 'outcome linked to object "
    "of search', and three mixes tested month by month: the outcome groups as shares of all "
    "searches; among 'no further action' searches, linked against not linked; among arrests, "
    "linked against not linked. {rule_method} A flagged break is a change in how outcomes were "
    "recorded or in what happened; the test cannot tell which, but a rate pooled across it "
    "mixes two recording practices, so the outcome figures give the rates on each side too. "
    "Searches with a blank, unknown or unmapped outcome form one 'not recorded' group."
)


def _mixes(counts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    def wide(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        out = frame.pivot_table(index="month", columns=col, values="n", aggfunc="sum")
        out = out.fillna(0).astype("int64")
        out.columns.name = None
        return out

    linked = counts.assign(linked=counts.found.map({True: "linked", False: "not_linked"}))
    mixes = {"outcome": wide(counts, "grp")}
    for key, grp in (("nfa_linked", "no_further_action"), ("arrest_linked", "arrest")):
        sub = linked[linked.grp == grp]
        frame = wide(sub, "linked") if len(sub) else pd.DataFrame()
        mixes[key] = frame.reindex(columns=["linked", "not_linked"], fill_value=0)
    return mixes


def recording_breaks(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
    rule: BreakRule | None = None,
) -> Result:
    """Recording breaks in the stop-and-search outcome mix, NFA-linked and arrest-linked
    shares by month.

    ``table``: every test made (one row per step or month test, with the mix it tested);
    ``tables``: ``flagged`` (the breaks), one wide table of counts by month per mix
    (``mix_outcome``, ``mix_nfa_linked``, ``mix_arrest_linked``); ``summary``: ``breaks``,
    ``break_months`` and the ``rule``; ``notes``: each break in plain words.
    """
    rule = rule or BreakRule()
    period, base, params = _select_searches(
        store, date_from, date_to, force=force, outcome_mapping=outcome_mapping
    )
    mixes = _mixes(queries.outcome_mix_counts(store, base, params))
    parts = []
    for key, mix in mixes.items():
        found = find_breaks(mix, rule) if len(mix) else find_breaks(pd.DataFrame())
        found.insert(0, "mix", key)
        parts.append(found)
    table = pd.concat(parts, ignore_index=True)
    flagged = table[table.flagged.astype(bool)].reset_index(drop=True)
    notes = break_notes(flagged)
    nfa_linked = int(mixes["nfa_linked"]["linked"].sum()) if len(mixes["nfa_linked"]) else 0
    tables = {"flagged": flagged}
    for key, mix in mixes.items():
        wide = mix.reset_index()
        wide.insert(1, "total", mix.sum(axis=1).to_numpy())
        tables[f"mix_{key}"] = wide
    return Result(
        table=table,
        summary={
            "period": period.label,
            "date_from": f"{period.start:%Y-%m}",
            "date_to": f"{period.end:%Y-%m}",
            "force": force,
            "tests": len(table),
            "breaks": len(flagged),
            "break_months": break_months(table),
            "nfa_linked": nfa_linked,
            "rule": asdict(rule),
        },
        method=BREAKS_METHOD.format(rule_method=rule_method(rule)),
        tables=tables,
        notes=notes,
        title="Stop and search: recording breaks",
    )


def break_notes(flagged: pd.DataFrame, threshold: int | None = None) -> list[str]:
    """Each flagged break as a sentence naming the mix, the months and what moved."""
    if flagged.empty:
        return ["No recording break found in the outcome recording (rule in the method)."]
    notes = []
    for row in flagged.to_dict("records"):
        what, unit = MIXES[row["mix"]]
        notes.append(
            f"Recording break in {what}: "
            + describe_break(row, GROUP_LABELS, unit=unit, threshold=threshold)
        )
    return notes


def _segments(flagged: pd.DataFrame, months: list[str]) -> list[tuple[str, list, list, str]]:
    """(label, months of the break, the other months) for each distinct flagged break."""
    out, seen = [], set()
    for row in flagged.to_dict("records"):
        if row["kind"] == "step":
            first, last = str(row["months"]).split("..")
            inside = [m for m in months if first <= m <= last]
            lo, hi = str(row["against"]).split("..")
            outside = [m for m in months if lo <= m <= hi]
            label = f"step from {first}"
        else:
            inside = [str(row["month"])]
            lo, hi = str(row["against"]).split(" less ")[0].split("..")
            outside = [m for m in months if lo <= m <= hi and m != row["month"]]
            label = f"month {row['month']}"
        if label in seen or not inside or not outside:
            continue
        seen.add(label)
        out.append((label, inside, outside, row["kind"]))
    return out


def rates_around_breaks(
    by_month: pd.DataFrame, flagged: pd.DataFrame, alpha: float = 0.05
) -> pd.DataFrame:
    """Outcome counts and rates (with Wilson bounds) on each side of every flagged break,
    summed from the outcome figures' ``by_month`` table: for a step, the months before and from
    it; for one month, that month and the other months of the segment it was tested in. Columns: break, side,
    months, then the counts and rates of :func:`add_rates`."""
    months = [str(m) for m in by_month["value"]]
    rows = []
    for label, inside, outside, kind in _segments(flagged, months):
        for side, chosen in (("break", inside), ("other", outside)):
            part = by_month[by_month["value"].astype(str).isin(chosen)]
            span = f"{chosen[0]}..{chosen[-1]}" if len(chosen) > 1 else chosen[0]
            if kind == "month" and side == "other":
                span = f"the other months of its segment ({span})"
            row: dict[str, Any] = {
                "break": label,
                "side": side,
                "months": span,
                "n_months": len(chosen),
            }
            row.update({c: int(part[c].sum()) for c in COUNTS})
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["break", "side", "months", "n_months", *COUNTS])
    for col in COUNTS:
        frame[col] = frame[col].astype("int64")
    return add_rates(frame, alpha)


def _pct(v: Any) -> str:
    try:
        return "[suppressed]" if v is None or pd.isna(v) else f"{float(v):.1%}"
    except (TypeError, ValueError):
        return "[suppressed]"


def pooled_notes(around: pd.DataFrame) -> list[str]:
    """The warning a pooled figure carries when its months span a flagged break: which breaks,
    and the arrest, find and found-or-arrest rates on each side (from the ``around`` table)."""
    if around.empty:
        return []

    def rates(r: pd.Series) -> str:
        return " / ".join(_pct(r[c]) for c in ("arrest_rate", "find_rate", "found_or_arrest_rate"))

    parts = []
    for label, rows in around.groupby("break", sort=False):
        b = rows[rows.side == "break"].iloc[0]
        o = rows[rows.side == "other"].iloc[0]
        parts.append(f"{label}: {b['months']} {rates(b)} against {o['months']} {rates(o)}")
    return [
        "These pooled figures span a recording change (months flagged by the recording-break "
        "test), so they mix two ways of recording outcomes. Rates on each side (arrest / find / "
        "found or arrest): " + "; ".join(parts) + ". Intervals are in the table "
        "rates_around_breaks."
    ]
