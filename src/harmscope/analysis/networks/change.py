"""Change over time: communities month by month (new, growing, stable, fading, ended),
matched across months by the people they share.

Only the networks around the lines are tracked: the core vertices within ``FOCUS_STEPS``
steps of a deal line (all of them when the store has no deal line). Each month's graph
holds the core edges between them whose recorded span (first to last seen of the links
between the pair) covers the month. Leiden (same settings as the whole-period communities)
runs on each month; a community of the month is matched to last month's community with which
it shares the most people, if their Jaccard overlap is at least ``MATCH_JACCARD``.
"""

from __future__ import annotations

import igraph as ig
import numpy as np
import pandas as pd

from harmscope.analysis.networks._graph import NetGraph
from harmscope.analysis.networks.structure import MIN_COMMUNITY, Structure, leiden
from harmscope.analysis.result import Result
from harmscope.months import Month

MATCH_JACCARD = 0.3
FOCUS_STEPS = 3  # deal line -> holder/brokers -> runners -> their friends and homes
GROWTH = 0.2  # a change in people of 20% or more is growing / fading
MAX_MONTHS = 36
MONTH_ITERATIONS = 2  # Leiden passes per month (leidenalg's default; -1 = to convergence)


def _label(m: int) -> str:
    """'YYYY-MM' of a month index (the same index as ``Month.index``)."""
    return str(Month.from_index(m))


class _Previous:
    """Last month's communities: for each core vertex the index of its community (-1 none),
    with their names and sizes in people, so a match costs one count over its people."""

    def __init__(self, n: int) -> None:
        self.of = np.full(n, -1, dtype=np.int64)
        self.names: list[str] = []
        self.sizes: list[int] = []
        self.used: set[int] = set()
        self._sizes = np.zeros(0, dtype=np.int64)

    def freeze(self) -> None:
        """Done adding communities: keep the sizes as an array for :meth:`match`."""
        self._sizes = np.asarray(self.sizes, dtype=np.int64)

    def match(self, people: np.ndarray) -> tuple[str | None, int, str]:
        """(name, people before, status) of last month's community this one continues (the
        unused one of highest Jaccard overlap, if at least MATCH_JACCARD), or (None, 0, "new")."""
        ids = self.of[people]
        ids = ids[ids >= 0]
        if not len(ids):
            return None, 0, "new"
        vals, counts = np.unique(ids, return_counts=True)
        sizes = self._sizes[vals]
        jac = counts / (len(people) + sizes - counts)
        for i in np.argsort(-jac, kind="stable"):
            if jac[i] < MATCH_JACCARD:
                break
            c = int(vals[i])
            if c in self.used:
                continue
            self.used.add(c)
            before = int(sizes[i])
            ratio = len(people) / before - 1
            status = "growing" if ratio >= GROWTH else "fading" if ratio <= -GROWTH else "stable"
            return self.names[c], before, status
        return None, 0, "new"


def _focus(net: NetGraph) -> np.ndarray | None:
    """Core vertices within :data:`FOCUS_STEPS` steps of a deal line (None: no deal line, so
    the whole graph). Month-by-month tracking is of the networks around the lines: the
    background's many small groups churn by chance and would bury them (and, on a million
    links, cost a minute)."""
    vid = net.core_ids()
    deal = np.flatnonzero(np.isin(vid, list(net.deal_phones)))
    if not len(deal):
        return None
    mask = np.zeros(net.core.vcount(), dtype=bool)
    for hood in net.core.neighborhood(deal.tolist(), order=FOCUS_STEPS):
        mask[hood] = True
    return mask


def change_over_time(net: NetGraph, st: Structure, seed: int = 0) -> Result:
    e = net.edges
    core_pos = np.full(len(net.vertices), -1, dtype=np.int64)
    core_pos[net.core_ids()] = np.arange(net.core.vcount())
    ca, cb = core_pos[e.a.to_numpy()], core_pos[e.b.to_numpy()]
    keep = (ca >= 0) & (cb >= 0) & e.first_seen.notna().to_numpy()
    focus = _focus(net)
    if focus is not None:
        keep &= focus[np.maximum(ca, 0)] & focus[np.maximum(cb, 0)]
    ca, cb = ca[keep], cb[keep]
    f = pd.to_datetime(e.first_seen[keep])
    la = pd.to_datetime(e.last_seen[keep])
    # months as integers (Month.index: year * 12 + month - 1): comparisons on arrays
    first = (f.dt.year * 12 + f.dt.month - 1).to_numpy()
    last = (la.dt.year * 12 + la.dt.month - 1).to_numpy()
    w = e.weight.to_numpy()[keep]
    months = list(range(int(first.min()), int(last.max()) + 1))[-MAX_MONTHS:] if keep.any() else []
    vid = net.core_ids()
    is_person = net.vertices.type.to_numpy()[vid] == "person"
    deal = np.isin(vid, list(net.deal_phones))
    line_of = st.line_of_core()
    n = net.core.vcount()
    in_line = line_of != None  # noqa: E711 - numpy object comparison
    rows = []
    prev = _Previous(n)
    serial = 0
    for m in months:
        on = (first <= m) & (last >= m)
        # only the vertices with a link this month (the rest would be singletons)
        active, local = np.unique(np.concatenate([ca[on], cb[on]]), return_inverse=True)
        pairs = local.reshape(2, -1).T
        g = ig.Graph(n=len(active), edges=pairs.tolist(), directed=False)
        g.es["weight"] = w[on].tolist()
        memb_local, _, _ = leiden(g, seed, iterations=MONTH_ITERATIONS)
        memb = np.full(n, -1, dtype=np.int64)
        memb[active] = memb_local
        comms: dict[int, np.ndarray] = {}
        order = np.argsort(memb, kind="stable")
        bounds = np.flatnonzero(np.diff(memb[order])) + 1
        for grp in np.split(order, bounds):
            if memb[grp[0]] < 0:
                continue
            people = grp[is_person[grp]]
            if len(people) >= MIN_COMMUNITY:
                comms[int(memb[grp[0]])] = grp
        cur = _Previous(n)
        for _c, grp in sorted(comms.items(), key=lambda kv: -len(kv[1])):
            people = grp[is_person[grp]]
            name, before, status = prev.match(people)
            if name is None:
                serial += 1
                name = f"N{serial}"
            lines = {line_of[i] for i in grp[in_line[grp]]}
            cur.of[people] = len(cur.names)
            cur.names.append(name)
            cur.sizes.append(len(people))
            rows.append(
                {
                    "month": _label(m),
                    "network": name,
                    "status": status,
                    "people": len(people),
                    "people_before": before,
                    "deal_phones": int(deal[grp].sum()),
                    "line": ";".join(sorted(lines)) if lines else None,
                }
            )
        for c, name in enumerate(prev.names):
            if c not in prev.used:
                rows.append(
                    {
                        "month": _label(m),
                        "network": name,
                        "status": "ended",
                        "people": 0,
                        "people_before": prev.sizes[c],
                        "deal_phones": 0,
                        "line": None,
                    }
                )
        cur.freeze()
        prev = cur
    cols = ["month", "network", "status", "people", "people_before", "deal_phones", "line"]
    table = pd.DataFrame(rows, columns=cols)
    by_month = (
        table.groupby(["month", "status"]).size().unstack(fill_value=0).reset_index()
        if len(table)
        else pd.DataFrame(columns=["month"])
    )
    for s in ("new", "growing", "stable", "fading", "ended"):
        if s not in by_month.columns:
            by_month[s] = 0
    by_month = by_month[["month", "new", "growing", "stable", "fading", "ended"]]
    by_month.columns.name = None
    summary = {
        "months": len(months),
        "networks_tracked": serial,
        "line_networks_last_month": int(
            ((table.month == _label(months[-1])) & (table.deal_phones > 0)).sum()
        )
        if months
        else 0,
    }
    method = (
        f"Change over time, of the networks within {FOCUS_STEPS} steps of a deal line (the "
        "whole graph when there is none): for each month, the pairs whose recorded links span "
        "the month (first seen on or before it, last seen on or after it); Leiden communities "
        f"({MONTH_ITERATIONS} passes a month) "
        f"of {MIN_COMMUNITY} or more people; each matched to last month's community sharing "
        f"the most people when their Jaccard overlap is {MATCH_JACCARD:g} or more (else new). "
        f"Growing or fading: people up or down by {GROWTH:.0%} or more; ended: last month's "
        "community with no match. Assumptions: a pair's links are taken to hold from the "
        "first to the last date recorded (gaps in between are not seen). Uncertainty: a "
        "month holds fewer links than the whole period, so small communities split and merge "
        "from month to month by chance; read a change over two or more months."
    )
    return Result(table=table, summary=summary, method=method, tables={"by_month": by_month})
