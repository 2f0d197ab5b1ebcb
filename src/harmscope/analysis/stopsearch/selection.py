"""Which records an analysis counts: the months asked for (or held) and the force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from harmscope import months
from harmscope.errors import HarmscopeError
from harmscope.store.queries.stopsearch import month_span, street_months_overlap

if TYPE_CHECKING:
    from harmscope.store import Store


@dataclass(frozen=True)
class Period:
    start: date  # first day of the first month
    end: date  # first day of the last month (months are stored as their first day)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m} to {self.end:%Y-%m}"

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def parse_month(value: str | date | None, *, where: str) -> date | None:
    """'YYYY-MM' (or a date) -> the first day of that month (:mod:`harmscope.months`)."""
    return months.parse_month(value, where, day_ok=True)


def _resolve_period(
    store: Store,
    date_from: str | date | None,
    date_to: str | date | None,
    *,
    table: str = "stop_searches",
    force: str | None = None,
) -> Period:
    """The requested months, defaulting to what ``table`` holds; errors name the flag.

    Private (issue 11): a selection step of the analyses, not an analysis; what the store
    holds comes from the query layer (``store.queries.stopsearch``)."""
    start = parse_month(date_from, where="--from")
    end = parse_month(date_to, where="--to")
    if start is None or end is None:
        lo, hi = month_span(store, table, force)
        if lo is None:
            raise HarmscopeError(
                f"the store holds no {table.replace('_', ' ')} rows"
                + (f" for force '{force}'" if force else ""),
                where=table,
                fix="ingest the police.uk files first (`harmscope ingest PATH`)",
            )
        start = start or lo
        end = end or hi
    if end < start:
        raise HarmscopeError(
            f"--to {end:%Y-%m} is before --from {start:%Y-%m}",
            where="--to",
            fix="swap the two months",
        )
    return Period(start, end)


def _crime_period(
    store: Store, s_period: Period, crime_from: str | date | None, crime_to: str | date | None
) -> Period:
    """Street-crime months to set against the searches: as given, else the search months when
    the store holds crimes for them, else every street-crime month held."""
    start = parse_month(crime_from, where="crime_from")
    end = parse_month(crime_to, where="crime_to")
    if start and end:
        return Period(start, end)
    lo, hi, overlap = street_months_overlap(store, s_period.start, s_period.end)
    if lo is None:
        raise HarmscopeError(
            "the store holds no street crimes to compare searches with",
            where="street_crimes",
            fix="ingest the police.uk street files (`harmscope ingest PATH`)",
        )
    if overlap > 0 and not (start or end):
        return s_period
    return Period(start or lo, end or hi)
