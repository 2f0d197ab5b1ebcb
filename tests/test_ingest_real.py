"""Ingest on the real police files: counts, reconciliation, idempotence, replacement."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from conftest import COMPARISON_STREET, EXCERPTS, KENT_STOP_SEARCH, KENT_STREET
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store


def _csv_rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_street_counts_match_independent_count(all_store):
    """Rows per force x month in the store equal a csv-module count of the files."""
    expected: Counter = Counter()
    for path in [*KENT_STREET, *COMPARISON_STREET]:
        for row in _csv_rows(path):
            expected[(row["Falls within"], row["Month"])] += 1
    got = all_store.query(
        "SELECT falls_within, strftime(month, '%Y-%m') AS m, count(*) AS n FROM street_crimes GROUP BY ALL"
    )
    assert {(r.falls_within, r.m): r.n for r in got.itertuples()} == dict(expected)
    parts = all_store.query(
        "SELECT force, strftime(month, '%Y-%m') AS m, rows FROM partitions WHERE kind = 'street'"
    )
    assert {(r.force, r.m): r.rows for r in parts.itertuples()} == dict(expected)
    # SOURCES.md: 2025 Kent total 180,022, of which 67,035 violence and sexual offences.
    kent25 = all_store.query(
        "SELECT count(*) AS n, count(*) FILTER (crime_type = 'Violence and sexual offences') AS v "
        "FROM street_crimes WHERE falls_within = 'Kent Police' AND year(month) = 2025"
    )
    assert (kent25.n[0], kent25.v[0]) == (180_022, 67_035)


def test_stop_search_counts_match_independent_count(kent_store):
    expected = Counter()
    for path in KENT_STOP_SEARCH:
        month = path.name[:7]
        expected[month] = len(_csv_rows(path))
    got = kent_store.query(
        "SELECT strftime(month, '%Y-%m') AS m, count(*) AS n FROM stop_searches GROUP BY 1"
    )
    assert dict(zip(got.m, got.n, strict=True)) == dict(expected)
    # SOURCES.md section 8: 1,064 linked = True in Apr-Dec 2018, 256 in Jan-Mar.
    linked = kent_store.query(
        "SELECT count(*) FILTER (outcome_linked_to_object_of_search) AS t FROM stop_searches"
    ).t[0]
    assert linked == 1_064 + 256


def test_reconciliation_per_file_and_in_ingests(all_store):
    ing = all_store.query(
        "SELECT ingest_id, rows_read, rows_loaded, rows_duplicate, rows_rejected FROM ingests"
    )
    assert (ing.rows_read == ing.rows_loaded + ing.rows_duplicate + ing.rows_rejected).all()
    held = all_store.query(
        """SELECT source_id, count(*) AS n FROM (
             SELECT source_id FROM street_crimes UNION ALL SELECT source_id FROM stop_searches)
           GROUP BY 1"""
    )
    merged = ing.merge(held, left_on="ingest_id", right_on="source_id")
    assert (merged.n == merged.rows_read - merged.rows_rejected).all()
    assert len(merged) == len(ing)


def test_reingest_is_idempotent(tmp_path):
    db = tmp_path / "s.duckdb"
    files = KENT_STREET[:2] + KENT_STOP_SEARCH[:1]
    with Store.open(db) as store:
        first = ingest_paths(store, files)
        before = store.query("SELECT count(*) AS n FROM street_crimes").n[0]
        second = ingest_paths(store, files)
        after = store.query("SELECT count(*) AS n FROM street_crimes").n[0]
        n_ingests = store.query("SELECT count(*) AS n FROM ingests").n[0]
    assert first.rows_loaded == first.rows_read > 0
    assert second.rows_loaded == 0
    assert second.rows_duplicate == second.rows_read == first.rows_read
    assert before == after
    assert n_ingests == 3
    assert {f.status for f in second.files} == {"unchanged"}


def test_same_rows_in_another_copy_are_duplicates(tmp_path):
    """A CRLF copy of an LF file has other bytes but the same published rows."""
    src = KENT_STREET[-1]
    text = gzip.decompress(src.read_bytes())
    copy = tmp_path / "copy" / src.name.replace(".gz", "")
    copy.parent.mkdir()
    copy.write_bytes(text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [src])
        rep = ingest_paths(store, [copy])
        n = store.query("SELECT count(*) AS n FROM street_crimes").n[0]
    f = rep.files[0]
    assert f.rows_duplicate == f.rows_read and f.rows_loaded == 0 and f.rows_replaced == 0
    assert n == f.rows_read


def test_newer_file_replaces_month(tmp_path):
    """A re-published month replaces the old one; unchanged rows are duplicates."""
    src = KENT_STREET[4]  # 2025-01
    rows = _csv_rows(src)
    header = list(rows[0].keys())
    changed = 0
    newer = []
    for r in rows[:-100]:  # 100 rows withdrawn
        r = dict(r)
        if r["Last outcome category"] == "Court result unavailable" and changed < 50:
            r["Last outcome category"] = "Offender given a caution"
            changed += 1
        newer.append(r)
    assert changed == 50
    out = tmp_path / "newer" / src.name.replace(".gz", "")
    out.parent.mkdir()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(newer)
    with Store.open(tmp_path / "s.duckdb") as store:
        first = ingest_paths(store, [src]).files[0]
        # 100 rows withdrawn: fewer rows than the month held, so it must be allowed.
        second = ingest_paths(store, [out], allow_shrink=True).files[0]
        held = store.query(
            "SELECT count(*) AS n, count(*) FILTER (last_outcome_category = 'Offender given a caution') AS c "
            "FROM street_crimes"
        )
        ing = store.query(
            "SELECT ingest_id, replaces, rows_replaced FROM ingests ORDER BY ingest_id"
        )
        parts = store.query("SELECT ingest_id, rows FROM partitions")
    assert held.n[0] == len(newer)
    assert second.rows_loaded == 50 and second.rows_duplicate == len(newer) - 50
    assert second.rows_replaced == first.rows_read - second.rows_duplicate == 150
    assert ing.replaces.iloc[1] == str(first.ingest_id)
    assert parts.ingest_id.tolist() == [second.ingest_id] and parts.rows.tolist() == [len(newer)]
    base_cautions = sum(
        r["Last outcome category"] == "Offender given a caution" for r in rows[:-100]
    )
    assert held.c[0] == base_cautions + 50


def test_identical_rows_within_a_file_are_all_kept(kent_store):
    """ASB reports carry no ID: identical rows in one published file are distinct records."""
    n = kent_store.query(
        """SELECT sum(c - 1) AS extra FROM (
             SELECT count(*) AS c FROM street_crimes GROUP BY ALL_COLUMNS_EXCEPT_SOURCE) WHERE c > 1""".replace(
            "GROUP BY ALL_COLUMNS_EXCEPT_SOURCE",
            "GROUP BY crime_id, month, falls_within, longitude, latitude, location, lsoa_code, "
            "crime_type, last_outcome_category, source_id",
        )
    ).extra[0]
    assert n > 11_000


def test_zip_archive_and_folder_tree(tmp_path):
    """The police.uk download: a zip of YYYY-MM/ folders."""
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for src in (KENT_STREET[0], KENT_STOP_SEARCH[0]):
            name = src.name.replace(".gz", "")
            zf.writestr(f"{name[:7]}/{name}", gzip.decompress(src.read_bytes()))
    tree = tmp_path / "tree" / "2024-02"
    tree.mkdir(parents=True)
    shutil.copy(KENT_STREET[1], tree / KENT_STREET[1].name)
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(store, [archive, tmp_path / "tree"])
        months = store.query(
            "SELECT DISTINCT kind, strftime(month, '%Y-%m') AS m FROM partitions ORDER BY 1, 2"
        )
    assert rep.ok and len(rep.files) == 3
    assert rep.rows_loaded == rep.rows_read
    assert [tuple(r) for r in months.itertuples(index=False)] == [
        ("stop_search", "2018-01"),
        ("street", "2024-01"),
        ("street", "2024-02"),
    ]


def test_stop_search_header_variants_and_values(tmp_path):
    files = sorted(EXCERPTS.glob("*stop-and-search*.csv"))
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(store, files)
        df = store.query(
            """SELECT strftime(month, '%Y-%m') AS m, count(*) AS n,
                      count(*) FILTER (removal_of_more_than_just_outer_clothing IS NULL) AS strip_null,
                      count(*) FILTER (age_range IS NULL) AS no_age,
                      count(*) FILTER (latitude IS NULL) AS no_coords
               FROM stop_searches GROUP BY 1 ORDER BY 1"""
        )
    assert rep.ok and rep.rows_rejected == 0
    # SOURCES.md: 69 rows (2019 excerpt, last column always empty), 67 rows (2024 excerpt, True/False).
    assert df.n.tolist() == [69, 67]
    assert df.strip_null.tolist() == [69, 0]


def test_stop_search_dates_are_utc_and_keep_the_file_month(kent_store):
    """Rows dated 23:xx UTC on the last day of the previous month stay in their file's month."""
    df = kent_store.query(
        "SELECT count(*) AS n FROM stop_searches WHERE date_trunc('month', datetime) < month"
    )
    assert df.n[0] == 10  # SOURCES.md section 8: 2 Apr, 1 Jun, 2 Jul, 5 Aug


def test_out_of_area_rows_are_kept_and_flagged(kent_store):
    df = kent_store.query(
        "SELECT lad_name, count(*) AS n FROM street_crimes WHERE out_of_area GROUP BY 1 ORDER BY 2 DESC"
    )
    names = set(df.lad_name)
    assert "Bexley" in names and "Wealden" in names
    assert df.n[df.lad_name == "Bexley"].iloc[0] == 42  # SOURCES.md: 42 Bexley rows in 16 months
    inside = kent_store.query(
        "SELECT count(DISTINCT lad_code) AS n FROM street_crimes WHERE out_of_area = FALSE"
    ).n[0]
    assert inside == 13


def test_placement_of_2021_codes(kent_store):
    """2021-only LSOA codes are placed by point in a 2011 polygon; only no-location rows are left."""
    df = kent_store.query(
        """SELECT coalesce(placed_by, 'unplaced') AS how, count(*) AS n,
                  count(*) FILTER (longitude IS NULL) AS no_loc,
                  count(*) FILTER (lsoa_code LIKE 'E01034%' OR lsoa_code LIKE 'E01035%') AS new_codes
           FROM street_crimes GROUP BY 1"""
    ).set_index("how")
    assert df.loc["point", "n"] > 20_000  # about 10% of located rows (SOURCES.md section 4)
    assert df.loc["point", "new_codes"] > 0.9 * df.loc["point", "n"]
    assert df.loc["unplaced", "n"] == df.loc["unplaced", "no_loc"]


@pytest.mark.parametrize("name", ["2025-06-kent-outcomes.EXCERPT.csv"])
def test_outcomes_excerpt(tmp_path, name):
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(store, [EXCERPTS / name])
        df = store.query(
            "SELECT count(*) AS n, count(*) FILTER (longitude IS NULL) AS noloc FROM outcomes"
        )
    assert rep.ok and df.n[0] == 25 == rep.rows_loaded
    expected_noloc = sum(1 for r in _csv_rows(EXCERPTS / name) if not r["Longitude"])
    assert df.noloc[0] == expected_noloc


def test_line_numbers_of_rejects_point_at_the_right_line(tmp_path):
    """The fast (DuckDB) path maps rows back to physical lines; check with planted bad dates."""
    text = gzip.decompress(KENT_STREET[0].read_bytes()).decode()
    lines = text.split("\n")
    bad_at = [2, 777, 5000, len([x for x in lines if x])]  # 1-based physical line numbers
    for ln in bad_at:
        parts = next(csv.reader(io.StringIO(lines[ln - 1])))
        parts[1] = "2024-13"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(parts)
        lines[ln - 1] = buf.getvalue() + ("\r" if lines[ln - 1].endswith("\r") else "")
    path = tmp_path / "2024-01-kent-street.csv"
    path.write_text("\n".join(lines))
    with Store.open(tmp_path / "s.duckdb") as store:
        f = ingest_paths(store, [path]).files[0]
        rej = store.query("SELECT line, reason, raw FROM rejects ORDER BY line")
    assert f.parser == "duckdb"
    assert rej.line.tolist() == bad_at
    assert all("2024-13" in r for r in rej.raw) and all("Month" in r for r in rej.reason)
    assert f.reconciles and f.rows_rejected == 4
