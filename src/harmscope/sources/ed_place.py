"""Place ED records in a 2011 LSOA and district: coordinates, postcode, LSOA, then free text.

Order of evidence (the first that works wins, and ``placed_by`` says which):

1. ``coordinates``: longitude/latitude inside a packaged Kent & Medway 2011 LSOA polygon;
2. ``postcode``: a user-supplied ONS postcode lookup (ONSPD or NSPL CSV; columns ``pcds`` or
   ``pcd``, and ``lsoa11`` or ``lsoa11cd``); none ships, because the national file is ~1 GB
   and updated quarterly;
3. ``lsoa``: an ``lsoa_code`` that is a 2011 LSOA in the packaged table;
4. ``gazetteer``: the location description fuzzy-matched against a user venue list (CSV:
   ``name,type,longitude,latitude``);
5. ``town_centre``: the description fuzzy-matched against the packaged Kent & Medway
   town-centre list (approximate centroids, estimates; see reference/data/ed/README.md).

Every row that is not placed gets an ``unplaced_reason``. Text matching uses the unredacted
text in memory (the stored text is redacted afterwards).
"""

from __future__ import annotations

import csv
import difflib
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError

TOWN_CENTRES = "ed/town_centres.csv"
BOUNDARIES = "boundaries/lsoa11_kent_medway.geojson"
# A match scores 0-100 (difflib ratio of the best word window). 85 accepts one slip in a
# 7-letter word ("Maidstne", "Margat") and rejects different towns ("Deal" v "Dover").
MIN_SCORE = 85.0
_WORD = re.compile(r"[a-z0-9']+")
_STOP = {
    "town",
    "centre",
    "center",
    "city",
    "high",
    "street",
    "the",
    "st",
    "of",
    "in",
    "on",
    "near",
    "outside",
    "at",
    "road",
    "rd",
}


def _norm_words(text: str) -> list[str]:
    return [w for w in _WORD.findall((text or "").lower()) if w not in _STOP]


@lru_cache(maxsize=1)
def _lsoa_lookup() -> dict[str, str]:
    from harmscope.reference import tables

    t = tables.load_lsoa11()
    return dict(zip(t.lsoa11_code.astype(str), t.lad_code.astype(str), strict=True))


@lru_cache(maxsize=1)
def _lad_names() -> dict[str, str]:
    from harmscope.reference import tables

    t = tables.load_lad()
    return dict(zip(t.lad_code.astype(str), t.lad_name.astype(str), strict=True))


def points_to_lsoa(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """2011 LSOA code for each point (None outside England and Wales or without a point).

    Uses the same placement as police data (the unsimplified packaged polygons), so ED and
    police records land in the same LSOA.
    """
    from harmscope.reference import place_points

    out = np.full(len(lon), None, dtype=object)
    ok = ~(pd.isna(lon) | pd.isna(lat))
    if ok.any():
        out[np.flatnonzero(ok)] = place_points(
            np.asarray(lon, float)[ok], np.asarray(lat, float)[ok]
        )
    return out


def load_town_centres() -> pd.DataFrame:
    """The packaged Kent & Medway town-centre list (centroids are estimates)."""
    from harmscope.reference._files import read_table

    return read_table(
        TOWN_CENTRES,
        {
            "name": "string",
            "aliases": "string",
            "lad_code": "string",
            "lad_name": "string",
            "longitude": "float64",
            "latitude": "float64",
            "estimate": "string",
        },
        unique="name",
    )


def _input_file(path: str | Path, what: str, option: str, fix: str) -> Path:
    """``path`` as a Path; an error naming the option when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise HarmscopeError(f"{what} not found", where=f"{option} {path}", fix=fix)
    return path


def load_gazetteer(path: str | Path) -> pd.DataFrame:
    """A user venue list: CSV with name, type, longitude, latitude (WGS84)."""
    path = _input_file(
        path,
        "gazetteer file",
        "--gazetteer",
        "pass a CSV with columns name,type,longitude,latitude",
    )
    frame = pd.read_csv(path, dtype=str).rename(columns=lambda c: c.strip().lower())
    missing = {"name", "longitude", "latitude"} - set(frame.columns)
    if missing:
        raise HarmscopeError(
            f"gazetteer lacks column(s) {', '.join(sorted(missing))}",
            where=f"--gazetteer {path}",
            fix="the header must be name,type,longitude,latitude",
        )
    frame["longitude"] = pd.to_numeric(frame["longitude"], errors="coerce")
    frame["latitude"] = pd.to_numeric(frame["latitude"], errors="coerce")
    bad = frame[["longitude", "latitude"]].isna().any(axis=1)
    if bad.any():
        raise HarmscopeError(
            f"{int(bad.sum())} venue(s) have no usable coordinates "
            f"(first at data row {int(np.flatnonzero(bad)[0]) + 1})",
            where=f"--gazetteer {path}",
            fix="give every venue a WGS84 longitude and latitude",
        )
    return frame


def load_postcodes(path: str | Path) -> dict[str, str]:
    """Postcode (no spaces, upper case) -> 2011 LSOA, from an ONSPD/NSPL-style CSV."""
    path = _input_file(
        path,
        "postcode lookup",
        "--postcodes",
        "pass an ONSPD or NSPL CSV (columns pcds and lsoa11)",
    )
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        pc = next(
            (header.index(c) for c in ("pcds", "pcd", "pcd7", "postcode") if c in header), None
        )
        ls = next(
            (header.index(c) for c in ("lsoa11", "lsoa11cd", "lsoa11_code") if c in header), None
        )
        if pc is None or ls is None:
            raise HarmscopeError(
                "postcode lookup needs a postcode column (pcds/pcd) and a 2011 LSOA column (lsoa11)",
                where=f"--postcodes {path}",
                fix="use the ONS Postcode Directory (ONSPD) or NSPL CSV, or a two-column pcds,lsoa11 file",
            )
        return {
            row[pc].replace(" ", "").upper(): row[ls].strip()
            for row in reader
            if len(row) > max(pc, ls)
        }


class _Matcher:
    """Best fuzzy match of a description against a list of names (word-window difflib ratio).

    Exact word matches are found by lookup; only the rest go through difflib, with its cheap
    upper bounds (real_quick_ratio, quick_ratio) ruling out most candidates first.
    """

    def __init__(self, names: list[str], keys: list[int], min_score: float = MIN_SCORE):
        self.entries = []
        self.exact: dict[str, set[int]] = {}
        self.min_ratio = min_score / 100
        for name, key in zip(names, keys, strict=True):
            words = _norm_words(name)
            if not words:
                continue
            target = " ".join(words)
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(target)
            self.entries.append((len(words), key, name, matcher))
            self.exact.setdefault(target, set()).add(key)
        self.names = {key: name for _, key, name, _ in self.entries}

    def best(self, text: str) -> tuple[int | None, float, str | None, bool]:
        """(key, score 0-100, matched name, ambiguous)."""
        words = _norm_words(text)
        if not words:
            return None, 0.0, None, False
        hits: set[int] = set()
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                hits |= self.exact.get(" ".join(words[i : i + n]), set())
        if hits:
            key = min(hits)
            return key, 100.0, self.names[key], len(hits) > 1
        scores: dict[int, float] = {}
        top = 0.0
        for n, key, _name, matcher in self.entries:
            best = 0.0
            for i in range(max(1, len(words) - n + 1)):
                matcher.set_seq1(" ".join(words[i : i + n]))
                if (
                    matcher.real_quick_ratio() < self.min_ratio
                    or matcher.quick_ratio() < self.min_ratio
                ):
                    continue
                best = max(best, matcher.ratio())
            if best > scores.get(key, 0.0):
                scores[key] = best
            top = max(top, best)
        good = {k: v for k, v in scores.items() if v >= self.min_ratio}
        if not good:
            return None, top * 100, None, False
        ranked = sorted(good.items(), key=lambda kv: -kv[1])
        key, score = ranked[0]
        ambiguous = len(ranked) > 1 and abs(ranked[1][1] - score) < 1e-9
        return key, score * 100, self.names[key], ambiguous


class _Placement:
    """Where each row is placed so far: LSOA, district, point, how, and why not (notes)."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray):
        n = len(lon)
        self.lon, self.lat = lon, lat
        self.lsoa = np.full(n, None, dtype=object)
        self.lad = np.full(n, None, dtype=object)
        self.how = np.full(n, None, dtype=object)
        self.pname = np.full(n, None, dtype=object)
        self.pscore = np.full(n, np.nan)
        self.notes: list[list[str]] = [[] for _ in range(n)]

    def by_coordinates(self) -> None:
        has_pt = ~(np.isnan(self.lon) | np.isnan(self.lat))
        by_pt = points_to_lsoa(self.lon, self.lat)
        for i in np.flatnonzero(has_pt):
            if by_pt[i] is not None:
                self.lsoa[i], self.how[i] = by_pt[i], "coordinates"
            else:
                self.notes[i].append("coordinates outside Kent and Medway")

    def by_lsoa_code(self, codes: list, lookup: dict) -> None:
        for i, code in enumerate(codes):
            if self.how[i] is not None or not code:
                continue
            if code in lookup:
                self.lsoa[i], self.how[i] = code, "lsoa"
            else:
                self.notes[i].append(
                    "lsoa_code is not a 2011 LSOA (2021-only codes cannot be placed)"
                )

    def text_lsoas(self) -> None:
        """Text placements get their LSOA from the venue/centroid point."""
        text_rows = np.array([h in ("gazetteer", "town_centre") for h in self.how])
        if not text_rows.any():
            return
        found = points_to_lsoa(self.lon[text_rows], self.lat[text_rows])
        for j, i in enumerate(np.flatnonzero(text_rows)):
            self.lsoa[i] = found[j]
            if found[j] is None and self.lad[i] is None:
                self.how[i] = None
                self.notes[i].append("matched venue lies outside Kent and Medway")


class Placer:
    def __init__(
        self,
        *,
        gazetteer: str | Path | None = None,
        postcodes: str | Path | None = None,
        town_centres: bool = True,
        min_score: float = MIN_SCORE,
    ):
        self.gazetteer = load_gazetteer(gazetteer) if gazetteer else None
        self.postcodes = load_postcodes(postcodes) if postcodes else None
        self.towns = load_town_centres() if town_centres else None
        self.min_score = min_score
        self._venue_matcher = None
        if self.gazetteer is not None:
            self._venue_matcher = _Matcher(
                self.gazetteer["name"].tolist(), list(range(len(self.gazetteer))), min_score
            )
        self._town_matcher = None
        if self.towns is not None:
            names, keys = [], []
            for i, r in enumerate(self.towns.itertuples()):
                for n in [r.name, *str(r.aliases or "").split("|")]:
                    if n and n != "<NA>":
                        names.append(n)
                        keys.append(i)
            self._town_matcher = _Matcher(names, keys, min_score)

    def place(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add lsoa11_code, lad_code, lad_name, place_name, place_score, placed_by, unplaced_reason.

        A row is placed by the first that works of: its coordinates, its postcode (with a
        lookup), its LSOA code, its location description (a venue, else a town centre). A row
        left unplaced gives every reason it could not be placed."""
        f = frame.copy()
        n = len(f)
        lookup = _lsoa_lookup()
        st = _Placement(
            f["longitude"].to_numpy(dtype=float, na_value=np.nan).copy(),
            f["latitude"].to_numpy(dtype=float, na_value=np.nan).copy(),
        )
        postcodes = [_text(v) for v in f.get("postcode", pd.Series([None] * n))]
        st.by_coordinates()
        self._by_postcode(st, postcodes, lookup)
        st.by_lsoa_code([_text(v) for v in f.get("lsoa_code", pd.Series([None] * n))], lookup)
        self._by_description(st, [_text(v) or "" for v in f.get("_desc_raw", pd.Series([""] * n))])
        st.text_lsoas()
        names = _lad_names()
        reason = np.full(n, None, dtype=object)
        for i in range(n):
            if st.lsoa[i] is not None:
                st.lad[i] = lookup.get(st.lsoa[i], st.lad[i])
            if st.how[i] is None:
                reason[i] = "; ".join(st.notes[i]) or "no location given"
        f["lsoa11_code"] = st.lsoa
        f["lad_code"] = st.lad
        f["lad_name"] = [names.get(c) if c else None for c in st.lad]
        f["placed_by"] = st.how
        f["unplaced_reason"] = reason
        f["place_name"] = st.pname
        f["place_score"] = st.pscore
        # Keep the point only where the record carried one or a venue gave one.
        f["longitude"] = np.where(np.isnan(st.lon), None, np.round(st.lon, 5))
        f["latitude"] = np.where(np.isnan(st.lat), None, np.round(st.lat, 5))
        f["postcode_district"] = [_outward(pc) for pc in postcodes]
        return f.drop(columns=[c for c in ("postcode", "lsoa_code") if c in f.columns])

    def _by_postcode(self, st: _Placement, postcodes: list, lookup: dict) -> None:
        for i, pc in enumerate(postcodes):
            if st.how[i] is not None or not pc:
                continue
            if self.postcodes is None:
                st.notes[i].append("postcode given but no postcode lookup supplied (--postcodes)")
            elif pc in self.postcodes and self.postcodes[pc] in lookup:
                st.lsoa[i], st.how[i] = self.postcodes[pc], "postcode"
            else:
                st.notes[i].append("postcode not in the lookup")

    def _by_description(self, st: _Placement, descs: list[str]) -> None:
        """A venue or town centre named in the text gives a point (and a district hint)."""
        cache: dict[str, tuple] = {}
        for i, desc in enumerate(descs):
            if st.how[i] is not None:
                continue
            if not desc.strip():
                st.notes[i].append("no location description")
                continue
            if desc not in cache:
                cache[desc] = self._match_text(desc)
            hit = cache[desc]
            if hit[0] is None:
                st.notes[i].append(hit[1])
                continue
            method, x, y, name, score, lad_hint = hit
            st.lon[i], st.lat[i] = x, y
            st.pname[i], st.pscore[i], st.how[i] = name, score, method
            st.lad[i] = lad_hint

    def _match_text(self, desc: str):
        """(method, lon, lat, name, score, district hint) of the venue, else the town centre,
        the description names; (None, why not) when neither matches well enough."""
        if self._venue_matcher is not None:
            key, score, _, amb = self._venue_matcher.best(desc)
            if key is not None and score >= self.min_score and not amb:
                return _hit("gazetteer", self.gazetteer.iloc[key], score, None)
        if self._town_matcher is not None:
            key, score, _, amb = self._town_matcher.best(desc)
            if key is not None and score >= self.min_score:
                if amb:
                    return (None, "location description matches two places equally")
                town = self.towns.iloc[key]
                return _hit("town_centre", town, score, str(town.lad_code))
        return (
            None,
            "location description matched no venue or town centre "
            f"(score >= {self.min_score:.0f} needed)",
        )


def _hit(method: str, row, score: float, lad_hint: str | None) -> tuple:
    return (method, float(row.longitude), float(row.latitude), str(row["name"]), score, lad_hint)


def _text(value) -> str | None:
    """A cell as text, or None for blank/NA (pandas may hand back NaN for a missing string)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    value = str(value).strip()
    return value or None


def _outward(postcode) -> str | None:
    """The outward code ('ME14 1XX' -> 'ME14'): enough to check placement, not to identify."""
    if not postcode:
        return None
    pc = str(postcode).replace(" ", "").upper()
    out = pc[:-3] if len(pc) >= 5 else None
    # Only something shaped like an outward code is kept: never a cut-down identifier.
    return out if out and re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", out) else None
