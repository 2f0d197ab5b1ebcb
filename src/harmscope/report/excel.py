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


def column_formats(df: pd.DataFrame, *, whole_when_large: bool = True) -> dict:
    """Excel number formats by column: whole numbers, % for shares and rates, 0.000 for
    p-values, months as "Jan 2025". With ``whole_when_large`` a float column whose values are
    all 100 or more is shown without decimals (the report's harm totals); an export keeps two."""
    formats = {}
    for col in df.columns:
        name, s = str(col), df[col]
        if pd.api.types.is_integer_dtype(s.dtype):
            formats[col] = "#,##0"
        elif pd.api.types.is_float_dtype(s.dtype):
            formats[col] = _float_format(name, s, whole_when_large)
        elif name == "month" or pd.api.types.is_datetime64_any_dtype(s.dtype):
            formats[col] = "mmm yyyy"
    return formats


def _float_format(name: str, s: pd.Series, whole_when_large: bool) -> str:
    if is_percent_column(name, s):
        return "0.0%"
    if is_p_column(name):
        return "0.000"
    v = s.dropna().abs()
    return "#,##0" if whole_when_large and len(v) and (v >= 100).all() else "#,##0.00"


def write_readme(wb, lines: list[tuple[str, str]], *, first_width: int) -> None:
    """The workbook's first sheet, README: a bold heading and its wrapped text per row."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    ws = wb.active
    ws.title = "README"
    for r, (a, b) in enumerate(lines, start=1):
        ws.cell(row=r, column=1, value=a).font = bold
        ws.cell(row=r, column=2, value=b).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = first_width
    ws.column_dimensions["B"].width = 110


def write_sheet(wb, name: str, df: pd.DataFrame, hidden: set, formats: dict) -> None:
    """One table as a typed sheet: labelled header, numbers as numbers in ``formats``, a
    missing value in a ``hidden`` (protected) column as [c], the header row frozen."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    ws = wb.create_sheet(name)
    for j, col in enumerate(df.columns, start=1):
        head = label(str(col))
        ws.cell(row=1, column=j, value=head).font = bold
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, len(head) + 2))
    for i, rec in enumerate(df.itertuples(index=False), start=2):
        for j, (col, val) in enumerate(zip(df.columns, rec, strict=True), start=1):
            v = _cell(val, month=str(col) == "month")
            if v is None and col in hidden:
                v = SUPPRESSED
            elif isinstance(v, (list, dict, tuple)):
                v = str(v)  # an interval held as a pair: a cell takes one value
            c = ws.cell(row=i, column=j, value=v)
            if col in formats and not isinstance(v, str):
                c.number_format = formats[col]
    ws.freeze_panes = "A2"


def _readme_lines(report, names: dict[str, str]) -> list[tuple[str, str]]:
    """The report workbook's README: area, period, audience, sources, sheets, methods."""
    ctx = report.ctx
    pub = report.publication
    titles = {b.section.key: b.section.title for b in report.sections if b.section is not None}
    methods = {
        b.section.key: b.section.method
        for b in report.sections
        if b.section is not None and b.section.method and not b.withheld
    }
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
    if ctx.aud.suppress:
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
    return lines


def write_workbook(report, out: str | Path) -> Path:
    from openpyxl import Workbook

    out = Path(out)
    pub = report.publication
    public = report.ctx.aud.suppress
    tables: dict[str, pd.DataFrame] = dict(pub.tables) if pub is not None else {}
    names = sheet_names(list(tables))
    wb = Workbook()
    write_readme(wb, _readme_lines(report, names), first_width=34)
    for key, df in tables.items():
        write_sheet(wb, names[key], df, _hidden_cols(df, public), column_formats(df))
    wb.save(out)
    return out
