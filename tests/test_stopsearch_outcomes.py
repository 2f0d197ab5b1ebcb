"""Outcome figures on the real Kent 2018 stop-and-search files, checked against an independent
count made with the csv module over the same gzipped files."""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from harmscope.analysis import stopsearch as ss
from harmscope.errors import HarmscopeError
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

SHARED = Path(os.environ.get("HARMSCOPE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
KENT = SHARED / "data" / "police" / "kent"
KENT_STOP_SEARCH = sorted((KENT / "stop-and-search").glob("*.csv.gz"))
EXCERPTS = KENT / "excerpts"

# Written out here, not read from the package, so the count is independent of the mapping.
ARREST = {"Arrest", "Suspect arrested"}
NFA = {"A no further action disposal", "Nothing found - no further action"}


def _rows(paths) -> list[dict]:
    rows = []
    for path in paths:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                row["_month"] = Path(path).name[:7]
                rows.append(row)
    return rows


@pytest.fixture(scope="module")
def csv_rows() -> list[dict]:
    assert len(KENT_STOP_SEARCH) == 12
    return _rows(KENT_STOP_SEARCH)


def _independent(rows: list[dict]) -> dict[str, int]:
    return {
        "searches": len(rows),
        "arrests": sum(r["Outcome"] in ARREST for r in rows),
        "nfa": sum(r["Outcome"] in NFA for r in rows),
        "actions": sum(r["Outcome"] not in NFA and r["Outcome"] != "" for r in rows),
        "finds": sum(r["Outcome linked to object of search"] == "True" for r in rows),
        "finds_in_action": sum(
            r["Outcome linked to object of search"] == "True"
            and r["Outcome"] not in NFA
            and r["Outcome"] != ""
            for r in rows
        ),
        "found_or_arrest": sum(
            r["Outcome linked to object of search"] == "True" or r["Outcome"] in ARREST
            for r in rows
        ),
    }


@pytest.fixture(scope="module")
def year(kent_store):
    return ss.outcome_figures(kent_store, "2018-01", "2018-12")


def test_year_totals_equal_independent_count(year, csv_rows):
    expected = _independent(csv_rows)
    for key, value in expected.items():
        assert year.summary[key] == value, key
    # SOURCES.md section 8/8a cross-check: 1,619 rows Jan-Mar and 4,598 Apr-Dec.
    assert expected["searches"] == 1619 + 4598


def test_headline_rates_and_wilson_intervals(year, csv_rows):
    exp = _independent(csv_rows)
    for rate, (num, den) in ss.RATES.items():
        assert year.summary[rate] == pytest.approx(exp[num] / exp[den])
        ref = proportion_confint(exp[num], exp[den], method="wilson")
        assert year.summary[f"{rate}_ci"] == pytest.approx(list(ref), abs=1e-12)


@pytest.mark.parametrize(
    "dimension, column",
    [
        ("legislation", "Legislation"),
        ("object_of_search", "Object of search"),
        ("age_range", "Age range"),
        ("gender", "Gender"),
        ("self_defined_ethnicity", "Self-defined ethnicity"),
        ("officer_defined_ethnicity", "Officer-defined ethnicity"),
    ],
)
def test_breakdowns_equal_independent_count(year, csv_rows, dimension, column):
    table = year.tables[f"by_{dimension}"].set_index("value")
    groups: dict[str, list] = {}
    for r in csv_rows:
        value = r[column].strip() or (
            ss.NOT_STATED if dimension == "officer_defined_ethnicity" else ss.NOT_RECORDED
        )
        groups.setdefault(value, []).append(r)
    assert set(table.index) == set(groups)
    for value, rows in groups.items():
        exp = _independent(rows)
        got = table.loc[value]
        for key in ("searches", "arrests", "nfa", "actions", "finds"):
            assert got[key] == exp[key], (value, key)
        low, high = proportion_confint(exp["finds"], exp["searches"], method="wilson")
        assert got["find_rate_low"] == pytest.approx(low) and got[
            "find_rate_high"
        ] == pytest.approx(high)


def test_months_equal_each_file(year, csv_rows):
    by_month = year.tables["by_month"].set_index("value")
    counted = Counter(r["_month"] for r in csv_rows)
    assert by_month.searches.to_dict() == dict(counted)
    # SOURCES.md section 8: July 2018 has only 12 arrests (a recording change).
    assert by_month.loc["2018-07", "arrests"] == 12
    assert by_month.loc["2018-04", "finds"] == 108


def test_april_to_december_matches_sources_table(kent_store):
    res = ss.outcome_figures(kent_store, "2018-04", "2018-12")
    s = res.summary
    assert (s["searches"], s["arrests"], s["nfa"], s["finds"]) == (4598, 982, 2129, 1064)
    assert s["outcome_missing"] == 41


def test_strip_search_not_recorded_is_said(year):
    strip = year.tables["by_strip_search"]
    assert strip.value.tolist() == [ss.NOT_RECORDED]
    assert any("Strip searches" in n for n in year.notes)


def test_mapping_covers_every_category_in_the_shared_files():
    mapping = ss.load_outcome_mapping()
    known = set(mapping.key)
    seen = Counter(
        r["Outcome"]
        for r in _rows([*KENT_STOP_SEARCH, *sorted(EXCERPTS.glob("*stop-and-search*"))])
    )
    assert len(seen) >= 15  # 7 old names, 7 new names and the blank
    missing = {o for o in seen if o.strip().lower() not in known}
    assert not missing
    assert set(mapping.group) <= set(ss.GROUPS)
    # Every pairing carries its source.
    assert mapping.source.str.strip().str.len().min() > 20


def test_old_and_new_wordings_land_in_the_same_groups(year):
    groups = year.tables["outcome_groups"].set_index("raw_outcome")["group"]
    assert groups["Suspect arrested"] == groups["Arrest"] == "arrest"
    assert groups["Local resolution"] == groups["Community resolution"] == "community_resolution"
    assert groups["Nothing found - no further action"] == "no_further_action"
    assert year.summary["unmapped_outcomes"] == 0


def test_excerpt_formats_and_unknown_category_reported(tmp_path):
    """The 2019 and 2024 formats load and map; a new outcome name is reported, not dropped."""
    excerpt = EXCERPTS / "2024-01-kent-stop-and-search.EXCERPT.csv"
    lines = excerpt.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = lines[:1] + [
        line.replace("A no further action disposal", "Words of advice", 1) if i < 3 else line
        for i, line in enumerate(lines[1:])
    ]
    edited = tmp_path / "2024-01-kent-stop-and-search.csv"
    edited.write_text("".join(changed), encoding="utf-8")
    shutil.copy(
        EXCERPTS / "2019-03-kent-stop-and-search.EXCERPT.csv",
        tmp_path / "2019-03-kent-stop-and-search.csv",
    )
    with Store.open(":memory:") as store:
        report = ingest_paths(store, [edited, tmp_path / "2019-03-kent-stop-and-search.csv"])
        assert report.ok
        raw = _rows([edited, tmp_path / "2019-03-kent-stop-and-search.csv"])
        res = ss.outcome_figures(store)
        n_new = sum(r["Outcome"] == "Words of advice" for r in raw)
        assert n_new == 3
        assert res.summary["searches"] == len(raw)
        assert res.summary["unmapped_outcomes"] == n_new
        unmapped = res.tables["unmapped_outcomes"]
        assert unmapped.raw_outcome.tolist() == ["Words of advice"]
        assert any("Words of advice" in n and "(3)" in n for n in res.notes)
        # Unmapped rows are in the denominators and in no numerator.
        exp = _independent([r for r in raw])
        assert res.summary["nfa"] == exp["nfa"]
        assert res.summary["actions"] == exp["actions"] - n_new
        # A user's own mapping file takes the new name in.
        own = tmp_path / "groups.csv"
        packaged = ss.load_outcome_mapping()
        text = packaged[["raw_outcome", "group", "action", "source"]].to_csv(index=False)
        own.write_text(text + "Words of advice,community_resolution,True,test row\n")
        mapped = ss.outcome_figures(store, outcome_mapping=own)
        assert mapped.summary["unmapped_outcomes"] == 0
        assert mapped.summary["actions"] == exp["actions"]
        bad = tmp_path / "bad.csv"
        bad.write_text("raw_outcome,group,action,source\nArrest,jail,True,x\n")
        with pytest.raises(HarmscopeError, match="jail"):
            ss.outcome_figures(store, outcome_mapping=bad)
        # 2024 format: the strip-search column is recorded (True/False).
        strip = res.tables["by_strip_search"].set_index("value").searches
        assert strip.sum() == len(raw) and ss.NOT_RECORDED in strip.index


def test_bad_months_raise_clear_errors(kent_store):
    with pytest.raises(HarmscopeError, match="--from"):
        ss.outcome_figures(kent_store, "2018-13", "2018-12")
    with pytest.raises(HarmscopeError, match="before"):
        ss.outcome_figures(kent_store, "2018-06", "2018-01")
    with pytest.raises(HarmscopeError, match="no stop-and-search records"):
        ss.outcome_figures(kent_store, "2030-01", "2030-02")


def test_force_filter_accepts_slug_and_name(kent_store, year):
    by_slug = ss.outcome_figures(kent_store, "2018-01", "2018-12", force="kent")
    assert by_slug.summary["searches"] == year.summary["searches"]
    with pytest.raises(HarmscopeError, match="no stop-and-search"):
        ss.outcome_figures(kent_store, "2018-01", "2018-12", force="essex")
