"""The result object every analysis returns (esda/statsmodels style, flat attributes)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


def _jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars and NaN into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def frame_records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-safe dicts (NaN -> None, dates -> ISO strings)."""
    return [_jsonable(r) for r in df.to_dict(orient="records")]


@dataclass
class Result:
    """What an analysis hands back.

    Attributes
    ----------
    table : the main table (one row per unit of analysis).
    summary : headline figures, a flat dict of JSON-safe values; intervals as ``*_ci`` pairs.
    charts : Vega-Lite specs by name (dicts), ready for a report or a notebook.
    method : what was done, its assumptions and its uncertainty, in plain words.
    tables : further named tables (for example per-district or per-month breakdowns).
    notes : announcements and caveats (automatic defaults chosen, data gaps).
    extras : declared non-tabular outputs a presenter needs (e.g. ``weights``, a hotspot
        analysis's neighbour matrix, for disclosure control of z-scores). Not serialised.
    """

    table: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)
    method: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, with_table: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": _jsonable(self.summary),
            "method": self.method,
            "notes": list(self.notes),
        }
        if with_table:
            out["table"] = frame_records(self.table)
        return out

    def to_json(self, path: str | Path | None = None, *, with_table: bool = True) -> str:
        text = json.dumps(self.to_dict(with_table=with_table), indent=2, default=str)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_csv(self, path: str | Path) -> Path:
        from harmscope.export.rounding import write_csv

        path = Path(path)
        write_csv(self.table, path)  # floats at meaningful precision, not 16 decimals
        return path

    def to_text(self) -> str:
        lines = [f"{k}: {v}" for k, v in _jsonable(self.summary).items()]
        if self.notes:
            lines += ["", *self.notes]
        if self.method:
            lines += ["", "Method: " + self.method]
        return "\n".join(lines)
