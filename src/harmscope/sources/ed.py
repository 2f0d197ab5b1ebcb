"""ED assault records (ISTV minimum dataset, CSV): validate, pseudonymise, redact, place, load.

The file format is documented in ``harmscope/reference/data/ed/README.md``. What this reader
guarantees:

- it refuses to run without a pseudonymisation key (``HARMSCOPE_KEY`` or a key file);
- the ``nhs_number`` column is replaced by a keyed HMAC-SHA256 pseudonym in memory; the raw
  value never reaches the store, the rejects table or an error message;
- free text (weapon text, location description) is screened by ``privacy.identifiers`` (NHS
  numbers in any format, dates of birth, postcodes, phones, e-mails, addresses, names) and
  redacted before it is stored; postcodes are cut to the outward code;
- an identifier in any other column (site_code, codes, dates, coordinates) quarantines the row,
  with a reason that does not contain it; rejects keep screened raw text (2,000 chars at most);
- rows read = loaded + duplicate + rejected, every reject with file, line and reason;
- one file is one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from harmscope.errors import InputFileError
from harmscope.privacy.identifiers import (
    MAX_REJECT_CHARS,
    code_kinds,
    quarantine_reason,
    redact,
    screen_reject_text,
)
from harmscope.privacy.pseudonymise import (
    Pseudonymiser,
    is_valid_nhs_number,
    load_key,
    normalise_nhs_number,
)
from harmscope.privacy.redact import NHS_TAG, redact_text
from harmscope.sources._bookkeeping import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    LoadReport,
    earlier_ingest,
    file_sha256,
    next_ingest_id,
    normalise_header,
    record_ingest,
)
from harmscope.sources.ed_place import Placer

# Every column, in the order reference/data/ed/README.md documents (and the simulator writes).
COLUMNS = (
    "site_code",
    "arrival_datetime",
    "assault_datetime",
    "assault_method",
    "assault_method_text",
    "location_type",
    "location_desc",
    "postcode",
    "longitude",
    "latitude",
    "lsoa_code",
    "age_band",
    "sex",
    "nhs_number",
    "synthetic",
)
REQUIRED = ("site_code", "arrival_datetime", "assault_method", "location_type")
OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED)
# ISTV assault method (weapon) codes; free text goes in assault_method_text.
WEAPON_CODES = {
    "BODY": "Body part (punch, kick, head-butt)",
    "BLUNT": "Blunt object",
    "KNIFE": "Knife or other sharp object",
    "GLASS": "Glass or bottle",
    "FIREARM": "Firearm",
    "OTHER": "Other",
    "UNKNOWN": "Not known",
}
LOCATION_TYPES = {
    "STREET": "Street or other public place",
    "PUB_CLUB": "Pub, bar or nightclub",
    "HOME": "Home (own or other)",
    "WORK": "Workplace",
    "SCHOOL": "School, college or university",
    "TRANSPORT": "Public transport or station",
    "SHOP": "Shop or takeaway",
    "OTHER": "Other",
    "UNKNOWN": "Not known",
}
AGE_BANDS = ("0-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES = {
    "m": "male",
    "male": "male",
    "f": "female",
    "female": "female",
    "x": "other",
    "other": "other",
    "u": None,
    "unknown": None,
    "": None,
}
_DT_FORMATS = DATETIME_FORMATS
_D_FORMATS = DATE_FORMATS
# An assault recorded as after arrival by more than this is a data-entry error.
_ASSAULT_AFTER_ARRIVAL_SLACK_H = 1


@dataclass
class EdIngestReport(LoadReport):
    placed_by: Counter = field(default_factory=Counter)
    unplaced: Counter = field(default_factory=Counter)
    identifiers_missing: int = 0
    identifiers_invalid: int = 0
    redactions: int = 0

    def to_dict(self) -> dict:
        return {
            **self.counts_dict(),
            "reject_reasons": dict(self.reject_reasons),
            "placed_by": dict(self.placed_by),
            "unplaced": dict(self.unplaced),
            "identifiers_missing": self.identifiers_missing,
            "identifiers_invalid": self.identifiers_invalid,
            "redactions": self.redactions,
            "synthetic": self.synthetic,
        }

    def lines(self) -> list[str]:
        out = [self.counts_line() + (" (SYNTHETIC)" if self.synthetic else "")]
        out.extend(self.reject_lines())
        placed = ", ".join(f"{k} {v:,}" for k, v in self.placed_by.most_common())
        out.append(f"  placed: {placed or 'none'}")
        for reason, n in self.unplaced.most_common():
            out.append(f"  not placed {n:,}: {reason}")
        out.append(
            f"  identifiers: {self.identifiers_missing:,} missing, {self.identifiers_invalid:,} "
            f"failed the NHS number check (kept without a pseudonym); "
            f"{self.redactions:,} free-text redactions"
        )
        return out


class _Reject(Exception):
    pass


def _parse_dt(value: str, column: str) -> tuple[datetime | None, bool]:
    """(datetime, has_time). Blank gives (None, False); junk raises _Reject."""
    value = value.strip()
    if not value:
        return None, False
    if value[:4].isdigit():
        try:  # fast path for ISO text, the usual export
            return datetime.fromisoformat(value), len(value) > 10
        except ValueError:
            pass
    for fmt in _DT_FORMATS:
        try:
            return datetime.strptime(value, fmt), True
        except ValueError:
            pass
    for fmt in _D_FORMATS:
        try:
            return datetime.strptime(value, fmt), False
        except ValueError:
            pass
    raise _Reject(f"{column} is not a date/time (expected YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)")


def _parse_float(value: str, column: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise _Reject(f"{column} is not a number") from None


def _preamble(lines: list[str]) -> tuple[int, bool]:
    """How many leading lines are header comments ("# SYNTHETIC ...": metadata, not rows), and
    whether they mark the file synthetic."""
    first = 0
    while first < len(lines) and lines[first].lstrip().startswith("#"):
        first += 1
    return first, any("synthetic" in line.lower() for line in lines[:first])


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"cannot read the file ({exc.strerror})",
            where=str(path),
            fix="check the path and its permissions",
        ) from None
    if b"\x00" in raw[:4096]:
        raise InputFileError(
            "this is a binary file, not an ISTV CSV",
            where=str(path),
            fix="export the ED assault data as CSV (see the ED format notes)",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _refuse_copy_under_another_key(store, path: Path, good: list[dict]) -> None:
    """Refuse a file whose bytes (SHA-256) were loaded before under another key.

    Record keys are keyed, so under another key every record looks new and would count twice.
    Under the same key every valid row of the file is already held (a harmless re-ingest: all
    duplicates), so a file seen before whose rows are not all held came under another key.
    """
    sha = file_sha256(path)
    prev = earlier_ingest(store.con, "ed", sha)
    if prev is None or not good:
        return
    keys = [r["record_key"] for r in good]
    held = store.con.execute(
        "SELECT count(DISTINCT record_key) FROM ed_assaults WHERE record_key IN "
        "(SELECT unnest(?::VARCHAR[]))",
        [keys],
    ).fetchone()[0]
    if held < len(set(keys)):
        raise InputFileError(
            f"this file (SHA-256 {sha[:12]}...) was already loaded as ingest {prev} under another "
            f"pseudonymisation key: loading it again would count its {len(keys):,} records twice; "
            "refused, nothing changed",
            where=str(path),
            fix="use the partnership's one key for every ED file; to change keys, build a new "
            "store and load every ED file again with the new key",
        )


# Stored columns holding codes, dates or numbers: an identifier found in one means the row is
# wrong, so the row is quarantined (free text is redacted instead; nhs_number is pseudonymised).
# Free text is redacted instead, nhs_number is pseudonymised, synthetic is a flag.
_NOT_CODES = ("assault_method_text", "location_desc", "nhs_number", "synthetic")
CODE_COLUMNS = tuple(c for c in COLUMNS if c not in _NOT_CODES)
_CLEAN_CODES = {*WEAPON_CODES, *LOCATION_TYPES, *AGE_BANDS, *(k.upper() for k in SEXES)}


def _screen_codes(cells: list[str], col: dict[str, int]) -> None:
    """Quarantine the row (raise _Reject, with a reason that does not echo the value) when a
    code column holds an identifier: an NHS number typed into site_code is stored nowhere."""
    for name in CODE_COLUMNS:
        i = col.get(name)
        value = cells[i].strip() if i is not None else ""
        if not value or value.upper() in _CLEAN_CODES:
            continue
        if name in ("longitude", "latitude"):
            try:
                if abs(float(value)) <= 180:
                    continue
            except ValueError:
                pass  # not a number: screened below, then rejected by validation
        elif name.endswith("_datetime"):
            try:
                datetime.fromisoformat(value)
                continue
            except ValueError:
                pass
        reason = quarantine_reason(name, value)
        if reason:
            raise _Reject(reason)


def _redacted_raw(cells: list[str], id_index: int | None, header: list[str] | None = None) -> str:
    """The row as CSV text with the identifier cell replaced and every other cell screened
    (a date column keeps its dates), cut to MAX_REJECT_CHARS characters."""
    cells = list(cells)
    aligned = header is not None and len(header) == len(cells)
    for i, cell in enumerate(cells):
        if i == id_index:
            cells[i] = NHS_TAG
        elif aligned:
            cells[i] = redact(cell, kinds=code_kinds(header[i]))[0] or ""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return screen_reject_text(buf.getvalue(), cap=MAX_REJECT_CHARS)


def ingest_ed(
    store,
    path: str | Path,
    *,
    key: bytes | None = None,
    key_file: str | Path | None = None,
    gazetteer: str | Path | None = None,
    postcodes: str | Path | None = None,
    placer: Placer | None = None,
) -> EdIngestReport:
    """Load one ISTV CSV into ``ed_assaults`` (one transaction) and return its report."""
    pseudo = Pseudonymiser(key if key is not None else load_key(key_file))
    path = Path(path)
    started = datetime.now(UTC).replace(tzinfo=None)
    text = _read_text(path)
    lines = text.splitlines()
    first, file_synthetic = _preamble(lines)
    if first >= len(lines):
        raise InputFileError(
            "the file has no header row",
            where=str(path),
            fix="export the ED data with a header (see the ED format notes)",
        )
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    header = normalise_header(next(reader))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputFileError(
            f"not an ISTV ED file: missing column(s) {', '.join(missing)}",
            where=str(path),
            fix=f"the header must include {', '.join(REQUIRED)} (see reference/data/ed/README.md)",
        )
    col = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    id_index = col.get("nhs_number")
    report = EdIngestReport(path=str(path), synthetic=file_synthetic)
    placer = placer or Placer(gazetteer=gazetteer, postcodes=postcodes)

    good: list[dict] = []
    rejects: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    now = datetime.now()
    for cells in _rows(reader, path, first):
        line = first + reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue  # blank lines are not rows
        report.rows_read += 1
        try:
            if len(cells) != len(header):
                raise _Reject(f"expected {len(header)} fields, found {len(cells)}")
            _screen_codes(cells, col)
            row = _validate(cells, col, now)
        except _Reject as exc:
            # A reason may echo a cell; a misplaced identifier must not ride along.
            reason = screen_reject_text(str(exc))
            report.reject_reasons[reason] += 1
            rejects.append((line, reason, _redacted_raw(cells, id_index, header)))
            continue
        raw_id = row.pop("_raw_id")
        digits = normalise_nhs_number(raw_id)
        if not digits:
            report.identifiers_missing += 1
            row["pseudonym"] = None
        elif not is_valid_nhs_number(digits):
            report.identifiers_invalid += 1
            row["pseudonym"] = None
        else:
            row["pseudonym"] = pseudo(digits)
        canon = "|".join(
            str(row[k])
            for k in ("site_code", "arrival_at", "assault_at", "weapon_code", "location_type")
        )
        canon += "|" + digits + "|" + row["_desc_raw"] + "|" + row["_weapon_raw"]
        row["record_key"] = _keyed(pseudo, canon)
        del row["_weapon_raw"]
        del raw_id, digits
        if row["record_key"] in seen:
            report.rows_duplicate += 1
            continue
        seen.add(row["record_key"])
        row["line"] = line
        row["synthetic"] = bool(row.get("synthetic")) or file_synthetic
        report.synthetic = report.synthetic or row["synthetic"]
        good.append(row)

    _refuse_copy_under_another_key(store, path, good)
    frame = pd.DataFrame(good)
    if len(frame):
        frame = placer.place(frame)
        frame["redactions"] = 0
        for col_name in ("weapon_text", "location_desc"):
            red = [redact_text(t if isinstance(t, str) else None) for t in frame[col_name]]
            frame[col_name] = [t for t, _ in red]
            frame["redactions"] += [n for _, n in red]
        frame = frame.drop(columns=["_desc_raw"])
    _write(store, path, frame, rejects, report, started)
    return report


def _rows(reader, path: Path, offset: int):
    """The CSV records, turning a malformed file (an unclosed quote...) into a clear error."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(
                f"the CSV is malformed near line {offset + reader.line_num} ({exc})",
                where=str(path),
                fix="re-export the file as plain CSV (quotes balanced, one record per row)",
            ) from None


def _keyed(pseudo: Pseudonymiser, canon: str) -> str:
    # A keyed hash, so the duplicate key cannot be dictionary-attacked back to an NHS number.
    return hmac.new(pseudo._key, canon.encode("utf-8"), hashlib.sha256).hexdigest()


def _validate(cells: list[str], col: dict[str, int], now: datetime) -> dict:
    """The row's stored fields; raises _Reject with the first reason it is invalid."""

    def get(name: str) -> str:
        i = col.get(name)
        return cells[i].strip() if i is not None else ""

    site = get("site_code")
    if not site:
        raise _Reject("site_code is empty")
    times = _event_times(get, now)
    weapon = _known_code(get, "assault_method", WEAPON_CODES)
    loc_type = _known_code(get, "location_type", LOCATION_TYPES)
    lon = _parse_float(get("longitude"), "longitude")
    lat = _parse_float(get("latitude"), "latitude")
    if (lon is None) != (lat is None):
        raise _Reject("only one of longitude/latitude is given")
    age = get("age_band") or None
    if age is not None and age not in AGE_BANDS:
        raise _Reject(f"age_band {age[:12]!r} is not one of {', '.join(AGE_BANDS)}")
    sex_raw = get("sex").lower()
    if sex_raw not in SEXES:
        raise _Reject("sex is not one of M, F, X, U")
    postcode = get("postcode").upper().replace(" ", "")
    return {
        "site_code": site[:20],
        **times,
        "weapon_code": weapon,
        "weapon_text": get("assault_method_text") or None,
        "_weapon_raw": get("assault_method_text"),
        "location_type": loc_type,
        "location_desc": get("location_desc") or None,
        "_desc_raw": get("location_desc"),
        "postcode": postcode or None,
        "longitude": lon,
        "latitude": lat,
        "lsoa_code": get("lsoa_code").upper() or None,
        "age_band": age,
        "sex": SEXES[sex_raw],
        "synthetic": get("synthetic").lower() in ("true", "1", "yes", "y"),
        "_raw_id": get("nhs_number"),
    }


def _known_code(get, column: str, codes: dict[str, str]) -> str:
    value = get(column).upper()
    if value not in codes:
        raise _Reject(f"{column} {value[:20]!r} is not a known code ({', '.join(codes)})")
    return value


def _event_times(get, now: datetime) -> dict:
    """Arrival and assault times, the day and month of the assault (else of arrival) and
    which time the time-of-day profile uses: the assault's when it has one, else arrival's."""
    arrival, arrival_has_time = _parse_dt(get("arrival_datetime"), "arrival_datetime")
    if arrival is None:
        raise _Reject("arrival_datetime is empty")
    if arrival > now:
        raise _Reject("arrival_datetime is in the future")
    assault, assault_has_time = _parse_dt(get("assault_datetime"), "assault_datetime")
    if assault is not None:
        slack = (assault - arrival).total_seconds() / 3600
        if (assault_has_time and slack > _ASSAULT_AFTER_ARRIVAL_SLACK_H) or (
            not assault_has_time and assault.date() > arrival.date()
        ):
            raise _Reject("assault_datetime is after arrival_datetime")
    when = assault if assault is not None else arrival
    if assault is not None and assault_has_time:
        time_source = "assault"
    elif arrival_has_time:
        time_source = "arrival"
    else:
        time_source = None
    return {
        "arrival_at": arrival if arrival_has_time else None,
        "assault_at": assault if (assault is not None and assault_has_time) else None,
        "assault_date": when.date(),
        "month": date(when.year, when.month, 1),
        "time_source": time_source,
        "_event_time": (assault if time_source == "assault" else arrival) if time_source else None,
    }


_COLUMNS = [
    "source_id",
    "line",
    "record_key",
    "pseudonym",
    "site_code",
    "arrival_at",
    "assault_at",
    "assault_date",
    "month",
    "time_source",
    "weapon_code",
    "weapon_text",
    "location_type",
    "location_desc",
    "postcode_district",
    "longitude",
    "latitude",
    "lsoa11_code",
    "lad_code",
    "lad_name",
    "place_name",
    "place_score",
    "placed_by",
    "unplaced_reason",
    "age_band",
    "sex",
    "redactions",
    "synthetic",
]


def _write(store, path: Path, frame: pd.DataFrame, rejects, report: EdIngestReport, started):
    with store.transaction() as con:
        ingest_id = next_ingest_id(con, report)
        months = ""
        if len(frame):
            frame = frame.copy()
            frame["source_id"] = ingest_id
            # Event time kept for the time-of-day profile: assault time, else arrival time.
            frame["arrival_at"] = pd.to_datetime(frame["arrival_at"])
            frame["assault_at"] = pd.to_datetime(frame["assault_at"])
            dup = _insert_new(con, "ed_assaults", frame[_COLUMNS], "t.record_key = n.record_key")
            report.rows_duplicate += dup
            report.rows_loaded = len(frame) - dup
            # The report describes placement of every valid row in the file, duplicates too.
            report.placed_by.update(frame["placed_by"].fillna("not placed").tolist())
            report.placed_by.pop("not placed", None)
            report.unplaced.update(frame["unplaced_reason"].dropna().tolist())
            report.redactions = int(frame["redactions"].sum())
            months = ",".join(sorted({m.strftime("%Y-%m") for m in frame["month"]}))
        report.rows_rejected = len(rejects)
        _record_ingest(con, path, "ed", months, rejects, report, started)
    report.check_conserved()


def ingest_police_victims(
    store, path: str | Path, *, key: bytes | None = None, key_file: str | Path | None = None
) -> EdIngestReport:
    """Load a police victim extract (nhs_number, offence_date[, lad_code][, synthetic]).

    The identifier is pseudonymised with the same key as the ED data, so the two link.
    Rows without a valid identifier or date are rejected (they cannot be linked).
    """
    pseudo = Pseudonymiser(key if key is not None else load_key(key_file))
    path = Path(path)
    started = datetime.now(UTC).replace(tzinfo=None)
    lines = _read_text(path).splitlines()
    first, synthetic_file = _preamble(lines)
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    header = normalise_header(next(reader, []))
    for need in ("nhs_number", "offence_date"):
        if need not in header:
            raise InputFileError(
                f"not a police victim extract: no {need} column",
                where=str(path),
                fix="the header must include nhs_number and offence_date",
            )
    idx = {c: i for i, c in enumerate(header)}
    report = EdIngestReport(path=str(path), synthetic=synthetic_file)
    rows, rejects, seen = [], [], set()
    for cells in reader:
        line = first + reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        report.rows_read += 1
        try:
            if len(cells) != len(header):
                raise _Reject(f"expected {len(header)} fields, found {len(cells)}")
            digits = normalise_nhs_number(cells[idx["nhs_number"]])
            if not is_valid_nhs_number(digits):
                raise _Reject("nhs_number is missing or fails the modulus-11 check")
            when, _ = _parse_dt(cells[idx["offence_date"]], "offence_date")
            if when is None:
                raise _Reject("offence_date is empty")
        except _Reject as exc:
            reason = screen_reject_text(str(exc))
            report.reject_reasons[reason] += 1
            rejects.append((line, reason, _redacted_raw(cells, idx["nhs_number"], header)))
            continue
        lad = cells[idx["lad_code"]].strip() if "lad_code" in idx else ""
        synth = synthetic_file or (
            "synthetic" in idx and cells[idx["synthetic"]].strip().lower() in ("true", "1")
        )
        pseud = pseudo(digits)
        k = (pseud, when.date())
        if k in seen:
            report.rows_duplicate += 1
            continue
        seen.add(k)
        rows.append((line, pseud, when.date(), lad or None, synth))
    with store.transaction() as con:
        ingest_id = next_ingest_id(con, report)
        frame = pd.DataFrame(
            rows, columns=["line", "pseudonym", "offence_date", "lad_code", "synthetic"]
        )
        frame.insert(0, "source_id", ingest_id)
        dup = _insert_new(
            con,
            "police_victims",
            frame,
            "t.pseudonym = n.pseudonym AND t.offence_date = n.offence_date",
        )
        report.rows_duplicate += dup
        report.rows_loaded = len(frame) - dup
        report.rows_rejected = len(rejects)
        report.synthetic = synthetic_file or bool(frame["synthetic"].any()) if len(frame) else False
        _record_ingest(con, path, "police_victims", None, rejects, report, started)
    return report


def _insert_new(con, table: str, frame: pd.DataFrame, same: str) -> int:
    """Insert the rows of ``frame`` that ``table`` does not hold yet (``same`` matches a stored
    row ``t`` to a new row ``n``); returns how many it already held."""
    held = f"EXISTS (SELECT 1 FROM {table} t WHERE {same})"
    con.register("_new_rows", frame)
    dup = con.execute(f"SELECT count(*) FROM _new_rows n WHERE {held}").fetchall()[0][0]
    con.execute(f"INSERT INTO {table} SELECT * FROM _new_rows n WHERE NOT {held}")
    con.unregister("_new_rows")
    return int(dup)


def _record_ingest(con, path: Path, kind: str, months, rejects, report, started) -> None:
    """The rejected rows and the file's row in ``ingests`` (parsed in Python)."""
    record_ingest(
        con,
        path,
        report,
        kind=kind,
        sha=file_sha256(path),
        months=months,
        rejects=rejects,
        parser="python",
        started=started,
    )
