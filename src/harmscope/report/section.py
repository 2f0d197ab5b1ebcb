"""The contract between analyses and the report.

Each module in ``harmscope.report.sections`` exposes ``ORDER: int`` and
``build(ctx: ReportContext) -> Section | None`` (None when the data for it is absent).
The report assembles the sections it finds, sorted by ORDER.

Disclosure control is the section's job, checked by the renderer:

* build every published table through ``ctx.protect(df, count_cols=[...], derived={...})``
  (a no-op for internal/partner audiences), and draw charts from the protected tables;
* set ``Section.disclosure_checked = True`` once every table, chart and sentence went through
  that. For ``--audience public`` the renderer withholds the body of any section that does not
  set it, so a new section cannot leak small counts by accident.

A chart ``charts["x"]`` is shown with ``tables["x"]`` under it (collapsible, with a CSV
download); without a same-named table the renderer shows the data embedded in the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.privacy.audience import Audience
    from harmscope.store import Store


@dataclass
class ReportContext:
    store: Store
    area: str  # a county, district (LAD code or name) or force name
    date_from: date
    date_to: date
    audience: str = "internal"  # internal | partner | public
    threshold: int = 5  # disclosure-control threshold for the public audience
    options: dict[str, Any] = field(default_factory=dict)
    # Shared between sections (e.g. one harm_by_area result used by several sections).
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def month_from(self) -> str:
        return self.date_from.strftime("%Y-%m")

    @property
    def month_to(self) -> str:
        return self.date_to.strftime("%Y-%m")

    @property
    def aud(self) -> Audience:
        from harmscope.privacy.audience import get_audience

        return get_audience(self.audience, self.threshold)

    @property
    def public(self) -> bool:
        return self.aud.suppress

    def protect(self, df: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """``privacy.audience.protect_table`` for this report's audience."""
        from harmscope.privacy.audience import protect_table

        return protect_table(df, self.aud, **kwargs)

    def protect_masked(self, df: pd.DataFrame, hidden, **kwargs: Any) -> pd.DataFrame:
        """``privacy.audience.apply_mask``: hide rows by a mask from a joint protection."""
        from harmscope.privacy.audience import apply_mask

        return apply_mask(df, self.aud, hidden, **kwargs)

    def cached(self, key: str, make):
        """Compute ``make()`` once per report; later sections reuse it."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


@dataclass
class Section:
    key: str  # anchor id, e.g. "stop-and-search"
    title: str
    html: str  # body HTML (trusted: built by our templates, values escaped)
    charts: dict[str, dict] = field(default_factory=dict)  # Vega-Lite specs by id
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # shown collapsible + CSV link
    method: str = ""
    # True when tables, charts and text went through ctx.protect (see the module docstring).
    disclosure_checked: bool = False
    notes: list[str] = field(default_factory=list)  # caveats shown in a box under the title
    captions: dict[str, str] = field(default_factory=dict)  # one line under a chart, by id


class NotApplicable(HarmscopeError):
    """Raised by a section's ``build`` when the section does not apply to the report's area
    and period, or there is no data for it there: "all 110 LSOAs in Basildon are urban (ONS
    RUC 2011); a rural/urban comparison does not apply". The report shows ``reason`` in the
    section's place and is written as usual (exit 0).

    Anything else a section raises (a HarmscopeError included) is a failure, not an
    announcement: the report is not written and the command exits non-zero, naming the
    section. ``title`` is the section's title for the announcement (default: its module name).
    """

    def __init__(self, reason: str, *, title: str | None = None):
        self.reason = reason
        self.title = title
        super().__init__(reason, where="report section")
