"""Report section "People": the profile of victims and offenders from a force crime extract.

Shown only when the store holds a crime extract. Every table comes from the publishing path
(``commands.people.publish_people``: the audience's disclosure control), so partner and public
reports carry aggregates only; the internal report adds the transparency records of the flags.
No person-level row (pseudonym, ranking) ever appears in a report: those leave only through
``harmscope people --export`` (internal, audited). Each build writes an audit-log row, as the
section takes figures out of person-level tables; a read-only store shows no figures.
"""

from __future__ import annotations

import duckdb

from harmscope.errors import HarmscopeError
from harmscope.privacy import audit
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import cards, ci_text, para, value_text

ORDER = 85
KEY = "people"
TITLE = "People: victims, offenders and the power few (force crime extract)"


def _has_crimes(store) -> bool:
    try:
        return bool(store.con.execute("SELECT count(*) FROM crimes").fetchone()[0])
    except duckdb.Error:  # a store made before migration 6
        return False


def build(ctx: ReportContext) -> Section | None:
    store = ctx.store
    if not _has_crimes(store):
        return None
    if store.read_only:
        return Section(
            key=KEY,
            title=TITLE,
            disclosure_checked=True,
            html=para(
                "Figures about people are withheld: the store was opened read-only, so this "
                "output could not be written to the audit log."
            ),
        )
    from harmscope.analysis.people import people_profile
    from harmscope.commands.people import publish_people

    try:
        profile = people_profile(store, reps=100)
    except HarmscopeError:
        return None
    pub = publish_people(profile, ctx.audience, ctx.threshold)
    try:
        audit.record(
            store,
            action="report",
            what="report section: people (aggregates)",
            query=f"people_profile(reps=100, audience={ctx.audience!r}, threshold={ctx.threshold})",
            audience=ctx.audience,
            rows=int(profile.summary.get("crimes") or 0),
        )
    except duckdb.Error:
        return Section(
            key=KEY,
            title=TITLE,
            disclosure_checked=True,
            html=para("Figures about people are withheld: the audit-log row could not be written."),
        )
    s = pub.document()["summary"]

    def card(label, key, decimals=3):
        ci = s.get(f"{key}_ci")
        return (
            label,
            value_text(s.get(key), decimals=decimals),
            ci_text(*ci, decimals=decimals) if ci and None not in ci else "",
        )

    parts = []
    if profile.synthetic:
        parts.append(
            '<p class="warn"><strong>SYNTHETIC DATA.</strong> The crime extract in this '
            "section was simulated by harmscope; it describes no real person.</p>"
        )
    parts.append(
        cards(
            [
                card("share of harm by the top 5% of offenders", "power_few_share_top5pct"),
                card("share of harm on the top 5% of victims", "victim_share_top5pct"),
                card("repeat victims (12-month method)", "repeat_victim_rate"),
                card("victims who are also offenders", "overlap_share_of_victims"),
                card("knife-enabled share of selected offences", "knife_share_of_selected"),
            ]
        )
    )
    parts.append(
        para(
            "Harm uses Home Office offence-code weights (ONS Crime Severity Score). Intervals "
            "are 95%: basic bootstrap for shares of harm, Wilson for proportions.",
            "Lists of people are never shown in a report; an internal user exports them with "
            "`harmscope people --export` (audited).",
        )
    )
    if ctx.audience == "internal":
        for rec in profile.transparency.values():
            parts.append(para(f"{rec['name']}: {rec['statement']}"))
    tables = {
        k: pub.tables[k]
        for k in ("offence_harm", "power_few", "repeat_victims", "victim_offender_overlap")
        if k in pub.tables
    }
    return Section(
        key=KEY,
        title=TITLE,
        html="".join(parts),
        tables=tables,
        method=" ".join(r.method for r in profile.results.values()),
        disclosure_checked=True,
        notes=list(pub.dropped),
    )
