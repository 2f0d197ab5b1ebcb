"""Rates per 1,000 residents with their intervals, and the texts every harm result shares
(the coverage note, the method text, the note on mixed categories)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import garwood, weighted_poisson_ci
from harmscope.months import gaps

MIXED_NOTE = (
    "'Violence and sexual offences' pools homicide, violence with and without injury, stalking "
    "and harassment, rape and other sexual offences, so its weight is a volume-weighted mix of "
    "sub-group weights: a district with more serious violence inside the category is "
    "under-weighted and one with more harassment over-weighted. Burglary, Criminal damage and "
    "arson, Drugs and Robbery are mixes too."
)


# Sums that keep a group's harm interval computable (weighted_poisson_ci needs Σw²n and max w).
HARM_SUMS = {
    "count": ("count", "sum"),
    "harm": ("harm", "sum"),
    "harm_w2": ("harm_w2", "sum"),
    "w_max": ("w_max", "max"),
}


# the rate columns add_rates writes (per 1,000 residents, with 95% interval bounds)
COUNT_RATE_COLS = ("rate_per_1000", "rate_ci_low", "rate_ci_high")
HARM_RATE_COLS = ("harm_rate_per_1000", "harm_rate_ci_low", "harm_rate_ci_high")


def add_rates(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Count and harm rates per 1,000 residents with their intervals."""
    pop = df["population"].to_numpy(dtype=float)
    per = np.where(pop > 0, 1000.0 / pop, np.nan)
    lo, hi = garwood(df["count"].to_numpy(), alpha)
    df["rate_per_1000"] = df["count"] * per
    df["rate_ci_low"] = lo * per
    df["rate_ci_high"] = hi * per
    hlo, hhi = weighted_poisson_ci(df["harm"], df["harm_w2"], df["w_max"], alpha)
    df["harm_ci_low"] = hlo
    df["harm_ci_high"] = hhi
    df["harm_rate_per_1000"] = df["harm"] * per
    df["harm_rate_ci_low"] = hlo * per
    df["harm_rate_ci_high"] = hhi * per
    return df


def coverage_note(months: list[str]) -> str:
    """How many months the result covers, first to last, and the months missing between."""
    if not months:
        return "No rows match the area and months asked for."
    missing = [f"{a} to {b}" for a, b in gaps(months)]
    text = f"{len(months)} month(s) of data, {months[0]} to {months[-1]}"
    return text + (f"; missing: {', '.join(missing)}" if missing else "; no gaps")


def method_text(weights_label: str, level: str, extra: str = "") -> str:
    return (
        f"Harm = Σ weight × count over police.uk categories, weights from the {weights_label}. "
        "Rates are per 1,000 residents (ONS mid-2019 population estimates, the latest in the "
        f"packaged reference data) over the whole period, not annualised; level: {level}. "
        "Counts are treated as Poisson with a fixed population: 95% intervals are exact "
        "(Garwood) for counts and Fay-Feuer gamma intervals for harm. They do not include "
        "uncertainty in the weights or the population, nor under-recording. "
        + MIXED_NOTE
        + " Anti-social behaviour carries weight 0. Rows flagged out of area are left out; "
        "rows without a placed LSOA/district count only in force totals. " + extra
    ).strip()


def bar_chart(df: pd.DataFrame, x: str, y: str, title: str, color: str | None = None) -> dict:
    import altair as alt

    enc = {
        "x": alt.X(f"{x}:Q", title=x.replace("_", " ")),
        "y": alt.Y(f"{y}:N", sort="-x", title=None),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N")
    chart = alt.Chart(df).mark_bar().encode(**enc, tooltip=list(df.columns)).properties(title=title)
    return chart.to_dict()
