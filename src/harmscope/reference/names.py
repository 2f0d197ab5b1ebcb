"""District from an LSOA name: 'Maidstone 012F' -> Maidstone's GSS code.

Police files since 2022 carry 2021 LSOA codes that the 2011 tables do not know, but the
name still starts with the district. Names differ in spelling between sources ('&'/'and',
'St.'/'St', hyphens, renamed districts such as Shepway -> Folkestone and Hythe, districts
merged since 2019 such as Mendip -> Somerset), so names are compared after normalising and
against every alternative name in lad.csv.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from harmscope.reference._files import _stamp, resolve
from harmscope.reference.tables import LAD_FILE, load_lad

_SUFFIX = re.compile(r"^(.*\S)\s+\d{3}[A-Za-z]$")


def normalise_name(name: str) -> str:
    """Matching key for a district name (the same rule as scripts/build_reference.py)."""
    s = name.lower().replace("&", " and ")
    s = re.sub(r"[.,'’()]", "", s)
    s = re.sub(r"[-_/]", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    # ONS writes "Bristol, City of" and "The Vale of Glamorgan"; police and others drop these.
    s = re.sub(r"^the ", "", s)
    return re.sub(r" (city|county) of$", "", s)


def district_part(lsoa_name: str) -> str | None:
    """'Folkestone and Hythe 005A' -> 'Folkestone and Hythe'; None if not an LSOA name."""
    if not isinstance(lsoa_name, str):
        return None
    m = _SUFFIX.match(lsoa_name.strip())
    return m.group(1) if m else None


@lru_cache(maxsize=4)
def _index(stamp: tuple[str, int, int]) -> dict[str, str | None]:
    """Normalised name -> GSS code; a name claimed by two districts maps to None."""
    lad = load_lad()
    index: dict[str, str | None] = {}
    for code, name, alts in zip(lad.lad_code, lad.lad_name, lad.alt_names, strict=True):
        names = [name] + ([a for a in str(alts).split("|") if a] if isinstance(alts, str) else [])
        for n in names:
            key = normalise_name(n)
            if key in index and index[key] != code:
                index[key] = None
            else:
                index[key] = str(code)
    return index


def lad_from_lsoa_name(names: Iterable[str]) -> list[str | None]:
    """GSS district code for each LSOA name, or None where it cannot be matched.

    None means: not in the 'District NNNX' form, a district unknown in England and Wales,
    or a name shared by two districts.
    """
    index = _index(_stamp(resolve(LAD_FILE)))
    out: list[str | None] = []
    cache: dict[str, str | None] = {}
    for n in names:
        if n not in cache:
            part = district_part(n)
            cache[n] = index.get(normalise_name(part)) if part else None
        out.append(cache[n])
    return out
