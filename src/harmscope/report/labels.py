"""Words and numbers a partnership board reads: human labels for field names, and cell
formats (percentages as %, months as "Jan 2025", no scientific notation).

This is presentation only. The published tables keep their own column names and values (the
publishing path checks a chart's numbers against its table, and the CSV and Excel exports keep
machine-readable values); the HTML table headers, cells, chart titles, legends and tooltips are
what change. One dictionary here serves the HTML, the charts and the Excel workbook, so a label
is the same wherever it is read.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pandas as pd

# Field names with a label of their own; anything else gets the generic rules in label().
LABELS: dict[str, str] = {
    "count": "crimes",
    "rows": "rows",
    "harm": "harm (sentence-equivalent days)",
    "harm_ci_low": "harm, 95% CI lower",
    "harm_ci_high": "harm, 95% CI upper",
    "harm_rate_per_1000": "harm per 1,000 residents",
    "harm_rate_ci_low": "harm per 1,000, 95% CI lower",
    "harm_rate_ci_high": "harm per 1,000, 95% CI upper",
    "rate_per_1000": "crimes per 1,000 residents",
    "rate_ci_low": "per 1,000, 95% CI lower",
    "rate_ci_high": "per 1,000, 95% CI upper",
    "eb_rate_per_1000": "smoothed harm per 1,000 residents",
    "share": "share",
    "share_low": "share, 95% CI lower",
    "share_high": "share, 95% CI upper",
    "share_of_harm": "share of harm",
    "harm_share": "share of harm",
    "count_share": "share of crimes",
    "low": "95% CI lower",
    "high": "95% CI upper",
    "rate": "rate",
    "lad_name": "district",
    "lad_code": "district code",
    "area_name": "area",
    "area_code": "area code",
    "lsoa_code": "LSOA code",
    "lsoa_name": "LSOA",
    "lsoa11_code": "LSOA (2011) code",
    "ruc11_class": "rural-urban class (2011)",
    "urban_rural": "urban or rural",
    "imd_decile": "deprivation decile (1 = most deprived)",
    "crime_type": "crime type",
    "month_of_year": "month of year",
    "officer_defined_ethnicity": "officer-defined ethnicity",
    "self_defined_ethnicity": "self-defined ethnicity",
    "object_of_search": "object of search",
    "age_range": "age range",
    "searches": "searches",
    "arrest_rate": "arrest rate",
    "action_rate": "action rate",
    "find_rate": "find rate",
    "no_further_action_rate": "no further action",
    "find_rate_of_outcomes": "find rate among action outcomes",
    "p_value": "p-value",
    "p_holm": "p-value (Holm-adjusted)",
    "chi2_p_value": "p-value",
    "gi_z": "Gi* z-score",
    "gi_p": "Gi* p-value",
    "cell_share": "share of cells",
    "unit_share": "share of places",
    "value_share": "cumulative share",
    "top_pct": "top per cent",
    "expected": "expected crimes",
    "upper": "upper limit",
    "observed": "crimes recorded",
    "cusum": "CUSUM",
    "harm_excess": "harm above expected (days)",
    "score": "exceedance score",
    "seasonal_index": "seasonal index",
    "outcome_status": "outcome at download",
    "weight": "weight (days)",
    "weight_low": "weight, lower",
    "weight_high": "weight, upper",
    "hidden_hotspot": "hidden hotspot",
    "properties.class": "class",
    "properties.gi_z": "Gi* z-score",
    "sha256": "SHA-256",
}

# Words inside field names that read better spelt out.
_WORDS = {
    "ci": "95% CI",
    "pct": "%",
    "lad": "district",
    "lsoa": "LSOA",
    "imd": "IMD",
    "ruc11": "rural-urban class",
    "eb": "smoothed",
    "yoy": "year on year",
    "n": "number",
    "gi": "Gi*",
}

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY1 = re.compile(r"^(\d{4})-(\d{2})-01(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Raw field names as they appear inside free text (chart titles): word_word...
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def label(field: str) -> str:
    """A reader's label for a field name ("harm_rate_ci_low" -> "harm per 1,000, 95% CI lower")."""
    name = str(field)
    if name in LABELS:
        return LABELS[name]
    if "_" not in name and "." not in name:
        return name
    name = name.split(".")[-1]
    if name in LABELS:
        return LABELS[name]
    for suffix, words in (
        ("_ci_low", "95% CI lower"),
        ("_ci_high", "95% CI upper"),
        ("_low", "95% CI lower"),
        ("_high", "95% CI upper"),
    ):
        if name.endswith(suffix):
            return f"{label(name[: -len(suffix)])}, {words}"
    if name.startswith("by_"):
        return "by " + label(name[3:])
    parts = name.split("_")
    text = " ".join(_WORDS.get(p, p) for p in parts)
    return text.replace("per 1000", "per 1,000")


def relabel_text(text: str) -> str:
    """Raw field names inside a sentence or title replaced by their labels."""
    return _SNAKE.sub(lambda m: label(m.group(0)), str(text))


_MONTH_IN_TEXT = re.compile(r"(?<![\w-])(\d{4})-(0[1-9]|1[0-2])(?![\w-])")


def months_in_text(text: str) -> str:
    """'2025-01 to 2025-04' -> 'Jan 2025 to Apr 2025' inside a sentence; file names such as
    2025-01-kent-street.csv are left alone."""
    return _MONTH_IN_TEXT.sub(
        lambda m: f"{_MONTH_NAMES[int(m.group(2)) - 1]} {m.group(1)}", str(text)
    )


def month_text(value: Any) -> str | None:
    """'Jan 2025' for a first-of-month date or a 'YYYY-MM' string; None for anything else."""
    if isinstance(value, (pd.Timestamp, date)):
        if getattr(value, "day", 1) == 1 and not (
            isinstance(value, pd.Timestamp) and (value.hour or value.minute)
        ):
            return f"{_MONTH_NAMES[value.month - 1]} {value.year}"
        return None
    if isinstance(value, str):
        m = _MONTH.match(value) or _DAY1.match(value)
        if m:
            y, mo = value[:4], int(value[5:7])
            if 1 <= mo <= 12:
                return f"{_MONTH_NAMES[mo - 1]} {y}"
    return None


def is_percent_column(name: str, values: pd.Series) -> bool:
    """Shares and rates held as fractions (0..1): shown as % so tables agree with the text."""
    n = str(name)
    if "per_1000" in n or "per 1,000" in n or "_index" in n or n.startswith("p_") or "p_value" in n:
        return False
    if not re.search(r"(^|_)(share|rate|proportion|agreement)(_|$)", n) and n not in (
        "low",
        "high",
    ):
        return False
    v = pd.to_numeric(values, errors="coerce").dropna()
    return len(v) > 0 and bool((v.abs() <= 1.0 + 1e-9).all())


def is_p_column(name: str) -> bool:
    n = str(name)
    return n in ("p", "gi_p") or "p_value" in n or n.startswith("p_") or n.endswith("_p")


def small_number(v: float) -> str:
    """A number too small for the decimals shown: never scientific notation."""
    return "< 0.001" if v > 0 else "> -0.001"


def format_number(v: float, *, percent: bool = False, p_value: bool = False) -> str:
    """One float for a reader: % for shares, "< 0.001" for tiny p-values and bounds."""
    if percent:
        if v != 0 and abs(v) < 0.0005:
            return "< 0.1%" if v > 0 else "> -0.1%"
        return f"{v * 100:.1f}%"
    if p_value:
        return "< 0.001" if v < 0.001 else f"{v:.3f}"
    if v.is_integer() and abs(v) >= 1:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    if v == 0:
        return "0"
    if abs(v) < 0.001:
        return small_number(v)
    return f"{v:.3f}".rstrip("0").rstrip(".")


# CSV: machine-readable, but not 16 decimals (one rule for every CSV the tool writes)
from harmscope.export.rounding import round_for_export  # noqa: E402,F401

# -- charts -----------------------------------------------------------------------------------

_POSITION = ("x", "y", "x2", "y2", "theta", "radius")
_LEGEND = ("color", "fill", "stroke", "shape", "size", "strokeDash", "opacity")
_MONTH_LABEL_EXPR = (
    "test(/^\\d{4}-\\d{2}$/, datum.value) ? "
    "utcFormat(toDate(datum.value + '-01T00:00:00Z'), '%b %Y') : datum.value"
)


def _sub(d: dict, key: str) -> dict | None:
    """d[key] as a dict to add to, or None when the spec turned it off (``axis: null``)."""
    if key in d and d[key] is None:
        return None
    d[key] = dict(d.get(key) or {})
    return d[key]


def _field_def(d: dict, channel: str) -> None:
    field = d.get("field")
    if not isinstance(field, str):
        return
    if "title" not in d:
        d["title"] = label(field)
    elif isinstance(d.get("title"), str):
        d["title"] = relabel_text(d["title"])
    kind = d.get("type")
    if channel == "tooltip":
        if kind == "temporal":
            d.setdefault("format", "%b %Y")
        elif kind == "quantitative" and "format" not in d:
            d["format"] = ",.3~f"
    if channel in _POSITION:
        _position_axis(d, kind, field)
    if channel in _LEGEND:
        _legend(d, kind)


def _position_axis(d: dict, kind: Any, field: str) -> None:
    """Months on an x or y axis read "Jan 2025", whether dates or YYYY-MM text."""
    if kind == "temporal" and (axis := _sub(d, "axis")) is not None:
        axis.setdefault("format", "%b %Y")
    if kind in ("ordinal", "nominal") and field.split(".")[-1] == "month":
        if (axis := _sub(d, "axis")) is not None:
            axis.setdefault("labelExpr", _MONTH_LABEL_EXPR)


def _legend(d: dict, kind: Any) -> None:
    if kind == "quantitative" and "condition" not in d.get("scale", {}):
        if (legend := _sub(d, "legend")) is not None:
            legend.setdefault("format", ",.0f")
    if kind in ("nominal", "ordinal"):
        # booleans in a legend read "false/true": say what they mean
        if (legend := _sub(d, "legend")) is not None:
            legend.setdefault(
                "labelExpr",
                "datum.label == 'true' ? 'yes' : datum.label == 'false' ? 'no' : datum.label",
            )


def _encoding(enc: dict) -> None:
    _encoding_fields(enc)
    # Vega-Lite joins a range's two titles ("harm, harm, 95% CI upper"): the end of a range
    # (x2, y2) takes its start's title
    for end, start in (("x2", "x"), ("y2", "y")):
        if isinstance(enc.get(end), dict) and isinstance(enc.get(start), dict):
            enc[end]["title"] = enc[start].get("title")


def _encoding_fields(enc: dict) -> None:
    for channel, d in enc.items():
        if channel == "tooltip":
            items = d if isinstance(d, list) else [d]
            fixed = []
            for t in items:
                if isinstance(t, str):
                    t = {"field": t}
                if isinstance(t, dict):
                    _field_def(t, "tooltip")
                fixed.append(t)
            enc[channel] = fixed if isinstance(d, list) else fixed[0]
        elif isinstance(d, dict):
            _field_def(d, channel)
            cond = d.get("condition")
            if isinstance(cond, dict):
                _field_def(cond, channel)


def _walk(spec: Any) -> None:
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("data", "datasets", "config", "$schema", "transform", "params"):
                continue
            if key == "encoding" and isinstance(value, dict):
                _encoding(value)
            elif key == "title" and isinstance(value, str):
                spec[key] = relabel_text(value)
            elif key == "title" and isinstance(value, dict) and isinstance(value.get("text"), str):
                value["text"] = relabel_text(value["text"])
            else:
                _walk(value)
    elif isinstance(spec, list):
        for item in spec:
            _walk(item)


def _unit_titles(spec: Any, text: str) -> None:
    """An axis titled "harm score" (or bare "harm") says its unit."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("data", "datasets"):
                continue
            if (
                key == "title"
                and isinstance(value, str)
                and value.strip().lower()
                in (
                    "harm score",
                    "harm",
                    "harm (sentence-equivalent days)",
                )
            ):
                spec[key] = text
            else:
                _unit_titles(value, text)
    elif isinstance(spec, list):
        for item in spec:
            _unit_titles(item, text)


def _shared_axis_titles(spec: dict, *, explicit_only: bool = False) -> None:
    """Layers drawing on one axis with different titles would join them ("expected, upper,
    observed"): every layer takes one title, the first a layer states (``explicit_only``:
    only a title the chart's author wrote, before any label is added)."""
    layers = spec.get("layer")
    if not isinstance(layers, list):
        return
    for channel in ("x", "y"):
        encs = [layer.get("encoding") or {} for layer in layers if isinstance(layer, dict)]
        encs = [e for e in encs if isinstance(e.get(channel), dict) and "field" in e[channel]]
        titled = [e[channel]["title"] for e in encs if isinstance(e[channel].get("title"), str)]
        if not titled:
            continue
        for e in encs:
            if explicit_only and "title" in e[channel]:
                continue
            e[channel]["title"] = titled[0]
            if isinstance(e.get(channel + "2"), dict):  # the range's end says the same
                e[channel + "2"]["title"] = titled[0]
    for layer in layers:
        if isinstance(layer, dict):
            _shared_axis_titles(layer, explicit_only=explicit_only)


def humanize_spec(spec: dict, *, harm_unit: str = "sentence-equivalent days") -> dict:
    """A copy of a Vega-Lite spec with reader's titles on every axis, legend and tooltip, months
    as "Jan 2025", legend numbers with separators and booleans as yes/no, and harm with its
    unit. The data (and so every number the chart draws) is untouched."""
    out = copy.deepcopy(spec)
    _shared_axis_titles(out, explicit_only=True)  # a title the chart's author gave wins
    _walk(out)
    _shared_axis_titles(out)
    _unit_titles(out, f"harm ({harm_unit})")
    return out
