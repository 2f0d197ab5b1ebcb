"""Harm from Home Office offence-code counts: a partner's aggregated force extract, weighted at
code level rather than by police.uk category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.harm.rates import HARM_SUMS
from harmscope.analysis.harm.scope import scheme_name
from harmscope.analysis.intervals import weighted_poisson_ci
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.reference.offences import SCHEME_LABELS, load_weights


def harm_from_codes(
    counts: pd.DataFrame,
    *,
    scheme: str = "css",
    weights=None,
    by: list[str] | None = None,
    alpha: float = 0.05,
) -> Result:
    """Harm from Home Office offence-code counts (a force extract, aggregated by the partner).

    ``counts`` has columns ``code`` and ``count`` plus any grouping columns named in ``by``
    (e.g. area, month). Weights are the code-level table (``load_weights(level='code')``) or a
    user's code-level file. Returns harm per group with Fay-Feuer intervals, and per ONS
    sub-group and flag (injury, serious violence, sexual) in ``tables``.
    """
    from harmscope.reference.offences import load_taxonomy

    by = list(by or [])
    missing = [c for c in ["code", "count", *by] if c not in counts.columns]
    if missing:
        raise HarmscopeError(
            f"missing column(s) {', '.join(missing)}",
            where="counts",
            fix="give a frame with 'code' and 'count' (and the columns named in by=)",
        )
    if weights is None:
        wt = load_weights(scheme, level="code")
        wlabel = SCHEME_LABELS[str(scheme).strip().lower()] + ", packaged code-level table"
    elif isinstance(weights, pd.DataFrame):
        wt, wlabel = weights.rename(columns={"code": "key"}), "weights supplied by the caller"
    else:
        wt, wlabel = load_weights(scheme, path=weights, level="code"), f"user table {weights}"
    df = counts.copy()
    df["code"] = df["code"].astype(str).str.strip()
    unknown = sorted(set(df.code) - set(wt.key))
    if unknown:
        raise HarmscopeError(
            f"no weight for offence code(s) {', '.join(unknown[:10])}",
            where="counts.code",
            fix="use codes from load_taxonomy(), or give a code-level --weights file that covers them",
        )
    cnt = pd.to_numeric(df["count"], errors="coerce")
    if cnt.isna().any() or (cnt < 0).any():
        raise HarmscopeError(
            "counts must be numbers >= 0", where="counts.count", fix="check the extract"
        )
    w = df.code.map(dict(zip(wt.key, wt.weight.astype(float), strict=True)))
    df["count"] = cnt
    df["harm"] = cnt * w
    df["harm_w2"] = cnt * w * w
    df["w_max"] = np.where(cnt > 0, w, 0.0)
    tax = load_taxonomy().set_index("code")
    df = df.join(tax[["ons_subgroup", "injury", "serious_violence", "sexual"]], on="code")

    def agg(keys: list[str]) -> pd.DataFrame:
        grouped = (
            df.groupby(keys, as_index=False, dropna=False)
            if keys
            else df.assign(_all=1).groupby("_all", as_index=False)
        )
        out = grouped.agg(**HARM_SUMS)
        lo, hi = weighted_poisson_ci(out.harm, out.harm_w2, out.w_max, alpha)
        out["harm_ci_low"], out["harm_ci_high"] = lo, hi
        return out.drop(columns=["_all"], errors="ignore")

    table = agg(by)
    tables = {"by_subgroup": agg([*by, "ons_subgroup"])}
    for flag in ("injury", "serious_violence", "sexual"):
        tables[f"by_{flag}"] = agg([*by, flag])
    total = agg([])
    summary = {
        "scheme": scheme_name(scheme, weights),
        "count": float(total["count"].iloc[0]),
        "harm": float(total.harm.iloc[0]),
        "harm_ci": [float(total.harm_ci_low.iloc[0]), float(total.harm_ci_high.iloc[0])],
        "serious_violence_harm_share": (
            float(
                df.loc[df.serious_violence.fillna(False).astype(bool), "harm"].sum() / df.harm.sum()
            )
            if df.harm.sum() > 0
            else None
        ),
    }
    method = (
        f"Harm = Σ weight × count over Home Office offence codes, weights from the {wlabel} "
        "(see each weight's status: most packaged code weights are sub-group values, marked "
        "estimates). Intervals are Fay-Feuer gamma intervals for a weighted sum of Poisson "
        "counts; they leave out uncertainty in the weights. Flags follow the packaged "
        "taxonomy (serious violence per the Serious Violence Strategy, with knife and firearm "
        "possession codes standing in for the knife/gun crime marker)."
    )
    return Result(table=table, summary=summary, method=method, tables=tables)
