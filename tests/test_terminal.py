"""Issue 12, terminal: long commands show stages on stderr and --quiet silences them; tables fit
80 columns and tell files apart."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harmscope.commands.ingest import _print_summary, short_file_names


def test_short_file_names_keep_the_distinguishing_part():
    files = [
        "/d/kent/street/2025-01-kent-street.csv.gz",
        "/d/comparison/street/2025-01-essex-street.csv.gz",
        "/d/kent/stop-and-search/2018-01-kent-stop-and-search.csv",
        "/d/a/2025-01-city-of-london-street.csv",
        "/d/b/2025-01-city-of-london-street.csv",  # the same file in two folders
        "/d/x/my extract.zip",
    ]
    assert short_file_names(files) == [
        "kent",
        "essex",
        "kent",
        "a/city-of-london",
        "b/city-of-london",
        "my extract",
    ]


def _file(name, kind, months, n, status="loaded"):
    return SimpleNamespace(
        file=name,
        kind=kind,
        months=months,
        rows_read=n,
        rows_loaded=n,
        rows_duplicate=0,
        rows_rejected=0,
        status=status,
        warnings=[],
    )


def test_ingest_table_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    files = [
        _file("/d/2025-01-kent-street.csv.gz", "street", ["2025-01"], 14_201),
        _file("/d/2025-01-essex-street.csv.gz", "street", ["2025-01"], 12_144),
        _file("/d/2018-01-kent-stop-and-search.csv", "stop_search", ["2018-01"], 613, "unchanged"),
        _file("/d/kent.zip", "street", [f"2025-{m:02d}" for m in range(1, 13)], 1_240_043),
    ]
    total = sum(f.rows_read for f in files)
    report = SimpleNamespace(
        files=files, rows_read=total, rows_loaded=total, rows_duplicate=0, rows_rejected=0
    )
    _print_summary(report)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in out  # nothing cut off
    assert any(line.startswith("kent ") for line in lines)
    assert any(line.startswith("essex ") for line in lines)
    assert "unchanged" in out and "1,240,043" in out


REPORT = ["report", "--area", "Dover", "--from", "2025-03", "--to", "2025-03"]
REPORT += ["--sections", "coverage,methods"]


@pytest.mark.parametrize("quiet", [False, True])
def test_report_stages_on_stderr_and_quiet_is_quiet(kent_store_path, tmp_path, capsys, quiet):
    from harmscope.cli import main as cli_main

    args = [*REPORT, "--db", str(kent_store_path), "--out", str(tmp_path / "r.html")]
    assert cli_main([*args, *(["--quiet"] if quiet else [])]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "r.html")  # stdout: only the path, for scripts
    if quiet:
        assert err == ""
    else:
        assert "report: section coverage (1 of 2)" in err
        assert "report: writing HTML" in err


def test_hotspots_quiet_is_quiet(kent_store_path, tmp_path, capsys):
    from harmscope.cli import main as cli_main

    args = ["hotspots", "--area", "Dover", "--from", "2025-03", "--to", "2025-03"]
    args += ["--permutations", "9", "--db", str(kent_store_path)]
    assert cli_main([*args, "--out", str(tmp_path / "h.csv"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert cli_main([*args, "--out", str(tmp_path / "h.csv")]) == 0
    assert "hotspots: Gi* with 9 permutations" in capsys.readouterr().err


def test_alerts_table_fits_80_columns(kent_store_path, capsys, monkeypatch):
    from harmscope.cli import main as cli_main

    monkeypatch.setenv("COLUMNS", "80")
    assert cli_main(["alerts", "--db", str(kent_store_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Alarms for") : out.index(" exceedance and ")].splitlines()[:-1]
    assert len(table) > 3
    assert max(len(line.rstrip()) for line in table) <= 80
    assert "…" not in out
