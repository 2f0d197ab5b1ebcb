"""Calendar months: one type, one parser, one shift, one way to describe gaps.

police.uk publishes by month, so a month (not a day) is the unit of every period in harmscope.
Months reach the code as 'YYYY-MM' text from the command line, as DATE values (the first of
the month) from the store, as pandas Timestamps from frames and as pandas Periods from
resampling. :func:`to_month` turns any of these into a :class:`Month`; everything else here
works on that type, so two callers cannot disagree about what "2025-03 minus a year" is.

The store keeps months as DATE (first of the month) and analyses label them 'YYYY-MM'; both
conversions live here (:attr:`Month.first_day`, ``str(month)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from harmscope.errors import HarmscopeError

# 'YYYY-MM'; where a caller allows it, 'YYYY-MM-DD' (as a DATE prints), whose day must exist
_TEXT = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month. Ordered, hashable; ``str()`` gives 'YYYY-MM'."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise ValueError(f"no such month: {self.year}-{self.month}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since January of year 0: consecutive months differ by 1."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        """The DATE the store keeps for this month."""
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        """'Mar 2025': how a reader sees a month."""
        return f"{_NAMES[self.month - 1]} {self.year}"

    def shift(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative)."""
        return Month.from_index(self.index + int(months))

    def __sub__(self, other: Month) -> int:
        """Months from ``other`` to this one."""
        return self.index - other.index


def to_month(value: Any, where: str = "month", *, day_ok: bool = False) -> Month | None:
    """``value`` as a Month; None for None or ''.

    Takes 'YYYY-MM' text ('YYYY-MM-DD' too with ``day_ok``: a file's dates; the command line
    takes months only, so a day there is an error rather than silently dropped), a date or
    datetime, a pandas Timestamp (a datetime),
    a pandas Period or numpy datetime64 (anything with ``year`` and ``month``, or convertible
    by pandas), or a Month. Text that is not a month raises a HarmscopeError naming ``where``
    (the option or field it came from).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Month):
        return value
    if isinstance(value, (date, datetime)):  # Timestamp is a datetime
        return Month(value.year, value.month)
    if isinstance(value, str):
        text = value.strip()
        m = _TEXT.match(text)
        if m and (day_ok or m.group(3) is None):
            year, month = int(m.group(1)), int(m.group(2))
            try:
                date(year, month, int(m.group(3) or 1))
                return Month(year, month)
            except ValueError:
                pass
        raise HarmscopeError(
            f"{text!r} is not a month", where=where, fix="write it as YYYY-MM, e.g. 2025-01"
        )
    year, month = getattr(value, "year", None), getattr(value, "month", None)
    if isinstance(year, int) and isinstance(month, int):  # pandas Period, and the like
        return Month(year, month)
    try:  # numpy datetime64
        import pandas as pd

        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = None
    if ts is None or ts is pd.NaT:
        raise HarmscopeError(
            f"{value!r} is not a month", where=where, fix="write it as YYYY-MM, e.g. 2025-01"
        )
    return Month(ts.year, ts.month)


def parse_month(value: Any, where: str, *, day_ok: bool = False) -> date | None:
    """``value`` as the first day of its month (the store's DATE), or None when empty."""
    m = to_month(value, where, day_ok=day_ok)
    return m.first_day if m is not None else None


def shift(value: Any, months: int) -> Any:
    """``value`` moved by ``months``, returned in the kind it came in: 'YYYY-MM' text stays
    text, a date stays a date (the first of the month), a Month stays a Month."""
    m = to_month(value, day_ok=True)
    if m is None:
        raise ValueError("cannot shift an empty month")
    out = m.shift(months)
    if isinstance(value, Month):
        return out
    if isinstance(value, (date, datetime)):
        return out.first_day
    return str(out)


def shift_year(month: Any, years: int) -> Any:
    """The same month ``years`` later ('2025-03', -1 -> '2024-03')."""
    return shift(month, 12 * years)


def month_range(first: Any, last: Any) -> list[Month]:
    """Every month from ``first`` to ``last``, both included (empty if last < first)."""
    a, b = to_month(first, day_ok=True), to_month(last, day_ok=True)
    if a is None or b is None:
        return []
    return [Month.from_index(i) for i in range(a.index, b.index + 1)]


def runs(months: Iterable[Any]) -> list[tuple[Month, Month]]:
    """The runs of consecutive months held, as (first, last) of each run, in order ('2024-05 to
    2024-12, 2025-03' is two runs). Duplicates and order in the input do not matter."""
    held = sorted({m for m in (to_month(v, day_ok=True) for v in months) if m is not None})
    out: list[tuple[Month, Month]] = []
    for m in held:
        if out and m - out[-1][1] == 1:
            out[-1] = (out[-1][0], m)
        else:
            out.append((m, m))
    return out


def gaps(months: Iterable[Any]) -> list[tuple[Month, Month]]:
    """The runs of months missing between the first and last of ``months``, as (first, last)
    of each run, in order. Duplicates and order in the input do not matter."""
    held = sorted({m for m in (to_month(v, day_ok=True) for v in months) if m is not None})
    return [(a.shift(1), b.shift(-1)) for a, b in zip(held, held[1:], strict=False) if b - a > 1]


def describe_gaps(months: Iterable[Any]) -> str:
    """The gaps of :func:`gaps` in words: 'no data for Mar 2025 to May 2025; Aug 2025'; ''
    when there are none."""
    runs = gaps(months)
    if not runs:
        return ""
    parts = [a.label if a == b else f"{a.label} to {b.label}" for a, b in runs]
    return "no data for " + "; ".join(parts)


__all__ = [
    "Month",
    "describe_gaps",
    "gaps",
    "month_range",
    "parse_month",
    "runs",
    "shift",
    "shift_year",
    "to_month",
]
