"""Harm against count, by police.uk category: which categories carry the harm, as against
the volume of crime (the reason for weighting at all)."""

from __future__ import annotations

from harmscope.report import vegalite as vl
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import harm_total, protected_categories, result_section

ORDER = 40
TITLE = "Harm against count, by category"


def build(ctx: ReportContext) -> Section:
    # Force-level totals, so rows without a district still count in their category.
    res = harm_total(ctx)
    cube, pub = protected_categories(ctx)
    if cube.empty or cube["count"].sum() == 0:
        raise NotApplicable("no crime in a police.uk category in this period", title=TITLE)
    long = pub.melt(
        id_vars=["category"],
        value_vars=["count_share", "harm_share"],
        var_name="measure",
        value_name="share",
    )
    long["measure"] = long["measure"].map(
        {"count_share": "share of crimes", "harm_share": "share of harm"}
    )
    order = pub["category"].tolist()
    encoding = {
        "y": {"shorthand": "category:N", "sort": order, "title": None},
        "yOffset": "measure:N",
        "x": {
            "shorthand": "share:Q",
            "title": "share of the area's total",
            "axis": {"format": "%"},
        },
        "color": {
            "shorthand": "measure:N",
            "scale": {
                "domain": ["share of crimes", "share of harm"],
                "range": ["#9ab8cf", "#b03a2e"],
            },
            "title": None,
        },
        "tooltip": ["category", "measure", {"shorthand": "share:Q", "format": ".1%"}],
    }
    chart = vl.chart(
        long,
        [("bar", {}, encoding)],
        width=620,
        height=vl.step(11),
        title="Share of crimes and of harm by category",
    )
    top = pub.iloc[0]
    sentences = []
    if top.notna()["harm_share"]:
        sentences.append(
            f"{top.category} makes up {float(top.count_share):.0%} of recorded crimes but "
            f"{float(top.harm_share):.0%} of harm."
        )
    asb = pub[pub.category == "Anti-social behaviour"]
    if len(asb) and asb["count_share"].notna().all():
        sentences.append(
            f"Anti-social behaviour is {float(asb.count_share.iloc[0]):.0%} of rows but carries no "
            "harm weight: it is not a notifiable crime."
        )
    return result_section(
        "harm-vs-count",
        TITLE,
        res,
        sentences,
        charts={"by_category": chart},
        tables={"by_category": pub},
        captions={
            "by_category": "Pale bars: share of recorded crimes; dark bars: share of harm."
            + (" A category with no bars is suppressed ([c] in the table)." if ctx.public else "")
        },
        notes=[res.notes[-1]] if len(res.notes) > 1 else [],
    )
