"""Report section "People": the profile of victims and offenders from a force crime extract.

Shown only when the store holds a crime extract. Every table comes from the publishing path
(``commands.people.publish_people``: the audience's disclosure control), so partner and public
reports carry aggregates only. The internal report adds the transparency records of the flags
and one person-level view, the top of the RFG ranking (pseudonyms, never identities) beside the
ranking's record, so an analyst sees who the review list starts with and how often the list is
wrong. It is built only when the audience is ``internal``: a partner or public report never
computes it, and the publishing path (``report/render.py`` -> ``publish_report``) withholds
any table not marked by ``ctx.protect``. The full lists leave only through
``harmscope people --export`` (internal, audited). Each build writes an audit-log row, as the
section takes figures out of person-level tables; a read-only store shows no figures.
"""

from __future__ import annotations

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import audited, cards, ci_text, para, value_text, withheld
from harmscope.store.queries import report as queries

ORDER = 85
KEY = "people"
TITLE = "People: victims, offenders and the power few (force crime extract)"
# Rows of the RFG ranking shown in the internal report (``options["people_top"]``): enough to
# see who a review list starts with; the whole list is for `harmscope people --export`.
TOP_DEFAULT = 20


def build(ctx: ReportContext) -> Section | None:
    store = ctx.store
    if not queries.has_people_crimes(store):
        return None
    if store.read_only:
        return withheld(
            KEY,
            TITLE,
            "Figures about people are withheld: the store was opened read-only, so this "
            "output could not be written to the audit log.",
        )
    from harmscope.analysis.people import people_profile
    from harmscope.privacy.people import publish_people

    # has_people_crimes held, so an error here is a failure of the section, not "no data"
    profile = people_profile(store, reps=100)
    pub = publish_people(profile, ctx.audience, ctx.threshold)
    internal = ctx.audience == "internal"
    top = _top_ranked(profile, ctx) if internal else None
    what = "report section: people (aggregates)"
    if top is not None:
        what = f"report section: people (aggregates; top {len(top)} of the RFG ranking)"
    refused = audited(
        store,
        KEY,
        TITLE,
        "Figures about people",
        what=what,
        query=f"people_profile(reps=100, audience={ctx.audience!r}, threshold={ctx.threshold})",
        audience=ctx.audience,
        rows=int(profile.summary.get("crimes") or 0),
    )
    if refused is not None:
        return refused
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
            "Partner and public reports never list people; the internal report shows the "
            "top of the RFG ranking below, and an internal user exports the full lists with "
            "`harmscope people --export` (audited).",
        )
    )
    if internal:
        for rec in profile.transparency.values():
            parts.append(para(f"{rec['name']}: {rec['statement']}"))
    tables = {
        k: pub.tables[k]
        for k in ("offence_harm", "power_few", "repeat_victims", "victim_offender_overlap")
        if k in pub.tables
    }
    if top is not None:
        parts.append(_top_html(profile, len(top)))
        tables["rfg_top"] = top
    return Section(
        key=KEY,
        title=TITLE,
        html="".join(parts),
        tables=tables,
        method=" ".join(r.method for r in profile.results.values()),
        disclosure_checked=True,
        notes=list(pub.dropped),
    )


def _top_ranked(profile, ctx: ReportContext):
    """The first rows of the RFG ranking (internal audience only), marked by ``ctx.protect``
    (a no-op on the values for the internal audience; the mark is what the publishing path
    checks). Pseudonyms only: the store holds no identity to show."""
    if ctx.audience != "internal":  # defence in depth: the caller checks too
        return None
    ranking = profile.results["rfg"].table
    if ranking.empty:
        return None
    n = int(ctx.options.get("people_top", TOP_DEFAULT))
    # the ranking's own columns (analysis.people.rfg), less the flag every row shown carries
    top = ranking.loc[ranking.flagged].drop(columns="flagged")
    top = top.head(max(1, n)).reset_index(drop=True)
    return ctx.protect(top)


def _top_html(profile, n: int) -> str:
    rec = profile.transparency.get("rfg", {})
    not_for = "; ".join(rec.get("must_not_be_used_for", []))
    return para(
        f"INTERNAL ONLY - person-level: the top {n} of the RFG harm ranking (table "
        "'rfg_top'), by keyed pseudonym. A place on this list starts a review by a named "
        "practitioner; it is not a finding about the person.",
        f"Transparency record ({rec.get('name', 'RFG ranking')}): purpose - "
        f"{rec.get('purpose', '')} How it works - {rec.get('how_it_works', '')} "
        f"Must not be used for: {not_for}. Oversight - {rec.get('human_oversight', '')} "
        f"Error rates - {rec.get('statement', '')}",
    )
