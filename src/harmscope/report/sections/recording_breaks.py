"""Report section "Recording breaks": months where the mix of street-crime categories changed
more than chance and more than 10 points of share (a recording change to check before
comparing across it)."""

from __future__ import annotations

from markupsafe import escape

from harmscope.analysis.breaks import BREAK_TABLE_COLUMNS
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import scope

ORDER = 33
TITLE = "Recording breaks"

_COLS = BREAK_TABLE_COLUMNS


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.breaks import street_category_breaks
    from harmscope.errors import HarmscopeError
    from harmscope.privacy.stopsearch import publish_street_breaks

    sc = scope(ctx)
    try:
        res = street_category_breaks(ctx.store, where=(sc.where, list(sc.params)))
    except HarmscopeError as exc:  # no street crime in the scope: said, not silently absent
        raise NotApplicable(exc.problem, title=TITLE) from None
    if res.summary["months"] < 3:
        raise NotApplicable(
            f"{res.summary['months']} month(s) held; a recording break needs at least 3",
            title=TITLE,
        )
    published, sentences = publish_street_breaks(res, ctx.aud)
    flagged = published.pop("flagged")
    tables = published
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
        title=TITLE,
        html=html,
        tables=tables,
        method=res.method,
        disclosure_checked=True,
        notes=notes,
    )
