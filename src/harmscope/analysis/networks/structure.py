"""Components and communities of the core graph (Leiden), matched to deal lines.

Leiden (Traag, Waltman & van Eck 2019, Sci Rep 9:5233) via ``leidenalg``, optimising
**modularity** (Newman-Girvan, weighted by the links recorded between two entities), seeded so
a run is repeatable. A community is called a **line** when it holds a deal-line phone (a phone
with a ``line_area`` link, ``_graph.deal_phones``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import igraph as ig
import leidenalg
import numpy as np
import pandas as pd

from harmscope.analysis.networks._graph import ADULT_AGE, NetGraph, short
from harmscope.analysis.result import Result

LEIDENALG_MAX = 5_000  # vertices: leidenalg up to here, igraph's Leiden above (see leiden)
# Leiden passes on a large graph: on the 490,000-vertex benchmark graph igraph took 3.5 s for
# 2 passes (modularity 0.831) and 236 s to converge (about the same modularity).
LARGE_PASSES = 3
MIN_COMMUNITY = 3  # smaller groups (pairs, singletons) are listed in counts only


@dataclass
class Structure:
    """Communities of the core graph, in core-vertex order, and which are lines."""

    membership: np.ndarray  # community id per core vertex (0 = largest)
    component: np.ndarray  # connected component id per core vertex
    lines: dict[int, str]  # community id -> line name ("line 1", ...), largest first
    modularity: float
    seed: int
    engine: str = "leidenalg"
    _line_of: np.ndarray | None = None

    def members(self, community: int) -> np.ndarray:
        """Core-vertex ids of a community."""
        return np.flatnonzero(self.membership == community)

    def line_of_core(self) -> np.ndarray:
        """The line name per core vertex (None outside lines); a copy, computed once."""
        if self._line_of is None:
            names = np.full(int(self.membership.max()) + 1 if len(self.membership) else 0,
                            None, dtype=object)  # fmt: skip
            for c, name in self.lines.items():
                names[c] = name
            self._line_of = names[self.membership]
        return self._line_of.copy()


def leiden(graph: ig.Graph, seed: int = 0, iterations: int = -1) -> tuple[np.ndarray, float, str]:
    """Leiden communities (modularity, weighted; iterated to convergence by default),
    relabelled so 0 is the largest and ties go to the community holding the lowest vertex id
    (repeatable). Returns (membership, modularity, engine).

    Up to :data:`LEIDENALG_MAX` vertices ``leidenalg`` (Traag's reference implementation)
    runs; above it igraph's own C implementation of the same algorithm and objective
    (``Graph.community_leiden(objective_function="modularity")``): on this machine
    leidenalg took 17 s for two passes on a 30,000-vertex sparse graph, igraph 5 s to
    convergence, and the 1,000,000-link benchmark must finish in 60 s. On a large graph igraph
    runs :data:`LARGE_PASSES` passes, not to convergence (the last passes move few vertices).
    igraph draws from Python's ``random``: it is seeded here and restored after.
    """
    if graph.vcount() == 0:
        return np.zeros(0, dtype=np.int64), 0.0, "none"
    weights = graph.es["weight"] if "weight" in graph.es.attributes() else None
    if graph.vcount() <= LEIDENALG_MAX:
        part = leidenalg.find_partition(
            graph,
            leidenalg.ModularityVertexPartition,
            weights=weights,
            n_iterations=iterations,
            seed=seed,
        )
        raw = np.asarray(part.membership, dtype=np.int64)
        q, engine = float(part.modularity), "leidenalg"
    else:
        state = random.getstate()
        random.seed(seed)
        try:
            passes = LARGE_PASSES if iterations < 0 else min(iterations, LARGE_PASSES)
            part = graph.community_leiden(
                objective_function="modularity", weights=weights, n_iterations=passes
            )
        finally:
            random.setstate(state)
        raw = np.asarray(part.membership, dtype=np.int64)
        q, engine = float(graph.modularity(part.membership, weights=weights)), "igraph"
    sizes = np.bincount(raw)
    first = np.full(len(sizes), len(raw), dtype=np.int64)
    np.minimum.at(first, raw, np.arange(len(raw)))
    order = np.lexsort((first, -sizes))  # by size desc, then first vertex
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    return relabel[raw], q, engine


def find_structure(net: NetGraph, seed: int = 0) -> Structure:
    membership, q, engine = leiden(net.core, seed)
    component = np.asarray(net.core.connected_components().membership, dtype=np.int64)
    vid = net.core_ids()
    deal = np.isin(vid, list(net.deal_phones))
    line_comms = sorted({int(c) for c in membership[deal]})
    lines = {c: f"line {i + 1}" for i, c in enumerate(line_comms)}
    return Structure(membership, component, lines, q, seed, engine)


def communities(net: NetGraph, st: Structure) -> Result:
    """One row per community of three or more entities (and every line), with its make-up."""
    v = net.vertices.iloc[net.core_ids()].reset_index(drop=True)
    v["community"] = st.membership
    v["component"] = st.component
    adult = v.age >= ADULT_AGE
    young = v.age < ADULT_AGE
    v["is_person"] = v.type == "person"
    v["is_phone"] = v.type == "phone"
    v["is_address"] = v.type == "address"
    v["under_18"] = v.is_person & young.fillna(False)
    v["supply_adult"] = v.is_person & adult.fillna(False) & v.supply_offence
    v["out_area_person"] = v.is_person & v.out_of_area
    v["deal_phone"] = np.isin(net.core_ids(), list(net.deal_phones))
    g = v.groupby("community")
    table = pd.DataFrame(
        {
            "entities": g.size(),
            "persons": g.is_person.sum(),
            "phones": g.is_phone.sum(),
            "addresses": g.is_address.sum(),
            "deal_phones": g.deal_phone.sum(),
            "under_18": g.under_18.sum(),
            "supply_adults": g.supply_adult.sum(),
            "out_of_area_persons": g.out_area_person.sum(),
            "component": g.component.first(),
        }
    ).reset_index()
    table["line"] = [st.lines.get(int(c)) for c in table.community]
    keep = (table.entities >= MIN_COMMUNITY) | table.line.notna()
    table = table[keep].reset_index(drop=True)
    table["community"] = [f"C{int(c) + 1}" for c in table.community]
    comp_sizes = np.bincount(st.component) if len(st.component) else np.zeros(0, int)
    n_comm = int(st.membership.max() + 1) if len(st.membership) else 0
    summary = {
        "entities": int(net.full.vcount()),
        "core_entities": int(net.core.vcount()),
        "edges": int(net.full.ecount()),
        "links": int(net.edges.weight.sum()),
        "components": int(len(comp_sizes)),
        "largest_component": int(comp_sizes.max()) if len(comp_sizes) else 0,
        "communities": n_comm,
        "communities_3plus": int((np.bincount(st.membership) >= MIN_COMMUNITY).sum())
        if n_comm
        else 0,
        "modularity": round(st.modularity, 4),
        "deal_phones": len(net.deal_phones),
        "lines_found": len(st.lines),
    }
    method = (
        "Components: connected components of the core graph (persons, phones and addresses; "
        "one edge per pair of entities with any recorded link, weighted by the number of "
        "links). Stations, towns and areas are left out of this graph because everyone passes "
        "through them. Communities: Leiden algorithm (Traag, Waltman & van Eck 2019) "
        f"maximising weighted modularity, seed {st.seed}, run by "
        f"{'leidenalg' if st.engine == 'leidenalg' else 'igraph community_leiden'} "
        f"(leidenalg to convergence up to {LEIDENALG_MAX:,} vertices; above, igraph's "
        f"implementation of the same algorithm, {LARGE_PASSES} passes, for speed); modularity {st.modularity:.3f}. A community is called "
        "a line when it holds a deal-line phone (a phone with a line_area link: where a deal "
        "line operates or comes from). Assumptions: links "
        "that were never recorded are missing at random; a line's members are more densely "
        "linked among themselves than to others. Uncertainty: Leiden finds one good partition "
        "among many near-equal ones, so members at a line's edge can move between runs "
        "(different seeds, or a different key, which reorders the vertices); two lines sharing people can merge, and a line with no recorded "
        "line_area link is not called a line. Accuracy on planted truth is in the accuracy "
        "table (adjusted Rand index)."
    )
    return Result(table=table, summary=summary, method=method)


def line_members(net: NetGraph, st: Structure) -> pd.DataFrame:
    """Core vertices in lines: core id, vertex id, key, type, line."""
    line = st.line_of_core()
    idx = np.flatnonzero(line != None)  # noqa: E711 - numpy object comparison
    vid = net.core_ids()[idx]
    v = net.vertices.iloc[vid]
    return pd.DataFrame(
        {
            "core": idx,
            "vid": vid,
            "key": v.key.to_numpy(),
            "short": [short(k) for k in v.key],
            "type": v.type.to_numpy(),
            "line": line[idx],
        }
    )
