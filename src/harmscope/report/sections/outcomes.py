"""Report section "Serious Violence Duty outcome measures": the Home Office success measures
for the report's area and period, with proxies named (analysis.outcomes).

Built only when the store holds ED assault records or a crime extract (the measures' local
sources); otherwise the section says why it does not apply. Every table and figure comes from
the publishing path (``privacy.outcomes.publish_outcomes``: the audience's disclosure control,
so small homicide counts are hidden from the public), and each build writes an audit-log row,
as the figures come from person-level tables.
"""

from __future__ import annotations

from harmscope.analysis.result import frame_records
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import audited, cards, ci_text, para, value_text, withheld
from harmscope.store.queries import report as queries
from harmscope.store.queries.ed import has_ed_data

ORDER = 87  # after people (85) and networks (86)
KEY = "outcomes"
TITLE = "Serious Violence Duty outcome measures"
_LABELS = {
    "hospital_admissions_knife": "hospital admissions for knife assault",
    "knife_enabled_serious_violence": "knife-enabled serious violence",
    "homicide": "homicide",
}


def build(ctx: ReportContext) -> Section | None:
    store = ctx.store
    if not (has_ed_data(store) or queries.has_people_crimes(store)):
        raise NotApplicable(
            "the store holds no ED assault records and no crime extract, the local sources of "
            "the Serious Violence Duty measures (`harmscope outcomes` also reads HES and Home "
            "Office tables)",
            title=TITLE,
        )
    if store.read_only:
        return withheld(
            KEY,
            TITLE,
            "The outcome measures are withheld: the store was opened "
            "read-only, so this output could not be written to the audit log.",
        )
    from harmscope.analysis.outcomes import outcome_measures
    from harmscope.privacy.outcomes import publish_outcomes

    res = outcome_measures(store, ctx.area, ctx.month_from, ctx.month_to)
    pub = publish_outcomes(res, ctx.audience, ctx.threshold)
    refused = audited(
        store,
        KEY,
        TITLE,
        "The outcome measures",
        what="report section: Serious Violence Duty outcome measures (aggregates)",
        query=f"outcome_measures(area={ctx.area!r}, from={ctx.month_from}, to={ctx.month_to})",
        audience=ctx.audience,
        rows=int(len(res.table)),
    )
    if refused is not None:
        return refused
    doc = pub.document()
    s = doc["summary"]
    parts = []
    if s.get("synthetic"):
        parts.append(
            '<p class="warn"><strong>SYNTHETIC DATA.</strong> At least one measure '
            "here comes from data simulated by harmscope; it describes no real event.</p>"
        )
    items = []
    for m, label in _LABELS.items():
        ci = s.get(f"{m}_ci") or [None, None]
        shown = value_text(s.get(m), decimals=0) if s.get(f"{m}_available") else "not available"
        items.append(
            (label + (" (proxy)" if s.get(f"{m}_proxy") else ""), shown, ci_text(*ci, decimals=1))
        )
    parts.append(cards(items))
    parts.append(para(*_sentences(doc)))
    charts = {"outcome_series": _chart(pub.tables["series"])} if "series" in pub.tables else {}
    tables = {k: pub.tables[k] for k in ("measures",) if k in pub.tables}
    if "series" in pub.tables:
        tables["outcome_series"] = pub.tables["series"]
    return Section(
        key=KEY,
        title=TITLE,
        html="".join(parts),
        charts=charts,
        tables=tables,
        method=res.method,
        disclosure_checked=True,
        notes=list(res.notes) + list(pub.dropped),
    )


def _sentences(doc: dict) -> list[str]:
    out = [
        f"The Home Office judges the Serious Violence Duty by three measures; here they are "
        f"for {doc['summary']['area']}, {doc['summary']['period_from']} to "
        f"{doc['summary']['period_to']}, each with a 95% interval."
    ]
    for r in doc.get("measures", []):
        if r["group"] == "all" and r.get("proxy"):
            out.append(
                f"{_LABELS[r['measure']].capitalize()} is shown by a proxy, not the "
                f"measure itself: {r['proxy_name']}."
            )
        if r["group"] == "all" and r.get("rate_ratio_per_year") is not None:
            out.append(
                f"{_LABELS[r['measure']].capitalize()}: the count changes by a factor of "
                f"{r['rate_ratio_per_year']:.2f} a year (95% CI {r['rr_low']:.2f} to "
                f"{r['rr_high']:.2f})."
            )
    for r in doc.get("measures", []):
        if r["group"] == "all" and not r["available"]:
            out.append(f"{_LABELS[r['measure']].capitalize()} is not available: {r['reason']}.")
    return out


def _chart(series) -> dict:
    data = series[series.group == "all"][["measure", "period", "count"]]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Outcome measures by period (all ages; hidden counts left out)",
        "data": {"values": frame_records(data)},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "title": "period"},
            "y": {"field": "count", "type": "quantitative", "title": "count"},
            "color": {"field": "measure", "type": "nominal"},
        },
    }
