"""Table files for an audience, one rule for every command: ``--out`` picks the format from the
file's extension (issue 12).

- ``.csv``: floats rounded as ``export.rounding`` does (4 decimals for fractions, 2 otherwise).
- ``.xlsx``: a README sheet first (what, audience, source, method, notes), then one typed sheet
  per table: whole numbers as numbers, shares and rates as %, months as dates; a suppressed
  cell holds [c] (ONS practice) so it cannot be read as a zero. Written with openpyxl.
- ``.parquet``: written by DuckDB (already a dependency; pyarrow is not needed), floats rounded
  as for CSV, column types kept.

Several tables to one path: ``.xlsx`` puts them in one workbook; ``.csv`` and ``.parquet`` write
the first table at the path and each other one beside it as ``<stem>_<table><ext>``. Any other
extension is refused with a :class:`HarmscopeError` naming the formats, before anything runs
(``check_out``), so a long analysis never ends in a silent wrong format.

Callers hand in ``pub.tables`` (tables that went through the publishing path), never a frame of
their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.export.rounding import round_for_export

TABLE_FORMATS = (".csv", ".xlsx", ".parquet")
_SAFE = re.compile(r"[^\w-]+")  # table keys such as "outcomes.by_month" in file names


def check_out(
    path: Path | str | None,
    where: str = "--out",
    *,
    formats: Iterable[str] = TABLE_FORMATS,
    folder_ok: bool = False,
) -> str | None:
    """The format (extension, lower case) ``path`` will be written in; ``None`` for no path.

    With ``folder_ok`` a path without an extension (or an existing folder) is a folder and
    gives ``""``. Refuses an unknown extension, a missing parent folder and a folder given as a
    file, all before any work is done.
    """
    if path is None:
        return None
    p = Path(path)
    formats = [f.lower() for f in formats]
    if folder_ok and (p.is_dir() or p.suffix == ""):
        return ""
    ext = p.suffix.lower()
    if ext not in formats:
        said = f"a {p.suffix} file" if p.suffix else "a file without an extension"
        raise HarmscopeError(
            f"cannot write {said}: the format is taken from the extension",
            where=f"{where} {p}",
            fix=f"end the file name in one of {', '.join(formats)}"
            + (", or give a folder" if folder_ok else ""),
        )
    if p.is_dir():
        raise HarmscopeError(
            f"{p} is a folder", where=where, fix=f"give a file name, e.g. {p / ('out' + ext)}"
        )
    if not p.parent.exists():
        raise HarmscopeError(
            f"the folder {p.parent} does not exist", where=where, fix="create it first"
        )
    return ext


def table_paths(names: Iterable[str], path: Path | str) -> dict[str, Path]:
    """Where each table goes for ``path`` (see the module note); the first name takes ``path``."""
    p = Path(path)
    names = list(names)
    if p.suffix.lower() == ".xlsx":
        return {n: p for n in names}
    return {
        n: p if i == 0 else p.with_name(f"{p.stem}_{_SAFE.sub('_', n)}{p.suffix}")
        for i, n in enumerate(names)
    }


def write_table(
    df: pd.DataFrame, path: Path | str, *, readme: Iterable[tuple[str, str]] = ()
) -> Path:
    """One table to ``path`` in the format its extension names."""
    return write_tables({"data": df}, path, readme=readme)[0]


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    path: Path | str,
    *,
    readme: Iterable[tuple[str, str]] = (),
    suppressed_cols: Mapping[str, Iterable[str]] | None = None,
) -> list[Path]:
    """Tables to ``path`` (format from the extension); returns the files written.

    ``readme``: (heading, text) rows for the workbook's README sheet (ignored for CSV and
    parquet, whose callers write the method beside them or print it). ``suppressed_cols``: per
    table, the columns where a missing value means suppressed ([c] in Excel).
    """
    ext = check_out(path)
    p = Path(path)
    if not tables:
        raise HarmscopeError(
            "there is no table to write", where=f"--out {p}", fix="check the audience and filters"
        )
    if ext == ".xlsx":
        _workbook(tables, p, list(readme), suppressed_cols or {})
        return [p]
    written = []
    for name, target in table_paths(tables, p).items():
        frame = round_for_export(tables[name])
        if ext == ".csv":
            frame.to_csv(target, index=False)
        else:
            _parquet(frame, target)
        written.append(target)
    return written


def readme_rows(pub, title: str) -> list[tuple[str, str]]:
    """README rows for a finished Publication: what, audience, source, method, notes, withheld."""
    rows = [
        ("What this is", title),
        ("Audience", pub.audience.label),
        (
            "Source",
            "police.uk open data (Open Government Licence v3.0) and harmscope's packaged "
            "reference tables; each table's source: harmscope reference/data/SOURCES.md.",
        ),
    ]
    if pub.audience.suppress:
        rows.append(
            (
                "Disclosure control",
                "Small counts and cells that would reveal them show [c]; rates and harm built "
                "from them are suppressed too. True zeros are shown.",
            )
        )
    method = pub.texts.get("method")
    if method:
        rows.append(("Method", str(method)))
    for note in pub.texts.get("notes") or []:
        rows.append(("Note", str(note)))
    if pub.dropped:
        rows.append(("Withheld", "; ".join(pub.dropped)))
    rows.append(("Sheets", ", ".join(pub.tables)))
    return rows


def suppressed_columns(pub) -> dict[str, list[str]]:
    """Per table of ``pub``, the protected columns whose blanks are suppressed cells."""
    from harmscope.privacy.audience import CHECKED_ATTR

    if not pub.audience.suppress:
        return {}
    out = {}
    for key, df in pub.tables.items():
        info = df.attrs.get(CHECKED_ATTR, {})
        out[key] = list(info.get("count_cols", [])) + list(info.get("derived_cols", []))
    return out


def _parquet(frame: pd.DataFrame, target: Path) -> None:
    import duckdb

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for col in frame.columns:
        # an all-missing object column has no type DuckDB can infer; text is the honest one
        if frame[col].dtype == object and frame[col].isna().all():
            frame[col] = frame[col].astype("string")
    con = duckdb.connect()
    try:
        con.register("t", frame)
        quoted = str(target).replace("'", "''")
        con.execute(f"COPY t TO '{quoted}' (FORMAT PARQUET)")
    finally:
        con.close()


def _workbook(
    tables: Mapping[str, pd.DataFrame],
    out: Path,
    readme: list[tuple[str, str]],
    suppressed: Mapping[str, Iterable[str]],
) -> None:
    from openpyxl import Workbook

    # the report's workbook rules (sheet names, typed cells, labels) so both read alike
    from harmscope.report.excel import column_formats, sheet_names, write_readme, write_sheet

    wb = Workbook()
    write_readme(wb, readme or [("What this is", "harmscope export")], first_width=24)
    names = sheet_names(list(tables))
    for key, df in tables.items():
        df = round_for_export(df)
        formats = column_formats(df, whole_when_large=False)
        write_sheet(wb, names[key], df, set(suppressed.get(key, ())), formats)
    wb.save(out)
