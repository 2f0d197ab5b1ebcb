"""Police open data (data.police.uk): recognise a file by its header and normalise its rows.

Three kinds: street-level crime, outcomes, and stop and search. Each kind maps published
header names to canonical snake_case columns. Normalisation and row validation run as SQL in
DuckDB; a row that fails gets a reason and goes to ``rejects`` instead of the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREET = "street"
OUTCOMES = "outcomes"
STOP_SEARCH = "stop_search"

TABLE_FOR_KIND = {STREET: "street_crimes", OUTCOMES: "outcomes", STOP_SEARCH: "stop_searches"}


def norm_header(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\ufeff", "").strip().strip('"').lower())


@dataclass(frozen=True)
class KindSpec:
    kind: str
    required: tuple[str, ...]  # normalised published names that must be present
    optional: tuple[str, ...]  # may be missing in older files: filled with NULL

    def matches(self, header: list[str]) -> bool:
        names = {norm_header(h) for h in header}
        return set(self.required) <= names and names <= set(self.required) | set(self.optional)


_LOCATION = ("longitude", "latitude", "location", "lsoa code", "lsoa name")

SPECS = [
    KindSpec(
        STREET,
        ("crime id", "month", "reported by", "falls within", *_LOCATION, "crime type"),
        ("last outcome category", "context"),
    ),
    KindSpec(
        OUTCOMES,
        ("crime id", "month", "reported by", "falls within", *_LOCATION, "outcome type"),
        (),
    ),
    KindSpec(
        STOP_SEARCH,
        (
            "type",
            "date",
            "latitude",
            "longitude",
            "gender",
            "age range",
            "officer-defined ethnicity",
            "legislation",
            "object of search",
            "outcome",
        ),
        (
            "part of a policing operation",
            "policing operation",
            "self-defined ethnicity",
            "outcome linked to object of search",
            "removal of more than just outer clothing",
        ),
    ),
]


def detect_kind(header: list[str]) -> str | None:
    for spec in SPECS:
        if spec.matches(header):
            return spec.kind
    return None


def expected_headers_text() -> str:
    return "; ".join(f"{s.kind}: {', '.join(s.required)}" for s in SPECS)


_FILE_NAME = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)", re.I
)


def parse_file_name(name: str) -> tuple[str | None, str | None]:
    """(YYYY-MM, force slug) from a police.uk download name, or (None, None)."""
    m = _FILE_NAME.search(name)
    if not m:
        return None, None
    return m.group("month"), m.group("force").lower()


def _col(header_map: dict[str, str], name: str) -> str:
    """SQL for a published column (trimmed, empty -> NULL), or NULL if the file lacks it."""
    actual = header_map.get(name)
    if actual is None:
        return "CAST(NULL AS VARCHAR)"
    return f"nullif(trim(r.{actual}), '')"


def _num(expr: str) -> str:
    return f"try_cast({expr} AS DOUBLE)"


def _bool(expr: str) -> str:
    return (
        f"CASE lower({expr}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE "
        f"WHEN 'yes' THEN TRUE WHEN 'no' THEN FALSE ELSE NULL END"
    )


def _bool_bad(expr: str) -> str:
    return f"({expr} IS NOT NULL AND lower({expr}) NOT IN ('true','false','yes','no'))"


def _coords_reason(lon: str, lat: str) -> list[tuple[str, str]]:
    return [
        (f"({lon} IS NOT NULL AND {_num(lon)} IS NULL)", "'Longitude is not a number'"),
        (f"({lat} IS NOT NULL AND {_num(lat)} IS NULL)", "'Latitude is not a number'"),
        (f"(abs({_num(lat)}) > 90 OR abs({_num(lon)}) > 180)", "'coordinates out of range'"),
        (f"(({lon} IS NULL) <> ({lat} IS NULL))", "'only one of Longitude/Latitude given'"),
    ]


def _reason_sql(checks: list[tuple[str, str]]) -> str:
    whens = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in checks)
    return f"CASE {whens} ELSE NULL END"


def normalise_sql(
    kind: str,
    header: list[str],
    raw_table: str,
    file_month: str | None,
    force: str | None,
    *,
    carry: tuple[str, ...] = (),
) -> str:
    """SELECT producing canonical columns plus ``__line`` and ``__reject`` (NULL if the row is good).

    ``carry`` names columns of ``raw_table`` passed through unchanged (a batched read's
    ``__file``, so each row still knows which file it came from)."""
    # The raw table's columns are positional (c0, c1, ...): published names can be odd.
    hm = {norm_header(h): f"c{i}" for i, h in enumerate(header)}
    c = lambda n: _col(hm, n)  # noqa: E731
    if kind in (STREET, OUTCOMES):
        month = f"try_strptime({c('month')}, '%Y-%m')::DATE"
        checks = [
            (f"{c('month')} IS NULL", "'Month is empty'"),
            (f"{month} IS NULL", "'Month is not YYYY-MM: ' || " + c("month")),
            (f"{c('falls within')} IS NULL", "'Falls within (the force) is empty'"),
        ]
        if kind == STREET:
            checks.append((f"{c('crime type')} IS NULL", "'Crime type is empty'"))
        checks += _coords_reason(c("longitude"), c("latitude"))
        cols = [
            f"{c('crime id')} AS crime_id",
            f"{month} AS month",
            f"{c('reported by')} AS reported_by",
            f"{c('falls within')} AS falls_within",
            f"{_num(c('longitude'))} AS longitude",
            f"{_num(c('latitude'))} AS latitude",
            f"{c('location')} AS location",
            f"{c('lsoa code')} AS lsoa_code",
            f"{c('lsoa name')} AS lsoa_name",
        ]
        if kind == STREET:
            cols += [
                f"{c('crime type')} AS crime_type",
                f"{c('last outcome category')} AS last_outcome_category",
                f"{c('context')} AS context",
            ]
        else:
            cols.append(f"{c('outcome type')} AS outcome_type")
    elif kind == STOP_SEARCH:
        d = c("date")
        # Published as ISO 8601 with an offset (+00:00 in practice). Stored as UTC without
        # relying on DuckDB's ICU time-zone extension: subtract the offset by arithmetic.
        local = f"try_strptime(left({d}, 19), '%Y-%m-%dT%H:%M:%S')"
        off = (
            f"CASE WHEN length({d}) >= 25 AND substr({d}, 20, 1) IN ('+','-') THEN "
            f"(CASE substr({d}, 20, 1) WHEN '-' THEN -1 ELSE 1 END) * "
            f"(try_cast(substr({d}, 21, 2) AS INTEGER) * 60 + try_cast(substr({d}, 24, 2) AS INTEGER)) "
            f"WHEN length({d}) = 19 OR upper(substr({d}, 20, 1)) = 'Z' THEN 0 ELSE NULL END"
        )
        dt = f"({local} - to_minutes(CAST({off} AS BIGINT)))"
        month_expr = f"DATE '{file_month}-01'" if file_month else f"date_trunc('month', {dt})::DATE"
        checks = [
            (f"{d} IS NULL", "'Date is empty'"),
            (
                f"{local} IS NULL OR ({off}) IS NULL",
                "'Date is not ISO 8601 (YYYY-MM-DDTHH:MM:SS+00:00): ' || " + d,
            ),
        ]
        checks += _coords_reason(c("longitude"), c("latitude"))
        for name in (
            "part of a policing operation",
            "outcome linked to object of search",
            "removal of more than just outer clothing",
        ):
            checks.append((_bool_bad(c(name)), f"'{name} is not True/False: ' || {c(name)}"))
        force_sql = "NULL" if force is None else "'" + force.replace("'", "''") + "'"
        cols = [
            f"{force_sql} AS force",
            f"{c('type')} AS type",
            f"{dt} AS datetime",
            f"{_bool(c('part of a policing operation'))} AS part_of_a_policing_operation",
            f"{c('policing operation')} AS policing_operation",
            f"{_num(c('latitude'))} AS latitude",
            f"{_num(c('longitude'))} AS longitude",
            f"{c('gender')} AS gender",
            f"{c('age range')} AS age_range",
            f"{c('self-defined ethnicity')} AS self_defined_ethnicity",
            f"{c('officer-defined ethnicity')} AS officer_defined_ethnicity",
            f"{c('legislation')} AS legislation",
            f"{c('object of search')} AS object_of_search",
            f"{c('outcome')} AS outcome",
            f"{_bool(c('outcome linked to object of search'))} AS outcome_linked_to_object_of_search",
            f"{_bool(c('removal of more than just outer clothing'))} AS removal_of_more_than_just_outer_clothing",
            f"{month_expr} AS month",
        ]
    else:  # pragma: no cover - guarded by detect_kind
        raise ValueError(kind)
    cols += [f"r.{name} AS {name}" for name in carry]
    return (
        f"SELECT {', '.join(cols)}, r.__line AS __line, {_reason_sql(checks)} AS __reject "
        f"FROM {raw_table} r"
    )


# Columns that identify a published row, used to recognise the same row arriving again.
# A street crime and an outcome share the crime's reference, month, forces and place.
_CRIME_PLACE = [
    "crime_id",
    "month",
    "reported_by",
    "falls_within",
    "longitude",
    "latitude",
    "location",
    "lsoa_code",
    "lsoa_name",
]
IDENTITY_COLUMNS = {
    STREET: [*_CRIME_PLACE, "crime_type", "last_outcome_category", "context"],
    OUTCOMES: [*_CRIME_PLACE, "outcome_type"],
    STOP_SEARCH: [
        "force",
        "type",
        "datetime",
        "part_of_a_policing_operation",
        "policing_operation",
        "latitude",
        "longitude",
        "gender",
        "age_range",
        "self_defined_ethnicity",
        "officer_defined_ethnicity",
        "legislation",
        "object_of_search",
        "outcome",
        "outcome_linked_to_object_of_search",
        "removal_of_more_than_just_outer_clothing",
        "month",
    ],
}

FORCE_COLUMN = {STREET: "falls_within", OUTCOMES: "falls_within", STOP_SEARCH: "force"}
