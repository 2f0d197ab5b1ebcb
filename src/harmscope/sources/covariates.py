"""Covariate files: one named series (officer FTE, youth-service spend...) by area and period.

The format (also in docs/DEVELOPING.md and ``harmscope covariates add --help``)::

    # lines starting with '#' are notes (keep the source here too)
    area,period,value[,area_name][,unit]
    kent,2018/19,3552.57
    Essex Police,2018/19,3070.95

* ``area``: a police force (police.uk slug such as ``kent``, its name ``Kent Police`` or the
  short name ``Kent``), a community safety partnership (``Ashford CSP``) or a district (GSS code
  ``E07000105`` or name ``Ashford``). One level per file: the level that names the most rows
  wins, and a row that does not name an area at that level is an error.
* ``period``: a calendar year ``2019``, a financial year ``2018/19`` (also ``2018/2019``,
  ``2018-2019``, ``FY2018-19``; it starts on 1 April) or a month ``2019-03``. One kind per file.
  ``2018-19`` is refused: it reads as a month.
* ``value``: a finite number (thousands separators allowed).
* ``unit``: given with ``--unit``, or as a column that holds one unit only.

A file is loaded whole or not at all: any bad row (unknown area, duplicate area-period, a value
that is not a number, a missing unit) stops the load with every problem listed by line, and
the store keeps exactly the rows it held before. So rows read always equal rows loaded.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LEVELS = ("force", "district", "csp")
MAX_LISTED = 12  # problems printed in one error; the count of the rest is given

_YEAR = re.compile(r"^(\d{4})$")
# 2018/19, 2018/2019, 2018-2019, FY2018/19, FY2018-19; never 2018-19, which reads as a month
_FY = re.compile(
    r"^(?:(\d{4})\s*/\s*(\d{2}|\d{4})|(\d{4})-(\d{4})|fy\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4}))$", re.I
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class CovariateReport:
    name: str
    file: str
    rows_read: int
    rows_loaded: int
    area_level: str
    period_kind: str
    areas: int
    periods: list[str]
    unit: str
    source: str
    synthetic: bool = False
    replaced: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


# -- periods -----------------------------------------------------------------------------------
def parse_period(text: str) -> tuple[str, str, date] | None:
    """'2018/19' -> ('financial_year', '2018/19', 2018-04-01); None when not a period."""
    t = str(text).strip()
    if m := _YEAR.match(t):
        y = int(m.group(1))
        if 1900 <= y <= 2100:
            return "year", str(y), date(y, 1, 1)
        return None
    if m := _MONTH.match(t):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1900 <= y <= 2100 and 1 <= mo <= 12:
            return "month", f"{y:04d}-{mo:02d}", date(y, mo, 1)
        return None
    if m := _FY.match(t):
        groups = [g for g in m.groups() if g is not None]
        y, end = int(groups[0]), groups[1]
        # a two-digit end is the next year's last two digits (1999/00 ends in 2000)
        end_y = int(end) if len(end) == 4 else (y + 1 if int(end) == (y + 1) % 100 else -1)
        if end_y == y + 1 and 1900 <= y <= 2100:  # '2018/20' is not a financial year
            return "financial_year", f"{y}/{(y + 1) % 100:02d}", date(y, 4, 1)
    return None


# -- areas -------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    t = str(text).strip().lower().replace("&", " and ")
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _force_short(name: str) -> str:
    # 'Avon and Somerset Constabulary' -> 'avon and somerset'; 'Metropolitan Police Service' -> 'metropolitan'
    t = _norm(name)
    for word in (" police service", " constabulary", " police"):
        if t.endswith(word):
            t = t[: -len(word)]
    return t.strip()


def area_lookup() -> dict[str, dict[str, tuple[str, str]]]:
    """For each level, normalised spelling -> (code, display name).

    Forces are keyed by the name police.uk files use in "Falls within" ("Kent Police"), so a
    covariate joins the store's rows; districts by GSS code; CSPs by name (lad.csv's ``csp``).
    """
    from harmscope.reference.tables import load_forces, load_lad

    out: dict[str, dict[str, tuple[str, str]]] = {lvl: {} for lvl in LEVELS}
    for r in load_forces().itertuples():
        entry = (str(r.force_name), str(r.force_name))
        for key in (r.force_slug, r.force_name, _force_short(r.force_name)):
            out["force"][_norm(key)] = entry
    # spellings in the Home Office workforce and recorded-crime tables
    extra = {
        "metropolitan police": "metropolitan",
        "london city of": "city-of-london",
        "city of london": "city-of-london",
        "dyfed powys": "dyfed-powys",
    }
    forces = {
        _norm(r.force_slug): (str(r.force_name), str(r.force_name))
        for r in load_forces().itertuples()
    }
    for key, slug in extra.items():
        out["force"][_norm(key)] = forces[_norm(slug)]
    for r in load_lad().itertuples():
        entry = (str(r.lad_code), str(r.lad_name))
        out["district"][_norm(r.lad_code)] = entry
        out["district"][_norm(r.lad_name)] = entry
        if isinstance(r.alt_names, str) and r.alt_names:
            for alt in r.alt_names.split("|"):
                out["district"].setdefault(_norm(alt), entry)
        if isinstance(r.csp, str) and r.csp:
            out["csp"][_norm(r.csp)] = (r.csp, r.csp)
            out["csp"].setdefault(_norm(re.sub(r"\s*CSP$", "", r.csp)), (r.csp, r.csp))
    return out


def _close(text: str, keys: dict[str, tuple[str, str]]) -> str:
    hits = difflib.get_close_matches(_norm(text), list(keys), n=3, cutoff=0.75)
    names = list(dict.fromkeys(keys[h][1] for h in hits))
    return f" (did you mean {', '.join(names)}?)" if names else ""


# -- reading -----------------------------------------------------------------------------------
def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HarmscopeError(
            f"cannot read {path}: {exc.strerror}",
            where="covariates add",
            fix="check the path and its permissions",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HarmscopeError(
            f"{path.name} is not UTF-8 text", where=str(path), fix="save the file as CSV (UTF-8)"
        ) from None
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for lineno, rec in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not rec or all(not c.strip() for c in rec) or rec[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in rec]
            continue
        rows.append((lineno, rec))
    if header is None:
        raise HarmscopeError(
            f"{path.name} has no header row",
            where=str(path),
            fix="start the file with: area,period,value",
        )
    missing = [c for c in ("area", "period", "value") if c not in header]
    if missing:
        raise HarmscopeError(
            f"{path.name} lacks the column(s) {', '.join(missing)} (has: {', '.join(header)})",
            where=str(path),
            fix="the header must name area, period and value",
        )
    return header, rows


def _number(text: str) -> float | None:
    t = str(text).strip().replace(",", "").replace(" ", "")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def read_covariate(path: str | Path, *, unit: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Validate a covariate file. Returns (rows, facts) or raises listing every bad line."""
    path = Path(path)
    header, rows = _read_rows(path)
    if not rows:
        raise HarmscopeError(
            f"{path.name} has a header but no rows",
            where=str(path),
            fix="add one row per area and period",
        )
    col = {c: header.index(c) for c in header}

    def cell(rec: list[str], name: str) -> str:
        return cell_text(rec, col, name)

    final_unit, problems = _unit(path, rows, "unit" in col, cell, unit)
    lookup = area_lookup()
    # choose the level that names the most rows (ties: force, district, csp)
    hits = {lvl: sum(_norm(cell(r, "area")) in lookup[lvl] for _, r in rows) for lvl in LEVELS}
    level = max(LEVELS, key=lambda lvl: (hits[lvl], -LEVELS.index(lvl)))
    out, row_problems, kinds = _covariate_rows(rows, cell, level, lookup[level])
    problems += row_problems
    if len(kinds) > 1:
        desc = ", ".join(f"{k} (first on line {ln})" for k, ln in kinds.items())
        problems.insert(0, f"periods of more than one kind: {desc}")
    if problems:
        raise problems_error(
            path,
            problems,
            len(rows),
            outcome="nothing loaded",
            fix="correct these lines (areas are force, CSP or district names or codes at one "
            "level; one row per area and period) and add the file again",
        )
    frame = pd.DataFrame(out)
    facts = {
        "unit": final_unit,
        "area_level": level,
        "period_kind": next(iter(kinds)),
        "rows_read": len(rows),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    return frame, facts


def cell_text(rec: list[str], col: dict[str, int], name: str) -> str:
    """The trimmed cell of column ``name`` ('' when the column or the cell is absent)."""
    i = col.get(name)
    return rec[i].strip() if i is not None and i < len(rec) else ""


def area_period_row(hit: tuple[str, str], per: tuple, area_name: str) -> dict:
    """The leading fields of a stored row: the area found, its name (the file's, else the
    reference name) and the period."""
    return {
        "area_code": hit[0],
        "area_name": area_name or hit[1],
        "period": per[1],
        "period_start": per[2],
    }


def problems_error(
    path: Path, problems: list[str], n_rows: int, *, outcome: str, fix: str
) -> HarmscopeError:
    """One error listing the first MAX_LISTED problems by line (the file is used whole or
    not at all) and how many more there are."""
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return HarmscopeError(
        f"{path.name}: {len(problems)} problem(s) in {n_rows} rows, {outcome}: "
        + "; ".join(problems[:MAX_LISTED])
        + more,
        where=str(path),
        fix=fix,
    )


def _unit(path: Path, rows, has_column: bool, cell, unit: str | None) -> tuple[str, list[str]]:
    """(the series' unit, problems): from --unit, or a unit column holding one value."""
    problems: list[str] = []
    units = sorted({cell(r, "unit") for _, r in rows if has_column} - {""})
    if has_column and len(units) > 1:
        problems.append(
            f"the unit column holds several units ({', '.join(units)}); a series has one"
        )
    if has_column and len(units) == 1 and unit and units[0].lower() != unit.strip().lower():
        problems.append(f"the file's unit {units[0]!r} differs from --unit {unit!r}")
    if has_column:
        blank = [ln for ln, r in rows if not cell(r, "unit")]
        if blank and units:
            problems.append(f"unit missing on line(s) {', '.join(map(str, blank[:MAX_LISTED]))}")
    final_unit = (unit or "").strip() or (units[0] if len(units) == 1 else "")
    if not final_unit and not problems:
        raise HarmscopeError(
            f"{path.name}: the unit is missing",
            where="--unit",
            fix="say what the values count, e.g. --unit FTE, or add a unit column",
        )
    return final_unit, problems


def _covariate_rows(rows, cell, level: str, keys) -> tuple[list[dict], list[str], dict[str, int]]:
    """(good rows, problems by line, period kinds with the first line of each)."""
    kinds: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    out, problems = [], []
    for lineno, rec in rows:
        area_text, period_text, value_text = (
            cell(rec, "area"),
            cell(rec, "period"),
            cell(rec, "value"),
        )
        bad = []
        hit = keys.get(_norm(area_text)) if area_text else None
        if not area_text:
            bad.append("area is empty")
        elif hit is None:
            bad.append(f"unknown {level} {area_text!r}{_close(area_text, keys)}")
        per = parse_period(period_text)
        if per is None:
            bad.append(
                f"period {period_text!r} is not a year (2019), financial year (2018/19) "
                "or month (2019-03)"
            )
        else:
            kinds.setdefault(per[0], lineno)
        value = _number(value_text)
        if value is None:
            bad.append(f"value {value_text!r} is not a number" if value_text else "value is empty")
        if hit is not None and per is not None:
            k = (hit[0], per[1])
            if k in seen:
                bad.append(f"duplicate of line {seen[k]} ({hit[1]}, {per[1]})")
            else:
                seen[k] = lineno
        if bad:
            problems.append(f"line {lineno}: {'; '.join(bad)}")
            continue
        out.append(
            {**area_period_row(hit, per, cell(rec, "area_name")), "value": value, "line": lineno}
        )
    return out, problems, kinds


def add_covariate(
    store,
    path: str | Path,
    *,
    name: str,
    unit: str | None,
    source: str,
    synthetic: bool = False,
    replace: bool = False,
) -> CovariateReport:
    """Validate ``path`` and store it as the series ``name`` (all or nothing)."""
    if not name or not NAME_RE.match(name):
        raise HarmscopeError(
            f"{name!r} is not a series name",
            where="--name",
            fix="use lower-case letters, digits and _ starting with a letter, e.g. officers_fte",
        )
    if not source or not str(source).strip():
        raise HarmscopeError(
            "the source is missing",
            where="--source",
            fix='say where the figures come from, e.g. --source "Home Office, Police workforce '
            'England and Wales, 31 March 2019, table 3 (OGL v3.0)"',
        )
    path = Path(path)
    frame, facts = read_covariate(path, unit=unit)
    held = store.query("SELECT count(*) AS n FROM covariates WHERE name = ?", [name]).n[0]
    if held and not replace:
        raise HarmscopeError(
            f"a covariate called {name!r} is already held",
            where="--name",
            fix="pass --replace to swap in the new file, or choose another --name",
        )
    frame = frame.assign(name=name)
    with store.transaction():
        store.con.execute("DELETE FROM covariate_values WHERE name = ?", [name])
        store.con.execute("DELETE FROM covariates WHERE name = ?", [name])
        store.con.execute(
            "INSERT INTO covariates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                facts["unit"],
                str(source).strip(),
                facts["area_level"],
                facts["period_kind"],
                str(path),
                facts["sha256"],
                len(frame),
                bool(synthetic),
                datetime.now(),
            ],
        )
        store.con.register("_cov_rows", frame)
        try:
            store.con.execute(
                "INSERT INTO covariate_values SELECT name, area_code, area_name, period, "
                "period_start, value, line FROM _cov_rows"
            )
        finally:
            store.con.unregister("_cov_rows")
    return CovariateReport(
        name=name,
        file=str(path),
        rows_read=facts["rows_read"],
        rows_loaded=len(frame),
        area_level=facts["area_level"],
        period_kind=facts["period_kind"],
        areas=int(frame.area_code.nunique()),
        periods=sorted(frame.period.unique().tolist()),
        unit=facts["unit"],
        source=str(source).strip(),
        synthetic=bool(synthetic),
        replaced=bool(held),
    )


def load_covariate(store, name: str) -> tuple[pd.DataFrame, dict]:
    """The stored series ``name``: (values, its covariates row as a dict)."""
    meta = store.query("SELECT * FROM covariates WHERE name = ?", [name])
    if meta.empty:
        held = store.query("SELECT name FROM covariates ORDER BY name").name.tolist()
        raise HarmscopeError(
            f"no covariate called {name!r}" + (f" (held: {', '.join(held)})" if held else ""),
            where="--covariate",
            fix="add it first: harmscope covariates add FILE --name NAME --unit UNIT --source ...",
        )
    values = store.query(
        "SELECT area_code, area_name, period, period_start, value FROM covariate_values "
        "WHERE name = ? ORDER BY area_code, period_start",
        [name],
    )
    return values, meta.iloc[0].to_dict()
