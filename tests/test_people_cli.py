"""The people contract end to end through `harmscope.cli.main` (real store, synthetic data)."""

from __future__ import annotations

import json
import secrets

import pytest

from harmscope.cli import main
from harmscope.privacy import publish
from harmscope.store import Store


@pytest.fixture(scope="module")
def contract(tmp_path_factory):
    folder = tmp_path_factory.mktemp("people_cli")
    return folder, secrets.token_hex(32)


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_contract(contract, capsys, monkeypatch):
    folder, key = contract
    extract, db = folder / "ex.csv", folder / "p.duckdb"
    code, out, _ = _run(
        capsys,
        ["simulate", "crimes", "--seed", "5", "--out", str(extract), "--crimes", "8000", "--json"],
    )
    assert code in (0, None)
    doc = json.loads(out)
    assert doc["synthetic"] is True
    head = extract.read_text(encoding="utf-8").splitlines()[:3]
    assert head[0].startswith("# SYNTHETIC")
    assert "victim_id" in head[2] and "offender_id" in head[2]
    assert (folder / "ex.csv.truth.json").is_file()

    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    code, out, err = _run(capsys, ["crimes", "ingest", str(extract), "--db", str(db)])
    assert code == 2 and "HARMSCOPE_KEY" in err and "Traceback" not in err

    monkeypatch.setenv("HARMSCOPE_KEY", key)
    code, out, _ = _run(capsys, ["crimes", "ingest", str(extract), "--db", str(db), "--json"])
    assert code in (0, None)
    rep = json.loads(out)
    assert rep["rows_read"] == rep["rows_loaded"] + rep["rows_duplicate"] + rep["rows_rejected"]

    code, out, _ = _run(capsys, ["people", "--db", str(db), "--json", "--reps", "50"])
    assert code in (0, None)
    summary = json.loads(out)["summary"]
    for k in ("power_few_share_top5pct", "repeat_victim_rate"):
        assert 0 < summary[k] < 1
        low, high = summary[f"{k}_ci"]
        assert low <= summary[k] <= high
    truth = json.loads((folder / "ex.csv.truth.json").read_text())
    assert low <= truth["repeat_victim_rate"] <= high
    assert publish.last("people").document()["summary"] == summary  # printed = published


def test_public_gets_aggregates_only(contract, capsys, monkeypatch):
    folder, key = contract
    db = folder / "p.duckdb"
    code, out, _ = _run(
        capsys, ["people", "--db", str(db), "--json", "--audience", "public", "--reps", "30"]
    )
    assert code in (0, None)
    doc = json.loads(out)
    assert doc["audience"] == "public"
    with Store.open(db, read_only=True) as store:
        pseudonyms = store.query("SELECT pseudonym FROM persons").pseudonym
    assert not any(p in out for p in pseudonyms[:2000])
    assert "rfg" not in doc and "escalation" not in doc  # person-level tables never published
    # export of person-level tables is internal only
    code, _, err = _run(
        capsys,
        ["people", "--db", str(db), "--audience", "partner", "--export", str(folder / "exp")],
    )
    assert code == 2 and "internal only" in err


def test_internal_export_is_audited(contract, capsys, monkeypatch):
    folder, key = contract
    db = folder / "p.duckdb"
    monkeypatch.setenv("HARMSCOPE_KEY", key)
    code, out, _ = _run(
        capsys,
        [
            "people",
            "--db",
            str(db),
            "--reps",
            "30",
            "--export",
            str(folder / "exp"),
            "--truth",
            str(folder / "ex.csv.truth_persons.csv"),
        ],
    )
    assert code in (0, None), out
    assert (folder / "exp" / "rfg_ranking.csv").is_file()
    assert "precision" in out
    with Store.open(db, read_only=True) as store:
        log = store.query("SELECT action, audience, output FROM audit_log")
    exports = log[log.action == "export"]
    assert len(exports) == 2 and set(exports.audience) == {"internal"}


@pytest.mark.parametrize(
    "argv",
    [
        ["people", "--audience", "everyone"],
        ["people", "--rfg-weights", "0.5,0.5"],
        ["people", "--rfg-weights", "0.5,0.6,0.1"],
        ["people", "--flag-top", "1.5"],
        ["people", "--reps", "0"],
        ["simulate", "crimes", "--seed", "-1", "--out", "x.csv"],
        ["simulate", "crimes", "--seed", "1", "--out", "x.csv", "--crimes", "5"],
        ["crimes", "ingest", "missing.csv"],
    ],
)
def test_bad_inputs_are_clean_errors(argv, contract, capsys, tmp_path, monkeypatch):
    folder, key = contract
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARMSCOPE_KEY", key)
    if argv[0] != "simulate":
        argv = [*argv, "--db", str(folder / "p.duckdb")]
    code, out, err = _run(capsys, argv)
    assert code == 2 and "Error:" in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_report_section_person_level_for_internal_only(contract, tmp_path):
    from datetime import date

    from harmscope.report.render import render_html
    from report_helpers import one_section_report

    folder, _ = contract
    if not (folder / "p.duckdb").exists():
        pytest.skip("needs the store made by test_contract")
    with Store.open(folder / "p.duckdb") as store:
        pseudonyms = store.query("SELECT pseudonym FROM persons").pseudonym
        for aud in ("internal", "partner", "public"):
            report = one_section_report(
                store, "people", aud, date(2025, 1, 1), date(2025, 12, 31), area="Kent Police"
            )
            built = report.sections[0]
            html = render_html(report)
            assert "SYNTHETIC" in html
            # the flags' transparency statements are for the internal report only
            assert ("RFG harm ranking of offenders:" in html) is (aud == "internal")
            top = built.section.tables.get("rfg_top")
            if aud == "internal":
                # one person-level view: the top of the RFG ranking, marked for the
                # publishing path, with the ranking's transparency record beside it
                assert top is not None and 0 < len(top) <= 20
                assert top["rank"].tolist() == list(range(1, len(top) + 1))
                assert all(p in html for p in top.pseudonym)
                assert "INTERNAL ONLY - person-level" in html
                assert "Must not be used for:" in html
                shown = [p for p in pseudonyms if p in html]
                assert sorted(shown) == sorted(top.pseudonym)
            else:
                assert top is None and "INTERNAL ONLY" not in html
                assert not any(p in html for p in pseudonyms)
