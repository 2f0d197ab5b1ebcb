"""The public's measures on the real Kent 2018 files: "found or arrest" and "linked with an
action" against an independent pandas count, their Wilson intervals against statsmodels,
their plain-word definitions in the text and the report, and the reconciliation note."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from harmscope.analysis import stopsearch as ss
from harmscope.cli import main
from harmscope.privacy.stopsearch import _guard_found_or_arrest
from report_helpers import one_section_report

ARREST = {"Arrest", "Suspect arrested"}
NFA = {"A no further action disposal", "Nothing found - no further action"}


@pytest.fixture(scope="module")
def apr_dec(shared_data) -> pd.DataFrame:
    folder = shared_data / "police" / "kent" / "stop-and-search"
    paths = [p for p in sorted(folder.glob("2018-*.csv.gz")) if p.name[:7] >= "2018-04"]
    return pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True
    )


@pytest.fixture(scope="module")
def figures(kent_store):
    # 0.175: the Commissioner's "around 17-18%" quoted in issue 19 (no source file holds it)
    return ss.outcome_figures(kent_store, "2018-04", "2018-12", published_rate=0.175)


def test_found_or_arrest_equals_an_independent_count(figures, apr_dec):
    linked = apr_dec["Outcome linked to object of search"] == "True"
    arrest = apr_dec.Outcome.isin(ARREST)
    action = ~apr_dec.Outcome.isin(NFA) & (apr_dec.Outcome != "")
    s = figures.summary
    assert s["searches"] == len(apr_dec) == 4598
    assert s["found_or_arrest"] == int((linked | arrest).sum())
    assert s["finds_in_action"] == int((linked & action).sum())
    for key, count in (
        ("found_or_arrest_rate", int((linked | arrest).sum())),
        ("linked_action_rate", int((linked & action).sum())),
    ):
        assert s[key] == pytest.approx(count / len(apr_dec))
        ref = proportion_confint(count, len(apr_dec), method="wilson")
        assert s[f"{key}_ci"] == pytest.approx(list(ref), abs=1e-12)
    # found or arrest is at least each of its parts and at most their sum
    assert max(s["find_rate"], s["arrest_rate"]) <= s["found_or_arrest_rate"]
    assert s["found_or_arrest_rate"] <= s["find_rate"] + s["arrest_rate"]
    # and by month, in the breakdown tables
    by_month = figures.tables["by_month"]
    assert by_month.found_or_arrest.sum() == s["found_or_arrest"]


def test_each_definition_and_the_reconciliation(figures):
    measures = figures.tables["public_measures"].set_index("measure")
    s = figures.summary
    for key in ("found_or_arrest_rate", "linked_action_rate", "find_rate", "arrest_rate"):
        assert measures.loc[key, "value"] == pytest.approx(s[key])
        assert measures.loc[key, "definition"]
        assert measures.loc[key, "gap_points"] == pytest.approx((s[key] - 0.175) * 100)
    recorded = measures.loc["found_or_arrest_recorded"]
    assert recorded.searches == s["searches"] - s["outcome_missing"]
    note = next(n for n in figures.notes if n.startswith("Reconciliation:"))
    assert "17.5%" in note
    assert f"{s['found_or_arrest_rate']:.1%}" in note and f"{s['linked_action_rate']:.1%}" in note
    assert "2018-07" in note  # the recording changes are named
    defs = next(n for n in figures.notes if n.startswith("Definitions:"))
    assert "found or arrest rate = searches where the object was found" in defs
    assert "linked action rate = searches linked to the object" in defs


def test_cli_text_and_json_show_the_measures_and_breaks(kent_store_path, capsys):
    args = ["stopsearch", "--db", str(kent_store_path), "--from", "2018-04", "--to", "2018-12"]
    assert main(args) == 0
    text = capsys.readouterr().out
    for words in (
        "Found or arrest",
        "Linked with an action",
        "Definitions:",
        "Reconciliation:",
        "2018-07 (break)",
        "Recording break in outcome groups",
        "These pooled figures span a recording change",
    ):
        assert words in text, words
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"]["spans_recording_change"] is True
    assert {r["measure"] for r in payload["tables"]["public_measures"]} >= {
        "found_or_arrest_rate",
        "linked_action_rate",
    }
    assert payload["recording_breaks"]["summary"]["breaks"] > 0


def test_report_section_shows_measures_and_breaks(kent_store):
    report = one_section_report(
        kent_store, "stopsearch", "public", date(2018, 4, 1), date(2018, 12, 1)
    )
    sec = report.sections[0].section
    assert "Found or arrest" in sec.html and "Linked with an action" in sec.html
    assert "Recording breaks." in sec.html and "July 2018" in sec.html
    assert {"public_measures", "recording_breaks", "rates_around_breaks"} <= set(sec.tables)
    assert any(n.startswith("Reconciliation:") for n in sec.notes)


def test_found_or_arrest_is_hidden_where_it_would_give_back_a_small_count():
    frame = pd.DataFrame(
        {
            "finds": [100, 100, 100],
            "arrests": [80, 80, 97],
            "found_or_arrest": [150, 103, 150],  # 103 - 100 = 3 arrests not found
            "found_or_arrest_rate": [0.5, 0.4, 0.5],
            "found_or_arrest_rate_low": [0.4, 0.3, 0.4],
            "found_or_arrest_rate_high": [0.6, 0.5, 0.6],
        }
    )
    out = _guard_found_or_arrest(frame, 5)
    assert out.found_or_arrest.isna().tolist() == [False, True, False]
    assert out.found_or_arrest_rate.isna().tolist() == [False, True, False]
