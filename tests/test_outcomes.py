"""Serious Violence Duty outcome measures (`harmscope outcomes`) on a real Kent store.

The street data are the real Kent police.uk files (tests/conftest.py). No real person-level
data exist for harmscope, so the ED records and the crime extract are SYNTHETIC (made by
`simulate_ed`, calibrated on the real Kent violence counts, and `simulate_crimes`); the
outcome counts are checked against independent pandas counts of those inputs, the trend
interval against a planted rate ratio, and the published view against the disclosure rule.
"""

from __future__ import annotations

import json
import secrets
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from harmscope.analysis.outcomes import homicide_codes, outcome_measures, poisson_trend
from harmscope.analysis.people._data import KNIFE_SELECTED
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.privacy import publish
from harmscope.privacy.outcomes import publish_outcomes
from harmscope.reference import lad_codes_for_force, load_lsoa11, load_lsoa21_lookup
from harmscope.reference._files import resolve
from harmscope.simulate.crimes import simulate_crimes, write_crimes_csv
from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv
from harmscope.sources.crime_extract import ingest_crime_extract
from harmscope.sources.ed import ingest_ed
from harmscope.sources.outcome_tables import read_hes_table, read_ho_table
from harmscope.store import Store

KEY = secrets.token_hex(32).encode()
EXAMPLE_HES = resolve("outcomes/example_hes.csv")
EXAMPLE_HO = resolve("outcomes/example_ho_table.csv")
KENT = "Kent Police"


@pytest.fixture(scope="module")
def oc(kent_copy):
    """A copy of the real Kent store with synthetic ED records and a synthetic extract."""
    folder, db = kent_copy("outcomes", "oc.duckdb")
    store = Store.open(db)
    ed_sim = simulate_ed(police_volumes(store), seed=23)
    ed_csv = write_ed_csv(ed_sim, folder / "ed.csv")
    ed_rep = ingest_ed(store, ed_csv, key=KEY)
    ex_csv, _, _ = write_crimes_csv(
        simulate_crimes(7, crimes=30000, messy=False), folder / "ex.csv"
    )
    ex_rep = ingest_crime_extract(store, ex_csv, key=KEY)
    assert ex_rep.rows_rejected == 0 and ex_rep.rows_duplicate == 0
    res = outcome_measures(store, KENT, "2025-01", "2025-12")
    yield SimpleNamespace(store=store, db=db, dir=folder, ed_rep=ed_rep, ex_csv=ex_csv, res=res)
    store.close()


def _row(res, measure: str, group: str = "all") -> pd.Series:
    t = res.table
    return t[(t.measure == measure) & (t.group == group)].iloc[0]


def _kent_lsoas() -> set[str]:
    lads = lad_codes_for_force(KENT)
    l11 = load_lsoa11()
    codes = set(l11.loc[l11.lad_code.isin(lads), "lsoa11_code"])
    l21 = load_lsoa21_lookup()
    return codes | set(l21.loc[l21.lsoa11_code.isin(codes), "lsoa21_code"])


# -- counts against independent counts of the inputs ------------------------------------------
def test_ed_proxy_equals_pandas_count_of_the_stored_records(oc):
    ed = oc.store.query("SELECT * FROM ed_assaults")  # every stored row, counted in pandas
    ed["month"] = pd.to_datetime(ed["month"])
    sel = ed[
        (ed.weapon_code == "KNIFE")
        & ed.lad_code.isin(lad_codes_for_force(KENT))
        & (ed.month >= "2025-01-01")
        & (ed.month <= "2025-12-01")
    ]
    young = sel.age_band.isin(["0-15", "16-17", "18-24"])
    row, row25 = (
        _row(oc.res, "hospital_admissions_knife"),
        _row(oc.res, "hospital_admissions_knife", "under_25"),
    )
    assert len(sel) > 50  # the simulation plants knife assaults: not a trivial 0 == 0
    assert row.value == len(sel) and row25.value == int(young.sum())
    assert row.age_unknown == int(sel.age_band.isna().sum())
    monthly = oc.res.tables["series"].query(
        "measure == 'hospital_admissions_knife' and group == 'all'"
    )
    expect = sel.groupby(sel.month.dt.strftime("%Y-%m")).size()
    got = monthly.set_index("period")["count"]
    assert got.sum() == len(sel) and (got.reindex(expect.index) == expect).all()


@pytest.mark.parametrize("measure", ["knife_enabled_serious_violence", "homicide"])
def test_extract_measures_equal_pandas_counts_of_the_file(oc, measure):
    raw = pd.read_csv(oc.ex_csv, comment="#", dtype=str)
    codes = list(KNIFE_SELECTED) if measure != "homicide" else homicide_codes()
    sel = raw[raw.offence_code.str.upper().isin(codes) & raw.lsoa_code.isin(_kent_lsoas())]
    if measure != "homicide":
        sel = sel[sel.knife_flag.str.upper().eq("Y")]
    month = sel.committed_from.str[:7]
    sel = sel[(month >= "2025-01") & (month <= "2025-12")]
    age = pd.to_numeric(sel.victim_age, errors="coerce")
    row, row25 = _row(oc.res, measure), _row(oc.res, measure, "under_25")
    assert len(sel) > 0
    assert row.value == len(sel)
    assert row25.value == int((age < 25).sum())
    assert row.age_unknown == int(age.isna().sum())
    low, high = row.value_low, row.value_high
    assert low <= row.value <= high


# -- proxies, missing measures, user tables ---------------------------------------------------
def test_proxies_are_flagged_and_named(oc):
    for m, word in (
        ("hospital_admissions_knife", "ED"),
        ("knife_enabled_serious_violence", "knife"),
        ("homicide", "homicide codes"),
    ):
        row = _row(oc.res, m)
        assert row.available and row.proxy and word in row.proxy_name
        assert oc.res.summary[f"{m}_proxy"] is True
        assert any(n.startswith(f"{m} is a PROXY") for n in oc.res.notes)


def test_missing_measures_are_unavailable_not_zero(kent_store):
    """The real Kent store holds street data only: no measure can be made from it."""
    res = outcome_measures(kent_store, KENT, "2025-01", "2025-12")
    assert set(res.table.available) == {False}
    assert res.table.value.isna().all() and res.table.reason.str.len().gt(20).all()
    pow_n = int(
        kent_store.query(
            "SELECT count(*) AS n FROM street_crimes WHERE crime_type = 'Possession of weapons' "
            "AND falls_within = ? AND month BETWEEN '2025-01-01' AND '2025-12-01' "
            "AND NOT coalesce(out_of_area, false)",
            [KENT],
        ).n[0]
    )
    assert pow_n > 100
    reason = _row(res, "knife_enabled_serious_violence").reason
    assert f"Possession of weapons' ({pow_n:,}" in reason and "not knife-enabled" in reason
    assert res.summary["homicide"] is None and res.summary["homicide_available"] is False
    doc = publish_outcomes(res, "public", 5).document()  # the JSON contract lists them too
    assert len(doc["measures"]) == 6
    assert all(
        r["value"] is None and r["available"] is False and r["proxy"] is False and r["reason"]
        for r in doc["measures"]
    )
    assert doc["summary"]["homicide"] is None and doc["summary"]["homicide_available"] is False


def test_hes_table_replaces_the_ed_proxy(oc):
    res = outcome_measures(oc.store, "Maidstone", "2025-01", "2025-12", hes=EXAMPLE_HES)
    row = _row(res, "hospital_admissions_knife")
    hes, rep = read_hes_table(EXAMPLE_HES)
    maid = hes[hes.lad_code == "E07000110"]
    assert not row.proxy and row.value == maid.admissions.sum() == 12
    assert _row(res, "hospital_admissions_knife", "under_25").value == 3
    assert _row(res, "homicide").proxy  # no Home Office table: still the extract proxy
    assert len(res.tables["rejects"]) == rep.rows_rejected == 1
    assert any("lower bound" in n for n in res.notes)


def test_ho_table_used_for_a_force_and_refused_for_a_district(oc):
    res = outcome_measures(oc.store, KENT, "2022-04", "2025-03", ho_table=EXAMPLE_HO)
    row = _row(res, "homicide")
    assert not row.proxy and row.value == 54 and row.period_kind == "financial_year"
    assert _row(res, "knife_enabled_serious_violence", "under_25").value == 840
    district = outcome_measures(oc.store, "Maidstone", "2025-01", "2025-12", ho_table=EXAMPLE_HO)
    assert _row(district, "homicide").proxy  # falls back to the extract
    assert any("not one" in n for n in district.notes)


def test_user_tables_reconcile_every_row(tmp_path):
    bad = tmp_path / "hes.csv"
    bad.write_text(
        "# source: test\nmonth,area_code,age_group,admissions,icd10\n"
        "2025-01,E07000110,under_25,2,X99\n"  # 3 ok
        "2025-13,E07000110,under_25,2,X99\n"  # 4 bad month
        "2025-01,E99999999,under_25,2,X99\n"  # 5 unknown area
        "2025-02,E07000110,under_25,*,X99\n"  # 6 suppressed
        "2025-01,E07000110,under_25,5,X99\n"  # 7 duplicate of 3
        "2025-03,E07000110,under_25,1,W25\n",  # 8 not X99
        encoding="utf-8",
    )
    frame, rep = read_hes_table(bad)
    assert (rep.rows_read, rep.rows_loaded, rep.rows_duplicate, rep.rows_rejected) == (6, 1, 1, 4)
    assert rep.conserved() and len(frame) == 1
    lines = {r["line"]: r["reason"] for r in rep.rejects}
    assert set(lines) == {4, 5, 6, 7, 8} and all(r["file"] == str(bad) for r in rep.rejects)
    assert "suppressed" in lines[6] and "duplicate of line 3" in lines[7] and "X99" in lines[8]
    _, ho = read_ho_table(EXAMPLE_HO)
    assert ho.conserved() and ho.rows_loaded == 12 and ho.synthetic
    with pytest.raises(HarmscopeError, match="lacks the column"):
        read_ho_table(bad)


# -- statistics --------------------------------------------------------------------------------
def test_trend_interval_covers_the_planted_rate_ratio():
    """Seeded Poisson series with a planted rate ratio of 0.8 a year over 36 months: the 95%
    interval should cover it about 95% of the time (quasi-Poisson errs on the wide side)."""
    rng = np.random.default_rng(5)
    t = (np.arange(36) + 0.5) / 12
    mu = 20 * 0.8**t
    hits, ests = 0, []
    for _ in range(300):
        tr = poisson_trend(rng.poisson(mu), t, np.ones(36))
        hits += tr["low"] <= 0.8 <= tr["high"]
        ests.append(tr["rate_ratio"])
    assert 0.91 <= hits / 300 <= 0.995
    assert abs(np.mean(ests) - 0.8) < 0.01
    assert poisson_trend([0, 0, 0, 0], [0, 1, 2, 3])["rate_ratio"] is None


# -- the contract and the publishing path ------------------------------------------------------
def test_json_contract_through_the_cli(oc, capsys):
    code = main(
        [
            "outcomes",
            "--db",
            str(oc.db),
            "--area",
            KENT,
            "--from",
            "2025-01",
            "--to",
            "2025-12",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code in (0, None)
    doc = json.loads(out)
    rows = {(r["measure"], r["group"]): r for r in doc["measures"]}
    assert {m for m, _ in rows} == {
        "hospital_admissions_knife",
        "knife_enabled_serious_violence",
        "homicide",
    }
    for r in rows.values():
        assert {"value", "value_low", "value_high", "proxy", "proxy_name"} <= set(r)
        assert r["value_low"] <= r["value"] <= r["value_high"] and r["proxy"] is True
    s = doc["summary"]
    assert s["homicide"] == _row(oc.res, "homicide").value and s["homicide_proxy"] is True
    assert publish.last("outcomes").document()["summary"] == s  # printed = published
    audit = oc.store.query("SELECT * FROM audit_log WHERE what LIKE 'Serious Violence%'")
    assert len(audit) >= 1


def test_public_suppresses_small_counts(oc):
    pub = publish_outcomes(oc.res, "public", 5)
    doc = pub.document()
    shown = [r["value"] for r in doc["measures"] if r["value"] is not None]
    shown += [r["count"] for r in doc["series"] if r["count"] is not None]
    assert not any(1 <= v < 5 for v in shown)
    raw = oc.res.tables["series"]["count"]
    assert ((raw >= 1) & (raw < 5)).any()  # there were small cells to hide
    hom25 = _row(oc.res, "homicide", "under_25").value
    if 1 <= hom25 < 5:
        assert doc["summary"]["homicide_under_25"] is None
        assert doc["summary"]["homicide_under_25_ci"] is None
    with_rejects = outcome_measures(oc.store, "Maidstone", "2025-01", "2025-12", hes=EXAMPLE_HES)
    assert len(with_rejects.tables["rejects"]) == 1
    for audience in ("partner", "public"):
        d = publish_outcomes(with_rejects, audience, 5).document()
        assert "rejects" not in d and any(w.startswith("rejects") for w in d["withheld"])
    assert len(publish_outcomes(with_rejects, "internal", 5).document()["rejects"]) == 1
    internal = publish_outcomes(oc.res, "internal", 5).document()
    assert internal["summary"]["homicide_under_25"] == hom25


def test_report_section_is_checked_for_the_public(oc):
    from harmscope.report.section import ReportContext
    from harmscope.report.sections import outcomes as section

    ctx = ReportContext(
        oc.store,
        KENT,
        pd.Timestamp("2025-01-01").date(),
        pd.Timestamp("2025-12-01").date(),
        audience="public",
    )
    sec = section.build(ctx)
    assert sec.disclosure_checked and "measures" in sec.tables
    assert "proxy" in sec.html and "SYNTHETIC" in sec.html


def test_report_section_says_why_it_does_not_apply(kent_store):
    from harmscope.report.section import NotApplicable, ReportContext
    from harmscope.report.sections import outcomes as section

    ctx = ReportContext(
        kent_store, KENT, pd.Timestamp("2025-01-01").date(), pd.Timestamp("2025-12-01").date()
    )
    with pytest.raises(NotApplicable, match="no ED assault records and no crime extract"):
        section.build(ctx)


@pytest.mark.parametrize(
    "extra, where",
    [
        (["--hes", "no_such_file.csv"], "--hes"),
        (["--from", "2025-13"], "--from"),
        (["--area", "Atlantis"], "--area"),
        (["--audience", "press"], "--audience"),
    ],
)
def test_bad_arguments_are_clean_errors(oc, capsys, extra, where):
    argv = ["outcomes", "--db", str(oc.db), "--json"]
    if "--area" not in extra:
        argv += ["--area", KENT]
    code = main(argv + extra)
    _, err = capsys.readouterr()
    assert code == 2 and where in err and "Traceback" not in err
