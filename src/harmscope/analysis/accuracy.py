"""How good and how stable are hotspots: PAI, PEI and hit rate on a later period, and Andresen's S.

- Hit rate = n/N, the share of the later period's events inside the chosen hotspots.
- PAI = (n/N) / (a/A) (Chainey, Tompson & Uhlig 2008), a the hotspots' area, A the study area.
- PEI = PAI / PAI*, PAI* the best PAI any selection of the same area could reach on the later
  period (Hunt 2016); with equal cells that is n / n*, n* the events in the best cells.
- S-index (Andresen 2009; Andresen & Malleson 2011): resample 85% of the test events many
  times, take the 95% interval of each unit's percentage, and count the units whose base
  percentage falls inside it. S = share of units similar; robust S uses only units with an
  event in either period (many empty cells inflate S).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from harmscope.analysis.gistar import gi_star
from harmscope.analysis.intervals import wilson
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError


def pai_pei(
    selected: np.ndarray,
    test_counts: np.ndarray,
    area: np.ndarray | float = 1.0,
    alpha: float = 0.05,
) -> dict:
    """PAI, PEI and hit rate of a selection of units scored on later counts, with Wilson intervals
    for the hit rate (and PAI, which is the hit rate scaled by A/a)."""
    sel = np.asarray(selected, dtype=bool)
    y = np.asarray(test_counts, dtype=float)
    a_units = np.broadcast_to(np.asarray(area, dtype=float), y.shape)
    n, big_n = float(y[sel].sum()), float(y.sum())
    a, big_a = float(a_units[sel].sum()), float(a_units.sum())
    if big_n == 0:
        raise HarmscopeError(
            "the test period has no events", where="--evaluate", fix="choose another test period"
        )
    if a == 0:
        return {
            "selected_units": 0,
            "hit_rate": 0.0,
            "pai": None,
            "pei": None,
            "events_test": int(big_n),
        }
    lo, hi = wilson(np.array([round(n)]), np.array([round(big_n)]), alpha)
    hit = n / big_n
    pai = hit / (a / big_a)
    # best possible: fill the same area with the units densest in test events
    dens = y / a_units
    order = np.argsort(-dens, kind="stable")
    cum_area = np.cumsum(a_units[order])
    k = int(np.searchsorted(cum_area, a - 1e-9) + 1)
    n_star = float(y[order][:k].sum())
    pai_star = (n_star / big_n) / (cum_area[k - 1] / big_a)
    return {
        "selected_units": int(sel.sum()),
        "area_share": a / big_a,
        "events_test": int(big_n),
        "events_in_hotspots": int(n),
        "hit_rate": hit,
        "hit_rate_ci": [float(lo[0]), float(hi[0])],
        "pai": pai,
        "pai_ci": [float(lo[0]) / (a / big_a), float(hi[0]) / (a / big_a)],
        "pai_best": pai_star,
        "pei": pai / pai_star if pai_star else None,
    }


def andresen_s(
    base: np.ndarray,
    test: np.ndarray,
    *,
    sample: float = 0.85,
    iterations: int = 200,
    alpha: float = 0.05,
    seed: int | None = None,
    bootstrap: bool = False,
) -> dict:
    """Andresen's spatial point pattern test S-index between two count vectors on the same units.

    Default: the original test (sppt::sppt defaults: 200 samples of 85% of the test events
    without replacement; a unit is similar when its base percentage lies in the test interval).
    It ignores the base's own sampling noise, so with large counts even two draws from one
    process look different. ``bootstrap=True`` is sppt::sppt_boot: both sets resampled with
    replacement, a unit is similar when the interval of the difference covers 0.
    """
    base = np.asarray(base, dtype=np.int64)
    test = np.asarray(test, dtype=np.int64)
    if base.sum() == 0 or test.sum() == 0:
        raise HarmscopeError("both periods need events for the S-index", where="andresen_s")
    rng = np.random.default_rng(seed)
    pct = base / base.sum()
    if bootstrap:
        pb, pt = base / base.sum(), test / test.sum()
        diffs = (
            rng.multinomial(base.sum(), pb, size=iterations) / base.sum()
            - rng.multinomial(test.sum(), pt, size=iterations) / test.sum()
        )
        lo = np.percentile(diffs, 100 * alpha / 2, axis=0)
        hi = np.percentile(diffs, 100 * (1 - alpha / 2), axis=0)
        similar = (lo <= 0) & (hi >= 0)
        direction = np.where(similar, 0, np.where(lo > 0, 1, -1))
    else:
        m = int(round(sample * test.sum()))
        sims = np.empty((iterations, len(test)))
        for r in range(iterations):
            sims[r] = rng.multivariate_hypergeometric(test, m) / m
        lo = np.percentile(sims, 100 * alpha / 2, axis=0)
        hi = np.percentile(sims, 100 * (1 - alpha / 2), axis=0)
        similar = (pct >= lo) & (pct <= hi)
        direction = np.where(
            similar, 0, np.where(pct > hi, 1, -1)
        )  # +1: base share above the test's
    active = (base > 0) | (test > 0)
    return {
        "s_index": float(similar.mean()),
        "s_index_robust": float(similar[active].mean()) if active.any() else None,
        "units": int(len(base)),
        "active_units": int(active.sum()),
        "similar": similar,
        "direction": direction,
        "iterations": iterations,
        "sample": None if bootstrap else sample,
        "bootstrap": bootstrap,
    }


def evaluate_hotspots(
    store,
    *,
    train: tuple[date, date],
    test: tuple[date, date],
    crime_types: list[str] | None = None,
    area: str | None = None,
    units: str = "grid",
    cell_size: float | None = None,
    neighbours: str = "queen",
    weight: str = "none",
    correction: str = "holm",
    seed: int | None = None,
    iterations: int = 200,
) -> Result:
    """Hotspots chosen on ``train`` scored on ``test``: PAI, PEI, hit rate (Gi* hot cells, and the
    same number of top-count cells), and the Andresen S-index between the two periods."""
    if test[0] <= train[1] or train[0] > train[1] or test[0] > test[1]:
        raise HarmscopeError(
            f"the test period ({test[0]:%Y-%m}..{test[1]:%Y-%m}) must follow the training period "
            f"({train[0]:%Y-%m}..{train[1]:%Y-%m}) without overlap",
            where="--evaluate (--from/--to, --test-from/--test-to)",
            fix="choose a test period that starts after --to",
        )
    from harmscope.analysis.grid import EventFilter
    from harmscope.analysis.hotspots import UnitRule, _build_units

    period = (min(train[0], test[0]), max(train[1], test[1]))
    rule = UnitRule(units, cell_size, neighbours, weight)
    frame, W, notes, extra = _build_units(
        store, EventFilter(crime_types, *period, area), rule, by_month=True
    )
    months = np.array(extra["months"])
    in_train = (months >= train[0]) & (months <= train[1])
    in_test = (months >= test[0]) & (months <= test[1])
    if not in_train.any() or not in_test.any():
        raise HarmscopeError(
            "the training or the test period has no data",
            where="--evaluate",
            fix=f"the store holds {months[0]:%Y-%m}..{months[-1]:%Y-%m}; choose periods inside it"
            if len(months)
            else "ingest data first",
        )
    c_train = extra["counts"][in_train].sum(axis=0)
    v_train = extra["values"][in_train].sum(axis=0)
    c_test = extra["counts"][in_test].sum(axis=0)
    gi = gi_star(v_train, W, correction=correction)
    hot = gi["class"].isin(["hot 99%", "hot 95%"]).to_numpy()
    if units == "grid":
        area_units = extra["grid"].cells["area_m2"].to_numpy()
    else:
        area_units = np.array([p.area for p in extra["polygons"]])
    rows = []
    for label, sel in (
        ("Gi* hot (95%+)", hot),
        ("top cells by count (same number)", _top(c_train, int(hot.sum()))),
    ):
        r = pai_pei(sel, c_test, area_units)
        r["selection"] = label
        rows.append(r)
    s = andresen_s(
        c_train.round().astype(int), c_test.round().astype(int), seed=seed, iterations=iterations
    )
    sb = andresen_s(
        c_train.round().astype(int),
        c_test.round().astype(int),
        seed=seed,
        iterations=iterations,
        bootstrap=True,
    )
    table = pd.DataFrame(rows)[
        [
            c
            for c in (
                "selection",
                "selected_units",
                "area_share",
                "events_in_hotspots",
                "events_test",
                "hit_rate",
                "hit_rate_ci",
                "pai",
                "pai_ci",
                "pai_best",
                "pei",
            )
            if c in rows[0]
        ]
    ]
    g = rows[0]
    summary = {
        "train": f"{train[0]:%Y-%m}..{train[1]:%Y-%m}",
        "test": f"{test[0]:%Y-%m}..{test[1]:%Y-%m}",
        "units": int(len(frame)),
        "hot_units": int(hot.sum()),
        "hit_rate": g.get("hit_rate"),
        "hit_rate_ci": g.get("hit_rate_ci"),
        "pai": g.get("pai"),
        "pai_ci": g.get("pai_ci"),
        "pei": g.get("pei"),
        "top_cells_pai": rows[1].get("pai"),
        "s_index": s["s_index"],
        "s_index_robust": s["s_index_robust"],
        "s_active_units": s["active_units"],
        "s_index_boot_robust": sb["s_index_robust"],
    }
    method = (
        f"Hotspots chosen on {summary['train']} with Gi* ({neighbours} neighbours, {correction} correction; "
        "hot = 95% class or higher) and, for comparison, the same number of cells with the most events; "
        f"scored on {summary['test']}. Hit rate = n/N with a Wilson 95% interval; PAI = hit rate / area share "
        "(interval scaled from the hit rate's); PEI = PAI / best PAI for the same area on the test period. "
        f"S-index (Andresen's original test, as sppt::sppt): {iterations} samples of 85% of test events without "
        f"replacement (seed {seed}), 95% interval per unit; robust S uses only units with an event in either period. "
        "The original test ignores the first period's own noise and calls many units different when counts are "
        "large; s_index_boot_robust (sppt::sppt_boot: both periods bootstrapped, interval of the difference) "
        "does not. Assumptions: same grid in both periods; "
        "the interval treats test events as independent, which clustering makes optimistic."
    )
    per_unit = frame[["unit", "x", "y", "lon", "lat"]].copy()
    per_unit["train_count"], per_unit["test_count"] = c_train, c_test
    per_unit["hot_train"] = hot
    per_unit["s_similar"] = s["similar"]
    per_unit["s_direction"] = s["direction"]
    res = Result(
        table=table,
        summary=summary,
        method=method,
        notes=notes,
        tables={"units": per_unit},
        title="Hotspot accuracy on the later period",
    )
    res.charts["pai"] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": "Hit rate of hotspots on the later period",
        "data": {
            "values": [
                {
                    "selection": r["selection"],
                    "hit_rate": r["hit_rate"],
                    "lo": r["hit_rate_ci"][0],
                    "hi": r["hit_rate_ci"][1],
                }
                for r in rows
                if "hit_rate_ci" in r
            ]
        },
        "layer": [
            {
                "mark": "bar",
                "encoding": {
                    "y": {"field": "selection", "type": "nominal"},
                    "x": {"field": "hit_rate", "type": "quantitative", "axis": {"format": "%"}},
                },
            },
            {
                "mark": "rule",
                "encoding": {
                    "y": {"field": "selection", "type": "nominal"},
                    "x": {"field": "lo", "type": "quantitative"},
                    "x2": {"field": "hi"},
                },
            },
        ],
    }
    return res


def _top(counts: np.ndarray, k: int) -> np.ndarray:
    sel = np.zeros(len(counts), dtype=bool)
    if k > 0:
        sel[np.argsort(-counts, kind="stable")[:k]] = True
    return sel
