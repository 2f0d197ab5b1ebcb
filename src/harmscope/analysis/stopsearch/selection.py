"""Which records an analysis counts: the months asked for (or held) and the force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from harmscope.errors import HarmscopeError

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
    """'YYYY-MM' (or a date) -> the first day of that month."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value).strip()
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise HarmscopeError(
            f"'{value}' is not a month", where=where, fix="give the month as YYYY-MM, e.g. 2018-04"
        ) from None


def force_filter(column: str, force: str | None, *, keyword: str = "AND") -> tuple[str, list]:
    """``keyword (condition on column)`` selecting one force and its parameters; none if no force."""
    if not force:
        return "", []
    # Forces are stored as police.uk slugs or names ("kent", "Kent Police"): match either.
    return (
        f"{keyword} (lower({column}) = lower(?) OR lower({column}) LIKE lower(?) || ' %')",
        [force, force],
    )


def resolve_period(
    store: Store,
    date_from: str | date | None,
    date_to: str | date | None,
    *,
    table: str = "stop_searches",
    force: str | None = None,
) -> Period:
    """The requested months, defaulting to what ``table`` holds; errors name the flag."""
    start = parse_month(date_from, where="--from")
    end = parse_month(date_to, where="--to")
    if start is None or end is None:
        column = "force" if table == "stop_searches" else "falls_within"
        where, params = force_filter(column, force, keyword="WHERE")
        row = store.query(f"SELECT min(month) AS lo, max(month) AS hi FROM {table} {where}", params)
        lo, hi = row.lo[0], row.hi[0]
        if pd.isna(lo):
            raise HarmscopeError(
                f"the store holds no {table.replace('_', ' ')} rows"
                + (f" for force '{force}'" if force else ""),
                where=table,
                fix="ingest the police.uk files first (`harmscope ingest PATH`)",
            )
        start = start or pd.Timestamp(lo).date()
        end = end or pd.Timestamp(hi).date()
    if end < start:
        raise HarmscopeError(
            f"--to {end:%Y-%m} is before --from {start:%Y-%m}",
            where="--to",
            fix="swap the two months",
        )
    return Period(start, end)


def crime_period(
    store: Store, s_period: Period, crime_from: str | date | None, crime_to: str | date | None
) -> Period:
    """Street-crime months to set against the searches: as given, else the search months when
    the store holds crimes for them, else every street-crime month held."""
    start = parse_month(crime_from, where="crime_from")
    end = parse_month(crime_to, where="crime_to")
    if start and end:
        return Period(start, end)
    have = store.query(
        "SELECT min(month) AS lo, max(month) AS hi, "
        "count(*) FILTER (WHERE month BETWEEN ? AND ?) AS overlap FROM street_crimes",
        [s_period.start, s_period.end],
    )
    if pd.isna(have.lo[0]):
        raise HarmscopeError(
            "the store holds no street crimes to compare searches with",
            where="street_crimes",
            fix="ingest the police.uk street files (`harmscope ingest PATH`)",
        )
    if have.overlap[0] > 0 and not (start or end):
        return s_period
    lo, hi = pd.Timestamp(have.lo[0]).date(), pd.Timestamp(have.hi[0]).date()
    return Period(start or lo, end or hi)
