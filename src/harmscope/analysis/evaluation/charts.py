"""Vega-Lite specs: observed vs counterfactual, placebo distribution, pre-period fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.result import frame_records

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"


def observed_vs_counterfactual(series: pd.DataFrame, start: pd.Timestamp, title: str) -> dict:
    long = series.melt(
        id_vars="month", value_vars=["observed", "counterfactual"], var_name="series"
    )
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": 560,
        "height": 240,
        "layer": [
            {
                "data": {"values": frame_records(long)},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "month", "type": "temporal", "title": "month"},
                    "y": {"field": "value", "type": "quantitative", "title": "crimes per month"},
                    "color": {"field": "series", "type": "nominal"},
                    "strokeDash": {"field": "series", "type": "nominal"},
                    # no line across months missing from the data
                    "detail": {"field": "block", "type": "nominal"},
                },
            },
            {
                "data": {"values": [{"start": start.isoformat()}]},
                "mark": {"type": "rule", "color": "grey"},
                "encoding": {"x": {"field": "start", "type": "temporal"}},
            },
        ],
    }


def placebo_distribution(
    placebos: pd.DataFrame, scheme_irr: float, centre_irr: float, title: str
) -> dict:
    """Each placebo unit's IRR (centred like the scheme's) and the scheme's own, on one axis."""
    vals = [
        {"area": str(a), "irr": float(v) / centre_irr, "kind": "placebo"}
        for a, v in zip(placebos["area"], np.exp(placebos["log_ratio"]), strict=True)
        if np.isfinite(v)
    ]
    vals.append({"area": "scheme", "irr": float(scheme_irr), "kind": "scheme"})
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": 560,
        "height": 120,
        "data": {"values": vals},
        "mark": {"type": "tick", "thickness": 2},
        "encoding": {
            "x": {
                "field": "irr",
                "type": "quantitative",
                "title": "IRR (observed / synthetic, centred)",
                "scale": {"zero": False},
            },
            "color": {"field": "kind", "type": "nominal"},
            "tooltip": [{"field": "area"}, {"field": "irr", "format": ".3f"}],
        },
    }


def pre_fit(series: pd.DataFrame, start: pd.Timestamp, title: str) -> dict:
    pre = series[series["month"] < start].assign(gap=lambda d: d["observed"] - d["counterfactual"])
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": 560,
        "height": 160,
        "data": {"values": frame_records(pre[["month", "gap"]])},
        "mark": "bar",
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "timeUnit": "yearmonth", "title": "month"},
            "y": {"field": "gap", "type": "quantitative", "title": "observed - counterfactual"},
        },
    }


def evaluation_charts(results: list[dict], start: pd.Timestamp, name: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in results:
        s = r.get("series")
        if not isinstance(s, pd.DataFrame):
            continue
        m = r["method"]
        out[f"{m}_observed_vs_counterfactual"] = observed_vs_counterfactual(
            s, start, f"{name}: observed and counterfactual ({m})"
        )
        out[f"{m}_pre_fit"] = pre_fit(s, start, f"{name}: pre-period fit ({m})")
        if isinstance(r.get("placebos"), pd.DataFrame):
            out[f"{m}_placebos"] = placebo_distribution(
                r["placebos"],
                r["irr"],
                r["placebo_median_irr"],
                f"{name}: placebo-in-space effects",
            )
    return out
