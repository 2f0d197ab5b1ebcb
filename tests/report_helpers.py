"""Helpers shared by the report tests (tests/test_report*.py and the report checks of the
other modules): a report context, a one-section report, an HTML table reader and the
browser's settings. Not a test module (no ``test_`` prefix); imported by name, as pytest puts
this folder on ``sys.path``."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from harmscope.report.pdf import CHROMIUM_FLAGS
from harmscope.report.render import build_report
from harmscope.report.section import ReportContext

# Chromium flags for a Playwright browser: the PDF printer's own (no background networking,
# updates or sync), less --headless, which Playwright sets itself.
BROWSER_ARGS = [f for f in CHROMIUM_FLAGS if f != "--headless"]

# The report's page counts its charts as they draw: wait until every one is drawn or failed.
CHARTS_SETTLED = (
    "Number(document.body.dataset.chartsDone) + Number(document.body.dataset.chartsFailed)"
    " >= Number(document.body.dataset.chartsTotal)"
)


def report_ctx(store, audience: str, start: date, end: date, area: str = "Kent") -> ReportContext:
    """The context of a report on ``area`` from ``start`` to ``end`` for ``audience``."""
    return ReportContext(store=store, area=area, date_from=start, date_to=end, audience=audience)


def one_section_report(store, section: str, audience: str, start: date, end: date, **kw):
    """A report of the one ``section``, which must have been built: no error, not withheld."""
    report = build_report(report_ctx(store, audience, start, end, **kw), only=[section])
    built = report.sections[0]
    assert built.error is None and not built.withheld and built.section is not None
    return report


class HtmlTables(HTMLParser):
    """Collects every <table> as header + rows of cell text, and every src/href and id."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.links: list[str] = []
        self.ids: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href"):
            if key in a:
                self.links.append(a[key])
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            head, rows = self.tables[-1]
            if not head:
                head.extend(self._row)
            else:
                rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
