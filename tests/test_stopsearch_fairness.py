"""Fairness on the real Kent 2018 searches: outcome test, disproportionality and agreement,
checked against statsmodels, scipy and sklearn on an independent count of the CSVs."""

from __future__ import annotations

import csv
import gzip
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from harmscope.analysis import stopsearch as ss
from harmscope.errors import HarmscopeError

SHARED = Path(os.environ.get("HARMSCOPE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
KENT_STOP_SEARCH = sorted((SHARED / "data/police/kent/stop-and-search").glob("*.csv.gz"))


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for path in KENT_STOP_SEARCH:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            out.extend(csv.DictReader(fh))
    assert len(out) == 6217
    return out


def _self_broad(value: str) -> str:
    prefixes = {
        "White": "White",
        "Black": "Black",
        "Asian": "Asian",
        "Mixed": "Mixed",
        "Other": "Other",
    }
    if not value or "Not stated" in value:
        return "Not stated"
    return prefixes[value.split("/")[0].split(" ")[0]]


def test_hit_rate_test_matches_statsmodels_and_scipy(kent_store, rows):
    res = ss.hit_rate_test(kent_store, "2018-01", "2018-12", by="officer_defined_ethnicity")
    table = res.table.set_index("group")
    n = Counter(r["Officer-defined ethnicity"] or "Not stated" for r in rows)
    k = Counter(
        r["Officer-defined ethnicity"] or "Not stated"
        for r in rows
        if r["Outcome linked to object of search"] == "True"
    )
    assert table.searches.to_dict() == dict(n)
    assert table.finds.to_dict() == {g: k.get(g, 0) for g in n}
    assert res.summary["reference"] == "White"
    for group in ("Asian", "Black", "Mixed", "Other"):
        z, p = proportions_ztest([k[group], k["White"]], [n[group], n["White"]])
        assert table.loc[group, "z"] == pytest.approx(z)
        assert table.loc[group, "p_value"] == pytest.approx(p)
        low, high = confint_proportions_2indep(
            k[group], n[group], k["White"], n["White"], method="newcomb"
        )
        assert table.loc[group, "difference_low"] == pytest.approx(low)
        assert table.loc[group, "difference_high"] == pytest.approx(high)
    tested = ["Asian", "Black", "Mixed", "Other", "White"]
    chi2, p, dof, _ = stats.chi2_contingency(
        [[k[g], n[g] - k[g]] for g in tested], correction=False
    )
    assert res.summary["chi2"] == pytest.approx(chi2)
    assert res.summary["chi2_p_value"] == pytest.approx(p)
    assert res.summary["chi2_dof"] == dof == 4
    assert not table.loc["Not stated", "tested"]
    assert np.isnan(table.loc["Not stated", "p_value"])


def test_hit_rate_by_age_and_action_base(kent_store):
    res = ss.hit_rate_test(kent_store, by="age_range", base="action")
    t = res.table.set_index("group")
    assert res.summary["reference"] == "18-24"  # the largest group
    assert (t.finds <= t.searches).all()
    with pytest.raises(HarmscopeError, match="by"):
        ss.hit_rate_test(kent_store, by="month")
    with pytest.raises(HarmscopeError, match="reference"):
        ss.hit_rate_test(kent_store, reference="Martian")


def test_disproportionality_without_population_says_why(kent_store):
    res = ss.disproportionality(kent_store, "2018-01", "2018-12")
    assert res.summary["ratios_available"] is False
    assert "ratio_black" not in res.summary
    assert any("no population table was supplied" in n and "--population" in n for n in res.notes)


def test_disproportionality_with_population_file(kent_store, rows, tmp_path):
    # Synthetic figures for the test only (their source column says so).
    pop = {"Asian": 60000, "Black": 30000, "Mixed": 35000, "Other": 12000, "White": 1700000}
    path = tmp_path / "pop.csv"
    path.write_text(
        "ethnicity,population,source\n"
        + "".join(f'{g},"{v:,}",synthetic test figure\n' for g, v in pop.items()),
        encoding="utf-8",
    )
    res = ss.disproportionality(kent_store, "2018-01", "2018-12", population=path)
    t = res.table.set_index("ethnicity")
    counts = Counter(_self_broad(r["Self-defined ethnicity"]) for r in rows)
    for g in pop:
        assert t.loc[g, "searches"] == counts[g]
        assert t.loc[g, "per_1000"] == pytest.approx(counts[g] / pop[g] * 1000)
    white = counts["White"] / pop["White"]
    ratio = counts["Black"] / pop["Black"] / white
    assert res.summary["ratio_black"] == pytest.approx(ratio)
    se = np.sqrt(1 / counts["Black"] + 1 / counts["White"])
    assert res.summary["ratio_black_ci"] == pytest.approx(
        [ratio * np.exp(-1.959963984540054 * se), ratio * np.exp(1.959963984540054 * se)]
    )
    assert res.summary["not_stated_searches"] == counts["Not stated"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("ethnicity,population\nWhite,10\n", "source"),
        ("ethnicity,population,source\nWhite,10,x\nMartian,5,x\n", "Martian"),
        ("ethnicity,population,source\nWhite,ten,x\n", "positive number"),
        ("ethnicity,population,source\nBlack,10,x\n", "White"),
        ("ethnicity,population,source\nWhite,10,\n", "source"),
    ],
)
def test_population_file_errors_name_the_problem(tmp_path, text, match):
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HarmscopeError, match=match) as info:
        ss.load_population(path)
    assert "--population" in str(info.value) and "Fix:" in str(info.value)


def test_ethnicity_agreement_kappa_matches_sklearn(kent_store, rows):
    res = ss.ethnicity_agreement(kent_store, "2018-01", "2018-12")
    self_lab = [_self_broad(r["Self-defined ethnicity"]) for r in rows]
    officer = [r["Officer-defined ethnicity"] or "Not stated" for r in rows]
    assert res.summary["kappa"] == pytest.approx(cohen_kappa_score(self_lab, officer), abs=1e-12)
    both = [(a, b) for a, b in zip(self_lab, officer, strict=True) if "Not stated" not in (a, b)]
    assert res.summary["searches_both_stated"] == len(both)
    assert res.summary["kappa_stated_only"] == pytest.approx(
        cohen_kappa_score([a for a, _ in both], [b for _, b in both]), abs=1e-12
    )
    xtab = res.table.set_index("self_defined")
    assert xtab.loc["Black", "Black"] == sum(
        a == "Black" and b == "Black" for a, b in zip(self_lab, officer, strict=True)
    )
    assert int(xtab.to_numpy().sum()) == 6217
    low, high = res.summary["kappa_ci"]
    assert low < res.summary["kappa"] < high
