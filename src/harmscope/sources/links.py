"""Network links (``links.csv``, documented in ``docs/links.md``): validate, pseudonymise at
the door, load into ``links`` and ``link_entities`` (migration m008).

Guarantees:

- it refuses to run without the pseudonymisation key (``HARMSCOPE_KEY`` or a key file);
- person ids, phone numbers and addresses are replaced by keyed HMAC-SHA256 pseudonyms
  (:func:`entity_key`); a person's key is the ``persons.pseudonym`` the crime extract and ED
  ingest make for the same identifier, so links join to people. The HMAC is computed once per
  distinct identifier (a million links hold a few hundred thousand), then joined back in the
  engine. Places and areas are not personal and keep their names;
- rows read = loaded + duplicate + rejected; rejects go to ``rejects`` with the identifier
  cells replaced by tags and the rest screened by :mod:`harmscope.privacy.identifiers`;
- one file is one transaction: a failure leaves the store as it was;
- co-offending links are derived from shared crime references in the crime extract
  (:func:`derive_from_crime_extract`, run after every links ingest and by ``links derive``),
  and the ``supply_offence`` flag is set for anyone the extract records as an offender in a
  drug supply offence (:data:`SUPPLY_CODES`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harmscope.errors import HarmscopeError, InputFileError
from harmscope.privacy.identifiers import (
    MAX_REJECT_CHARS,
    code_kinds,
    redact,
    screen_reject_text,
)
from harmscope.privacy.pseudonymise import (
    KEY_ENV,
    MAKE_KEY,
    Pseudonymiser,
)
from harmscope.sources import _bookkeeping as bk
from harmscope.sources.crime_extract import hmac_pads, hmac_sql

KIND = "links"
ENTITY_TYPES = ("person", "phone", "address", "place", "area")
PERSONAL = ("person", "phone", "address")  # pseudonymised; places and areas keep names
FLAGS = ("supply_offence", "vulnerable", "out_of_area")
# The entity-type pairs each link type may join (either way round).
LINK_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "co_offending": (("person", "person"),),
    "association": (("person", "person"),),
    "uses_phone": (("person", "phone"),),
    "resident": (("address", "person"),),
    "visits_address": (("address", "person"),),
    "visits_place": (("person", "place"), ("area", "person")),
    "line_area": (("area", "phone"), ("phone", "place")),
}
REQUIRED = ("source_id", "source_type", "target_id", "target_type", "link_type", "first_seen")
OPTIONAL = (
    "last_seen",
    "agency",
    "confidence",
    "source_age",
    "target_age",
    "source_flags",
    "target_flags",
)
COLUMNS = (*REQUIRED, *OPTIONAL)
ID_TAG = {"source_id": "[SOURCE ID]", "target_id": "[TARGET ID]"}
# Drug supply in the Home Office offence codes: the ONS crime-offence hierarchy 2017/18
# (shared/data/reference/offences/ons_crime_offence_hierarchy_2017-18.csv; ONSdigital
# dp-hierarchy-builder, see reference/data/offences/SOURCES.md) puts one code under
# 'Trafficking of drugs': 92A 'Trafficking in controlled drugs' (production, supply and
# possession with intent to supply under the Home Office Counting Rules). Possession codes
# (92C-92E) are not supply.
SUPPLY_CODES = ("92A",)
DERIVED = "crime_extract"
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
INGEST_MEMORY_LIMIT = "900MB"
# Cells of a malformed line kept in the reject text (an identifier may have shifted anywhere).
_SAFE_CELL = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,3}|[A-E][1-5]|"
    + "|".join((*ENTITY_TYPES, *LINK_TYPES))
    + r")$",
    re.IGNORECASE,
)
_NON_DIGIT = re.compile(r"[^0-9]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass
class LinksReport(bk.LoadReport):
    entities: int = 0
    derived_links: int = 0
    supply_flagged: int = 0
    # reason -> the first few file lines rejected for it (``reject_lines`` in to_dict).
    reject_line_numbers: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            **self.counts_dict(),
            "conserved": self.conserved(),
            "entities": self.entities,
            "derived_co_offending_links": self.derived_links,
            "supply_offence_from_extract": self.supply_flagged,
            "reject_reasons": dict(self.reject_reasons),
            "reject_lines": {r: list(v) for r, v in self.reject_line_numbers.items()},
            "synthetic": self.synthetic,
            "seconds": round(self.seconds, 2),
        }

    def lines(self) -> list[str]:
        out = [
            f"{self.counts_line()}; "
            f"{self.entities:,} entities" + (" (SYNTHETIC)" if self.synthetic else "")
        ]
        if self.rows_duplicate and not self.rows_loaded:
            out.append("  this file was loaded before: nothing added")
        out.append(
            f"  co-offending links derived from the crime extract: {self.derived_links:,}; "
            f"people flagged for a supply offence from it: {self.supply_flagged:,}"
        )
        name = Path(self.path).name
        for reason, n in self.reject_reasons.most_common():
            lines = ", ".join(str(x) for x in self.reject_line_numbers.get(reason, []))
            more = ", ..." if n > len(self.reject_line_numbers.get(reason, [])) else ""
            out.append(f"  rejected {n:,}: {reason} ({name} line {lines}{more})")
        if self.reject_reasons:
            out.append(
                "  fix the rows and load the file again (each reject is in the store's rejects "
                "table with its line; see docs/links.md for the format)"
            )
        return out


# --- keys ---------------------------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """Digits only, with a UK +44 prefix turned back to the 0 trunk prefix, so
    '07700 900123', '07700-900123' and '+44 7700 900123' agree."""
    digits = _NON_DIGIT.sub("", raw or "")
    if digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    return digits


def normalise_address(raw: str) -> str:
    """Lower case, letters and digits only, one space between words ('12  Example Rd.,
    MARGATE' -> '12 example rd margate'); non-ASCII characters are dropped first (as the
    person HMAC does). No abbreviation is expanded: 'Rd' and 'Road' differ."""
    ascii_only = (raw or "").encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def normalise_name(raw: str) -> str:
    """A place or area name as a key: lower case, single spaces."""
    return " ".join((raw or "").lower().split())


def entity_key(pseudonymiser: Pseudonymiser, entity_type: str, raw_id: str) -> str:
    """The store key of an entity.

    - person: ``pseudonymiser(raw_id)``, exactly what the crime extract stores in
      ``persons.pseudonym`` (and ED ingest for the same identifier);
    - phone: ``pseudonymiser('phone:' + digits)`` (:func:`normalise_phone`);
    - address: ``pseudonymiser('address:' + normalised text)`` (:func:`normalise_address`);
      the prefixes keep a phone or address from ever colliding with a person;
    - place / area: readable, ``'place:margate station'`` (not personal data).
    """
    t = (entity_type or "").strip().lower()
    raw = (raw_id or "").strip()
    if t == "person":
        return pseudonymiser(raw)
    if t == "phone":
        return pseudonymiser("phone:" + normalise_phone(raw))
    if t == "address":
        return pseudonymiser("address:" + normalise_address(raw))
    if t in ("place", "area"):
        return f"{t}:{normalise_name(raw)}"
    raise HarmscopeError(
        f"unknown entity type {entity_type!r}",
        where="entity_type",
        fix=f"use one of {', '.join(ENTITY_TYPES)}",
    )


# The refusal when no key is given, in this loader's words.
_NO_KEY = {
    "problem": (
        "no pseudonymisation key: a links file holds person ids, phone numbers and "
        "addresses, and is never loaded without one"
    ),
    "fix": (
        f"set {KEY_ENV} (export {KEY_ENV}=...) or pass --key-file with the "
        "partnership's secret key, the one used for the crime extract and ED data so "
        f"people link (make one with `{MAKE_KEY}`)"
    ),
}


def links_key_material(key: bytes | None = None, key_file=None) -> bytes:
    """The key, with a links wording when it is missing."""
    return bk.key_material(key, key_file, **_NO_KEY)


# --- ingest -------------------------------------------------------------------------------


def _normalise_header(cells: list[str]) -> list[str]:
    return [c.strip().lower().replace(" ", "_") for c in cells]


def ingest_links(
    store, path: str | Path, *, key: bytes | None = None, key_file: str | Path | None = None
) -> LinksReport:
    """Load one links file into ``links`` and ``link_entities`` (one transaction), then
    derive co-offending links from the crime extract held in the store."""
    t0 = datetime.now(UTC)
    key = links_key_material(key, key_file)
    path = Path(path)
    if not path.is_file():
        raise InputFileError("file not found", where=str(path), fix="check the path")
    comments, header_cells = bk.read_preamble(path)
    first, synthetic = len(comments), bk.says_synthetic(comments)
    header = _normalise_header(header_cells)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputFileError(
            f"not a links file: missing column(s) {', '.join(missing)}; nothing loaded",
            where=f"{path}, header (line {first + 1})",
            fix=f"the header must include {', '.join(REQUIRED)} (optional: "
            f"{', '.join(OPTIONAL)}); see docs/links.md",
        )
    utf8, sha = bk.scan_file(path)
    if not utf8:
        raise InputFileError(
            "the file is not UTF-8; nothing loaded",
            where=str(path),
            fix="save it as UTF-8 CSV (Excel: 'CSV UTF-8 (Comma delimited)')",
        )
    report = LinksReport(path=str(path), synthetic=synthetic)
    with bk.bulk_load_settings(store.con, INGEST_MEMORY_LIMIT):
        _load(store, path, sha, first, header, key, report, t0.replace(tzinfo=None))
    report.check_conserved()
    report.seconds = (datetime.now(UTC) - t0).total_seconds()
    return report


def _reason_sql(cols: set[str]) -> str:
    """A CASE giving the first reason a row is rejected (NULL when valid). Reasons name the
    column and the rule, never a value."""

    def c(name: str) -> str:  # an empty cell reads as NULL
        return f"coalesce(trim({name}), '')" if name in cols else "''"

    types = ", ".join(f"'{t}'" for t in ENTITY_TYPES)
    ltypes = ", ".join(f"'{t}'" for t in LINK_TYPES)
    flags = ", ".join(f"'{f}'" for f in ("", *FLAGS))
    pair_rules = " ".join(
        f"WHEN _lt = '{lt}' AND _pair NOT IN ({', '.join(repr('|'.join(p)) for p in pairs)}) "
        f"THEN 'link_type {lt} must join "
        + " or ".join(f"{a} and {b}" for a, b in pairs)
        + "; got ' || _st || ' and ' || _tt"
        for lt, pairs in LINK_TYPES.items()
    )

    def id_rule(side: str) -> str:
        return (
            f"WHEN _{side[0]}t = 'phone' AND NOT regexp_matches({side}_id, '[0-9]') "
            f"THEN '{side}_id of a phone holds no digits' "
            f"WHEN _{side[0]}t = 'address' AND NOT regexp_matches({side}_id, '[A-Za-z0-9]') "
            f"THEN '{side}_id of an address holds no letters or digits' "
        )

    # The optional columns' checks, each only where the file has the column ({v}: its cell,
    # {name}: its name, {t}: its side's entity type); ages first, then flags, an order that
    # decides the reason a row with several faults is rejected for.
    side_rules = {
        "age": (
            "WHEN {v} <> '' AND coalesce(try_cast({v} AS INTEGER) NOT BETWEEN 0 AND 120, TRUE) "
            "THEN '{name} is not a whole number of years from 0 to 120' "
            "WHEN {v} <> '' AND {t} <> 'person' "
            "THEN '{name} is given for a ' || {t} || ' (ages are for persons only)' "
        ),
        "flags": (
            "WHEN len(list_filter(string_split(lower({v}), ';'), "
            "lambda x: trim(x) NOT IN ({flags}))) > 0 "
            "THEN '{name} holds a flag other than {flag_list} (separate flags with ;)' "
        ),
    }
    optional_rules = " ".join(
        rule.format(v=c(name), name=name, t=f"_{side[0]}t", flags=flags, flag_list=", ".join(FLAGS))
        for suffix, rule in side_rules.items()
        for side in ("source", "target")
        if (name := f"{side}_{suffix}") in cols
    )

    return f"""CASE
        WHEN {c("source_id")} = '' THEN 'source_id is empty'
        WHEN {c("target_id")} = '' THEN 'target_id is empty'
        WHEN _st NOT IN ({types}) THEN 'source_type is not one of {", ".join(ENTITY_TYPES)}'
        WHEN _tt NOT IN ({types}) THEN 'target_type is not one of {", ".join(ENTITY_TYPES)}'
        WHEN _lt NOT IN ({ltypes}) THEN 'link_type is not one of {", ".join(LINK_TYPES)}'
        {pair_rules}
        {id_rule("source")} {id_rule("target")}
        WHEN {c("first_seen")} = '' THEN 'first_seen is empty (a date is needed: YYYY-MM-DD)'
        WHEN _first IS NULL THEN 'first_seen is not a real date (write YYYY-MM-DD)'
        WHEN {c("last_seen")} <> '' AND _last IS NULL
            THEN 'last_seen is not a real date (write YYYY-MM-DD, or leave it empty)'
        WHEN _last < _first THEN 'last_seen is before first_seen'
        WHEN _first > current_date OR _last > current_date THEN 'a date is in the future'
        WHEN _first < DATE '1900-01-01' THEN 'first_seen is before 1900'
        {optional_rules}
        ELSE NULL END"""


def _load(store, path: Path, sha: str, first: int, header, key, report, started) -> None:
    cols = set(header) & set(COLUMNS)
    names = bk.column_names(header, COLUMNS)
    spec = ", ".join(f"'{h}': 'VARCHAR'" for h in names)

    def date(name: str) -> str:
        if name not in cols:
            return "NULL::DATE"
        v = f"nullif(trim({name}), '')"
        return f"coalesce(try_cast({v} AS DATE), try_strptime({v}, $fmts)::DATE)"

    def opt(name: str) -> str:
        return f"nullif(trim({name}), '')" if name in cols else "NULL"

    with store.transaction() as con:
        ingest_id = bk.next_ingest_id(con, report)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _lk_chk AS
            SELECT *, {_reason_sql(cols)} AS _reason FROM (
                SELECT *, coalesce(lower(trim(source_type)), '') AS _st,
                    coalesce(lower(trim(target_type)), '') AS _tt,
                    coalesce(lower(trim(link_type)), '') AS _lt,
                    least(lower(trim(source_type)), lower(trim(target_type))) || '|' ||
                        greatest(lower(trim(source_type)), lower(trim(target_type))) AS _pair,
                    {date("first_seen")} AS _first,
                    coalesce({date("last_seen")}, {date("first_seen")}) AS _last
                FROM (SELECT row_number() OVER () AS rec, * FROM read_csv($path,
                    header = true, skip = $skip, auto_detect = false, delim = ',', quote = '"',
                    escape = '"', columns = {{{spec}}}, store_rejects = true,
                    rejects_table = '_lk_rej', rejects_scan = '_lk_rejscan',
                    null_padding = false)))""",
            {"path": str(path), "skip": first, "fmts": DATE_FORMATS},
        )
        # DuckDB may report one bad line several times (once per surplus cell): one each.
        malformed = con.execute(
            "SELECT line, arg_max(csv_line, column_idx), arg_max(error_message, column_idx) "
            "FROM _lk_rej GROUP BY line ORDER BY line"
        ).fetchall()
        header_line = first + 1
        line_sql = f"{header_line} + rec"
        if malformed:
            con.execute("CREATE OR REPLACE TEMP TABLE _lk_bad (ln BIGINT, j BIGINT)")
            con.executemany(
                "INSERT INTO _lk_bad VALUES (?, ?)", [(m[0], j) for j, m in enumerate(malformed)]
            )
            line_sql += (
                f" + (SELECT count(*) FROM _lk_bad b WHERE b.ln - {header_line} - 1 - b.j < rec)"
            )
        n_chk = int(con.execute("SELECT count(*) FROM _lk_chk").fetchone()[0])
        report.rows_read = n_chk + len(malformed)
        bad_rows = con.execute(
            f"SELECT {line_sql}, _reason, {', '.join(names)} FROM _lk_chk "
            "WHERE _reason IS NOT NULL ORDER BY rec"
        ).fetchall()
        rejects = _screen_rejects(bad_rows, names, malformed, report)
        report.rows_rejected = len(rejects)
        n_good = n_chk - len(bad_rows)
        if not report.synthetic and "agency" in cols:
            report.synthetic = bool(
                con.execute(
                    "SELECT coalesce(bool_or(upper(trim(agency)) LIKE 'SYNTHETIC%'), FALSE) "
                    "FROM _lk_chk WHERE _reason IS NULL"
                ).fetchone()[0]
            )
        if bk.earlier_ingest(con, KIND, sha) is not None:
            # The same bytes were loaded before: every valid row is a duplicate.
            report.rows_duplicate = n_good
        else:
            report.rows_loaded = n_good
            _insert(con, key, ingest_id, report, opt, line_sql)
        months = con.execute(
            "SELECT string_agg(DISTINCT strftime(_first, '%Y-%m'), ',' ORDER BY "
            "strftime(_first, '%Y-%m')) FROM _lk_chk WHERE _reason IS NULL"
        ).fetchone()[0]
        for t in ("_lk_chk", "_lk_keys", "_lk_new", "_lk_bad", "_lk_rej", "_lk_rejscan"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        derived = derive_from_crime_extract(con)
        report.derived_links, report.supply_flagged = derived["links"], derived["supply_flagged"]
        report.entities = int(con.execute("SELECT count(*) FROM link_entities").fetchone()[0])
        bk.record_ingest(
            con,
            path,
            report,
            kind=KIND,
            sha=sha,
            months=months or "",
            rejects=rejects,
            parser="duckdb",
            started=started,
        )


def _phone_sql(col: str) -> str:
    """SQL of :func:`normalise_phone`."""
    d = f"regexp_replace({col}, '[^0-9]', '', 'g')"
    return f"CASE WHEN {d} LIKE '44%' AND length({d}) = 12 THEN '0' || {d}[3:] ELSE {d} END"


def _address_sql(col: str) -> str:
    """SQL of :func:`normalise_address` (spaces dropped later by the HMAC's normalisation)."""
    ascii_only = f"regexp_replace({col}, '[^\\x00-\\x7f]', '', 'g')"
    return f"trim(regexp_replace(lower({ascii_only}), '[^a-z0-9]+', ' ', 'g'))"


def key_sql(type_col: str, raw_col: str) -> str:
    """SQL for :func:`entity_key` of persons, phones and addresses (parameters $opad, $ipad):
    the HMAC runs in the engine (the crime extract's :func:`hmac_sql`), a few hundred
    thousand distinct ids in a second or two. NULL for places and areas (keyed in Python)."""
    return (
        f"CASE {type_col} WHEN 'person' THEN {hmac_sql(raw_col)} "
        f"WHEN 'phone' THEN {hmac_sql(_phone_sql(raw_col), 'phone:')} "
        f"WHEN 'address' THEN {hmac_sql(_address_sql(raw_col), 'address:')} END"
    )


def _insert(con, key: bytes, ingest_id: int, report: LinksReport, opt, line_sql: str) -> None:
    """One row per distinct (type, id) with what the file says about it; each pseudonymised
    once (in the engine); links inserted straight from the checked rows joined to the keys."""
    synth = "TRUE" if report.synthetic else "FALSE"
    row_synth = f"({synth} OR coalesce(upper({opt('agency')}) LIKE 'SYNTHETIC%', FALSE))"

    def side(p: str) -> str:
        flags = f"lower(coalesce({opt(p + '_flags')}, ''))"
        age = f"try_cast({opt(p + '_age')} AS INTEGER)"
        # Flags were checked against FLAGS, none a part of another: contains() is exact.
        return f"""SELECT _{p[0]}t AS t, trim({p}_id) AS raw,
            CASE WHEN _{p[0]}t = 'person' THEN {age} END AS age, _last AS d,
            contains({flags}, 'supply_offence') AS sup, contains({flags}, 'vulnerable') AS vul,
            contains({flags}, 'out_of_area') AS ooa, {row_synth} AS synthetic
            FROM _lk_chk WHERE _reason IS NULL"""

    opad, ipad = hmac_pads(key)
    # Age: the one given with the latest last_seen; flags: any row saying so.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lk_keys AS
        SELECT *, {key_sql("t", "raw")} AS k,
            CASE WHEN t IN ('place', 'area') THEN raw END AS label
        FROM (SELECT t, raw, arg_max(age, d) FILTER (WHERE age IS NOT NULL) AS age,
                max(d) FILTER (WHERE age IS NOT NULL) AS age_d,
                bool_or(sup) AS sup, bool_or(vul) AS vul, bool_or(ooa) AS ooa,
                bool_and(synthetic) AS synthetic
              FROM ({side("source")} UNION ALL {side("target")}) GROUP BY t, raw)""",
        {"opad": opad, "ipad": ipad},
    )
    # Places and areas: few, keyed by entity_key itself (readable, not personal).
    names = con.execute("SELECT t, raw FROM _lk_keys WHERE k IS NULL").fetchall()
    if names:
        pseud = Pseudonymiser(key)
        con.executemany(
            "UPDATE _lk_keys SET k = ? WHERE t = ? AND raw = ?",
            [(entity_key(pseud, t, raw), t, raw) for t, raw in names],
        )
    n = con.execute(
        f"""INSERT INTO links
        SELECT {ingest_id}, {line_sql}, s.k, c._st, t.k, c._tt, c._lt, c._first, c._last,
            {opt("agency")}, {opt("confidence")}, NULL, {row_synth}
        FROM _lk_chk c
        JOIN _lk_keys s ON s.t = c._st AND s.raw = trim(c.source_id)
        JOIN _lk_keys t ON t.t = c._tt AND t.raw = trim(c.target_id)
        WHERE c._reason IS NULL"""
    ).fetchone()[0]
    if int(n) != report.rows_loaded:
        raise RuntimeError(f"links: {n} rows inserted, {report.rows_loaded} expected")
    # Spellings that normalise alike ('O 1', 'O1') are one entity.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _lk_new AS
        SELECT k, any_value(t) AS t, arg_max(age, age_d) AS age, bool_or(sup) AS sup,
            bool_or(vul) AS vul, bool_or(ooa) AS ooa, min(label) AS label,
            bool_and(synthetic) AS synthetic
        FROM _lk_keys GROUP BY k"""
    )
    # An entity seen in an earlier file: flags OR-ed, this (newer) file's age wins where it
    # gives one, the first label is kept; synthetic only while every source is.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _lk_merged AS
        SELECT n.k, n.t, coalesce(n.age, o.age) AS age,
            n.sup OR coalesce(o.supply_offence, FALSE), n.vul OR coalesce(o.vulnerable, FALSE),
            n.ooa OR coalesce(o.out_of_area, FALSE), coalesce(o.label, n.label),
            n.synthetic AND coalesce(o.synthetic, TRUE)
        FROM _lk_new n LEFT JOIN link_entities o ON o.entity_key = n.k"""
    )
    con.execute(
        "DELETE FROM link_entities WHERE entity_key IN (SELECT k FROM _lk_new) "
        "AND EXISTS (SELECT 1 FROM link_entities LIMIT 1)"
    )
    con.execute("INSERT INTO link_entities SELECT * FROM _lk_merged")
    con.execute("DROP TABLE _lk_merged")


def derive_from_crime_extract(con) -> dict:
    """Co-offending links from shared crime references, and supply flags, from the crime
    extract in the store (``crimes``, ``persons``, ``persons_in_crimes``). Idempotent: the
    derived links are rebuilt whole, so it can run after every ingest of either kind.

    Two offenders recorded on one crime make one ``co_offending`` link per pair (over all the
    crimes they share), first/last seen from the crimes' committed dates,
    ``derived_from = 'crime_extract'``, ``source_id`` the crime extract's ingest id. Offenders
    not yet in ``link_entities`` are added (age: at their latest crime)."""
    has = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    if not {"crimes", "persons", "persons_in_crimes", "links"} <= has:
        return {"links": 0, "supply_flagged": 0}
    con.execute("DELETE FROM links WHERE derived_from = ?", [DERIVED])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _lk_off AS
        SELECT DISTINCT pic.crime_id, p.pseudonym AS k, pic.age, c.committed_from,
            c.source_id, c.synthetic, upper(c.offence_code) AS code
        FROM persons_in_crimes pic JOIN persons p USING (person_id)
        JOIN crimes c USING (crime_id)
        WHERE pic.role = 'offender'"""
    )
    n = con.execute(
        f"""INSERT INTO links
        SELECT min(a.source_id), NULL, a.k, 'person', b.k, 'person', 'co_offending',
            min(a.committed_from)::DATE, max(a.committed_from)::DATE, 'crime extract', NULL,
            '{DERIVED}', bool_and(a.synthetic)
        FROM _lk_off a JOIN _lk_off b ON a.crime_id = b.crime_id AND a.k < b.k
        GROUP BY a.k, b.k"""
    ).fetchone()[0]
    codes = ", ".join(f"'{c}'" for c in SUPPLY_CODES)
    # Offenders in a derived link who are not entities yet.
    con.execute(
        f"""INSERT INTO link_entities
        SELECT k, 'person', arg_max(age, committed_from) FILTER (WHERE age IS NOT NULL),
            bool_or(code IN ({codes})), FALSE, FALSE, NULL, bool_and(synthetic)
        FROM _lk_off o
        WHERE NOT EXISTS (SELECT 1 FROM link_entities e WHERE e.entity_key = o.k)
            AND o.crime_id IN (SELECT crime_id FROM _lk_off GROUP BY 1 HAVING count(*) > 1)
        GROUP BY k"""
    )
    con.execute(
        f"""UPDATE link_entities SET supply_offence = TRUE
        WHERE entity_type = 'person' AND NOT coalesce(supply_offence, FALSE)
            AND entity_key IN (SELECT k FROM _lk_off WHERE code IN ({codes}))"""
    ).fetchone()[0]
    total_flagged = con.execute(
        f"SELECT count(DISTINCT k) FROM _lk_off WHERE code IN ({codes}) AND k IN "
        "(SELECT entity_key FROM link_entities)"
    ).fetchone()[0]
    con.execute("DROP TABLE _lk_off")
    return {"links": int(n), "supply_flagged": int(total_flagged)}


def derive_links(store) -> dict:
    """``links derive``: :func:`derive_from_crime_extract` in its own transaction."""
    with store.transaction() as con:
        return derive_from_crime_extract(con)


def _safe(cell: str) -> bool:
    """A cell that cannot hold an identifier: empty, a date, an age, a grade, a type, flags."""
    c = cell.strip()
    if not c or _SAFE_CELL.match(c):
        return True
    return all(part.strip().lower() in FLAGS for part in c.split(";"))


def _screen_cells(cells: list[str], header: list[str] | None) -> str:
    """Reject text: id cells tagged; free text (agency, confidence) screened; every other cell
    kept only if it looks like a date, age, grade, type or flag, since a row that failed may
    hold an identifier in any column (columns swapped, or shifted on a malformed line)."""
    aligned = header is not None and len(header) == len(cells)
    out = []
    for i, cell in enumerate(cells):
        name = header[i] if aligned else None
        if name in ID_TAG:
            out.append(ID_TAG[name] if cell.strip() else "")
        elif name in ("agency", "confidence"):
            out.append(redact(cell, kinds=code_kinds(name))[0] or "")
        else:
            out.append(cell.strip() if _safe(cell) else "[?]")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(out)
    return screen_reject_text(buf.getvalue(), cap=MAX_REJECT_CHARS)


def _screen_rejects(rows, names, malformed, report) -> list[tuple[int, str, str]]:
    out = []
    for line, csv_line, message in malformed:
        reason = screen_reject_text(
            f"malformed line: {message.split('.')[0]} (one cell per header column is "
            "expected; quote cells holding a comma)"
        )
        report.reject_reasons[reason] += 1
        _note_line(report, reason, int(line))
        cells = next(csv.reader([csv_line or ""]), [])
        out.append((int(line), reason, _screen_cells(cells, None)))
    for row in rows:
        line, reason = int(row[0]), screen_reject_text(row[1])
        report.reject_reasons[reason] += 1
        _note_line(report, reason, line)
        cells = ["" if v is None else str(v) for v in row[2:]]
        out.append((line, reason, _screen_cells(cells, names)))
    return out


def _note_line(report: LinksReport, reason: str, line: int, keep: int = 5) -> None:
    lines = report.reject_line_numbers.setdefault(reason, [])
    if len(lines) < keep:
        lines.append(line)
