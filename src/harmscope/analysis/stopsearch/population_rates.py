"""Disproportionality: searches per 1,000 residents by broad ethnic group against the White
rate, and the population-by-ethnicity table it needs (supplied by the user)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import poisson_rate_ci, rate_ratio_ci
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.charts import as_number
from harmscope.analysis.stopsearch.searches import BROAD_ETHNICITY, NOT_STATED, _select_searches
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.store import Store

POPULATION_FORMAT = (
    "a CSV with columns `ethnicity` (Asian, Black, Mixed, Other, White: the five broad groups), "
    "`population` (residents of the area the searches cover; whole numbers, thousands "
    "separators allowed) and `source` (where each figure comes from, e.g. 'ONS Census 2021 "
    "TS021, Kent and Medway'; write 'estimate: how it was made' for estimates)"
)

DISPROPORTIONALITY_METHOD = (
    "Searches per 1,000 residents of each broad ethnic group ({basis} ethnicity) over the "
    "period, divided by the White rate. Searches are treated as Poisson counts: each rate has "
    "an exact (Garwood) 95% interval and each ratio a log-scale interval with "
    "SE = sqrt(1/a + 1/b). Assumptions: the population table covers the same area as the "
    "searches and is accurate (its error is not in the intervals); searches of people who live "
    "elsewhere count against local residents; 'Not stated' searches are left out, so rates are "
    "lower bounds when many decline to state. Repeat searches of the same person count each time."
)


def load_population(path: str | Path) -> pd.DataFrame:
    """Read a population-by-ethnicity CSV (format: :data:`POPULATION_FORMAT`)."""
    where = f"--population {path}"
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except FileNotFoundError:
        raise HarmscopeError("file not found", where=where, fix="check the path") from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HarmscopeError(
            f"cannot be read as CSV ({type(exc).__name__})",
            where=where,
            fix=f"supply {POPULATION_FORMAT}",
        ) from None
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = {"ethnicity", "population", "source"} - set(frame.columns)
    if missing:
        raise HarmscopeError(
            f"missing column(s) {sorted(missing)}", where=where, fix=f"supply {POPULATION_FORMAT}"
        )
    frame["ethnicity"] = frame["ethnicity"].str.strip().str.title()
    bad = sorted(set(frame.ethnicity) - set(BROAD_ETHNICITY))
    if bad:
        raise HarmscopeError(
            f"unknown ethnicity value(s) {bad}",
            where=where,
            fix=f"use the broad groups {list(BROAD_ETHNICITY)} (add up finer groups first)",
        )
    numbers = pd.to_numeric(frame["population"].str.replace(",", "").str.strip(), errors="coerce")
    if numbers.isna().any() or (numbers <= 0).any():
        rows = frame.loc[numbers.isna() | (numbers <= 0), "ethnicity"].tolist()
        raise HarmscopeError(
            f"population must be a positive number (rows {rows})",
            where=where,
            fix="write whole numbers such as 1234567",
        )
    if frame.source.isna().any() or (frame.source.str.strip() == "").any():
        raise HarmscopeError(
            "every population figure needs its source",
            where=where,
            fix="fill the `source` column (mark estimates 'estimate: how it was made')",
        )
    if frame.ethnicity.duplicated().any():
        raise HarmscopeError(
            f"ethnicity listed twice: {frame.ethnicity[frame.ethnicity.duplicated()].tolist()}",
            where=where,
            fix="one row per broad group",
        )
    if "White" not in set(frame.ethnicity):
        raise HarmscopeError(
            "no White row: ratios are against the White rate",
            where=where,
            fix="add the White population",
        )
    frame["population"] = numbers.astype(float)
    return frame[["ethnicity", "population", "source"]]


def disproportionality(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    population: str | Path | pd.DataFrame | None = None,
    basis: str = "self",
    force: str | None = None,
    alpha: float = 0.05,
) -> Result:
    """Searches per 1,000 residents by broad ethnic group and the ratio to the White rate.

    Without ``population`` the result has no ratios and its notes say why.
    """
    if basis not in ("self", "officer"):
        raise HarmscopeError(
            f"unknown basis '{basis}'", where="basis", fix="use 'self' or 'officer'"
        )
    period, sql, params = _select_searches(store, date_from, date_to, force=force)
    column = "self_broad" if basis == "self" else "officer_broad"
    counts = store.query(
        f"""{sql} SELECT {column} AS ethnicity, count(*) AS searches FROM s GROUP BY ALL""",
        params,
    )
    method = DISPROPORTIONALITY_METHOD.format(basis=f"{basis}-defined")
    if population is None:
        counts = counts.sort_values("ethnicity").reset_index(drop=True)
        return Result(
            table=counts,
            summary={"period": period.label, "basis": basis, "ratios_available": False},
            method=method,
            notes=[
                "Disproportionality ratios are missing: they need residents by ethnicity and no "
                "population table was supplied. harmscope does not package one (no ONS Census "
                "ethnicity table for Kent and Medway is bundled). Pass --population FILE, "
                f"{POPULATION_FORMAT}. The outcome (hit-rate) test needs no population."
            ],
        )
    pop = population if isinstance(population, pd.DataFrame) else load_population(population)
    frame = pd.DataFrame({"ethnicity": list(BROAD_ETHNICITY)})
    frame = frame.merge(counts, on="ethnicity", how="left").merge(pop, on="ethnicity", how="left")
    frame["searches"] = frame.searches.fillna(0).astype("int64")
    rates = [
        poisson_rate_ci(s, p / 1000, alpha) if p == p else (np.nan, np.nan)
        for s, p in zip(frame.searches, frame.population, strict=True)
    ]
    frame["per_1000"] = frame.searches / frame.population * 1000
    frame["per_1000_low"] = [r[0] for r in rates]
    frame["per_1000_high"] = [r[1] for r in rates]
    white = frame[frame.ethnicity == "White"].iloc[0]
    ratio, low, high = rate_ratio_ci(
        frame.searches, frame.population, white.searches, white.population, alpha
    )
    frame["ratio_to_white"], frame["ratio_low"], frame["ratio_high"] = ratio, low, high
    not_stated = int(counts.loc[counts.ethnicity == NOT_STATED, "searches"].sum())
    notes = (
        [f"{not_stated} searches with ethnicity not stated are left out of the rates."]
        if not_stated
        else []
    )
    if period.months != 12:
        notes.append(f"Rates are per 1,000 residents over {period.months} months, not a year.")
    summary = {
        "period": period.label,
        "basis": basis,
        "ratios_available": True,
        "not_stated_searches": not_stated,
    }
    for r in frame.itertuples():
        if r.ethnicity != "White":
            summary[f"ratio_{r.ethnicity.lower()}"] = as_number(r.ratio_to_white)
            summary[f"ratio_{r.ethnicity.lower()}_ci"] = [
                as_number(r.ratio_low),
                as_number(r.ratio_high),
            ]
    return Result(table=frame, summary=summary, method=method, notes=notes)
