"""What ``harmscope evidence`` publishes, through the one path (:mod:`privacy.publish`).

The result holds rate ratios, their intervals, weights and probabilities (no counts of
events), and the toolkit entry (published reference data), so both tables are reference
tables; the figures come from the main table; the words (method, notes) go as texts. The
rate ratios are the ones ``harmscope evaluate`` publishes for the same audience
(:func:`harmscope.privacy.publishers.publish_evaluation` treats its IRR table the same way).
A table of this result that is not one of these two is withheld from partner and public
audiences (closed by default).
"""

from __future__ import annotations

from harmscope.analysis.result import Result
from harmscope.privacy.audience import Audience
from harmscope.privacy.publish import Publication

_REFERENCE = ("main", "toolkit_entry")


def publish_evidence(res: Result, audience: str | Audience, threshold: int = 5) -> Publication:
    """An evidence result (``analysis.evaluation.evidence``) for an audience."""
    pub = Publication.for_audience(audience, "evidence", threshold)
    pub.table("main", res.table, reference=True)
    for name, df in res.tables.items():
        if name in _REFERENCE:
            pub.table(name, df, reference=True)
        else:
            pub.table(name, df)  # no spec: withheld from partner and public
    for key, value in res.summary.items():
        pub.figure(key, value, source="main")
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    return pub.finish()
