"""ED data end to end on a real store: synthetic ISTV data calibrated on the real Kent police
files, ingested with a key, read beside the police data, exported with audit, and checked for
any trace of the planted NHS numbers."""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from harmscope.analysis.linkage import exact_ratio_ci, hidden_hotspot_test, true_picture
from harmscope.errors import HarmscopeError, InputFileError
from harmscope.export.ed import export_ed
from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv, write_police_csv
from harmscope.sources import ed as ed_source
from harmscope.sources.ed import ingest_ed, ingest_police_victims
from harmscope.store import Store

KEY = b"pipeline-test-key-0123456789"
SEED = 11


@pytest.fixture(scope="module")
def ed(kent_copy):
    folder, db = kent_copy("ed", "ed.duckdb")
    store = Store.open(db)
    sim = simulate_ed(police_volumes(store), seed=SEED)
    ed_csv = write_ed_csv(sim, folder / "ed_synthetic.csv")
    pol_csv = write_police_csv(sim, folder / "police_victims_synthetic.csv")
    rep = ingest_ed(store, ed_csv, key=KEY)
    prep = ingest_police_victims(store, pol_csv, key=KEY)
    yield SimpleNamespace(
        store=store, sim=sim, rep=rep, prep=prep, dir=folder, ed_csv=ed_csv, pol_csv=pol_csv
    )
    store.close()


# -- ingest ----------------------------------------------------------------------------------


def test_rows_are_conserved_and_rejects_explained(ed):
    rep = ed.rep
    assert rep.rows_read == len(ed.sim.ed)
    assert rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_rejected
    assert rep.rows_rejected > 0 and rep.rows_duplicate > 0  # the generator plants both
    stored = ed.store.query(
        "SELECT count(*) AS n FROM ed_assaults WHERE source_id = ?", [rep.ingest_id]
    ).n[0]
    assert stored == rep.rows_loaded
    rejects = ed.store.query("SELECT * FROM rejects WHERE ingest_id = ?", [rep.ingest_id])
    assert len(rejects) == rep.rows_rejected
    assert rejects.file.eq(str(ed.ed_csv)).all() and rejects.line.gt(2).all()
    assert rejects.reason.str.len().gt(0).all()
    row = ed.store.query("SELECT * FROM ingests WHERE ingest_id = ?", [rep.ingest_id]).iloc[0]
    assert row.kind == "ed" and row.rows_read == rep.rows_read


def test_reject_lines_point_at_the_bad_rows(ed):
    lines = ed.ed_csv.read_text().splitlines()
    rejects = ed.store.query(
        "SELECT line, reason FROM rejects WHERE ingest_id = ?", [ed.rep.ingest_id]
    )
    for r in rejects.itertuples():
        raw = lines[r.line - 1]
        if "SWORD" in r.reason:
            assert "SWORD?" in raw
        if "site_code" in r.reason:
            assert raw.startswith(",")


def test_reingest_is_all_duplicates(ed):
    again = ingest_ed(ed.store, ed.ed_csv, key=KEY)
    assert again.rows_loaded == 0
    assert again.rows_duplicate == again.rows_read - again.rows_rejected


def test_placement_reports_reasons(ed):
    rep = ed.rep
    placed = sum(rep.placed_by.values())
    unplaced = sum(rep.unplaced.values())
    assert placed + unplaced == rep.rows_loaded  # first ingest: no duplicate of stored rows
    assert set(rep.placed_by) >= {"coordinates", "lsoa", "town_centre"}
    assert unplaced > 0 and all(reason for reason in rep.unplaced)
    frame = ed.store.query(
        "SELECT placed_by, unplaced_reason, lad_code FROM ed_assaults WHERE source_id = ?",
        [rep.ingest_id],
    )
    assert frame.loc[frame.placed_by.isna(), "unplaced_reason"].notna().all()
    assert frame.loc[frame.placed_by.notna(), "lad_code"].notna().all()


def test_misspelt_town_names_are_placed_in_the_right_district(ed):
    frame = ed.store.query(
        "SELECT location_desc, place_name, place_score, lad_code FROM ed_assaults "
        "WHERE placed_by = 'town_centre' AND place_score < 100"
    )
    assert len(frame) > 100  # the generator misspells about 15% of locations
    from harmscope.sources.ed_place import load_town_centres

    towns = load_town_centres().set_index("name")
    assert (frame.lad_code == frame.place_name.map(towns.lad_code)).all()


def test_free_text_is_redacted(ed):
    text = ed.store.query(
        "SELECT string_agg(coalesce(weapon_text, '') || ' ' || coalesce(location_desc, ''), ' ') "
        "AS t FROM ed_assaults"
    ).t[0]
    assert "Dave Smith" not in text and "07700 900123" not in text and "Mr Jones" not in text
    assert "[NAME]" in text and "[PHONE]" in text and "[NHS NUMBER]" in text


def test_ingest_refuses_without_a_key(ed, monkeypatch):
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    before = ed.store.query("SELECT count(*) AS n FROM ed_assaults").n[0]
    with pytest.raises(HarmscopeError, match="no pseudonymisation key"):
        ingest_ed(ed.store, ed.ed_csv)
    assert ed.store.query("SELECT count(*) AS n FROM ed_assaults").n[0] == before


def test_a_failure_inside_the_transaction_leaves_the_store_as_it_was(ed, monkeypatch, tmp_path):
    path = tmp_path / "ed_other.csv"
    sim = simulate_ed(police_volumes(ed.store).head(3), seed=99)
    write_ed_csv(sim, path)
    counts = ed.store.query(
        "SELECT (SELECT count(*) FROM ed_assaults) AS e, (SELECT count(*) FROM ingests) AS i, "
        "(SELECT count(*) FROM rejects) AS r"
    )

    def boom(*_args, **_kwargs):
        raise OSError("disk vanished")

    # Fails after the rows are inserted, while the file's ingests row is written.
    monkeypatch.setattr(ed_source, "record_ingest", boom)
    with pytest.raises(OSError):
        ingest_ed(ed.store, path, key=KEY)
    after = ed.store.query(
        "SELECT (SELECT count(*) FROM ed_assaults) AS e, (SELECT count(*) FROM ingests) AS i, "
        "(SELECT count(*) FROM rejects) AS r"
    )
    pd.testing.assert_frame_equal(counts, after)


def test_wrong_files_give_clear_errors(ed, tmp_path):
    street = tmp_path / "street.csv"
    street.write_text("Crime ID,Month,Reported by\n1,2025-01,Kent Police\n")
    with pytest.raises(InputFileError, match="missing column"):
        ingest_ed(ed.store, street, key=KEY)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02PK")
    with pytest.raises(InputFileError, match="binary"):
        ingest_ed(ed.store, binary, key=KEY)
    gaz = tmp_path / "gaz.csv"
    gaz.write_text("venue,lat\nThe Swan,51.3\n")
    with pytest.raises(HarmscopeError, match="gazetteer lacks"):
        ingest_ed(ed.store, ed.ed_csv, key=KEY, gazetteer=gaz)


def test_user_gazetteer_wins_over_town_centres(ed, tmp_path):
    gaz = tmp_path / "venues.csv"
    gaz.write_text("name,type,longitude,latitude\nThe Wetherspoons Margate,pub,1.3790,51.3880\n")
    csv_path = tmp_path / "ed_one.csv"
    csv_path.write_text(
        "site_code,arrival_datetime,assault_datetime,assault_method,location_type,location_desc,nhs_number\n"
        "SYN-QEQ,2025-03-01 02:10,2025-03-01 01:30,GLASS,PUB_CLUB,outside the Wetherspons Margate,9434765919\n"
        "SYN-QEQ,2025-03-02 02:10,,BODY,STREET,somewhere unknown,\n"
    )
    store = Store.open(":memory:")
    rep = ingest_ed(store, csv_path, key=KEY, gazetteer=gaz)
    rows = store.query(
        "SELECT placed_by, place_name, lad_name, unplaced_reason FROM ed_assaults ORDER BY line"
    )
    assert rows.placed_by[0] == "gazetteer" and rows.lad_name[0] == "Thanet"
    assert pd.isna(rows.placed_by[1]) and "matched no venue" in rows.unplaced_reason[1]
    assert rep.rows_loaded == 2 and rep.identifiers_missing == 1


def test_postcode_lookup_places_and_only_the_outward_code_is_kept(tmp_path):
    lookup = tmp_path / "nspl.csv"
    # a two-column extract in the NSPL layout (pcds, lsoa11); Maidstone 2011 LSOA
    lookup.write_text("pcds,lsoa11\nME14 1XX,E01024366\n")
    csv_path = tmp_path / "ed_pc.csv"
    csv_path.write_text(
        "site_code,arrival_datetime,assault_method,location_type,postcode\n"
        "SYN-MGH,2025-03-01 02:10,BODY,STREET,me14 1xx\n"
        "SYN-MGH,2025-03-01 03:10,BODY,STREET,ZZ9 9ZZ\n"
    )
    store = Store.open(":memory:")
    ingest_ed(store, csv_path, key=KEY, postcodes=lookup)
    rows = store.query(
        "SELECT placed_by, lad_name, postcode_district, unplaced_reason FROM ed_assaults ORDER BY line"
    )
    assert rows.placed_by[0] == "postcode" and rows.lad_name[0] == "Maidstone"
    assert rows.postcode_district.tolist() == ["ME14", "ZZ9"]
    assert "postcode not in the lookup" in rows.unplaced_reason[1]
    text = " ".join(str(v) for v in store.query("SELECT * FROM ed_assaults").to_numpy().ravel())
    assert "1XX" not in text.upper()
    without = ingest_ed(Store.open(":memory:"), csv_path, key=KEY)
    assert any("no postcode lookup" in r for r in without.unplaced)


# -- no raw identifier anywhere --------------------------------------------------------------


def test_no_planted_nhs_number_reaches_the_store_or_the_file(ed, tmp_path):
    planted = set(ed.sim.population.nhs_number)
    db = tmp_path / "fresh.duckdb"
    store = Store.open(db)
    ingest_ed(store, ed.ed_csv, key=KEY)
    ingest_police_victims(store, ed.pol_csv, key=KEY)
    # every text column of every table
    tables = store.query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    )
    assert {"ed_assaults", "rejects", "police_victims"} <= set(tables.table_name)
    digit_runs = re.compile(r"\d[\d \-]{8,14}\d")
    for t, c in tables.itertuples(index=False):
        values = store.query(f'SELECT DISTINCT "{c}" AS v FROM "{t}" WHERE "{c}" IS NOT NULL').v
        for v in values:
            for run in digit_runs.findall(str(v)):
                assert re.sub(r"\D", "", run) not in planted, f"{t}.{c} holds a planted number"
    store.execute("CHECKPOINT")
    store.close()
    raw = db.read_bytes()
    found = {m.decode() for m in re.findall(rb"999\d{7}", raw)}
    assert not (found & planted)
    # the numbers really were in the input, so the search could have found them
    assert sum(n in ed.ed_csv.read_text() for n in list(planted)[:200]) > 50


# -- analysis --------------------------------------------------------------------------------


def test_ratio_interval_and_test_match_references():
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = exact_ratio_ci([30], [100])
    plo, phi = proportion_confint(30, 130, method="beta")
    assert lo[0] == pytest.approx(plo / (1 - plo), rel=1e-9)
    assert hi[0] == pytest.approx(phi / (1 - phi), rel=1e-9)
    p, q, expected = hidden_hotspot_test([50, 10, 12], [100, 100, 110])
    ref = stats.binomtest(50, 150, 22 / 232, alternative="greater").pvalue
    assert p[0] == pytest.approx(ref)
    assert expected[0] == pytest.approx(150 * 22 / 232)
    assert q[0] <= 0.05 < q[1]


def test_planted_hidden_hotspots_are_found(ed):
    res = true_picture(ed.store)
    found = set(res.table.loc[res.table.hidden_hotspot, "area_code"])
    assert found == set(ed.sim.truth["hidden_hotspots"])
    assert res.summary["synthetic"] is True and res.notes[0].startswith("SYNTHETIC")
    assert "Violence and sexual offences" in res.method and "FDR" in res.method


def test_reporting_rates_recover_the_planted_truth(ed):
    res = true_picture(ed.store)
    rep = res.tables["reporting"]
    pop = ed.sim.population
    names = ed.store.query(
        "SELECT DISTINCT lad_code, lad_name FROM street_crimes WHERE lad_code IS NOT NULL"
    )
    pop = pop.merge(names, on="lad_code", how="left")
    truth = {
        "district": pop.groupby("lad_name").r.mean(),
        "age_band": pop.groupby("age_band").r.mean(),
        "weapon_code": pop.groupby("weapon").r.mean(),
    }
    covered, total = 0, 0
    for r in rep.itertuples():
        if r.group not in truth[r.dimension]:
            continue  # 'not placed' has no single truth
        total += 1
        covered += r.reporting_rate_low <= truth[r.dimension][r.group] <= r.reporting_rate_high
    assert total >= 25
    assert covered / total >= 0.85  # 95% intervals; a few misses are expected
    districts = rep[rep.dimension == "district"].set_index("group")
    hidden_names = set(names.set_index("lad_code").loc[ed.sim.truth["hidden_hotspots"], "lad_name"])
    worst = districts.drop(index="not placed", errors="ignore").reporting_rate.nsmallest(
        len(hidden_names)
    )
    assert set(worst.index) == hidden_names


def test_dark_figure_interval_covers_the_true_total(ed):
    res = true_picture(ed.store)
    s = res.summary
    # The truth for the linked months: every simulated victim (closed population).
    true_total = ed.sim.truth["population"]
    lo, hi = s["capture_N_ci"]
    # Records without a valid NHS number cannot link; they drop out of n1 (homogeneously).
    assert lo <= true_total <= hi
    assert s["capture_n_both"] <= min(s["capture_n_ed"], s["capture_n_police"])
    assert "closed population" in res.method and "perfect linkage" in res.method


def test_night_time_profile_peaks_on_weekend_nights(ed):
    heat = true_picture(ed.store).tables["heatmap"]
    night = heat[heat.day.isin(["Fri", "Sat"]) & heat.hour.isin([22, 23, 0, 1])].ed.mean()
    day = heat[heat.day.isin(["Mon", "Tue", "Wed"]) & heat.hour.isin([9, 10, 11])].ed.mean()
    assert night > 2 * day


# -- disclosure and export -------------------------------------------------------------------


def test_record_level_export_only_for_internal_and_audited(ed, tmp_path):
    before = len(ed.store.query("SELECT * FROM audit_log"))
    for aud in ("partner", "public"):
        with pytest.raises(HarmscopeError, match="record-level"):
            export_ed(ed.store, tmp_path / aud, audience=aud, records=True)
    paths = export_ed(ed.store, tmp_path / "internal", audience="internal", records=True)
    frame = pd.read_csv(paths[0], dtype=str)
    assert "record_key" not in frame.columns and "nhs_number" not in frame.columns
    log = ed.store.query("SELECT * FROM audit_log ORDER BY audit_id")
    assert len(log) == before + 1
    last = log.iloc[-1]
    assert last.audience == "internal" and last.output == str(paths[0]) and last.who
    assert "SELECT" in last.query and last.rows == len(frame)


def test_public_export_suppresses_small_ed_counts(ed, tmp_path):
    before = len(ed.store.query("SELECT * FROM audit_log"))
    paths = export_ed(ed.store, tmp_path / "pub", audience="public", level="lsoa11")
    log = ed.store.query("SELECT * FROM audit_log ORDER BY audit_id")
    assert len(log) == before + len(paths)
    assert set(log.output.iloc[-len(paths) :]) == {str(p) for p in paths}
    hidden = 0
    for p in paths:
        if p.suffix != ".csv":
            continue
        frame = pd.read_csv(p)
        for col in ("ed", "known_to_police"):
            if col in frame:
                v = frame[col].dropna()
                assert not ((v >= 1) & (v < 5)).any(), f"{p.name}: small {col} shown"
                hidden += frame[col].isna().sum()
    assert hidden > 0  # LSOA level certainly has small cells to hide


def test_read_only_store_cannot_export(kent_store_path, ed, tmp_path):
    db = tmp_path / "ro.duckdb"
    ed.store.execute("CHECKPOINT")
    shutil.copy(ed.store.path, db)
    with Store.open(db, read_only=True) as store, pytest.raises(duckdb.Error):
        export_ed(store, tmp_path / "x", audience="public")
    assert not list((tmp_path / "x").glob("*.csv"))  # nothing left without its audit row


def test_public_outputs_have_no_small_counts_at_lsoa_level(ed):
    res = true_picture(ed.store, level="lsoa11", audience="public")
    for name, table in [("area", res.table), *res.tables.items()]:
        for col in ("ed", "known_to_police"):
            if col in table:
                v = pd.to_numeric(table[col], errors="coerce").dropna()
                assert not ((v >= 1) & (v < 5)).any(), name
    area = res.table
    assert area.loc[area.ed.isna(), "ratio"].isna().all()
    assert area.loc[area.ed.isna(), "hidden_hotspot"].isna().all()
    assert np.isfinite(res.summary["ed_per_police"])


@pytest.mark.parametrize("ext", [".xlsx", ".parquet"])
def test_export_to_one_file_picks_the_format_and_audits_it(ed, tmp_path, ext):
    # issue 12: --out FILE writes the same published tables in the extension's format
    import duckdb

    before = len(ed.store.query("SELECT * FROM audit_log"))
    out = tmp_path / f"ed{ext}"
    paths = export_ed(ed.store, out, audience="public", level="lad")
    log = ed.store.query("SELECT * FROM audit_log ORDER BY audit_id").iloc[before:]
    summary = out.with_name("ed_summary.json")
    assert paths[0] == out and paths[-1] == summary and summary.exists()
    assert set(log.output) <= {str(p) for p in paths} and len(log) >= 2
    if ext == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(out)
        assert wb.sheetnames[0] == "README" and len(wb.sheetnames) == len(log)
        return
    frame = duckdb.sql(f"SELECT * FROM '{out}'").df()
    v = frame["ed"].dropna()
    assert len(frame) and not ((v >= 1) & (v < 5)).any()
