"""Charts a page draws from its payload's own tables (Vega-Lite, vendored): presentation only.
Every value drawn is a published one; a suppressed value (None) is not drawn, and the table
under the chart shows it as [c]."""

from __future__ import annotations

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an id, never fetched


def _rows(records: list[dict], fields: list[str]) -> list[dict]:
    return [{f: r.get(f) for f in fields} for r in records]


def rate_bars(
    records: list[dict],
    *,
    category: str,
    value: str,
    low: str,
    high: str,
    title: str,
    axis: str,
    percent: bool = False,
) -> dict:
    """Horizontal bars of ``value`` per ``category`` with 95% interval whiskers."""
    fmt = ".0%" if percent else ",.0f"
    x = {"field": value, "type": "quantitative", "title": axis, "axis": {"format": fmt}}
    y = {
        "field": category,
        "type": "nominal",
        "title": None,
        "sort": None,
    }
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": 640,
        # the rows in descending order (a sort in the encoding conflicts between the layers)
        "data": {"values": sorted(_rows(records, [category, value, low, high]), key=_desc(value))},
        "encoding": {"y": y},
        "layer": [
            {
                "mark": {"type": "bar", "color": "#1f5f8b"},
                "encoding": {
                    "x": x,
                    "tooltip": [
                        {"field": category, "title": "Group"},
                        {"field": value, "title": axis, "format": fmt},
                        {"field": low, "title": "95% CI lower", "format": fmt},
                        {"field": high, "title": "95% CI upper", "format": fmt},
                    ],
                },
            },
            {
                "mark": {"type": "rule", "color": "#15324a"},
                "encoding": {
                    "x": {"field": low, "type": "quantitative"},
                    "x2": {"field": high},
                    "y": y,
                },
            },
        ],
    }


def monthly_line(records: list[dict], *, month: str, value: str, title: str, axis: str) -> dict:
    """One measure by month as a line with points."""
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": 640,
        "data": {"values": _rows(records, [month, value])},
        "mark": {"type": "line", "point": True, "color": "#1f5f8b"},
        "encoding": {
            "x": {"field": month, "type": "temporal", "timeUnit": "yearmonth", "title": "Month"},
            "y": {"field": value, "type": "quantitative", "title": axis},
            "tooltip": [
                {"field": month, "type": "temporal", "timeUnit": "yearmonth", "title": "Month"},
                {"field": value, "type": "quantitative", "title": axis, "format": ","},
            ],
        },
    }


def page_charts(resource: str, doc: dict) -> list[tuple[str, str, dict]]:
    """(block key, chart id, spec) for the charts ``resource``'s page draws from ``doc``."""
    out: list[tuple[str, str, dict]] = []
    if resource == "profile" and _has(doc.get("totals"), "harm_rate_per_1000"):
        out.append(
            (
                "main",
                "district_rates",
                rate_bars(
                    doc["totals"],
                    category="area_name",
                    value="harm_rate_per_1000",
                    low="harm_rate_ci_low",
                    high="harm_rate_ci_high",
                    title="Harm per 1,000 residents by district (95% CI)",
                    axis="harm per 1,000 residents",
                ),
            )
        )
    if resource == "stopsearch":
        by_month = (doc.get("tables") or {}).get("by_month")
        if _has(by_month, "searches"):
            out.append(
                (
                    "main",
                    "searches_by_month",
                    monthly_line(
                        by_month,
                        month="value",
                        value="searches",
                        title="Searches each month",
                        axis="searches",
                    ),
                )
            )
        hit = (doc.get("hit_rate_ethnicity") or {}).get("table")
        if _has(hit, "find_rate"):
            out.append(
                (
                    "hit_rate_ethnicity",
                    "find_rate",
                    rate_bars(
                        hit,
                        category="group",
                        value="find_rate",
                        low="find_rate_low",
                        high="find_rate_high",
                        title="Find rate by ethnic group (95% CI)",
                        axis="find rate",
                        percent=True,
                    ),
                )
            )
    return out


def _desc(field: str):
    return lambda r: (r[field] is None, -(r[field] or 0))


def _has(records, field: str) -> bool:
    return isinstance(records, list) and any(
        isinstance(r, dict) and r.get(field) is not None for r in records
    )
