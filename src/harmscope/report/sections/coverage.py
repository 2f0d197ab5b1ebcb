"""Data coverage and caveats: which months are in the store, what could not be placed, and how
far the outcome columns are a snapshot (see shared SOURCES.md section 4).

Needs only the store, so it is always the first section.
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.profile import coverage_figures
from harmscope.report import vegalite as vl
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import (
    hidden_months,
    para,
    scope,
    shift_month,
    value_text,
)
from harmscope.store.queries import report as queries

ORDER = 10

# Outcome values that mean "not final yet" at download time (SOURCES.md section 4).
PENDING = (
    "Under investigation",
    "Awaiting court outcome",
    "Court result unavailable",
    "Status update unavailable",
)


def _months(ctx: ReportContext) -> list[str]:
    out, d = [], ctx.date_from
    while d <= ctx.date_to:
        out.append(d.strftime("%Y-%m"))
        d = shift_month(d, 1)
    return out


def build(ctx: ReportContext) -> Section | None:
    sc = scope(ctx)
    store = ctx.store
    expected = _months(ctx)

    per_month = queries.rows_per_month(store, sc)
    held = queries.street_months_held(store, sc.force) if sc.force else per_month.month.tolist()
    months = pd.DataFrame({"month": expected})
    months = months.merge(per_month, on="month", how="left")
    months["rows"] = months["rows"].fillna(0).astype("int64")
    months["file_in_store"] = months["month"].isin(held)
    missing = months.loc[~months.file_in_store, "month"].tolist()
    if months["rows"].sum() == 0:
        return Section(
            key="coverage",
            title="Data coverage and caveats",
            html=para(
                f"The store holds no street-level crime for {sc.label} between {ctx.month_from} "
                f"and {ctx.month_to}. Load the police.uk files for those months with "
                "`harmscope ingest`."
            ),
            disclosure_checked=True,
        )

    # The same monthly counts as the trend section: one joint protection (see _util).
    hidden = hidden_months(ctx)
    months_pub = ctx.protect_masked(months, months["month"].isin(hidden), count_cols=["rows"])
    chart_df = months_pub.assign(
        status=months_pub["file_in_store"].map({True: "in store", False: "missing"})
    )
    month_enc = {
        "x": {"shorthand": "month:O", "title": "month"},
        "y": {"shorthand": "rows:Q", "title": "street-level crimes recorded"},
        "color": {
            "shorthand": "status:N",
            "scale": {"domain": ["in store", "missing"], "range": ["#1f5f8b", "#c0392b"]},
            "title": None,
        },
        "tooltip": ["month", "rows", "status"],
    }
    month_chart = vl.chart(
        chart_df,
        [("bar", {}, month_enc)],
        width=720,
        height=180,
        title="Rows per month in the area",
    )

    # Placement: over the whole force, because rows not placed in a district cannot be
    # attributed to any one district.
    placement = queries.placement_counts(store, sc.force, ctx.date_from, ctx.date_to)
    placement_pub = ctx.protect(placement, count_cols=["rows"])

    outcomes = queries.outcome_status_by_month(store, sc, PENDING)
    if hidden:
        # A month whose total is suppressed must not be rebuilt from its outcome breakdown.
        outcomes = outcomes[~outcomes["month"].isin(hidden)].reset_index(drop=True)
    outcomes_pub = ctx.protect(outcomes, count_cols=["rows"], row="month", col="outcome_status")
    outcome_enc = {
        "x": {"shorthand": "month:O", "title": "month"},
        "y": {"shorthand": "rows:Q", "title": "crimes with a provisional outcome", "stack": "zero"},
        "color": {"shorthand": "outcome_status:N", "title": "outcome at download"},
        "tooltip": ["month", "outcome_status", "rows"],
    }
    outcome_chart = vl.chart(
        outcomes_pub[outcomes_pub.outcome_status.isin(PENDING)],
        [("bar", {}, outcome_enc)],
        width=720,
        height=200,
        title="Outcomes that were not final when the file was published",
    )

    sources = queries.street_source_files(store, sc.force, ctx.date_from, ctx.date_to)
    sources_pub = ctx.protect(sources, count_cols=["rows"])

    total_rows = value_text(months_pub["rows"].sum() if months_pub["rows"].notna().all() else None)
    figures = coverage_figures(placement, outcomes, PENDING)
    unplaced, placed_point = figures["unplaced"], figures["placed_by_point"]
    notes = []
    if missing:
        notes.append(
            f"{len(missing)} of {len(expected)} months asked for are not in the store: "
            f"{_ranges(missing)}. Totals and rates below cover only the months present; trends "
            "skip the gap rather than join across it."
        )
    if ctx.public and (unplaced < ctx.threshold):
        unplaced_txt = "a few"
    else:
        unplaced_txt = f"{unplaced:,}"
    notes.append(
        f"{unplaced_txt} rows of {sc.force or 'the area'} in the period could not be placed in a "
        "district (most have no location at all); they count in force totals but in no district, "
        "LSOA, map, rural/urban or deprivation figure."
    )
    if placed_point:
        notes.append(
            "From 2022 police.uk uses 2021 LSOA codes; the reference data here are 2011-based, so "
            "rows with a 2021-only code were placed by their point in the 2011 LSOA polygons "
            f"({'many' if ctx.public else f'{placed_point:,}'} rows)."
        )
    if (share := figures["pending_share"]) is not None:
        notes.append(
            f"Outcomes are a snapshot taken when each file was downloaded: {share:.0%} of rows carry a "
            "provisional outcome (Under investigation, Awaiting court outcome, Court result or Status "
            "update unavailable). Older months look more 'finished' than recent ones, so outcome "
            "rates are not compared across months or sources in this report."
        )
    html = para(
        f"This report reads {total_rows} street-level crimes recorded by police in {sc.label} "
        f"from {ctx.month_from} to {ctx.month_to}, as published on police.uk.",
        "Locations on police.uk are snapped to anonymised points near the event, and each crime is "
        "published once, in the month it was recorded.",
    )
    return Section(
        key="coverage",
        title="Data coverage and caveats",
        html=html,
        charts={"months": month_chart, "outcome_snapshot": outcome_chart},
        tables={
            "months": months_pub,
            "outcome_snapshot": outcomes_pub,
            "placement": placement_pub,
            "source_files": sources_pub,
        },
        captions={
            "months": "Red bars mark months with no police.uk file in the store.",
            "outcome_snapshot": "Provisional outcomes by month, as published (a download-time snapshot).",
        },
        notes=notes,
        method=(
            "Months asked for are compared with the store's partitions table (one police.uk file "
            "per force and month). Placement counts come from the ingest's derived columns "
            "(placed_by, out_of_area). Files are listed with the first 12 characters of their SHA-256."
        ),
        disclosure_checked=True,
    )


def _ranges(months: list[str]) -> str:
    """'2024-05 to 2024-12, 2025-03' from a sorted list of YYYY-MM."""
    from harmscope.months import runs

    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in runs(months))
