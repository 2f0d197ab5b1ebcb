"""Report section "Funding allocation between CSPs": the needs-formula split of a budget, with
its sensitivity ranges (analysis.allocation, published through privacy.allocation).

It applies only when the report is given a budget (``options['allocation_budget']``, with
optional ``allocation_weights``, ``allocation_current`` and ``allocation_csps`` files): the
partnership's budget is not in the data, so without one the section says it does not apply.
"""

from __future__ import annotations

from markupsafe import escape

from harmscope.report.section import NotApplicable, ReportContext, Section

ORDER = 120
TITLE = "Funding allocation between CSPs"
_COLS = ["csp", "share", "amount", "amount_low", "amount_high", "per_head_amount"]


def build(ctx: ReportContext) -> Section:
    budget = ctx.options.get("allocation_budget")
    if budget is None:
        raise NotApplicable(
            "no budget was given for the report, so no funding allocation is shown "
            "(run `harmscope allocate --budget AMOUNT`, or give the report a budget)",
            title=TITLE,
        )
    from harmscope.analysis.allocation import area_districts, csp_units
    from harmscope.privacy.allocation import publish_allocation

    _, lads = area_districts(ctx.area)
    units, _ = csp_units(lads, ctx.options.get("allocation_csps"))
    if len(units) < 2:
        raise NotApplicable(
            f"{ctx.area} is one partnership: there is nothing to split between CSPs",
            title=TITLE,
        )
    pub = publish_allocation(
        ctx.store,
        ctx.aud,
        ctx.threshold,
        budget=float(budget),
        area=ctx.area,
        date_from=ctx.month_from,
        date_to=ctx.month_to,
        weights=ctx.options.get("allocation_weights"),
        csps=ctx.options.get("allocation_csps"),
        current=ctx.options.get("allocation_current"),
    )
    table = pub.tables["table"]
    cols = _COLS + [c for c in ("current_amount", "change_from_current") if c in table]
    shown = table[cols].copy()
    shown.attrs = dict(table.attrs)
    s = pub.figures
    doc = pub.document()
    weights = ", ".join(f"{r['component']} {r['share']:.0%}" for r in doc["weights"])
    top = table.iloc[0]
    html = (
        f"<p>How would a budget of £{s['budget']:,.0f} be split between the {s['csps']} "
        f"community safety partnerships of {escape(str(s['area']))} by need? The formula "
        f"weighs {escape(weights)}. {escape(str(top.csp))} would receive the most, "
        f"£{top.amount:,.0f} ({top.share:.1%}). Each amount has a range: what it would be if "
        "any one weight were a quarter higher or lower, or harm were weighted by the Cambridge "
        "Crime Harm Index instead of the Crime Severity Score. Where the ranges of two "
        "partnerships overlap, their order depends on choices the board makes, not on the "
        "data.</p>"
    )
    return Section(
        key="allocation",
        title=TITLE,
        html=html,
        charts={"allocation": doc["summary"]["chart_allocation"]},
        tables={"allocation": shown},
        method=doc["method"],
        disclosure_checked=True,
        notes=list(doc["notes"]),
        captions={"allocation": "Bars: amount; lines: the range over the sensitivity runs."},
    )
