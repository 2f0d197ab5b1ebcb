"""Chart builders shared by the sections (drawn from the protected tables, never the raw ones).

Written through :mod:`harmscope.report.vegalite`: the dict Altair would write, without
importing Altair (issue 18)."""

from __future__ import annotations

import pandas as pd

from harmscope.report import vegalite as vl


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
    y = {"shorthand": f"{group}:N", "title": None, "sort": sort}
    rule = {
        "y": y,
        "x": {"shorthand": "harm_rate_ci_low:Q", "title": "harm per 1,000 residents (95% CI)"},
        "x2": "harm_rate_ci_high:Q",
    }
    if tooltip is None:
        tooltip = [
            group,
            "count",
            {"shorthand": "harm_rate_per_1000:Q", "format": ",.0f"},
            {"shorthand": "harm_rate_ci_low:Q", "format": ",.0f"},
            {"shorthand": "harm_rate_ci_high:Q", "format": ",.0f"},
        ]
    point = {"y": y, "x": "harm_rate_per_1000:Q", "tooltip": tooltip}
    return vl.chart(
        df,
        [
            ("rule", {"color": "#1f5f8b", "strokeWidth": 2}, rule),
            ("point", {"filled": True, "color": "#b03a2e", "size": size}, point),
        ],
        width=width,
        height=vl.step(step),
        title=title,
    )
