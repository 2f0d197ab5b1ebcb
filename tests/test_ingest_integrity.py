"""Issue 20, findings 3-6: ingest never loses or doubles rows silently, on the real files.

- a month never shrinks unseen (peak kept in partition_history), and a file already ingested
  restores a month a later file replaced; duplicate counts are true counts;
- the same ED file under two keys is refused;
- a stop-and-search file's month comes from its rows;
- nested zips, all-rejected files, zip bombs, a full disk, a damaged store, an unknown --force
  and a weak key are clear errors with a non-zero exit.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.errors import HarmscopeError, InputFileError
from harmscope.privacy.pseudonymise import MAKE_KEY, Pseudonymiser, load_key
from harmscope.sources import files as files_mod
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

JAN_2025 = KENT_STREET[4]  # 2025-01-kent-street.csv.gz: 14,201 rows (SOURCES.md)
FULL = 14_201


def _subset(src: Path, fraction: float, folder: Path) -> tuple[Path, int]:
    """The first ``fraction`` of a real file's rows, under the police.uk name, in ``folder``."""
    lines = gzip.decompress(src.read_bytes()).splitlines(keepends=True)
    keep = int((len(lines) - 1) * fraction)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / src.name.removesuffix(".gz")
    out.write_bytes(b"".join(lines[: keep + 1]))
    return out, keep


def _month_rows(store: Store, month: str = "2025-01") -> int:
    return int(
        store.query(
            "SELECT count(*) AS n FROM street_crimes WHERE strftime(month, '%Y-%m') = ?", [month]
        ).n[0]
    )


def test_the_released_police_migration_runs_the_same_sql():
    """m001's SQL is built from a shared column block; a store made by an earlier release
    must still have been made by exactly this text (hash of the SQL released in v1)."""
    import hashlib

    from harmscope.store.migrations import m001_police

    digest = hashlib.sha256(m001_police.SQL.encode()).hexdigest()
    assert digest == "bdd3e6202ca8ae879f335ca0fa7cbe57fc869f1fd166edbe10a5455270d2d59b"


# -- finding 3: a month that shrinks -------------------------------------------------------------


def test_partial_file_does_not_replace_a_full_month(tmp_path):
    part, n = _subset(JAN_2025, 0.6, tmp_path / "part")
    with Store.open(tmp_path / "s.duckdb") as store:
        full = ingest_paths(store, [JAN_2025]).files[0]
        f = ingest_paths(store, [part]).files[0]
        held = _month_rows(store)
        n_ingests = store.query("SELECT count(*) AS n FROM ingests").n[0]
    assert full.rows_loaded == FULL and n == 8_520
    assert f.status == "failed"
    assert "8,520 rows" in f.error and "14,201" in f.error and "--allow-shrink" in f.error
    assert held == FULL and n_ingests == 1


def test_shrinking_in_steps_is_measured_against_the_peak(tmp_path):
    """60% allowed, then 10%: the 10% is refused because the month once held 14,201, although
    the store now holds 8,520 (the old 'under half of what is stored' warning never fired)."""
    sixty, n60 = _subset(JAN_2025, 0.6, tmp_path / "sixty")
    ten, n10 = _subset(JAN_2025, 0.1, tmp_path / "ten")
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [JAN_2025])
        allowed = ingest_paths(store, [sixty], allow_shrink=True).files[0]
        after_sixty = _month_rows(store)
        refused = ingest_paths(store, [ten]).files[0]
        held = _month_rows(store)
        hist = store.con.execute(
            "SELECT rows, previous_rows, peak_rows, shrink_allowed FROM partition_history "
            "ORDER BY ingest_id"
        ).fetchall()
    assert allowed.status == "loaded" and any("--allow-shrink" in w for w in allowed.warnings)
    assert after_sixty == n60 == 8_520
    assert refused.status == "failed" and f"{n10:,} rows" in refused.error
    assert "the most it has held is 14,201" in refused.error
    assert held == n60
    assert hist == [(FULL, None, FULL, False), (n60, FULL, FULL, True)]


def test_reingesting_the_original_file_restores_the_month(tmp_path):
    sixty, n60 = _subset(JAN_2025, 0.6, tmp_path / "sixty")
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [JAN_2025])
        ingest_paths(store, [sixty], allow_shrink=True)
        restore = ingest_paths(store, [JAN_2025]).files[0]
        held = _month_rows(store)
        again = ingest_paths(store, [JAN_2025]).files[0]
        parts = store.query("SELECT ingest_id, rows FROM partitions")
    assert restore.status == "loaded" and any("restore" in w for w in restore.warnings)
    assert restore.rows_duplicate == n60 and restore.rows_loaded == FULL - n60  # true counts
    assert restore.reconciles and held == FULL
    assert again.status == "unchanged" and again.rows_duplicate == FULL
    assert parts.values.tolist() == [[restore.ingest_id, FULL]]


def test_force_reload_loads_an_ingested_file_again(tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(JAN_2025), "--db", db, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(JAN_2025), "--db", db, "--force-reload", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)["files"][0]
    assert f["status"] == "loaded" and f["rows_duplicate"] == FULL and f["rows_loaded"] == 0
    with Store.open(db, read_only=True) as store:
        assert _month_rows(store) == FULL


def test_cli_allow_shrink_is_recorded(tmp_path, capsys):
    sixty, n60 = _subset(JAN_2025, 0.6, tmp_path / "sixty")
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(JAN_2025), "--db", db, "--quiet"]) == 0
    assert main(["ingest", str(sixty), "--db", db, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "--allow-shrink" in err and "Traceback" not in err
    assert main(["ingest", str(sixty), "--db", db, "--quiet", "--allow-shrink"]) == 0
    with Store.open(db, read_only=True) as store:
        assert _month_rows(store) == n60
        assert (
            store.query("SELECT count(*) AS n FROM partition_history WHERE shrink_allowed").n[0]
            == 1
        )


# -- finding 4: the same ED file under two keys --------------------------------------------------


def test_same_ed_file_under_another_key_is_refused(tmp_path):
    from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv
    from harmscope.sources.ed import ingest_ed

    key_a = bytes.fromhex("5be3c1f0a97d24e86c0f3b1a9d42e7c5")  # two random 128-bit keys
    key_b = bytes.fromhex("e07a4d91c6b25f38a1d9047cb3e6f215")
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [JAN_2025])
        sim = simulate_ed(police_volumes(store), seed=5)
        path = write_ed_csv(sim, tmp_path / "ed.csv")
        first = ingest_ed(store, path, key=key_a)
        count = lambda: int(store.query("SELECT count(*) AS n FROM ed_assaults").n[0])  # noqa: E731
        before = count()
        with pytest.raises(InputFileError, match="another pseudonymisation key"):
            ingest_ed(store, path, key=key_b)
        copy = tmp_path / "renamed" / "ed_copy.csv"
        copy.parent.mkdir()
        shutil.copy(path, copy)
        with pytest.raises(InputFileError, match="already loaded as ingest"):
            ingest_ed(store, copy, key=key_b)
        same_key = ingest_ed(store, copy, key=key_a)  # same key: harmless, all duplicates
        after = count()
    assert first.rows_loaded == before > 0
    assert after == before
    assert same_key.rows_loaded == 0
    assert same_key.rows_duplicate == same_key.rows_read - same_key.rows_rejected


# -- finding 5: a stop-and-search month comes from the rows --------------------------------------


def test_renamed_stop_search_file_cannot_replace_another_month(tmp_path):
    jan, feb = KENT_STOP_SEARCH[0], KENT_STOP_SEARCH[1]
    renamed = tmp_path / "x" / feb.name  # January's rows under February's name
    renamed.parent.mkdir()
    shutil.copy(jan, renamed)
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [feb])
        f = ingest_paths(store, [renamed]).files[0]
        months = store.query(
            "SELECT strftime(month, '%Y-%m') AS m, count(*) AS n FROM stop_searches GROUP BY 1"
        )
    assert f.status == "failed"
    assert "says 2018-02" in f.error and "dated 2018-01" in f.error and "613 of 613" in f.error
    assert months.values.tolist() == [["2018-02", 500]]


def test_stop_search_month_from_rows_keeps_time_zone_strays(kent_store):
    """The April file has 2 searches at 23:xx UTC on 31 March: they stay in April."""
    got = kent_store.query(
        "SELECT strftime(month, '%Y-%m') AS m, count(*) AS n FROM stop_searches "
        "WHERE m IN ('2018-03', '2018-04') GROUP BY 1 ORDER BY 1"
    )
    assert got.values.tolist() == [["2018-03", 506], ["2018-04", 574]]


# -- finding 6: archives, rejected files, zip bombs ----------------------------------------------


def test_zip_holding_only_a_zip_is_an_error(tmp_path, capsys):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr(
            "2018-01-kent-stop-and-search.csv", gzip.decompress(KENT_STOP_SEARCH[0].read_bytes())
        )
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "download/inner.zip")
    empty = tmp_path / "readme.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README.txt", "nothing here")
    code = main(["ingest", str(outer), str(empty), "--db", str(tmp_path / "s.duckdb"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "inner.zip" in err and "nothing in it was ingested" in err
    assert "holds no CSV files" in err and err.count("Fix:") == 2


def test_file_with_every_row_rejected_is_status_rejected(tmp_path, capsys):
    text = gzip.decompress(JAN_2025.read_bytes()).decode()
    header, *rows = text.splitlines()
    bad = tmp_path / "bad" / JAN_2025.name.removesuffix(".gz")
    bad.parent.mkdir()
    bad.write_text(
        "\n".join([header, *(r.replace(",2025-01,", ",January 2025,", 1) for r in rows)]) + "\n"
    )
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(JAN_2025), "--db", db, "--quiet"]) == 0
    capsys.readouterr()
    code = main(["ingest", str(bad), "--db", db, "--json"])
    out = capsys.readouterr()
    rep = json.loads(out.out)
    assert code == 1
    assert rep["files"][0]["status"] == "rejected" and rep["files_rejected"] == 1
    assert rep["rows_rejected"] == FULL and rep["rows_loaded"] == 0
    assert out.err.startswith("Error:") and "every row" in out.err
    with Store.open(db, read_only=True) as store:
        assert _month_rows(store) == FULL  # the month it named is untouched
        assert store.query("SELECT count(*) AS n FROM rejects").n[0] == FULL
    # Again: still rejected, still non-zero.
    assert main(["ingest", str(bad), "--db", db, "--quiet"]) == 1


def _bomb(path: Path, member: str, size: int) -> None:
    block = b"0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(member, "w", force_zip64=True) as fh:
            for _ in range(size >> 20):
                fh.write(block)


def test_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = tmp_path / "bomb.zip"
    _bomb(bomb, "2025-01-kent-street.csv", 400 << 20)
    gz = tmp_path / "2025-01-kent-street.csv.gz"
    with gzip.open(gz, "wb") as fh:
        for _ in range(400):
            fh.write(b"0" * (1 << 20))
    assert bomb.stat().st_size < 1 << 20 and gz.stat().st_size < 1 << 20
    with Store.open(tmp_path / "s.duckdb") as store:
        t0 = time.perf_counter()
        rep = ingest_paths(store, [bomb, gz])
        seconds = time.perf_counter() - t0
    errors = [f.error for f in rep.files]
    assert [f.status for f in rep.files] == ["failed", "failed"]
    assert all("zip bomb" in e and "Fix:" in e for e in errors), errors
    assert seconds < 5


def test_archive_total_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "MAX_ARCHIVE_BYTES", 1 << 20)
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for src in KENT_STREET[:2]:
            zf.writestr(src.name.removesuffix(".gz"), gzip.decompress(src.read_bytes()))
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(store, [archive])
    assert rep.files[0].status == "failed" and "limit for one archive" in rep.files[0].error


# -- finding 6: a full disk and a damaged store --------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs (needs root): a real full disk, not a simulated one."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_is_a_one_line_error_with_json(tiny_disk, capsys):
    db = str(tiny_disk / "s.duckdb")
    files = [str(KENT_STOP_SEARCH[0]), str(JAN_2025), str(KENT_STOP_SEARCH[1])]
    code = main(["ingest", *files, "--db", db, "--json"])
    out = capsys.readouterr()
    assert code == 2
    rep = json.loads(out.out)
    assert "disk is full" in rep["error"] and "Fix:" in rep["error"]
    assert [f["status"] for f in rep["files"]] == ["loaded", "failed"]  # stopped at the full disk
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "disk is full" in lines[0]
    assert "unexpected" not in out.err and "Traceback" not in out.err
    with Store.open(db, read_only=True) as store:  # what was committed is intact
        assert store.query("SELECT count(*) AS n FROM stop_searches").n[0] == 613
        assert store.query("SELECT count(*) AS n FROM street_crimes").n[0] == 0


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    good = folder / "good.duckdb"
    with Store.open(good) as store:
        ingest_paths(store, [JAN_2025, KENT_STREET[5]])
    corrupt = folder / "corrupt.duckdb"
    shutil.copy(good, corrupt)
    n = corrupt.stat().st_size
    with corrupt.open("r+b") as fh:
        for off in range(n // 3, n, n // 7):
            fh.seek(off)
            fh.write(b"\xde\xad\xbe\xef" * 256)
    truncated = folder / "truncated.duckdb"
    shutil.copy(good, truncated)
    os.truncate(truncated, 1_000_000)
    return folder


@pytest.mark.parametrize("name", ["corrupt", "truncated"])
def test_damaged_store_is_a_clear_error_and_report_fails(damaged, name, capsys, tmp_path):
    db = str(damaged / f"{name}.duckdb")
    assert main(["status", "--db", db, "--json"]) == 2
    out = capsys.readouterr()
    assert "damaged" in json.loads(out.out)["error"]["problem"]
    assert out.err.startswith("Error:") and "unexpected" not in out.err
    html = tmp_path / "r.html"
    code = main(
        ["report", "--area", "Kent Police", "--from", "2025-01", "--to", "2025-02",
         "--out", str(html), "--db", db, "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "damaged" in err and "Fix:" in err, err
    assert not html.exists()


# -- finding 6: --force and the key --------------------------------------------------------------


def test_unknown_force_is_refused(tmp_path, capsys):
    path = tmp_path / "searches.csv"
    path.write_bytes(gzip.decompress(KENT_STOP_SEARCH[0].read_bytes()))
    db = tmp_path / "s.duckdb"
    assert main(["ingest", str(path), "--force", "Narnia", "--db", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "'Narnia'" in err and "Kent Police" in err
    assert not db.exists()
    assert main(["ingest", str(path), "--force", "kent", "--db", str(db), "--quiet"]) == 0
    assert main(["ingest", str(path), "--force", "british transport police", "--db",
                 str(tmp_path / "b.duckdb"), "--quiet"]) == 0  # fmt: skip
    with Store.open(db, read_only=True) as store:
        assert store.query("SELECT DISTINCT force FROM stop_searches").force.tolist() == [
            "Kent Police"
        ]


@pytest.mark.parametrize(
    "key",
    [
        "aaaaaaaaaaaaaaaa",
        "a" * 64,
        "0123456789abcdef" * 2,
        "abcdefghijklmnopqrstuvwxyz012345",
        "password1234567",
    ],
)
def test_weak_keys_are_refused(key, monkeypatch, tmp_path):
    monkeypatch.setenv("HARMSCOPE_KEY", key)
    with pytest.raises(HarmscopeError) as exc:
        load_key()
    assert "secrets.token_hex(32)" in str(exc.value) and "HARMSCOPE_KEY" in str(exc.value)
    f = tmp_path / "k.key"
    f.write_text(key + "\n")
    with pytest.raises(HarmscopeError, match="--key-file"):
        load_key(f)
    with pytest.raises(HarmscopeError):
        Pseudonymiser(key.encode())


def test_random_keys_are_accepted(monkeypatch):
    import secrets

    for _ in range(2000):
        monkeypatch.setenv("HARMSCOPE_KEY", secrets.token_hex(16))  # the minimum: 128 bits
        load_key()
    Pseudonymiser(secrets.token_bytes(16))
    assert "secrets.token_hex(32)" in MAKE_KEY
