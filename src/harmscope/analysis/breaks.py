"""Recording breaks: months where the mix of recorded categories changed more than chance and
more than a stated size.

A police.uk series can move because what happened changed or because how it was recorded
changed (a new outcome list, a force system change, a month keyed differently). The second
kind should not be pooled silently. This module flags it in a mix of categories counted by
month (stop-and-search outcome groups, street-crime categories) with two stated tests:

- **step** (a lasting change): within each run of consecutive months, every split point with
  at least ``min_side`` months on each side is tried; the split with the largest Pearson
  chi-square of the before/after mix (a 2 x K table) is kept, its p-value multiplied by the
  number of splits tried (Bonferroni), and the search repeats inside each side (binary
  segmentation). Months missing from the series end a run, so a gap between two blocks of
  months is never itself tested as a break;
- **month** (a one-month change): each month's mix against the pooled mix of the other months
  of its segment (the stretch between steps), Pearson chi-square on the 2 x K table, p-values
  Holm-adjusted over all months tested.

A change is flagged only when its adjusted p-value is below ``alpha`` (0.001 by default) AND
some category's share moved by at least ``min_shift`` (10 percentage points by default):
with thousands of records a month, chance alone is never the question, so the size rule keeps
ordinary month-to-month drift from being flagged. Categories empty on both sides are dropped
(degrees of freedom K - 1 over the categories seen). The chi-square is the one
``scipy.stats.chi2_contingency(table, correction=False)`` computes (pinned in the tests);
Cramer's V (sqrt(chi2 / N) for a 2 x K table) is given as an effect size beside the shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.intervals import holm
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.months import to_month

if TYPE_CHECKING:
    from harmscope.store import Store


@dataclass(frozen=True)
class BreakRule:
    """The stated rule: what counts as a recording break."""

    alpha: float = 0.001  # adjusted p-value below this
    min_shift: float = 0.10  # AND some category's share moved by at least this (proportion)
    min_n: int = 30  # months (or sides) with fewer records are not tested
    min_side: int = 2  # a step needs this many months on each side
    max_steps: int = 4  # at most this many steps per run of months

    def text(self) -> str:
        return (
            f"flagged when the adjusted p-value is below {self.alpha:g} and some category's "
            f"share moved by at least {self.min_shift * 100:.0f} percentage points; months "
            f"with fewer than {self.min_n} records are not tested; a step needs "
            f"{self.min_side} months or more on each side"
        )


def chi2_mix(a: np.ndarray, b: np.ndarray) -> tuple[float, int, float, float]:
    """Pearson chi-square of two count vectors over the same categories (a 2 x K table):
    (chi2, dof, p, Cramer's V). Categories empty in both are dropped; NaN when fewer than two
    categories are left or a side is empty."""
    table = np.vstack([np.asarray(a, float), np.asarray(b, float)])
    table = table[:, table.sum(axis=0) > 0]
    n = table.sum()
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return float("nan"), 0, float("nan"), float("nan")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    return chi2, dof, float(stats.chi2.sf(chi2, dof)), float(np.sqrt(chi2 / n))


def _runs(months: list[str]) -> list[list[str]]:
    """Consecutive calendar months as runs ('2024-04' and '2025-01' end one run, start another)."""
    runs: list[list[str]] = []
    prev = None
    for m in months:
        cur = to_month(m)
        if prev is None or cur.first_day != _next_month(prev.first_day):
            runs.append([])
        runs[-1].append(m)
        prev = cur
    return runs


def _next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


def _moves(
    inside: np.ndarray, outside: np.ndarray, cats: list[str], min_shift: float = 0.10
) -> dict[str, Any]:
    """The category whose share rose most, the one that fell most (inside against outside),
    and every category that moved by ``min_shift`` or more (largest move first)."""
    share_in = inside / inside.sum()
    share_out = outside / outside.sum()
    diff = share_in - share_out
    up, down = int(np.argmax(diff)), int(np.argmin(diff))
    order = [int(i) for i in np.argsort(-np.abs(diff)) if abs(diff[i]) >= min_shift]
    moved = [
        {
            "category": cats[i],
            "share": float(share_in[i]),
            "share_other": float(share_out[i]),
            "count": int(inside[i]),
            "count_other": int(outside[i]),
            "up": bool(diff[i] > 0),
        }
        for i in order
    ]
    return {
        "moved": moved,
        "rise_category": cats[up],
        "rise_share": float(share_in[up]),
        "rise_share_other": float(share_out[up]),
        "rise_count": int(inside[up]),
        "fall_category": cats[down],
        "fall_share": float(share_in[down]),
        "fall_share_other": float(share_out[down]),
        "fall_count": int(inside[down]),
        "shift": float(np.max(np.abs(diff))),
    }


def _best_split(mix: pd.DataFrame, rule: BreakRule) -> dict[str, Any] | None:
    """The split of a run of months with the largest chi-square (Bonferroni over splits)."""
    months = list(mix.index)
    best = None
    splits = 0
    for k in range(rule.min_side, len(months) - rule.min_side + 1):
        before = mix.iloc[:k].to_numpy().sum(axis=0)
        after = mix.iloc[k:].to_numpy().sum(axis=0)
        if before.sum() < rule.min_n or after.sum() < rule.min_n:
            continue
        splits += 1
        chi2, dof, p, v = chi2_mix(after, before)
        if np.isnan(chi2):
            continue
        if best is None or chi2 > best["chi2"]:
            best = {"k": k, "chi2": chi2, "dof": dof, "p_value": p, "cramers_v": v}
    if best is None:
        return None
    k = best.pop("k")
    after = mix.iloc[k:].to_numpy().sum(axis=0)
    before = mix.iloc[:k].to_numpy().sum(axis=0)
    best.update(
        kind="step",
        month=months[k],
        months=f"{months[k]}..{months[-1]}",
        against=f"{months[0]}..{months[k - 1]}",
        n=int(after.sum()),
        n_other=int(before.sum()),
        splits=splits,
        p_adjusted=min(1.0, best["p_value"] * splits),
        **_moves(after, before, [str(c) for c in mix.columns], rule.min_shift),
    )
    best["flagged"] = bool(best["p_adjusted"] < rule.alpha and best["shift"] >= rule.min_shift)
    return best


def _segment(mix: pd.DataFrame, rule: BreakRule, depth: int = 0) -> tuple[list, list]:
    """Binary segmentation of one run: (flagged and unflagged step rows, segments)."""
    row = _best_split(mix, rule) if depth < rule.max_steps else None
    if row is None or not row["flagged"]:
        return ([row] if row is not None and depth == 0 else []), [mix]
    k = list(mix.index).index(row["month"])
    rows_a, segs_a = _segment(mix.iloc[:k], rule, depth + 1)
    rows_b, segs_b = _segment(mix.iloc[k:], rule, depth + 1)
    return [row, *rows_a, *rows_b], [*segs_a, *segs_b]


def _month_rows(segment: pd.DataFrame, rule: BreakRule) -> list[dict[str, Any]]:
    rows = []
    cats = [str(c) for c in segment.columns]
    values = segment.to_numpy(dtype=float)
    for i, month in enumerate(segment.index):
        inside = values[i]
        outside = np.delete(values, i, axis=0).sum(axis=0)
        if inside.sum() < rule.min_n or outside.sum() < rule.min_n:
            continue
        chi2, dof, p, v = chi2_mix(inside, outside)
        if np.isnan(chi2):
            continue
        first, last = segment.index[0], segment.index[-1]
        rows.append(
            {
                "kind": "month",
                "month": month,
                "months": month,
                "against": f"{first}..{last} less {month}",
                "n": int(inside.sum()),
                "n_other": int(outside.sum()),
                "chi2": chi2,
                "dof": dof,
                "p_value": p,
                "cramers_v": v,
                **_moves(inside, outside, cats, rule.min_shift),
            }
        )
    return rows


BREAK_COLUMNS = [
    "kind",
    "month",
    "months",
    "against",
    "n",
    "n_other",
    "chi2",
    "dof",
    "p_value",
    "p_adjusted",
    "cramers_v",
    "shift",
    "rise_category",
    "rise_count",
    "rise_share",
    "rise_share_other",
    "fall_category",
    "fall_count",
    "fall_share",
    "fall_share_other",
    "moved",
    "flagged",
]


def find_breaks(mix: pd.DataFrame, rule: BreakRule | None = None) -> pd.DataFrame:
    """Step and one-month recording breaks in ``mix`` (index: months 'YYYY-MM'; columns:
    categories; values: counts). One row per test made (see :data:`BREAK_COLUMNS`); the
    ``flagged`` rows are the breaks. Steps come first, then months in calendar order."""
    rule = rule or BreakRule()
    mix = mix.fillna(0).astype(float).sort_index()
    steps: list[dict] = []
    segments: list[pd.DataFrame] = []
    for run in _runs([str(m) for m in mix.index]):
        rows, segs = _segment(mix.loc[run], rule)
        steps += rows
        segments += segs
    months = [r for seg in segments if len(seg) >= 3 for r in _month_rows(seg, rule)]
    if months:
        adjusted = holm(np.array([r["p_value"] for r in months]))
        for r, p in zip(months, adjusted, strict=True):
            r["p_adjusted"] = float(p)
            r["flagged"] = bool(p < rule.alpha and r["shift"] >= rule.min_shift)
    out = pd.DataFrame([*steps, *sorted(months, key=lambda r: r["month"])])
    if out.empty:
        return pd.DataFrame(columns=BREAK_COLUMNS)
    return out[BREAK_COLUMNS].reset_index(drop=True)


def _label(month: str) -> str:
    return f"{to_month(month).first_day:%B %Y}"


def _share(share: Any, count: Any, n: Any, threshold: int | None) -> str:
    if count is None or pd.isna(count) or share is None or pd.isna(share):
        return "[suppressed]"
    if threshold and 0 < int(count) < threshold:
        return f"fewer than {threshold} of {int(n):,}"
    return f"{share:.1%} ({int(count):,} of {int(n):,})"


def _up(move: Mapping[str, Any]) -> bool:
    """Whether a category's share rose (the direction, kept as ``up`` when shares are hidden)."""
    if "up" in move:
        return bool(move["up"])
    return float(move["share"]) >= float(move["share_other"])


def describe_break(
    row: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    *,
    unit: str = "records",
    threshold: int | None = None,
) -> str:
    """One flagged break in plain words: when, which categories moved (every one that moved by
    the rule's shift or more, else the largest rise and fall), from what share to what. With a
    ``threshold`` a count from 1 to threshold-1 is written 'fewer than <threshold>'."""
    labels = labels or {}
    n = row["n"]
    if row["kind"] == "step":
        first, last = str(row["months"]).split("..")
        lo, hi = str(row["against"]).split("..")
        when = f"From {_label(first)} (to {_label(last)}, against {_label(lo)} to {_label(hi)})"
        other = "before"
    else:
        when = _label(row["month"])
        other = "in the other months"
    moved = list(row.get("moved") or [])
    if not moved:
        moved = [
            {
                "category": row[f"{k}_category"],
                "share": row[f"{k}_share"],
                "share_other": row[f"{k}_share_other"],
                "count": row[f"{k}_count"],
                "count_other": None,
                "up": k == "rise",
            }
            for k in ("rise", "fall")
        ]
    if int(row["dof"]) == 1 and moved:
        # two categories move as mirror images: name the one that is not a negation
        moved = [m for m in moved if not str(m["category"]).startswith("not")][:1] or moved[:1]
    parts = []
    for m in moved:
        verb = "rose" if _up(m) else "fell"
        name = labels.get(m["category"], m["category"])
        was = m["share_other"]
        was = "[suppressed]" if was is None or pd.isna(was) else f"{was:.1%}"
        parts.append(
            f"{name} {verb} from {was} of {unit} {other} to "
            f"{_share(m['share'], m['count'], n, threshold)}"
        )
    return (
        f"{when}: " + "; ".join(parts) + f" (largest share shift {row['shift'] * 100:.0f} "
        f"points; chi-square {row['chi2']:.0f} on {int(row['dof'])} df, adjusted p "
        f"{_p_words(row['p_adjusted'])})."
    )


def _p_words(p: float) -> str:
    """A p-value a board reader can read: no scientific notation."""
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


# The columns of a breaks table an audience sees (the report's tables), in order.
BREAK_TABLE_COLUMNS = [
    "kind",
    "months",
    "against",
    "n",
    "shift",
    "rise_category",
    "rise_share",
    "rise_share_other",
    "fall_category",
    "fall_share",
    "fall_share_other",
    "chi2",
    "dof",
    "p_adjusted",
]


def break_months(breaks: pd.DataFrame) -> list[str]:
    """The months where a flagged break starts (a step's first month, or the month itself)."""
    if breaks is None or breaks.empty:
        return []
    return sorted(set(breaks.loc[breaks.flagged.astype(bool), "month"].astype(str)))


STREET_BREAKS_METHOD = (
    "Street-crime recording breaks: police.uk street crimes counted by month and category "
    "(rows marked out of the force area left out). {rule_method} A flagged month or step is a "
    "change in the mix of categories (the share each category has of the month's crimes) that "
    "is too large and too unlikely to be month-to-month chance; it may be a recording or "
    "publication change (a category renamed or re-keyed, a system change) or a real change; "
    "the test cannot tell which, so a flag is a prompt to check before pooling or comparing "
    "across it. Months not held end a run: the months either side of a gap are not compared."
)


def rule_method(rule: BreakRule) -> str:
    return (
        "Two tests (step: binary segmentation of each run of consecutive months, the best "
        "split's Pearson chi-square with a Bonferroni adjustment over the splits tried; "
        "month: each month against the pooled other months of its segment, Holm-adjusted); "
        f"a change is {rule.text()}."
    )


def street_category_breaks(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    where: tuple[str, list] | None = None,
    rule: BreakRule | None = None,
) -> Result:
    """Recording breaks in the street-crime category mix by month.

    ``where`` (a clause over ``street_crimes s`` and its parameters, e.g. a report Scope's)
    replaces ``force``/``date_from``/``date_to``. The Result's ``table`` holds every test made
    (:func:`find_breaks`), ``tables['mix']`` the counts by month and category and
    ``tables['flagged']`` the breaks; ``notes`` name each break in plain words.
    """
    from harmscope.store.queries.scope import count_cube, scope_filter

    rule = rule or BreakRule()
    clause, params = where or scope_filter(force=force, start=date_from, end=date_to)
    counts = count_cube(store, clause, params, {"month": "s.month", "category": "s.crime_type"})
    if counts.empty:
        raise HarmscopeError(
            "no street crimes in the period asked for",
            where="--from/--to",
            fix="check the months held with `harmscope status`",
        )
    mix = counts.pivot_table(
        index="month", columns="category", values="count", aggfunc="sum", fill_value=0
    ).astype("int64")
    mix.columns.name = None
    breaks = find_breaks(mix, rule)
    flagged = breaks[breaks.flagged.astype(bool)].reset_index(drop=True)
    months = list(mix.index)
    runs = _runs(months)
    notes = [describe_break(r, unit="street crimes") for r in flagged.to_dict("records")]
    if len(runs) > 1:
        notes.append(
            "The months held fall in "
            + f"{len(runs)} separate blocks ("
            + "; ".join(f"{r[0]} to {r[-1]}" for r in runs)
            + "): each block is tested on its own and the gaps are not counted as breaks."
        )
    if flagged.empty:
        notes.insert(0, "No recording break found in the street-crime category mix.")
    table = mix.reset_index()
    return Result(
        table=breaks,
        summary={
            "months": len(months),
            "date_from": months[0],
            "date_to": months[-1],
            "blocks": len(runs),
            "tests": len(breaks),
            "breaks": len(flagged),
            "break_months": break_months(breaks),
            "rule": asdict(rule),
        },
        method=STREET_BREAKS_METHOD.format(rule_method=rule_method(rule)),
        tables={"mix": table, "flagged": flagged},
        notes=notes,
        title="Recording breaks: street-crime category mix",
    )
