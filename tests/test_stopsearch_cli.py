"""`harmscope stopsearch`, the report section and the demo hook, on the real Kent store."""

from __future__ import annotations

import json
from datetime import date

import pytest

from harmscope.analysis import stopsearch as ss
from harmscope.cli import main
from harmscope.commands.stopsearch import demo
from harmscope.privacy.audience import is_checked
from harmscope.report.section import ReportContext
from harmscope.report.sections import stopsearch as section
from report_helpers import report_ctx

COUNT_KEYS = (
    "searches",
    "arrests",
    "actions",
    "nfa",
    "finds",
    "finds_in_action",
    "outcome_missing",
)


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["stopsearch", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_summary_holds_the_headline_fractions(kent_store_path, kent_store, capsys):
    code, out, _ = _run(
        capsys, "--db", str(kent_store_path), "--from", "2018-01", "--to", "2018-12", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    s = payload["summary"]
    ref = ss.outcome_figures(kent_store, "2018-01", "2018-12").summary
    assert s["searches"] == ref["searches"] == 6217
    for key in ("arrest_rate", "find_rate", "no_further_action_rate", "action_rate"):
        assert 0 < s[key] < 1 and s[key] == pytest.approx(ref[key])
        low, high = s[f"{key}_ci"]
        assert low < s[key] < high
    assert payload["audience"] == "internal"
    for key in (
        "hit_rate_ethnicity",
        "disproportionality",
        "ethnicity_agreement",
        "intelligence_led",
    ):
        assert key in payload
    assert payload["disproportionality"]["summary"]["ratios_available"] is False
    assert "cells" not in payload["intelligence_led"]["tables"]


def _small_counts(records: list[dict], keys) -> list:
    return [(r, k) for r in records for k in keys if isinstance(r.get(k), int) and 0 < r[k] < 5]


def test_public_audience_suppresses_small_cells(kent_store_path, capsys):
    code, out, _ = _run(
        capsys,
        "--db",
        str(kent_store_path),
        "--from",
        "2018-07",
        "--to",
        "2018-07",
        "--json",
        "--audience",
        "public",
    )
    assert code == 0
    payload = json.loads(out)
    tables = payload["tables"]
    leg = {r["value"]: r for r in tables["by_legislation"]}
    internal = ss.outcome_figures  # the unprotected figures, for comparison
    assert payload["audience"] == "public"
    hidden = 0
    for name, records in tables.items():
        if not name.startswith("by_"):
            continue
        assert not _small_counts(records, COUNT_KEYS), name
        for r in records:
            if r["searches"] is None or r["arrests"] is None:
                assert r["arrest_rate"] is None and r["arrest_rate_low"] is None
                hidden += 1
    assert hidden > 0  # July 2018 has small groups (e.g. under-10s), so something is hidden
    assert leg  # the table is still published
    hit = payload["hit_rate_ethnicity"]["table"]
    assert not _small_counts(hit, ("searches", "finds", "non_finds"))
    for note in payload["notes"]:
        assert "(1)" not in note and "(2)" not in note
    assert internal is not None


def test_errors_exit_2_and_name_the_option(kent_store_path, capsys, tmp_path):
    code, _, err = _run(capsys, "--db", str(kent_store_path), "--from", "July")
    assert code == 2 and "--from" in err and "YYYY-MM" in err
    code, _, err = _run(
        capsys, "--db", str(kent_store_path), "--population", str(tmp_path / "nope.csv")
    )
    assert code == 2 and "--population" in err
    code, _, err = _run(capsys, "--db", str(kent_store_path), "--audience", "press")
    assert code == 2 and "--audience" in err


def test_terminal_output(kent_store_path, capsys):
    code, out, _ = _run(
        capsys, "--db", str(kent_store_path), "--from", "2018-04", "--to", "2018-12"
    )
    assert code == 0
    assert "Arrest rate" in out and "4,598" in out and "Different periods" in out


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_report_section(kent_store, audience):
    sec = section.build(report_ctx(kent_store, audience, date(2018, 1, 1), date(2018, 12, 1)))
    assert sec is not None and sec.title == "Stop and search"
    assert sec.disclosure_checked and all(is_checked(t) for t in sec.tables.values())
    assert "6,217" in sec.html and "Wilson" in sec.method
    assert "monthly_rates" in sec.charts and "monthly_rates" in sec.tables
    if audience == "public":
        for name, table in sec.tables.items():
            for col in table.attrs["harmscope_disclosure"]["count_cols"]:
                values = table[col].dropna()
                assert not ((values > 0) & (values < 5)).any(), (name, col)


def test_report_section_falls_back_to_latest_months(kent_store):
    ctx = ReportContext(
        store=kent_store, area="Kent", date_from=date(2025, 1, 1), date_to=date(2025, 12, 1)
    )
    sec = section.build(ctx)
    assert any("uses the latest records held instead: Jan 2018 to Dec 2018" in n for n in sec.notes)
    # all twelve months are held: nothing is called missing or partial
    assert not any(" months from " in n or "partial month" in n for n in sec.notes)


def test_demo_hook_writes_json(kent_store, tmp_path):
    lines = demo(kent_store, tmp_path)
    assert (tmp_path / "stopsearch.json").exists()
    payload = json.loads((tmp_path / "stopsearch.json").read_text())
    assert payload["audience"] == "public" and payload["summary"]["searches"] == 6217
    assert "arrest rate" in lines[0]


PERIODS = [(f"2018-{m:02d}", f"2018-{m:02d}") for m in range(1, 13)] + [("2018-01", "2018-12")]


@pytest.mark.parametrize("audience", ["public", "internal"])
@pytest.mark.parametrize(("first", "last"), PERIODS, ids=[f"{a}..{b}" for a, b in PERIODS])
def test_every_month_and_the_year_run_for_each_audience(
    kent_store_path, capsys, tmp_path, first, last, audience
):
    """Issue 10: one month with --audience public crashed (a suppressed count reached int())."""
    out = tmp_path / "stopsearch.json"
    code, text, err = _run(
        capsys,
        "--db",
        str(kent_store_path),
        "--from",
        first,
        "--to",
        last,
        "--audience",
        audience,
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0, err
    assert "Arrest rate" in text and "Error" not in err
    payload = json.loads(out.read_text())
    assert payload["audience"] == audience
    if audience == "public":
        for name, records in payload["tables"].items():
            assert not _small_counts(records, COUNT_KEYS), name
        hit = payload["hit_rate_ethnicity"]
        assert not _small_counts(hit["table"], ("searches", "finds", "non_finds"))


def test_public_report_section_for_one_month(kent_store):
    one_month = report_ctx(kent_store, "public", date(2018, 1, 1), date(2018, 1, 1), "Kent Police")
    sec = section.build(one_month)
    assert sec is not None and sec.title == "Stop and search" and sec.disclosure_checked
    assert all(is_checked(t) for t in sec.tables.values())
