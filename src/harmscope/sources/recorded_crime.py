"""A user-supplied table of recorded crime by area and period (the outcome for ``drivers``).

The store's police.uk street files cover only the months a partnership has ingested; the
long force-by-year series (ONS / Home Office "Police recorded crime by police force area")
is the usual outcome for a cross-force panel. Its format here::

    # source: ONS, Police recorded crime by Police Force Area, year ending March 2024 (OGL v3.0)
    area,period,offence,count[,population][,area_name]
    kent,2018/19,Violence against the person,55123,1846500
    kent,2018/19,Bicycle theft,1201,1846500

* ``area`` and ``period`` follow the covariate format (:mod:`harmscope.sources.covariates`);
  the level and period kind must be those of the covariate.
* ``offence``: any names; ``violence`` matches "Violence against the person" and "Violence and
  sexual offences"; the placebo is named with ``--placebo``.
* ``count``: a whole number of offences, zero or more. ``population`` (optional): the area's
  population in that period, for rates per head.
* A ``# source:`` line says where the figures come from; a file whose notes say SYNTHETIC is
  labelled synthetic in every output.

Like a covariate file, the table is checked whole: unknown areas, duplicate area-period-offence
rows and counts that are not whole numbers are listed by line and nothing is used.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.sources.covariates import (
    _close,
    _norm,
    _number,
    area_lookup,
    area_period_row,
    cell_text,
    parse_period,
    problems_error,
)


def read_outcome_table(
    path: str | Path, *, level: str, period_kind: str
) -> tuple[pd.DataFrame, str, list[str]]:
    """Rows (area_code, area_name, period, period_start, offence, count, population), the
    source text and notes."""
    path = Path(path)
    where = str(path)
    comments, header, rows = _read_outcome_rows(path)
    need = ("area", "period", "offence", "count")
    if header is None or any(c not in header for c in need):
        raise HarmscopeError(
            f"{path.name} needs the columns {', '.join(need)}"
            + (f" (has: {', '.join(header)})" if header else " (no header found)"),
            where=where,
            fix="see `harmscope drivers --help` for the outcome table format",
        )
    col = {c: i for i, c in enumerate(header)}
    keys = area_lookup()[level]
    problems, out, seen = [], [], {}
    for lineno, rec in rows:
        row, bad = _outcome_row(rec, col, keys, level, period_kind)
        if row is not None:
            k = (row["area_code"], row["period"], _norm(row["offence"]))
            if k in seen:
                bad.append(f"duplicate of line {seen[k]}")
            seen.setdefault(k, lineno)
        if bad:
            problems.append(f"line {lineno}: {'; '.join(bad)}")
            continue
        out.append(row)
    if problems:
        raise problems_error(
            path,
            problems,
            len(rows),
            outcome="nothing used",
            fix="correct these lines and run again",
        )
    if not out:
        raise HarmscopeError(f"{path.name} has no rows", where=where, fix="add rows")
    return pd.DataFrame(out), _source(comments, path), []


def _read_outcome_rows(path: Path) -> tuple[list[str], list[str] | None, list[tuple]]:
    """(notes from '#' lines, the header in lower case, (line, cells) of every data row)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise HarmscopeError(
            f"cannot read {path}: {exc.strerror}", where="--outcome-file", fix="check the path"
        ) from None
    except UnicodeDecodeError:
        raise HarmscopeError(
            f"{path.name} is not UTF-8 text", where=str(path), fix="save it as CSV (UTF-8)"
        ) from None
    comments, header, rows = [], None, []
    for lineno, rec in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not rec or all(not c.strip() for c in rec):
            continue
        if rec[0].lstrip().startswith("#"):
            comments.append(",".join(rec).lstrip("# ").strip())
            continue
        if header is None:
            header = [c.strip().lower() for c in rec]
            continue
        rows.append((lineno, rec))
    return comments, header, rows


def _outcome_row(rec, col, keys, level: str, period_kind: str) -> tuple[dict | None, list[str]]:
    """(the row, or None when its area, period or offence is unknown; its problems). The
    row is returned with other problems too, so a duplicate is still found by its key."""

    def cell(name: str) -> str:
        return cell_text(rec, col, name)

    bad = []
    a = cell("area")
    hit = keys.get(_norm(a)) if a else None
    if hit is None:
        bad.append(f"unknown {level} {a!r}{_close(a, keys) if a else ''}")
    per = parse_period(cell("period"))
    if per is None or per[0] != period_kind:
        bad.append(
            f"period {cell('period')!r} is not a {period_kind.replace('_', ' ')} "
            "(the covariate's kind)"
        )
    offence = cell("offence")
    if not offence:
        bad.append("offence is empty")
    n = _number(cell("count"))
    if n is None or n < 0 or n != int(n):
        bad.append(f"count {cell('count')!r} is not a whole number of offences")
    pop = _number(cell("population")) if "population" in col else None
    if "population" in col and cell("population") and (pop is None or pop <= 0):
        bad.append(f"population {cell('population')!r} is not a positive number")
    if not (hit and per and offence):
        return None, bad
    row = {
        **area_period_row(hit, per, cell("area_name")),
        "period_start": pd.Timestamp(per[2]),
        "offence": offence,
        "count": int(n) if not bad else None,
        "population": pop,
    }
    return row, bad


def _source(comments: list[str], path: Path) -> str:
    """The '# source:' note (else says there was none); SYNTHETIC when the notes say so."""
    source = next(
        (c.split(":", 1)[1].strip() for c in comments if c.lower().startswith("source:")),
        f"user-supplied table {path.name} (no '# source:' line)",
    )
    if any("synthetic" in c.lower() for c in comments) and "synthetic" not in source.lower():
        source = "SYNTHETIC: " + source
    return source
