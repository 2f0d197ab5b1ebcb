"""Find a packaged reference file, or the user's replacement for it, and read it checked.

A partnership can swap any packaged table for its own (a newer population estimate, its own
CSP list) by setting HARMSCOPE_REFERENCE_DIR to a folder that holds a file with the same
relative name, e.g. ``geography/lsoa11.csv.gz``. Files not present there fall back to the
packaged copy, so a user only supplies what they want to change.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError

PACKAGED = Path(__file__).resolve().parent / "data"
ENV_VAR = "HARMSCOPE_REFERENCE_DIR"


def resolve(relative: str) -> Path:
    """Path of the file to use for ``relative`` (the override if there is one)."""
    override = os.environ.get(ENV_VAR)
    if override:
        root = Path(override).expanduser()
        if not root.is_dir():
            raise HarmscopeError(
                f"{ENV_VAR} is set to {override!r}, which is not a folder",
                where=ENV_VAR,
                fix=f"point it at a folder holding replacement files such as {relative}, "
                "or unset it to use the packaged tables",
            )
        candidate = root / relative
        if candidate.is_file():
            return candidate
    return PACKAGED / relative


def _stamp(path: Path) -> tuple[str, int, int]:
    # Keyed on size and mtime as well as the name, so an edited override is re-read.
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


def read_table(
    relative: str,
    required: dict[str, str],
    *,
    unique: str | None = None,
) -> pd.DataFrame:
    """Read a CSV reference table, checking its columns; returns a fresh copy each call.

    ``required`` maps column name to pandas dtype ("string", "Int64", "float64").
    """
    path = resolve(relative)
    items = tuple(sorted(required.items()))
    return _read_table_cached(_stamp(path), items, unique).copy()


@lru_cache(maxsize=32)
def _read_table_cached(
    stamp: tuple[str, int, int], required: tuple[tuple[str, str], ...], unique: str | None
) -> pd.DataFrame:
    path = Path(stamp[0])
    where = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError, gzip.BadGzipFile) as e:
        raise HarmscopeError(
            f"cannot be read as a CSV table ({type(e).__name__}: {e})",
            where=where,
            fix="supply a UTF-8 CSV (optionally .gz) with a header row",
        ) from None
    except pd.errors.EmptyDataError:
        raise HarmscopeError(
            "is empty", where=where, fix="supply a CSV with a header row and data rows"
        ) from None
    missing = [c for c, _ in required if c not in df.columns]
    if missing:
        raise HarmscopeError(
            f"lacks required column(s) {', '.join(missing)} (has: {', '.join(df.columns)})",
            where=where,
            fix=f"add the missing column(s); the packaged file {PACKAGED / _rel(path)} "
            "shows the expected layout",
        )
    if df.empty:
        raise HarmscopeError("has a header but no rows", where=where, fix="add the data rows")
    for col, dtype in required:
        df[col] = _typed_column(df[col], col, dtype, where)
    if unique:
        _check_unique(df, unique, where)
    return df


def _typed_column(values: pd.Series, col: str, dtype: str, where: str) -> pd.Series:
    """``values`` as ``dtype``; a cell that is not a number (or not whole, for Int64) is an
    error naming its line (thousands commas are allowed)."""
    if dtype == "string":
        return values.astype("string")
    num = pd.to_numeric(values.str.replace(",", "", regex=False), errors="coerce")
    bad = values.notna() & num.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        raise HarmscopeError(
            f"column {col} must be numeric, but line {first + 2} holds {values.iloc[first]!r}",
            where=where,
            fix=f"correct or blank that value in {col}",
        )
    if dtype != "Int64":
        return num.astype(dtype)
    frac = num.notna() & (num != num.round())
    if frac.any():
        first = int(frac.to_numpy().nonzero()[0][0])
        raise HarmscopeError(
            f"column {col} must hold whole numbers, but line {first + 2} holds "
            f"{values.iloc[first]!r}",
            where=where,
            fix=f"correct that value in {col}",
        )
    return num.astype("Int64")


def _check_unique(df: pd.DataFrame, unique: str, where: str) -> None:
    dup = df[unique].duplicated(keep=False) & df[unique].notna()
    if dup.any():
        vals = sorted(set(df.loc[dup, unique].astype(str)))[:5]
        raise HarmscopeError(
            f"column {unique} must be unique, but repeats {', '.join(vals)}",
            where=where,
            fix=f"keep one row per {unique}",
        )
    if df[unique].isna().any():
        raise HarmscopeError(
            f"column {unique} has empty values", where=where, fix=f"fill every {unique}"
        )


def _rel(path: Path) -> str:
    override = os.environ.get(ENV_VAR)
    if override and path.is_relative_to(Path(override).expanduser()):
        return str(path.relative_to(Path(override).expanduser()))
    return str(path.relative_to(PACKAGED)) if path.is_relative_to(PACKAGED) else path.name


def read_geojson(relative: str, required_properties: tuple[str, ...]) -> dict:
    """Read a GeoJSON FeatureCollection (optionally .gz); returns a deep copy each call."""
    return copy.deepcopy(read_geojson_shared(relative, required_properties))


def read_geojson_shared(relative: str, required_properties: tuple[str, ...]) -> dict:
    """As read_geojson, but the cached object itself: callers must not modify it."""
    return _read_geojson_cached(_stamp(resolve(relative)), required_properties)


@lru_cache(maxsize=128)  # one per force's file, and the national ones
def _read_geojson_cached(stamp: tuple[str, int, int], required: tuple[str, ...]) -> dict:
    path = Path(stamp[0])
    where = str(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            fc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, EOFError) as e:
        raise HarmscopeError(
            f"cannot be read as GeoJSON ({type(e).__name__}: {e})",
            where=where,
            fix="supply a GeoJSON FeatureCollection in WGS84 longitude/latitude",
        ) from None
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise HarmscopeError(
            "is not a GeoJSON FeatureCollection",
            where=where,
            fix='supply {"type": "FeatureCollection", "features": [...]}',
        )
    feats = fc.get("features") or []
    if not feats:
        raise HarmscopeError("has no features", where=where, fix="supply at least one polygon")
    for i, ft in enumerate(feats):
        props = ft.get("properties") or {}
        missing = [p for p in required if not props.get(p)]
        geom = ft.get("geometry") or {}
        if missing:
            raise HarmscopeError(
                f"feature {i} lacks propert(ies) {', '.join(missing)}",
                where=where,
                fix=f"give every feature the properties {', '.join(required)}",
            )
        if geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise HarmscopeError(
                f"feature {i} has geometry {geom.get('type')!r}, not a polygon",
                where=where,
                fix="supply Polygon or MultiPolygon geometries",
            )
    return fc
