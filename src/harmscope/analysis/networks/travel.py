"""Lines into the area: who and what is linked to places outside the force area, by route and
station; and the counts per in-area place that partners may see.

A route is a pair (out-of-area place -> in-area station) recorded for one person: the person
is linked to both (``visits_place``). Stations are places whose name says "station".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.networks._graph import NetGraph
from harmscope.analysis.networks.structure import Structure
from harmscope.analysis.result import Result


def _is_station(label) -> bool:
    return isinstance(label, str) and "station" in label.lower()


def _place_links(net: NetGraph, st: Structure) -> pd.DataFrame:
    """One row per (entity, place-or-area) pair: entity and place vertices, the place's
    label, whether it is out of the area, and the entity's line (None outside lines)."""
    v = net.vertices
    e = net.edges
    vtype = v.type.to_numpy()
    is_place = np.isin(vtype, ["place", "area"])
    a, b = e.a.to_numpy(), e.b.to_numpy()
    mask = is_place[a] ^ is_place[b]
    a, b = a[mask], b[mask]
    place = np.where(is_place[a], a, b)
    ent = np.where(is_place[a], b, a)
    labels = np.where(v.label.notna().to_numpy(), v.label.to_numpy(), v.key.to_numpy())
    line_full = np.full(len(v), None, dtype=object)
    line_full[net.core_ids()] = st.line_of_core()
    return pd.DataFrame(
        {
            "ent": ent,
            "place": place,
            "ent_type": vtype[ent],
            "out_of_area": v.out_of_area.to_numpy(dtype=bool)[place],
            "label": labels[place].astype(str),
            "line": line_full[ent],
        }
    )


def lines_into_area(net: NetGraph, st: Structure) -> Result:
    pl = _place_links(net, st)
    persons = pl[pl.ent_type == "person"]
    outside = persons[persons.out_of_area]
    inside = persons[~persons.out_of_area & persons.label.map(_is_station).astype(bool)]
    routes = outside[["ent", "label", "line"]].merge(
        inside[["ent", "label"]], on="ent", suffixes=("_from", "_to")
    )
    routes["route"] = routes.label_from.astype(str) + " -> " + routes.label_to.astype(str)
    by_route = (
        routes.groupby(["route", "label_from", "label_to"])
        .agg(people=("ent", "nunique"), lines=("line", lambda s: s.dropna().nunique()))
        .reset_index()
        .rename(columns={"label_from": "from_place", "label_to": "to_station"})
        .sort_values(["people", "route"], ascending=[False, True])
        .reset_index(drop=True)
    )
    stations = persons[persons.label.map(_is_station).astype(bool)]
    travellers = set(outside.ent)
    by_station = (
        stations.assign(traveller=stations.ent.isin(travellers))
        .groupby(["label", "out_of_area"])
        .agg(
            people=("ent", "nunique"),
            people_from_outside=("traveller", "sum"),
            lines=("line", lambda s: s.dropna().nunique()),
        )
        .reset_index()
        .rename(columns={"label": "station"})
        .sort_values(["people_from_outside", "station"], ascending=[False, True])
        .reset_index(drop=True)
    )
    phones = pl[(pl.ent_type == "phone") & pl.out_of_area]
    summary = {
        "people_linked_outside": int(outside.ent.nunique()),
        "phones_linked_outside": int(phones.ent.nunique()),
        "routes": int(len(by_route)),
        "top_route": by_route.route.iat[0] if len(by_route) else None,
    }
    method = (
        "Lines into the area: people and phones linked to a place or area flagged as outside "
        "the force area. A route is an out-of-area place and an in-area station recorded for "
        "the same person (visits_place links), counted in distinct people and the lines "
        "(communities with a deal phone) they belong to. Assumptions: station visits come "
        "from BTP and police records, which see some journeys and miss most; the order of "
        "travel is not recorded, so a route is a pair, not a direction proven. Uncertainty: "
        "counts are of recorded people, a floor on who travels."
    )
    return Result(table=by_route, summary=summary, method=method,
                  tables={"stations": by_station})  # fmt: skip


def area_counts(net: NetGraph, st: Structure, young: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per in-area place or area: lines linked to it (a member or a deal phone linked), people
    of lines linked, and young people flagged at risk linked. Counts only, no person."""
    pl = _place_links(net, st)
    pl = pl[~pl.out_of_area].copy()
    flagged: list = []
    if young is not None and len(young):
        flagged = list(young.loc[young.flagged, "key"])
    keys = net.vertices.key.to_numpy()[pl.ent.to_numpy()]
    # hash lookups (pandas isin): numpy's isin sorts object arrays, 17 s on a million links
    pl["young_flagged"] = (pl.ent_type == "person").to_numpy() & pd.Series(keys).isin(
        set(flagged)
    ).to_numpy()
    pl["line_person"] = pl.line.notna() & (pl.ent_type == "person")
    rows = []
    for label, grp in pl.groupby("label"):
        rows.append(
            {
                "area": label,
                "lines": int(grp.line.dropna().nunique()),
                "people_in_lines": int(grp.loc[grp.line_person, "ent"].nunique()),
                "young_at_risk": int(grp.loc[grp.young_flagged, "ent"].nunique()),
            }
        )
    cols = ["area", "lines", "people_in_lines", "young_at_risk"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["lines", "area"], ascending=[False, True]).reset_index(drop=True)
