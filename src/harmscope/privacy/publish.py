"""The one door out: every table, figure and note that leaves harmscope for an audience.

Policy:

* **One path.** A presenter (a command's ``--json`` or table, the report, an export folder)
  builds a :class:`Publication` for its audience and adds every table and figure to it; what it
  prints or writes is :meth:`Publication.document` (or the tables the publication returned), and
  nothing else. :data:`LOG` keeps the publications made in this process, so a test can check
  that an output was made here and not assembled beside it.
* **Closed by default.** A table is accepted only with a protection spec: its count columns
  (protected here with :func:`harmscope.privacy.audience.protect_table`), or ``protected=True``
  for a table that already went through a protection (the mark
  :data:`~harmscope.privacy.audience.CHECKED_ATTR` must be on it), or ``reference=True`` for
  one that holds no counts (weights, method tables). For the partner and public audiences
  anything else is **dropped** and listed in :attr:`Publication.dropped`; it never passes
  through. A figure must name the table it comes from; a figure from a dropped table is dropped.
* **Decided once per output.** Tables that share totals are protected together before they
  come here (:mod:`harmscope.privacy.weighted` for harm, ``protect_linked`` for LSOA groups);
  weighted sums (harm) are never published from hidden counts (same module).
* **Event-level detail** (points, record lists) is refused for audiences that may not see it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harmscope.analysis.result import _jsonable, frame_records
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import CHECKED_ATTR, Audience, get_audience, protect_table

# The publications finished in this process, newest last (bounded): the registry a test reads.
LOG: deque = deque(maxlen=64)
_SERIAL = [0]


def serial() -> int:
    """How many publications this process has finished (each gets the next number)."""
    return _SERIAL[0]


@dataclass
class Publication:
    """One output (a JSON document, a report, an export folder) for one audience."""

    audience: Audience
    name: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, Any] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    finished: bool = False
    number: int = 0

    @classmethod
    def for_audience(cls, audience: str | Audience, name: str, threshold: int = 5) -> Publication:
        aud = audience if isinstance(audience, Audience) else get_audience(audience, threshold)
        return cls(aud, name)

    @property
    def closed(self) -> bool:
        """Whether unspecified tables are dropped (every audience but internal)."""
        return self.audience.name != "internal"

    # -- tables ----------------------------------------------------------------------------
    def table(
        self,
        key: str,
        df: pd.DataFrame | None,
        *,
        counts: Sequence[str] = (),
        derived: Mapping[str, str | Sequence[str]] | None = None,
        row: str | None = None,
        col: str | None = None,
        by: str | Sequence[str] | None = None,
        totals: bool = True,
        protected: bool = False,
        reference: bool = False,
        event_level: bool = False,
    ) -> pd.DataFrame | None:
        """Add a table; returns it as published, or None when it may not be published."""
        self._open()
        if df is None:
            return None
        if event_level and not self.audience.event_level:
            self.dropped.append(
                f"{key}: event-level detail is not shown to the {self.audience.name} audience"
            )
            return None
        if counts:
            out = protect_table(
                df,
                self.audience,
                count_cols=list(counts),
                derived=derived,
                row=row,
                col=col,
                by=by,
                totals=totals,
            )
        elif protected:
            if CHECKED_ATTR not in df.attrs and self.closed:
                # said to be protected, but no protection ever marked it: closed, not trusted
                self.dropped.append(f"{key}: no protection mark")
                return None
            out = df.copy()
            out.attrs[CHECKED_ATTR] = df.attrs.get(CHECKED_ATTR, {"audience": self.audience.name})
        elif reference:
            out = df.copy()
            out.attrs[CHECKED_ATTR] = {"audience": self.audience.name, "reference": True}
        elif self.closed:
            self.dropped.append(f"{key}: no protection spec")
            return None
        else:
            out = df.copy()
        self.tables[key] = out
        return out

    def figure(self, key: str, value: Any, *, source: str) -> Any:
        """Add a headline figure computed from the published table ``source``."""
        self._open()
        if source not in self.tables and source not in self.figures and source != "reference":
            if self.closed:
                self.dropped.append(f"{key}: its source {source!r} is not published")
                return None
        self.figures[key] = value
        return value

    def text(self, key: str, value: Any) -> Any:
        """Add words (method, notes): never counts."""
        self._open()
        self.texts[key] = value
        return value

    # -- the document ----------------------------------------------------------------------
    def document(self, *, summary_key: str = "summary") -> dict[str, Any]:
        """Everything published, JSON-ready: figures under ``summary_key``, then the texts,
        then each table as records."""
        out: dict[str, Any] = {summary_key: _jsonable(self.figures), "audience": self.audience.name}
        out.update(_jsonable(self.texts))
        for key, df in self.tables.items():
            out[key] = frame_records(df)
        if self.dropped:
            out["withheld"] = list(self.dropped)
        return _jsonable(out)

    def finish(self) -> Publication:
        """Mark the publication complete and log it."""
        self.finished = True
        _SERIAL[0] += 1
        self.number = _SERIAL[0]
        LOG.append(self)
        return self

    def _open(self) -> None:
        if self.finished:
            raise HarmscopeError(
                f"publication {self.name!r} is already finished",
                where="privacy.publish",
                fix="add every table before finish()",
            )


def last(name: str | None = None) -> Publication | None:
    """The newest finished publication (named ``name``, if given)."""
    for pub in reversed(LOG):
        if name is None or pub.name == name:
            return pub
    return None
