"""Vega-Lite specs for the report's simple charts, written as plain dicts.

Altair is only a dict builder for these charts, and importing and running it cost the report
more than half a second (issue 18). :func:`chart` writes the very dict Altair's ``to_dict()``
gives for ``alt.Chart(df).mark_<type>(**mark).encode(**encoding).properties(**props)`` (or a
layer of such charts over one table): the same key order (channel properties sorted, the
mark's type first), the field types Altair infers for a bare field name, the data sanitised
as Altair does and named by the same hash. Anything outside that plain rule (a category or
date column, a field name Altair would parse, more rows than Altair allows inline) is built
through Altair itself (:func:`altair_chart`), so the output is the same either way.
tests/test_report_speed.py compares the two on the report's own tables.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

# What Altair 6 writes as "$schema" (tests/test_report_speed.py holds it to altair.SCHEMA_URL).
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300}}
_MAX_ROWS = 5000  # Altair refuses inline data over this many rows (MaxRowsError)
_TYPES = {"N": "nominal", "Q": "quantitative", "O": "ordinal", "T": "temporal"}
_PLAIN_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*$")  # no ":", ".", "[" Altair would parse
_QUANT = {"floating", "mixed-integer-float", "integer", "mixed-integer", "complex"}
_NOMINAL = {"string", "bytes", "boolean", "mixed", "unicode"}
# encoding channel -> Altair's class (for the Altair path)
_CLASSES = {
    "x": "X",
    "y": "Y",
    "x2": "X2",
    "y2": "Y2",
    "color": "Color",
    "size": "Size",
    "xOffset": "XOffset",
    "yOffset": "YOffset",
    "strokeDash": "StrokeDash",
    "tooltip": "Tooltip",
}


class _Fallback(Exception):
    """The plain rule does not cover this chart: Altair builds it."""


def step(n: int) -> dict:
    """``alt.Step(n)``."""
    return {"step": n}


def chart(
    df: pd.DataFrame,
    layers: list[tuple[str, dict, dict]],
    **properties: Any,
) -> dict:
    """The spec of one chart (one layer) or a layered chart over ``df``.

    ``layers``: (mark type, mark properties, encoding) per layer, where an encoding value is
    a shorthand (``"month:O"``, or a bare field name whose type is inferred), a dict with a
    ``"shorthand"`` and further channel properties, or (``tooltip``) a list of those.
    ``properties``: width, height (a number or :func:`step`), title."""
    try:
        return _plain(df, layers, properties)
    except _Fallback:
        return altair_chart(df, layers, **properties)


def altair_chart(df: pd.DataFrame, layers: list[tuple[str, dict, dict]], **properties) -> dict:
    """:func:`chart` built through Altair (the reference the plain dict reproduces)."""
    import altair as alt

    def channel(name: str, value):
        cls = getattr(alt, _CLASSES[name])
        if isinstance(value, str):
            return cls(value)
        kw = {k: v for k, v in value.items() if k != "shorthand"}
        return cls(value["shorthand"], **kw)

    built = []
    for mark, mark_props, enc in layers:
        kw = {}
        for name, value in enc.items():
            if name == "tooltip":
                kw[name] = [channel(name, v) for v in value]
            else:
                kw[name] = channel(name, value)
        built.append(getattr(alt.Chart(df), f"mark_{mark}")(**mark_props).encode(**kw))
    out = built[0] if len(built) == 1 else alt.layer(*built)
    props = dict(properties)
    if isinstance(props.get("height"), dict):
        props["height"] = alt.Step(**props["height"])
    return out.properties(**props).to_dict()


def _plain(df: pd.DataFrame, layers, properties: dict) -> dict:
    if len(df) > _MAX_ROWS or not all(isinstance(c, str) for c in df.columns):
        raise _Fallback
    if not df.columns.is_unique or not len(df.columns):
        raise _Fallback
    values = _records(df)
    specs = [
        {"mark": _mark(mark, props), "encoding": _encoding(df, enc)} for mark, props, enc in layers
    ]
    name = _dataset_name(values)
    out: dict[str, Any] = {"config": copy.deepcopy(_CONFIG)}
    if len(specs) == 1:
        out["data"] = {"name": name}
        out.update(specs[0])
    else:
        out["layer"] = specs
        out["data"] = {"name": name}
    for key in sorted(properties):
        value = properties[key]
        out[key] = dict(value) if isinstance(value, dict) else value
    out["$schema"] = SCHEMA_URL
    out["datasets"] = {name: values}
    return out


def _mark(mark: str, props: dict) -> dict:
    return {"type": mark, **{k: props[k] for k in sorted(props)}}


def _encoding(df: pd.DataFrame, enc: dict) -> dict:
    out = {}
    for name in sorted(enc):
        value = enc[name]
        if name == "tooltip":
            out[name] = [_channel(df, name, v) for v in value]
        else:
            out[name] = _channel(df, name, value)
    return out


def _channel(df: pd.DataFrame, name: str, value) -> dict:
    if name not in _CLASSES:
        raise _Fallback
    value = {"shorthand": value} if isinstance(value, str) else dict(value)
    field, _, code = value.pop("shorthand").partition(":")
    if not _PLAIN_FIELD.match(field) or (code and code not in _TYPES):
        raise _Fallback
    out = {"field": field, **{k: _sorted(v) for k, v in value.items()}}
    if name not in ("x2", "y2"):  # the second positions take no type (Altair drops it)
        out["type"] = _TYPES[code] if code else _inferred(df, field)
    return {k: out[k] for k in sorted(out)}


def _sorted(value):
    """A nested property (axis, scale) with its keys in Altair's (sorted) order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        if not all(type(v) in (str, int, float, bool) for v in value):
            raise _Fallback
        return list(value)
    if value is not None and type(value) not in (str, int, float, bool):
        raise _Fallback
    return value


def _inferred(df: pd.DataFrame, field: str) -> str:
    """The type Altair infers for a bare field name from its column."""
    if field not in df.columns:
        raise _Fallback
    kind = pd.api.types.infer_dtype(df[field], skipna=False)
    if kind in _QUANT:
        return "quantitative"
    if kind in _NOMINAL:
        return "nominal"
    raise _Fallback


def _records(df: pd.DataFrame) -> list[dict]:
    """The rows as Altair's ``sanitize_pandas_dataframe`` then ``to_dict("records")`` give
    them, for int, float, bool and object/string columns."""
    cols = []
    for name in df.columns:
        col = df[name]
        dtype = col.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iu":
            cols.append([int(v) for v in col.to_numpy()])
        elif isinstance(dtype, np.dtype) and dtype.kind == "f":
            cols.append([v if math.isfinite(v) else None for v in col.to_numpy().tolist()])
        elif isinstance(dtype, np.dtype) and dtype.kind == "b":
            cols.append([bool(v) for v in col.to_numpy()])
        elif str(dtype) in ("object", "string", "str"):
            vals = col.astype(object).tolist()
            if not all(v is None or type(v) in (str, int, float, bool) for v in vals):
                raise _Fallback
            cols.append([None if v is None or (type(v) is float and v != v) else v for v in vals])
        else:
            raise _Fallback
    names = list(df.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


def _dataset_name(values: list[dict]) -> str:
    """Altair's name for inline data: a hash of its JSON."""
    if values == [{}]:
        return "empty"
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]
