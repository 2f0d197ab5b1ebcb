"""Reference check: California's Proposition 99 (Abadie, Diamond & Hainmueller 2010).

ADH 2010, Table 2 gives the synthetic California's state weights: Utah .334, Nevada .234,
Montana .199, Colorado .164, Connecticut .069 (others 0); their placebo-in-space test ranks
California first of 39 by post/pre RMSPE ratio (p = 1/39 = 0.026). Predictors (their Table 1):
log GDP per capita, share aged 15-24 and retail price (1980-88 means), beer per capita
(1984-88 mean), and cigarette sales in 1975, 1980 and 1988; V is chosen to minimise the
1970-88 outcome MSPE.

The data ship with the ``pyautocausal`` wheel (``pip install --no-deps pyautocausal``; only its
CSV is read, the package is never imported). Without it, :func:`load_smoking` says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.synth import nested_weights
from harmscope.errors import HarmscopeError

TABLE2 = {"Utah": 0.334, "Nevada": 0.234, "Montana": 0.199, "Colorado": 0.164, "Connecticut": 0.069}
_REL = "pipelines/library/synthcontrol/examples/datasets/smoking_data.csv"


def smoking_path() -> Path | None:
    spec = importlib.util.find_spec("pyautocausal")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / _REL
    return p if p.exists() else None


def load_smoking() -> pd.DataFrame:
    p = smoking_path()
    if p is None:
        raise HarmscopeError(
            "the Proposition 99 data set is not installed",
            where="pyautocausal",
            fix="pip install --no-deps pyautocausal (only its smoking_data.csv is used)",
        )
    df = pd.read_csv(p)
    df["year"] = df["year"].astype(int)
    return df


def predictors(df: pd.DataFrame) -> pd.DataFrame:
    """States x the seven ADH predictors."""

    def mean(col, lo, hi):
        d = df[(df["year"] >= lo) & (df["year"] <= hi)]
        return d.groupby("state")[col].mean()

    out = pd.DataFrame(
        {
            "lnincome": mean("lnincome", 1980, 1988),
            "age15to24": mean("age15to24", 1980, 1988),
            "retprice": mean("retprice", 1980, 1988),
            "beer": mean("beer", 1984, 1988),
        }
    )
    for y in (1975, 1980, 1988):
        out[f"cigsale_{y}"] = df[df["year"] == y].set_index("state")["cigsale"]
    return out


def _fit(unit: str, donors: list[str], X: pd.DataFrame, Y: pd.DataFrame, starts: int, seed: int):
    pre = Y.index <= 1988
    w, v = nested_weights(
        X.loc[unit].to_numpy(float),
        X.loc[donors].to_numpy(float).T,
        Y.loc[pre, unit].to_numpy(float),
        Y.loc[pre, donors].to_numpy(float),
        starts=starts,
        seed=seed,
    )
    synth = Y[donors].to_numpy(float) @ w
    gap = Y[unit].to_numpy(float) - synth
    ratio = np.sqrt(np.mean(gap[~pre] ** 2)) / np.sqrt(np.mean(gap[pre] ** 2))
    return w, v, ratio, gap


def reproduce(
    *, placebos: bool = True, starts: int = 6, placebo_starts: int = 2, seed: int = 0
) -> dict:
    """Weights for synthetic California and (optionally) its placebo-in-space rank."""
    df = load_smoking()
    X = predictors(df)
    Y = df.pivot(index="year", columns="state", values="cigsale")
    states = list(Y.columns)
    donors = [s for s in states if s != "California"]
    with single_thread():
        w, v, ratio, gap = _fit("California", donors, X, Y, starts, seed)
        out = {
            "weights": pd.Series(w, index=donors).sort_values(ascending=False),
            "v": pd.Series(v, index=X.columns),
            "rmspe_ratio": float(ratio),
            "gap_2000": float(gap[-1]),
        }
        if placebos:
            ratios = {}
            for s in donors:
                pool = [d for d in donors if d != s]
                ratios[s] = _fit(s, pool, X, Y, placebo_starts, seed)[2]
            r = pd.Series(ratios)
            rank = 1 + int((r >= ratio).sum())
            out.update(
                {
                    "placebo_ratios": r,
                    "rank": rank,
                    "n_units": len(r) + 1,
                    "p_value": rank / (len(r) + 1),
                }
            )
    return out
