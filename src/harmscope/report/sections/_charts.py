"""Chart builders shared by the sections (drawn from the protected tables, never the raw ones)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def rate_chart(
    df: pd.DataFrame,
    group: str,
    title: str,
    *,
    sort: list | None = None,
    tooltip: list | None = None,
    width: int = 560,
    step: int = 24,
    size: int = 70,
) -> dict:
    """Harm per 1,000 residents by group: a point with its 95% interval as a bar.

    ``sort``: the groups' order top to bottom (default: the table's); ``tooltip``: the fields
    shown on hover (default: group, count, the rate and its interval, rounded)."""
    base = alt.Chart(df).encode(y=alt.Y(f"{group}:N", title=None, sort=sort))
    rule = base.mark_rule(color="#1f5f8b", strokeWidth=2).encode(
        x=alt.X("harm_rate_ci_low:Q", title="harm per 1,000 residents (95% CI)"),
        x2="harm_rate_ci_high:Q",
    )
    if tooltip is None:
        tooltip = [
            group,
            "count",
            alt.Tooltip("harm_rate_per_1000:Q", format=",.0f"),
            alt.Tooltip("harm_rate_ci_low:Q", format=",.0f"),
            alt.Tooltip("harm_rate_ci_high:Q", format=",.0f"),
        ]
    point = base.mark_point(filled=True, color="#b03a2e", size=size).encode(
        x="harm_rate_per_1000:Q", tooltip=tooltip
    )
    return (rule + point).properties(width=width, height=alt.Step(step), title=title).to_dict()
