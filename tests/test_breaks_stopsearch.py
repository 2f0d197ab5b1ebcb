"""Recording breaks in the real Kent 2018 stop-and-search files: the July 2018 arrest/summons
break flagged, pooled figures that span it say so and give the rates on each side, and the
publishing path (public) keeps small counts out of the break tables and notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmscope.analysis import stopsearch as ss
from harmscope.analysis.stopsearch.breaks import recording_breaks
from harmscope.privacy.scrutiny import published_scrutiny

ARREST = {"Arrest", "Suspect arrested"}
SUMMONS = {"Summons / charged by post", "Suspect summonsed to court"}


@pytest.fixture(scope="module")
def files(shared_data) -> pd.DataFrame:
    """The 2018 files read straight with pandas (not through harmscope's ingest)."""
    folder = shared_data / "police" / "kent" / "stop-and-search"
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False).assign(month=p.name[:7])
        for p in sorted(folder.glob("2018-*.csv.gz"))
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def breaks(kent_store):
    return recording_breaks(kent_store, "2018-01", "2018-12", force="kent")


def test_july_2018_arrest_summons_break_is_flagged(breaks, files):
    july = files[files.month == "2018-07"]
    arrests = int(july.Outcome.isin(ARREST).sum())
    summons = int(july.Outcome.isin(SUMMONS).sum())
    assert (arrests, summons) == (12, 84)  # the independent check's reading of the file
    flagged = breaks.tables["flagged"]
    row = flagged[(flagged.mix == "outcome") & (flagged.kind == "month")]
    row = row[row.month == "2018-07"]
    assert len(row) == 1, flagged[["mix", "kind", "months"]]
    row = row.iloc[0]
    moved = {m["category"]: m for m in row.moved}
    assert moved["arrest"]["count"] == arrests and not moved["arrest"]["up"]
    assert moved["summons"]["count"] == summons and moved["summons"]["up"]
    assert row.n == len(july)
    # its statistic: July against the other months of its segment, from the raw files
    lo, hi = row.against.split(" less ")[0].split("..")
    other = files[(files.month >= lo) & (files.month <= hi) & (files.month != "2018-07")]

    def groups(frame: pd.DataFrame) -> pd.Series:
        mapping = ss.load_outcome_mapping()
        key = frame.Outcome.str.strip().str.lower()
        grp = key.map(dict(zip(mapping.key, mapping.group, strict=True)))
        grp = grp.where(~grp.isin(["blank", "unknown"]), "not_recorded").fillna("not_recorded")
        return grp.value_counts()

    table = pd.concat([groups(july), groups(other)], axis=1).fillna(0).to_numpy().T
    ref = stats.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
    assert row.chi2 == pytest.approx(ref[0], rel=1e-9)
    note = " ".join(breaks.notes)
    assert (
        "July 2018:" in note and "arrest fell" in note and "summons / charged by post rose" in note
    )
    assert "2018-07" in breaks.summary["break_months"]


def test_nfa_linked_consistency_check(breaks, files):
    """'No further action' yet 'linked to object': counted by month, a change in it flagged."""
    nfa = files[
        files.Outcome.isin({"A no further action disposal", "Nothing found - no further action"})
    ]
    linked = nfa[nfa["Outcome linked to object of search"] == "True"].groupby("month").size()
    mix = breaks.tables["mix_nfa_linked"].set_index("month")
    assert mix["linked"].sum() == linked.sum() == breaks.summary["nfa_linked"]
    assert mix["linked"].reindex(linked.index).tolist() == linked.tolist()
    flagged = breaks.tables["flagged"]
    assert (flagged.mix == "nfa_linked").any()  # none Jan-Aug, then 19 to 73 a month


def test_pooled_figures_name_the_break_and_give_each_side(kent_store, files):
    res = ss.outcome_figures(kent_store, "2018-04", "2018-12")
    assert res.summary["spans_recording_change"]
    assert "2018-07" in res.summary["recording_breaks"]
    pooled = [n for n in res.notes if n.startswith("These pooled figures span a recording change")]
    assert len(pooled) == 1 and "month 2018-07" in pooled[0]
    around = res.tables["rates_around_breaks"]
    july = around[(around["break"] == "month 2018-07") & (around.side == "break")].iloc[0]
    raw = files[files.month == "2018-07"]
    assert july.searches == len(raw)
    assert july.arrest_rate == pytest.approx(raw.Outcome.isin(ARREST).mean())
    assert july.arrest_rate_low < july.arrest_rate < july.arrest_rate_high
    other = around[(around["break"] == "month 2018-07") & (around.side == "other")].iloc[0]
    assert other.arrest_rate > 0.15  # the other months: about one search in five
    # the step sides add up to the period
    step = around[around["break"].str.startswith("step")]
    for _, rows in step.groupby("break"):
        assert rows.searches.sum() <= res.summary["searches"]
    # the outcome tests pool months too, and say so
    results = ss.scrutiny(kent_store, "2018-04", "2018-12")
    assert any("recording change" in n for n in results["hit_rate_ethnicity"].notes)


def test_a_period_without_a_break_carries_no_warning(kent_store):
    res = ss.outcome_figures(kent_store, "2018-04", "2018-06")
    assert not res.summary["spans_recording_change"]
    assert not any(n.startswith("These pooled figures") for n in res.notes)
    assert res.tables["rates_around_breaks"].empty


def test_public_break_tables_hold_no_small_counts(kent_store):
    payload, pub = published_scrutiny(kent_store, "2018-01", "2018-12", audience="public")
    assert not pub.dropped
    rb = payload["recording_breaks"]
    for name, rows in rb["tables"].items():
        for r in rows:
            for key, value in r.items():
                if isinstance(value, bool) or not isinstance(value, int) or key == "dof":
                    continue
                assert not 0 < value < 5, (name, key, r)
    for r in rb["table"]:
        for m in r["moved"]:
            assert m["count"] is None or not 0 < m["count"] < 5
    # the months with a handful of cautions (May 2018: one) are hidden in the mix
    mix = {r["month"]: r for r in rb["tables"]["mix_outcome"]}
    assert mix["2018-05"]["caution"] is None
    assert any("Recording break" in n for n in rb["notes"])
    text = " ".join(payload["notes"])
    assert "These pooled figures span a recording change" in text
    assert np.isfinite(payload["summary"]["found_or_arrest_rate"])
