"""Report section "The true picture": ED assault attendances beside police violence.

Shown only when the store holds ED records. Every table goes through the audience's
disclosure control (in analysis.linkage), the charts are drawn from the protected tables,
and each build writes an audit-log row, because the section takes ED figures out of the
store. A read-only store cannot take the audit row, so the section then says so and shows
no ED figure.
"""

from __future__ import annotations

from harmscope.analysis.linkage import true_picture
from harmscope.errors import HarmscopeError
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import (
    audited,
    cards,
    ci_text,
    para,
    scope,
    value_text,
    withheld,
)
from harmscope.store.queries.ed import has_ed_data

ORDER = 80
KEY = "true-picture"
TITLE = "The true picture: hospital (ED) assaults beside police records"


def build(ctx: ReportContext) -> Section | None:
    store = ctx.store
    if not has_ed_data(store):
        return None
    if store.read_only:
        return withheld(
            KEY,
            TITLE,
            "ED figures are withheld: the store was opened read-only, so this "
            "export of health data could not be written to the audit log.",
            "Build the report with a writable store to include them.",
        )
    force = scope(ctx).force
    if force is None:
        raise NotApplicable(
            f"the ED comparison is made against one force's police records; {scope(ctx).label} "
            "is not within one force",
            title=TITLE,
        )
    query = (
        f"true_picture(level='lad', date_from={ctx.date_from}, date_to={ctx.date_to}, "
        f"force={force!r}, audience={ctx.audience!r}, threshold={ctx.threshold})"
    )
    try:
        res = true_picture(
            store,
            date_from=ctx.date_from,
            date_to=ctx.date_to,
            force=force,
            audience=ctx.audience,
            threshold=ctx.threshold,
        )
    except HarmscopeError as exc:
        if "no month holds both" in exc.problem:  # ED data exists, not for these months
            raise NotApplicable(
                f"the store's ED records and {force}'s street crimes share no month in this period",
                title=TITLE,
            ) from exc
        raise
    refused = audited(
        store,
        KEY,
        TITLE,
        "ED figures",
        what="report section: true picture (ED)",
        query=query,
        audience=ctx.audience,
        rows=len(res.table),
        suppressed=res.summary.get("suppressed_cells"),
    )
    if refused is not None:
        return refused
    s = res.summary
    items = [
        ("ED assault attendances", value_text(s["ed_assaults"]), ""),
        ("police violence and sexual offences (proxy)", value_text(s["police_violence_proxy"]), ""),
        (
            "ED assaults per police record",
            value_text(s["ed_per_police"], decimals=3),
            ci_text(*s["ed_per_police_ci"], decimals=3),
        ),
    ]
    if "capture_N" in s:
        items.append(
            (
                "estimated victims in all (Chapman)",
                value_text(round(s["capture_N"])),
                ci_text(*s["capture_N_ci"], decimals=0),
            )
        )
        items.append(
            (
                "share of ED patients known to police",
                value_text(s["reporting_rate"], decimals=3),
                ci_text(*s["reporting_rate_ci"], decimals=3),
            )
        )
    parts = []
    if s.get("synthetic"):
        parts.append(
            '<p class="warn"><strong>SYNTHETIC DATA.</strong> The ED records in this '
            "section were simulated by harmscope for demonstration; they describe no "
            "real patient.</p>"
        )
    parts.append(cards(items))
    hidden = s.get("hidden_hotspots") or []
    parts.append(
        para(
            f"ED data cover {s['first_month']} to {s['last_month']} ({s['months']} months with police data).",
            "Hidden hotspots (districts with significantly more ED assaults than their police "
            "records predict, after FDR correction): "
            + (", ".join(str(h) for h in hidden) if hidden else "none")
            + ".",
            f"ED records not placed in a district: {value_text(s['ed_unplaced'])}.",
        )
    )
    parts.append(
        para(
            "Police figures are the police.uk 'Violence and sexual offences' category, the nearest "
            "published proxy for violence with injury; it is broader, so ratios understate how many "
            "more injured victims ED sees than the police record."
        )
    )
    tables = {
        "ratio": res.table,
        "heatmap": res.tables["heatmap"],
        "weapons": res.tables["weapons"],
        "by_month": res.tables["by_month"],
        "placement": res.tables["placement"],
    }
    if "reporting" in res.tables:
        tables["reporting"] = res.tables["reporting"]
    captions = {
        "ratio": "Each district's ED:police ratio with its 95% exact interval; hidden hotspots coloured.",
        "heatmap": "Night-time economy profile: ED assaults by day of week and hour.",
        "weapons": "Assault method recorded at ED, with 95% Wilson intervals.",
    }
    return Section(
        key=KEY,
        title=TITLE,
        html="".join(parts),
        charts=res.charts,
        tables=tables,
        method=res.method,
        disclosure_checked=True,
        notes=[
            "ED and police figures in this section cover every district the ED data reach "
            f"(county-wide), whatever the report area ({ctx.area}).",
            *[n for n in res.notes if not n.startswith("SYNTHETIC")],
        ],
        captions=captions,
    )
