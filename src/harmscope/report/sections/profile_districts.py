"""Districts (community safety partnership areas) ranked by harm per 1,000 residents, with
intervals, so a ranking is not read off overlapping estimates."""

from __future__ import annotations

from harmscope.analysis.harm import HARM_RATE_COLS
from harmscope.analysis.profile import overlapping_neighbours
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._charts import rate_chart
from harmscope.report.sections._util import (
    RATE_COLS,
    harm_districts,
    protect_group_table,
    result_section,
    scope,
)

ORDER = 90
TITLE = "Districts ranked by harm"

_COLS = ["area_code", "area_name", "population", "count", *RATE_COLS]


def build(ctx: ReportContext) -> Section:
    res = harm_districts(ctx)
    totals = res.tables["totals"]
    if len(totals) < 2:
        raise NotApplicable(
            f"{scope(ctx).label} is {'one district' if len(totals) else 'no district'} with "
            "placed crimes; there is no ranking of districts",
            title=TITLE,
        )
    table = totals[_COLS].sort_values("harm_rate_per_1000", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table.rename(columns={"area_code": "district_code", "area_name": "district"})
    derived = {c: "count" for c in RATE_COLS}
    pub = protect_group_table(ctx, table, "lad_name", "district", derived)
    chart = rate_chart(
        pub,
        "district",
        "Harm per 1,000 residents by district",
        sort=pub["district"].tolist(),
        tooltip=["district", "count", *HARM_RATE_COLS],
        width=620,
        step=22,
        size=60,
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
    overlap = overlapping_neighbours(pub)
    if overlap:
        sentences.append(
            f"{overlap} pair(s) of neighbouring ranks have overlapping intervals: their order could "
            "change with another period's data."
        )
    return result_section(
        "districts",
        TITLE,
        res,
        sentences,
        charts={"districts": chart},
        tables={"districts": pub},
        notes=[n for n in res.notes if "could not be placed" in n],
    )
