"""Report section "The cost of crime in pounds": recorded crime costed at the Home Office unit
costs of crime (Research Report 99), inflated to the latest financial year the packaged
deflator covers, by category and by district, with intervals and the unit-cost range."""

from __future__ import annotations

from markupsafe import escape

from harmscope.report.section import NotApplicable, ReportContext, Section

ORDER = 45  # after harm against count (40): the same crimes, in pounds
TITLE = "The cost of crime in pounds"

# "count" keeps its name: the protection mark names it as the table's count column
_SHOW = {
    "count": "count",
    "cost_gbp": "cost (£)",
    "cost_ci_low": "95% CI low (£)",
    "cost_ci_high": "95% CI high (£)",
    "cost_low": "unit-cost range low (£)",
    "cost_high": "unit-cost range high (£)",
    "harm": "harm (sentence-days)",
}


def _gbp(v) -> str:
    v = float(v)
    if abs(v) >= 1e9:
        return f"£{v / 1e9:,.2f} billion"
    if abs(v) >= 1e6:
        return f"£{v / 1e6:,.1f} million"
    return f"£{v:,.0f}"


def _shown(df, lead: list[str]):
    cols = lead + [c for c in _SHOW if c in df.columns]
    out = df[cols].rename(columns=_SHOW)
    out.attrs = dict(df.attrs)
    return out


def _paragraph(s: dict, by_cat, label: str) -> str:
    if s.get("cost_gbp") is None:
        return (
            f"<p>Recorded crime in {escape(label)} costed at the Home Office unit costs of crime, "
            f"in {escape(s['price_year'])} prices. The total is not shown because a category's "
            "count is too small to publish.</p>"
        )
    lo, hi = s["cost_gbp_ci"]
    top = by_cat.dropna(subset=["cost_gbp"]).iloc[0]
    share = float(top.cost_gbp) / s["cost_gbp"] if s["cost_gbp"] else 0.0
    return (
        f"<p>Crime recorded in {escape(label)} from {escape(s['first_month'])} to "
        f"{escape(s['last_month'])} cost society about <b>{_gbp(s['cost_gbp'])}</b> "
        f"({escape(s['price_year'])} prices; 95% interval {_gbp(lo)} to {_gbp(hi)}), counting "
        f"{s['costed_count']:,} of its {s['count']:,} crimes: the rest (drugs, public order, "
        "weapons possession, shoplifting, other theft, anti-social behaviour...) have no "
        f"published unit cost and are left out, so this is an under-count. "
        f"{escape(top.category)} is {share:.0%} of the cost. The pounds are the Home Office's "
        "average cost of one crime of each kind (harm to victims, lost output, health and "
        "police and court costs), not money any one agency spends.</p>"
    )


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.costs import harm_in_pounds, latest_price_year
    from harmscope.privacy.costs import publish_harm_in_pounds

    res = harm_in_pounds(
        ctx.store,
        area=ctx.area,
        date_from=ctx.month_from,
        date_to=ctx.month_to,
        by=("category",),
        price_year=latest_price_year(),
    )
    if res.summary["count"] == 0:
        raise NotApplicable("no recorded crime in this area and period to cost", title=TITLE)
    pub = publish_harm_in_pounds(res, ctx.aud)
    doc = pub.document()
    by_cat = pub.tables["by_category"]
    tables = {
        "cost_by_category": _shown(by_cat, ["category"]),
        "cost_by_district": _shown(pub.tables["by_district"], ["district_name"]),
    }
    rlo, rhi = res.summary["cost_gbp_range"]
    notes = list(doc.get("notes", []))
    if doc["summary"].get("cost_gbp") is not None:
        notes.append(
            f"The unit costs themselves are uncertain: costing every crime at its category's "
            f"cheapest component gives {_gbp(rlo)}, at its dearest (every violent crime a "
            f"homicide) {_gbp(rhi)}. That range shows how mixed the categories are, not a "
            "likely value."
        )
    return Section(
        key="cost-of-crime",
        title=TITLE,
        html=_paragraph(doc["summary"], by_cat, res.summary["area"]),
        tables=tables,
        method=res.method,
        disclosure_checked=True,
        notes=notes,
        captions={
            "cost_by_category": "Cost = crimes x Home Office unit cost; 95% interval from the "
            "Poisson count; [c] = suppressed.",
        },
    )
