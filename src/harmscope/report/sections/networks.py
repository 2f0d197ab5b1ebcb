"""Report section "County-lines networks" (issue 15): internal audience only.

Built only when the store holds links and the audience is ``internal``: a partner or public
report never computes it (partners get counts per area from ``harmscope networks --audience
partner``). It shows the headline figures, a summary table per line, the routes into the
area, the top brokers and young people at risk by shortened pseudonym (the first 10 hex
characters of the key; the store holds no identity to show), the transparency records, and a
drawing of each line: igraph's Fruchterman-Reingold layout (seeded) drawn as a Vega-Lite
chart whose points are the rows of the same-named table. Each build writes an audit-log row,
as the section reads person-level link tables; a read-only store shows no figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import audited, cards, para, value_text, withheld
from harmscope.store.queries.report import has_links

ORDER = 86  # after the people section (85)
KEY = "networks"
TITLE = "County-lines networks (internal: pseudonymised links)"
TOP = 15  # rows of the person-level lists shown
MAX_LINES_DRAWN = 8
MAX_NODES_DRAWN = 150  # per drawing: the line's people first, then phones and addresses
ROLE_COLOURS = {
    "deal phone": "#d62728",
    "phone": "#ff9896",
    "top broker": "#9467bd",
    "under 18": "#1f77b4",
    "adult, supply offence": "#8c564b",
    "adult": "#7f7f7f",
    "address": "#2ca02c",
    "address, vulnerable resident": "#98df8a",
}


def build(ctx: ReportContext) -> Section | None:
    if ctx.audience != "internal":  # person-level: never computed for partner or public
        return None
    store = ctx.store
    if not has_links(store):
        return None
    if store.read_only:
        return withheld(
            KEY,
            TITLE,
            "Network figures are withheld: the store was opened read-only, so this output "
            "could not be written to the audit log.",
        )
    from harmscope.analysis.networks import network_profile
    from harmscope.privacy.networks import publish_networks

    # has_links said the store holds links: a failure here is an error of the report (exit
    # non-zero), never a section quietly left out.
    profile = ctx.cached(
        "networks",
        lambda: network_profile(store, month_from=ctx.month_from, month_to=ctx.month_to),
    )
    if profile.net.full.vcount() == 0:  # no link seen in the report's months
        return None
    pub = publish_networks(profile, "internal", ctx.threshold)
    refused = audited(
        store,
        KEY,
        TITLE,
        "Network figures",
        what="report section: county-lines networks (person-level, pseudonymised)",
        query=f"network_profile(from={ctx.month_from!r}, to={ctx.month_to!r})",
        audience="internal",
        rows=int(profile.summary.get("entities") or 0),
    )
    if refused is not None:
        return refused
    s = pub.document()["summary"]
    parts = []
    if profile.synthetic:
        parts.append(
            '<p class="warn"><strong>SYNTHETIC DATA.</strong> The links in this section were '
            "simulated by harmscope; they describe no real person.</p>"
        )
    parts.append(
        cards(
            [
                (
                    "lines found (communities with a deal line)",
                    value_text(s.get("lines_found")),
                    "",
                ),
                ("people in lines", value_text(s.get("people_in_lines")), ""),
                ("young people flagged at risk", value_text(s.get("young_flagged")), ""),
                ("cuckooing candidates", value_text(s.get("cuckooing_candidates")), ""),
                ("people linked outside the area", value_text(s.get("people_linked_outside")), ""),
            ]
        )
    )
    parts.append(
        para(
            "INTERNAL ONLY - person-level. People, phones and addresses are shown by the "
            "first 10 characters of their keyed pseudonym; a place on a list starts a review "
            "by a named practitioner and is not a finding about the person. Young people "
            "linked to a line are treated as victims of exploitation first.",
            "The whole graph leaves only through `harmscope networks --export FILE.graphml` "
            "(internal, audited).",
        )
    )
    for rec in profile.transparency.values():
        not_for = "; ".join(rec.get("must_not_be_used_for", []))
        parts.append(
            para(
                f"Transparency record ({rec['name']}): purpose - {rec['purpose']} How it works "
                f"- {rec['how_it_works']} Must not be used for: {not_for}. Error rates - "
                f"{rec['statement']}"
            )
        )
    comm = pub.tables["communities"]
    tables = {
        "lines": ctx.protect(comm[comm.line.notna()].reset_index(drop=True)),
        "routes": ctx.protect(pub.tables["routes"]),
        "brokers": ctx.protect(pub.tables["brokers"].head(TOP)),
        "young_at_risk": ctx.protect(pub.tables["young_at_risk"].head(TOP)),
        "cuckooing": ctx.protect(pub.tables["cuckooing"].head(TOP)),
    }
    if "change_by_month" in pub.tables:
        tables["change_by_month"] = ctx.protect(pub.tables["change_by_month"])
    charts, captions = {}, {}
    for line in sorted(profile.structure.lines.values(), key=_line_number)[:MAX_LINES_DRAWN]:
        nodes, edges = line_drawing(profile, line)
        cid = line.replace(" ", "_")
        tables[cid] = ctx.protect(nodes)
        charts[cid] = drawing_spec(nodes, edges, line)
        captions[cid] = (
            f"{line}: {len(nodes)} entities drawn (pseudonyms only); colour = role, "
            "layout = Fruchterman-Reingold (igraph, seeded)."
        )
    return Section(
        key=KEY,
        title=TITLE,
        html="".join(parts),
        tables=tables,
        charts=charts,
        captions=captions,
        method=" ".join(r.method for r in profile.results.values()),
        disclosure_checked=True,
        notes=list(pub.dropped),
    )


def _line_number(name: str) -> int:
    try:
        return int(name.split()[-1])
    except ValueError:
        return 0


def line_drawing(profile, line: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (pseudonym, role, x, y) and edges (x, y, x2, y2) of one line's subgraph, laid out
    by igraph's Fruchterman-Reingold with a fixed seed (the same drawing every run)."""
    import random

    net, st = profile.net, profile.structure
    comm = next(c for c, name in st.lines.items() if name == line)
    members = st.members(comm)
    vid = net.core_ids()[members]
    v = net.vertices.iloc[vid]
    order = np.argsort((v.type != "person").to_numpy(), kind="stable")[:MAX_NODES_DRAWN]
    members, vid = members[order], vid[order]
    sub = net.core.induced_subgraph(members.tolist())
    state = random.getstate()
    random.seed(seed)  # igraph's layouts draw their start from Python's random module
    try:
        xy = np.asarray(sub.layout_fruchterman_reingold(niter=500).coords, dtype=float)
    finally:
        random.setstate(state)
    if len(xy):
        xy = (xy - xy.min(axis=0)) / np.where(np.ptp(xy, axis=0) > 0, np.ptp(xy, axis=0), 1)
    brokers = profile.results["brokers"].table
    top = set(brokers[brokers.line == line].head(3).key)
    rows = []
    for i, u in enumerate(vid):
        t = net.vertices.type.iat[u]
        key = net.vertices.key.iat[u]
        age = net.vertices.age.iat[u]
        if t == "phone":
            role = "deal phone" if int(u) in net.deal_phones else "phone"
        elif t == "address":
            role = "address"
            if net.vertices.vulnerable.iat[u]:
                role = "address, vulnerable resident"
        elif key in top:
            role = "top broker"
        elif age == age and age < 18:
            role = "under 18"
        elif net.vertices.supply_offence.iat[u]:
            role = "adult, supply offence"
        else:
            role = "adult"
        rows.append(
            {
                "pseudonym": key[:10],
                "type": t,
                "role": role,
                "x": round(float(xy[i, 0]), 4),
                "y": round(float(xy[i, 1]), 4),
            }
        )
    nodes = pd.DataFrame(rows, columns=["pseudonym", "type", "role", "x", "y"])
    el = np.asarray(sub.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    edges = pd.DataFrame(
        {
            "x": nodes.x.to_numpy()[el[:, 0]],
            "y": nodes.y.to_numpy()[el[:, 0]],
            "x2": nodes.x.to_numpy()[el[:, 1]],
            "y2": nodes.y.to_numpy()[el[:, 1]],
        }
    )
    return nodes, edges


def drawing_spec(nodes: pd.DataFrame, edges: pd.DataFrame, line: str) -> dict:
    """A Vega-Lite network drawing: edges as rules, entities as points coloured by role."""
    axis = {"axis": None}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"{line} (pseudonyms only)",
        "width": 420,
        "height": 320,
        "layer": [
            {
                "data": {"values": edges.to_dict(orient="records")},
                "mark": {"type": "rule", "color": "#bbbbbb", "strokeWidth": 1},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative", **axis},
                    "y": {"field": "y", "type": "quantitative", **axis},
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                },
            },
            {
                "data": {"values": nodes.to_dict(orient="records")},
                "mark": {"type": "circle", "size": 90, "opacity": 0.95},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative", **axis},
                    "y": {"field": "y", "type": "quantitative", **axis},
                    "color": {
                        "field": "role",
                        "type": "nominal",
                        "scale": {
                            "domain": list(ROLE_COLOURS),
                            "range": list(ROLE_COLOURS.values()),
                        },
                    },
                    "tooltip": [
                        {"field": "pseudonym", "type": "nominal"},
                        {"field": "role", "type": "nominal"},
                    ],
                },
            },
        ],
    }
