"""Disclosure control, proven by an attacker: for every table hypothesis draws, no published
count is 1..threshold-1, and no hidden cell can be solved for from the published totals.

The attacker (tests/disclosure_attack.py, also run at scale by benchmarks/validate_disclosure.py)
is a linear programme (scipy linprog): the unknowns are every hidden cell and hidden margin, the
equations are every row/column/grand-total relation, and counts are non-negative. A hidden cell
whose minimum equals its maximum is recovered: a failure.
(A wider protection interval is not promised: the attacker may still bound a hidden cell.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

from disclosure_attack import attack, published_table
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import get_audience, is_checked, protect_table
from harmscope.privacy.disclosure import (
    protect_counts,
    protect_linked,
    protect_long,
    round_to_base,
)

tables = st.integers(1, 7).flatmap(
    lambda n: st.integers(1, 5).flatmap(
        lambda m: arrays(
            np.int64,
            (n, m),
            # mostly small counts, some zeros and some big ones: the hard case for suppression
            elements=st.one_of(st.integers(0, 6), st.integers(0, 60)),
        )
    )
)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=tables, threshold=st.sampled_from([3, 5, 10]))
def test_no_small_count_published_and_no_hidden_cell_recoverable(values, threshold):
    n, m = values.shape
    df = pd.DataFrame(values, columns=[f"c{j}" for j in range(m)])
    df["rate"] = df["c0"] / 1000
    prot = protect_counts(
        df, [f"c{j}" for j in range(m)], threshold=threshold, derived={"rate": "c0"}
    )
    pub = published_table(values, prot)

    shown = pub[~np.isnan(pub)]
    assert not ((shown >= 1) & (shown < threshold)).any(), "a small count was published"
    # Every true zero is shown unless it had to serve as a secondary cell; every shown value
    # is the true one.
    interior = pub[:n, :m]
    assert np.array_equal(interior[~np.isnan(interior)], values[~np.isnan(interior)])
    # Rates built from a hidden count are hidden.
    assert prot.frame["rate"].isna().equals(prot.frame["c0"].isna())

    for cell, (lo, hi) in attack(pub, m > 1).items():
        assert hi - lo > 1e-6, f"hidden cell {cell} recovered exactly ({lo})"


@settings(max_examples=30, deadline=None)
@given(values=tables)
def test_by_groups_are_separate_tables(values):
    n, m = values.shape
    df = pd.DataFrame(np.vstack([values, values]), columns=[f"c{j}" for j in range(m)])
    df["g"] = ["a"] * n + ["b"] * n
    prot = protect_counts(df, [f"c{j}" for j in range(m)], by="g")
    single = protect_counts(df.iloc[:n], [f"c{j}" for j in range(m)])
    # the same table twice gets the same pattern twice, and each group has its own margins
    assert prot.mask.iloc[:n].to_numpy().tolist() == single.mask.to_numpy().tolist()
    assert prot.mask.iloc[n:].to_numpy().tolist() == single.mask.to_numpy().tolist()
    assert set(prot.totals) == {"a", "b"}


def test_hand_example_two_way():
    # One small cell in a 3x3 table: its row and column need a partner, and the partners'
    # row/column then need one too, so four cells on a rectangle are hidden.
    df = pd.DataFrame({"x": [2, 20, 30], "y": [15, 25, 35], "z": [40, 50, 60]})
    prot = protect_counts(df, ["x", "y", "z"])
    hidden = prot.mask[["x", "y", "z"]].to_numpy()
    assert hidden.sum() == 4
    assert hidden[0, 0] and hidden.sum(axis=0).tolist().count(1) == 0
    assert all(k in (0, 2) for k in hidden.sum(axis=1))
    # the margins stay published because no total is small
    assert prot.totals[None].loc["Total"].notna().all()
    assert prot.primary == 1 and prot.secondary == 3


def test_zero_is_shown_and_threshold_edges():
    df = pd.DataFrame({"n": [0, 1, 4, 5, 9, 30]})
    prot = protect_counts(df, ["n"], totals=False)
    assert prot.frame["n"].tolist()[0] == 0
    assert prot.frame["n"].isna().tolist() == [False, True, True, False, False, False]
    prot10 = protect_counts(df, ["n"], threshold=10, totals=False)
    assert prot10.frame["n"].isna().tolist() == [False, True, True, True, True, False]


def test_one_way_single_small_cell_gets_a_partner():
    df = pd.DataFrame({"n": [3, 50, 7, 80]})
    prot = protect_counts(df, ["n"])
    assert prot.frame["n"].isna().tolist() == [True, False, True, False]


def test_long_table_matches_wide():
    rng = np.random.default_rng(7)
    wide = pd.DataFrame(rng.poisson(5, (8, 4)), columns=list("abcd"))
    wide.index.name = "area"
    long = wide.reset_index().melt(id_vars="area", var_name="cat", value_name="n")
    long["rate"] = long["n"] / 7.0
    pl = protect_long(long, "n", row="area", col="cat", derived={"rate": "n"})
    pw = protect_counts(wide.reset_index(), list("abcd"))
    back = pl.frame.pivot(index="area", columns="cat", values="n")
    assert back.isna().to_numpy().tolist() == pw.mask[list("abcd")].to_numpy().tolist()
    assert pl.frame["rate"].isna().equals(pl.frame["n"].isna())


def test_round_to_base():
    df = pd.DataFrame({"n": [0, 1, 2, 3, 7, 8, 12, 13], "rate": [0.1] * 8})
    out = round_to_base(df, ["n"], derived=["rate"])
    assert out["n"].tolist() == [0, 0, 0, 5, 5, 10, 10, 15]
    assert out["rate"].isna().all()
    assert all(v % 5 == 0 for v in out["n"])


def test_errors_name_the_argument():
    df = pd.DataFrame({"n": [1.5, 2]})
    with pytest.raises(HarmscopeError, match="not a count"):
        protect_counts(df, ["n"])
    with pytest.raises(HarmscopeError, match="--threshold"):
        protect_counts(pd.DataFrame({"n": [1]}), ["n"], threshold=1)
    with pytest.raises(HarmscopeError, match="not in the table"):
        protect_counts(pd.DataFrame({"n": [1]}), ["m"])
    with pytest.raises(HarmscopeError, match="--audience"):
        get_audience("press")


def test_audience_levels():
    df = pd.DataFrame({"area": list("abcd"), "n": [2, 40, 9, 60]})
    pub = protect_table(df, get_audience("public"), count_cols=["n"])
    assert is_checked(pub) and pub["n"].isna().sum() >= 2
    internal = protect_table(df, get_audience("internal"), count_cols=["n"])
    assert is_checked(internal) and internal["n"].tolist() == [2, 40, 9, 60]
    assert not get_audience("partner").event_level and get_audience("internal").event_level


def test_real_kent_district_by_category(kent_store):
    """The public district x crime-type table of a quiet month, attacked like the synthetic ones."""
    df = kent_store.query(
        """
        SELECT lad_name, crime_type, count(*) AS n FROM street_crimes
        WHERE month = DATE '2025-02-01' AND lad_name IS NOT NULL AND NOT coalesce(out_of_area, false)
          AND crime_type IN ('Robbery', 'Possession of weapons', 'Bicycle theft', 'Theft from the person')
        GROUP BY ALL
        """
    )
    wide = df.pivot_table(index="lad_name", columns="crime_type", values="n", fill_value=0)
    wide.columns = [f"c{j}" for j in range(wide.shape[1])]
    values = wide.to_numpy(dtype=np.int64)
    assert (values > 0).any() and ((values >= 1) & (values < 5)).any(), "expected small cells"
    prot = protect_counts(wide.reset_index(drop=True), list(wide.columns))
    pub = published_table(values, prot)
    shown = pub[~np.isnan(pub)]
    assert not ((shown >= 1) & (shown < 5)).any()
    for cell, (lo, hi) in attack(pub, True).items():
        assert hi - lo > 1e-6, f"{cell} recovered"


def _linked_margins(df, prot, groupings) -> list[tuple]:
    """One (unit indices, margin value or None when hidden, margin key, grouping) per group
    total the protected output publishes (or hides) for each grouping."""
    eqs = []
    for g in groupings:
        m = prot.margins[g].set_index(g)["n"]
        for label, total in m.items():
            members = np.nonzero(df[g].astype("string").fillna("(none)").to_numpy(object) == label)[
                0
            ]
            eqs.append((members, None if pd.isna(total) else float(total), (g, label), g))
    return eqs


def _linked_variables(unknown, eqs, prot) -> dict[tuple, int]:
    """Column of each unknown: hidden units, then hidden margins, then a hidden grand total."""
    var = {("u", i): k for k, i in enumerate(unknown)}
    for _members, total, key, _g in eqs:
        if total is None:
            var[("m", key)] = len(var)
    if prot.total is None:
        var[("t",)] = len(var)
    return var


def _margin_rows(eqs, shown, var) -> tuple[list, list]:
    """Each group total = the sum of its member units (visible units moved to the right)."""
    a_eq, b_eq = [], []
    for members, total, key, _g in eqs:
        row = np.zeros(len(var))
        rhs = 0.0
        for i in members:
            if np.isnan(shown[i]):
                row[var[("u", i)]] += 1
            else:
                rhs -= shown[i]
        if total is None:
            row[var[("m", key)]] -= 1
        else:
            rhs += total
        if row.any():  # an equation over visible figures only tells the attacker nothing
            a_eq.append(row)
            b_eq.append(rhs)
    return a_eq, b_eq


def _grand_total_rows(eqs, groupings, var, prot) -> tuple[list, list]:
    """For each grouping, its group totals add up to the grand total."""
    a_eq, b_eq = [], []
    for g in groupings:
        row = np.zeros(len(var))
        rhs = 0.0
        for _members, total, key, gg in eqs:
            if gg != g:
                continue
            if total is None:
                row[var[("m", key)]] += 1
            else:
                rhs -= total
        if prot.total is None:
            row[var[("t",)]] -= 1
        else:
            rhs += prot.total
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    return a_eq, b_eq


def _attack_linked(df, prot, groupings) -> dict[int, tuple[float, float]]:
    """LP attack on a unit table published with group totals for several groupings."""
    n = len(df)
    shown = prot.frame["n"].astype("Float64").to_numpy(float, na_value=np.nan)
    unknown = [i for i in range(n) if np.isnan(shown[i])]
    eqs = _linked_margins(df, prot, groupings)
    var = _linked_variables(unknown, eqs, prot)
    a_eq, b_eq = _margin_rows(eqs, shown, var)
    a_tot, b_tot = _grand_total_rows(eqs, groupings, var, prot)
    a_eq, b_eq = a_eq + a_tot, b_eq + b_tot
    out = {}
    for i in unknown:
        obj = np.zeros(len(var))
        obj[var[("u", i)]] = 1
        kw = {"A_eq": np.array(a_eq), "b_eq": b_eq} if a_eq else {}
        lo = linprog(obj, bounds=[(0, None)] * len(var), **kw)
        hi = linprog(-obj, bounds=[(0, None)] * len(var), **kw)
        assert lo.status == 0
        out[i] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 2), st.integers(0, 1), st.one_of(st.integers(0, 6), st.integers(0, 60))
        ),
        min_size=2,
        max_size=14,
    )
)
def test_linked_totals_do_not_give_a_unit_away(data):
    """LSOA-like units with totals by two crossing groupings (district, urban/rural)."""
    df = pd.DataFrame(data, columns=["district", "ur", "n"]).astype({"district": str, "ur": str})
    df["rate"] = df["n"] / 100
    prot = protect_linked(df, "n", ["district", "ur"], derived={"rate": "n"})
    shown = prot.frame["n"].astype("Float64").dropna().to_numpy(float)
    assert not ((shown >= 1) & (shown < 5)).any()
    for g in ("district", "ur"):
        m = prot.margins[g]["n"].astype("Float64").dropna().to_numpy(float)
        assert not ((m >= 1) & (m < 5)).any()
    assert prot.frame["rate"].isna().equals(prot.frame["n"].isna())
    for i, (lo, hi) in _attack_linked(df, prot, ["district", "ur"]).items():
        assert hi - lo > 1e-6, f"unit {i} recovered from the group totals ({lo})"


def test_linked_hand_example():
    # District A: one small LSOA among big ones. Alone it would need one partner in A; the
    # urban/rural totals cross the districts, so the partner must also be balanced there.
    df = pd.DataFrame(
        {
            "district": ["A", "A", "A", "B", "B", "B"],
            "ur": ["u", "r", "u", "u", "r", "r"],
            "n": [3, 40, 50, 60, 70, 80],
        }
    )
    prot = protect_linked(df, "n", ["district", "ur"])
    hidden = prot.frame["n"].isna()
    assert hidden.iloc[0] and hidden.sum() >= 4
    assert all(hidden[df.district == d].sum() != 1 for d in "AB")
    assert all(hidden[df.ur == u].sum() != 1 for u in "ur")
