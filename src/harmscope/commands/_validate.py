"""Checks for command-line values, run at the top of a command before anything is read or written.

Each bad value raises :class:`HarmscopeError` naming the option (``where="--k"``), what is wrong
and a fix; the CLI prints it as ``Error: ...`` and exits 2. Every check lets ``None`` (an option
left out) through and returns the value, so a command can write ``k = v.int_at_least(k, 1, "--k")``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from pathlib import Path

from harmscope.errors import HarmscopeError

SEED_MAX = 2**32 - 1  # numpy's legacy seeding takes 0..2**32-1; one range for every --seed


def int_at_least(value: int | None, minimum: int, where: str, *, fix: str | None = None):
    """A whole number of at least ``minimum``."""
    if value is None:
        return None
    if value < minimum:
        raise HarmscopeError(
            f"must be a whole number of {minimum} or more, got {value}",
            where=where,
            fix=fix or f"pass {where} {minimum} or more",
        )
    return value


def seed(value: int | None, where: str = "--seed"):
    """A random seed: a whole number from 0 to 2**32 - 1."""
    if value is None:
        return None
    if not 0 <= value <= SEED_MAX:
        raise HarmscopeError(
            f"a seed must be a whole number from 0 to {SEED_MAX:,}, got {value}",
            where=where,
            fix=f"pass for example {where} 1",
        )
    return value


def finite(
    value: float | None,
    where: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    fix: str | None = None,
):
    """A finite number inside the bounds given (gt/ge below, lt/le above)."""
    if value is None:
        return None
    x = float(value)
    limits = [
        f"more than {gt:g}" if gt is not None else None,
        f"at least {ge:g}" if ge is not None else None,
        f"less than {lt:g}" if lt is not None else None,
        f"at most {le:g}" if le is not None else None,
    ]
    want = " and ".join(s for s in limits if s)
    if not math.isfinite(x):
        raise HarmscopeError(
            f"must be a finite number{' ' + want if want else ''}, got {value}",
            where=where,
            fix=fix or f"pass a number {want or 'such as 1'}",
        )
    if (
        (gt is not None and not x > gt)
        or (ge is not None and not x >= ge)
        or (lt is not None and not x < lt)
        or (le is not None and not x <= le)
    ):
        raise HarmscopeError(
            f"must be a number {want}, got {x:g}", where=where, fix=fix or f"pass a number {want}"
        )
    return x


def not_blank(value: str | None, where: str, *, fix: str | None = None):
    """A name or text that, when given, is not empty or only spaces."""
    if value is None:
        return None
    if not str(value).strip():
        raise HarmscopeError(
            "is empty", where=where, fix=fix or f"give a value, or leave {where} out"
        )
    return value


def choice(value: str | None, choices: Iterable[str], where: str):
    """One of ``choices`` (case and surrounding spaces ignored)."""
    if value is None:
        return None
    choices = list(choices)
    if str(value).strip().lower() not in choices:
        raise HarmscopeError(
            f"unknown value {value!r}", where=where, fix=f"use one of: {', '.join(choices)}"
        )
    return value


def month(value: str | None, where: str):
    """A month written YYYY-MM (the same rule as every other command's --from/--to)."""
    if value is None:
        return None
    from harmscope.months import parse_month

    parse_month(value, where)
    return value


def months(first: str | None, last: str | None, where_first: str, where_last: str):
    """Two YYYY-MM months, the first not after the last."""
    from harmscope.months import parse_month

    a, b = parse_month(first, where_first), parse_month(last, where_last)
    if a and b and a > b:
        raise HarmscopeError(
            f"{where_last} {b:%Y-%m} is before {where_first} {a:%Y-%m}",
            where=f"{where_first}/{where_last}",
            fix="swap the two months",
        )
    return first, last


def area(value: str | None, where: str = "--area"):
    """An area the store's analyses can resolve: a force, county, district name or GSS code.

    An empty ``--area ""`` is an error (it used to mean every force in the store); an unknown one
    names the closest known areas.
    """
    if value is None:
        return None
    not_blank(
        value,
        where,
        fix="name a force (Kent Police), a county (Kent), a district or its GSS code "
        f"(Maidstone, E07000110), or leave {where} out for the whole store",
    )
    from harmscope.analysis.harm import resolve_scope

    try:
        resolve_scope(value)
    except HarmscopeError as exc:
        raise HarmscopeError(exc.problem, where=where, fix=exc.fix) from None
    return value


def codes(value: str | None, known: Iterable[str], where: str, *, what: str = "code"):
    """Comma-separated codes, each one of ``known``; returns them as a tuple (None if not given)."""
    if value is None:
        return None
    items = tuple(c.strip() for c in str(value).split(",") if c.strip())
    known = sorted({str(k) for k in known})
    if not items:
        raise HarmscopeError(
            f"no {what}s given",
            where=where,
            fix=f"give one or more {what}s separated by commas, or leave {where} out",
        )
    bad = [c for c in items if c not in known]
    if bad:
        close = sorted({m for b in bad for m in difflib.get_close_matches(b, known, n=3)})
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise HarmscopeError(
            f"unknown {what}{'s' if len(bad) > 1 else ''}: {', '.join(bad)}",
            where=where,
            fix=f"{hint}known {what}s here: {', '.join(known[:20])}{' ...' if len(known) > 20 else ''}",
        )
    return items


def output_file(
    path: Path | str | None,
    where: str,
    *,
    suffixes: Iterable[str] | None = None,
    example: str | None = None,
):
    """A file to write: not a folder, in a folder that exists, with one of ``suffixes``."""
    if path is None:
        return None
    p = Path(path)
    example = example or "out" + (next(iter(suffixes)) if suffixes else ".csv")
    if p.is_dir():
        raise HarmscopeError(
            f"{p} is a folder, not a file",
            where=where,
            fix=f"give a file name, e.g. {p / example}",
        )
    parent = p.parent
    if not parent.is_dir():
        raise HarmscopeError(
            f"the folder {parent} does not exist"
            if not parent.exists()
            else f"{parent} is a file, not a folder",
            where=where,
            fix=f"create the folder first (mkdir -p {parent}) or write somewhere else",
        )
    if suffixes is not None:
        allowed = [s.lower() for s in suffixes]
        if p.suffix.lower() not in allowed:
            raise HarmscopeError(
                f"cannot write a {p.suffix or 'suffix-less'} file",
                where=where,
                fix=f"end the file name in {' or '.join(allowed)}",
            )
    return p


def output_folder(path: Path | str | None, where: str, *, create: bool = False):
    """A folder to write into: it exists (or, with ``create``, can be made) and is not a file."""
    if path is None:
        return None
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise HarmscopeError(
            f"{p} is a file, not a folder",
            where=where,
            fix="give a folder (the outputs are written inside it)",
        )
    if not p.exists():
        # the first part of the path that exists must be a folder, or mkdir would fail
        first = next((q for q in p.parents if q.exists()), None)
        if not create or (first is not None and not first.is_dir()):
            raise HarmscopeError(
                f"the folder {p} does not exist",
                where=where,
                fix=f"create it first (mkdir -p {p}) or pass an existing folder",
            )
    return p


def input_file(path: Path | str | None, where: str):
    """A file to read: it exists and is not a folder."""
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise HarmscopeError(f"file not found: {p}", where=where, fix="check the path")
    if p.is_dir():
        raise HarmscopeError(
            f"{p} is a folder, not a file", where=where, fix="give the path of the file itself"
        )
    return p


def store_path(db: str | None, where: str = "--db"):
    """A --db value: when given, not a folder and not empty."""
    if db is None:
        return None
    not_blank(db, where, fix="give a store file, e.g. harmscope.duckdb")
    if Path(db).is_dir():
        raise HarmscopeError(
            f"{db} is a folder, not a store file",
            where=where,
            fix=f"give the store file itself, e.g. {Path(db) / 'harmscope.duckdb'}",
        )
    return db
