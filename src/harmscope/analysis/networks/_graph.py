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
    try:
        n = int(store.con.execute("SELECT count(*) FROM links").fetchall()[0][0])
    except Exception as exc:  # a store made before migration 8
        raise HarmscopeError(
            "the store has no links table",
            where="--db",
            fix="open the store with this version of harmscope (it migrates) and load links "
            "with `harmscope links ingest links.csv`",
        ) from exc
    if n == 0:
        raise HarmscopeError(
            "the store holds no links",
            where="--db",
            fix="load a links file first: `harmscope links ingest links.csv --db DB` "
            "(or make a synthetic one with `harmscope simulate lines`)",
        )
    return n


def _window_sql(month_from: str | None, month_to: str | None) -> tuple[str, list]:
    """Links seen at any time in the window: first_seen before its end, last_seen after its
    start (a link with no dates counts in every window)."""
    where, params = [], []
    if month_to:
        where.append(
            "(first_seen IS NULL OR first_seen < (CAST(? || '-01' AS DATE) + INTERVAL 1 MONTH))"
        )
        params.append(month_to)
    if month_from:
        where.append(
            "(coalesce(last_seen, first_seen) IS NULL OR coalesce(last_seen, first_seen) >= CAST(? || '-01' AS DATE))"
        )
        params.append(month_from)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def load_graph(store, month_from: str | None = None, month_to: str | None = None) -> NetGraph:
    """The graph of the links seen in the window (every link when no window)."""
    require_links(store)
    where, params = _window_sql(month_from, month_to)
    ents = store.query(
        f"""
        WITH l AS (SELECT * FROM links{where}),
        seen AS (
            SELECT source_key AS key, any_value(source_type) AS type FROM l GROUP BY 1
            UNION ALL
            SELECT target_key, any_value(target_type) FROM l GROUP BY 1
        ),
        k AS (SELECT key, any_value(type) AS type FROM seen GROUP BY 1),
        e AS (
            SELECT entity_key, any_value(entity_type) AS etype, max(age) AS age,
                   bool_or(supply_offence) AS supply_offence, bool_or(vulnerable) AS vulnerable,
                   bool_or(out_of_area) AS out_of_area, max(label) AS label,
                   bool_or(synthetic) AS synthetic
            FROM link_entities GROUP BY 1
        )
        SELECT k.key, coalesce(e.etype, k.type) AS type, e.age,
               coalesce(e.supply_offence, false) AS supply_offence,
               coalesce(e.vulnerable, false) AS vulnerable,
               coalesce(e.out_of_area, false) AS out_of_area, e.label,
               coalesce(e.synthetic, false) AS synthetic
        FROM k LEFT JOIN e ON e.entity_key = k.key
        ORDER BY k.key
        """,
        params,
    )
    synthetic = bool(
        store.con.execute("SELECT coalesce(bool_or(synthetic), false) FROM links").fetchall()[0][0]
    )
    ents = ents.reset_index(drop=True)
    # pairs come back as vertex ids: the engine joins the keys (faster than matching a
    # million strings in pandas)
    ids = pd.DataFrame({"key": ents.key, "id": np.arange(len(ents), dtype=np.int64)})
    store.con.register("_harmscope_net_ids", ids)
    try:
        pairs = store.query(
            f"""
            WITH l AS (SELECT * FROM links{where}),
            p AS (
                SELECT least(source_key, target_key) AS a, greatest(source_key, target_key) AS b,
                       count(*) AS weight,
                       string_agg(DISTINCT link_type, ';' ORDER BY link_type) AS link_types,
                       min(first_seen) AS first_seen,
                       max(coalesce(last_seen, first_seen)) AS last_seen
                FROM l WHERE source_key <> target_key GROUP BY 1, 2
            )
            SELECT ia.id AS a, ib.id AS b, p.weight, p.link_types, p.first_seen, p.last_seen
            FROM p JOIN _harmscope_net_ids ia ON ia.key = p.a
                   JOIN _harmscope_net_ids ib ON ib.key = p.b
            ORDER BY 1, 2
            """,
            params,
        )
    finally:
        store.con.unregister("_harmscope_net_ids")
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
