"""Broken inputs: every row is loaded or quarantined, whole-file errors are clear, the store is safe."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import COMPARISON_STREET, KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

_STREET_LINES = gzip.decompress(KENT_STREET[-1].read_bytes()).split(b"\n")
HEADER = _STREET_LINES[0]
SAMPLE = [ln for ln in _STREET_LINES[1:400] if ln]
_SS_LINES = gzip.decompress(KENT_STOP_SEARCH[0].read_bytes()).split(b"\n")
SS_HEADER, SS_SAMPLE = _SS_LINES[0], [ln for ln in _SS_LINES[1:200] if ln]


def _mutate(line: bytes, how: str, draw_int: int) -> bytes:
    fields = line.split(b",")
    if how == "truncate":
        return line[: max(1, draw_int % max(1, len(line)))]
    if how == "extra":
        return line + b",extra"
    if how == "missing":
        return b",".join(fields[:-2])
    if how == "bad_month":
        fields[1] = [b"2025-13", b"Jan 2025", b"", b"2025/01"][draw_int % 4]
        return b",".join(fields)
    if how == "bad_coord":
        fields[4] = b"east"
        return b",".join(fields)
    if how == "non_utf8":
        pos = draw_int % max(1, len(line))
        return line[:pos] + b"\xff\xfe" + line[pos:]
    if how == "stray_quote":
        return line.replace(b",", b',"', 1)
    if how == "blank":
        return b""
    return line


MUTATIONS = [
    "keep",
    "keep",
    "keep",
    "truncate",
    "extra",
    "missing",
    "bad_month",
    "bad_coord",
    "non_utf8",
    "stray_quote",
    "blank",
]


@st.composite
def broken_file(draw, header=HEADER, sample=SAMPLE):
    n = draw(st.integers(min_value=0, max_value=40))
    rows = []
    for _ in range(n):
        line = sample[draw(st.integers(0, len(sample) - 1))]
        how = draw(st.sampled_from(MUTATIONS))
        rows.append(_mutate(line, how, draw(st.integers(0, 10_000))))
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    trailing = draw(st.booleans())
    body = eol.join(r.rstrip(b"\r") for r in [header, *rows])
    return bom + body + (eol if trailing else b"")


def _independent_row_count(data: bytes) -> int:
    lines = data.split(b"\n")[1:]
    return sum(1 for ln in lines if ln.strip(b"\r\t "))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=broken_file(), gz=st.booleans())
def test_rows_are_conserved_in_broken_street_files(tmp_path_factory, data, gz):
    d = tmp_path_factory.mktemp("broken")
    path = d / ("2025-12-kent-street.csv" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    with Store.open(d / "s.duckdb") as store:
        f = ingest_paths(store, [path]).files[0]
        # A file whose every row is rejected has status "rejected" (issue 20).
        all_bad = f.rows_read > 0 and f.rows_rejected == f.rows_read
        assert f.status == ("rejected" if all_bad else "loaded"), f.error
        held = store.query("SELECT count(*) AS n FROM street_crimes").n[0]
        rejected = store.query(
            "SELECT count(*) AS n, count(*) FILTER (line IS NULL OR reason = '') AS bad FROM rejects"
        )
    assert f.rows_read == _independent_row_count(data)
    assert f.reconciles
    assert held == f.rows_loaded
    assert rejected.n[0] == f.rows_rejected and rejected.bad[0] == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=broken_file(header=SS_HEADER, sample=SS_SAMPLE))
def test_rows_are_conserved_in_broken_stop_search_files(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("broken")
    path = d / "2018-01-kent-stop-and-search.csv"
    path.write_bytes(data)
    with Store.open(d / "s.duckdb") as store:
        f = ingest_paths(store, [path]).files[0]
        held = store.query("SELECT count(*) AS n FROM stop_searches").n[0]
    all_bad = f.rows_read > 0 and f.rows_rejected == f.rows_read  # status "rejected" (issue 20)
    assert f.status == ("rejected" if all_bad else "loaded"), f.error
    assert f.rows_read == _independent_row_count(data) and f.reconciles and held == f.rows_loaded


def test_reject_reasons_name_the_problem(tmp_path):
    good = SAMPLE[0]
    lines = [
        HEADER,
        good,
        _mutate(good, "missing", 0),
        _mutate(good, "bad_month", 0),
        _mutate(good, "non_utf8", 5),
        good,
    ]
    path = tmp_path / "2025-12-kent-street.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with Store.open(tmp_path / "s.duckdb") as store:
        f = ingest_paths(store, [path]).files[0]
        rej = store.query("SELECT file, line, reason, raw FROM rejects ORDER BY line")
    assert f.parser == "python" and (f.rows_read, f.rows_loaded, f.rows_rejected) == (5, 2, 3)
    assert rej.line.tolist() == [3, 4, 5]
    assert "expected 12 fields, found 10" in rej.reason[0]
    assert "Month" in rej.reason[1]
    assert "UTF-8" in rej.reason[2] and "\\xff" in rej.raw[2]
    assert rej.file[0] == str(path)


def test_whole_file_errors_are_clear_and_others_still_load(tmp_path):
    notpolice = tmp_path / "people.csv"
    notpolice.write_text("name,age\nann,3\n")
    truncated = tmp_path / "2025-01-kent-street.csv.gz"
    truncated.write_bytes(KENT_STREET[4].read_bytes()[:5000])
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    ss_noname = tmp_path / "searches.csv"
    ss_noname.write_bytes(SS_HEADER + b"\n" + SS_SAMPLE[0] + b"\n")
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(
            store,
            [
                notpolice,
                truncated,
                binary,
                empty,
                ss_noname,
                KENT_STREET[0],
                tmp_path / "missing.csv",
            ],
        )
        n = store.query("SELECT count(*) AS n FROM street_crimes").n[0]
        n_ing = store.query("SELECT count(*) AS n FROM ingests").n[0]
    errors = {os.path.basename(f.file): f.error for f in rep.files if f.status == "failed"}
    assert set(errors) == {
        "people.csv",
        "2025-01-kent-street.csv.gz",
        "image.csv",
        "empty.csv",
        "searches.csv",
        "missing.csv",
    }
    assert "line 1" in errors["people.csv"] and "not police open data" in errors["people.csv"]
    assert "truncated" in errors["2025-01-kent-street.csv.gz"]
    assert "binary" in errors["image.csv"]
    assert "empty" in errors["empty.csv"]
    assert "--force" in errors["searches.csv"]
    assert "no such file" in errors["missing.csv"]
    assert all("Fix:" in e for e in errors.values())
    assert n == rep.rows_loaded > 0 and n_ing == 1


def test_cli_error_exit_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "people.csv"
    bad.write_text("name,age\nann,3\n")
    code = main(
        [
            "ingest",
            str(bad),
            str(KENT_STOP_SEARCH[0]),
            "--db",
            str(tmp_path / "s.duckdb"),
            "--quiet",
        ]
    )
    out = capsys.readouterr()
    assert code == 1
    assert "Error:" in out.err and "people.csv" in out.err and "Traceback" not in out.err
    with Store.open(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM stop_searches").n[0] == 613


def test_force_option_for_renamed_stop_search_file(tmp_path):
    path = tmp_path / "searches.csv"
    path.write_bytes(gzip.decompress(KENT_STOP_SEARCH[0].read_bytes()))
    with Store.open(tmp_path / "s.duckdb") as store:
        f = ingest_paths(store, [path], force="Kent Police").files[0]
        df = store.query("SELECT DISTINCT force, strftime(month, '%Y-%m') AS m FROM stop_searches")
    assert f.status == "loaded"
    assert df.force.tolist() == ["Kent Police"] and df.m.tolist() == ["2018-01"]


_KILL_SCRIPT = """
import sys
from harmscope.store import Store
from harmscope.sources.ingest import ingest_paths
store = Store.open(sys.argv[1])
ingest_paths(store, sys.argv[2:], on_file=lambda f: print("done", f.file, flush=True))
"""


def _consistent(db) -> tuple[int, int]:
    with Store.open(db) as store:
        bad = store.query(
            """WITH held AS (SELECT source_id, count(*) AS n FROM street_crimes GROUP BY 1)
               SELECT count(*) AS n FROM ingests i FULL JOIN held h ON i.ingest_id = h.source_id
               WHERE h.n IS DISTINCT FROM i.rows_read - i.rows_rejected"""
        ).n[0]
        parts = store.query(
            """WITH held AS (SELECT falls_within AS force, month, count(*) AS n FROM street_crimes GROUP BY ALL)
               SELECT count(*) AS n FROM partitions p FULL JOIN held h USING (force, month)
               WHERE p.rows IS DISTINCT FROM h.n"""
        ).n[0]
        loaded = store.query("SELECT count(*) AS n FROM ingests").n[0]
    return bad + parts, loaded


def test_killing_mid_ingest_leaves_the_store_consistent(tmp_path):
    """SIGKILL part-way through a file, twice; then resume. Invariants hold every time."""
    db = tmp_path / "k.duckdb"
    files = [str(p) for p in [*KENT_STREET, *COMPARISON_STREET[:8]]]
    for files_before_kill, pause in ((2, 0.05), (5, 0.2)):
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILL_SCRIPT, str(db), *files], stdout=subprocess.PIPE
        )
        seen = 0
        while seen < files_before_kill:
            line = proc.stdout.readline()
            assert line, "ingest ended before it could be killed"
            seen += line.startswith(b"done")
        time.sleep(pause)  # now inside the next file
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        problems, n_loaded = _consistent(db)
        assert problems == 0
    assert 0 < n_loaded < len(files)  # killed part-way
    # Resuming finishes the job without double counting.
    with Store.open(db) as store:
        ingest_paths(store, files)
    problems, n_loaded = _consistent(db)
    assert problems == 0 and n_loaded == len(files)
