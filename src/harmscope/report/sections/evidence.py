"""Report section "Evidence from elsewhere": each linked, dated scheme's local estimate beside
the published toolkit evidence and their combination (analysis.evaluation.evidence)."""

from __future__ import annotations

import pandas as pd
from markupsafe import escape

from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import per_scheme_section

ORDER = 112  # after "What works here" (110), before "Value for money" (115)
TITLE = "Evidence from elsewhere: local results read with the toolkits"
MAX_SCHEMES = 3  # as the evaluation section: the CLI (`harmscope evidence`) gives the rest

_SHOWN = {
    "method": "method",
    "estimate": "estimate",
    "irr": "rate ratio",
    "irr_low": "95% low",
    "irr_high": "95% high",
    "prob_reduction": "probability of a reduction",
    "weight_local": "weight of the local study",
}

_INTRO = (
    "<p>A scheme evaluated in a few Kent areas is a small study; the Youth Endowment Fund and "
    "College of Policing toolkits summarise many studies of the same kind of scheme. Here "
    "each linked scheme's local estimate is shown beside the toolkit's published figure and "
    "their combination, which leans on the local result when it is precise and on the wider "
    "evidence when it is not. The combination assumes Kent's schemes work like the ones the "
    "toolkits studied; where that is doubtful, read the local estimate.</p>"
)


def _linked(schemes: list[dict]) -> list[dict]:
    return [s for s in schemes if s.get("evidence")]


def build(ctx: ReportContext) -> Section:
    from harmscope.sources.register import load_schemes

    if not ctx.store.table_exists("interventions"):
        raise NotApplicable("no intervention register is loaded (`harmscope schemes`)", title=TITLE)
    schemes = load_schemes(ctx.store)
    linked = _linked(schemes)
    if not linked:
        raise NotApplicable(
            f"none of the register's {len(schemes)} schemes is linked to a toolkit strand "
            "(add 'evidence: {toolkit: yef, strand: ...}' to a scheme; see docs/evidence.md)",
            title=TITLE,
        )
    dated = [s for s in linked if s.get("start")]
    if not dated:
        raise NotApplicable(
            f"{len(linked)} schemes are linked to a toolkit strand, but none has a start month, "
            "so none can be evaluated here (`harmscope evidence SCHEME --start YYYY-MM` works "
            "on one)",
            title=TITLE,
        )
    # every table, figure and sentence comes from privacy.evidence.publish_evidence
    return per_scheme_section(
        ctx,
        dated,
        _one,
        key="evidence",
        title=TITLE,
        intro=_INTRO,
        table_suffix="evidence",
        which="linked",
        max_schemes=MAX_SCHEMES,
    )


def _one(ctx: ReportContext, s: dict) -> tuple[str, pd.DataFrame, str]:
    from harmscope.analysis.evaluation.evidence import evidence_for_scheme
    from harmscope.privacy.evidence import publish_evidence

    res = ctx.cached(
        f"evidence:{s['name']}", lambda: evidence_for_scheme(ctx.store, scheme=s["name"])
    )
    pub = publish_evidence(res, ctx.aud, ctx.threshold)
    table = pub.tables["main"]
    shown = table[list(_SHOWN)].rename(columns=_SHOWN)
    shown.attrs = dict(table.attrs)
    f = pub.figures
    html = (
        f"<h3>{escape(s['name'])} (from {s['start']:%Y-%m}): "
        f"{escape(s['evidence']['toolkit'].upper())} strand "
        f"{escape(s['evidence']['strand'].replace('_', ' '))}</h3>"
        f"<p>{escape(pub.texts['notes'][0])}</p>"
        f"<p class='note'>Prior: {escape(f['prior_basis'])}. Source: {escape(f['prior_source'])} "
        f"({escape(f['prior_url'])}).</p>"
    )
    return html, shown, res.method
