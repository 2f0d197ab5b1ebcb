"""Two small user-supplied tables for the Serious Violence Duty outcome measures
(``harmscope outcomes --hes FILE --ho-table FILE``), read at run time, never stored.

Both formats are documented, with a small example each, in
``harmscope/reference/data/outcomes/README.md``:

* a **HES-style admissions table**: ``month,area_code,age_group,admissions[,icd10]``, hospital
  admissions for assault by sharp object (ICD-10 X99) by month, district and age group;
* a **Home Office-style table**: ``period,force,measure,count[,age_group]``, knife or sharp
  object enabled serious violence and homicide by force and year, financial year, quarter or
  month.

Like every loader here, a row is used or rejected, never lost: rows read = loaded + duplicate
+ rejected, and each reject carries the file, the line and the reason (the report is part of
the outcome result's notes and tables). A whole-file problem (unreadable, no header, a missing
column) is an error naming the fix. Lines starting with ``#`` are notes; a ``# source:`` line
says where the figures come from, and a note containing SYNTHETIC labels the file synthetic.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.sources._bookkeeping import LoadReport, normalise_header
from harmscope.sources.covariates import _norm, area_lookup, parse_period

HES_COLUMNS = ("month", "area_code", "age_group", "admissions")
HO_COLUMNS = ("period", "force", "measure", "count")
HO_MEASURES = ("knife_enabled_serious_violence", "homicide")
_MEASURE_SPELLINGS = {
    "knife_enabled_serious_violence": "knife_enabled_serious_violence",
    "knife enabled serious violence": "knife_enabled_serious_violence",
    "knife or sharp object enabled serious violence": "knife_enabled_serious_violence",
    "knife and sharp object enabled serious violence": "knife_enabled_serious_violence",
    "homicide": "homicide",
    "homicides": "homicide",
}
# Age groups of the HES table (under 25 is the measure's split).
_HES_AGES = {
    "under_25": "under_25",
    "under 25": "under_25",
    "0-24": "under_25",
    "<25": "under_25",
    "25_and_over": "25_and_over",
    "25 and over": "25_and_over",
    "25+": "25_and_over",
    "unknown": "unknown",
    "": "unknown",
}
_HO_AGES = {
    "all": "all",
    "": "all",
    "under_25": "under_25",
    "under 25": "under_25",
    "0-24": "under_25",
}
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*q([1-4])$", re.I)
_MONTH_DAY = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")


@dataclass
class TableReport(LoadReport):
    """What reading one outcome table did: the four counts, every reject with file, line and
    reason, and the file's ``# source:`` note."""

    kind: str = ""
    source: str = ""
    rejects: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rows_rejected += 1
        self.reject_reasons[reason.split(":")[0]] += 1
        self.rejects.append({"file": self.path, "line": line, "reason": reason})

    def duplicate(self, line: int, first: int) -> None:
        self.rows_duplicate += 1
        self.rejects.append(
            {"file": self.path, "line": line, "reason": f"duplicate of line {first} (not used)"}
        )

    def to_dict(self) -> dict:
        return {
            **self.counts_dict(),
            "kind": self.kind,
            "source": self.source,
            "synthetic": self.synthetic,
            "reject_reasons": dict(self.reject_reasons),
        }


def _read(path: Path, need: tuple[str, ...], fix: str) -> tuple[list[str], list, list[str]]:
    """(header, [(line, cells)], notes) of a small CSV; a whole-file problem raises."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HarmscopeError(
            f"cannot read {path}: {exc.strerror}", where=str(path), fix="check the path"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HarmscopeError(
            f"{path.name} is not UTF-8 text", where=str(path), fix="save the file as CSV (UTF-8)"
        ) from None
    header: list[str] | None = None
    rows, notes = [], []
    for lineno, rec in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not rec or all(not c.strip() for c in rec):
            continue
        if rec[0].lstrip().startswith("#"):
            if header is None:
                notes.append(",".join(rec).lstrip("# ").strip())
                continue
            rows.append((lineno, rec))  # a '#' line after the header is a bad row, not a note
            continue
        if header is None:
            header = normalise_header(rec)
            continue
        rows.append((lineno, rec))
    missing = [c for c in need if header is None or c not in header]
    if missing:
        raise HarmscopeError(
            f"{path.name} lacks the column(s) {', '.join(missing)}"
            + (f" (has: {', '.join(header)})" if header else " (no header row)"),
            where=str(path),
            fix=fix,
        )
    return header, rows, notes


def _source_and_synthetic(notes: list[str]) -> tuple[str, bool]:
    source = next(
        (n.split(":", 1)[1].strip() for n in notes if n.lower().startswith("source:")), ""
    )
    return source, any("synthetic" in n.lower() for n in notes)


def _whole(text: str) -> int | None:
    t = text.strip().replace(",", "")
    return int(t) if t.isdigit() else None


def _count_problem(text: str, name: str) -> str:
    t = text.strip()
    if t in ("*", "-", "..", "c", "[c]", "[x]", "x"):
        return (
            f"{name} {t!r} is a suppressed cell: it cannot be counted (the total is a lower "
            "bound; ask the provider for the unsuppressed extract)"
        )
    return f"{name} {t!r} is not a whole number of 0 or more" if t else f"{name} is empty"


def _month(text: str) -> date | None:
    m = _MONTH_DAY.match(text.strip())
    if m and 1900 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _cells(header: list[str], rec: list[str]) -> dict[str, str]:
    return {h: (rec[i].strip() if i < len(rec) else "") for i, h in enumerate(header)}


def read_hes_table(path: str | Path) -> tuple[pd.DataFrame, TableReport]:
    """A HES-style table: rows (month, lad_code, lad_name, age_group, admissions, line) and
    the read report (see the module doc and the outcomes README)."""
    path = Path(path)
    header, rows, notes = _read(
        path, HES_COLUMNS, "the header must be: month,area_code,age_group,admissions"
    )
    source, synthetic = _source_and_synthetic(notes)
    rep = TableReport(str(path), kind="hes", source=source, synthetic=synthetic)
    districts = area_lookup()["district"]
    seen: dict[tuple, int] = {}
    out = []
    for lineno, rec in rows:
        rep.rows_read += 1
        c = _cells(header, rec)
        month = _month(c["month"])
        hit = districts.get(_norm(c["area_code"])) if c["area_code"] else None
        age = _HES_AGES.get(c["age_group"].lower())
        n = _whole(c["admissions"])
        icd = c.get("icd10", "X99").upper().replace(".", "")
        bad = [
            *([] if month else [f"month {c['month']!r} is not YYYY-MM"]),
            *(
                []
                if hit
                else [f"area_code {c['area_code']!r} is not a district (GSS code or name)"]
            ),
            *(
                []
                if age
                else [f"age_group {c['age_group']!r} is not under_25, 25_and_over or unknown"]
            ),
            *([] if n is not None else [_count_problem(c["admissions"], "admissions")]),
            *(
                []
                if icd in ("X99", "")
                else [f"icd10 {c['icd10']!r} is not X99 (assault by sharp object)"]
            ),
        ]
        if bad:
            rep.reject(lineno, "; ".join(bad))
            continue
        key = (month, hit[0], age)
        if key in seen:
            rep.duplicate(lineno, seen[key])
            continue
        seen[key] = lineno
        rep.rows_loaded += 1
        out.append(
            {
                "month": month,
                "lad_code": hit[0],
                "lad_name": hit[1],
                "age_group": age,
                "admissions": n,
                "line": lineno,
            }
        )
    rep.check_conserved()
    cols = ["month", "lad_code", "lad_name", "age_group", "admissions", "line"]
    return pd.DataFrame(out, columns=cols), rep


def ho_period(text: str) -> tuple[str, str, date, date] | None:
    """'2024-Q1' / '2024/25' / '2024' / '2024-03' -> (kind, label, first month, last month)."""
    t = text.strip()
    if m := _QUARTER.match(t):
        y, q = int(m.group(1)), int(m.group(2))
        return "quarter", f"{y}-Q{q}", date(y, 3 * q - 2, 1), date(y, 3 * q, 1)
    per = parse_period(t)
    if per is None:
        return None
    kind, label, start = per
    if kind == "year":
        return kind, label, start, date(start.year, 12, 1)
    if kind == "financial_year":
        return kind, label, start, date(start.year + 1, 3, 1)
    return kind, label, start, start


def read_ho_table(path: str | Path) -> tuple[pd.DataFrame, TableReport]:
    """A Home Office-style table: rows (period, period_kind, first_month, last_month, force,
    measure, age_group, count, line) and the read report. One period kind per file: a row of
    another kind is rejected, naming the kind of the file."""
    path = Path(path)
    header, rows, notes = _read(
        path, HO_COLUMNS, "the header must be: period,force,measure,count[,age_group]"
    )
    source, synthetic = _source_and_synthetic(notes)
    rep = TableReport(str(path), kind="home_office", source=source, synthetic=synthetic)
    forces = area_lookup()["force"]
    seen: dict[tuple, int] = {}
    first_kind: tuple[str, int] | None = None
    out = []
    for lineno, rec in rows:
        rep.rows_read += 1
        c = _cells(header, rec)
        per = ho_period(c["period"])
        hit = forces.get(_norm(c["force"])) if c["force"] else None
        measure = _MEASURE_SPELLINGS.get(" ".join(c["measure"].lower().replace("-", " ").split()))
        measure = measure or _MEASURE_SPELLINGS.get(c["measure"].lower())
        age = _HO_AGES.get(c.get("age_group", "").lower())
        n = _whole(c["count"])
        bad = [
            *(
                []
                if per
                else [
                    f"period {c['period']!r} is not a year, financial year (2024/25), quarter (2024-Q1) or month"
                ]
            ),
            *([] if hit else [f"force {c['force']!r} is not a police force"]),
            *([] if measure else [f"measure {c['measure']!r} is not {' or '.join(HO_MEASURES)}"]),
            *([] if age else [f"age_group {c.get('age_group')!r} is not all or under_25"]),
            *([] if n is not None else [_count_problem(c["count"], "count")]),
        ]
        if per and first_kind and per[0] != first_kind[0]:
            bad.append(
                f"period kind {per[0]} differs from the file's ({first_kind[0]}, line {first_kind[1]})"
            )
        if bad:
            rep.reject(lineno, "; ".join(bad))
            continue
        first_kind = first_kind or (per[0], lineno)
        key = (per[1], hit[0], measure, age)
        if key in seen:
            rep.duplicate(lineno, seen[key])
            continue
        seen[key] = lineno
        rep.rows_loaded += 1
        out.append(
            {
                "period": per[1],
                "period_kind": per[0],
                "first_month": per[2],
                "last_month": per[3],
                "force": hit[0],
                "measure": measure,
                "age_group": age,
                "count": n,
                "line": lineno,
            }
        )
    rep.check_conserved()
    cols = [
        "period",
        "period_kind",
        "first_month",
        "last_month",
        "force",
        "measure",
        "age_group",
        "count",
        "line",
    ]
    return pd.DataFrame(out, columns=cols), rep
