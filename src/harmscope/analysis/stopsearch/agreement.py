"""Self- against officer-defined ethnicity: the cross-tab and Cohen's kappa."""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.intervals import add_rate
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.searches import BROAD_ETHNICITY, NOT_STATED, _select_searches

if TYPE_CHECKING:
    from harmscope.store import Store

AGREEMENT_METHOD = (
    "Self-defined ethnicity (18 census categories) is collapsed to the five broad groups used "
    "for officer-defined ethnicity, plus 'Not stated' (self: declined or blank; officer: blank). "
    "Cohen's kappa measures agreement beyond chance on this 6 x 6 table, with the large-sample "
    "standard error of Fleiss, Cohen & Everitt (1969) and a 95% normal interval; a second kappa "
    "uses only searches where both are stated. Officer-defined ethnicity is a perception, so "
    "disagreement is expected for Mixed and Other; a 'Not stated' self-definition against an "
    "officer's group is a refusal, not an error."
)


def cohens_kappa(table: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """Cohen's kappa for a square agreement table, with its asymptotic SE and interval.

    Implements Fleiss, Cohen & Everitt (1969); the same figures as
    ``statsmodels.stats.inter_rater.cohens_kappa`` (kappa, std_kappa).
    """
    t = np.asarray(table, dtype=float)
    n = t.sum()
    if t.ndim != 2 or t.shape[0] != t.shape[1] or n == 0:
        raise ValueError("kappa needs a non-empty square table")
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = np.trace(p)
    pe = float(rows @ cols)
    if pe >= 1:
        return {"kappa": math.nan, "se": math.nan, "low": math.nan, "high": math.nan, "n": n}
    kappa = (po - pe) / (1 - pe)
    diag = np.diag(p)
    term1 = float(np.sum(diag * (1 - (rows + cols) * (1 - kappa)) ** 2))
    off = p * (cols[:, None] + rows[None, :]) ** 2
    term2 = (1 - kappa) ** 2 * float(off.sum() - np.sum(np.diag(off)))
    term3 = (kappa - pe * (1 - kappa)) ** 2
    var = (term1 + term2 - term3) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return {
        "kappa": kappa,
        "se": se,
        "low": kappa - z * se,
        "high": kappa + z * se,
        "n": n,
        "observed_agreement": po,
        "expected_agreement": pe,
    }


def ethnicity_agreement(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    force: str | None = None,
    alpha: float = 0.05,
) -> Result:
    """Cross-tab of self- against officer-defined broad ethnicity, with Cohen's kappa."""
    period, sql, params = _select_searches(store, date_from, date_to, force=force)
    counts = store.query(
        f"""{sql} SELECT self_broad, officer_broad, count(*) AS searches FROM s GROUP BY ALL""",
        params,
    )
    labels = [*BROAD_ETHNICITY, NOT_STATED]
    xtab = (
        counts.pivot_table(
            index="self_broad",
            columns="officer_broad",
            values="searches",
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(index=labels, columns=labels, fill_value=0)
        .astype("int64")
    )
    xtab.index.name, xtab.columns.name = "self_defined", "officer_defined"
    full = cohens_kappa(xtab.to_numpy(), alpha)
    stated = cohens_kappa(xtab.loc[list(BROAD_ETHNICITY), list(BROAD_ETHNICITY)].to_numpy(), alpha)
    by_group = pd.DataFrame(
        {
            "self_defined": labels,
            "searches": xtab.sum(axis=1).to_numpy(),
            "officer_same": np.diag(xtab.to_numpy()),
        }
    )
    add_rate(by_group, "officer_same", "searches", "agreement", alpha)
    summary = {
        "period": period.label,
        "searches": int(full["n"]),
        "kappa": full["kappa"],
        "kappa_ci": [full["low"], full["high"]],
        "observed_agreement": full["observed_agreement"],
        "kappa_stated_only": stated["kappa"],
        "kappa_stated_only_ci": [stated["low"], stated["high"]],
        "searches_both_stated": int(stated["n"]),
    }
    table = xtab.reset_index()
    return Result(
        table=table,
        summary=summary,
        method=AGREEMENT_METHOD,
        tables={"by_self_defined": by_group},
        title="Stop and search: officer-recorded against self-defined ethnicity",
    )
