"""A payload (the JSON document ``web.data.payload`` gives, the same as the CLI's ``--json``)
turned into what a page shows: headline figures, notes, charts and maps, tables, the method.

Presentation only: nothing here reads the store or decides what may be shown. Every number
comes from the payload, which the publishing path already protected for the audience; a value
that is missing there (suppressed) shows as [c]. Labels, month names and number formats are
the report's (report.labels, report.render), so a figure reads the same on a page and in the
report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from harmscope.report.labels import (
    format_number,
    humanize_spec,
    is_p_column,
    is_percent_column,
    label,
    month_text,
    months_in_text,
    relabel_text,
)
from harmscope.report.maps import is_map
from harmscope.report.render import fmt_number

SUPPRESSED = "[c]"
# Keys of a payload that are bookkeeping, not content.
_SKIP = {"audience", "written", "extras", "table_shapes", "title", "path", "bytes", "format"}
# ...and parts a page draws rather than lists (the hotspot cells are its map).
_SKIP |= {"cells", "districts"}
# Parts of a payload shown by the page itself (front page, reconciliation), not as tables.
_SPECIAL = {"summary", "notes", "method", "charts", "tables", "table", "front"}
# Readers' titles for the parts of a document that are results of their own.
BLOCK_TITLES = {
    "recording_breaks": "Changes in how outcomes were recorded",
    "hit_rate_ethnicity": "Find rate by ethnic group (officer-defined)",
    "hit_rate_self_defined": "Find rate by self-defined ethnicity",
    "hit_rate_age": "Find rate by age group",
    "disproportionality": "Disproportionality: searches by ethnic group against residents",
    "ethnicity_agreement": "Officer-defined against self-defined ethnicity",
    "intelligence_led": "Intelligence-led searching",
}
MAX_ROWS = 500  # a page shows this many rows of a table; the API has them all
# Summary entries that describe how a figure was made, not the figure: said in the method
# and notes, not as headline boxes.
_NOT_HEADLINE = {
    "audience",
    "level",
    "scheme",
    "seed",
    "permutations",
    "correction",
    "neighbours",
    "weight",
    "harm_error",
    "harm_estimated",
    "cell_size_automatic",
    "date_from",
    "date_to",
    "first_month",
    "last_month",
    "alpha",
    "baseline_modes",
    "reps",
}


@dataclass
class Figure:
    id: str
    title: str
    kind: str  # chart | map
    caption: str = ""


@dataclass
class Block:
    """One part of a page: a result (summary, notes, charts, tables, method)."""

    key: str
    title: str
    headline: list[tuple[str, str]] = field(default_factory=list)  # (label, value text)
    notes: list[str] = field(default_factory=list)
    charts: list[Figure] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    method: str = ""

    @property
    def empty(self) -> bool:
        return not (self.headline or self.notes or self.charts or self.tables or self.method)


@dataclass
class PageView:
    blocks: list[Block] = field(default_factory=list)
    specs: dict[str, dict] = field(default_factory=dict)  # element id -> Vega-Lite or map spec
    map_refs: dict[str, Any] = field(default_factory=dict)

    @property
    def specs_json(self) -> Markup:
        return _script_json(self.specs)

    @property
    def map_refs_json(self) -> Markup:
        return _script_json(self.map_refs)

    @property
    def has_figures(self) -> bool:
        return bool(self.specs)

    def add_spec(self, dom_id: str, spec: dict, *, harm_unit: str) -> str:
        """Put a chart or map on the page; returns its kind."""
        if is_map(spec):
            self.specs[dom_id] = _map_for_page(spec, self.map_refs)
            return "map"
        self.specs[dom_id] = humanize_spec(spec, harm_unit=harm_unit)
        return "chart"


def _script_json(obj: Any) -> Markup:
    # inside <script>: "</" would end the element early
    return Markup(json.dumps(obj, separators=(",", ":"), default=str).replace("</", "<\\/"))


def _map_for_page(spec: dict, refs: dict) -> dict:
    """A map spec with its feature lists moved to the page's shared store (as the report does),
    so two maps with the same boundaries carry them once."""
    import hashlib

    out = {k: v for k, v in spec.items() if k != "layers"}
    out["layers"] = []
    for layer in spec.get("layers", []):
        layer = dict(layer)
        if layer.get("kind") == "streets" and "features" not in layer:
            continue  # the street layer needs the report's table of map points: not here
        if "features" in layer:
            text = json.dumps(layer.pop("features"), separators=(",", ":"), default=str)
            ref = hashlib.sha1(text.encode()).hexdigest()[:16]
            refs.setdefault(ref, json.loads(text))
            layer["ref"] = ref
        out["layers"].append(layer)
    return out


# -- values ---------------------------------------------------------------------------------


def value_text(key: str, value: Any, *, public: bool) -> str:
    """One figure for a reader: shares as %, p-values as "< 0.001", months as "Jan 2025",
    missing as [c] for a published (partner or public) payload."""
    if value is None:
        return SUPPRESSED if public else "not available"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if is_p_column(key):
            return format_number(value, p_value=True)
        if is_percent_column(key, pd.Series([value])):
            return format_number(value, percent=True)
        return fmt_number(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return month_text(value) or months_in_text(relabel_text(value))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return ", ".join(month_text(v) or v for v in value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_num(v) for v in value):
        return f"{value_text(key, value[0], public=public)} to {value_text(key, value[1], public=public)}"
    return months_in_text(str(value))


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summary_figures(summary: dict, *, public: bool) -> list[tuple[str, str]]:
    """(label, text) per headline figure; ``x`` and ``x_ci`` become "x (95% CI a to b)".
    Nested values (dicts, long lists) are not headline figures and are left out."""
    out = []
    if summary.get("first_month") and summary.get("last_month"):
        first, last = summary["first_month"], summary["last_month"]
        out.append(
            (
                "Period",
                f"{value_text('m', first, public=False)} to {value_text('m', last, public=False)}",
            )
        )
    for key, value in summary.items():
        if key in _NOT_HEADLINE or (key.endswith("_ci") and key[:-3] in summary):
            continue
        strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if isinstance(value, dict) or (isinstance(value, list) and len(value) != 2 and not strings):
            continue
        text = value_text(key, value, public=public)
        ci = summary.get(f"{key}_ci")
        if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_num(v) for v in ci):
            text += f" (95% CI {value_text(key, ci[0], public=public)} to {value_text(key, ci[1], public=public)})"
        name = label(key)
        out.append((name[:1].upper() + name[1:], text))
    return out


def table_view(name: str, records: list[dict], *, public: bool) -> dict:
    """A table for the page: readers' headers, formatted cells, [c] for a suppressed cell."""
    df = pd.DataFrame.from_records(records)
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c].dtype)}
    percent = {c for c in numeric if is_percent_column(str(c), df[c])}
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{escape(label(str(c)))}</th>'
        for c in df.columns
    )
    rows = []
    for rec in records[:MAX_ROWS]:
        cells = []
        for col in df.columns:
            v = rec.get(col)
            cls = "num" if col in numeric else ""
            if v is None:
                text, cls = (SUPPRESSED if public else ""), (cls + " sup").strip()
            elif col in percent and _num(v):
                text = format_number(float(v), percent=True)
            else:
                text = value_text(str(col), v, public=public)
            cells.append(f'<td class="{cls}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="more">First {MAX_ROWS:,} of {len(records):,} rows shown; the API '
        "(/api/...) returns all of them.</p>"
        if len(records) > MAX_ROWS
        else ""
    )
    return {
        "id": name,
        "label": label(name).capitalize() if "_" in name else name.capitalize(),
        "rows": len(records),
        "html": Markup(
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
        ),
    }


def _is_records(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(r, dict) for r in v)


def _is_result(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and ("summary" in v or "method" in v)
        and ("table" in v or "tables" in v or "summary" in v)
    )


def _fill(block: Block, doc: dict, view: PageView, *, public: bool, harm_unit: str) -> None:
    if isinstance(doc.get("summary"), dict):
        block.headline = summary_figures(doc["summary"], public=public)
    block.notes = [months_in_text(str(n)) for n in doc.get("notes") or []]
    block.method = str(doc.get("method") or "")
    for cid, spec in (doc.get("charts") or {}).items():
        if not isinstance(spec, dict):
            continue
        dom_id = f"chart-{block.key}-{cid}"
        kind = view.add_spec(dom_id, spec, harm_unit=harm_unit)
        block.charts.append(Figure(dom_id, label(cid), kind, str(spec.get("title") or "")))
    if _is_records(doc.get("table")):
        block.tables.append(table_view(block.key, doc["table"], public=public))
    for tid, records in (doc.get("tables") or {}).items():
        if _is_records(records):
            block.tables.append(table_view(tid, records, public=public))


def build_view(
    payload: dict,
    *,
    title: str,
    public: bool,
    harm_unit: str = "sentence-equivalent days",
    skip: frozenset[str] = frozenset(),
) -> PageView:
    """The page's blocks: the payload itself first, then each nested result (a key holding
    its own summary/method/tables) as a block of its own; other lists of records as tables."""
    view = PageView()
    main = Block("main", title)
    _fill(main, payload, view, public=public, harm_unit=harm_unit)
    view.blocks.append(main)
    for key, value in payload.items():
        if key in _SKIP or key in _SPECIAL or key in skip:
            continue
        if _is_result(value):
            sub = Block(key, BLOCK_TITLES.get(key) or label(key).capitalize())
            _fill(sub, value, view, public=public, harm_unit=harm_unit)
            view.blocks.append(sub)
        elif _is_records(value):
            main.tables.append(table_view(key, value, public=public))
    return view
