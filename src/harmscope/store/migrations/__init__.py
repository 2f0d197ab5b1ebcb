"""Schema versions, one module each: ``mNNN_<name>.py`` with VERSION, DESCRIPTION and SQL.

Each migration runs once, in its own transaction, in VERSION order. Never edit a released
migration: add a new module. Reserved numbers while work is in flight: 2 lead, 3 evaluation
(interventions), 4 ED (ed_assaults, audit log).
"""

from __future__ import annotations

import importlib
import pkgutil

# PostgreSQL-only statements of a migration (a module's optional ``POSTGRES_SQL``, written in
# PostgreSQL's own dialect, e.g. PL/pgSQL triggers), run after its ``SQL`` in the same
# transaction by a PostgreSQL store. Only for what DuckDB has no form of (issue 16).
POSTGRES_SQL: dict[int, str] = {}


def _load() -> list[tuple[int, str, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("m"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        found.append((int(mod.VERSION), str(mod.DESCRIPTION), str(mod.SQL)))
        if getattr(mod, "POSTGRES_SQL", None):
            POSTGRES_SQL[int(mod.VERSION)] = str(mod.POSTGRES_SQL)
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


MIGRATIONS = _load()
LATEST_VERSION = MIGRATIONS[-1][0] if MIGRATIONS else 0
