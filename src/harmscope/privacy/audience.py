"""Audience levels: who will read an output, and so what disclosure control it needs.

* ``internal``: analysts inside the partnership's information-sharing agreement. Full counts,
  no suppression.
* ``partner``: shared between partner agencies (police, NHS, councils) under the agreement.
  Aggregate counts are shown in full, but nothing event-level (no point maps, no record lists).
* ``public``: anyone. Counts from 1 to threshold-1 are suppressed with secondary suppression,
  rates built from suppressed counts are hidden, and nothing event-level is shown.

Presenters call :func:`get_audience` once and :func:`protect_table` on every table they
publish; for ``internal`` and ``partner`` it returns the table unchanged, marked as checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.privacy.disclosure import DEFAULT_THRESHOLD, Protected, protect_counts, protect_long

AUDIENCES = ("internal", "partner", "public")

# The mark a protected table carries in DataFrame.attrs, read by the report renderer.
CHECKED_ATTR = "harmscope_disclosure"


@dataclass(frozen=True)
class Audience:
    name: str
    suppress: bool  # small-count suppression with secondary suppression
    threshold: int
    event_level: bool  # may show individual events (points, record lists)
    description: str

    @property
    def label(self) -> str:
        return {
            "internal": "Internal: not for circulation outside the partnership's analysts",
            "partner": "Partner: for partner agencies under the information-sharing agreement",
            "public": f"Public: counts under {self.threshold} suppressed",
        }[self.name]


def get_audience(name: str, threshold: int = DEFAULT_THRESHOLD) -> Audience:
    """The audience called ``name`` (internal | partner | public)."""
    key = str(name).strip().lower()
    if key not in AUDIENCES:
        raise HarmscopeError(
            f"unknown audience {name!r}",
            where="--audience",
            fix=f"use one of: {', '.join(AUDIENCES)}",
        )
    if not isinstance(threshold, int) or threshold < 2:
        raise HarmscopeError(
            f"threshold must be an integer of 2 or more, got {threshold!r}",
            where="--threshold",
            fix="use 5 (the usual rule) or 10 (ONS research outputs)",
        )
    if key == "internal":
        return Audience(key, False, threshold, True, "full detail for partnership analysts")
    if key == "partner":
        return Audience(key, False, threshold, False, "aggregates only, no event-level detail")
    return Audience(
        key,
        True,
        threshold,
        False,
        f"counts 1-{threshold - 1} suppressed with secondary suppression; no event-level detail",
    )


def protect_table(
    df: pd.DataFrame,
    audience: Audience,
    *,
    count_cols: Sequence[str] = (),
    derived: Mapping[str, str | Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    row: str | None = None,
    col: str | None = None,
    totals: bool = True,
) -> pd.DataFrame:
    """Apply the audience's control to one table and mark it as checked.

    A wide table names its ``count_cols``; a long table names its single count column in
    ``count_cols`` plus ``row`` and ``col`` (the two dimensions of the cross-table). A table
    with no counts (``count_cols`` empty) is marked checked as it is: the caller asserts that
    it holds no count and nothing derived from a small one.
    """
    if audience.suppress and list(count_cols):
        if row is not None and col is not None:
            if len(count_cols) != 1:
                raise HarmscopeError(
                    "a long table (row= and col= given) has exactly one count column",
                    where="protect_table(count_cols=...)",
                    fix="pass count_cols=[the count column]",
                )
            prot: Protected = protect_long(
                df,
                count_cols[0],
                row=row,
                col=col,
                by=by,
                threshold=audience.threshold,
                totals=totals,
                derived=derived,
            )
        else:
            prot = protect_counts(
                df, count_cols, by=by, threshold=audience.threshold, totals=totals, derived=derived
            )
        return _mark(
            prot.frame,
            audience,
            count_cols,
            derived,
            totals=totals,
            suppressed=int(prot.mask.to_numpy().sum()),
            primary=prot.primary,
            secondary=prot.secondary,
        )
    return _mark(df.copy(), audience, count_cols, derived, suppressed=0)


def _mark(
    out: pd.DataFrame,
    audience: Audience,
    count_cols: Sequence[str],
    derived: Mapping[str, str | Sequence[str]] | None,
    **how: Any,
) -> pd.DataFrame:
    """Mark ``out`` as checked for ``audience`` (the publishing path reads this mark), with
    how it was protected (``totals``, ``suppressed``...)."""
    out.attrs[CHECKED_ATTR] = {
        "audience": audience.name,
        "threshold": audience.threshold,
        "count_cols": list(count_cols),
        "derived_cols": list(derived or {}),
        **how,
    }
    return out


def is_checked(df: pd.DataFrame) -> bool:
    """Whether a table went through :func:`protect_table`."""
    return CHECKED_ATTR in getattr(df, "attrs", {})


def apply_mask(
    df: pd.DataFrame,
    audience: Audience,
    hidden,
    *,
    count_cols: Sequence[str],
    derived: Mapping[str, str | Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Hide rows' counts (and what is derived from them) by a mask computed elsewhere.

    For tables whose pattern comes from a joint protection (``protect_linked``: the district,
    rural/urban and deprivation tables share their totals with the LSOA table). For audiences
    without suppression it only marks the table as checked.
    """
    if not audience.suppress:
        return protect_table(df, audience, count_cols=count_cols, derived=derived)
    mask = pd.Series(list(hidden), index=df.index, dtype=bool)
    out = df.copy()
    for col in count_cols:
        out[col] = pd.array(
            [None if h else int(v) for v, h in zip(df[col], mask, strict=True)], dtype="Int64"
        )
    for col in derived or {}:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Float64").mask(mask)
    return _mark(
        out, audience, count_cols, derived, totals=True, linked=True, suppressed=int(mask.sum())
    )
