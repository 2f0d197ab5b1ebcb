"""The bookkeeping every partnership-file loader shares (ED, police victims, crime extracts).

A loader counts its rows (read = loaded + duplicate + rejected), takes the next ingest id,
and records the file in ``ingests`` with its rejects inside the load's one transaction, so
``harmscope status`` and the audit trail read every kind of file the same way. Police open
data (``sources/ingest.py``) keeps its own, richer record (partitions, replaced rows).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harmscope import __version__
from harmscope.errors import HarmscopeError
from harmscope.privacy.pseudonymise import KEY_ENV, check_key_strength, load_key

# Date/time layouts partnership exports use: ISO first (the usual export), then UK day-first.
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


# Every load reports these, and rows read = loaded + duplicate + rejected.
COUNTS = ("rows_read", "rows_loaded", "rows_duplicate", "rows_rejected")


def row_counts(report) -> dict[str, int]:
    """The four counts of a file's (or a run's) report, in the order reports show them."""
    return {name: getattr(report, name) for name in COUNTS}


@dataclass
class LoadReport:
    """The counts a loader reports for one file; a loader's own report adds its details."""

    path: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    reject_reasons: Counter = field(default_factory=Counter)
    synthetic: bool = False
    ingest_id: int | None = None

    def conserved(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_duplicate + self.rows_rejected

    def check_conserved(self) -> None:
        """A bug, not a user error: never load silently wrong counts."""
        if not self.conserved():
            raise RuntimeError(
                f"row conservation failed for {Path(self.path).name}: {self.to_dict()}"
            )

    def to_dict(self) -> dict:
        return self.counts_dict()

    def counts_dict(self) -> dict:
        """The leading keys of every loader's ``to_dict`` (in this order)."""
        return {"path": self.path, "ingest_id": self.ingest_id, **row_counts(self)}

    def counts_line(self) -> str:
        """The first line of a loader's ``lines()``: the file and its four counts."""
        return (
            f"{Path(self.path).name}: read {self.rows_read:,}, loaded {self.rows_loaded:,}, "
            f"duplicate {self.rows_duplicate:,}, rejected {self.rows_rejected:,}"
        )

    def reject_lines(self) -> list[str]:
        return [f"  rejected {n:,}: {reason}" for reason, n in self.reject_reasons.most_common()]


def normalise_header(cells: list[str]) -> list[str]:
    """Header cells as column names: trimmed, lower case, spaces and '/' as '_'."""
    return [c.strip().lower().replace(" ", "_").replace("/", "_") for c in cells]


def column_names(header: list[str], known) -> list[str]:
    """Column names for DuckDB: a known column keeps its name; an unknown or repeated one
    gets a private name (``_extra_<position>``), so no header cell reaches SQL as a name."""
    seen: set[str] = set()
    out = []
    for i, h in enumerate(header):
        name = h if (h in known and h not in seen) else f"_extra_{i}"
        seen.add(name)
        out.append(name)
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def key_material(key: bytes | None, key_file, *, problem: str, fix: str) -> bytes:
    """The pseudonymisation key: ``key`` (checked for strength), else the key file or
    environment. A file of personal identifiers is never loaded without one, so a missing
    key is refused with the loader's own wording (``problem``, ``fix``)."""
    if key is not None:
        check_key_strength(key, "key")
        return key
    if key_file is None and not os.environ.get(KEY_ENV, "").strip():
        raise HarmscopeError(problem, where=f"{KEY_ENV} / --key-file", fix=fix)
    return load_key(key_file)


def read_preamble(path: Path) -> tuple[list[str], list[str]]:
    """(the ``#`` comment lines before the header, the header cells); a BOM is dropped. Read
    as bytes and decoded leniently: the encoding is judged later by :func:`scan_file`."""
    comments: list[str] = []
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
            if line.lstrip().startswith("#"):
                comments.append(line)
                continue
            return comments, next(csv.reader([line]), [])
    return comments, []


def says_synthetic(comments: list[str]) -> bool:
    """A file marks itself as made-up data with a comment naming it synthetic."""
    return any("synthetic" in line.lower() for line in comments)


def scan_file(path: Path) -> tuple[bool, str]:
    """(is the file UTF-8?, its SHA-256): one pass over the bytes for both."""
    dec = codecs.getincrementaldecoder("utf-8")()
    h = hashlib.sha256()
    utf8 = True
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
            if utf8:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return utf8, h.hexdigest()


@contextmanager
def bulk_load_settings(con, memory_limit: str) -> Iterator[None]:
    """DuckDB settings for one bulk load, put back as they were afterwards.

    DuckDB draws a progress bar on stdout for long statements, and --json output must stay
    clean. The working tables of a million-row file hold about a gigabyte of text: the memory
    cap makes DuckDB spill to its temporary folder rather than grow past the 1.5 GB budget.
    """
    bar, limit = con.execute(
        "SELECT current_setting('enable_progress_bar'), current_setting('memory_limit')"
    ).fetchone()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        yield
    finally:
        con.execute(f"SET enable_progress_bar = {'true' if bar else 'false'}")
        con.execute(f"SET memory_limit = '{limit}'")


def next_ingest_id(con, report: LoadReport) -> int:
    """Take the next ingest id (inside the load's transaction) and note it on ``report``."""
    report.ingest_id = int(con.execute("SELECT nextval('ingest_id_seq')").fetchall()[0][0])
    return report.ingest_id


def earlier_ingest(con, kind: str, sha: str) -> int | None:
    """The first ingest of a file with these bytes (SHA-256) and kind, if any."""
    return con.execute(
        "SELECT min(ingest_id) FROM ingests WHERE kind = ? AND sha256 = ?", [kind, sha]
    ).fetchone()[0]


def record_ingest(
    con,
    path: Path,
    report: LoadReport,
    *,
    kind: str,
    sha: str,
    months: str | None,
    rejects: list[tuple[int, str, str]],
    parser: str,
    started: datetime,
) -> None:
    """The rejected rows (line, reason, screened raw text) and the file's row in ``ingests``
    (the audit trail of every load), written in the caller's transaction."""
    if rejects:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [(report.ingest_id, str(path), line, reason, raw) for line, reason, raw in rejects],
        )
    con.execute(
        "INSERT INTO ingests (ingest_id, path, file_name, member, sha256, size_bytes, kind, "
        "force, months, rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_replaced, "
        "replaces, parser, started_at, finished_at, harmscope_version) VALUES "
        "(?, ?, ?, NULL, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?, ?)",
        [
            report.ingest_id,
            str(path),
            path.name,
            sha,
            path.stat().st_size,
            kind,
            months,
            report.rows_read,
            report.rows_loaded,
            report.rows_duplicate,
            report.rows_rejected,
            parser,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            __version__,
        ],
    )
