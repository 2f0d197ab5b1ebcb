"""Trend: monthly harm with its interval, the seasonal shape (month of year, one line per year)
and the change against the same months a year before, with an interval."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from harmscope.analysis.harm import log_ratio_ci, shift_year
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import (
    harm_trend_with_baseline,
    hidden_months,
    para,
    segment_hidden,
    shift_month,
    value_text,
)

ORDER = 30

_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def build(ctx: ReportContext) -> Section | None:
    trend = harm_trend_with_baseline(ctx)
    df = trend.table.copy()
    if df.empty:
        return None
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
        return None
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
    base = alt.Chart(chart_df).encode(
        x=alt.X("month:O", title="month", axis=alt.Axis(labelAngle=-45, labelOverlap=True))
    )
    band = base.mark_area(opacity=0.25, color="#1f5f8b").encode(
        y=alt.Y("harm_ci_low:Q", title="harm score"), y2="harm_ci_high:Q"
    )
    line = base.mark_line(point=True, color="#1f5f8b", invalid="break-paths-show-domains").encode(
        y="harm:Q", tooltip=["month", "count", "harm", "harm_ci_low", "harm_ci_high"]
    )
    monthly_chart = (
        (band + line)
        .properties(width=720, height=220, title="Harm per month with 95% interval")
        .to_dict()
    )

    # Seasonal shape: every month held for the area (including the year before the period).
    seas = df[["month", "count", "harm"]].copy()
    seas["year"] = seas["month"].str[:4]
    seas["month_of_year"] = seas["month"].str[5:].astype(int).map(lambda m: _MONTH_NAMES[m - 1])
    months_in_year = seas.groupby("year")["month"].transform("count")
    seas["seasonal_index"] = np.where(
        months_in_year == 12, seas["harm"] / seas.groupby("year")["harm"].transform("mean"), np.nan
    )
    seas_pub = ctx.protect_masked(
        seas[["year", "month_of_year", "month", "count", "harm", "seasonal_index"]],
        seas["month"].isin(hidden),
        count_cols=["count"],
        derived={"harm": "count", "seasonal_index": "count"},
    )
    seasonal_chart = (
        alt.Chart(seas_pub)
        .mark_line(point=True)
        .encode(
            x=alt.X("month_of_year:O", sort=_MONTH_NAMES, title="month of year"),
            y=alt.Y("harm:Q", title="harm score"),
            color=alt.Color("year:N", title="year"),
            tooltip=["month", "count", "harm", "seasonal_index"],
        )
        .properties(width=720, height=220, title="Seasonal shape: harm by month of year")
        .to_dict()
    )

    same = _same_period(df, ctx)
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
        title="Trend, seasonality and change on last year",
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


def _same_period(df: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    """Months of the period that also have the same month a year before, pooled."""
    idx = df.set_index("month")
    cur = [m for m in idx.index if ctx.month_from <= m <= ctx.month_to]
    pairs = [(m, shift_year(m, -1)) for m in cur]
    pairs = [(m, p) for m, p in pairs if p in idx.index]
    if not pairs:
        return pd.DataFrame()
    now = idx.loc[[m for m, _ in pairs]]
    before = idx.loc[[p for _, p in pairs]]
    c1, c0 = float(now["count"].sum()), float(before["count"].sum())
    h1, h0 = float(now["harm"].sum()), float(before["harm"].sum())
    v1, v0 = float(now["harm_w2"].sum()), float(before["harm_w2"].sum())
    cr, clo, chi = log_ratio_ci(c1, c1, c0, c0)
    hr, hlo, hhi = log_ratio_ci(h1, v1, h0, v0)
    return pd.DataFrame(
        [
            {
                "months": f"{pairs[0][0]} to {pairs[-1][0]}",
                "previous_months": f"{pairs[0][1]} to {pairs[-1][1]}",
                "n_months": len(pairs),
                "count": int(c1),
                "count_previous": int(c0),
                "count_ratio": float(cr),
                "count_ratio_ci_low": float(clo),
                "count_ratio_ci_high": float(chi),
                "harm": h1,
                "harm_previous": h0,
                "harm_ratio": float(hr),
                "harm_ratio_ci_low": float(hlo),
                "harm_ratio_ci_high": float(hhi),
            }
        ]
    )
