"""What an analysis reads: an area name, months and police.uk categories resolved against the
reference data into a :class:`Scope`, and the weights table it uses.

The names are resolved here (reference data, user errors that name the option); the SQL of
the scope is written by the query layer (:func:`harmscope.store.queries.scope.scope_filter`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.months import parse_month
from harmscope.reference import csp_districts, load_csps, load_forces, load_lad
from harmscope.reference.offences import POLICE_CATEGORIES, SCHEME_LABELS, load_weights
from harmscope.store.queries.scope import scope_filter

LEVELS = ("county", "district", "lsoa")
_LEVEL_ALIASES = {"force": "county", "csp": "district", "lad": "district"}


@dataclass
class Scope:
    """What rows an analysis reads: the SQL predicate and its parameters, plus labels."""

    where: str
    params: list
    label: str
    force: str | None
    lad_codes: list[str] | None


def check_level(level: str) -> str:
    lv = _LEVEL_ALIASES.get(str(level).strip().lower(), str(level).strip().lower())
    if lv not in LEVELS:
        raise HarmscopeError(
            f"unknown area level {level!r}", where="--level", fix="use county, district or lsoa"
        )
    return lv


def resolve_scope(area: str | None, date_from=None, date_to=None, categories=None) -> Scope:
    """Turn an area name (force, county, district name or GSS code), months and an optional
    list of police.uk categories into SQL."""
    label, force, lad_codes = "all areas in the store", None, None
    csp_label = None
    if area is not None and str(area).strip():
        key = str(area).strip().lower()
        forces = load_forces()
        lad = load_lad()
        # A force's full name first, then districts, then counties, then a force's slug:
        # "Kent" is the county (12 districts, no Medway); "Kent Police", or a slug that names
        # no district or county ("essex" is a county, so it stays one), is the force area.
        alt = lad.alt_names.fillna("").str.lower().str.split("|")

        def districts(k: str) -> pd.DataFrame:
            # a named CSP (reference/data/geography/csp.csv) is its districts, one or several
            csp = csp_districts(k)
            return lad[
                (lad.lad_code.str.lower() == k)
                | (lad.lad_name.str.lower() == k)
                | (lad.csp.fillna("").str.lower() == k)
                | alt.map(lambda names: k in names)
                | (lad.lad_code.isin(csp[1]) if csp else False)
            ]

        parts = [p.strip() for p in key.split(",") if p.strip()]
        if len(parts) > 1:
            # Several districts as one area (a CSP made of two councils: "Dartford,Gravesham"):
            # each part must be a district on its own; an unknown one is named with its near
            # misses.
            found = [districts(p) for p in parts]
            bad = [p for p, f in zip(parts, found, strict=True) if not len(f)]
            if bad:
                close = _close_areas(bad[0], forces, lad)
                raise HarmscopeError(
                    f"unknown district {bad[0]!r} in {area!r}",
                    where="--area",
                    fix=(f"did you mean {' or '.join(close)}? Otherwise give" if close else "give")
                    + " district names or GSS codes separated by commas (Dartford,Gravesham)",
                )
            by_lad = pd.concat(found).drop_duplicates("lad_code")
        else:
            by_lad = districts(key)
            csp = csp_districts(key)
            csp_label = csp[0] if csp and len(by_lad) else None
        by_county = lad[lad.county.fillna("").str.lower() == key]
        hit = forces[forces.force_name.str.lower() == key]
        if not len(hit) and not len(by_lad) and not len(by_county):
            hit = forces[forces.force_slug.str.lower() == key]
        if len(hit):
            force = str(hit.force_name.iloc[0])
            label = force
        else:
            chosen = by_lad if len(by_lad) else by_county
            if not len(chosen):
                close = _close_areas(key, forces, lad)
                raise HarmscopeError(
                    f"unknown area {area!r}",
                    where="--area",
                    fix=(f"did you mean {' or '.join(close)}? Otherwise give" if close else "give")
                    + " a police force (Kent Police), a county (Kent), a district name or its "
                    "GSS code (Maidstone, E07000110), or a community safety partnership "
                    "(Safer Maidstone Partnership)",
                )
            lad_codes = sorted(chosen.lad_code.astype(str))
            label = (
                csp_label or (" and ".join(sorted(chosen.lad_name.astype(str).unique())))
                if len(by_lad)
                else f"{chosen.county.iloc[0]} (county)"
            )
            forces_of = chosen.force.dropna().unique()
            force = str(forces_of[0]) if len(forces_of) == 1 else None
    start = parse_month(date_from, "--from")
    end = parse_month(date_to, "--to")
    if start and end and start > end:
        raise HarmscopeError("--from is after --to", where="--from/--to", fix="swap the two months")
    cats = check_category_names(categories) if categories else None
    if cats:
        label += " (" + ", ".join(cats) + ")"
    where, params = scope_filter(
        # a force named as such filters on falls_within; a district or county on its districts
        force=force if lad_codes is None else None,
        lad_codes=lad_codes,
        start=start,
        end=end,
        categories=cats,
    )
    return Scope(where, params, label, force, lad_codes)


def _close_areas(key: str, forces: pd.DataFrame, lad: pd.DataFrame) -> list[str]:
    """Up to three known area names (force, district, county, GSS code) closest to ``key``."""
    import difflib

    names = [*forces.force_name, *lad.lad_name, *lad.county.dropna(), *lad.lad_code]
    names += list(load_csps().csp_name)
    by_lower = {str(n).lower(): str(n) for n in names}
    return [by_lower[m] for m in difflib.get_close_matches(key, list(by_lower), n=3, cutoff=0.6)]


def check_category_names(categories) -> list[str]:
    """Police.uk category names, matched case-insensitively; a user error names the bad ones."""
    if isinstance(categories, str):
        categories = [c.strip() for c in categories.split(",")]
    known = {c.lower(): c for c in POLICE_CATEGORIES}
    bad = [c for c in categories if str(c).strip().lower() not in known]
    if bad:
        raise HarmscopeError(
            f"unknown police.uk categor{'y' if len(bad) == 1 else 'ies'}: {', '.join(map(str, bad))}",
            where="--category",
            fix="use the police.uk names: " + ", ".join(POLICE_CATEGORIES),
        )
    return [known[str(c).strip().lower()] for c in categories]


def resolve_weights(scheme: str = "css", weights=None) -> tuple[pd.DataFrame, str]:
    """Category weights (DataFrame) and a label naming where they came from."""
    if weights is None:
        table = load_weights(scheme)
        return table, SCHEME_LABELS[str(scheme).strip().lower()] + ", packaged table"
    if isinstance(weights, pd.DataFrame):
        if not {"category", "weight"} <= set(weights.columns):
            raise HarmscopeError(
                "weights frame needs 'category' and 'weight' columns",
                where="weights",
                fix="pass load_weights(...) or a frame with those columns",
            )
        return weights, "weights supplied by the caller"
    return load_weights(scheme, path=weights), f"user table {weights}"


def area_or_only_force(
    area: str | None, forces_held: Callable[[], list[str]], *, where: str = "area"
) -> tuple[str | None, str | None]:
    """No silent area default: ``area`` when given; else the one force the store holds
    (``forces_held()``, e.g. ``lambda: queries.catalog.forces_held(store)``, asked only when
    no area is given), with a note announcing it (an analysis puts it in its notes). A store
    holding several forces is refused, naming them. Returns (area, note); (None, None) when
    the store holds no street crime (the analysis then says what it needs)."""
    if area is not None and str(area).strip():
        return area, None
    forces = list(forces_held())
    if len(forces) > 1:
        raise HarmscopeError(
            f"the store holds {len(forces)} forces ({', '.join(forces)}) and no area was given",
            where=where,
            fix=f"pass {where} with one of them (or a district, county or CSP within one)",
        )
    if not forces:
        return None, None
    return forces[0], f"Area: {forces[0]}, the only force the store holds (no area was given)."


def require_area(scope: Scope, problem: str) -> None:
    """Raise when the scope names no force or district (an analysis over LSOAs needs one)."""
    if scope.lad_codes is None and scope.force is None:
        raise HarmscopeError(
            problem,
            where="--area",
            fix="pass a force, district, county or CSP, e.g. area='Essex Police'",
        )


def scheme_name(scheme: str, weights) -> str:
    """The scheme as reported in a summary: the packaged scheme's key, or 'custom'."""
    return str(scheme).strip().lower() if weights is None else "custom"
