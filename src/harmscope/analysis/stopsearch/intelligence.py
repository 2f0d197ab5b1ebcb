"""Do searches follow violence? The share of searches in violence and weapons hot cells
against the share of those offences there, the concentration curve, and searches per offence
by district."""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.cells import _cells_from_hotspots, cells_own_grid, to_bng
from harmscope.analysis.stopsearch.charts import curve_chart
from harmscope.analysis.stopsearch.curve import (
    concentration_curve,
    concentration_index,
    curve_percentiles,
)
from harmscope.analysis.stopsearch.districts import _searches_per_offence_by_district
from harmscope.analysis.stopsearch.located import VIOLENCE_TYPES, offence_filter
from harmscope.analysis.stopsearch.selection import _crime_period, _resolve_period
from harmscope.errors import HarmscopeError
from harmscope.store.queries.stopsearch import search_forces, search_points

if TYPE_CHECKING:
    from harmscope.store import Store

INTELLIGENCE_METHOD = (
    "Searches and {types} offences are counted on {grid} Hot cells are the top k% of the "
    "cells holding at least one offence, ranked by offence count (ties broken by cell id), "
    "and, where the Gi* analysis is available, the cells it classes as hot at 95% or 99% after "
    "Holm adjustment. For each set the share of located searches inside it is set against the "
    "share of offences there: a ratio near 1 or above means searches go where these offences "
    "are. The search share has a 95% Wilson interval (searches treated as independent draws; "
    "police.uk snaps locations to nearby points, so cell edges are blurred by up to a few hundred "
    "metres). The concentration curve ranks cells by offences and plots the cumulative share of "
    "offences and of searches (published at whole percents of cells); its concentration index "
    "(2 x area under the curve - 1) is 0 when searches ignore where offences are and approaches 1 "
    "when they all fall in the busiest cells."
)


def _searched_force(store: Store, period) -> str | None:
    """The one force whose searches fall in ``period``: its offences are the comparison.

    Comparing one force's searches with several forces' offences would be meaningless, so
    several forces without ``force`` is an error."""
    forces = search_forces(store, period.start, period.end)
    if len(forces) > 1:
        raise HarmscopeError(
            f"searches from {len(forces)} forces in {period.label} ({', '.join(forces)})",
            where="--force",
            fix=f"pass --force, e.g. --force '{forces[0]}'",
        )
    return forces[0] if forces else None


def intelligence_led(
    store: Store,
    search_from: str | date | None = None,
    search_to: str | date | None = None,
    *,
    crime_from: str | date | None = None,
    crime_to: str | date | None = None,
    force: str | None = None,
    crime_types: tuple[str, ...] = VIOLENCE_TYPES,
    cell_m: float = 500.0,
    top_percents: tuple[float, ...] = (1.0, 5.0, 10.0),
    hotspot_source: str = "auto",
    alpha: float = 0.05,
) -> Result:
    """Share of searches in violence and weapons hot cells against the share of offences there.

    Crime months default to the search months when the store holds street crimes for them,
    otherwise to every street-crime month, and the result then says the periods differ.
    ``hotspot_source``: 'gistar' uses the Gi* hotspots of :mod:`harmscope.analysis.hotspots`
    on its grid clipped to the packaged district boundaries (and adds a Gi* row); 'grid' uses
    a plain grid over the offences' extent; 'auto' tries the first and falls back to the second.
    """
    _check_options(hotspot_source, cell_m)
    s_period = _resolve_period(store, search_from, search_to, force=force)
    force = force or _searched_force(store, s_period)
    c_period = _crime_period(store, s_period, crime_from, crime_to)
    searches = search_points(store, s_period.start, s_period.end, force)
    where, params = offence_filter(c_period, crime_types, force)
    crimes = store.query(
        f"""SELECT longitude, latitude, count(*) AS n FROM street_crimes
        WHERE {where} GROUP BY ALL""",
        params,
    )
    total_searches = int(searches.n.sum())
    unlocated_searches = int(
        searches.loc[searches.longitude.isna() | searches.latitude.isna(), "n"].sum()
    )
    total_crimes = int(crimes.n.sum())
    crimes = crimes.dropna(subset=["longitude", "latitude"])
    searches = searches.dropna(subset=["longitude", "latitude"])
    if crimes.empty:
        raise HarmscopeError(
            f"no located {' / '.join(crime_types)} offences in {c_period.label}",
            where="street_crimes",
            fix="ingest the police.uk street files, or pass crime_from/crime_to with data",
        )
    crimes = to_bng(crimes)
    searches = to_bng(searches) if len(searches) else searches.assign(x=[], y=[])
    cells, outside_searches, grid_text = _cells(
        store, c_period, crime_types, cell_m, searches, crimes, force, hotspot_source
    )
    cells = cells.sort_values(["offences", "searches", "cell"], ascending=[False, False, True])
    cells = cells.reset_index(drop=True)
    in_area_searches = int(cells.searches.sum())
    crime_cells = cells[cells.offences > 0]
    table = _hot_set_table(cells, crime_cells, top_percents, in_area_searches, alpha)
    curve = concentration_curve(cells)
    index = concentration_index(curve)
    periods_match = s_period.start <= c_period.end and c_period.start <= s_period.end
    notes = []
    if not periods_match:
        notes.append(
            f"Different periods: searches are from {s_period.label} and offences from "
            f"{c_period.label}. This shows whether searches fell where these offences are "
            "recorded in the later period, not whether searches were targeted at the time. "
            "Use matching months when both are available."
        )
    notes.append(
        f"Of {total_searches} searches, {unlocated_searches} have no location and "
        f"{outside_searches} fall outside the grid; {in_area_searches} are compared."
    )
    summary = {
        "search_period": s_period.label,
        "crime_period": c_period.label,
        "periods_match": bool(periods_match),
        "crime_types": list(crime_types),
        "cell_m": cell_m,
        "cells_with_offences": len(crime_cells),
        "offences": total_crimes,
        "offences_located": int(crimes.n.sum()),
        "searches": total_searches,
        "searches_compared": in_area_searches,
        "searches_without_location": unlocated_searches,
        "searches_outside_area": outside_searches,
        "concentration_index_searches": index["searches"],
        "concentration_index_offences": index["offences"],
    }
    summary.update(_hot_set_summary(table))
    summary["hotspot_source"] = "gistar" if "gistar_hot" in cells else "grid"
    tables = {"concentration_curve": curve_percentiles(curve), "cells": cells}
    district = _searches_per_offence_by_district(
        store, s_period, c_period, force, crime_types, alpha
    )
    if district is not None:
        tables["by_district"], summary["searches_outside_districts"] = district
    else:
        notes.append(
            "Searches per offence by district are not given: placing search points in districts "
            "needs harmscope.reference.place_points, which is not available in this installation."
        )
    return Result(
        table=table,
        summary=summary,
        charts={"concentration_curve": curve_chart(curve)},
        method=INTELLIGENCE_METHOD.format(types=" and ".join(crime_types), grid=grid_text),
        tables=tables,
        notes=notes,
        title="Stop and search: searches in violence hot cells",
    )


def _hot_set_row(
    definition: str,
    top_percent: float | None,
    hot_cells: int,
    hot: pd.DataFrame,
    all_offences: float,
    in_area_searches: int,
    alpha: float,
) -> dict[str, Any]:
    """One set of hot cells: its share of offences, and its share of searches with a Wilson
    interval."""
    s_in = int(hot.searches.sum())
    share_s, ci = rate_with_ci(s_in, in_area_searches, alpha)
    share_c = float(hot.offences.sum()) / all_offences
    return {
        "definition": definition,
        "top_percent": top_percent,
        "hot_cells": hot_cells,
        "offences_in_hot_cells": int(hot.offences.sum()),
        "offence_share": share_c,
        "searches_in_hot_cells": s_in,
        "search_share": share_s,
        "search_share_low": ci[0],
        "search_share_high": ci[1],
        "search_to_offence_ratio": (share_s / share_c) if share_s is not None and share_c else None,
    }


def _check_options(hotspot_source: str, cell_m: float) -> None:
    if hotspot_source not in ("auto", "gistar", "grid"):
        raise HarmscopeError(
            f"unknown hotspot source {hotspot_source!r}",
            where="hotspot_source",
            fix="use 'auto', 'gistar' or 'grid'",
        )
    if cell_m <= 0:
        raise HarmscopeError(
            f"cell size must be positive, got {cell_m}", where="cell_m", fix="use e.g. 500"
        )


def _cells(store, c_period, crime_types, cell_m, searches, crimes, force, hotspot_source):
    """(cells, searches outside the grid, the grid's description): the Gi* grid where asked
    for and available, else a plain grid over the offences' extent."""
    grid = None
    if hotspot_source in ("auto", "gistar"):
        grid = _cells_from_hotspots(store, c_period, crime_types, cell_m, searches, force)
        if grid is None and hotspot_source == "gistar":
            raise HarmscopeError(
                "the Gi* hotspot analysis (harmscope.analysis.hotspots) is not available",
                where="hotspot_source",
                fix="use hotspot_source='grid'",
            )
    if grid is None:
        grid = cells_own_grid(crimes, searches, cell_m)
    return grid


def _hot_set_table(
    cells: pd.DataFrame,
    crime_cells: pd.DataFrame,
    top_percents: tuple[float, ...],
    in_area_searches: int,
    alpha: float,
) -> pd.DataFrame:
    """One row per hot set: each top k% of cells with an offence, then the Gi* hot cells."""
    n_crime_cells = len(crime_cells)
    all_offences = float(crime_cells.offences.sum())
    rows = []
    for pct in top_percents:
        k = max(1, int(math.ceil(n_crime_cells * pct / 100)))
        rows.append(
            _hot_set_row(
                f"top {pct:g}% of cells with an offence",
                pct,
                k,
                crime_cells.iloc[:k],
                all_offences,
                in_area_searches,
                alpha,
            )
        )
    if "gistar_hot" in cells:
        hot = cells[cells.gistar_hot]
        row = _hot_set_row(
            "Gi* hot spot (95% or 99%, Holm-adjusted)",
            None,
            int(len(hot)),
            hot,
            all_offences,
            in_area_searches,
            alpha,
        )
        # A Gi* set holding no searches gets no ratio where a top-k% row gets 0: kept as
        # released (results published before the split must not change).
        if not row["search_share"]:
            row["search_to_offence_ratio"] = None
        rows.append(row)
    return pd.DataFrame(rows)


def _hot_set_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Each hot set's cells, offence share and search share (with its interval), keyed
    ``top5pct_...`` or ``gistar_hot_...``."""
    summary: dict[str, Any] = {}
    for r in table.to_dict(orient="records"):
        key = (
            "gistar_hot"
            if r["top_percent"] is None or pd.isna(r["top_percent"])
            else (f"top{r['top_percent']:g}pct")
        )
        summary[f"{key}_cells"] = r["hot_cells"]
        summary[f"{key}_offence_share"] = r["offence_share"]
        summary[f"{key}_search_share"] = r["search_share"]
        summary[f"{key}_search_share_ci"] = [r["search_share_low"], r["search_share_high"]]
    return summary
