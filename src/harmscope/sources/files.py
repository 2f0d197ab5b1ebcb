"""Find input files: single CSVs, gzipped CSVs, folder trees and zip archives as downloaded.

Each input becomes an :class:`InputFile` whose bytes are read once (for the SHA-256 and the
line count) and which can hand DuckDB a path to read at disk speed.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harmscope.errors import HarmscopeError, InputFileError

_CSV_SUFFIXES = (".csv", ".csv.gz", ".gz")


@dataclass
class InputFile:
    """One CSV to ingest: a plain or gzipped file, or a member of a zip archive."""

    path: Path  # the file on disk (the archive, for zip members)
    member: str | None = None  # name inside the zip archive
    _raw: bytes | None = field(default=None, repr=False)
    _text: bytes | None = field(default=None, repr=False)
    _tmp: Path | None = field(default=None, repr=False)

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
                    self._text = gzip.decompress(raw)
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


def _is_csv_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(_CSV_SUFFIXES) and not Path(low).name.startswith(".")


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
                members = sorted(
                    n for n in zf.namelist() if not n.endswith("/") and _is_csv_name(n)
                )
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputFileError(
                f"is not a readable zip archive ({exc})",
                where=str(p),
                fix="download the archive again",
            ) from None
        for m in members:
            yield InputFile(p, m)
    else:
        yield InputFile(p)
