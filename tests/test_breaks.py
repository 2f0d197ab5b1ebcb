"""The recording-break test (analysis.breaks): its statistic against scipy, planted breaks found,
stable series not flagged, a gap between blocks of months never a break, and the real Kent
street-crime category mix (2024 and 2025 blocks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmscope.analysis.breaks import (
    BreakRule,
    chi2_mix,
    describe_break,
    find_breaks,
    street_category_breaks,
)
from harmscope.analysis.intervals import holm

CATS = ["arrest", "summons", "community", "nfa", "warning"]
BASE = np.array([0.22, 0.03, 0.20, 0.45, 0.10])


def _months(n: int, start: str = "2018-01") -> list[str]:
    return [str(p) for p in pd.period_range(start, periods=n, freq="M")]


def _series(seed: int, n_months: int = 12, size: int = 500, probs=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [rng.multinomial(size, BASE if probs is None else probs[i]) for i in range(n_months)]
    return pd.DataFrame(rows, index=_months(n_months), columns=CATS)


def _shifted(base: np.ndarray, frm: int, to: int, amount: float) -> np.ndarray:
    p = base.copy()
    p[frm] -= amount
    p[to] += amount
    return p


@pytest.mark.parametrize(
    "a, b",
    [
        ([12, 84, 16, 275, 29], [900, 70, 800, 1800, 300]),  # July-2018-like
        ([30, 70], [400, 100]),  # 2 x 2: no continuity correction
        ([5, 0, 7, 20], [50, 0, 40, 100]),  # a category empty on both sides is dropped
    ],
)
def test_chi2_matches_scipy(a, b):
    chi2, dof, p, v = chi2_mix(np.array(a), np.array(b))
    table = np.array([a, b])
    table = table[:, table.sum(axis=0) > 0]
    ref = stats.chi2_contingency(table, correction=False)
    assert chi2 == pytest.approx(ref[0], rel=1e-12)
    assert dof == ref[2]
    assert p == pytest.approx(ref[1], rel=1e-9)
    assert v == pytest.approx(np.sqrt(ref[0] / table.sum()), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_planted_one_month_break_is_found_and_named(seed):
    probs = [BASE] * 12
    probs[6] = _shifted(BASE, 0, 1, 0.18)  # July: arrests turn into summons
    res = find_breaks(_series(seed, probs=probs))
    flagged = res[res.flagged]
    assert list(flagged.month) == ["2018-07"]
    row = flagged.iloc[0]
    assert row.kind == "month"
    assert {m["category"] for m in row.moved} == {"arrest", "summons"}
    text = describe_break(row, unit="searches")
    assert text.startswith("July 2018:")
    assert "arrest fell" in text and "summons rose" in text
    # the Holm adjustment is the shared helper's, over every month tested
    months = res[res.kind == "month"]
    assert months.p_adjusted.to_numpy() == pytest.approx(holm(months.p_value.to_numpy()))


@pytest.mark.parametrize("seed", range(5))
def test_planted_step_is_found_at_its_month(seed):
    probs = [BASE] * 6 + [_shifted(BASE, 2, 3, 0.15)] * 6  # community resolutions -> NFA
    res = find_breaks(_series(seed, probs=probs))
    steps = res[(res.kind == "step") & res.flagged]
    assert list(steps.month) == ["2018-07"]
    step = steps.iloc[0]
    assert step.months == "2018-07..2018-12" and step.against == "2018-01..2018-06"
    assert step.fall_category == "community" and step.rise_category == "nfa"
    assert step["shift"] == pytest.approx(0.15, abs=0.03)
    # the step's statistic is the before/after 2 x K chi-square, Bonferroni over the splits
    mix = _series(seed, probs=probs)
    ref = stats.chi2_contingency(
        np.vstack([mix.iloc[6:].sum().to_numpy(), mix.iloc[:6].sum().to_numpy()]),
        correction=False,
    )
    assert step.chi2 == pytest.approx(ref[0])
    assert step.p_adjusted == pytest.approx(min(1.0, ref[1] * step_splits(12)))
    assert not res[(res.kind == "month") & res.flagged].shape[0]


def step_splits(n: int, side: int = 2) -> int:
    return n - 2 * side + 1


def test_stable_series_are_not_flagged_over_many_seeds():
    flagged = [int(find_breaks(_series(seed, size=2000)).flagged.sum()) for seed in range(30)]
    assert sum(flagged) == 0
    # without the size rule only the p-value decides: at alpha 0.001 (Holm over 12 months,
    # Bonferroni over the splits) chance alone flags almost nothing either
    loose = BreakRule(min_shift=0.0)
    chance = [int(find_breaks(_series(seed, size=2000), loose).flagged.sum()) for seed in range(30)]
    assert sum(chance) <= 2


def test_size_rule_keeps_big_sample_drift_unflagged():
    probs = [BASE] * 12
    probs[6] = _shifted(BASE, 0, 3, 0.03)  # a real but small (3-point) change
    res = find_breaks(_series(1, size=20000, probs=probs))
    july = res[(res.kind == "month") & (res.month == "2018-07")].iloc[0]
    assert july.p_adjusted < 0.001  # significant with 20,000 records a month
    assert not july.flagged  # but not 10 points: not a recording break
    assert res[res.kind == "month"].flagged.sum() == 0


def test_gap_between_blocks_is_not_a_break():
    rng = np.random.default_rng(3)
    first = pd.DataFrame(
        [rng.multinomial(1000, BASE) for _ in range(4)], index=_months(4, "2024-01"), columns=CATS
    )
    moved = _shifted(BASE, 2, 3, 0.15)
    second = pd.DataFrame(
        [rng.multinomial(1000, moved) for _ in range(12)],
        index=_months(12, "2025-01"),
        columns=CATS,
    )
    res = find_breaks(pd.concat([first, second]))
    assert not res.flagged.any()
    steps = res[res.kind == "step"]
    assert (steps.months.str[:4] == steps.against.str[:4]).all()  # no step spans the gap
    # the same counts as if the months ran on: now the change between them is a step
    joined = pd.concat([first, second])
    joined.index = _months(16, "2024-01")
    res = find_breaks(joined)
    assert list(res[(res.kind == "step") & res.flagged].month) == ["2024-05"]


def test_kent_street_category_mix(kent_store, shared_data):
    """Real Kent street files, 2024-01..04 and 2025-01..12: what the test flags, checked."""
    res = street_category_breaks(kent_store, force="Kent Police")
    s = res.summary
    assert s["blocks"] == 2 and s["months"] == 16
    table = res.table
    # no test compares across the gap
    steps = table[table.kind == "step"]
    for row in steps.itertuples():
        assert row.months[:4] == row.against[:4], row
    assert "2 separate blocks" in " ".join(res.notes)
    # the mix agrees with an independent count of the files (month x crime type shares)
    raw = pd.concat(
        pd.read_csv(p, usecols=["Month", "Crime type"])
        for p in sorted((shared_data / "police" / "kent" / "street").glob("*.csv.gz"))
    )
    ours = res.tables["mix"].set_index("month")
    theirs = pd.crosstab(raw["Month"], raw["Crime type"]).reindex_like(ours)
    share_gap = (ours.div(ours.sum(axis=1), axis=0) - theirs.div(theirs.sum(axis=1), axis=0)).abs()
    assert share_gap.max().max() < 0.005  # out-of-area rows are the only difference
    # one month's statistic against scipy on the independent counts
    row = table[(table.kind == "month") & (table.month == "2025-07")].iloc[0]
    block = theirs.loc[[m for m in theirs.index if m.startswith("2025")]]
    ref = stats.chi2_contingency(
        np.vstack([block.loc["2025-07"], block.drop(index="2025-07").sum()]), correction=False
    )
    assert row.chi2 == pytest.approx(ref[0], rel=0.05)
    # the flags are exactly the rule applied to the tests (whatever the data say)
    rule = BreakRule()
    expected = (table.p_adjusted < rule.alpha) & (table["shift"] >= rule.min_shift)
    assert (table.flagged == expected).all()
    assert s["breaks"] == int(expected.sum())
    # Kent 2024-25: every month differs from the others beyond chance, none by 10 points
    months = table[table.kind == "month"]
    assert (months.p_adjusted < 0.05).mean() > 0.5
    assert s["breaks"] == 0 and months["shift"].max() < rule.min_shift


def test_report_section_on_street_recording_breaks(kent_store):
    from datetime import date

    from report_helpers import one_section_report

    report = one_section_report(
        kent_store, "recording_breaks", "public", date(2024, 1, 1), date(2025, 12, 1)
    )
    sec = report.sections[0].section
    assert "no month where the mix of crime categories changed" in sec.html
    assert "street_category_mix" in sec.tables
    assert any("separate blocks" in n for n in sec.notes)
    assert "Bonferroni" in sec.method and "10 percentage points" in sec.method
