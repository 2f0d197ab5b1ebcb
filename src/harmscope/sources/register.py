"""Intervention register reader: YAML or CSV, validated into scheme dicts, stored in the store.

Format: see ``harmscope/reference/data/register/README.md``. Every problem is reported with
the file, the scheme (number and name), the field, and how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from harmscope.errors import HarmscopeError
from harmscope.months import parse_month

STRANDS = ("prevention", "engagement and education", "enforcement", "rehabilitation")
AREA_KINDS = ("lsoas", "districts", "point", "countywide")
FIELDS = (
    "name",
    "provider",
    "areas",
    "start",
    "starts",
    "end",
    "cost_gbp",
    "strand",
    "target_outcome",
    "target_group",
    "selected_for_high_counts",
    "notes",
    "evidence",
)
DEFAULT_FORCE = "Kent Police"
_LSOA = re.compile(r"^[EW]0\d{7}$")
CSV_COLUMNS = (
    "name",
    "provider",
    "area_kind",
    "areas",
    "force",
    "start",
    "end",
    "cost_gbp",
    "strand",
    "crime_types",
    "harm",
    "target_group",
    "selected_for_high_counts",
    "notes",
    "starts",
    "evidence",
)


def example_register_path() -> Path:
    return (
        Path(__file__).resolve().parent.parent
        / "reference"
        / "data"
        / "register"
        / "kent_medway_schemes.yaml"
    )


def _police_categories() -> tuple[str, ...]:
    from harmscope.reference.offences import POLICE_CATEGORIES

    return tuple(POLICE_CATEGORIES)


def read_register(path: str | Path) -> list[dict]:
    """Read and validate a register file (.yaml/.yml or .csv). Returns normalised schemes."""
    path = Path(path)
    if not path.exists():
        raise HarmscopeError(
            "file not found", where=str(path), fix="check the path to the register file"
        )
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        raw = _from_csv(text, path)
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark else ""
            raise HarmscopeError(
                f"not valid YAML{line}",
                where=str(path),
                fix="check indentation and quoting (see the register README), or use the CSV form",
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("schemes"), list):
            raise HarmscopeError(
                "expected a top-level 'schemes:' list",
                where=str(path),
                fix="start the file with 'schemes:' followed by one '- name: ...' block per scheme",
            )
        raw = doc["schemes"]
    schemes = [_validate(s, i + 1, path) for i, s in enumerate(raw)]
    names = [s["name"] for s in schemes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise HarmscopeError(
            f"scheme names must be unique; repeated: {', '.join(dup)}",
            where=str(path),
            fix="give each scheme a distinct name (add the area, e.g. 'St Giles Trust (Thanet)')",
        )
    return schemes


def _from_csv(text: str, path: Path) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise HarmscopeError(
            "the CSV has no schemes", where=str(path), fix="add one row per scheme"
        )
    missing = [c for c in ("name", "provider", "area_kind", "areas", "strand") if c not in rows[0]]
    if missing:
        raise HarmscopeError(
            f"missing column(s): {', '.join(missing)}",
            where=str(path),
            fix=f"use the header: {','.join(CSV_COLUMNS)}",
        )
    out = []
    for i, r in enumerate(rows, start=2):
        kind = (r.get("area_kind") or "").strip()
        val = (r.get("areas") or "").strip()
        areas: dict[str, Any]
        if kind == "point":
            try:
                lat, lon, rad = (float(x) for x in val.split(";"))
            except ValueError:
                raise HarmscopeError(
                    f"areas {val!r} is not 'lat;lon;radius_m'",
                    where=f"{path}: line {i}, areas",
                    fix="write a point as e.g. 51.081;1.169;1500",
                ) from None
            areas = {"point": {"lat": lat, "lon": lon, "radius_m": rad}}
        elif kind == "countywide":
            areas = {"countywide": True}
        else:
            areas = {kind: [a.strip() for a in val.split(";") if a.strip()]}
        if (r.get("force") or "").strip():
            areas["force"] = r["force"].strip()
        out.append(
            {
                "name": r.get("name"),
                "provider": r.get("provider"),
                "areas": areas,
                "start": r.get("start") or None,
                "starts": _csv_starts(r.get("starts"), f"{path}: line {i}, starts"),
                "end": r.get("end") or None,
                "cost_gbp": r.get("cost_gbp") or None,
                "strand": r.get("strand"),
                "target_outcome": {
                    "crime_types": [
                        c.strip() for c in (r.get("crime_types") or "").split(";") if c.strip()
                    ]
                    or None,
                    "harm": (r.get("harm") or "true").strip().lower() in ("true", "yes", "1"),
                },
                "target_group": r.get("target_group") or None,
                "selected_for_high_counts": (r.get("selected_for_high_counts") or "")
                .strip()
                .lower()
                in ("true", "yes", "1"),
                "notes": r.get("notes") or None,
                "evidence": _csv_evidence(r.get("evidence")),
            }
        )
    return out


def _csv_starts(value: str | None, where: str) -> dict | None:
    """The CSV form of per-area starts: ``Canterbury=2025-03;Thanet=2025-06``."""
    if not (value or "").strip():
        return None
    out = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        area, sep, month = part.partition("=")
        if not sep:
            raise HarmscopeError(
                f"{part.strip()!r} is not 'area=YYYY-MM'",
                where=where,
                fix="write per-area starts as e.g. Canterbury=2025-03;Thanet=2025-06",
            )
        out[area.strip()] = month.strip()
    return out


def _month(value: Any, where: str) -> date | None:
    try:
        return parse_month(value, where, day_ok=True)
    except HarmscopeError as exc:
        raise HarmscopeError(
            exc.problem,
            where=where,
            fix="write it as YYYY-MM (e.g. 2025-07), or leave it empty if unknown",
        ) from None


def _validate(s: Any, i: int, path: Path) -> dict:
    if not isinstance(s, dict):
        raise HarmscopeError(
            "a scheme must be a block of 'field: value' lines",
            where=f"{path}: scheme {i}",
            fix="begin each scheme with '- name: ...' and indent its fields",
        )
    name = str(s.get("name") or "").strip()
    where = f"{path}: scheme {i} ({name or 'unnamed'})"
    unknown = sorted(set(s) - set(FIELDS))
    if unknown:
        raise HarmscopeError(
            f"unknown field(s): {', '.join(unknown)}",
            where=where,
            fix=f"use only: {', '.join(FIELDS)} (check the spelling)",
        )
    if not name:
        raise HarmscopeError("name is missing", where=where, fix="give the scheme a name")
    provider = str(s.get("provider") or "").strip()
    if not provider:
        raise HarmscopeError(
            "provider is missing",
            where=f"{where}, provider",
            fix="name the provider, or write 'not recorded'",
        )
    strand = str(s.get("strand") or "").strip().lower()
    if strand not in STRANDS:
        raise HarmscopeError(
            f"strand {s.get('strand')!r} is not one of the partnership's four",
            where=f"{where}, strand",
            fix=f"use one of: {', '.join(STRANDS)}",
        )
    areas = _areas(s.get("areas"), f"{where}, areas")
    start = _month(s.get("start"), f"{where}, start")
    starts = _starts(s.get("starts"), areas, start, f"{where}, starts")
    if starts:
        areas["starts"] = {k: f"{v:%Y-%m}" for k, v in starts.items()}
        start = min(starts.values())
    end = _month(s.get("end"), f"{where}, end")
    if start and end and end < start:
        raise HarmscopeError(
            f"end {end:%Y-%m} is before start {start:%Y-%m}",
            where=f"{where}, end",
            fix="swap or correct the dates",
        )
    if end and not start:
        raise HarmscopeError(
            "end is given without a start", where=f"{where}, start", fix="add the start month"
        )
    late = [k for k, v in (starts or {}).items() if end and v > end]
    if late:
        raise HarmscopeError(
            f"end {end:%Y-%m} is before the start of {', '.join(late)}",
            where=f"{where}, end",
            fix="correct the end or that area's start",
        )
    cost = _cost(s.get("cost_gbp"), where)
    target = s.get("target_outcome") or {}
    crime_types = _crime_types(target, where)
    return {
        "name": name,
        "provider": provider,
        "areas": areas,
        "area_kind": next(k for k in AREA_KINDS if k in areas),
        "force": areas.get("force", DEFAULT_FORCE),
        "start": start,
        "end": end,
        "cost_gbp": cost,
        "strand": strand,
        "crime_types": crime_types,
        "harm": bool(target.get("harm", True)),
        "target_group": (str(s["target_group"]).strip() if s.get("target_group") else None),
        "selected_for_high_counts": bool(s.get("selected_for_high_counts", False)),
        "notes": (str(s["notes"]).strip() if s.get("notes") else None),
        "evidence": _evidence(s.get("evidence"), f"{where}, evidence"),
    }


def _starts(raw: Any, areas: dict, start: date | None, where: str) -> dict[str, date] | None:
    """Per-area start months (a staggered roll-out): a map from each listed district or
    LSOA to its first month; an area left out takes the scheme's ``start``, which, when
    given, must be the earliest of them."""
    if raw in (None, "", {}):
        return None
    kind = next(k for k in AREA_KINDS if k in areas)
    if kind not in ("districts", "lsoas"):
        raise HarmscopeError(
            f"per-area starts need listed districts or LSOAs, not {kind}",
            where=where,
            fix="list the areas under districts: or lsoas:, or give one start for the scheme",
        )
    if not isinstance(raw, dict):
        raise HarmscopeError(
            "starts must map each area to its first month",
            where=where,
            fix="write starts: {Canterbury: 2025-03, Thanet: 2025-06}",
        )
    listed = {(a.upper() if kind == "lsoas" else a.lower()): a for a in areas[kind]}
    out = {}
    for key, value in raw.items():
        name = str(key).strip()
        found = listed.get(name.upper() if kind == "lsoas" else name.lower())
        if found is None:
            raise HarmscopeError(
                f"{name!r} has a start but is not among the scheme's {kind}",
                where=f"{where}.{name}",
                fix=f"name areas as listed under {kind}: {', '.join(areas[kind][:6])}",
            )
        out[found] = _month(value, f"{where}.{name}")
        if out[found] is None:
            raise HarmscopeError(
                "the start is empty", where=f"{where}.{name}", fix="give YYYY-MM or drop the area"
            )
    missing = [a for a in areas[kind] if a not in out]
    if missing and start is None:
        raise HarmscopeError(
            f"no start for {', '.join(missing[:5])}",
            where=where,
            fix="give every listed area a start, or a scheme start for the others",
        )
    out.update({a: start for a in missing})
    if start is not None and start != min(out.values()):
        raise HarmscopeError(
            f"start {start:%Y-%m} is not the earliest of the per-area starts "
            f"({min(out.values()):%Y-%m})",
            where=where,
            fix="leave start empty (it is then the earliest) or make it the first area's start",
        )
    return out


def _cost(cost: Any, where: str) -> float | None:
    """Pounds (commas and '£' allowed), >= 0; None when not given."""
    if cost in (None, ""):
        return None
    try:
        value = float(str(cost).replace(",", "").replace("£", ""))
    except ValueError:
        raise HarmscopeError(
            f"cost_gbp {cost!r} is not a number",
            where=f"{where}, cost_gbp",
            fix="give pounds, e.g. 120000",
        ) from None
    if value < 0:
        raise HarmscopeError(
            "cost_gbp is negative",
            where=f"{where}, cost_gbp",
            fix="give the cost in pounds, >= 0",
        )
    return value


def _crime_types(target: Any, where: str) -> list[str]:
    """The target's police.uk categories in their own spelling (default: violence)."""
    if not isinstance(target, dict):
        raise HarmscopeError(
            "target_outcome must have crime_types and harm",
            where=f"{where}, target_outcome",
            fix="write target_outcome: {crime_types: [Violence and sexual offences], harm: true}",
        )
    types = target.get("crime_types") or ["Violence and sexual offences"]
    if isinstance(types, str):
        types = [types]
    cats = {c.lower(): c for c in _police_categories()}
    bad = [t for t in types if str(t).strip().lower() not in cats]
    if bad:
        raise HarmscopeError(
            f"unknown crime type(s): {', '.join(map(str, bad))}",
            where=f"{where}, target_outcome.crime_types",
            fix=f"use police.uk categories: {', '.join(_police_categories())}",
        )
    return [cats[str(t).strip().lower()] for t in types]


def _areas(a: Any, where: str) -> dict:
    if not isinstance(a, dict):
        raise HarmscopeError(
            "areas is missing or not a block",
            where=where,
            fix="give one of: lsoas: [E01...], districts: [Thanet], point: {lat, lon, radius_m}, countywide: true",
        )
    kinds = [k for k in AREA_KINDS if a.get(k)]
    extra = sorted(set(a) - set(AREA_KINDS) - {"force"})
    if extra:
        raise HarmscopeError(
            f"unknown area field(s): {', '.join(extra)}",
            where=where,
            fix=f"use {', '.join(AREA_KINDS)} (and optionally force)",
        )
    if len(kinds) != 1:
        raise HarmscopeError(
            f"give exactly one kind of area (found {len(kinds)}: {', '.join(kinds) or 'none'})",
            where=where,
            fix="split a scheme that covers different kinds of area into two schemes",
        )
    kind = kinds[0]
    out: dict[str, Any] = {}
    if a.get("force"):
        out["force"] = str(a["force"]).strip()
    if kind == "lsoas":
        codes = [str(c).strip().upper() for c in a["lsoas"]]
        bad = [c for c in codes if not _LSOA.match(c)]
        if bad:
            raise HarmscopeError(
                f"not LSOA codes: {', '.join(bad[:5])}",
                where=f"{where}.lsoas",
                fix="use 9-character codes like E01024123",
            )
        out["lsoas"] = codes
    elif kind == "districts":
        names = a["districts"]
        if isinstance(names, str):
            names = [names]
        out["districts"] = [str(n).strip() for n in names]
    elif kind == "point":
        out["point"] = _point(a["point"], where)
    else:
        out["countywide"] = True
    return out


def _point(p: Any, where: str) -> dict:
    """A circle in Great Britain: WGS84 lat and lon, radius 100 m to 20 km."""
    try:
        lat, lon, rad = float(p["lat"]), float(p["lon"]), float(p["radius_m"])
    except (KeyError, TypeError, ValueError):
        raise HarmscopeError(
            "a point needs lat, lon and radius_m numbers",
            where=f"{where}.point",
            fix="write point: {lat: 51.08, lon: 1.17, radius_m: 1500}",
        ) from None
    if not (49 <= lat <= 61 and -9 <= lon <= 2.5):
        raise HarmscopeError(
            f"({lat}, {lon}) is not in Great Britain",
            where=f"{where}.point",
            fix="give WGS84 degrees: lat about 51, lon about 1 for Kent",
        )
    if not 100 <= rad <= 20_000:
        raise HarmscopeError(
            f"radius_m {rad} is outside 100..20000",
            where=f"{where}.point.radius_m",
            fix="give the radius in metres",
        )
    return {"lat": lat, "lon": lon, "radius_m": rad}


def store_register(store, schemes: list[dict], source: str | Path) -> int:
    """Insert (or replace, by name) the schemes in the ``interventions`` table."""
    source = str(source)
    sha = hashlib.sha256(Path(source).read_bytes()).hexdigest() if Path(source).exists() else ""
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction() as con:
        for s in schemes:
            con.execute("DELETE FROM interventions WHERE name = ?", [s["name"]])
            con.execute(
                "INSERT INTO interventions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    s["name"],
                    s["provider"],
                    s["area_kind"],
                    json.dumps(s["areas"]),
                    s["force"],
                    s["start"],
                    s["end"],
                    s["cost_gbp"],
                    s["strand"],
                    json.dumps(s["crime_types"]),
                    s["harm"],
                    s["target_group"],
                    s["selected_for_high_counts"],
                    s["notes"],
                    source,
                    sha,
                    now,
                    json.dumps(s["evidence"]) if s.get("evidence") else None,
                ],
            )
    return len(schemes)


def load_schemes(store, names: list[str] | None = None) -> list[dict]:
    """Schemes from the store, in the same form as :func:`read_register` returns."""
    if not store.table_exists("interventions"):
        return []
    df = store.query("SELECT * FROM interventions ORDER BY name")
    if names:
        lower = {n.lower() for n in names}
        missing = sorted(lower - set(df["name"].str.lower()))
        if missing:
            raise HarmscopeError(
                f"no scheme named {', '.join(missing)} in the store",
                where="--scheme",
                fix=f"load the register first (`harmscope schemes FILE`); known: {', '.join(df['name'])}",
            )
        df = df[df["name"].str.lower().isin(lower)]
    out = []
    for r in df.to_dict(orient="records"):
        out.append(
            {
                "name": r["name"],
                "provider": r["provider"],
                "areas": json.loads(r["areas"]),
                "area_kind": r["area_kind"],
                "force": r["force"],
                "start": _d(r["start_month"]),
                "end": _d(r["end_month"]),
                "cost_gbp": None
                if r["cost_gbp"] is None or r["cost_gbp"] != r["cost_gbp"]
                else float(r["cost_gbp"]),
                "strand": r["strand"],
                "crime_types": json.loads(r["crime_types"]),
                "harm": bool(r["harm_outcome"]),
                "target_group": _s(r["target_group"]),
                "selected_for_high_counts": bool(r["selected_for_high_counts"]),
                "notes": _s(r["notes"]),
                "evidence": json.loads(r["evidence"]) if _s(r.get("evidence")) else None,
            }
        )
    return out


def staggered_starts(store, name: str | None) -> dict | None:
    """A stored scheme's per-area starts when they differ (a staggered roll-out), else None."""
    if not name:
        return None
    starts = load_schemes(store, [name])[0]["areas"].get("starts") or {}
    return starts if len(set(starts.values())) > 1 else None


def _s(v) -> str | None:
    """A text column from a DataFrame row: NULL comes back as NaN or None."""
    return v if isinstance(v, str) else None


def _d(v) -> date | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    try:
        import pandas as pd

        if v is pd.NaT or pd.isna(v):
            return None
        return pd.Timestamp(v).date()
    except (TypeError, ValueError):
        return None


# -- evidence from elsewhere (issue 17): the scheme's strand of a published toolkit ----------
def _evidence(e: Any, where: str) -> dict | None:
    """``evidence: {toolkit: yef, strand: mentoring}``: a strand of the packaged toolkit table
    (``reference/data/evidence/toolkit.csv``); None when not given."""
    if e in (None, "", {}):
        return None
    from harmscope.analysis.evaluation.evidence import TOOLKITS, strands

    if not isinstance(e, dict) or set(e) - {"toolkit", "strand"} or not e.get("strand"):
        raise HarmscopeError(
            "evidence must be a block with toolkit and strand",
            where=where,
            fix="write evidence: {toolkit: yef, strand: mentoring} (see the register README)",
        )
    toolkit = str(e.get("toolkit") or "yef").strip().lower()
    if toolkit not in TOOLKITS:
        raise HarmscopeError(
            f"unknown toolkit {e.get('toolkit')!r}",
            where=f"{where}.toolkit",
            fix=f"use one of: {', '.join(TOOLKITS)}",
        )
    strand = str(e["strand"]).strip().lower().replace(" ", "_").replace("-", "_")
    valid = strands(toolkit)
    if strand not in valid:
        raise HarmscopeError(
            f"unknown {toolkit} strand {e['strand']!r}",
            where=f"{where}.strand",
            fix=f"use one of: {', '.join(valid)}",
        )
    return {"toolkit": toolkit, "strand": strand}


def _csv_evidence(value: str | None) -> dict | None:
    """The CSV form ``yef:mentoring`` as the YAML block (validated by :func:`_evidence`)."""
    value = (value or "").strip()
    if not value:
        return None
    toolkit, _, strand = value.rpartition(":")
    return {"toolkit": toolkit or "yef", "strand": strand}
