"""Schema versions, one module each: ``mNNN_<name>.py`` with VERSION, DESCRIPTION and SQL.

Each migration runs once, in its own transaction, in VERSION order. Never edit a released
migration: add a new module. Reserved numbers while work is in flight: 2 lead, 3 evaluation
(interventions), 4 ED (ed_assaults, audit log).
"""

from __future__ import annotations

import importlib
import pkgutil


def _load() -> list[tuple[int, str, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("m"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        found.append((int(mod.VERSION), str(mod.DESCRIPTION), str(mod.SQL)))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


MIGRATIONS = _load()
LATEST_VERSION = MIGRATIONS[-1][0] if MIGRATIONS else 0
