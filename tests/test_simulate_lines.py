"""The county-lines simulator: deterministic, labelled SYNTHETIC, the planted structure present
in the links it writes, and the missing-link rate honoured."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import HarmscopeError
from harmscope.simulate.lines import ROUTES, simulate_lines
from harmscope.sources.links import COLUMNS  # the simulator writes what the loader reads

KENT_STATIONS = {f"{s} station" for _, stops in ROUTES for s, _ in stops}
TERMINI = {f"{t} station" for t, _ in ROUTES}


def _undirected(frame: pd.DataFrame) -> set[frozenset]:
    return {frozenset(p) for p in zip(frame.source_id, frame.target_id, strict=True)}


def test_same_seed_same_files_other_seed_differs():
    a, ta = simulate_lines(5)
    b, tb = simulate_lines(5)
    c, _ = simulate_lines(6)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    assert not a.equals(c)
    assert list(a.columns) == list(COLUMNS)


def test_synthetic_label_everywhere():
    frame, truth = simulate_lines(1)
    assert truth["synthetic"] is True and truth["force_area"] == "Kent"
    assert frame.agency.str.startswith("SYNTHETIC ").all()
    # Phones only in Ofcom's drama range; addresses only on invented 'Example' streets.
    phones = pd.concat(
        [
            frame.source_id[frame.source_type == "phone"],
            frame.target_id[frame.target_type == "phone"],
        ]
    )
    assert phones.str.fullmatch(r"07700 900\d{3}").all()
    addrs = pd.concat(
        [
            frame.source_id[frame.source_type == "address"],
            frame.target_id[frame.target_type == "address"],
        ]
    )
    assert addrs.str.contains(r"Example (?:Road|Close), ").all()


def test_planted_lines_are_in_the_links():
    frame, truth = simulate_lines(2, n_lines=5, missing_rate=0.0, background_people=500)
    pairs = _undirected(frame)
    ages = {}
    for side in ("source", "target"):
        sub = frame[frame[f"{side}_type"] == "person"]
        ages.update(dict(zip(sub[f"{side}_id"], sub[f"{side}_age"], strict=True)))
    flags = {}
    for side in ("source", "target"):
        for i, f in zip(frame[f"{side}_id"], frame[f"{side}_flags"].fillna(""), strict=True):
            flags.setdefault(i, set()).update(x for x in f.split(";") if x)
    assert len(truth["lines"]) == 5
    phones = [t["deal_phone"] for t in truth["lines"]]
    assert len(set(phones)) == 5
    for t in truth["lines"]:
        holder, phone = t["holder"], t["deal_phone"]
        assert t["members"] == [holder, *t["brokers"], *t["runners"]]
        assert 2 <= len(t["brokers"]) <= 3 and 4 <= len(t["runners"]) <= 8
        assert frozenset((holder, phone)) in pairs
        assert "out_of_area" in flags[holder] and "supply_offence" in flags[holder]
        assert frozenset((phone, "London")) in pairs
        for b in t["brokers"]:
            assert ages[b] >= 18
            assert frozenset((holder, b)) in pairs and frozenset((b, phone)) in pairs
        for r in t["runners"]:
            assert ages[r] < 18
            # Runners reach the holder and phone only through a broker.
            assert frozenset((r, holder)) not in pairs and frozenset((r, phone)) not in pairs
            assert any(frozenset((r, b)) in pairs for b in t["brokers"])
        # Rail route: a London terminus first, then real Kent stations on it.
        assert t["stations"][0] in TERMINI and t["stations"][0].startswith("London ")
        assert set(t["stations"][1:]) <= KENT_STATIONS and len(t["stations"]) >= 2
        runner_places = {
            tgt
            for src, tgt, lt in zip(frame.source_id, frame.target_id, frame.link_type, strict=True)
            if lt == "visits_place" and src in t["runners"]
        }
        assert runner_places and runner_places <= set(t["stations"])
        # Cuckooed: a vulnerable resident and several line members visiting.
        for addr in t["cuckooed_addresses"]:
            at = frame[(frame.target_id == addr) | (frame.source_id == addr)]
            res = at[at.link_type == "resident"]
            assert len(res) == 1 and "vulnerable" in flags[res.source_id.iloc[0]]
            visitors = set(at[at.link_type == "visits_address"].source_id)
            assert len(visitors) >= 3 and visitors <= set(t["members"])
        assert re.fullmatch(r"\d{4}-\d{2}", t["started"])
    assert truth["brokers"] == [b for t in truth["lines"] for b in t["brokers"]]
    assert truth["at_risk"] == [r for t in truth["lines"] for r in t["runners"]]
    # Change over time: not every line runs the whole window.
    assert any(t["started"] != "2025-01" or t["ended"] for t in truth["lines"])
    # Dates inside the window; last never before first.
    assert (frame.first_seen >= "2025-01-01").all() and (frame.last_seen <= "2025-12-31").all()
    assert (frame.last_seen >= frame.first_seen).all()


def test_background_is_not_a_perfect_flag():
    frame, truth = simulate_lines(3, background_people=2000)
    members = {m for t in truth["lines"] for m in t["members"]}
    persons = pd.concat(
        [
            frame[frame.source_type == "person"][
                ["source_id", "source_age", "source_flags"]
            ].set_axis(["id", "age", "flags"], axis=1),
            frame[frame.target_type == "person"][
                ["target_id", "target_age", "target_flags"]
            ].set_axis(["id", "age", "flags"], axis=1),
        ]
    ).drop_duplicates("id")
    bg = persons[~persons.id.isin(members)]
    assert (bg.age < 18).sum() > 50  # under-18s in no line
    adults_supply = bg[(bg.age >= 18) & bg["flags"].fillna("").str.contains("supply_offence")]
    assert len(adults_supply) > 20  # supply offenders in no line
    assert set(frame.link_type) >= {"co_offending", "association", "resident", "visits_place"}


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5])
def test_missing_rate_honoured(rate):
    frame, truth = simulate_lines(4, missing_rate=rate, background_people=3000)
    total = truth["true_links"]
    assert truth["recorded_links"] == len(frame) == total - truth["missing_links"]
    share = truth["missing_links"] / total
    se = np.sqrt(rate * (1 - rate) / total)
    assert abs(share - rate) <= 4 * se + 1e-12
    assert 0 <= truth["missing_line_links"] <= truth["true_line_links"]


def test_scales_to_many_links():
    frame, truth = simulate_lines(9, background_people=40_000, n_lines=10)
    assert len(frame) > 70_000 and truth["recorded_links"] == len(frame)
    people = pd.concat(
        [
            frame.source_id[frame.source_type == "person"],
            frame.target_id[frame.target_type == "person"],
        ]
    )
    assert people.str.fullmatch(r"P\d{7}").all()


def test_bad_parameters_refused():
    with pytest.raises(HarmscopeError, match="missing-rate"):
        simulate_lines(1, missing_rate=1.0)
    with pytest.raises(HarmscopeError, match="lines"):
        simulate_lines(1, n_lines=0)


def test_cli_writes_links_and_truth(tmp_path):
    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app,
        [
            "simulate",
            "lines",
            "--seed",
            "7",
            "--out",
            str(out),
            "--missing-rate",
            "0.3",
            "--lines",
            "3",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    truth = json.loads((out / "truth.json").read_text())
    frame = pd.read_csv(out / "links.csv", dtype=str)
    assert doc["synthetic"] and truth["synthetic"] and truth["seed"] == 7
    assert len(truth["lines"]) == 3 and truth["params"]["missing_rate"] == 0.3
    assert len(frame) == truth["recorded_links"] == doc["recorded_links"]
    assert list(frame.columns) == list(COLUMNS)


def test_written_files_are_byte_identical_for_a_seed(tmp_path):
    from harmscope.simulate.lines import write_lines

    a = write_lines(tmp_path / "a", 12, background_people=3000)
    b = write_lines(tmp_path / "b", 12, background_people=3000)
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
