"""Report section "Value for money": what the costed, dated schemes bought for their money."""

from __future__ import annotations

import pandas as pd
from markupsafe import escape

from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import per_scheme_section

ORDER = 115  # after "What works here" (the evaluations it builds on)
TITLE = "Value for money of funded schemes"
MAX_SCHEMES = 3  # as the evaluation section: the CLI (`harmscope value`) gives the rest

_SHOWN = {
    "method": "method",
    "crimes_averted": "crimes averted",
    "crimes_averted_low": "crimes averted, 95% low",
    "crimes_averted_high": "crimes averted, 95% high",
    "pounds_averted": "cost of crime avoided (£)",
    "cost_per_crime_averted": "cost per crime averted (£)",
    "bcr": "benefit-cost ratio",
    "bcr_low": "benefit-cost ratio, 95% low",
    "bcr_high": "benefit-cost ratio, 95% high",
    "break_even_reduction": "cut needed to break even",
    "mde": "smallest detectable cut",
}


def _costed(schemes: list[dict]) -> list[dict]:
    return [s for s in schemes if s.get("cost_gbp") and s.get("start")]


def build(ctx: ReportContext) -> Section | None:
    from harmscope.sources.register import load_schemes

    if not ctx.store.table_exists("interventions"):
        return None  # no register at all: absent, as the evaluation section is
    schemes = load_schemes(ctx.store)
    if not schemes:
        return None
    costed = _costed(schemes)
    if not costed:
        raise NotApplicable(
            f"none of the register's {len(schemes)} schemes has both a recorded cost and a "
            "start month, so there is nothing to weigh against its cost "
            "(`harmscope value SCHEME --cost GBP --start YYYY-MM` works on one)",
            title=TITLE,
        )
    # every table and sentence comes from privacy.value.publish_value for this audience
    return per_scheme_section(
        ctx,
        costed,
        _one,
        key="value",
        title=TITLE,
        intro=_INTRO,
        table_suffix="value_for_money",
        which="costed",
        max_schemes=MAX_SCHEMES,
    )


_INTRO = (
    "<p>What did a funded scheme buy for its money? For each scheme with a recorded cost, the "
    "crimes it prevented are estimated from its evaluation (what its areas would have seen "
    "without it, minus what they saw), costed with the Home Office's costs of crime, and set "
    "against what the scheme cost. A benefit-cost ratio above 1 means the crime it prevented "
    "cost society more than the scheme did. Every figure has a 95% interval; when the "
    "interval includes no effect, the scheme may have bought nothing, and we say what effect "
    "it would have needed to pay for itself.</p>"
)


def _one(ctx: ReportContext, s: dict) -> tuple[str, pd.DataFrame, str]:
    from harmscope.analysis.evaluation.value import value_for_money
    from harmscope.privacy.value import publish_value

    res = value_for_money(
        ctx.store,
        scheme=s["name"],
        price_year=ctx.options.get("price_year"),
        costs_file=ctx.options.get("costs_file"),
    )
    pub = publish_value(res, ctx.aud, ctx.threshold)
    items = "".join(
        f"<li><strong>{escape(r['method'])}</strong>: "
        + escape(" ".join(r.get("words") or [r.get("withheld", "")]))
        + "</li>"
        for r in pub.figures.get("results", [])
    )
    table = pub.tables["main"]
    table = table[[c for c in _SHOWN if c in table.columns]].rename(columns=_SHOWN)
    html = (
        f"<h3>{escape(s['name'])} (from {s['start']:%Y-%m}; cost £{s['cost_gbp']:,.0f}, "
        "from the register)</h3>"
        f"<ul>{items}</ul>" + "".join(f"<p class='note'>{escape(n)}</p>" for n in res.notes[:3])
    )
    return html, table, res.method
