"""The ED commands end to end (simulate, ingest, picture, export, audit, demo hook) and the
true-picture report section rendered offline in a real headless Chromium."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from harmscope.cli import main
from harmscope.privacy.pseudonymise import is_test_nhs_number
from harmscope.report.render import render_html
from harmscope.store import Store
from report_helpers import one_section_report, report_ctx

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def cli_env(kent_copy):
    folder, db = kent_copy("edcli", "cli.duckdb")
    key = folder / "partnership.key"
    key.write_text("e5915b775506c7f47df0ec987ff2939fa5ba812029a2d64e288009700c28a20f\n")
    return folder, db, key


def test_simulate_writes_a_labelled_istv_file(cli_env, capsys):
    folder, db, _ = cli_env
    out = folder / "ed_synthetic_seed5.csv"
    pol = folder / "police_synthetic_seed5.csv"
    truth = folder / "truth.json"
    rc = main(
        [
            "simulate",
            "ed",
            "--seed",
            "5",
            "--out",
            str(out),
            "--police-out",
            str(pol),
            "--truth-out",
            str(truth),
            "--db",
            str(db),
        ]
    )
    assert rc == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# SYNTHETIC")
    rows = list(csv.DictReader(lines[1:]))
    assert all(r["synthetic"] == "true" for r in rows)
    numbers = [r["nhs_number"] for r in rows if r["nhs_number"]]
    valid = [n for n in numbers if is_test_nhs_number(n)]
    assert len(valid) / len(numbers) > 0.97  # the rest are deliberate typos
    assert all(n.startswith("999") for n in numbers)
    t = json.loads(truth.read_text())
    assert len(t["hidden_hotspots"]) == 2 and t["population"] > len(rows)


def test_ingest_needs_a_key_then_works(cli_env, capsys, monkeypatch):
    folder, db, key = cli_env
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    out = folder / "ed_synthetic_seed5.csv"
    assert main(["ed", "ingest", str(out), "--db", str(db)]) == 2
    assert "HARMSCOPE_KEY" in capsys.readouterr().err
    assert main(["ed", "ingest", str(out), "--db", str(db), "--key-file", str(key), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["rows_read"] == rep["rows_loaded"] + rep["rows_duplicate"] + rep["rows_rejected"]
    assert rep["synthetic"] is True
    pol = folder / "police_synthetic_seed5.csv"
    assert main(["ed", "link-police", str(pol), "--db", str(db), "--key-file", str(key)]) == 0


def test_picture_export_and_audit(cli_env, capsys):
    folder, db, _ = cli_env
    assert main(["ed", "picture", "--audience", "public", "--db", str(db), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    truth = json.loads((folder / "truth.json").read_text())
    assert res["summary"]["synthetic"] is True
    with Store.open(db, read_only=True) as store:
        names = (
            store.query(
                "SELECT DISTINCT lad_code, lad_name FROM street_crimes WHERE lad_code IS NOT NULL"
            )
            .set_index("lad_code")
            .lad_name
        )
    assert set(res["summary"]["hidden_hotspots"]) == {names[c] for c in truth["hidden_hotspots"]}
    assert (
        main(
            [
                "ed",
                "export",
                "--audience",
                "public",
                "--records",
                "--out",
                str(folder / "x"),
                "--db",
                str(db),
            ]
        )
        == 2
    )
    assert "record-level" in capsys.readouterr().err
    assert (
        main(
            [
                "ed",
                "export",
                "--audience",
                "partner",
                "--out",
                str(folder / "p"),
                "--db",
                str(db),
                "--json",
            ]
        )
        == 0
    )
    written = json.loads(capsys.readouterr().out)["written"]
    assert main(["ed", "audit", "--db", str(db), "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert {e["output"] for e in log if e["action"] == "export"} == set(written)
    assert any(e["action"] == "picture" for e in log)


def test_demo_hook(kent_store_path, tmp_path):
    from harmscope.commands.ed import demo

    db = tmp_path / "demo.duckdb"
    shutil.copy(kent_store_path, db)
    with Store.open(db) as store:
        # `harmscope demo` bundles Kent street 2025-07..12: keep only those months
        store.execute("DELETE FROM street_crimes WHERE month < DATE '2025-07-01'")
        lines = demo(store, tmp_path / "out")
    assert lines[0].startswith("SYNTHETIC ED data")
    assert "hidden hotspots found" in lines[1]
    assert (tmp_path / "out" / "ed_synthetic_seed7.csv").exists()
    assert list((tmp_path / "out" / "ed_export_public").glob("*.csv"))


def _render(store, audience: str, path: Path) -> Path:
    report = one_section_report(
        store, "true_picture", audience, date(2025, 1, 1), date(2025, 12, 1)
    )
    path.write_text(render_html(report), encoding="utf-8")
    return path


@pytest.mark.browser
def test_section_renders_offline_in_headless_chromium(cli_env, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"headless Chromium is needed for this test and was not found at {CHROMIUM}")
    _, db, _ = cli_env
    with Store.open(db) as store:
        html_path = _render(store, "public", tmp_path / "report.html")
    html = html_path.read_text()
    assert "SYNTHETIC DATA" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched at run time
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--proxy-server=127.0.0.1:9",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for chart in ("heatmap", "ratio", "weapons"):
        block = dom.split(f'id="chart-true-picture-{chart}"', 1)
        assert len(block) == 2, f"chart {chart} missing"
        assert 'class="marks"' in block[1][:4000], f"chart {chart} was not drawn"


def test_read_only_store_withholds_ed_figures(cli_env):
    from harmscope.report.sections import true_picture as section

    _, db, _ = cli_env
    with Store.open(db, read_only=True) as store:
        sec = section.build(report_ctx(store, "public", date(2025, 1, 1), date(2025, 12, 1)))
    assert "withheld" in sec.html and not sec.tables


def test_report_command_shows_ed_and_audits_it(cli_env, capsys):
    """`harmscope report` on a store with ED records opens it writable and logs the output."""
    folder, db, _ = cli_env
    with Store.open(db, read_only=True) as store:
        before = store.query("SELECT count(*) AS n FROM audit_log").n[0]
        has_ed = store.query("SELECT count(*) AS n FROM ed_assaults").n[0]
    assert has_ed > 0
    out = folder / "profile.html"
    rc = main(
        [
            "report",
            "--area",
            "Kent Police",
            "--from",
            "2025-07",
            "--to",
            "2025-12",
            "--out",
            str(out),
            "--db",
            str(db),
            "--quiet",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    html = out.read_text()
    assert "SYNTHETIC" in html.upper()
    with Store.open(db, read_only=True) as store:
        after = store.query("SELECT count(*) AS n FROM audit_log").n[0]
    assert after > before
