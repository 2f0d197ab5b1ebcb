"""The link graph for Gephi and i2 Analyst's Notebook: GraphML or GEXF, internal only, audited.

Vertices carry the store's keys (full pseudonyms: an analyst inside the partnership joins
them back to the store; no identity is in the store to find), a short label, the entity type,
age, flags, community, line and the analyses' scores; edges carry the number of links, their
types and the first and last dates seen. Places and areas keep their names. The file is
written and its ``audit_log`` row added in one transaction: if the row cannot be written the
file is removed, so no export exists without its audit row.

GraphML: igraph's writer (the GraphML 1.0 schema, readable by Gephi, yEd, Cytoscape and
``igraph.Graph.Read_GraphML``). GEXF 1.3 (the Gephi format, gexf.net/schema): written here with
``xml.etree`` as igraph has no GEXF writer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import igraph as ig
import numpy as np

from harmscope.errors import HarmscopeError
from harmscope.privacy import audit

FORMATS = (".graphml", ".gexf")
GEXF_NS = "http://gexf.net/1.3"


def check_export(path: Path | str, audience: str) -> str:
    """The format of ``path`` ('.graphml' or '.gexf'), refusing before any work a wrong
    extension or an audience other than internal."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise HarmscopeError(
            f"cannot export a network as {suffix or 'a file with no extension'!r}",
            where=f"--export {path}",
            fix="name the file .graphml (Gephi, yEd, i2 via GraphML import) or .gexf (Gephi)",
        )
    if audience != "internal":
        raise HarmscopeError(
            "a network export lists people, phones and addresses: internal only",
            where="--export",
            fix="use --audience internal (partners and the public get counts per area)",
        )
    if not Path(path).parent.exists():
        raise HarmscopeError(
            "the folder for the export does not exist",
            where=f"--export {path}",
            fix="create the folder first, or write the file elsewhere",
        )
    return suffix


def export_graph(profile) -> ig.Graph:
    """The full graph with every attribute an analyst needs, as plain strings and numbers."""
    net, st = profile.net, profile.structure
    g = net.full.copy()
    v = net.vertices
    n = len(v)
    comm = np.full(n, "", dtype=object)
    line = np.full(n, "", dtype=object)
    vid = net.core_ids()
    comm[vid] = [f"C{int(c) + 1}" for c in st.membership]
    lines = st.line_of_core()
    line[vid] = [x or "" for x in lines]
    br = profile.results["brokers"].table.set_index("key").broker_score
    yr = profile.results["young_at_risk"].table
    flagged = set(yr.loc[yr.flagged, "key"]) if len(yr) else set()
    keys = v.key.tolist()
    g.vs["name"] = keys
    g.vs["label"] = [
        lab if isinstance(lab, str) and t in ("place", "area") else k[:10]
        for k, lab, t in zip(keys, v.label, v.type, strict=True)
    ]
    g.vs["type"] = v.type.tolist()
    g.vs["age"] = [float(a) if not np.isnan(a) else -1.0 for a in v.age.to_numpy(dtype=float)]
    for col in ("supply_offence", "vulnerable", "out_of_area"):
        g.vs[col] = [bool(x) for x in v[col]]
    g.vs["community"] = comm.tolist()
    g.vs["line"] = line.tolist()
    g.vs["deal_phone"] = [i in net.deal_phones for i in range(n)]
    g.vs["broker_score"] = [float(br.get(k, 0.0)) for k in keys]
    g.vs["young_flagged"] = [k in flagged for k in keys]
    e = net.edges
    g.es["weight"] = [int(w) for w in e.weight]
    g.es["link_types"] = [str(x) for x in e.link_types]
    g.es["first_seen"] = [
        str(x)[:10] if x is not None and str(x) != "NaT" else "" for x in e.first_seen
    ]
    g.es["last_seen"] = [
        str(x)[:10] if x is not None and str(x) != "NaT" else "" for x in e.last_seen
    ]
    for attr in ("vid",):
        if attr in g.vs.attributes():
            del g.vs[attr]
    return g


def _gexf_type(values) -> str:
    sample = next((x for x in values), "")
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "integer"
    if isinstance(sample, float):
        return "double"
    return "string"


def write_gexf(g: ig.Graph, path: Path) -> None:
    """GEXF 1.3: nodes with attribute values, undirected edges with weight and attributes."""
    ET.register_namespace("", GEXF_NS)
    root = ET.Element(f"{{{GEXF_NS}}}gexf", {"version": "1.3"})
    meta = ET.SubElement(root, f"{{{GEXF_NS}}}meta")
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "harmscope networks"
    ET.SubElement(
        meta, f"{{{GEXF_NS}}}description"
    ).text = "County-lines link graph (pseudonymised keys). INTERNAL ONLY."
    graph = ET.SubElement(root, f"{{{GEXF_NS}}}graph", {"defaultedgetype": "undirected"})
    vattrs = [a for a in g.vs.attributes() if a not in ("name", "label")]
    eattrs = [a for a in g.es.attributes() if a != "weight"]
    for cls, attrs, seq in (("node", vattrs, g.vs), ("edge", eattrs, g.es)):
        block = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": cls})
        for i, a in enumerate(attrs):
            ET.SubElement(
                block,
                f"{{{GEXF_NS}}}attribute",
                {"id": str(i), "title": a, "type": _gexf_type(seq[a])},
            )
    nodes = ET.SubElement(graph, f"{{{GEXF_NS}}}nodes")
    for v in g.vs:
        node = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", {"id": v["name"], "label": v["label"]})
        vals = ET.SubElement(node, f"{{{GEXF_NS}}}attvalues")
        for i, a in enumerate(vattrs):
            x = v[a]
            ET.SubElement(
                vals,
                f"{{{GEXF_NS}}}attvalue",
                {"for": str(i), "value": str(x).lower() if isinstance(x, bool) else str(x)},
            )
    edges = ET.SubElement(graph, f"{{{GEXF_NS}}}edges")
    names = g.vs["name"]
    for e in g.es:
        edge = ET.SubElement(
            edges,
            f"{{{GEXF_NS}}}edge",
            {
                "id": str(e.index),
                "source": names[e.source],
                "target": names[e.target],
                "weight": str(float(e["weight"])),
            },
        )
        vals = ET.SubElement(edge, f"{{{GEXF_NS}}}attvalues")
        for i, a in enumerate(eattrs):
            ET.SubElement(vals, f"{{{GEXF_NS}}}attvalue", {"for": str(i), "value": str(e[a])})
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def export_network(store, profile, path: Path | str, *, audience: str = "internal") -> Path:
    """Write the graph to ``path`` (.graphml or .gexf) with its audit row; internal only."""
    path = Path(path)
    fmt = check_export(path, audience)
    g = export_graph(profile)
    try:
        with store.transaction():
            audit.record(
                store,
                action="export",
                what=f"county-lines network graph ({fmt[1:]}, pseudonymised keys)",
                query=f"network_profile(seed={profile.structure.seed}, "
                f"window={profile.net.window})",
                audience="internal",
                rows=int(g.vcount()),
                suppressed=0,
                output=str(path),
            )
            if fmt == ".graphml":
                g.write_graphml(str(path))
            else:
                write_gexf(g, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
