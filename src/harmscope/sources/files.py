"""Find input files: single CSVs, gzipped CSVs, folder trees and zip archives as downloaded.

Each input becomes an :class:`InputFile` whose bytes are read once (for the SHA-256 and the
line count) and which can hand DuckDB a path to read at disk speed.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harmscope.errors import HarmscopeError, InputFileError

_CSV_SUFFIXES = (".csv", ".csv.gz", ".gz")

# Compressed inputs are expanded in memory, so a small archive must not be able to claim a huge
# one (a "zip bomb": 194 KB that inflates to 1.9 GB). Police CSVs compress 4-15 times (measured on
# the Kent, Essex and Sussex files); anything past MAX_RATIO is not a police file.
MAX_RATIO = 100  # uncompressed / compressed, checked once a member passes RATIO_FLOOR bytes
RATIO_FLOOR = 1 << 20  # tiny files (a header and a few rows) can compress very well
MAX_FILE_BYTES = 1 << 30  # one CSV (the largest police.uk monthly file is about 40 MB)
MAX_ARCHIVE_BYTES = 4 << 30  # all CSV members of one zip archive together


@dataclass
class InputFile:
    """One CSV to ingest: a plain or gzipped file, or a member of a zip archive."""

    path: Path  # the file on disk (the archive, for zip members)
    member: str | None = None  # name inside the zip archive
    _raw: bytes | None = field(default=None, repr=False)
    _text: bytes | None = field(default=None, repr=False)
    _tmp: Path | None = field(default=None, repr=False)
    error: InputFileError | None = field(default=None, repr=False)  # found unusable while listing

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    def raw_bytes(self) -> bytes:
        """The bytes as stored (compressed if gzipped): what the SHA-256 is taken of."""
        if self._raw is None:
            try:
                if self.member:
                    with zipfile.ZipFile(self.path) as zf:
                        self._raw = zf.read(self.member)
                else:
                    self._raw = self.path.read_bytes()
            except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputFileError(
                    f"cannot be read ({exc})",
                    where=self.display,
                    fix="check the file is complete; download it again if it was cut short",
                ) from None
        return self._raw

    @property
    def is_gzip(self) -> bool:
        return self.raw_bytes()[:2] == b"\x1f\x8b"

    def text_bytes(self) -> bytes:
        """The decompressed CSV bytes."""
        if self._text is None:
            raw = self.raw_bytes()
            if self.is_gzip:
                try:
                    self._text = _gunzip_bounded(raw, self.display)
                except (OSError, EOFError, zlib.error) as exc:
                    raise InputFileError(
                        f"is a damaged or truncated gzip file ({exc})",
                        where=self.display,
                        fix="download the file again, or gunzip it to see how far it reads",
                    ) from None
            else:
                self._text = raw
        return self._text

    def sha256(self) -> str:
        return hashlib.sha256(self.raw_bytes()).hexdigest()

    def size(self) -> int:
        return len(self.raw_bytes())

    def duckdb_path(self) -> tuple[str, str]:
        """A path DuckDB can read and its compression ('gzip' or 'none')."""
        if not self.member:
            if self.is_gzip and self.path.suffix == ".gz":
                return str(self.path), "gzip"
            if not self.is_gzip:
                return str(self.path), "none"
        if self._tmp is None:
            tmp = tempfile.NamedTemporaryFile(prefix="harmscope-", suffix=".csv", delete=False)
            tmp.write(self.text_bytes())
            tmp.close()
            self._tmp = Path(tmp.name)
        return str(self._tmp), "none"

    def release(self) -> None:
        """Drop cached bytes and any temporary copy."""
        self._raw = self._text = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def _too_big(size: int, packed: int, where: str) -> InputFileError | None:
    """An error when ``size`` bytes unpacked from ``packed`` is past the limits, else None."""
    if size > RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
        return InputFileError(
            f"would unpack {packed:,} bytes to {size:,} (a ratio of {size / max(packed, 1):,.0f}; "
            f"police CSVs compress at most about 15 times and the limit is {MAX_RATIO}): "
            "refusing a possible zip bomb",
            where=where,
            fix="check where this archive came from; download the police.uk file again",
        )
    if size > MAX_FILE_BYTES:
        return InputFileError(
            f"would unpack to {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for one CSV",
            where=where,
            fix="police.uk monthly files are tens of MB; check this is the right file",
        )
    return None


def _gunzip_bounded(raw: bytes, where: str) -> bytes:
    """gzip.decompress with the ratio and size limits applied while inflating."""
    limit = min(MAX_FILE_BYTES, max(RATIO_FLOOR, MAX_RATIO * len(raw)))
    out: list[bytes] = []
    total = 0
    data = raw
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one gzip member (a file may hold several)
        buf = data
        while buf:
            chunk = d.decompress(buf, 1 << 20)
            total += len(chunk)
            if total > limit:
                raise _too_big(max(total, RATIO_FLOOR + 1), len(raw), where)  # type: ignore[misc]
            out.append(chunk)
            buf = d.unconsumed_tail
        if not d.eof:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        data = d.unused_data.lstrip(b"\x00")
    return b"".join(out)


def _is_csv_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(_CSV_SUFFIXES) and not Path(low).name.startswith(".")


def _unusable(p: Path, error: InputFileError) -> InputFile:
    """An input that is reported as failed (with ``error``) without stopping a folder walk."""
    return InputFile(p, error=error)


def expand_paths(paths: list[str | Path]) -> Iterator[InputFile]:
    """Yield every CSV under the given paths, in a stable order.

    Folders are walked recursively (the ``YYYY-MM/`` download layout), zip archives are
    opened and their CSV members read. A path that does not exist is an error naming it.
    """
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise HarmscopeError(
                "no such file or folder",
                where=str(p),
                fix="check the path (and quote paths with spaces)",
            )
        if p.is_dir():
            found = sorted(
                q
                for q in p.rglob("*")
                if q.is_file() and (_is_csv_name(q.name) or q.suffix == ".zip")
            )
            for q in found:
                yield from _expand_file(q)
        else:
            yield from _expand_file(p)


def _expand_file(p: Path) -> Iterator[InputFile]:
    if p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as zf:
                infos = sorted(
                    (i for i in zf.infolist() if not i.is_dir() and _is_csv_name(i.filename)),
                    key=lambda i: i.filename,
                )
                nested = sorted(
                    i.filename for i in zf.infolist() if i.filename.lower().endswith(".zip")
                )
        except (zipfile.BadZipFile, OSError) as exc:
            yield _unusable(
                p,
                InputFileError(
                    f"is not a readable zip archive ({exc})",
                    where=str(p),
                    fix="download the archive again",
                ),
            )
            return
        if nested:
            # Not opened: each level would multiply the unpacking limits below.
            yield _unusable(
                p,
                InputFileError(
                    f"holds {len(nested)} zip archive(s) inside it ({', '.join(nested[:3])}"
                    + (" ..." if len(nested) > 3 else "")
                    + "), which harmscope does not open"
                    + ("" if infos else "; nothing in it was ingested"),
                    where=str(p),
                    fix="unzip the outer archive and pass the inner .zip files (or their folders)",
                ),
            )
            return
        if not infos:
            yield _unusable(
                p,
                InputFileError(
                    "holds no CSV files: nothing to ingest",
                    where=str(p),
                    fix="pass the police.uk download (a zip of YYYY-MM/ folders of CSVs)",
                ),
            )
            return
        total = sum(i.file_size for i in infos)
        bad = next(
            (
                e
                for i in infos
                if (e := _too_big(i.file_size, i.compress_size, f"{p}!{i.filename}")) is not None
            ),
            None,
        )
        if bad is None and total > MAX_ARCHIVE_BYTES:
            bad = InputFileError(
                f"its CSVs would unpack to {total:,} bytes, over the {MAX_ARCHIVE_BYTES:,}-byte "
                "limit for one archive",
                where=str(p),
                fix="unzip it and ingest its folders a few at a time",
            )
        if bad is not None:
            yield _unusable(p, bad)
            return
        for i in infos:
            yield InputFile(p, i.filename)
    else:
        yield InputFile(p)
