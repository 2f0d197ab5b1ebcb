"""The report as an Excel workbook: one sheet per published table, and a README sheet first
with the area, period, audience, sources and method.

The sheets are exactly ``report.publication.tables``, what the publishing path let through for
the audience (a table withheld there is not here either, and is listed on the README sheet).
Columns are typed: counts as whole numbers, shares and rates as numbers formatted as %,
months as dates shown "Jan 2025"; a suppressed cell holds the text [c] (ONS practice), so it
cannot be mistaken for a zero.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.privacy.audience import CHECKED_ATTR
from harmscope.report.labels import is_p_column, is_percent_column, label

SUPPRESSED = "[c]"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(keys: list[str]) -> dict[str, str]:
    """Excel sheet names (31 characters, no []:*?/\\, unique) for table keys."""
    out: dict[str, str] = {}
    used = {"readme"}
    for key in keys:
        base = _BAD_SHEET_CHARS.sub("_", key.replace("stop-and-search", "stopsearch"))[:31]
        name, i = base, 2
        while name.lower() in used:
            suffix = f"~{i}"
            name = base[: 31 - len(suffix)] + suffix
            i += 1
        used.add(name.lower())
        out[key] = name
    return out


def _hidden_cols(df: pd.DataFrame, public: bool) -> set[str]:
    if not public:
        return set()
    info = df.attrs.get(CHECKED_ATTR, {})
    return set(info.get("count_cols", [])) | set(info.get("derived_cols", []))


def _cell(value, *, month: bool):
    """A Python value openpyxl writes with its type (numbers stay numbers)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if month and isinstance(value, str) and _MONTH.match(value):
        return pd.Timestamp(value + "-01").to_pydatetime()
    return value


def write_workbook(report, out: str | Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    out = Path(out)
    ctx = report.ctx
    pub = report.publication
    public = ctx.aud.suppress
    tables: dict[str, pd.DataFrame] = dict(pub.tables) if pub is not None else {}
    names = sheet_names(list(tables))
    titles = {b.section.key: b.section.title for b in report.sections if b.section is not None}
    methods = {
        b.section.key: b.section.method
        for b in report.sections
        if b.section is not None and b.section.method and not b.withheld
    }
    bold = Font(bold=True)
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    area = ctx.cache.get("area_label", ctx.area)
    lines: list[tuple[str, str]] = [
        ("Violence and harm problem profile", str(area)),
        ("Period", f"{ctx.month_from} to {ctx.month_to}"),
        ("Audience", ctx.aud.label),
        ("Generated", report.generated.strftime("%Y-%m-%d %H:%M UTC")),
        (
            "Source",
            "police.uk street-level crime and stop and search (Open Government Licence v3.0); "
            "ONS population, rural-urban class and IMD 2019 (OGL v3.0); boundaries contain OS "
            "data (c) Crown copyright and database right. Every packaged table's source: "
            "harmscope reference/data/SOURCES.md.",
        ),
        (
            "What this holds",
            "One sheet per table the report published for this audience, the same rows as the "
            "HTML report. Shares and rates are fractions formatted as %; months are dates.",
        ),
    ]
    if public:
        lines.append(
            (
                "Disclosure control",
                f"Counts 1 to {ctx.threshold - 1} and cells that would reveal them show [c]; "
                "rates and harm built from them are suppressed too. True zeros are shown.",
            )
        )
    if pub is not None and pub.dropped:
        lines.append(("Withheld", "; ".join(pub.dropped)))
    lines.append(("", ""))
    lines.append(("Sheet", "Table (section)"))
    for key, name in names.items():
        sec_key, _, tid = key.partition(".")
        lines.append((name, f"{label(tid)} ({titles.get(sec_key, sec_key)})"))
    lines.append(("", ""))
    lines.append(("Method", "How each section was worked out"))
    for key, text in methods.items():
        lines.append((titles.get(key, key), text))
    for r, (a, b) in enumerate(lines, start=1):
        readme.cell(row=r, column=1, value=a).font = bold
        c = readme.cell(row=r, column=2, value=b)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    readme.column_dimensions["A"].width = 34
    readme.column_dimensions["B"].width = 110

    for key, df in tables.items():
        ws = wb.create_sheet(names[key])
        hidden = _hidden_cols(df, public)
        cols = [str(c) for c in df.columns]
        for j, col in enumerate(cols, start=1):
            ws.cell(row=1, column=j, value=label(col)).font = bold
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, len(label(col)) + 2))
        formats = {}
        for col in df.columns:
            s = df[col]
            if pd.api.types.is_integer_dtype(s.dtype):
                formats[col] = "#,##0"
            elif pd.api.types.is_float_dtype(s.dtype):
                if is_percent_column(str(col), s):
                    formats[col] = "0.0%"
                elif is_p_column(str(col)):
                    formats[col] = "0.000"
                else:
                    v = s.dropna().abs()
                    formats[col] = "#,##0" if len(v) and (v >= 100).all() else "#,##0.00"
            elif str(col) == "month" or pd.api.types.is_datetime64_any_dtype(s.dtype):
                formats[col] = "mmm yyyy"
        for i, rec in enumerate(df.itertuples(index=False), start=2):
            for j, (col, val) in enumerate(zip(df.columns, rec, strict=True), start=1):
                v = _cell(val, month=str(col) == "month")
                if v is None and col in hidden:
                    v = SUPPRESSED
                c = ws.cell(row=i, column=j, value=v)
                if col in formats and not isinstance(v, str):
                    c.number_format = formats[col]
        ws.freeze_panes = "A2"
    wb.save(out)
    return out
