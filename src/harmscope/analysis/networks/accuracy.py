"""Accuracy against planted truth (synthetic data only): lines found, adjusted Rand index of
the recovered communities against the planted lines, broker and at-risk precision and recall,
each beside a simple baseline (degree ranking).

The truth file holds raw synthetic identifiers; they are turned into store keys with
``sources.links.entity_key`` and the same key, so the comparison happens in key space, as the
store holds it.
"""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import precision_recall
from harmscope.analysis.networks._graph import ADULT_AGE, NetGraph
from harmscope.analysis.networks.structure import Structure
from harmscope.errors import HarmscopeError


def read_truth(path: str | Path) -> dict:
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarmscopeError(
            f"cannot read the truth file ({exc.__class__.__name__})",
            where=f"--truth {path}",
            fix="pass the truth.json written by `harmscope simulate lines`",
        ) from exc
    if not isinstance(truth, dict) or "lines" not in truth or not truth.get("synthetic"):
        raise HarmscopeError(
            "not a planted-truth file of synthetic lines",
            where=f"--truth {path}",
            fix="pass the truth.json written by `harmscope simulate lines`",
        )
    return truth


def keyed_truth(truth: dict, key: bytes) -> dict:
    """The truth with every raw identifier turned into its store key."""
    from harmscope.privacy.pseudonymise import Pseudonymiser
    from harmscope.sources.links import entity_key

    p = Pseudonymiser(key)

    def person(x):
        return entity_key(p, "person", x)

    lines = []
    for ln in truth["lines"]:
        lines.append(
            {
                "line": ln["line"],
                "holder": person(ln["holder"]) if ln.get("holder") else None,
                "deal_phone": entity_key(p, "phone", ln["deal_phone"])
                if ln.get("deal_phone")
                else None,
                "members": [person(m) for m in ln.get("members", [])],
                "brokers": [person(m) for m in ln.get("brokers", [])],
                "runners": [person(m) for m in ln.get("runners", [])],
                "cuckooed_addresses": [
                    entity_key(p, "address", a) for a in ln.get("cuckooed_addresses", [])
                ],
                "stations": list(ln.get("stations", [])),  # place names, not personal
                "area": ln.get("area"),
            }
        )
    return {
        "lines": lines,
        "brokers": [person(m) for m in truth.get("brokers", [])],
        "at_risk": [person(m) for m in truth.get("at_risk", [])],
        "seed": truth.get("seed"),
        "params": truth.get("params", {}),
    }


def adjusted_rand(labels_true, labels_pred) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985) from the contingency table of two labelings.

    ARI = (sum_ij C(n_ij,2) - E) / (max - E), E = sum_i C(a_i,2) sum_j C(b_j,2) / C(n,2),
    max = (sum_i C(a_i,2) + sum_j C(b_j,2)) / 2. 1 for identical partitions, about 0 for
    chance agreement. Both trivial (all one cluster, or all singletons) and equal: 1.
    """
    t = pd.Series(list(labels_true), dtype=object).astype(str)
    p = pd.Series(list(labels_pred), dtype=object).astype(str)
    if len(t) != len(p):
        raise ValueError("labelings of different lengths")
    n = len(t)
    if n < 2:
        return 1.0
    table = pd.crosstab(t, p).to_numpy()
    index = sum(comb(int(x), 2) for x in table.ravel())
    a = sum(comb(int(x), 2) for x in table.sum(axis=1))
    b = sum(comb(int(x), 2) for x in table.sum(axis=0))
    expected = a * b / comb(n, 2)
    most = (a + b) / 2
    if most == expected:
        return 1.0
    return float((index - expected) / (most - expected))


def _pr(found: set, truth: set) -> dict:
    tp = len(found & truth)
    return {
        "flagged": len(found),
        "planted": len(truth),
        "true_positive": tp,
        **precision_recall(tp, len(found), len(truth)),
    }


def accuracy(
    net: NetGraph, st: Structure, brokers: pd.DataFrame, young: pd.DataFrame, truth: dict
) -> tuple[pd.DataFrame, dict]:
    """The accuracy table (one row per measure and method) and its headline figures."""
    vid = net.core_ids()
    key_to_core = pd.Series(np.arange(len(vid)), index=net.vertices.key.to_numpy()[vid])
    # lines: ARI over planted line members, a member missing from the graph its own cluster
    true_lab, pred_lab = [], []
    for ln in truth["lines"]:
        for m in dict.fromkeys(ln["members"]):
            true_lab.append(ln["line"])
            c = key_to_core.get(m)
            pred_lab.append(f"C{st.membership[c]}" if c is not None else f"missing:{m}")
    ari = adjusted_rand(true_lab, pred_lab) if true_lab else None
    # lines recovered: the line community holding most of a planted line's members, one-to-one
    claims: dict[int, tuple[int, str]] = {}
    for ln in truth["lines"]:
        comms = [st.membership[key_to_core[m]] for m in ln["members"] if m in key_to_core.index]
        if not comms:
            continue
        vals, counts = np.unique(comms, return_counts=True)
        best = int(vals[np.argmax(counts)])
        share = counts.max() / len(set(ln["members"]))
        if best in st.lines and share >= 0.5:
            if best not in claims or claims[best][0] < counts.max():
                claims[best] = (int(counts.max()), ln["line"])
    recovered = len(claims)
    # brokers: top-k by within-line betweenness, k = number of planted brokers
    true_b = set(truth["brokers"])
    k = len(true_b)
    top_b = set(brokers.key.head(k)) if k else set()
    persons = np.flatnonzero(net.vertices.type.to_numpy()[vid] == "person")
    deg = np.asarray(net.core.degree(persons.tolist()))
    pkeys = net.vertices.key.to_numpy()[vid[persons]]
    order = np.lexsort((pkeys, -deg))
    base_b = set(pkeys[order[:k]])
    # at risk: the flagged list; baseline = as many under-18s, by degree
    true_r = set(truth["at_risk"])
    flagged = set(young.loc[young.flagged, "key"]) if len(young) else set()
    ages = net.vertices.age.to_numpy(dtype=float)[vid[persons]]
    ymask = ages < ADULT_AGE
    yorder = np.lexsort((pkeys[ymask], -deg[ymask]))
    base_r = set(pkeys[ymask][yorder[: len(flagged)]])
    rows = []
    for measure, method, found, planted in (
        ("brokers", "betweenness in line (top k)", top_b, true_b),
        ("brokers", "baseline: degree (top k)", base_b, true_b),
        ("young_at_risk", "exposure score (flagged)", flagged, true_r),
        ("young_at_risk", "baseline: degree of under-18s (same number)", base_r, true_r),
    ):
        rows.append({"measure": measure, "method": method, **_pr(found, planted)})
    table = pd.DataFrame(rows)
    summary = {
        "lines_planted": len(truth["lines"]),
        "lines_recovered": recovered,
        "ari": ari,
        "broker_precision": table.precision.iat[0],
        "broker_recall": table.recall.iat[0],
        "baseline_broker_precision": table.precision.iat[1],
        "baseline_broker_recall": table.recall.iat[1],
        "at_risk_precision": table.precision.iat[2],
        "at_risk_recall": table.recall.iat[2],
        "baseline_at_risk_precision": table.precision.iat[3],
        "baseline_at_risk_recall": table.recall.iat[3],
    }
    return table, summary
