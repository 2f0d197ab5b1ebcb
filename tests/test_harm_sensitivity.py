"""Weight sensitivity of harm (issue 19, finding 5): shares and rankings under every plausible
weighting, and the conclusions that survive all of them.

The shares are checked against counts read from the real Kent 2025 street files with pandas and
weights read from the packaged CSV columns, not against the analysis's own numbers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import KENT_STREET
from harmscope.analysis.harm import conclusions, weight_sensitivity
from harmscope.errors import HarmscopeError
from harmscope.reference import offences as off

VSO = "Violence and sexual offences"
PERIOD = {"area": "Kent Police", "date_from": "2025-01", "date_to": "2025-12"}


@pytest.fixture(scope="module")
def res(kent_store):
    return weight_sensitivity(kent_store, **PERIOD)


@pytest.fixture(scope="module")
def raw_counts() -> pd.Series:
    """Crimes by type in the twelve 2025 Kent street files, read with pandas."""
    files = [f for f in KENT_STREET if f.name.startswith("2025-")]
    assert len(files) == 12
    df = pd.concat(pd.read_csv(f, usecols=["Crime type"]) for f in files)
    return df["Crime type"].value_counts()


def _packaged(scheme: str) -> pd.DataFrame:
    """The category rows of the packaged weights CSV, read directly."""
    path = Path(off.__file__).parent / "data" / "offences" / f"weights_{scheme}.csv"
    t = pd.read_csv(path)
    return t[t.level == "category"].set_index("key")[["weight", "weight_low", "weight_high"]]


def _expected_weights(scheme: str, variant: str) -> pd.Series:
    t = _packaged(scheme)
    focus, rest = {
        "central": ("weight", "weight"),
        "low": ("weight_low", "weight_low"),
        "high": ("weight_high", "weight_high"),
        "for": ("weight_high", "weight_low"),
        "against": ("weight_low", "weight_high"),
    }[variant]
    w = t[rest].copy()
    w[VSO] = t.loc[VSO, focus]
    return w


def test_shares_are_counts_times_weights_from_the_raw_files(res, raw_counts):
    shares = res.tables["shares"].set_index("category")
    # the store leaves out the few rows flagged outside the force area (50 of 180,022 here)
    held = res.table.set_index("category")["count"]
    assert 0 < raw_counts.sum() - held.sum() <= 0.0005 * raw_counts.sum()
    assert len(shares.columns) == 10
    for scenario in shares.columns:
        scheme, variant = scenario.split("_")
        w = _expected_weights(scheme, variant)
        harm = raw_counts * w.reindex(raw_counts.index)
        expected = harm / harm.sum()
        got = shares[scenario].reindex(expected.index)
        np.testing.assert_allclose(got, expected, atol=5e-4, err_msg=scenario)
    # the headline figure the issue quotes: 72% of harm from violence with the central CSS
    assert shares.loc[VSO, "css_central"] == pytest.approx(0.717, abs=0.002)


def test_ranges_contain_the_central_values(res):
    t = res.table
    for col in ("share_css_central", "share_chi_central"):
        assert (t.share_min <= t[col] + 1e-12).all() and (t[col] <= t.share_max + 1e-12).all()
    assert (t.rank_best <= t.rank_central).all() and (t.rank_central <= t.rank_worst).all()
    s = res.summary
    assert s["focus_share_min"] <= s["focus_share_central"] <= s["focus_share_max"]
    d = res.tables["districts"]
    assert len(d) == 13 and (d.rank_best <= d.rank_central).all()
    assert (d.rank_central <= d.rank_worst).all()


def test_mixed_extremes_bound_every_combination_of_bounds(res, raw_counts):
    """Planted truth: the focus share under any mix of low/high bounds lies between the two
    mixed extremes (checked over 2,000 seeded random mixes per scheme)."""
    shares = res.tables["shares"].set_index("category").loc[VSO]
    rng = np.random.default_rng(19)
    for scheme in ("css", "chi"):
        t = _packaged(scheme).reindex(raw_counts.index)
        lo, hi = t.weight_low.to_numpy(), t.weight_high.to_numpy()
        n = raw_counts.to_numpy(float)
        pick = rng.random((2000, len(n))) < 0.5
        w = np.where(pick, hi, lo)
        harm = w * n
        focus = harm[:, list(raw_counts.index).index(VSO)] / harm.sum(axis=1)
        assert focus.min() >= shares[f"{scheme}_against"] - 1e-3
        assert focus.max() <= shares[f"{scheme}_for"] + 1e-3


def test_a_conclusion_survives_only_if_it_holds_in_every_scenario():
    shares = pd.DataFrame(
        {
            "s1": [0.6, 0.3, 0.1, 0.0],
            "s2": [0.5, 0.4, 0.1, 0.0],
            "s3": [0.4, 0.45, 0.15, 0.0],  # B overtakes A here
        },
        index=["A", "B", "C", "Anti-social behaviour"],
    )
    out = conclusions(shares, focus="A").set_index("claim")
    largest = out[out.index.str.contains("largest share")]
    assert len(largest) == 1 and not largest.holds.iloc[0]
    assert "B" in largest.detail.iloc[0]
    half = out[out.index.str.contains("more than half")]
    assert not half.holds.iloc[0] and "40%" in half.detail.iloc[0]
    # drop the scenario where it fails: now it survives, with the range in its words
    ok = conclusions(shares[["s1", "s2"]], focus="A")
    row = ok[ok.claim.str.contains("largest share")].iloc[0]
    assert row.holds and "(50% to 60%)" in row.claim
    districts = pd.DataFrame(
        {"s1": [9, 8, 7, 1], "s2": [9, 8, 7, 1], "s3": [9, 1, 7, 8]},
        index=["D1", "D2", "D3", "D4"],
    )
    d = conclusions(shares[["s1", "s2"]], districts[["s1", "s2"]], focus="A")
    assert d[d.claim.str.contains("top 3 districts")].holds.iloc[0]
    d = conclusions(shares[["s1", "s2"]], districts, focus="A")
    top3 = d[d.claim.str.contains("top 3 districts")].iloc[0]
    assert not top3.holds and "D4" in top3.detail
    assert d[d.claim.str.contains("D1 has the most harm")].holds.iloc[0]


def test_real_conclusions_and_the_two_uncertainties(res):
    c = res.tables["conclusions"]
    shares = res.tables["shares"].set_index("category").drop(index=off.ASB)
    # recomputed here from the shares table: which claims are true in every column
    assert (shares.idxmax() == VSO).all()
    assert c[c.claim.str.startswith(f"{VSO} is the largest share")].holds.iloc[0]
    assert c[c.claim.str.contains("more than half")].holds.iloc[0] == bool(
        (shares.loc[VSO] > 0.5).all()
    )
    s = res.summary
    for scheme in ("css", "chi"):
        b = s["harm_by_scheme"][scheme]
        lo, hi = b["harm_central_ci"]
        assert lo < b["harm_central"] < hi
        assert hi - lo < 0.1 * (b["harm_max"] - b["harm_min"])  # noise << weight choice
    assert "counting noise only" in s["uncertainty"]
    assert "wider uncertainty" in res.method or "much wider" in res.method


def test_an_area_is_required(kent_store):
    with pytest.raises(TypeError):
        weight_sensitivity(kent_store)  # no silent default
    with pytest.raises(HarmscopeError, match="needs an area"):
        weight_sensitivity(kent_store, area=None)


def test_bounds_in_the_weights_files():
    for scheme in ("css", "chi"):
        t = off.load_weights(scheme).set_index("category")
        assert (t.weight_low <= t.weight + 1e-9).all() and (t.weight <= t.weight_high + 1e-3).all()
    sub = off.load_weights("css", level="subgroup").set_index("key")
    rape = sub.loc["Rape"]
    assert rape.status == "estimate" and "inference" in rape.derivation
    assert (rape.weight_low, rape.weight, rape.weight_high) == (1825, 3229.46, 3905.26)
    # CSS category bounds: the volume-weighted mean of the sub-group bounds (VSO's low also
    # scaled by the lightest published force mix, 159.07 / 240.4839)
    vols = off.load_subgroups()
    cats = off.load_weights("css").set_index("category")
    for cat, part in vols.groupby("police_category"):
        v = part.set_index("subgroup").volume_ew
        lo = (sub.loc[v.index, "weight_low"] * v).sum() / v.sum()
        hi = (sub.loc[v.index, "weight_high"] * v).sum() / v.sum()
        if cat == VSO:
            lo *= 159.07 / 240.4839
        assert cats.loc[cat, "weight_low"] == pytest.approx(lo, abs=0.01), cat
        assert cats.loc[cat, "weight_high"] == pytest.approx(hi, abs=0.01), cat


def test_headline_gives_the_violence_share_as_a_range(kent_store, raw_counts):
    from report_helpers import one_section_report

    rep = one_section_report(
        kent_store,
        "profile_headline",
        "internal",
        date(2025, 1, 1),
        date(2025, 12, 1),
        area="Kent Police",
    )
    html = rep.sections[0].section.html
    shares = []
    for scheme in ("css", "chi"):
        for variant in ("central", "low", "high", "for", "against"):
            harm = raw_counts * _expected_weights(scheme, variant).reindex(raw_counts.index)
            shares.append(harm[VSO] / harm.sum())
    assert f"{min(shares):.0%} to {max(shares):.0%}" in html
    assert "True under every choice of weights" in html
    assert "share of harm from violence and sexual offences, over every weighting" in html


def test_cli_sensitivity(kent_store_path, capsys, tmp_path):
    from harmscope.cli import main

    args = ["harm", "--sensitivity", "--db", str(kent_store_path), "--area", "Kent Police"]
    args += ["--from", "2025-01", "--to", "2025-12"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["claim"] for r in doc["conclusions"]} and doc["districts"]
    assert doc["summary"]["focus_share_min"] < doc["summary"]["focus_share_max"]
    assert main([*args, "--json", "--audience", "public"]) == 0
    pub = json.loads(capsys.readouterr().out)
    assert "districts" not in pub and any("districts" in w for w in pub["withheld"])
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Conclusions that hold under every weighting" in text and "Poisson" in text
    out = tmp_path / "sens.xlsx"
    assert main([*args, "--quiet", "--audience", "public", "--out", str(out)]) == 0
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"README", "table", "scenarios", "conclusions"} <= set(sheets)
    assert "districts" not in sheets and len(sheets["scenarios"]) == 10
