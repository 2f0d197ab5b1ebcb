"""harmscope.months: one month type, parser, shift and gap description.

The expected answers are written out by hand or come from the standard library's own calendar
(datetime.date, pandas Period arithmetic), not from the module under test.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmscope.errors import HarmscopeError
from harmscope.months import (
    Month,
    describe_gaps,
    gaps,
    month_range,
    parse_month,
    runs,
    shift,
    shift_year,
    to_month,
)

months = st.builds(Month, st.integers(1900, 2200), st.integers(1, 12))


@pytest.mark.parametrize(
    "value",
    [
        "2025-03",
        " 2025-03 ",
        date(2025, 3, 17),
        datetime(2025, 3, 2, 13, 5),
        pd.Timestamp("2025-03-09"),
        pd.Period("2025-03", freq="M"),
        np.datetime64("2025-03-20"),
        Month(2025, 3),
    ],
)
def test_every_kind_of_month_reads_as_one_month(value):
    assert to_month(value) == Month(2025, 3)
    assert parse_month(value, "--from") == date(2025, 3, 1)
    assert to_month(value, day_ok=True) == Month(2025, 3)


def test_a_day_is_read_only_where_allowed():
    assert to_month("2025-03-31", day_ok=True) == Month(2025, 3)
    with pytest.raises(HarmscopeError, match="not a month"):
        to_month("2025-03-01", "--from")  # the command line takes months
    with pytest.raises(HarmscopeError, match="not a month"):
        to_month("2025-02-30", "scheme start", day_ok=True)


@pytest.mark.parametrize("value", ["2025-13", "2025-00", "2025-3", "March 2025", "2025-02-30", "x"])
def test_text_that_is_not_a_month_names_where_it_came_from(value):
    with pytest.raises(HarmscopeError, match="not a month") as err:
        to_month(value, "--to")
    assert err.value.where == "--to"


def test_empty_is_none():
    assert to_month(None) is None and to_month("") is None and parse_month("  ", "--from") is None


def test_shift_keeps_the_kind_it_was_given():
    assert shift("2025-01", -1) == "2024-12"
    assert shift(date(2025, 1, 15), 13) == date(2026, 2, 1)
    assert shift(Month(2025, 12), 1) == Month(2026, 1)
    assert shift_year("2025-03", -1) == "2024-03"


def test_gaps_and_their_description():
    held = ["2025-01", "2025-02", "2025-06", "2025-08", "2025-09"]
    assert gaps(held) == [(Month(2025, 3), Month(2025, 5)), (Month(2025, 7), Month(2025, 7))]
    assert describe_gaps(held) == "no data for Mar 2025 to May 2025; Jul 2025"
    assert describe_gaps(["2025-01", "2025-02"]) == ""
    assert gaps([]) == [] and gaps(["2025-01"]) == []
    # order and duplicates do not matter
    assert gaps(list(reversed(held)) + held) == gaps(held)


def test_runs_of_held_months():
    held = ["2025-03", "2024-05", "2024-06", "2024-07", "2025-03", "2025-05"]
    assert [(str(a), str(b)) for a, b in runs(held)] == [
        ("2024-05", "2024-07"),
        ("2025-03", "2025-03"),
        ("2025-05", "2025-05"),
    ]
    assert runs([]) == []


def test_month_range_includes_both_ends():
    assert [str(m) for m in month_range("2024-11", date(2025, 2, 1))] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    assert month_range("2025-02", "2025-01") == []


def test_labels():
    assert str(Month(987, 1)) == "0987-01"
    assert Month(2025, 3).label == "Mar 2025"
    with pytest.raises(ValueError):
        Month(2025, 13)


# -- properties, checked against pandas' own monthly calendar --------------------------------


@given(months, st.integers(-3000, 3000))
def test_shift_agrees_with_pandas_periods(m, n):
    expected = pd.Period(str(m), freq="M") + n
    if not 1 <= expected.year <= 9999:
        return
    assert m.shift(n) == Month(expected.year, expected.month)
    assert m.shift(n) - m == n
    assert m.shift(n).shift(-n) == m


@given(months)
def test_parse_round_trips_through_text_date_and_period(m):
    assert to_month(str(m)) == m
    assert to_month(m.first_day) == m
    assert to_month(pd.Period(str(m), freq="M")) == m
    assert m.first_day == date(m.year, m.month, 1)


@given(st.sets(months, max_size=30))
def test_gaps_are_exactly_the_missing_months(held):
    """Every month between the first and last held is either held or inside exactly one gap."""
    runs = gaps(held)
    missing = {x for a, b in runs for x in month_range(a, b)}
    assert sum(len(month_range(a, b)) for a, b in runs) == len(missing)  # runs do not overlap
    if held:
        span = set(month_range(min(held), max(held)))
        assert missing == span - held
    else:
        assert runs == []
    # runs are maximal: the month before and after each run is held
    for a, b in runs:
        assert a.shift(-1) in held and b.shift(1) in held


@given(st.sets(months, max_size=30))
def test_held_runs_and_gaps_tile_the_span(held):
    """Runs of held months and the gaps between them alternate and cover first..last exactly."""
    pieces = sorted(runs(held) + gaps(held))
    covered = [m for a, b in pieces for m in month_range(a, b)]
    assert covered == (month_range(min(held), max(held)) if held else [])
    assert {m for a, b in runs(held) for m in month_range(a, b)} == held
