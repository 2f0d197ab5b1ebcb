"""A transparent RFG (recency, frequency, gravity) harm ranking of offenders."""

from __future__ import annotations

from harmscope.analysis.people._data import person_harm, require_crimes
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

# Stated, changeable weights (they sum to 1). Gravity leads because the purpose is harm
# reduction; recency keeps the list about people active now.
DEFAULT_WEIGHTS = {"recency": 0.2, "frequency": 0.3, "gravity": 0.5}
DEFAULT_FLAG_TOP = 0.05


def rfg_ranking(
    store,
    *,
    weights: dict | None = None,
    flag_top: float = DEFAULT_FLAG_TOP,
    scheme: str = "css",
) -> Result:
    """Rank offenders by RFG score; flag the top ``flag_top`` share for review.

    Each component is a percentile rank among offenders (0-1): recency = how recent the last
    offence is (days before the extract's last offence), frequency = number of offences,
    gravity = summed harm (code-level weights). Score = weighted sum; ties keep the order.
    PERSON-LEVEL: internal only.
    """
    require_crimes(store)
    w = dict(DEFAULT_WEIGHTS, **(weights or {}))
    if any(v < 0 for v in w.values()) or abs(sum(w.values()) - 1) > 1e-9:
        raise HarmscopeError(
            f"RFG weights must be non-negative and sum to 1 (got {w})",
            where="--rfg-weights",
            fix="give three weights such as recency=0.2,frequency=0.3,gravity=0.5",
        )
    if not 0 < flag_top < 1:
        raise HarmscopeError(
            f"flag share {flag_top} must lie between 0 and 1",
            where="--flag-top",
            fix="e.g. 0.05 for the top 5% of offenders",
        )
    t = person_harm(store, "offender", scheme)
    if t.empty:
        return Result(table=t, summary={"offenders": 0}, method="No offenders recorded.")
    end = t.last_at.max()
    t["days_since_last"] = (end - t.last_at).dt.days
    t["recency"] = (-t.days_since_last).rank(pct=True)
    t["frequency"] = t.crimes.rank(pct=True)
    t["gravity"] = t.harm.rank(pct=True)
    t["score"] = w["recency"] * t.recency + w["frequency"] * t.frequency + w["gravity"] * t.gravity
    t = t.sort_values(["score", "harm"], ascending=False).reset_index(drop=True)
    t["rank"] = range(1, len(t) + 1)
    n_flag = max(1, int(round(flag_top * len(t))))
    t["flagged"] = t["rank"] <= n_flag
    summary = {
        "offenders": len(t),
        "flagged": n_flag,
        "flag_top_share": flag_top,
        "weights": w,
        "flagged_harm_share": float(t.harm[t.flagged].sum() / t.harm.sum()),
    }
    method = (
        "RFG harm ranking: recency, frequency and gravity are each turned into a percentile "
        "rank among the extract's offenders; the score is "
        f"{w['recency']:g} x recency + {w['frequency']:g} x frequency + {w['gravity']:g} x "
        f"gravity (weights stated and changeable), and the top {flag_top:.0%} are flagged for "
        "an offender-management review. Assumptions: recorded offences stand for offending "
        "(policing patterns bias who is recorded); gravity uses code-level harm weights. "
        "Uncertainty: a rank is not a prediction; its error rates against planted truth are "
        "in the transparency record. Person-level: internal only."
    )
    cols = [
        "rank",
        "pseudonym",
        "crimes",
        "harm",
        "days_since_last",
        "recency",
        "frequency",
        "gravity",
        "score",
        "flagged",
        "first_age",
        "sex",
    ]
    return Result(table=t[cols], summary=summary, method=method)
