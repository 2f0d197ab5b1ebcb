"""Harm on the real Kent data, checked against sums computed straight from the CSV files."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import KENT_STREET
from harmscope.analysis import harm as H
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.reference.offences import load_weights

KENT_DISTRICTS = {
    "Ashford",
    "Canterbury",
    "Dartford",
    "Dover",
    "Gravesham",
    "Maidstone",
    "Sevenoaks",
    "Folkestone and Hythe",
    "Shepway",
    "Swale",
    "Thanet",
    "Tonbridge and Malling",
    "Tunbridge Wells",
    "Medway",
}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The Kent street rows read independently of harmscope's reader (plain DuckDB)."""
    files = ", ".join(f"'{p}'" for p in KENT_STREET)
    df = duckdb.sql(
        f"""SELECT "Month" AS month, "Crime type" AS ct, "LSOA name" AS ln
            FROM read_csv([{files}], all_varchar=true)"""
    ).df()
    df["district"] = df.ln.str.replace(r"\s+\S+$", "", regex=True).replace(
        "Shepway", "Folkestone and Hythe"
    )
    # a row is in area unless its LSOA name puts it in a district outside Kent and Medway
    df["in_area"] = df.ln.isna() | df.district.isin(KENT_DISTRICTS)
    return df


@pytest.mark.parametrize("scheme", ["css", "chi"])
def test_force_harm_equals_weight_times_count_from_the_csvs(kent_store, raw, scheme):
    w = load_weights(scheme).set_index("category").weight
    rows = raw[raw.in_area]
    expected = float((rows.ct.value_counts() * w).sum())
    res = H.harm_by_area(kent_store, level="county", area="Kent Police", scheme=scheme)
    assert res.summary["count"] == len(rows)
    # The store sums ~300,000 float weights in parallel, in no fixed order: the rounding
    # error of such a sum is bounded by n * eps ~ 3e-11 relative (seen: 1.1e-12), so
    # 1e-10 still catches one crime more or less of any weighted category (> 1e-8).
    assert res.summary["harm"] == pytest.approx(expected, rel=1e-10)
    lo, hi = res.summary["harm_ci"]
    assert lo < expected < hi
    by_cat = res.tables["by_category"].set_index("category")
    counts = rows.ct.value_counts()
    for cat, n in counts.items():
        assert by_cat.loc[cat, "count"] == n
        assert by_cat.loc[cat, "harm"] == pytest.approx(n * w[cat])
    assert "mixed" in res.method.lower() or "mix" in res.method


def test_district_month_harm_matches_the_csvs(kent_store, raw):
    w = load_weights("css").set_index("category").weight
    rows = raw[raw.in_area & raw.ln.notna()].copy()
    rows["harm"] = rows.ct.map(w)
    exp = rows.groupby(["district", "month"]).agg(count=("ct", "size"), harm=("harm", "sum"))
    res = H.harm_by_area(kent_store, level="district", area="Kent Police", by_month=True)
    got = res.tables["totals"].set_index(["area_name", "month"])[["count", "harm"]].sort_index()
    exp = exp.sort_index()
    assert list(got.index) == list(exp.index)
    assert (got["count"].to_numpy() == exp["count"].to_numpy()).all()
    np.testing.assert_allclose(got["harm"].to_numpy(), exp["harm"].to_numpy(), rtol=1e-12)
    # rates use the packaged 2019 populations
    t = res.tables["totals"]
    np.testing.assert_allclose(t.rate_per_1000, t["count"] / t.population * 1000)
    assert (t.harm_rate_ci_low <= t.harm_rate_per_1000).all() and (
        t.harm_rate_per_1000 <= t.harm_rate_ci_high
    ).all()
    assert any("2024-05 to 2024-12" in n for n in res.notes)


def test_trend_same_period_change_matches_the_csvs(kent_store, raw):
    w = load_weights("css").set_index("category").weight
    rows = raw[raw.in_area].copy()
    rows["harm"] = rows.ct.map(w)
    h = rows.groupby("month").harm.sum()
    now = h[[f"2025-0{m}" for m in range(1, 5)]].sum()
    before = h[[f"2024-0{m}" for m in range(1, 5)]].sum()
    res = H.harm_trend(kent_store, area="Kent Police")
    assert res.summary["same_period_months"] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert res.summary["harm_same_period_change_pct"] == pytest.approx((now / before - 1) * 100)
    lo, hi = res.summary["harm_same_period_change_pct_ci"]
    assert lo < res.summary["harm_same_period_change_pct"] < hi
    jan = res.table.set_index("month").loc["2025-01"]
    assert jan.harm_yoy_ratio == pytest.approx(h["2025-01"] / h["2024-01"])
    assert np.isnan(res.table.set_index("month").loc["2025-06", "harm_yoy_ratio"])
    assert "harm_trend" in res.charts


def test_user_errors_name_the_argument(kent_store, tmp_path):
    with pytest.raises(HarmscopeError, match="unknown area"):
        H.harm_by_area(kent_store, area="Atlantis")
    with pytest.raises(HarmscopeError, match="not a month"):
        H.harm_by_area(kent_store, date_from="2025-13")
    with pytest.raises(HarmscopeError, match="--from is after --to"):
        H.harm_by_area(kent_store, date_from="2025-05", date_to="2025-01")
    with pytest.raises(HarmscopeError, match="unknown area level"):
        H.harm_by_area(kent_store, level="ward")
    partial = tmp_path / "w.csv"
    partial.write_text("category,weight\nRobbery,1\n", encoding="utf-8")
    with pytest.raises(HarmscopeError, match="no weight for"):
        H.harm_by_area(kent_store, weights=str(partial))


def test_cli_harm_json_and_weights_file(kent_store_path, tmp_path, capsys):
    weights = tmp_path / "w.csv"
    from harmscope.reference.offences import POLICE_CATEGORIES

    weights.write_text(
        "category,weight,source\n"
        + "".join(f"{c},{2 if c == 'Robbery' else 0},test\n" for c in POLICE_CATEGORIES),
        encoding="utf-8",
    )
    code = main(
        [
            "harm",
            "--db",
            str(kent_store_path),
            "--area",
            "Maidstone",
            "--from",
            "2025-01",
            "--to",
            "2025-03",
            "--weights",
            str(weights),
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    robberies = sum(r["count"] for r in payload["by_category"] if r["category"] == "Robbery")
    assert payload["summary"]["harm"] == 2 * robberies and robberies > 0
    assert (
        payload["summary"]["first_month"] == "2025-01"
        and payload["summary"]["last_month"] == "2025-03"
    )
    code = main(
        [
            "harm",
            "--db",
            str(kent_store_path),
            "--level",
            "lsoa",
            "--area",
            "Dover",
            "--audience",
            "public",
            "--json",
        ]
    )
    assert code == 0
    public = json.loads(capsys.readouterr().out)
    # public LSOA level: LSOA totals only (protected with their districts), no LSOA harm
    assert public["table"] == []
    shown = [r["count"] for r in public["totals"] if r["count"] is not None]
    assert shown and all(c == 0 or c >= 5 for c in shown)
    assert all("harm" not in r for r in public["totals"])
    assert any("LSOA" in n and "withheld" in n for n in public["notes"])
    code = main(["harm", "--db", str(kent_store_path), "--scheme", "nonsense"])
    assert code == 2
    assert "--scheme" in capsys.readouterr().err


def test_category_filter_and_county_without_medway(kent_store, raw):
    w = load_weights("css").set_index("category").weight
    serious = ["Violence and sexual offences", "robbery", "Possession of weapons"]
    res = H.harm_by_area(kent_store, level="county", area="Kent", categories=serious)
    rows = raw[raw.in_area & raw.ln.notna() & (raw.district != "Medway")]
    rows = rows[rows.ct.isin(["Violence and sexual offences", "Robbery", "Possession of weapons"])]
    assert res.summary["count"] == len(rows)
    assert res.summary["harm"] == pytest.approx(float(rows.ct.map(w).sum()))
    tot = res.tables["totals"]
    assert (
        len(tot) == 1
        and tot.area_code[0]
        == "Kent (county) (Violence and sexual offences, Robbery, Possession of weapons)"
    )
    assert tot.population[0] == 1860111 - 278556  # the 12 Kent districts, without Medway
    with pytest.raises(HarmscopeError, match="unknown police.uk category"):
        H.harm_by_area(kent_store, categories=["Knife crime"])


def test_area_names_resolve_to_force_county_or_district():
    s = H.resolve_scope("Kent Police")
    assert s.force == "Kent Police" and s.lad_codes is None
    s = H.resolve_scope("kent")  # the county: 12 districts, Medway is a unitary authority
    assert len(s.lad_codes) == 12 and "E06000035" not in s.lad_codes and s.label == "Kent (county)"
    s = H.resolve_scope("sussex")  # no county of that name, so the force slug
    assert s.force == "Sussex Police" and s.lad_codes is None
    s = H.resolve_scope("E07000110", "2025-01", "2025-03")
    assert s.lad_codes == ["E07000110"] and s.label == "Maidstone" and s.force == "Kent Police"
    assert "s.month >= ?" in s.where and "s.month <= ?" in s.where
    s = H.resolve_scope("Shepway")  # the old name of Folkestone and Hythe
    assert s.lad_codes == ["E07000112"]
    assert H.resolve_scope("Swale CSP").lad_codes == ["E07000113"]
