"""The network analyses recover the structure planted by `harmscope simulate lines`.

Each seed goes through the real path (simulate -> links.csv -> keyed ingest -> DuckDB store ->
network_profile); the truth's raw ids are keyed with the same key. Floors are set under the
values measured by benchmarks/validate_networks.py (docs/networks_accuracy.md): at 20% of
links missing, over seeds 1-5, ARI 0.77-0.96, broker precision 0.60-0.82 against a degree
baseline of 0.09-0.36, at-risk precision 0.67-0.88 against 0.52-0.58, recall 0.91-0.96.
"""

from __future__ import annotations

import pytest

from harmscope.analysis.networks import network_profile
from harmscope.analysis.networks.accuracy import keyed_truth, read_truth
from harmscope.simulate.lines import write_lines
from harmscope.sources.links import ingest_links
from harmscope.store import Store

# fixed, as in benchmarks/validate_networks.py: the keys order the vertices and Leiden's
# result moves a little with that order (synthetic data only)
KEY = b"5d0e7c3b9a1f48e2b6c4d8a0f2e4b6c8a1d3f5e7b9c0d2e4f6a8b0c2d4e6f8a1"
SEEDS = (1, 2)
ARI_FLOOR = 0.75  # lowest measured 0.77 at 20% missing (seeds 1-5, the fixed key)


@pytest.fixture(scope="module", params=SEEDS)
def profiled(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"lines{request.param}")
    links, truth_path = write_lines(folder, request.param, missing_rate=0.2)
    with Store.open(folder / "s.duckdb") as store:
        ingest_links(store, links, key=KEY)
        truth = keyed_truth(read_truth(truth_path), KEY)
        prof = network_profile(store, seed=request.param, truth=truth)
    return truth, prof


def test_lines_recovered(profiled):
    truth, prof = profiled
    s = prof.summary
    assert s["lines_planted"] == len(truth["lines"]) == 4
    assert s["lines_recovered"] >= 3
    assert s["ari"] >= ARI_FLOOR
    # every detected line holds a planted deal phone or a planted line's members
    phones = {ln["deal_phone"] for ln in truth["lines"]}
    found = {prof.net.vertices.key.iat[i] for i in prof.net.deal_phones}
    assert found <= phones and len(found) >= 3


def test_method_beats_degree_baseline(profiled):
    _, prof = profiled
    s = prof.summary
    assert s["broker_precision"] > s["baseline_broker_precision"]
    assert s["broker_precision"] >= 0.5
    assert s["at_risk_precision"] > s["baseline_at_risk_precision"]
    assert s["at_risk_recall"] >= 0.8


def test_cuckooed_addresses_found(profiled):
    truth, prof = profiled
    planted = {a for ln in truth["lines"] for a in ln["cuckooed_addresses"]}
    c = prof.results["cuckooing"].table
    found = set(c.key)
    assert len(found & planted) >= 0.6 * len(planted)
    # every planted cuckooed address found carries the vulnerable flag
    assert c[c.key.isin(planted)].vulnerable_resident.all()


def test_routes_name_planted_stations(profiled):
    truth, prof = profiled
    stations = {s for ln in truth["lines"] for s in ln["stations"]}
    routes = prof.results["lines_into_area"].table
    top = routes[routes.lines > 0]
    assert len(top)
    assert set(top.from_place) <= stations
    assert set(top.to_station) & stations


def test_transparency_records_carry_measured_rates(profiled):
    _, prof = profiled
    for rec in prof.transparency.values():
        assert rec["error_rates"] is not None
        assert "Measured precision" in rec["statement"]
