"""`make bench` output contract (issue 18): every headline figure is one line
``name: value unit (baseline value unit, ratio R)``, and benchmarks/run.py gathers them into a
closing summary and fails a full run that lacks a figure the issue names.

No timing is asserted: these check the form of the lines and that run.py finds them in a real
child process's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _common  # noqa: E402
import run  # noqa: E402


def test_figure_prints_a_line_that_parses_back(capsys):
    line = _common.figure("cli_help", 0.1523, "s", 0.0761)
    assert capsys.readouterr().out == line + "\n"
    m = _common.CONTRACT.match(line)
    assert m and m["name"] == "cli_help" and m["unit"] == m["baseline_unit"] == "s"
    assert float(m["ratio"]) == pytest.approx(0.1523 / 0.0761, abs=0.005)
    assert line == "cli_help: 0.1523 s (baseline 0.0761 s, ratio 2.00)"


def test_figure_refuses_a_name_that_would_not_parse():
    with pytest.raises(ValueError, match="not a contract line"):
        _common.figure("cli help", 1.0, "s", 2.0)


def test_run_collects_the_contract_lines_of_a_script(tmp_path, capsys):
    script = tmp_path / "bench_fake.py"
    script.write_text(
        "print('a table line: 12 ms')\n"
        "print('cli_help: 0.2 s (baseline 0.1 s, ratio 2.00)')\n"
        "print('ingest_vs_bare_read: 3.1 s wall (baseline 2 s wall, ratio 1.55)')\n"
        "print('not: a figure (baseline, ratio)')\n"
    )
    rc, found = run.run_script(script)
    assert rc == 0
    assert found == [
        "cli_help: 0.2 s (baseline 0.1 s, ratio 2.00)",
        "ingest_vs_bare_read: 3.1 s wall (baseline 2 s wall, ratio 1.55)",
    ]
    assert "a table line: 12 ms" in capsys.readouterr().out  # the script's own output is kept
    missing = run.summary([(script.name, line) for line in found], check_required=True)
    out = capsys.readouterr().out
    assert "=== summary: 2 figures ===" in out and found[0] in out.splitlines()
    assert missing == [n for n in run.REQUIRED if n not in ("cli_help", "ingest_vs_bare_read")]
    assert "missing contract figures: report_force_year" in out
