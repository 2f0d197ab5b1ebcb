"""Report section "Recording breaks": months where the mix of street-crime categories changed
more than chance and more than 10 points of share (a recording change to check before
comparing across it)."""

from __future__ import annotations

from markupsafe import escape

from harmscope.analysis.breaks import BREAK_TABLE_COLUMNS
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import scope

ORDER = 33

_COLS = BREAK_TABLE_COLUMNS


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.breaks import describe_break, street_category_breaks
    from harmscope.errors import HarmscopeError
    from harmscope.privacy.stopsearch import protect_break_table, protect_frame

    sc = scope(ctx)
    try:
        res = street_category_breaks(ctx.store, where=(sc.where, list(sc.params)))
    except HarmscopeError:
        return None
    if res.summary["months"] < 3:
        return None
    aud = ctx.aud
    threshold = aud.threshold if aud.suppress else None
    flagged = protect_break_table(res.tables["flagged"], aud)
    mix = res.tables["mix"]
    cats = [c for c in mix.columns if c != "month"]
    tables = {"street_category_mix": protect_frame(mix, aud, [cats])}
    sentences = [
        describe_break(r, unit="street crimes", threshold=threshold)
        for r in flagged.to_dict("records")
    ]
    if flagged.empty:
        html = (
            f"<p>In {escape(sc.label)}, {res.summary['months']} months held: no month where the "
            "mix of crime categories changed by 10 points of share or more beyond chance. "
            "Month-to-month comparisons are not disturbed by a visible recording change.</p>"
        )
    else:
        shown = flagged[[c for c in _COLS if c in flagged]].copy()
        shown.attrs = dict(flagged.attrs)
        tables["street_recording_breaks"] = shown
        items = "".join(f"<li>{escape(s)}</li>" for s in sentences)
        html = (
            f"<p>Was the recording the same in every month? In {escape(sc.label)} the mix of "
            f"crime categories changed sharply at {len(flagged)} point(s); counts and harm "
            "compared across them may move because of how crimes were recorded, not only "
            f"because of what happened:</p><ul>{items}</ul>"
        )
    notes = [n for n in res.notes if n.startswith("The months held fall in")]
    return Section(
        key="recording-breaks",
        title="Recording breaks",
        html=html,
        tables=tables,
        method=res.method,
        disclosure_checked=True,
        notes=notes,
    )
