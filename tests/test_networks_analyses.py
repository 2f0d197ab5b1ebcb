"""The network analyses on a small hand-made network whose answers are worked out by hand.

The network is written straight into the ``links`` and ``link_entities`` tables of a real
DuckDB store (keys are SHA-256 of a name: stand-ins for the keyed pseudonyms), so these
tests do not depend on the links ingest. Drawn:

    H (30, supply, out of area) --uses_phone-- D (deal phone: line_area London, Thanet)
    B1 (22, supply), B2 (24, supply) --uses_phone-- D;  H --association-- B1, B2
    B1 --co_offending-- R1 (15), R2 (16);  B2 --co_offending-- R3 (17), R4 (16)
    address X: V (60, vulnerable) resident; R1, R2, B1 visit
    R1, H visit London Victoria station (out of area) and Margate station
    background: G0..G4 a clique (G0 an adult with a supply offence); Y (14) -- G0
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harmscope.analysis.networks import network_profile
from harmscope.analysis.networks.accuracy import adjusted_rand
from harmscope.analysis.networks.brokers import fragmentation
from harmscope.store import Store


def k(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def build(path) -> dict[str, str]:
    ents: dict[str, tuple] = {}
    links: list[tuple] = []

    def ent(name, typ, age=None, supply=False, vuln=False, ooa=False):
        key = k(name) if typ in ("person", "phone", "address") else f"{typ}:{name.lower()}"
        label = name if typ in ("place", "area") else None
        ents[name] = (key, typ, age, supply, vuln, ooa, label)

    def link(a, b, lt, first="2025-01-05", last="2025-06-20"):
        links.append((a, b, lt, first, last))

    ent("H", "person", 30, True, ooa=True)
    ent("D", "phone")
    ent("B1", "person", 22, True)
    ent("B2", "person", 24, True)
    for r, a in (("R1", 15), ("R2", 16), ("R3", 17), ("R4", 16)):
        ent(r, "person", a)
    ent("V", "person", 60, vuln=True)
    ent("X", "address")
    ent("London", "area", ooa=True)
    ent("Thanet", "area")
    ent("London Victoria station", "place", ooa=True)
    ent("Margate station", "place")
    for p in ("H", "B1", "B2"):
        link(p, "D", "uses_phone")
    link("H", "B1", "association")
    link("H", "B2", "association")
    link("B1", "R1", "co_offending")
    link("B1", "R2", "co_offending")
    link("R1", "R2", "association")
    link("B2", "R3", "co_offending")
    link("B2", "R4", "co_offending")
    link("R3", "R4", "association")
    link("D", "London", "line_area")
    link("D", "Thanet", "line_area")
    link("V", "X", "resident")
    for p in ("R1", "R2", "B1"):
        link(p, "X", "visits_address")
    for p in ("R1", "H"):
        link(p, "London Victoria station", "visits_place")
        link(p, "Margate station", "visits_place")
    for i in range(5):
        ent(f"G{i}", "person", 25 + i, supply=(i == 0))
    for i in range(5):
        for j in range(i + 1, 5):
            link(f"G{i}", f"G{j}", "co_offending", "2025-09-01", "2025-11-30")
    ent("Y", "person", 14)
    link("Y", "G0", "association", "2025-09-01", "2025-11-30")
    with Store.open(path) as store:
        for key, typ, age, s, v, o, label in ents.values():
            store.con.execute(
                "INSERT INTO link_entities VALUES (?, ?, ?, ?, ?, ?, ?, true)",
                [key, typ, age, s, v, o, label],
            )
        for i, (a, b, lt, f, last) in enumerate(links):
            store.con.execute(
                "INSERT INTO links VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 'Kent Police', NULL, NULL, "
                "true)",
                [i + 2, ents[a][0], ents[a][1], ents[b][0], ents[b][1], lt, f, last],
            )
    return {n: v[0] for n, v in ents.items()}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("net") / "s.duckdb"
    keys = build(path)
    with Store.open(path) as store:
        prof = network_profile(store, seed=0)
    return keys, prof


def test_graph_counts_and_deal_line(small):
    keys, prof = small
    s = prof.summary
    assert s["entities"] == 20
    v = prof.net.vertices
    assert (v.type == "person").sum() == 14 and (v.type == "phone").sum() == 1
    assert (v.type == "address").sum() == 1 and v.type.isin(["place", "area"]).sum() == 4
    # line: 3 phone uses + 4 associations + 4 co-offending + 2 line_area + 1 resident +
    # 3 visits to X + 4 station visits = 21; the clique 10; Y 1
    assert s["links"] == 32
    assert s["components"] == 2  # the line (with X and V) and the background clique with Y
    assert s["largest_component"] == 10
    deal = {v.key.iat[i] for i in prof.net.deal_phones}
    assert deal == {keys["D"]}
    assert s["lines_found"] >= 1


def test_broker_scores_by_hand(small):
    keys, prof = small
    b = prof.results["brokers"].table.set_index("key")
    line_people = set(b.index)
    # every path from D to a child runs through B1 (R1, R2) or B2 (R3, R4): in a line holding
    # all four children each broker carries 2 of the 4 (D, child) pairs; if Leiden split the
    # line, a broker carries every pair of its part. Either way the brokers lead the list.
    positive = b[b.broker_score > 0]
    assert len(positive) and set(positive.index) <= {keys["B1"], keys["B2"]}
    for broker in positive.index:
        assert positive.loc[broker, "broker_score"] in (0.5, 1.0)
    assert prof.results["brokers"].table.key.iat[0] in positive.index  # they lead the list
    for r in ("H", "R1", "R2", "R3", "R4"):
        if keys[r] in line_people:
            assert b.loc[keys[r], "broker_score"] == 0


def test_fragmentation_by_hand():
    import igraph as ig

    # a path 0-1-2-3 and a pendant 4 on 1: removing 1 leaves {0}, {2, 3}, {4}
    g = ig.Graph([(0, 1), (1, 2), (2, 3), (1, 4)])
    drop, pairs = fragmentation(g, 1)
    # largest before 5; without 1 it could be 4, it is 2: a drop of 2 beyond the person
    assert drop == 2
    # pairs among {0, 2, 3, 4} connected before: 6; after: only (2, 3)
    assert pairs == 5
    assert fragmentation(g, 3) == (0, 0)


def test_young_at_risk_reasons(small):
    keys, prof = small
    t = prof.results["young_at_risk"].table.set_index("key")
    # R1: B1 (supply) 1 step, D 2 steps (via B1), H 2 steps? no: H-R1 share no neighbour
    # except through B1 (H-B1-R1): H is a supply adult two steps away; B2 is 2 steps via D?
    # no: D is a phone, B2-D-... D is adjacent to B1, not R1. R1's neighbours: B1, R2, X.
    # Two steps: H, D (via B1), V (via X). Supply two steps: H. Out-of-area place: London
    # Victoria station. Score = 1.5 (D at 2) + 1 (B1) + 0.5 (H) + 0.5 (travel) = 3.5.
    assert t.loc[keys["R1"], "score"] == pytest.approx(3.5)
    assert t.loc[keys["R1"], "flagged"]
    assert "two steps from deal line " + keys["D"][:10] in t.loc[keys["R1"], "reasons"]
    # R3: B2 (1), D (2, via B2), H (2, via B2): 1 + 1.5 + 0.5 = 3.0
    assert t.loc[keys["R3"], "score"] == pytest.approx(3.0)
    # Y: only G0, a supply adult, one step away: 1.0, below the flag score of 1.5
    assert t.loc[keys["Y"], "score"] == pytest.approx(1.0)
    assert not t.loc[keys["Y"], "flagged"]
    assert prof.summary["young_flagged"] == 4
    for text in t.reasons:
        assert not any(len(w) == 64 for w in text.replace(",", " ").split())  # short keys only


def test_cuckooing_and_routes(small):
    keys, prof = small
    c = prof.results["cuckooing"].table
    assert list(c.key) == [keys["X"]]
    assert bool(c.vulnerable_resident.iat[0]) and c.residents.iat[0] == 1
    assert c.non_resident_visitors.iat[0] in (2, 3)  # R1, R2, B1 unless Leiden split them
    r = prof.results["lines_into_area"].table
    assert list(r.route) == ["London Victoria station -> Margate station"]
    assert r.people.iat[0] == 2  # H and R1
    areas = prof.areas.set_index("area")
    assert areas.loc["Thanet", "lines"] == 1  # the deal phone's line_area link
    assert areas.loc["Margate station", "young_at_risk"] == 1  # R1


def test_change_over_time(small):
    _, prof = small
    ch = prof.results["change"]
    t = ch.table
    # only networks within 3 steps of the deal line are tracked: the line's (links 2025-01 to
    # 2025-06); the background clique (another component, 2025-09..11) is not
    assert ch.summary["months"] == 6
    assert set(t.month) == {f"2025-0{m}" for m in range(1, 7)}
    first = t[t.month == "2025-01"]
    assert (first.status == "new").all() and first.deal_phones.sum() == 1
    later = t[(t.month > "2025-01") & (t.deal_phones > 0)]
    assert len(later) == 5 and set(later.status) == {"stable"}  # the same links every month
    assert t.network.nunique() <= 2


def test_month_window(tmp_path):
    build(tmp_path / "w.duckdb")
    with Store.open(tmp_path / "w.duckdb") as store:
        prof = network_profile(store, month_from="2025-09", month_to="2025-12", change=False)
    assert prof.summary["links"] == 11  # the clique and Y only
    assert prof.summary["lines_found"] == 0


def test_ari_against_sklearn_and_by_hand():
    # Hubert & Arabie (1985)-style hand computation: true {a,a,a,b,b,b}, predicted
    # {1,1,2,2,3,3}: contingency [[2,1,0],[0,1,2]]; index = 1 + 1 = 2; rows: 3 + 3 = 6;
    # columns: 1 + 1 + 1 = 3; expected = 6 * 3 / 15 = 1.2; max = 4.5;
    # ARI = (2 - 1.2) / (4.5 - 1.2) = 0.2424...
    assert adjusted_rand("aaabbb", "112233") == pytest.approx(0.8 / 3.3)
    assert adjusted_rand("aabb", "xxyy") == 1.0
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(2, 60))
        t = rng.integers(0, int(rng.integers(1, 6)), n)
        p = rng.integers(0, int(rng.integers(1, 8)), n)
        assert adjusted_rand(t, p) == pytest.approx(sk.adjusted_rand_score(t, p), abs=1e-12)


def test_no_links_is_a_clear_error(tmp_path):
    from harmscope.errors import HarmscopeError

    with Store.open(tmp_path / "e.duckdb") as store:
        with pytest.raises(HarmscopeError, match="holds no links"):
            network_profile(store)
