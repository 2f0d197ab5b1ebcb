"""The result object every analysis returns (esda/statsmodels style, flat attributes).

One contract for every analysis, so a command, a report section or a notebook never has to
know which analysis made a result: ``to_dict()`` carries all of it (JSON-safe), ``summary()``
prints it as a statsmodels-style text block and ``_repr_html_`` shows it in a notebook.
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# The names an analysis may put in ``Result.extras``, with what each holds and who sets it.
# Declared here (and held by tests/test_result.py) so outputs are not bolted on as ad hoc
# attributes that ``to_dict()`` and readers of a result cannot see.
EXTRAS: dict[str, str] = {
    "weights": (
        "the neighbour matrix over the table's units, a scipy sparse matrix in table row "
        "order (analysis.hotspots: hotspots, emerging_hotspots); privacy.publishers uses it "
        "to protect z-scores. Not JSON: serialised as its type name."
    ),
    "crime_types": (
        "the crime types the analysis was asked about, [] for all (analysis.hotspots); a "
        "single type changes how a public hotspot map is protected."
    ),
    "publication": (
        "the privacy.publish.Publication an alerts run was published through (set by the "
        "alerts command). Not JSON: serialised as its type name."
    ),
}


class LazyCharts(dict):
    """``Result.charts``: a dict of Vega-Lite specs whose values may be given as zero-argument
    callables, each called (once) when the chart is first read. An analysis hands its charts
    this way because most readers never look at them (the report's sections draw their own
    from protected tables): building an Altair chart costs more than many analyses (issue 18).
    Keys, ``in`` and ``len`` never build; any read of a value builds the charts, so what a
    reader sees is always the plain spec dicts, exactly as built eagerly."""

    def _built(self) -> LazyCharts:
        for key, value in list(dict.items(self)):
            if callable(value):
                dict.__setitem__(self, key, value())
        return self

    def __getitem__(self, key):
        return dict.__getitem__(self._built(), key)

    def get(self, key, default=None):
        return dict.get(self._built(), key, default)

    def items(self):
        return dict.items(self._built())

    def values(self):
        return dict.values(self._built())

    def __iter__(self):  # also makes dict(charts) and {**charts} read through __getitem__
        return dict.__iter__(self._built())

    def copy(self) -> dict:
        return dict(self._built())

    def pop(self, *args):
        return dict.pop(self._built(), *args)

    def popitem(self):
        return dict.popitem(self._built())

    def setdefault(self, key, default=None):
        return dict.setdefault(self._built(), key, default)

    def __eq__(self, other) -> bool:
        return dict.__eq__(self._built(), other)

    __hash__ = None  # a dict: unhashable

    def __repr__(self) -> str:
        return dict.__repr__(self._built())


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


def _extra_json(value: Any) -> Any:
    """An extra as JSON: frames as records, plain data as itself, any other object by type name.

    Objects such as spatial weights or a Publication have no faithful JSON form; naming their
    type keeps ``to_dict()`` JSON-safe and still says the extra is there.
    """
    if isinstance(value, pd.DataFrame):
        return frame_records(value)
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    plain = _jsonable(value)
    try:
        json.dumps(plain)
    except (TypeError, ValueError):
        return {"type": type(value).__name__}
    return plain


class Summary(dict):
    """The headline figures: a plain dict that can also be called, statsmodels style.

    ``res.summary["key"]`` reads a figure as it always has; ``res.summary()`` returns the
    result's text block (title, method, figures with their intervals, tables' shapes). Both
    spellings live on one attribute because the dict was the contract before the text block.
    """

    _owner: Result | None = None

    def __call__(self) -> str:
        if self._owner is None:
            return "\n".join(_summary_lines(self, 0.95))
        return self._owner.summary_text()


def _number(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:,.4g}" if abs(v) >= 1 else f"{v:.4g}"


def _interval(ci: Any, level: float) -> str | None:
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        return f"{level:.0%} CI {_number(ci[0])} to {_number(ci[1])}"
    return None


def _summary_pairs(summary: dict, level: float) -> list[tuple[str, str]]:
    """(key, text) per figure; ``x`` and ``x_ci`` become one line "x (95% CI a to b)"."""
    flat = _jsonable(dict(summary))
    pairs = []
    for key, value in flat.items():
        if key.endswith("_ci") and key[: -len("_ci")] in flat:
            continue  # shown beside its estimate
        ci = _interval(flat.get(f"{key}_ci"), level)
        if key.endswith("_ci") and _interval(value, level):
            text = _interval(value, level)
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, default=str)
        else:
            text = _number(value) + (f" ({ci})" if ci else "")
        pairs.append((key, text))
    return pairs


def _summary_lines(summary: dict, level: float) -> list[str]:
    pairs = _summary_pairs(summary, level)
    width = max((len(k) for k, _ in pairs), default=0)
    return [f"{k.ljust(width)}  {text}" for k, text in pairs]


def _shape(df: pd.DataFrame) -> str:
    return f"{len(df):,} rows x {df.shape[1]} columns"


@dataclass
class Result:
    """What an analysis hands back.

    Attributes
    ----------
    table : the main table (one row per unit of analysis).
    summary : headline figures, a flat dict of JSON-safe values; intervals as ``*_ci`` pairs.
        Also callable: ``res.summary()`` is the text block (see ``summary_text``).
    charts : Vega-Lite specs by name (dicts), ready for a report or a notebook; an analysis
        may give a spec as a zero-argument callable, built when first read (``LazyCharts``).
    method : what was done, its assumptions and its uncertainty, in plain words.
    tables : further named tables (for example per-district or per-month breakdowns).
    notes : announcements and caveats (automatic defaults chosen, data gaps).
    extras : declared non-tabular outputs a presenter needs, by a name in ``EXTRAS`` (e.g.
        ``weights``, a hotspot analysis's neighbour matrix, for disclosure control of
        z-scores). Serialised by ``to_dict()`` when JSON-safe, else by type name.
    title : what the result is, for the text block and notebooks ("" names the class).
    ci_level : the coverage of the ``*_ci`` intervals in ``summary``.
    """

    table: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)
    method: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    ci_level: float = 0.95

    def __setattr__(self, name: str, value: Any) -> None:
        # every summary, given at construction or assigned later, is a callable Summary
        if name == "summary":
            value = Summary(value or {})
            value._owner = self
        elif name == "charts" and not isinstance(value, LazyCharts):
            value = LazyCharts(value or {})  # a value may be a callable, built when read
        super().__setattr__(name, value)

    def to_dict(self, *, with_table: bool = True) -> dict[str, Any]:
        """Everything the result holds, JSON-safe.

        Keys: ``title``, ``summary``, ``method``, ``notes``, ``charts``, ``extras``,
        ``table_shapes`` (rows and columns of ``table`` and each of ``tables``), and, with
        ``with_table``, ``table`` and ``tables`` (rows as records).
        """
        out: dict[str, Any] = {
            "summary": _jsonable(dict(self.summary)),
            "method": self.method,
            "notes": list(self.notes),
            "title": self.title,
            "charts": _jsonable(self.charts),
            "extras": {str(k): _extra_json(v) for k, v in self.extras.items()},
            "table_shapes": {
                name: {"rows": int(len(df)), "columns": [str(c) for c in df.columns]}
                for name, df in self._all_tables().items()
            },
        }
        if with_table:
            out["table"] = frame_records(self.table)
            out["tables"] = {name: frame_records(df) for name, df in self.tables.items()}
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
        lines = [f"{k}: {v}" for k, v in _jsonable(dict(self.summary)).items()]
        if self.notes:
            lines += ["", *self.notes]
        if self.method:
            lines += ["", "Method: " + self.method]
        return "\n".join(lines)

    def _all_tables(self) -> dict[str, pd.DataFrame]:
        tables = {"table": self.table} if isinstance(self.table, pd.DataFrame) else {}
        tables.update({k: v for k, v in self.tables.items() if isinstance(v, pd.DataFrame)})
        return tables

    def _heading(self) -> str:
        return self.title or "Result"

    def summary_text(self) -> str:
        """A statsmodels-style text block: title, method, figures with intervals, tables."""
        rule = "=" * 78
        lines = [self._heading(), rule]
        lines += _summary_lines(self.summary, self.ci_level) or ["(no summary figures)"]
        lines += ["-" * 78, "Tables:"]
        lines += [f"  {name}: {_shape(df)}" for name, df in self._all_tables().items()]
        if self.charts:
            lines.append("Charts: " + ", ".join(self.charts))
        if self.extras:
            lines.append("Extras: " + ", ".join(self.extras))
        if self.notes:
            lines += ["-" * 78, "Notes:"]
            lines += [
                textwrap.fill(n, 78, initial_indent="  - ", subsequent_indent="    ")
                for n in self.notes
            ]
        if self.method:
            lines += ["-" * 78, textwrap.fill("Method: " + self.method, 78)]
        lines.append(rule)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The text block as escaped HTML for a notebook, with the main table's first rows."""
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>"
            for k, v in _summary_pairs(self.summary, self.ci_level)
        )
        shapes = "".join(
            f"<li>{esc(name)}: {esc(_shape(df))}</li>" for name, df in self._all_tables().items()
        )
        parts = [f"<h4>{esc(self._heading())}</h4>"]
        if rows:
            parts.append(f"<table>{rows}</table>")
        parts.append(f"<p>Tables:</p><ul>{shapes}</ul>")
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        if self.method:
            parts.append(f"<p><b>Method:</b> {esc(self.method)}</p>")
        if isinstance(self.table, pd.DataFrame) and len(self.table.columns):
            parts.append(self.table.head(10).to_html(escape=True, index=False))
        return "<div class='harmscope-result'>" + "".join(parts) + "</div>"


class ResultBundle:
    """A declared bundle of Results: several analyses run together and handed back as one
    value (the people profile, stop-and-search scrutiny).

    An analysis returns a :class:`Result`, or a bundle of them (tests/test_architecture.py,
    rule d): a bundle carries no figure without a method text, because every member is a
    Result with its own. A subclass keeps its members in ``results`` (name -> Result) and may
    carry what is derived from them (a headline summary); :meth:`members` hands the members
    out, for the rule's check and for presenters that treat every member alike.
    """

    results: dict[str, Result]

    def members(self) -> dict[str, Result]:
        """The member Results by name (a copy: adding to it changes nothing)."""
        return dict(self.results)


class Results(dict[str, Result], ResultBundle):
    """A bundle that is a plain mapping name -> Result (what ``scrutiny`` returns): callers
    index and iterate it like the dict it is."""

    @property
    def results(self) -> dict[str, Result]:
        return self
