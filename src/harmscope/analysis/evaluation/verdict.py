"""Plain-language verdicts that never claim more than the design can show."""

from __future__ import annotations

import math


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}%"


def verdict(
    irr: float | None,
    irr_ci: list[float] | None,
    p_value: float | None,
    *,
    mde: float | None = None,
    pre_trend_p: float | None = None,
    alpha_level: float = 0.05,
    rtm_risk: bool = False,
) -> str:
    """One or two sentences for a partnership board.

    A significant reduction is called "consistent with an effect", not proof; a
    non-significant result is "no detectable change", never "no effect", and says how large
    an effect the design could have detected.
    """
    if (
        irr is None
        or irr_ci is None
        or p_value is None
        or any(
            v is None or (isinstance(v, float) and math.isnan(v)) for v in [irr, p_value, *irr_ci]
        )
    ):
        return "not estimable with these data"
    lo, hi = irr_ci
    change = f"{'fewer' if irr < 1 else 'more'} crimes than expected: {_pct(1 - irr)} (95% CI {_span(lo, hi)})"
    if p_value < alpha_level and irr < 1:
        text = f"reduction detected, {change}; consistent with an effect of the scheme, not proof of it"
    elif p_value < alpha_level:
        text = f"increase detected, {change}"
    else:
        text = f"no detectable change ({_span(lo, hi)})"
        if mde is not None and not math.isnan(mde):
            text += f"; the design could only detect reductions above {mde * 100:.0f}%"
        else:
            text += "; the design's minimum detectable effect could not be computed"
    cautions = []
    if pre_trend_p is not None and not math.isnan(pre_trend_p) and pre_trend_p < 0.10:
        cautions.append(
            "the areas were already diverging before the start (pre-trend p "
            f"{pre_trend_p:.2f}), so the estimate may be biased"
        )
    if rtm_risk:
        cautions.append(
            "the areas had unusually high counts before the start (or were chosen for them), so "
            "part of any fall may be regression to the mean"
        )
    if cautions:
        text += ". Caution: " + "; ".join(cautions)
    return text + "."


def _span(lo: float, hi: float) -> str:
    def one(r: float) -> str:
        return f"{_pct(1 - r)} {'fewer' if r < 1 else 'more'}"

    return f"from {one(lo)} to {one(hi)}"
