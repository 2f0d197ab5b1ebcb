"""Vega-Lite specs for the stop-and-search results (rates with intervals, the concentration
curve), and the number cleaning they and the JSON summaries share."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harmscope.analysis.stopsearch.curve import curve_percentiles

VEGA_LITE = "https://vega.github.io/schema/vega-lite/v6.json"


def as_number(value: Any) -> float | None:
    """A float, or None for anything missing: JSON and Vega-Lite have no NaN."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def as_count(value: Any) -> int | None:
    """A whole count, or None where it is missing or suppressed (``pd.NA`` after disclosure)."""
    number = as_number(value)
    return None if number is None else int(number)


def _rate_tooltip(*first: dict) -> list[dict]:
    return [
        *first,
        {"field": "rate", "format": ".1%"},
        {"field": "low", "format": ".1%"},
        {"field": "high", "format": ".1%"},
        {"field": "searches"},
    ]


def monthly_rates_chart(by_month: pd.DataFrame) -> dict:
    """Vega-Lite: monthly arrest, action and find rates with their Wilson bands."""
    rows = []
    for r in by_month.itertuples():
        for name, label in (
            ("arrest_rate", "Arrest"),
            ("action_rate", "Any action"),
            ("find_rate", "Find (linked to object)"),
        ):
            rows.append(
                {
                    "month": r.value,
                    "measure": label,
                    "rate": as_number(getattr(r, name)),
                    "low": as_number(getattr(r, f"{name}_low")),
                    "high": as_number(getattr(r, f"{name}_high")),
                    "searches": as_count(r.searches),
                }
            )
    x = {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": "Month"}
    color = {"field": "measure", "type": "nominal", "title": None}
    return {
        "$schema": VEGA_LITE,
        "description": "Stop-and-search outcome rates by month with 95% Wilson intervals",
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.2},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative"},
                    "y2": {"field": "high"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "rate",
                        "type": "quantitative",
                        "title": "Share of searches",
                        "axis": {"format": "%"},
                    },
                    "color": color,
                    "tooltip": _rate_tooltip(
                        {"field": "month", "type": "temporal", "timeUnit": "yearmonth"},
                        {"field": "measure"},
                    ),
                },
            },
        ],
    }


def group_rate_chart(frame: pd.DataFrame, rate: str, title: str) -> dict:
    """Vega-Lite: one rate per group (a row of ``frame``) with its interval."""
    rows = [
        {
            "group": str(r["group"]),
            "rate": as_number(r[rate]),
            "low": as_number(r[f"{rate}_low"]),
            "high": as_number(r[f"{rate}_high"]),
            "searches": as_count(r["searches"]),
        }
        for _, r in frame.iterrows()
    ]
    y = {"field": "group", "type": "nominal", "sort": None, "title": None}
    return {
        "$schema": VEGA_LITE,
        "title": title,
        "data": {"values": rows},
        "layer": [
            {
                "mark": "rule",
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative", "axis": {"format": "%"}},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True},
                "encoding": {
                    "y": y,
                    "x": {"field": "rate", "type": "quantitative", "title": "Rate (95% Wilson)"},
                    "tooltip": _rate_tooltip({"field": "group"}),
                },
            },
        ],
    }


def curve_chart(curve: pd.DataFrame) -> dict:
    """Vega-Lite: the concentration curve at whole percents of cells (what is published)."""
    sample = curve_percentiles(curve)
    rows = []
    for r in sample.itertuples():
        rows.append({"cell_share": r.cell_share, "series": "Offences", "share": r.offence_share})
        rows.append({"cell_share": r.cell_share, "series": "Searches", "share": r.search_share})
    return {
        "$schema": VEGA_LITE,
        "title": "Concentration curve: cells ranked by violence and weapons offences",
        "data": {"values": rows},
        "mark": "line",
        "encoding": {
            "x": {
                "field": "cell_share",
                "type": "quantitative",
                "title": "Share of cells",
                "axis": {"format": "%"},
            },
            "y": {
                "field": "share",
                "type": "quantitative",
                "title": "Cumulative share",
                "axis": {"format": "%"},
            },
            "color": {"field": "series", "type": "nominal", "title": None},
        },
    }
