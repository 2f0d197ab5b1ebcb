"""The problem profile's figures (analysis/profile.py) and the report's queries
(store/queries/report.py), each against an answer worked out independently here: by hand, with
the standard library, or with scipy's distributions directly."""

from __future__ import annotations

import math
from datetime import date
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmscope.analysis import profile

Z = NormalDist().inv_cdf(0.975)


def _monthly(values: dict[str, tuple[int, float, float]]) -> pd.DataFrame:
    """month -> (count, harm, harm_w2)."""
    return pd.DataFrame(
        [{"month": m, "count": c, "harm": h, "harm_w2": v} for m, (c, h, v) in values.items()]
    )


# ---------------------------------------------------------------------------------------------
# seasonal index


def test_seasonal_index_is_harm_over_its_complete_years_mean():
    months = {f"2024-{k:02d}": (k, 10.0 * k, 0.0) for k in range(1, 13)}
    months.update({"2025-01": (5, 50.0, 0.0), "2025-02": (7, 70.0, 0.0)})
    out = profile.seasonal_index(_monthly(months))
    full = out[out.year == "2024"].set_index("month_of_year")
    # harm 10..120: mean 65, so March (30) is 30/65
    assert full.loc["Mar", "seasonal_index"] == pytest.approx(30 / 65)
    assert full.loc["Dec", "seasonal_index"] == pytest.approx(120 / 65)
    assert full["seasonal_index"].mean() == pytest.approx(1.0)
    # 2025 holds two months: a mean of a part of a year is no seasonal baseline
    assert out[out.year == "2025"]["seasonal_index"].isna().all()
    assert list(out.columns) == [
        "year",
        "month_of_year",
        "month",
        "count",
        "harm",
        "seasonal_index",
    ]
    assert out.loc[out.month == "2025-02", "month_of_year"].item() == "Feb"


def test_seasonal_index_needs_all_twelve_months():
    months = {f"2024-{k:02d}": (1, 1.0, 0.0) for k in range(1, 12)}  # December missing
    assert profile.seasonal_index(_monthly(months))["seasonal_index"].isna().all()


# ---------------------------------------------------------------------------------------------
# same months a year before


def test_same_period_change_pools_paired_months_only():
    df = _monthly(
        {
            "2024-07": (100, 1000.0, 20000.0),
            "2024-08": (50, 400.0, 6000.0),
            "2025-07": (120, 1500.0, 30000.0),
            "2025-08": (60, 300.0, 3000.0),
            "2025-09": (999, 9999.0, 99999.0),  # no 2024-09: left out
        }
    )
    out = profile.same_period_change(df, "2025-07", "2025-09")
    r = out.iloc[0]
    assert r["months"] == "2025-07 to 2025-08"
    assert r["previous_months"] == "2024-07 to 2024-08"
    assert r["n_months"] == 2
    assert (r["count"], r["count_previous"]) == (180, 150)
    assert r["count_ratio"] == pytest.approx(180 / 150)
    se = math.sqrt(1 / 180 + 1 / 150)
    assert r["count_ratio_ci_low"] == pytest.approx(1.2 * math.exp(-Z * se))
    assert r["count_ratio_ci_high"] == pytest.approx(1.2 * math.exp(Z * se))
    h1, h0, v1, v0 = 1800.0, 1400.0, 33000.0, 26000.0
    se_h = math.sqrt(v1 / h1**2 + v0 / h0**2)
    assert r["harm_ratio"] == pytest.approx(h1 / h0)
    assert r["harm_ratio_ci_low"] == pytest.approx(h1 / h0 * math.exp(-Z * se_h))
    assert r["harm_ratio_ci_high"] == pytest.approx(h1 / h0 * math.exp(Z * se_h))


def test_same_period_change_is_empty_without_a_year_before():
    df = _monthly({"2025-07": (1, 1.0, 1.0), "2025-08": (2, 2.0, 2.0)})
    assert profile.same_period_change(df, "2025-07", "2025-08").empty


# ---------------------------------------------------------------------------------------------
# headline measures


def _cube() -> pd.DataFrame:
    # harm as the analysis weighted it (published weights may differ from the own weights)
    return pd.DataFrame(
        {
            "category": ["A", "A", "B", "C"],
            "count": [10, 20, 5, 0],
            "harm": [100.0, 150.0, 60.0, 0.0],
            "harm_w2": [1000.0, 1100.0, 720.0, 0.0],
            "w_max": [10.0, 10.0, 12.0, 0.0],
        }
    )


def test_headline_measures_rates_and_intervals():
    own = {"A": 8.0, "B": 12.0, "C": 3.0}
    out = profile.headline_measures(
        _cube(), own, 3000.0, [("all", None), ("A", ["A"]), ("A and C", ["A", "C"])]
    ).set_index("measure")
    per = 1000 / 3000
    # all crime: the analysis's own harm, summed
    assert out.loc["all", "count"] == 35
    assert out.loc["all", "harm"] == pytest.approx(310.0)
    assert out.loc["all", "share_of_harm"] == pytest.approx(1.0)
    assert out.loc["all", "rate_per_1000"] == pytest.approx(35 * per)
    # Garwood: exact Poisson limits from the chi-square distribution
    assert out.loc["all", "rate_ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 70) / 2 * per)
    assert out.loc["all", "rate_ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 72) / 2 * per)
    # a named category takes its own weight: 30 crimes x 8
    assert out.loc["A", "harm"] == pytest.approx(240.0)
    assert out.loc["A", "share_of_harm"] == pytest.approx(240 / 310)
    assert out.loc["A", "harm_rate_per_1000"] == pytest.approx(240 * per)
    # a category with no crimes adds nothing, not even a weight that could contribute
    assert out.loc["A and C", "harm"] == pytest.approx(240.0)
    # with one weight w, the Fay-Feuer interval is w times the Garwood interval of the count
    lo, hi = stats.chi2.ppf(0.025, 60) / 2, stats.chi2.ppf(0.975, 62) / 2
    assert out.loc["A", "harm_ci_low"] == pytest.approx(8 * lo)
    assert out.loc["A", "harm_ci_high"] == pytest.approx(8 * hi)
    assert out.loc["A", "harm_rate_ci_high"] == pytest.approx(8 * hi * per)
    assert list(out.reset_index().columns) == profile.HEADLINE_COLUMNS


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_headline_measures_without_population_give_no_rates():
    out = profile.headline_measures(_cube(), {"A": 1.0, "B": 1.0, "C": 1.0}, 0.0, [("all", None)])
    assert np.isnan(out["rate_per_1000"].iloc[0])
    assert out["count"].iloc[0] == 35


def test_area_population_counts_each_area_once():
    totals = pd.DataFrame({"area_code": ["E1", "E1", "E2"], "population": [100.0, 100.0, 50.0]})
    assert profile.area_population(totals) == 150.0


# ---------------------------------------------------------------------------------------------
# categories


def test_category_shares():
    weights = pd.DataFrame({"category": ["A", "B", "C"], "weight": [5.0, 12.0, 3.0]})
    out = profile.category_shares(_cube(), weights)
    assert out["category"].tolist() == ["A", "B", "C"]  # most harm first
    a = out.set_index("category")
    assert a.loc["A", "count"] == 30 and a.loc["A", "harm"] == pytest.approx(250.0)
    assert a.loc["B", "count_share"] == pytest.approx(5 / 35)
    assert a.loc["B", "harm_share"] == pytest.approx(60 / 310)
    assert a.loc["B", "weight"] == 12.0


def test_published_category_shares_hide_what_is_suppressed():
    cats = pd.DataFrame({"category": ["A", "B", "C"], "weight": [2.0, 10.0, 1.0]})
    counts = pd.DataFrame({"category": ["A", "B", "C"], "count": pd.array([40, None, 30], "Int64")})
    out = profile.published_category_shares(cats, counts, total_count=100, total_harm=200.0)
    assert out["category"].tolist() == ["A", "C", "B"]  # the suppressed row last
    a = out.set_index("category")
    assert a.loc["A", "harm"] == pytest.approx(80.0)
    assert a.loc["A", "harm_share"] == pytest.approx(0.4)
    assert a.loc["C", "count_share"] == pytest.approx(0.3)
    assert pd.isna(a.loc["B", "harm"]) and pd.isna(a.loc["B", "harm_share"])


# ---------------------------------------------------------------------------------------------
# small figures of the front page and the district ranking


def test_coverage_figures():
    placement = pd.DataFrame(
        {
            "placement": [
                "no location (not placed)",
                "location but not placed",
                "placed by point in 2011 LSOA polygon (2021-only code)",
                "placed by its 2011 LSOA code",
            ],
            "rows": [7, 3, 11, 100],
        }
    )
    outcomes = pd.DataFrame(
        {
            "outcome_status": ["Under investigation", "final outcome recorded", "Awaiting"],
            "rows": [30, 60, 10],
        }
    )
    got = profile.coverage_figures(placement, outcomes, ("Under investigation", "Awaiting"))
    assert (got["unplaced"], got["placed_by_point"]) == (10, 11)
    assert got["pending_share"] == pytest.approx(0.4)
    assert (
        profile.coverage_figures(placement, outcomes.iloc[1:2], ["Awaiting"])["pending_share"]
        is None
    )


def test_count_ratio_ci():
    lo, hi = profile.count_ratio_ci(100, 100)
    assert lo == pytest.approx(math.exp(-1.96 * math.sqrt(0.02)))
    assert hi == pytest.approx(math.exp(1.96 * math.sqrt(0.02)))
    assert profile.count_ratio_ci(0, 5) is None


def test_overlapping_neighbours():
    ranked = pd.DataFrame(
        {"harm_rate_ci_low": [50.0, 40.0, 10.0], "harm_rate_ci_high": [70.0, 55.0, 20.0]}
    )
    # 50 <= 55 overlaps; 40 > 20 does not
    assert profile.overlapping_neighbours(ranked) == 1


# ---------------------------------------------------------------------------------------------
# the report's queries


@pytest.fixture()
def small_store():
    from harmscope.store import Store

    store = Store.open(":memory:")
    rows = [
        # month, falls_within, lad_code, lsoa_code, longitude, placed_by, out_of_area, outcome
        ("2025-01-01", "Kent Police", "E1", "L1", 0.1, "lsoa_code", False, "Under investigation"),
        ("2025-01-01", "Kent Police", "E1", None, None, None, False, None),
        ("2025-02-01", "Kent Police", "E1", "L2", 0.2, "point", False, "Offender fined"),
        ("2025-02-01", "Kent Police", "E1", "L2", 0.2, "point", True, "Offender fined"),
        ("2025-02-01", "Essex Police", "E9", "L9", 0.9, "lsoa_code", False, None),
    ]
    cols = store.query("SELECT * FROM street_crimes LIMIT 0").columns
    for k, (month, force, lad, lsoa, lon, placed, out, outcome) in enumerate(rows):
        values = {
            "month": month,
            "falls_within": force,
            "lad_code": lad,
            "lsoa_code": lsoa,
            "longitude": lon,
            "placed_by": placed,
            "out_of_area": out,
            "last_outcome_category": outcome,
            "crime_type": "Robbery",
            "source_id": k,
        }
        present = {c: v for c, v in values.items() if c in cols}
        names = ", ".join(present)
        marks = ", ".join("?" for _ in present)
        store.con.execute(
            f"INSERT INTO street_crimes ({names}) VALUES ({marks})", list(present.values())
        )
    yield store
    store.close()


def test_report_queries_count_what_was_inserted(small_store):
    from harmscope.store.queries import report as q

    kent = SimpleNamespace(where="s.falls_within = ?", params=["Kent Police"])
    assert q.street_count(small_store, kent) == 4
    assert q.street_span(small_store, kent) == ("2025-01", "2025-02")
    none = SimpleNamespace(where="s.falls_within = ?", params=["Nowhere"])
    assert q.street_span(small_store, none) is None
    per = q.rows_per_month(small_store, kent)
    assert per.to_dict("list") == {"month": ["2025-01", "2025-02"], "rows": [2, 2]}
    placed = q.placement_counts(small_store, "Kent Police", date(2025, 1, 1), date(2025, 2, 1))
    got = dict(zip(placed.placement, placed.rows, strict=True))
    assert got == {
        "placed by its 2011 LSOA code": 1,
        "no location (not placed)": 1,
        "placed by point in 2011 LSOA polygon (2021-only code)": 1,
        "outside the force area (left out)": 1,
    }
    out = q.outcome_status_by_month(small_store, kent, ("Under investigation",))
    got = {(m, s): n for m, s, n in out.itertuples(index=False)}
    assert got == {
        ("2025-01", "Under investigation"): 1,
        ("2025-01", "no outcome (anti-social behaviour)"): 1,
        ("2025-02", "final outcome recorded"): 2,
    }
    assert [str(m.date()) for m in q.street_months(small_store)] == ["2025-01-01", "2025-02-01"]
    assert not q.has_people_crimes(small_store)
