"""Honesty checks on the real data: placebo schemes and planted effects.

A placebo scheme is a random set of untreated LSOAs of one force with a random start month;
nothing happened there, so every method should find "no change" about 95% of the time at
alpha 0.05. A planted effect thins the set's post-period counts binomially (each crime kept
with probability 1 - reduction), which is exactly a multiplicative effect on a Poisson or
negative-binomial count with the overdispersion unchanged: the truth is known.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.evaluate import (
    METHODS,
    Panels,
    did_mde,
    evaluate_design,
    noise_model,
)
from harmscope.analysis.evaluation.shared import Shared
from harmscope.analysis.intervals import wilson
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError


def candidate_starts(panels: Panels, min_pre: int = 6, min_post: int = 3) -> list[pd.Timestamp]:
    months = sorted(pd.to_datetime(panels.lsoa["month"].unique()))
    return [months[i] for i in range(min_pre, len(months) - min_post + 1)]


def _thinned(
    df: pd.DataFrame, areas: list[str], start: pd.Timestamp, reduction: float, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows of ``df`` in ``areas`` from ``start``, and their counts thinned
    by ``reduction`` (binomial, from ``rng``)."""
    if not 0 <= reduction < 1:
        raise HarmscopeError(
            f"planted reduction {reduction} is not in [0, 1)",
            where="--plant",
            fix="give a fraction, e.g. 0.2",
        )
    m = (df["area"].isin(set(areas)) & (df["month"] >= start)).to_numpy()
    kept = rng.binomial(df["count"].to_numpy()[m].astype(np.int64), 1 - reduction)
    return np.flatnonzero(m), kept.astype(float)


def _with_counts(panels: Panels, field: str, rows: np.ndarray, counts: np.ndarray) -> Panels:
    df = getattr(panels, field).copy()
    df.iloc[rows, df.columns.get_loc("count")] = counts
    return dataclasses.replace(panels, **{field: df})


def plant(
    panels: Panels, areas: list[str], start: pd.Timestamp, reduction: float, rng, unit: str = "lsoa"
) -> Panels:
    """A copy of the panels with ``reduction`` planted in ``areas`` (of ``unit``) from ``start``."""
    field = "lsoa" if unit == "lsoa" else "district"
    index, counts = _thinned(getattr(panels, field), areas, start, reduction, rng)
    return _with_counts(panels, field, index, counts)


@dataclass(frozen=True)
class _Scheme:
    """One placebo scheme, drawn in the parent: its areas, start, planted reduction (with the
    thinned LSOA counts, so a worker process needs no random numbers), and method seed."""

    run: int
    design: Design
    start: pd.Timestamp
    reduction: float
    planted: tuple[np.ndarray, np.ndarray] | None  # row positions in the LSOA panel, counts
    seed: int


def _draw(panels: Panels, n: int, rng, pool, starts, force, n_areas, reduction, at_mde):
    """The schemes, drawing from ``rng`` in the order the one-at-a-time loop always did."""
    schemes, noise = [], None
    for i in range(n):
        areas = list(rng.choice(pool, n_areas, replace=False))
        start = starts[int(rng.integers(len(starts)))]
        design = Design("lsoa", areas, [a for a in pool if a not in set(areas)], force)
        red = reduction
        if at_mde:
            p = panels.lsoa
            if noise is None:
                noise = noise_model(p, design)
            pre = (
                p[(p["month"] < start) & p["area"].isin(set(areas))].groupby("area")["count"].mean()
            )
            m0 = int((pd.Series(sorted(p["month"].unique())) < start).sum())
            m1 = p["month"].nunique() - m0
            red = did_mde(pre.to_numpy(), noise[0], noise[1], m0, m1, 3, len(areas)) or 0.0
        planted = _thinned(panels.lsoa, areas, start, red, rng) if red > 0 else None
        schemes.append(_Scheme(i, design, start, red, planted, int(rng.integers(1 << 30))))
    return schemes


# A worker process's panels, methods and shared matrices (set once by _init_worker).
_WORKER: dict = {}


def _init_worker(panels: Panels, methods) -> None:
    # one BLAS thread for the worker's life (see _threads: setting it per scheme costs)
    limit = contextlib.ExitStack()
    limit.enter_context(single_thread())
    _WORKER.update(panels=panels, methods=methods, shared=Shared(panels), limit=limit)


def _evaluate(scheme: _Scheme, panels: Panels, methods, shared: Shared) -> list[dict]:
    use = panels if scheme.planted is None else _with_counts(panels, "lsoa", *scheme.planted)
    with single_thread():
        res = evaluate_design(
            use,
            scheme.design,
            scheme.start,
            methods=methods,
            details=False,
            seed=scheme.seed,
            shared=shared,
        )
    # only what the rows need travels back from a worker
    return [
        {k: r.get(k) for k in ("method", "irr", "irr_ci", "p_value", "mde", "error")} for r in res
    ]


def _evaluate_in_worker(scheme: _Scheme) -> list[dict]:
    return _evaluate(scheme, _WORKER["panels"], _WORKER["methods"], _WORKER["shared"])


def default_workers() -> int:
    """Processes for placebo runs: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _evaluate_all(
    panels: Panels, schemes: list[_Scheme], methods, workers: int
) -> list[list[dict]]:
    """Every scheme's results, in order: in this process, or spread over ``workers`` forked
    processes (each builds the shared matrices once). The figures do not depend on which."""
    if workers <= 1 or len(schemes) < 2 * workers or not sys.platform.startswith("linux"):
        shared = Shared(panels)
        with single_thread():
            return [_evaluate(s, panels, methods, shared) for s in schemes]
    # fork (Linux; macOS system libraries are not fork-safe): the children inherit the panels
    # instead of unpickling them, and none of them touches the store
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("fork"),
        initializer=_init_worker,
        initargs=(panels, methods),
    ) as pool:
        chunk = max(1, len(schemes) // (workers * 8))
        return list(pool.map(_evaluate_in_worker, schemes, chunksize=chunk))


def run_placebos(
    panels: Panels,
    n: int,
    *,
    seed: int = 0,
    methods=METHODS,
    n_areas: int = 30,
    force: str,
    reduction: float = 0.0,
    reduction_at_mde: bool = False,
    exclude: list[str] | tuple[str, ...] = (),
    starts: list[pd.Timestamp] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """One row per placebo scheme and method: irr, CI, p, MDE, and whether the truth is covered.

    ``reduction`` plants a known effect; ``reduction_at_mde`` plants, for each scheme, the DiD
    minimum detectable effect computed for that very design (the power check). ``workers``:
    processes to spread the schemes over (default: every core this process may use); the
    schemes are drawn first, in one sequence, so the rows are the same for any number.
    """
    if n < 1:
        raise HarmscopeError(
            "the number of placebo schemes must be >= 1",
            where="--placebo",
            fix="e.g. --placebo 200",
        )
    rng = np.random.default_rng(seed)
    pool = sorted(set(panels.lsoa.loc[panels.lsoa["force"] == force, "area"]) - set(exclude))
    if len(pool) < 4 * n_areas + 10:
        raise HarmscopeError(
            f"only {len(pool)} untreated LSOAs in {force} for placebo schemes of {n_areas} areas",
            where="--placebo",
            fix="use fewer areas per placebo scheme or ingest more of the force's data",
        )
    starts = starts or candidate_starts(panels)
    schemes = _draw(panels, n, rng, pool, starts, force, n_areas, reduction, reduction_at_mde)
    results = _evaluate_all(panels, schemes, methods, workers or default_workers())
    rows = []
    for scheme, res in zip(schemes, results, strict=True):
        rows += [_row(scheme, r) for r in res]
    return pd.DataFrame(rows)


def _row(scheme: _Scheme, r: dict) -> dict:
    red, truth = scheme.reduction, 1 - scheme.reduction
    lo, hi = r.get("irr_ci") or [np.nan, np.nan]
    return {
        "run": scheme.run,
        "method": r["method"],
        "start": scheme.start.date().isoformat(),
        "planted_reduction": red,
        "irr": r.get("irr"),
        "irr_low": lo,
        "irr_high": hi,
        "p_value": r.get("p_value"),
        "mde": r.get("mde"),
        "significant": bool(r.get("p_value") is not None and r["p_value"] < 0.05),
        "detected_reduction": bool(
            r.get("p_value") is not None and r["p_value"] < 0.05 and (r.get("irr") or 1) < 1
        ),
        "covers_truth": bool(lo <= truth <= hi) if np.isfinite(lo) else False,
        "error": r.get("error"),
    }


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per method: runs, false-positive (or detection) rate with a Wilson interval, coverage."""
    out = []
    for method, d in runs.groupby("method", sort=False):
        d = d[d["error"].isna()]
        k, n = int(d["significant"].sum()), len(d)
        lo, hi = wilson(k, n) if n else (np.nan, np.nan)
        det = int(d["detected_reduction"].sum())
        dlo, dhi = wilson(det, n) if n else (np.nan, np.nan)
        out.append(
            {
                "method": method,
                "runs": n,
                "significant_rate": k / n if n else np.nan,
                "significant_rate_ci": [float(lo), float(hi)],
                "detection_rate": det / n if n else np.nan,
                "detection_rate_ci": [float(dlo), float(dhi)],
                "coverage": float(d["covers_truth"].mean()) if n else np.nan,
                "mean_irr": float(d["irr"].mean()) if n else np.nan,
                "mean_mde": float(d["mde"].mean()) if n and d["mde"].notna().any() else None,
            }
        )
    return pd.DataFrame(out)


def placebo_check(
    panels: Panels,
    n: int,
    *,
    seed: int = 0,
    methods=METHODS,
    n_areas: int = 30,
    force: str,
    exclude=(),
    reduction: float = 0.0,
) -> Result:
    """`harmscope evaluate --placebo N`: the false-positive rate of each method on these data;
    with ``reduction`` (`--plant`) the same placebo schemes with that reduction planted in
    every run: each method's detection rate (power) and coverage at the planted effect."""
    runs = run_placebos(
        panels,
        n,
        seed=seed,
        methods=methods,
        n_areas=n_areas,
        force=force,
        exclude=exclude,
        reduction=reduction,
    )
    summ = summarise(runs)
    planted = reduction > 0
    results = [
        _planted_row(r, reduction) if planted else _null_row(r)
        for r in summ.to_dict(orient="records")
    ]
    summary = {
        "placebo_schemes": n,
        "areas_per_scheme": n_areas,
        "seed": seed,
        "force": force,
        "planted_reduction": reduction,
        "results": results,
    }
    if planted:
        summary["planted_irr"] = 1 - reduction
    return Result(
        table=summ,
        summary=summary,
        tables={"runs": runs},
        method=_placebo_method(n, n_areas, force, reduction),
        notes=[_planted_note(n, reduction)] if planted else [],
    )


def _null_row(r: dict) -> dict:
    fpr, ci = r["significant_rate"], r["significant_rate_ci"]
    ok = ci[0] <= 0.05 <= ci[1]
    return {
        "method": r["method"],
        # no scheme was evaluated: only the placebo figures exist
        "irr": None,
        "irr_ci": None,
        "p_value": None,
        "false_positive_rate": fpr,
        "false_positive_rate_ci": ci,
        "runs": r["runs"],
        "coverage": r["coverage"],
        "verdict": (
            f"{fpr:.1%} of {r['runs']} placebo schemes came out 'significant' at alpha 0.05 "
            f"(95% CI {ci[0]:.1%} to {ci[1]:.1%}); "
            + (
                "consistent with the nominal 5%."
                if ok
                else "NOT consistent with the nominal 5%: treat this method's p-values with caution on these data."
            )
        ),
    }


def _planted_row(r: dict, reduction: float) -> dict:
    det, ci = r["detection_rate"], r["detection_rate_ci"]
    k = int(round(r["coverage"] * r["runs"])) if r["runs"] else 0
    clo, chi = wilson(k, r["runs"]) if r["runs"] else (np.nan, np.nan)
    return {
        "method": r["method"],
        "irr": None,
        "irr_ci": None,
        "p_value": None,
        "planted_reduction": reduction,
        "detection_rate": det,
        "detection_rate_ci": ci,
        "runs": r["runs"],
        "coverage": r["coverage"],
        "coverage_ci": [float(clo), float(chi)],
        "mean_irr": r["mean_irr"],
        "verdict": (
            f"SYNTHETIC: with a {reduction:.0%} reduction planted in every placebo scheme, "
            f"{det:.1%} of {r['runs']} runs detected a significant reduction (95% CI "
            f"{ci[0]:.1%} to {ci[1]:.1%}); the 95% interval held the true IRR "
            f"{1 - reduction:.2f} in {r['coverage']:.1%} (95% CI {clo:.1%} to {chi:.1%}); "
            f"mean estimated IRR {r['mean_irr']:.3f}."
        ),
    }


def _planted_note(n: int, reduction: float) -> str:
    return (
        f"SYNTHETIC CHECK: a {reduction:.0%} reduction was planted (binomial thinning from each "
        f"run's start month) in every one of the {n} placebo schemes; the true IRR is "
        f"{1 - reduction:.2f}. The rates are detection (power) and coverage at that effect, "
        "not false-positive rates."
    )


def _placebo_method(n: int, n_areas: int, force: str, reduction: float) -> str:
    text = (
        f"{n} placebo schemes: each a random set of {n_areas} untreated LSOAs of {force} with a "
        "random start month (at least 6 months of data before and 3 after), evaluated exactly "
        "as a real scheme. "
    )
    if reduction > 0:
        return text + (
            f"A {reduction:.0%} reduction was planted in each (binomial thinning of the set's "
            "counts from the start month, a multiplicative effect with the overdispersion "
            f"unchanged), so the truth is an IRR of {1 - reduction:.2f}: the share called a "
            "significant reduction at alpha 0.05 estimates the power at that effect, and the "
            "share of 95% intervals containing the true IRR their coverage (Wilson 95% "
            "intervals for both)."
        )
    return text + (
        "Nothing happened there, so the share called significant at alpha 0.05 estimates the "
        "false-positive rate (Wilson 95% interval); coverage is the share of 95% intervals "
        "that contain an IRR of 1."
    )
