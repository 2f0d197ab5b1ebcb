"""Young people at risk of exploitation by a line, and cuckooing candidates.

Young people: every person under 18 within two steps (in the core graph of persons, phones
and addresses) of an adult with a recorded supply offence or of a deal-line phone, ranked by
an exposure score with the reasons behind it. Cuckooing: addresses that several people from
one line visit without living there, beside whether a resident (or the address) carries the
vulnerable flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from harmscope.analysis.networks._graph import ADULT_AGE, NetGraph, short
from harmscope.analysis.networks.structure import Structure
from harmscope.analysis.result import Result

# Exposure weights: a link to the deal line weighs most (the line's own phone), a direct link
# more than one through an intermediary. A judgement, stated in the method and the
# transparency record; accuracy is measured on planted truth.
W_DEAL = {1: 3.0, 2: 1.5}
W_SUPPLY = {1: 1.0, 2: 0.5}
W_TRAVEL = 0.5  # the young person is recorded at an out-of-area place
FLAG_SCORE = 1.5  # flagged for review at or above this score
CUCKOO_MIN_VISITORS = 2


def young_at_risk(net: NetGraph, st: Structure) -> Result:
    g = net.core
    vid = net.core_ids()
    v = net.vertices.iloc[vid].reset_index(drop=True)
    is_person = (v.type == "person").to_numpy()
    age = v.age.to_numpy(dtype=float)
    young = np.flatnonzero(is_person & (age < ADULT_AGE))
    supply = is_person & (age >= ADULT_AGE) & v.supply_offence.to_numpy(dtype=bool)
    deal = np.isin(vid, list(net.deal_phones))
    line_of = st.line_of_core()
    # the two-step neighbourhood of every child at once: sparse adjacency, one product
    n = g.vcount()
    el = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    adj = sparse.coo_matrix(
        (
            np.ones(2 * len(el), dtype=np.int32),
            (np.r_[el[:, 0], el[:, 1]], np.r_[el[:, 1], el[:, 0]]),
        ),
        shape=(n, n),
    ).tocsr()
    adj.data[:] = 1  # parallel entries (none: edges are distinct pairs) stay 0/1
    one = adj[young]
    two = (one @ adj).tocsr()
    two.data[:] = 1
    # exactly two steps: reached in two, not in one, and not the child itself
    two = two - two.multiply(one)
    me = sparse.csr_matrix(
        (np.ones(len(young), dtype=np.int32), (np.arange(len(young)), young)),
        shape=(len(young), n),
    )
    two = (two - two.multiply(me)).tocsr()
    two.eliminate_zeros()
    d1_deal = one @ deal.astype(np.int32)
    d2_deal = two @ deal.astype(np.int32)
    d1_sup = one @ supply.astype(np.int32)
    d2_sup = two @ supply.astype(np.int32)
    # out-of-area places each child is recorded at (full graph: places are not in the core)
    keys_full = net.vertices.key.to_numpy()
    labels_full = np.where(net.vertices.label.notna().to_numpy(), net.vertices.label, keys_full)
    vtype = net.vertices.type.to_numpy()
    ooa_place = np.isin(vtype, ["place", "area"]) & net.vertices.out_of_area.to_numpy(dtype=bool)
    ea, eb = net.edges.a.to_numpy(), net.edges.b.to_numpy()
    trips: dict[int, list[int]] = {}
    for x, p in ((ea, eb), (eb, ea)):
        hit = ooa_place[p]
        for u, w in zip(x[hit].tolist(), p[hit].tolist(), strict=True):
            trips.setdefault(u, []).append(w)
    exposed = np.flatnonzero((d1_deal + d2_deal + d1_sup + d2_sup) > 0)
    degree = np.asarray(g.degree(), dtype=np.int64)
    rows = []
    for i in exposed:
        y = int(young[i])
        n1 = one.indices[one.indptr[i] : one.indptr[i + 1]]
        n2 = two.indices[two.indptr[i] : two.indptr[i + 1]]
        dd1, dd2 = n1[deal[n1]], n2[deal[n2]]
        ss1, ss2 = n1[supply[n1]], n2[supply[n2]]
        travel = trips.get(int(vid[y]), [])
        score = (
            W_DEAL[1] * len(dd1)
            + W_DEAL[2] * len(dd2)
            + W_SUPPLY[1] * len(ss1)
            + W_SUPPLY[2] * len(ss2)
            + (W_TRAVEL if travel else 0.0)
        )

        def keys(us):
            return ", ".join(sorted(str(keys_full[vid[u]])[:10] for u in us)[:5])

        reasons = []
        if len(dd1):
            reasons.append(f"uses deal line {keys(dd1)}")
        if len(dd2):
            reasons.append(f"two steps from deal line {keys(dd2)}")
        if len(ss1):
            reasons.append(
                f"linked directly to {len(ss1)} adult(s) with supply offences ({keys(ss1)})"
            )
        if len(ss2):
            reasons.append(f"two steps from {len(ss2)} adult(s) with supply offences ({keys(ss2)})")
        if travel:
            labels = sorted({str(labels_full[w]) for w in travel})
            reasons.append("recorded at out-of-area " + ", ".join(labels[:3]))
        key = str(keys_full[vid[y]])
        rows.append(
            {
                "key": key,
                "pseudonym": short(key),
                "age": int(age[y]),
                "line": line_of[y],
                "score": score,
                "deal_line_1_step": len(dd1),
                "deal_line_2_steps": len(dd2),
                "supply_adults_1_step": len(ss1),
                "supply_adults_2_steps": len(ss2),
                "out_of_area_places": len(travel),
                "degree": int(degree[y]),
                "reasons": "; ".join(reasons),
            }
        )
    cols = [
        "key", "pseudonym", "age", "line", "score", "deal_line_1_step", "deal_line_2_steps",
        "supply_adults_1_step", "supply_adults_2_steps", "out_of_area_places", "degree",
        "reasons",
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols)
    table = table.sort_values(["score", "key"], ascending=[False, True]).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table["flagged"] = table.score >= FLAG_SCORE
    summary = {
        "under_18": int(len(young)),
        "young_exposed": int(len(table)),
        "young_flagged": int(table.flagged.sum()),
    }
    method = (
        "Young people at risk: every person recorded as under 18 within two steps (through "
        "persons, phones or addresses) of an adult with a recorded supply offence or of a "
        "deal-line phone. Exposure score = "
        f"{W_DEAL[1]:g} per deal line used directly + {W_DEAL[2]:g} per deal line two steps "
        f"away + {W_SUPPLY[1]:g} per supply adult linked directly + {W_SUPPLY[2]:g} per supply "
        f"adult two steps away + {W_TRAVEL:g} if recorded at an out-of-area place; flagged for "
        f"review at {FLAG_SCORE:g} or more. The weights are a judgement (closer and "
        "line-specific links weigh more), not fitted. Assumptions: ages and supply flags are "
        "recorded correctly; a link means contact. Uncertainty: a missing link hides a child "
        "(a false negative), a shared address or phone can expose a bystander (a false "
        "positive); precision and recall on planted truth are in the accuracy table and the "
        "transparency record. A flag starts a safeguarding review, never an action."
    )
    return Result(table=table, summary=summary, method=method)


def cuckooing(net: NetGraph, st: Structure) -> Result:
    """Addresses visited by several non-residents of one community."""
    v = net.vertices
    e = net.edges
    vtype = v.type.to_numpy()
    core_pos = np.full(len(v), -1, dtype=np.int64)
    core_pos[net.core_ids()] = np.arange(net.core.vcount())
    comm = st.membership
    mask = (vtype[e.a] == "address") ^ (vtype[e.b] == "address")
    sub = e[mask]
    addr = np.where(vtype[sub.a] == "address", sub.a, sub.b)
    other = np.where(vtype[sub.a] == "address", sub.b, sub.a)
    rel = pd.DataFrame(
        {
            "addr": addr,
            "person": other,
            "types": sub.link_types.to_numpy(),
        }
    )
    rel = rel[vtype[rel.person] == "person"]
    rel["resident"] = rel.types.str.contains("resident", regex=False)
    rel["community"] = comm[core_pos[rel.person]]
    rel["vulnerable"] = v.vulnerable.to_numpy(dtype=bool)[rel.person]
    res = (
        rel[rel.resident]
        .groupby("addr")
        .agg(residents=("person", "size"), vuln=("vulnerable", "any"))
    )
    vis = rel[~rel.resident].groupby(["addr", "community"]).size().rename("n").reset_index()
    # per address, the community with most visitors (ties: the lowest community id)
    vis = vis.sort_values(["addr", "n", "community"], ascending=[True, False, True])
    vis = vis.drop_duplicates("addr")
    vis = vis[vis.n >= CUCKOO_MIN_VISITORS].join(res, on="addr")
    addr_vuln = v.vulnerable.to_numpy(dtype=bool)[vis.addr.to_numpy()]
    keys = v.key.to_numpy()[vis.addr.to_numpy()]
    table = pd.DataFrame(
        {
            "key": keys,
            "address": [short(x) for x in keys],
            "community": [f"C{int(c) + 1}" for c in vis.community],
            "line": [st.lines.get(int(c)) for c in vis.community],
            "non_resident_visitors": vis.n.astype(int).to_numpy(),
            "residents": vis.residents.fillna(0).astype(int).to_numpy(),
            "vulnerable_resident": vis.vuln.fillna(False).astype(bool).to_numpy() | addr_vuln,
        }
    )
    table = table.sort_values(
        ["vulnerable_resident", "non_resident_visitors", "key"], ascending=[False, False, True]
    ).reset_index(drop=True)
    table["in_line"] = table.line.notna()
    summary = {
        "cuckooing_candidates": int(len(table)),
        "cuckooing_in_lines": int(table.in_line.sum()),
        "cuckooing_vulnerable": int(table.vulnerable_resident.sum()),
    }
    method = (
        "Cuckooing candidates: addresses linked (visits_address) to at least "
        f"{CUCKOO_MIN_VISITORS} people of one community who are not recorded as living there "
        "(no resident link), listed with whether a resident or the address carries the "
        "vulnerable flag and whether the community is a line. Assumptions: residence links "
        "are complete (a missing resident link makes a resident look like a visitor). "
        "Uncertainty: a family home or a hostel visited by friends looks the same in links; "
        "a candidate is a prompt for a safeguarding visit, not a finding."
    )
    return Result(table=table, summary=summary, method=method)
