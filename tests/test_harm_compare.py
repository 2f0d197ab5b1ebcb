"""Rural/urban, deprivation gradient and force comparison, on the real data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import COMPARISON_STREET, KENT_STREET, ROOT
from harmscope.analysis.harm.compare import compare_forces, deprivation_gradient, rural_urban
from harmscope.errors import HarmscopeError
from harmscope.reference.offences import load_weights
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

MONTHS = ("2025-01", "2025-02")
SLUGS = {"Kent Police": "kent", "Essex Police": "essex", "Sussex Police": "sussex"}


@pytest.fixture(scope="module")
def three_forces(tmp_path_factory):
    """Kent, Essex and Sussex street files for two months (a small real store)."""
    files = [p for p in [*KENT_STREET, *COMPARISON_STREET] if p.name[:7] in MONTHS]
    assert len(files) == 6
    path = tmp_path_factory.mktemp("forces") / "forces.duckdb"
    with Store.open(path) as store:
        assert ingest_paths(store, files, quiet=True).ok
    store = Store.open(path, read_only=True)
    yield store, files
    store.close()


def _independent_force_totals(files) -> pd.DataFrame:
    """Counts, harm and population per force straight from the CSVs and lad.csv."""
    lad = pd.read_csv(ROOT / "src/harmscope/reference/data/geography/lad.csv", dtype=str)
    w = load_weights("css").set_index("category").weight
    out = []
    for force, slug in SLUGS.items():
        sub = lad[lad.force == force]
        names = (
            set(sub.lad_name)
            | {n for a in sub.alt_names.dropna() for n in a.split("|")}
            | {"Shepway"}
        )
        paths = ", ".join(f"'{p}'" for p in files if f"-{slug}-" in p.name)
        df = duckdb.sql(
            f'SELECT "Crime type" AS ct, "LSOA name" AS ln FROM read_csv([{paths}], all_varchar=true)'
        ).df()
        district = df.ln.str.replace(r"\s+\S+$", "", regex=True)
        df = df[df.ln.isna() | district.isin(names)]
        out.append(
            {
                "force": force,
                "count": len(df),
                "harm": float(df.ct.map(w).sum()),
                "population": float(sub.population_2019.astype(float).sum()),
            }
        )
    return pd.DataFrame(out).set_index("force")


def test_compare_forces_rates_match_the_csvs(three_forces):
    store, files = three_forces
    res = compare_forces(store, ["Kent Police", "Essex Police", "Sussex Police"])
    exp = _independent_force_totals(files)
    got = res.table.set_index("force")
    assert list(got.index) == ["Kent Police", "Essex Police", "Sussex Police"]
    assert res.summary["months"] == list(MONTHS)
    for force in SLUGS:
        assert got.loc[force, "count"] == exp.loc[force, "count"]
        # The store sums ~300,000 float weights in parallel, in no fixed order: the rounding
        # error of such a sum is bounded by n * eps ~ 3e-11 relative (seen: 1.1e-12), so
        # 1e-10 still catches one crime more or less of any weighted category (> 1e-8).
        assert got.loc[force, "harm"] == pytest.approx(exp.loc[force, "harm"], rel=1e-10)
        assert got.loc[force, "population"] == exp.loc[force, "population"]
        rate = exp.loc[force, "harm"] / exp.loc[force, "population"] * 1000
        assert got.loc[force, "harm_rate_per_1000"] == pytest.approx(rate)
        assert got.loc[force, "harm_rate_ci_low"] < rate < got.loc[force, "harm_rate_ci_high"]
    essex = got.loc["Essex Police"]
    ratio = (exp.loc["Essex Police", "harm"] / exp.loc["Essex Police", "population"]) / (
        exp.loc["Kent Police", "harm"] / exp.loc["Kent Police", "population"]
    )
    assert essex.harm_ratio == pytest.approx(ratio)
    assert essex.harm_ratio_ci_low < ratio < essex.harm_ratio_ci_high
    assert got.loc["Kent Police", "count_ratio"] == 1.0
    assert np.isnan(got.loc["Kent Police", "harm_ratio_ci_low"])
    assert "1,860,111" in res.method  # Kent's 2019 population, stated in the method
    # fixed summary keys: per-force figures are rows of the table, never keys named after a force
    fixed = {
        "scheme",
        "forces",
        "months",
        "reference_force",
        "highest_harm_rate_force",
        "highest_harm_rate_per_1000",
    }
    assert set(res.summary) == fixed
    rates = {f: exp.loc[f, "harm"] / exp.loc[f, "population"] * 1000 for f in SLUGS}
    assert res.summary["highest_harm_rate_force"] == max(rates, key=rates.get)
    assert res.summary["highest_harm_rate_per_1000"] == pytest.approx(max(rates.values()))
    two = compare_forces(store, ["Sussex Police", "Kent Police"])
    assert set(two.summary) == fixed and two.summary["reference_force"] == "Sussex Police"
    with pytest.raises(HarmscopeError, match="not a police force"):
        compare_forces(store, ["Kent Police", "Maidstone"])


def test_rural_urban_rate_ratio(kent_store):
    res = rural_urban(kent_store, area="Kent Police", date_from="2025-01", date_to="2025-06")
    t = res.table.set_index("urban_rural")
    assert set(t.index) == {"urban", "rural"}
    assert t.lsoas.sum() == 1065
    # with one binary covariate and a log-population offset the Poisson MLE rate ratio is the
    # ratio of the pooled rates; the quasi-Poisson scale only widens the interval
    for m, col in (("count", "rate_per_1000"), ("harm", "harm_rate_per_1000")):
        rr = t.loc["rural", col] / t.loc["urban", col]
        assert res.summary[f"rural_vs_urban_{m}_rate_ratio"] == pytest.approx(rr, rel=1e-6)
        lo, hi = res.summary[f"rural_vs_urban_{m}_rate_ratio_ci"]
        assert lo < rr < hi
        assert res.summary[f"{m}_dispersion"] > 1
    naive = np.sqrt(1 / t.loc["rural", "count"] + 1 / t.loc["urban", "count"])
    lo, hi = res.summary["rural_vs_urban_count_rate_ratio_ci"]
    assert np.log(hi / lo) / (2 * 1.96) > naive  # wider than the pure-Poisson interval
    assert "ruc_class" in res.tables


def test_deprivation_gradient(kent_store):
    res = deprivation_gradient(
        kent_store, area="Kent Police", date_from="2025-01", date_to="2025-06"
    )
    t = res.table.set_index("imd_decile")
    assert list(t.index) == list(range(1, 11))
    ratio = t.loc[1, "harm_rate_per_1000"] / t.loc[10, "harm_rate_per_1000"]
    assert res.summary["harm_most_vs_least_deprived_ratio"] == pytest.approx(ratio, rel=1e-6)
    lo, hi = res.summary["harm_rate_ratio_per_decile_ci"]
    assert lo < res.summary["harm_rate_ratio_per_decile"] < hi
    assert (t.harm_rate_ci_low < t.harm_rate_per_1000).all()
    assert "deprivation" in res.charts
