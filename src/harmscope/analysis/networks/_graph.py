"""The link graph: entities (persons, phones, addresses, places, areas) as vertices and the
recorded links of the store (``links``, ``link_entities``, migration 8) as edges.

The store holds only keys (keyed HMAC pseudonyms for persons, phones and addresses; readable
keys for places and areas), so every graph and every table built here carries keys, never an
identity. Links are aggregated in DuckDB to one undirected edge per pair of entities (weight =
links recorded between them, the link types kept as a ';'-joined list): a million links come
back as one frame of distinct pairs.

Two graphs are used: the **full** graph (every entity type) for routes and deal lines, and the
**core** graph (persons, phones and addresses only) for components, communities, brokers and
exposure. Stations, towns and force areas are public places that thousands pass through: left
in, one station would join every line and every bystander into one community.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import igraph as ig
import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.store.queries import links as queries

CORE_TYPES = ("person", "phone", "address")
ADULT_AGE = 18


def short(key: str | None, n: int = 10) -> str | None:
    """A shortened key for people to read (the first ``n`` characters of the pseudonym): enough
    to tell a few hundred entities apart, never enough to find the full key without the store."""
    if key is None or (isinstance(key, float) and np.isnan(key)):
        return None
    return str(key)[:n]


@dataclass
class NetGraph:
    """The graph and its vertex table (row i = vertex i of ``full``)."""

    full: ig.Graph
    vertices: pd.DataFrame  # key, type, age, supply_offence, vulnerable, out_of_area, label
    edges: pd.DataFrame  # a, b (vertex ids), weight, link_types, first_seen, last_seen
    core: ig.Graph  # persons, phones and addresses; vertex attribute "vid" = id in ``full``
    window: tuple[str | None, str | None] = (None, None)
    synthetic: bool = False
    deal_phones: set[int] = field(default_factory=set)  # vertex ids in ``full``

    @property
    def persons(self) -> pd.DataFrame:
        return self.vertices[self.vertices.type == "person"]

    def core_ids(self) -> np.ndarray:
        """Vertex ids in ``full`` of the core graph's vertices, in core order."""
        return np.asarray(self.core.vs["vid"], dtype=np.int64)


def require_links(store) -> int:
    n = queries.link_count(store)
    if n is None:  # a store made before migration 8
        raise HarmscopeError(
            "the store has no links table",
            where="--db",
            fix="open the store with this version of harmscope (it migrates) and load links "
            "with `harmscope links ingest links.csv`",
        )
    if n == 0:
        raise HarmscopeError(
            "the store holds no links",
            where="--db",
            fix="load a links file first: `harmscope links ingest links.csv --db DB` "
            "(or make a synthetic one with `harmscope simulate lines`)",
        )
    return n


def load_graph(store, month_from: str | None = None, month_to: str | None = None) -> NetGraph:
    """The graph of the links seen in the window (every link when no window)."""
    require_links(store)
    ents = queries.window_entities(store, month_from, month_to)
    synthetic = queries.links_synthetic(store)
    pairs = queries.window_pairs(store, ents.key, month_from, month_to)
    a = pairs.a.to_numpy(dtype=np.int64)
    b = pairs.b.to_numpy(dtype=np.int64)
    edges = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "weight": pairs.weight.astype(int).to_numpy(),
            "link_types": pairs.link_types.to_numpy(),
            "first_seen": pairs.first_seen.to_numpy(),
            "last_seen": pairs.last_seen.to_numpy(),
        }
    )
    full = ig.Graph(n=len(ents), edges=np.column_stack([a, b]).tolist(), directed=False)
    full.es["weight"] = edges.weight.tolist()
    full.vs["type"] = ents.type.tolist()
    ents["age"] = pd.to_numeric(ents.age, errors="coerce")
    full.vs["vid"] = list(range(len(ents)))  # carried into the core graph below
    core_vids = np.flatnonzero(ents.type.isin(CORE_TYPES).to_numpy())
    core = full.induced_subgraph(core_vids.tolist(), implementation="create_from_scratch")
    net = NetGraph(
        full=full,
        vertices=ents,
        edges=edges,
        core=core,
        window=(month_from, month_to),
        synthetic=synthetic or bool(ents.synthetic.any()),
    )
    net.deal_phones = deal_phones(net)
    return net


def deal_phones(net: NetGraph) -> set[int]:
    """Phones with a ``line_area`` link: a deal line (the link type is recorded only for a
    phone line used to sell drugs, where it operates or comes from). Whether the line is
    run from outside the force area (a county line in the strict sense) is
    :func:`county_phones`; any deal line is kept here, as a missing link to "London" should
    not hide a line that still has its link to the Kent district it serves."""
    v = net.vertices
    e = net.edges
    line = e[e.link_types.str.contains("line_area", regex=False)]
    vtype = v.type.to_numpy()
    found: set[int] = set()
    for a, b in zip(line.a.to_numpy(), line.b.to_numpy(), strict=True):
        for phone, other in ((a, b), (b, a)):
            if vtype[phone] == "phone" and vtype[other] in ("area", "place"):
                found.add(int(phone))
    return found


def county_phones(net: NetGraph) -> set[int]:
    """Deal lines with a ``line_area`` link to an out-of-area place or area."""
    v = net.vertices
    e = net.edges
    line = e[e.link_types.str.contains("line_area", regex=False)]
    vtype = v.type.to_numpy()
    ooa = v.out_of_area.to_numpy(dtype=bool)
    found: set[int] = set()
    for a, b in zip(line.a.to_numpy(), line.b.to_numpy(), strict=True):
        for phone, other in ((a, b), (b, a)):
            if vtype[phone] == "phone" and vtype[other] in ("area", "place") and ooa[other]:
                found.add(int(phone))
    return found
