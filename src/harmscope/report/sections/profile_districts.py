"""Districts (community safety partnership areas) ranked by harm per 1,000 residents, with
intervals, so a ranking is not read off overlapping estimates."""

from __future__ import annotations

import altair as alt

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import (
    RATE_COLS,
    harm_districts,
    para,
    protect_group_table,
)

ORDER = 90

_COLS = ["area_code", "area_name", "population", "count", *RATE_COLS]


def build(ctx: ReportContext) -> Section | None:
    res = harm_districts(ctx)
    totals = res.tables["totals"]
    if len(totals) < 2:
        return None  # a single district: nothing to rank
    table = totals[_COLS].sort_values("harm_rate_per_1000", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table.rename(columns={"area_code": "district_code", "area_name": "district"})
    derived = {c: "count" for c in RATE_COLS}
    pub = protect_group_table(ctx, table, "lad_name", "district", derived)
    order = pub["district"].tolist()
    base = alt.Chart(pub).encode(y=alt.Y("district:N", sort=order, title=None))
    bars = base.mark_rule(color="#1f5f8b", strokeWidth=2).encode(
        x=alt.X("harm_rate_ci_low:Q", title="harm per 1,000 residents (95% CI)"),
        x2="harm_rate_ci_high:Q",
    )
    points = base.mark_point(filled=True, color="#b03a2e", size=60).encode(
        x="harm_rate_per_1000:Q",
        tooltip=[
            "district",
            "count",
            "harm_rate_per_1000",
            "harm_rate_ci_low",
            "harm_rate_ci_high",
        ],
    )
    chart = (
        (bars + points)
        .properties(width=620, height=alt.Step(22), title="Harm per 1,000 residents by district")
        .to_dict()
    )
    first, last = pub.iloc[0], pub.iloc[-1]
    ratio = (
        float(first.harm_rate_per_1000) / float(last.harm_rate_per_1000)
        if first.notna()["harm_rate_per_1000"] and last.notna()["harm_rate_per_1000"]
        else None
    )
    sentences = [
        f"{first.district} has the highest harm rate and {last.district} the lowest"
        + (f", {ratio:.1f} times lower." if ratio else ".")
    ]
    overlap = _overlapping_neighbours(pub)
    if overlap:
        sentences.append(
            f"{overlap} pair(s) of neighbouring ranks have overlapping intervals: their order could "
            "change with another period's data."
        )
    return Section(
        key="districts",
        title="Districts ranked by harm",
        html=para(*sentences),
        charts={"districts": chart},
        tables={"districts": pub},
        notes=[n for n in res.notes if "could not be placed" in n],
        method=res.method,
        disclosure_checked=True,
    )


def _overlapping_neighbours(df) -> int:
    lo = df["harm_rate_ci_low"].astype(float).to_numpy()
    hi = df["harm_rate_ci_high"].astype(float).to_numpy()
    return int(sum(1 for k in range(len(df) - 1) if lo[k] <= hi[k + 1]))
