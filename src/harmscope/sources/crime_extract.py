"""A force recorded-crime extract (CSV, format v1): validate, pseudonymise at the door, load.

The format is documented in ``harmscope/reference/data/crime_extract/README.md``. Guarantees:

- it refuses to run without the pseudonymisation key (``HARMSCOPE_KEY`` or a key file; the
  entropy rule of :mod:`harmscope.privacy.pseudonymise`);
- ``crime_ref``, ``victim_id`` and ``offender_id`` are replaced by keyed HMAC-SHA256 pseudonyms
  computed exactly as :class:`~harmscope.privacy.pseudonymise.Pseudonymiser` does (the same key
  as ED ingest, so a person links across ED and police; a crime reference is prefixed
  ``crime:`` so it never collides with a person). The HMAC is computed inside DuckDB from
  SHA-256 (RFC 2104), so a million rows load at engine speed; a test pins it to Python's hmac.
  A person's pseudonym is computed and stored once (``persons``); person rows hold integers;
- rows read = loaded + duplicate + rejected; rejects (unknown Home Office offence codes,
  impossible dates, bad ages, malformed lines) go to ``rejects`` with every identifier cell
  replaced by a tag and the rest screened by :mod:`harmscope.privacy.identifiers`;
- one file is one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harmscope.errors import InputFileError
from harmscope.privacy.identifiers import (
    MAX_REJECT_CHARS,
    code_kinds,
    redact,
    screen_reject_text,
)
from harmscope.privacy.pseudonymise import KEY_ENV, MAKE_KEY
from harmscope.reference.offences import load_taxonomy
from harmscope.sources._bookkeeping import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    LoadReport,
    bulk_load_settings,
    column_names,
    earlier_ingest,
    key_material,
    next_ingest_id,
    normalise_header,
    read_preamble,
    record_ingest,
    says_synthetic,
    scan_file,
)

FORMAT = "harmscope-crime-extract"
FORMAT_VERSION = 1
REQUIRED = ("crime_ref", "offence_code", "recorded_date", "committed_from")
OPTIONAL = (
    "committed_to",
    "longitude",
    "latitude",
    "lsoa_code",
    "victim_id",
    "victim_age",
    "victim_sex",
    "offender_id",
    "offender_age",
    "offender_sex",
    "domestic_abuse",
    "knife_flag",
    "injury_level",
    "outcome_type",
    "outcome_date",
    "exploitation_flag",
    "synthetic",
)
COLUMNS = (*REQUIRED, *OPTIONAL)
ID_COLUMNS = {"crime_ref": "[CRIME REF]", "victim_id": "[PERSON ID]", "offender_id": "[PERSON ID]"}
# Several offenders of one crime share a cell, separated by '|' (ages and sexes aligned).
LIST_SEP = "|"
INGEST_MEMORY_LIMIT = "900MB"
_TS_FORMATS = [*DATETIME_FORMATS, *DATE_FORMATS]
# Whitespace Python's str.isspace() finds in ASCII, and '-': what normalise_nhs_number drops
# (non-ASCII characters are then dropped by its encode('ascii', 'ignore')).
_DROP = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f -"
# The same set as a regex character class (tab..CR, FS..US, space, '-').
_DROP_RE = "[\\t-\\r\\x1c-\\x1f -]"
_DROP_SQL = "(" + " || ".join(f"chr({ord(c)})" for c in _DROP) + ")"
_SAFE_CELL = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?|\d{1,2}/\d{1,2}/\d{4}(?: \d{2}:\d{2})?"
    r"|\d{1,3}|-?\d{1,3}\.\d+|[EW]0\d{7}|[YN]|yes|no|true|false|[MFXU]|none|minor|serious|fatal)$",
    re.IGNORECASE,
)


@dataclass
class CrimeIngestReport(LoadReport):
    persons_loaded: int = 0
    unknown_codes: Counter = field(default_factory=Counter)
    encoding: str = "utf-8"
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict:
        return {
            **self.counts_dict(),
            "persons_loaded": self.persons_loaded,
            "reject_reasons": dict(self.reject_reasons),
            "unknown_offence_codes": dict(self.unknown_codes),
            "encoding": self.encoding,
            "format_version": self.format_version,
            "synthetic": self.synthetic,
        }

    def lines(self) -> list[str]:
        out = [
            f"{self.counts_line()}; "
            f"{self.persons_loaded:,} person records" + (" (SYNTHETIC)" if self.synthetic else "")
        ]
        if self.encoding != "utf-8":
            out.append(f"  the file is not UTF-8: read as {self.encoding}")
        out.extend(self.reject_lines())
        if self.unknown_codes:
            codes = ", ".join(f"{c} ({n:,})" for c, n in self.unknown_codes.most_common(20))
            out.append(
                f"  quarantined offence codes not in the Home Office table: {codes} "
                "(add them to reference/data/offences/offence_codes.csv or fix the extract)"
            )
        return out


# The refusal when no key is given, in this loader's words.
_NO_KEY = {
    "problem": (
        "no pseudonymisation key: a crime extract holds crime references and victim and "
        "offender identifiers, and is never loaded without one"
    ),
    "fix": (
        f"set {KEY_ENV} or pass --key-file with the partnership's secret key (the one "
        f"used for ED data, so people link; make one with `{MAKE_KEY}`)"
    ),
}


def crime_key_material(key: bytes | None = None, key_file=None) -> bytes:
    """The key, with a crime-extract wording when it is missing."""
    return key_material(key, key_file, **_NO_KEY)


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(outer, inner) padded keys of RFC 2104 HMAC-SHA256, for the in-engine HMAC."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x5C for b in key), bytes(b ^ 0x36 for b in key)


def norm_sql(expr: str, prefix: str = "") -> str:
    """SQL for the first normalisation step: ``prefix + expr`` without whitespace and '-'
    Computed once per value, in a subquery."""
    # translate() scans for 12 characters per byte; most identifiers hold none of them, and a
    # regex test finds that three times faster (a million identifiers: 0.45 s -> 0.14 s).
    v = f"('{prefix}' || {expr})"
    return f"CASE WHEN regexp_matches({v}, '{_DROP_RE}') THEN translate({v}, {_DROP_SQL}, '') ELSE {v} END"


def hmac_of_norm_sql(col: str) -> str:
    """SQL for HMAC-SHA256 (parameters $opad, $ipad) of a column made by :func:`norm_sql`;
    non-ASCII characters are dropped (as ``encode('ascii', 'ignore')``) only when there are
    any: the byte length differs from the character length."""
    ascii_only = (
        f"CASE WHEN strlen({col}) = length({col}) THEN {col} "
        f"ELSE regexp_replace({col}, '[^\\x00-\\x7f]', '', 'g') END"
    )
    return f"sha256($opad::BLOB || unhex(sha256($ipad::BLOB || encode({ascii_only}))))"


def hmac_sql(expr: str, prefix: str = "") -> str:
    """SQL for HMAC-SHA256(key, normalise(prefix + expr)): the same value as
    ``Pseudonymiser(key)(prefix + value)`` (one expression; the loader uses the two steps)."""
    return hmac_of_norm_sql(norm_sql(expr, prefix))


def _preamble(path: Path) -> tuple[int, bool, int | None, list[str]]:
    """(comment lines before the header, synthetic?, declared format version, header cells)."""
    comments, header = read_preamble(path)
    version = None
    for line in comments:
        m = re.search(rf"{FORMAT}/(\d+)", line.lower())
        if m:
            version = int(m.group(1))
    return len(comments), says_synthetic(comments), version, header


def _screen_cells(cells: list[str], header: list[str] | None) -> str:
    """Reject text: identifier columns tagged, other cells screened; for a malformed line
    (cells not aligned with the header) only cells that look like dates, ages, codes or
    flags are kept, since an identifier may have shifted into any position."""
    aligned = header is not None and len(header) == len(cells)
    codes = _known_codes()
    out = []
    for i, cell in enumerate(cells):
        name = header[i] if aligned else None
        if name in ID_COLUMNS:
            out.append(ID_COLUMNS[name] if cell.strip() else "")
        elif aligned:
            out.append(redact(cell, kinds=code_kinds(name))[0] or "")
        else:
            c = cell.strip()
            out.append(c if (not c or _SAFE_CELL.match(c) or c in codes) else "[?]")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(out)
    return screen_reject_text(buf.getvalue(), cap=MAX_REJECT_CHARS)


_CODES: frozenset[str] | None = None


def _known_codes() -> frozenset[str]:
    global _CODES
    if _CODES is None:
        _CODES = frozenset(load_taxonomy()["code"].astype(str).str.upper())
    return _CODES


def _reason_sql(cols: set[str]) -> str:
    """A CASE giving the first reason a row is rejected (NULL when valid). Reasons never
    contain an identifier; an unknown offence code is named (screened later)."""

    def c(name: str) -> str:
        return f"trim({name})" if name in cols else "''"

    def ts(name: str) -> str:
        return {
            "committed_from": "_from",
            "committed_to": "_to",
            "recorded_date": "_rec_date",
            "outcome_date": "_out_date",
        }[name]

    # Lists ('|') are rare: a cell without the separator is checked as one value, and only
    # the others go through the slower list lambdas (a million rows: about a second saved).
    def one_or_list(name: str, check: str) -> str:
        if name not in cols:
            return "FALSE"
        one = check.replace("@", c(name))
        each = check.replace("@", "trim(x)")
        return (
            f"CASE WHEN NOT contains({c(name)}, '{LIST_SEP}') THEN {one} ELSE "
            f"list_bool_or(list_transform(string_split({c(name)}, '{LIST_SEP}'), "
            f"lambda x: {each})) END"
        )

    def age_bad(name: str) -> str:
        return one_or_list(
            name, "(@ <> '' AND coalesce(try_cast(@ AS INTEGER) NOT BETWEEN 0 AND 120, TRUE))"
        )

    def flag_bad(name: str) -> str:
        return f"upper({c(name)}) NOT IN ('', 'Y', 'N', 'YES', 'NO', 'TRUE', 'FALSE', '1', '0')"

    def sex_bad(name: str) -> str:
        return one_or_list(
            name,
            "upper(@) NOT IN ('', 'M', 'F', 'X', 'U', 'MALE', 'FEMALE', 'OTHER', 'UNKNOWN')",
        )

    def n_sep(name: str) -> str:  # separators in a cell: list length - 1, without a list
        return f"(strlen({c(name)}) - strlen(replace({c(name)}, '{LIST_SEP}', '')))"

    return f"""CASE
        WHEN {c("crime_ref")} = '' THEN 'crime_ref is empty'
        WHEN {c("offence_code")} = '' THEN 'offence_code is empty'
        WHEN upper({c("offence_code")}) NOT IN (SELECT code FROM _hs_codes)
            THEN 'unknown offence code'
        WHEN {c("committed_from")} = '' THEN 'committed_from is empty'
        WHEN {ts("committed_from")} IS NULL
            THEN 'committed_from is not a real date/time (YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)'
        WHEN {ts("committed_from")} > $now THEN 'committed_from is in the future'
        WHEN {ts("committed_from")} < TIMESTAMP '1900-01-01' THEN 'committed_from is before 1900'
        WHEN {c("committed_to")} <> '' AND {ts("committed_to")} IS NULL
            THEN 'committed_to is not a real date/time'
        WHEN {ts("committed_to")} < {ts("committed_from")}
            THEN 'committed_to is before committed_from'
        WHEN {c("recorded_date")} = '' THEN 'recorded_date is empty'
        WHEN {ts("recorded_date")} IS NULL THEN 'recorded_date is not a real date'
        WHEN {ts("recorded_date")} > $now THEN 'recorded_date is in the future'
        WHEN CAST(_rec_date AS DATE) < CAST(_from AS DATE)
            THEN 'recorded_date is before committed_from'
        WHEN {c("outcome_date")} <> '' AND {ts("outcome_date")} IS NULL
            THEN 'outcome_date is not a real date'
        WHEN {ts("outcome_date")} IS NOT NULL
            AND CAST(_out_date AS DATE) < CAST(_from AS DATE)
            THEN 'outcome_date is before committed_from'
        WHEN {age_bad("victim_age")} THEN 'victim_age is not an age from 0 to 120'
        WHEN {age_bad("offender_age")} THEN 'offender_age is not an age from 0 to 120'
        WHEN {c("victim_id")} LIKE '%{LIST_SEP}%' THEN 'victim_id holds more than one person'
        WHEN {c("offender_age")} <> '' AND {n_sep("offender_age")} <> {n_sep("offender_id")}
            THEN 'offender_age does not list one age per offender_id'
        WHEN {sex_bad("victim_sex")} OR {sex_bad("offender_sex")}
            THEN 'a sex is not one of M, F, X, U'
        WHEN {flag_bad("domestic_abuse")} OR {flag_bad("knife_flag")}
            OR {flag_bad("exploitation_flag")} THEN 'a flag is not Y or N'
        WHEN lower({c("injury_level")}) NOT IN ('', 'none', 'minor', 'serious', 'fatal')
            THEN 'injury_level is not none, minor, serious or fatal'
        WHEN ({c("longitude")} <> '' AND try_cast({c("longitude")} AS DOUBLE) IS NULL)
            OR ({c("latitude")} <> '' AND try_cast({c("latitude")} AS DOUBLE) IS NULL)
            THEN 'longitude/latitude is not a number'
        WHEN ({c("longitude")} = '') <> ({c("latitude")} = '')
            THEN 'only one of longitude/latitude is given'
        WHEN {c("lsoa_code")} <> '' AND NOT regexp_full_match(upper({c("lsoa_code")}), '[EW]0[0-9]{{7}}')
            THEN 'lsoa_code is not an LSOA code (E01... or W01...)'
        ELSE NULL END"""


def ingest_crime_extract(
    store,
    path: str | Path,
    *,
    key: bytes | None = None,
    key_file: str | Path | None = None,
) -> CrimeIngestReport:
    """Load one crime extract into ``crimes``, ``persons`` and ``persons_in_crimes`` (one
    transaction)."""
    key = crime_key_material(key, key_file)
    path = Path(path)
    if not path.is_file():
        raise InputFileError("file not found", where=str(path), fix="check the path")
    started = datetime.now(UTC).replace(tzinfo=None)
    first, synthetic, version, header_cells = _preamble(path)
    if version is not None and version > FORMAT_VERSION:
        raise InputFileError(
            f"the file declares {FORMAT}/{version}; this harmscope reads version {FORMAT_VERSION}",
            where=str(path),
            fix="upgrade harmscope, or export the extract in format version 1",
        )
    header = normalise_header(header_cells)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputFileError(
            f"not a crime extract: missing column(s) {', '.join(missing)}; nothing loaded",
            where=str(path),
            fix=f"the header must include {', '.join(REQUIRED)} "
            "(see reference/data/crime_extract/README.md)",
        )
    report = CrimeIngestReport(path=str(path), synthetic=synthetic, format_version=version or 1)
    read_path, tmp = path, None
    utf8, sha = scan_file(path)
    if not utf8:
        # An old export in Windows-1252: transcode a copy so no row is lost to the encoding.
        report.encoding = "windows-1252"
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(path.read_bytes().decode("cp1252", errors="replace"))
        read_path = Path(tmp)
    try:
        with bulk_load_settings(store.con, INGEST_MEMORY_LIMIT):
            return _load(store, path, sha, read_path, first, header, key, report, started)
    finally:
        if tmp:
            os.unlink(tmp)


def _load(store, path, sha, read_path, first, header, key, report, started) -> CrimeIngestReport:
    cols = set(header) & set(COLUMNS)
    opad, ipad = hmac_pads(key)
    # Every column as text, named by us: no sniffing pass over the file (the header was read
    # already), so the file is scanned once.
    names = ", ".join(f"'{h}': 'VARCHAR'" for h in column_names(header, COLUMNS))
    # One worker screens the rejects (Python) while this thread drives the engine, which
    # releases the GIL; leaving the block waits for it, on success or failure.
    with ThreadPoolExecutor(max_workers=1) as pool, store.transaction() as con:
        ingest_id = next_ingest_id(con, report)
        codes = sorted(_known_codes())
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _hs_codes AS SELECT unnest(?::VARCHAR[]) AS code", [codes]
        )
        params = {"ts_formats": _TS_FORMATS, "now": datetime.now()}

        def parsed(name: str) -> str:
            # ISO text casts fast; other layouts go through the format list.
            if name not in cols:
                return "NULL::TIMESTAMP"
            v = f"nullif(trim({name}), '')"
            return f"coalesce(try_cast({v} AS TIMESTAMP), try_strptime({v}, $ts_formats))"

        # The file is read once, straight into the checked working table: row number, parsed
        # dates and the reject reason are computed during the scan (no raw copy kept beside it).
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _hs_chk AS
            SELECT * EXCLUDE (_n), {_reason_sql(cols)} AS _reason,
                {hmac_of_norm_sql("_n")} AS _crime_key
            FROM (SELECT *, {norm_sql("trim(crime_ref)", "crime:")} AS _n,
                    {parsed("committed_from")} AS _from, {parsed("committed_to")} AS _to,
                    {parsed("recorded_date")} AS _rec_date, {parsed("outcome_date")} AS _out_date
                  FROM (SELECT row_number() OVER () AS rec, * FROM read_csv($path,
                    header = true, skip = $skip, auto_detect = false, delim = ',', quote = '"',
                    escape = '"', columns = {{{names}}}, store_rejects = true,
                    rejects_table = '_hs_rej', rejects_scan = '_hs_rejscan',
                    null_padding = false)))""",
            {**params, "path": str(read_path), "skip": first, "opad": opad, "ipad": ipad},
        )
        # DuckDB records one malformed line once per surplus cell: count it once (its message
        # from the last cell names the true cell count).
        malformed = con.execute(
            "SELECT line, arg_max(csv_line, column_idx), arg_max(error_message, column_idx) "
            "FROM _hs_rej GROUP BY line ORDER BY line"
        ).fetchall()
        header_line = first + 1
        # Line of a valid record: header line + its ordinal + malformed lines before it
        # (computed only for the rows that need it: rejects and loaded crimes).
        con.execute("CREATE OR REPLACE TEMP TABLE _hs_bad (ln BIGINT, j BIGINT)")
        if malformed:
            con.executemany(
                "INSERT INTO _hs_bad VALUES (?, ?)", [(m[0], j) for j, m in enumerate(malformed)]
            )
        line_sql = f"{header_line} + rec"
        if malformed:
            line_sql += (
                f" + (SELECT count(*) FROM _hs_bad b WHERE b.ln - {header_line} - 1 - b.j < rec)"
            )
        report.rows_read = int(
            con.execute("SELECT count(*) FROM _hs_chk").fetchone()[0] + len(malformed)
        )
        screening = pool.submit(
            _screen_rejects, _reject_rows(con, header, line_sql), header, malformed, report
        )

        def c(name: str, cast: str | None = None) -> str:
            if name not in cols:
                return "NULL"
            v = f"nullif(trim({name}), '')"
            return f"try_cast({v} AS {cast})" if cast else v

        def flag(name: str) -> str:
            if name not in cols:
                return "NULL"
            return (
                f"CASE WHEN upper(trim({name})) IN ('Y','YES','TRUE','1') THEN TRUE "
                f"WHEN upper(trim({name})) IN ('N','NO','FALSE','0') THEN FALSE END"
            )

        synth = f"({'TRUE' if report.synthetic else 'FALSE'}" + (
            " OR lower(trim(synthetic)) IN ('true','1','yes','y'))" if "synthetic" in cols else ")"
        )
        # Duplicates (a key seen earlier in the file, or already in the store) are found on
        # the narrow (row number, key) pair and are usually none or few: the wide text rows are
        # never sorted or copied again, only filtered on the way into the tables.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _hs_dup AS
            SELECT rec FROM (SELECT rec, row_number() OVER (PARTITION BY _crime_key ORDER BY rec)
                    AS nth FROM _hs_chk
                WHERE _reason IS NULL AND _crime_key IN (SELECT _crime_key FROM _hs_chk
                    WHERE _reason IS NULL GROUP BY 1 HAVING count(*) > 1))
            WHERE nth > 1
            UNION ALL
            SELECT rec FROM _hs_chk k WHERE _reason IS NULL
                AND EXISTS (SELECT 1 FROM crimes t WHERE t.crime_key = k._crime_key)"""
        )
        n_good, n_dup = con.execute(
            "SELECT (SELECT count(*) FROM _hs_chk WHERE _reason IS NULL), "
            "(SELECT count(DISTINCT rec) FROM _hs_dup)"
        ).fetchone()
        n_new = n_good - n_dup
        new_rows = "_reason IS NULL" + (
            " AND rec NOT IN (SELECT rec FROM _hs_dup)" if n_dup else ""
        )
        _refuse_copy_under_another_key(con, path, sha, n_new)
        # crime_id = the store's last number + the row's ordinal in this file (gaps at
        # duplicates and rejects are harmless; the number only joins people to crimes).
        base_id = int(con.execute("SELECT coalesce(max(crime_id), 0) FROM crimes").fetchone()[0])
        con.execute(
            f"""INSERT INTO crimes
            SELECT {ingest_id}, {base_id} + rec, {line_sql}, _crime_key, upper(trim(offence_code)),
                CAST(_rec_date AS DATE), _from, _to, date_trunc('month', _from)::DATE,
                {c("longitude", "DOUBLE")}, {c("latitude", "DOUBLE")},
                upper({c("lsoa_code")}), {flag("domestic_abuse")}, {flag("knife_flag")},
                lower({c("injury_level")}), {c("outcome_type")},
                CAST(_out_date AS DATE), {flag("exploitation_flag")}, {synth}
            FROM _hs_chk WHERE {new_rows}"""
        )
        persons = _load_persons(con, cols, base_id, new_rows, synth, ingest_id, opad, ipad)
        report.persons_loaded = int(persons)
        report.rows_loaded = int(n_new)
        report.rows_duplicate = int(n_good - n_new)
        rejects = screening.result()
        report.rows_rejected = len(rejects)
        if report.synthetic is False and "synthetic" in cols:
            report.synthetic = bool(
                con.execute(
                    "SELECT bool_or(synthetic) FROM crimes WHERE source_id = ?", [ingest_id]
                ).fetchone()[0]
            )
        months = con.execute(
            "SELECT string_agg(DISTINCT strftime(month, '%Y-%m'), ',' ORDER BY "
            "strftime(month, '%Y-%m')) FROM crimes WHERE source_id = ?",
            [ingest_id],
        ).fetchone()[0]
        record_ingest(
            con,
            path,
            report,
            kind="crime_extract",
            sha=sha,
            months=months or "",
            rejects=rejects,
            parser="duckdb",
            started=started,
        )
        for t in (
            "_hs_raw",
            "_hs_chk",
            "_hs_p",
            "_hs_h",
            "_hs_dup",
            "_hs_bad",
            "_hs_codes",
            "_hs_rej",
            "_hs_rejscan",
        ):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    report.check_conserved()
    return report


def _load_persons(con, cols, base_id, new_rows, synth, ingest_id, opad, ipad) -> int:
    """Insert the victims and offenders of the new crimes; returns how many person rows."""
    sex = (
        "CASE upper(trim({x})) WHEN 'M' THEN 'male' WHEN 'MALE' THEN 'male' WHEN 'F' THEN "
        "'female' WHEN 'FEMALE' THEN 'female' WHEN 'X' THEN 'other' WHEN 'OTHER' THEN "
        "'other' END"
    )
    # People: one row per (crime, person, role) holding a store-local integer person_id;
    # the 64-character pseudonym is computed and stored once per distinct person (table
    # ``persons``), so a person in many crimes costs one HMAC and one pseudonym.
    parts = []
    for role in ("victim", "offender"):
        idc = f"{role}_id"
        if idc not in cols:
            continue
        age = f"{role}_age" if f"{role}_age" in cols else "''"
        sx = f"{role}_sex" if f"{role}_sex" in cols else "''"
        # One person per cell is the rule and several ('|') the exception: only the
        # exceptions are split into lists (unnesting every row costs more than the read).
        listed = " OR ".join(f"contains(coalesce({x}, ''), '{LIST_SEP}')" for x in (idc, age, sx))
        parts.append(
            f"""SELECT {base_id} + rec AS crime_id, '{role}' AS role, {synth} AS synthetic,
                    trim({idc}) AS pid, {age} AS page, {sx} AS psex
                FROM _hs_chk WHERE {new_rows} AND trim({idc}) <> '' AND NOT ({listed})
            UNION ALL
            SELECT {base_id} + rec AS crime_id, '{role}' AS role, {synth} AS synthetic,
                    unnest(string_split(trim({idc}), '{LIST_SEP}')) AS pid,
                    unnest(string_split(coalesce({age}, ''), '{LIST_SEP}')) AS page,
                    unnest(string_split(coalesce({sx}, ''), '{LIST_SEP}')) AS psex
                FROM _hs_chk WHERE {new_rows} AND trim({idc}) <> '' AND ({listed})"""
        )
    if not parts:
        return 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hs_p AS SELECT * FROM ("
        + " UNION ALL ".join(parts)
        + ") WHERE pid IS NOT NULL AND trim(pid) <> ''"
    )
    con.execute("DROP TABLE _hs_chk")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _hs_h AS
        SELECT pid, {hmac_of_norm_sql("_n")} AS pseudonym
        FROM (SELECT pid, {norm_sql("pid")} AS _n FROM (SELECT DISTINCT pid FROM _hs_p))""",
        {"opad": opad, "ipad": ipad},
    )
    # New people get the next numbers; a person seen in an earlier extract (or twice
    # under two spellings that normalise alike) keeps one number.
    con.execute(
        """INSERT INTO persons
        SELECT (SELECT coalesce(max(person_id), 0) FROM persons)
                + row_number() OVER (), pseudonym
        FROM (SELECT DISTINCT pseudonym FROM _hs_h) h
        WHERE NOT EXISTS (SELECT 1 FROM persons s WHERE s.pseudonym = h.pseudonym)"""
    )
    return con.execute(
        f"""INSERT INTO persons_in_crimes
        SELECT {ingest_id}, p.crime_id, s.person_id, p.role,
            try_cast(nullif(trim(p.page), '') AS INTEGER), {sex.format(x="p.psex")},
            p.synthetic
        FROM _hs_p p JOIN _hs_h h USING (pid) JOIN persons s USING (pseudonym)"""
    ).fetchone()[0]


def _reject_rows(con, header, line_sql) -> list[tuple]:
    """The rejected records (line, reason, cells...) in file order: read before the working
    table is dropped, screened later (:func:`_screen_rejects`)."""
    sel = ", ".join(column_names(header, COLUMNS))
    return con.execute(
        f"SELECT {line_sql}, _reason, {sel} FROM _hs_chk WHERE _reason IS NOT NULL ORDER BY rec"
    ).fetchall()


def _screen_rejects(rows, header, malformed, report) -> list[tuple[int, str, str]]:
    """(line, reason, screened text) of every reject; counts reasons and unknown codes.
    Pure Python, touching only ``report``'s reject counters: it runs in a worker thread
    while the engine loads the valid rows (a thousand rejects take about half a second)."""
    out = []
    for line, csv_line, message in malformed:
        reason = screen_reject_text(f"malformed line: {message.split('.')[0]}")
        report.reject_reasons[reason] += 1
        cells = next(csv.reader([csv_line or ""]), [])
        out.append((int(line), reason, _screen_cells(cells, None)))
    code_i = column_names(header, COLUMNS).index("offence_code") + 2
    for row in rows:
        line, reason = int(row[0]), row[1]
        cells = ["" if v is None else str(v) for v in row[2:]]
        if reason == "unknown offence code":
            code = screen_reject_text((row[code_i] or "").strip()[:12])
            report.unknown_codes[code] += 1
            reason = (
                f"offence_code {code!r} is not a Home Office offence code in the packaged "
                "table (row quarantined)"
            )
        reason = screen_reject_text(reason)
        report.reject_reasons[reason] += 1
        out.append((line, reason, _screen_cells(cells, header)))
    return out


def _refuse_copy_under_another_key(con, path: Path, sha: str, n_new: int) -> None:
    """A file loaded before must come back as all duplicates; if its rows look new, it was
    loaded under another key and would count twice (as ED ingest refuses)."""
    prev = earlier_ingest(con, "crime_extract", sha)
    if prev is not None and n_new > 0:
        raise InputFileError(
            f"this file (SHA-256 {sha[:12]}...) was already loaded as ingest {prev} under "
            f"another pseudonymisation key: loading it again would count {n_new:,} crimes "
            "twice; refused, nothing changed",
            where=str(path),
            fix="use the partnership's one key for every extract; to change keys, build a new "
            "store and load every file again with the new key",
        )
