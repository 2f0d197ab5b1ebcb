"""Assemble the report: discover sections, build them, apply the audience, write one HTML file.

The output is a single self-contained file: CSS, the vendored Vega JS (report/vendor) and
every chart spec and table are inlined, so it opens offline and can be e-mailed. Sections are
plug-ins (see :mod:`harmscope.report.section` and :mod:`harmscope.report.sections`).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

import harmscope
import harmscope.report.sections as _sections
from harmscope.analysis.result import _jsonable
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import CHECKED_ATTR, get_audience, is_checked
from harmscope.report.front import harm_unit
from harmscope.report.labels import (
    format_number,
    humanize_spec,
    is_p_column,
    is_percent_column,
    label,
    month_text,
    months_in_text,
    round_for_export,
)
from harmscope.report.maps import is_map
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.store.queries import report as queries

VENDOR_FILES = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "leaflet.min.js")
VENDOR_CSS = ("leaflet.css",)
SUPPRESSED = "[c]"  # ONS convention for a confidential (suppressed) value
# In print every table is cut to its top rows (the full tables are in the Excel workbook and
# the HTML), which keeps a force-year profile near a dozen A4 pages.
PRINT_TOP_ROWS = 5
PRINT_MAX_TABLES = 1  # tables printed per section; the others are named
# Why a section whose build returned None is not in the report (the page's closing line says
# it for all of them; `report --json` gives it for each under "skipped").
SKIPPED_REASON = "the store holds no data for it in this area and period"
# The formats `report --out` writes, by the output's extension.
FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".xlsx": "xlsx"}


@dataclass
class BuiltSection:
    name: str  # module name in harmscope.report.sections
    order: int
    section: Section | None = None
    # a section that raised: the report is not written (an internal draft with
    # --allow-partial only, the failure shown in a box there), never hidden
    error: str | None = None
    error_trace: str | None = None
    # the section raised NotApplicable: why it does not apply here, shown in its place
    unavailable: str | None = None
    title: str | None = None  # the section's title when it showed nothing
    withheld: bool = False  # public audience and the section is not disclosure-checked
    seconds: float = 0.0


@dataclass
class Report:
    ctx: ReportContext
    sections: list[BuiltSection] = field(default_factory=list)
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    # what the publishing path let through (privacy.publishers.publish_report)
    publication: Any = None

    @property
    def shown(self) -> list[BuiltSection]:
        return [b for b in self.sections if b.section is not None or b.error]

    @property
    def errors(self) -> list[BuiltSection]:
        return [b for b in self.sections if b.error]

    @property
    def skipped(self) -> list[BuiltSection]:
        return [b for b in self.sections if b.section is None and not b.error and not b.unavailable]


def discover_sections() -> list[tuple[int, str, ModuleType]]:
    """Every module in harmscope.report.sections with ORDER and build, sorted by ORDER."""
    found = []
    for info in pkgutil.iter_modules(_sections.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"harmscope.report.sections.{info.name}")
        if hasattr(module, "build") and hasattr(module, "ORDER"):
            found.append((int(module.ORDER), info.name, module))
    return sorted(found, key=lambda t: (t[0], t[1]))


def build_report(ctx: ReportContext, *, only: list[str] | None = None, progress=None) -> Report:
    """Run every section's build(ctx). A section that raises ``NotApplicable`` is announced
    with its reason; any other exception is recorded as the section's error (``Report.errors``:
    :func:`write_report` then writes nothing and raises, naming it).
    ``progress(label, done, total)``, when given, is called as each section starts."""
    report = Report(ctx)
    aud = ctx.aud
    chosen = [t for t in discover_sections() if only is None or t[1] in only]
    for i, (order, name, module) in enumerate(chosen):
        if progress is not None:
            progress(f"section {name}", i, len(chosen))
        built = BuiltSection(name, order, title=getattr(module, "TITLE", None))
        t0 = time.perf_counter()
        try:
            built.section = module.build(ctx)
        except NotApplicable as exc:  # announced in the section's place: not a failure
            built.unavailable = exc.reason
            built.title = exc.title or built.title
        except Exception as exc:
            # A failure, HarmscopeError included (the user's arguments were checked in
            # make_context, so one raised here is a fault of this section or its data). The
            # other sections still run, so the error names every section that failed.
            built.error = f"{type(exc).__name__}: {exc}"
            built.error_trace = traceback.format_exc(limit=3)
        built.seconds = time.perf_counter() - t0
        sec = built.section
        if sec is not None and aud.suppress and not _is_public_safe(sec):
            built.withheld = True
        report.sections.append(built)
    from harmscope.privacy.publishers import publish_report

    report.publication = publish_report(report)
    return report


def _is_public_safe(sec: Section) -> bool:
    """A section may go public only if it says so and every table carries the checked mark."""
    return bool(sec.disclosure_checked) and all(is_checked(t) for t in sec.tables.values())


# -- HTML ------------------------------------------------------------------------------------


def _env() -> jinja2.Environment:
    loader = jinja2.PackageLoader("harmscope.report", "templates")
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]))
    env.filters["num"] = fmt_number
    return env


def vendor_js() -> str:
    """The vendored Vega, Vega-Lite and vega-embed builds, concatenated for inlining."""
    folder = resources.files("harmscope.report") / "vendor"
    parts = []
    for name in VENDOR_FILES:
        text = (folder / name).read_text(encoding="utf-8")
        parts.append(f"/* {name}: see report/vendor/VERSIONS.md */\n{text}")
    return "\n;\n".join(parts).replace("</script", "<\\/script")


def vendor_css() -> str:
    """The vendored Leaflet stylesheet (its icons already inlined as data: URIs)."""
    folder = resources.files("harmscope.report") / "vendor"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in VENDOR_CSS).replace(
        "</style", "<\\/style"
    )


def _map_for_page(
    spec: dict, tables: dict, refs: dict, seen: dict | None = None
) -> tuple[dict, set[str]]:
    """A map spec ready for the page: every ``features`` list and every street layer's table
    moved to ``refs`` (keyed by content, so two maps share one copy). Returns the spec and the
    ids of the section tables it draws (not shown again as tables). ``seen`` (one per page)
    remembers the ref of each list or table already written, so data that two maps share (the
    report's sections hand both the same objects) is serialised once."""
    out = {k: v for k, v in spec.items() if k != "layers"}
    out["layers"] = []
    used: set[str] = set()
    seen = {} if seen is None else seen
    for layer in spec.get("layers", []):
        layer = dict(layer)
        source = None
        if "features" in layer:
            source = layer.pop("features")
        elif layer.get("kind") == "streets":
            tid = layer.pop("table")
            source = tables.get(tid)
            if source is None:  # not published for this audience: no street layer
                continue
            used.add(tid)
        if source is not None:
            # by identity, holding the object so its id cannot be reused within the page
            known = seen.get(id(source))
            if known is None or known[0] is not source:
                known = (source, _layer_ref(source, refs))
                seen[id(source)] = known
            layer["ref"] = known[1]
        out["layers"].append(layer)
    return out, used


def _layer_ref(source, refs: dict) -> str:
    """Put a layer's data in ``refs`` (a features list as it is; a street table as its names
    and [lon, lat, name index] points) and return its key, a hash of its JSON text."""
    import hashlib

    data = source
    if isinstance(source, pd.DataFrame):
        names = sorted(set(source["location"].dropna().astype(str)))
        index = {n: i for i, n in enumerate(names)}
        data = {
            "names": names,
            "points": [
                [round(float(lon), 5), round(float(lat), 5), index.get(loc, -1)]
                for lon, lat, loc in zip(
                    source["lon"].tolist(),
                    source["lat"].tolist(),
                    source["location"].tolist(),
                    strict=True,
                )
            ],
        }
    text = _layer_json(data)
    ref = hashlib.sha1(text.encode()).hexdigest()[:16]
    # kept as its JSON text: the page joins the texts (render_html), never parsing them back
    refs.setdefault(ref, text)
    return ref


def _refs_json(refs: dict[str, str]) -> str:
    """The page's map references as one JSON object, from each layer's compact JSON text
    (the same text ``json.dumps`` of the parsed layers would give)."""
    return "{" + ",".join(f"{json.dumps(k)}:{text}" for k, text in refs.items()) + "}"


def _layer_json(data) -> str:
    """A map layer's data as compact JSON. Features built by ``report.maps`` are plain JSON
    already (Python floats, str), so they are dumped directly: walking some 100,000
    coordinates through ``_jsonable`` was the renderer's largest cost. Anything else (numpy
    integers, NaN) goes through ``_jsonable`` as before, and gives the same text."""
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(_jsonable(data), separators=(",", ":"), default=str)


def fmt_number(value, decimals: int | None = None) -> str:
    """Thousands separators; two decimals for small fractional values; blank for missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if decimals is not None:
            return f"{v:,.{decimals}f}"
        if v.is_integer() and abs(v) >= 1:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        # below 1: a few decimals, never scientific notation ("2.78e-17" reads as noise)
        return format_number(v)
    if isinstance(value, (pd.Timestamp, date)):
        return month_text(value) or value.strftime("%d %b %Y")
    return str(value)


def cell_text(col: str, value, *, percent: bool = False) -> str:
    """One table cell for a reader: shares and rates as %, p-values as "< 0.001", months as
    "Jan 2025"; everything else as fmt_number."""
    if isinstance(value, (float, np.floating)) and not np.isnan(value):
        if percent or is_p_column(col):
            return format_number(float(value), percent=percent, p_value=not percent)
    if isinstance(value, str):
        return month_text(value) or value
    return fmt_number(value)


def _suppressed_cols(df: pd.DataFrame, public: bool) -> set[str]:
    if not public:
        return set()
    info = df.attrs.get(CHECKED_ATTR, {})
    return set(info.get("count_cols", [])) | set(info.get("derived_cols", []))


def table_html(
    df: pd.DataFrame, *, public: bool, max_rows: int = 2000, note_more: str | None = None
) -> Markup:
    """A plain, escaped HTML table; suppressed cells show as [c]. Headers are readers' labels
    (labels.label), shares and rates are shown as %; the values themselves are not changed."""
    hidden_cols = _suppressed_cols(df, public)
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c].dtype)}
    percent = {c for c in numeric if is_percent_column(str(c), df[c])}
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{escape(label(str(c)))}'
        + (" (%)" if c in percent and "%" not in label(str(c)) else "")
        + "</th>"
        for c in df.columns
    )
    rows = []
    for rec in df.head(max_rows).itertuples(index=False):
        cells = []
        for col, val in zip(df.columns, rec, strict=True):
            missing = val is None or val is pd.NA or (isinstance(val, float) and np.isnan(val))
            text = (
                SUPPRESSED
                if (missing and col in hidden_cols)
                else cell_text(str(col), val, percent=col in percent)
            )
            cls = "num" if col in numeric else ""
            if missing and col in hidden_cols:
                cls += " sup"
            cells.append(f'<td class="{cls.strip()}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="more">{escape(note_more or f"First {max_rows:,} of {len(df):,} rows shown; the CSV has all of them.")}</p>'
        if len(df) > max_rows
        else ""
    )
    return Markup(
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def csv_data_uri(df: pd.DataFrame, *, public: bool) -> str:
    hidden_cols = _suppressed_cols(df, public)
    # machine-readable values, but rounded: 16-decimal floats are noise to an analyst too
    out = round_for_export(df)
    for col in hidden_cols & set(out.columns):
        out[col] = out[col].astype(object).where(out[col].notna(), SUPPRESSED)
    text = out.to_csv(index=False)
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(text)


def chart_frame(spec: dict) -> pd.DataFrame | None:
    """The rows embedded in a Vega-Lite spec (Altair puts them in ``datasets``)."""
    frames = []
    if is_map(spec):  # a Leaflet map: its data layers' rows (geometry aside)
        for layer in spec.get("layers", []):
            if isinstance(layer.get("values"), list) and layer["values"]:
                frames.append(
                    pd.DataFrame(layer["values"]).drop(columns="geometry", errors="ignore")
                )
    for values in (spec.get("datasets") or {}).values():
        if isinstance(values, list) and values:
            frames.append(pd.DataFrame(values))
    data = spec.get("data") or {}
    if isinstance(data, dict) and isinstance(data.get("values"), list) and data["values"]:
        frames.append(pd.DataFrame(data["values"]))
    if not frames:
        return None
    return max(frames, key=len)


def _chart_figure(report: Report, sec: Section, cid: str, spec: dict, page: dict) -> dict:
    """A chart of a section for the page: its spec (relabelled, or a map put on the page) in
    ``page["specs"]``, and the figure block with the table shown under it."""
    key, pub, for_print = sec.key, report.publication, page["for_print"]
    dom_id = f"chart-{key}-{cid}"
    if is_map(spec):
        # a Leaflet map: its labels are written for readers already; its street
        # layer is the section's published table of that name
        published = {
            tid: tab
            for tid, tab in sec.tables.items()
            if pub is None or f"{key}.{tid}" in pub.tables
        }
        page["specs"][dom_id], drawn = _map_for_page(
            spec, published, page["map_refs"], page.setdefault("map_seen", {})
        )
        if for_print:  # drawn at its printed size, so it is framed as printed
            page["specs"][dom_id]["print"] = True
        page["used_tables"] |= drawn
    else:
        # readers' titles, legends and tooltips; the data drawn is the published spec's
        page["specs"][dom_id] = humanize_spec(spec, harm_unit=harm_unit(report.ctx.options))
    table = sec.tables.get(cid)
    if table is not None:
        page["used_tables"].add(cid)
    else:
        table = chart_frame(spec)
    return {
        "id": dom_id,
        "caption": months_in_text(sec.captions.get(cid, "")),
        # in print the chart stands for its table (the full table is in the
        # Excel workbook and the HTML), which keeps the PDF short
        "table": _table_block(table, cid, page["public"], for_print)
        if table is not None and not for_print
        else None,
    }


def _fill_block(block: dict, report: Report, sec: Section, page: dict) -> None:
    """A shown section's figures and tables, as far as the publication let them through."""
    pub = report.publication
    page["used_tables"] = set()
    for cid, spec in sec.charts.items():
        if pub is not None and f"{block['key']}.{cid}" not in pub.figures:
            continue  # withheld by the publishing path (listed in its 'withheld')
        block["figures"].append(_chart_figure(report, sec, cid, spec, page))
    for tid, table in sec.tables.items():
        if pub is not None and f"{block['key']}.{tid}" not in pub.tables:
            continue
        if tid in page["used_tables"]:
            continue
        if page["for_print"] and len(block["tables"]) >= PRINT_MAX_TABLES:
            block["more_tables"].append(label(tid))
            continue
        block["tables"].append(_table_block(table, tid, page["public"], page["for_print"]))


def _section_block(built, report: Report, page: dict) -> dict:
    sec = built.section
    shown = sec is not None and not built.withheld
    block = {
        "key": sec.key if sec else built.name,
        "title": sec.title if sec else built.title or section_label(built.name),
        "error": built.error,
        "unavailable": built.unavailable,
        "withheld": built.withheld,
        # months read "Jan 2025" in the text too (only digits become month names, so the
        # section's escaped HTML stays safe)
        "html": Markup(months_in_text(sec.html)) if shown else Markup(""),
        "notes": [months_in_text(n) for n in sec.notes] if shown else [],
        "method": sec.method if shown else "",
        "figures": [],
        "tables": [],
        "more_tables": [],  # print: tables beyond PRINT_MAX_TABLES, named only
    }
    if shown:
        _fill_block(block, report, sec, page)
    return block


def section_label(name: str) -> str:
    """A section module's name as readers' words ("profile_rural_urban" -> "Rural urban")."""
    words = name.removeprefix("profile_").replace("_", " ")
    return {"stopsearch": "Stop and search"}.get(words, words.capitalize())


def render_html(report: Report, *, for_print: bool = False) -> str:
    ctx = report.ctx
    aud = ctx.aud
    # what the blocks add to the page: chart specs by element id, and the map layers shared
    # by every map (boundaries and street points, once per page: report.maps)
    page: dict[str, Any] = {
        "public": aud.suppress,
        "for_print": for_print,
        "specs": {},
        "map_refs": {},
    }
    blocks = [
        _section_block(built, report, page)
        for built in report.sections
        if built.section is not None or built.error or built.unavailable
    ]
    specs, map_refs = page["specs"], page["map_refs"]

    from harmscope.report.front import GLOSSARY, build_front, collect_caveats

    front = build_front(report)
    # each caveat once: repeated notes (and the coverage notes) go to the front page's box
    front.caveats = collect_caveats(blocks)
    # Methods are an appendix: each section links to its paragraph there.
    appendix = [
        {"key": b["key"], "title": b["title"], "method": b["method"]} for b in blocks if b["method"]
    ]
    template = _env().get_template("report.html.j2")
    return template.render(
        title=f"Violence and harm problem profile: {ctx.cache.get('area_label', ctx.area)}",
        area=ctx.cache.get("area_label", ctx.area),
        period=f"{month_text(ctx.month_from)} to {month_text(ctx.month_to)}",
        front=front,
        glossary=GLOSSARY,
        appendix=appendix,
        harm_unit=harm_unit(ctx.options),
        audience=aud,
        threshold=ctx.threshold,
        generated=report.generated.strftime("%Y-%m-%d %H:%M UTC"),
        version=harmscope.__version__,
        blocks=blocks,
        skipped=[b.title or section_label(b.name) for b in report.skipped],
        # one pass (the text a compact dump, parsed back and dumped again, gave before);
        # inside <script>: "</" would end the element early
        specs_json=Markup(
            json.dumps({k: _jsonable(v) for k, v in specs.items()}, default=str).replace(
                "</", "<\\/"
            )
        ),
        map_refs_json=Markup(_refs_json(map_refs).replace("</", "<\\/")),
        vendor_js=Markup(vendor_js()),
        vendor_css=Markup(vendor_css()),
        basemap=ctx.options.get("basemap"),
        for_print=for_print,
    )


def _table_block(df: pd.DataFrame, tid: str, public: bool, for_print: bool) -> dict:
    # Print shows each table's top rows, open; the full table is in the Excel workbook.
    rows = PRINT_TOP_ROWS if for_print else 2000
    return {
        "id": tid,
        "label": label(tid),
        "rows": len(df),
        "html": table_html(
            df,
            public=public,
            max_rows=rows,
            note_more=f"Top {rows} of {len(df):,} rows; the full table is in the Excel "
            "workbook (report --out FILE.xlsx) and the HTML report."
            if for_print
            else None,
        ),
        "csv": csv_data_uri(df, public=public),
        "filename": f"{tid}.csv",
        "open": for_print,
    }


# -- the whole pipeline -----------------------------------------------------------------------


def make_context(
    store,
    area: str,
    date_from: str,
    date_to: str,
    *,
    audience: str = "internal",
    threshold: int = 5,
    options: dict | None = None,
) -> ReportContext:
    """Validate the user's arguments and build the context (errors name the option)."""
    from harmscope.analysis.harm import resolve_scope, resolve_weights
    from harmscope.months import parse_month

    get_audience(audience, threshold)  # validates both
    opts = dict(options or {})
    # A bad --scheme or --weights file is the user's to fix: fail before any section runs.
    resolve_weights(opts.get("scheme", "css"), opts.get("weights"))
    start = parse_month(date_from, "--from")
    end = parse_month(date_to, "--to")
    if start is None or end is None:
        raise HarmscopeError(
            "both --from and --to are needed", where="--from/--to", fix="give months as YYYY-MM"
        )
    if start > end:
        raise HarmscopeError("--from is after --to", where="--from/--to", fix="swap the two months")
    scope = resolve_scope(area, date_from, date_to)
    if queries.street_count(store, scope) == 0:
        held = queries.street_span(store, resolve_scope(area))
        span = (
            f"the store holds {held[0]} to {held[1]} for it"
            if held
            else "the store holds no street-level crime for it at all"
        )
        raise HarmscopeError(
            f"no street-level crime for {scope.label} from {date_from} to {date_to} ({span})",
            where="--from/--to",
            fix="choose months the store holds, or load them with `harmscope ingest PATH`",
        )
    from harmscope.report.reads import ReportReads

    ctx = ReportContext(
        # identical reads by several sections run once per report (report.reads)
        store=store if isinstance(store, ReportReads) else ReportReads(store),
        area=area,
        date_from=start,
        date_to=end,
        audience=audience,
        threshold=threshold,
        options=dict(options or {}),
    )
    ctx.cache["scope"] = scope
    ctx.cache["area_label"] = scope.label
    return ctx


def write_report(
    store,
    area: str,
    date_from: str,
    date_to: str,
    out: str | Path,
    *,
    fmt: str | None = None,
    audience: str = "internal",
    threshold: int = 5,
    options: dict | None = None,
    only: list[str] | None = None,
    progress=None,
    allow_partial: bool = False,
) -> tuple[Path, Report]:
    """Build and write the report. The format is ``fmt`` (html, pdf or xlsx) or, by default,
    ``out``'s extension (.html, .pdf, .xlsx). Returns the path and the Report.
    ``progress(label, done, total)`` hears each stage (commands show it on stderr).

    Nothing half-made is written: when a section fails (it raised anything but
    ``NotApplicable``), no file is written and a HarmscopeError names every failed section
    (a StoreError when the store itself failed). ``allow_partial`` (internal audience only)
    writes the draft instead, each failure in a box. The file is written under a temporary
    name beside ``out`` and renamed over it only once complete, so a crash while writing
    leaves ``out`` as it was."""
    progress = progress or (lambda *a: None)
    out = Path(out)
    fmt = output_format(out, fmt)
    if not out.parent.exists():
        raise HarmscopeError(
            f"the folder {out.parent} does not exist", where=f"--out {out}", fix="create it first"
        )
    progress("reading the store")
    ctx = make_context(
        store, area, date_from, date_to, audience=audience, threshold=threshold, options=options
    )
    report = build_report(ctx, only=only, progress=progress)
    if report.errors:
        check_sections(report, store_path=getattr(store, "path", None), allow_partial=allow_partial)
    progress(f"writing {fmt.upper()}")
    _write_atomic(out, lambda tmp: _write_format(report, fmt, tmp))
    return out, report


def check_sections(report: Report, *, store_path=None, allow_partial: bool = False) -> None:
    """Raise when a section failed: a StoreError when the store itself failed (damaged, disk
    full: the whole report is untrustworthy), else a HarmscopeError naming each failed section
    and its error. ``allow_partial`` lets an internal draft through (nothing raised)."""
    from harmscope.store.store import store_failure_text

    for b in report.errors:
        failure = store_failure_text(b.error or "", store_path)
        if failure is not None:
            raise failure
    aud = report.ctx.aud.name
    if allow_partial and aud == "internal":
        return
    failed = "; ".join(f"section {b.name}: {b.error}" for b in report.errors)
    raise HarmscopeError(
        f"the report was not written: {len(report.errors)} section(s) could not be built "
        f"({failed})",
        where="harmscope report",
        fix="this is a fault to fix, not missing data (a section that does not apply says "
        "so and is written): fix the cause named, leave the section out with --sections"
        + (
            ", or pass --allow-partial for an internal draft with the failure shown in a box"
            if aud == "internal"
            else "; partner and public reports are only written whole"
        ),
    )


def _write_atomic(out: Path, write) -> None:
    """``write(tmp)`` to a temporary file beside ``out`` (same folder and extension), then
    rename it over ``out``; on any failure the temporary file is removed and ``out`` is left
    as it was."""
    tmp = out.with_name(f".{out.stem}.partial-{os.getpid()}{out.suffix}")
    try:
        write(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _write_format(report: Report, fmt: str, path: Path) -> None:
    if fmt == "html":
        path.write_text(render_html(report), encoding="utf-8")
        return
    if fmt == "xlsx":
        from harmscope.report.excel import write_workbook

        write_workbook(report, path)
        return
    from harmscope.report.pdf import html_to_pdf

    html_path = path.with_suffix(".print.html")
    html_path.write_text(render_html(report, for_print=True), encoding="utf-8")
    try:
        html_to_pdf(html_path, path)
    finally:
        html_path.unlink(missing_ok=True)


def output_format(out: Path, fmt: str | None = None) -> str:
    """The format to write: ``fmt`` when given (it must agree with a known extension), else
    from the extension. An unknown one is refused rather than written as HTML under a name
    that says otherwise."""
    kinds = sorted(set(FORMATS.values()))
    suffix = out.suffix.lower()
    from_name = FORMATS.get(suffix)
    if fmt is None:
        if from_name is None:
            raise HarmscopeError(
                f"cannot write a report as {suffix or 'a file without an extension'}",
                where=f"--out {out}",
                fix="end the name in .html (to read and share), .pdf (to print) or .xlsx (every "
                "published table as an Excel sheet); each table's CSV is a link in the HTML",
            )
        return from_name
    fmt = fmt.lower()
    if fmt not in kinds:
        raise HarmscopeError(
            f"unknown format {fmt!r}", where="--format", fix=f"use one of: {', '.join(kinds)}"
        )
    if from_name is not None and from_name != fmt:
        raise HarmscopeError(
            f"--format {fmt} does not match the extension of {out.name}",
            where="--format",
            fix=f"drop --format (the extension decides) or name the file *.{fmt}",
        )
    return fmt
