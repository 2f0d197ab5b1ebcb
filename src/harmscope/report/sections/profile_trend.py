"""Trend: monthly harm with its interval, the seasonal shape (month of year, one line per year)
and the change against the same months a year before, with an interval."""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.profile import MONTH_NAMES, same_period_change, seasonal_index
from harmscope.report import vegalite as vl
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import (
    harm_trend_with_baseline,
    hidden_months,
    para,
    segment_hidden,
    shift_month,
    value_text,
)

ORDER = 30
TITLE = "Trend, seasonality and change on last year"
_NO_MONTHS = "no month of street crime in this period"


def build(ctx: ReportContext) -> Section:
    trend = harm_trend_with_baseline(ctx)
    df = trend.table.copy()
    if df.empty:
        raise NotApplicable(_NO_MONTHS, title=TITLE)
    in_period = (df.month >= ctx.month_from) & (df.month <= ctx.month_to)
    monthly = df.loc[
        in_period,
        [
            "month",
            "count",
            "harm",
            "harm_ci_low",
            "harm_ci_high",
            "harm_rate_per_1000",
            "harm_yoy_ratio",
            "harm_yoy_ci_low",
            "harm_yoy_ci_high",
        ],
    ].reset_index(drop=True)
    if monthly.empty:
        raise NotApplicable(_NO_MONTHS, title=TITLE)
    derived = {c: "count" for c in monthly.columns if c not in ("month", "count")}
    # One joint protection for every table built from the monthly counts (see _util).
    hidden = hidden_months(ctx)
    monthly_pub = ctx.protect_masked(
        monthly, monthly["month"].isin(hidden), count_cols=["count"], derived=derived
    )

    # Missing months become explicit empty rows so the line breaks instead of bridging a gap.
    full = []
    d = ctx.date_from
    while d <= ctx.date_to:
        full.append(d.strftime("%Y-%m"))
        d = shift_month(d, 1)
    chart_df = pd.DataFrame({"month": full}).merge(monthly_pub, on="month", how="left")
    # Ordinal months: one tick per month, and a missing month is an empty slot, not a line.
    x = {
        "shorthand": "month:O",
        "title": "month",
        "axis": {"labelAngle": -45, "labelOverlap": True},
    }
    band = {
        "x": x,
        "y": {"shorthand": "harm_ci_low:Q", "title": "harm score"},
        "y2": "harm_ci_high:Q",
    }
    line = {
        "x": x,
        "y": "harm:Q",
        "tooltip": ["month", "count", "harm", "harm_ci_low", "harm_ci_high"],
    }
    monthly_chart = vl.chart(
        chart_df,
        [
            ("area", {"opacity": 0.25, "color": "#1f5f8b"}, band),
            (
                "line",
                {"point": True, "color": "#1f5f8b", "invalid": "break-paths-show-domains"},
                line,
            ),
        ],
        width=720,
        height=220,
        title="Harm per month with 95% interval",
    )

    # Seasonal shape: every month held for the area (including the year before the period).
    seas = seasonal_index(df)
    seas_pub = ctx.protect_masked(
        seas,
        seas["month"].isin(hidden),
        count_cols=["count"],
        derived={"harm": "count", "seasonal_index": "count"},
    )
    seasonal_chart = vl.chart(
        seas_pub,
        [
            (
                "line",
                {"point": True},
                {
                    "x": {
                        "shorthand": "month_of_year:O",
                        "sort": list(MONTH_NAMES),
                        "title": "month of year",
                    },
                    "y": {"shorthand": "harm:Q", "title": "harm score"},
                    "color": {"shorthand": "year:N", "title": "year"},
                    "tooltip": ["month", "count", "harm", "seasonal_index"],
                },
            )
        ],
        width=720,
        height=220,
        title="Seasonal shape: harm by month of year",
    )

    same = same_period_change(df, ctx.month_from, ctx.month_to)
    same_derived = {
        "harm": "count",
        "harm_previous": "count_previous",
        "count_ratio": ["count", "count_previous"],
        "count_ratio_ci_low": ["count", "count_previous"],
        "count_ratio_ci_high": ["count", "count_previous"],
        "harm_ratio": ["count", "count_previous"],
        "harm_ratio_ci_low": ["count", "count_previous"],
        "harm_ratio_ci_high": ["count", "count_previous"],
    }
    if len(same):
        same_hidden = segment_hidden(ctx, "period-paired") or segment_hidden(ctx, "baseline-paired")
        same_pub = ctx.protect_masked(
            same, [same_hidden], count_cols=["count", "count_previous"], derived=same_derived
        )
    else:
        same_pub = ctx.protect(same)
    sentences = []
    if len(same_pub):
        r = same_pub.iloc[0]
        if pd.notna(r["harm_ratio"]):
            sentences.append(
                f"Over {r['months']} ({r['n_months']} month(s) present in both years) harm was "
                f"{(r['harm_ratio'] - 1) * 100:+.1f}% against the same months a year before "
                f"(95% CI {(r['harm_ratio_ci_low'] - 1) * 100:+.1f}% to "
                f"{(r['harm_ratio_ci_high'] - 1) * 100:+.1f}%); the count of crimes changed "
                f"{(r['count_ratio'] - 1) * 100:+.1f}% (95% CI {(r['count_ratio_ci_low'] - 1) * 100:+.1f}% "
                f"to {(r['count_ratio_ci_high'] - 1) * 100:+.1f}%)."
            )
        else:
            sentences.append(
                "The change on the same months a year before is suppressed: the counts behind it "
                "are too small to publish."
            )
    else:
        sentences.append(
            "No month in the period has the same month of the previous year in the store, so no "
            "year-on-year change is given."
        )
    full_years = sorted(seas_pub.loc[seas_pub.seasonal_index.notna(), "year"].unique())
    if full_years:
        y = full_years[-1]
        sub = seas_pub[(seas_pub.year == y) & seas_pub.seasonal_index.notna()]
        hi = sub.loc[sub.seasonal_index.astype(float).idxmax()]
        lo = sub.loc[sub.seasonal_index.astype(float).idxmin()]
        sentences.append(
            f"In {y}, the one complete year held, harm peaked in {hi.month_of_year} "
            f"({float(hi.seasonal_index):.2f} times the monthly mean) and was lowest in "
            f"{lo.month_of_year} ({float(lo.seasonal_index):.2f}). With one year this is a "
            "description, not an estimate of a stable seasonal pattern."
        )
    else:
        sentences.append("No complete calendar year is held, so no seasonal index is given.")
    total_pub = value_text(
        monthly_pub["count"].sum() if monthly_pub["count"].notna().all() else None
    )
    sentences.insert(0, f"{total_pub} crimes in {len(monthly_pub)} month(s) with data.")
    return Section(
        key="trend",
        title=TITLE,
        html=para(*sentences),
        charts={"monthly": monthly_chart, "seasonal": seasonal_chart},
        tables={"monthly": monthly_pub, "seasonal": seas_pub, "same_period_change": same_pub},
        captions={
            "monthly": "Shaded: 95% interval (Poisson, Fay-Feuer). Gaps are months with no data.",
            "seasonal": "Each line is one calendar year; months without a file are absent.",
        },
        notes=[
            f"Held for this area, counting the year before the period (for the comparison): {n}"
            for n in trend.notes[:1]
        ]
        + list(trend.notes[1:]),
        method=(
            trend.method
            + " Seasonal index: a month's harm divided by the mean monthly harm of its calendar "
            "year, given only for complete years."
        ),
        disclosure_checked=True,
    )
