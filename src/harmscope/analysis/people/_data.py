"""Shared queries over ``crimes`` and ``persons_in_crimes`` (aggregated in the engine)."""

from __future__ import annotations

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.reference.offences import load_taxonomy, load_weights

# Home Office "selected offences" for knife or sharp instrument offences (ONS, Crime in England
# and Wales, "Offences involving the use of weapons": homicide, attempted murder, threats to
# kill, assault with injury and assault with intent to cause serious harm, robbery, rape and
# sexual assault).
KNIFE_SELECTED = (
    "1",
    "4.1",
    "4.2",
    "2",
    "3B",
    "5D",
    "8N",
    "8P",
    "8S",
    "34A",
    "34B",
    "19C",
    "19D",
    "19E",
    "19F",
    "19G",
    "19H",
    "17A",
    "17B",
    "20A",
    "20B",
)


def weights_cte(scheme: str = "css") -> tuple[str, dict]:
    """A CTE ``w(code, weight)`` of code-level weights, with its parameters."""
    w = load_weights(scheme, level="code")
    return (
        "w AS (SELECT unnest($w_codes::VARCHAR[]) AS code, unnest($w_vals::DOUBLE[]) AS weight)",
        {"w_codes": [str(k).upper() for k in w.key], "w_vals": [float(x) for x in w.weight]},
    )


def require_crimes(store) -> int:
    try:
        n = int(store.con.execute("SELECT count(*) FROM crimes").fetchone()[0])
    except Exception as exc:  # an old store without migration 6
        raise HarmscopeError(
            "this store has no crime extract tables",
            where="--db",
            fix="load an extract first: harmscope crimes ingest FILE --db DB",
        ) from exc
    if n == 0:
        raise HarmscopeError(
            "no crime extract has been loaded into this store",
            where="--db",
            fix="run `harmscope crimes ingest FILE --db DB` (or `harmscope simulate crimes` "
            "for a synthetic extract)",
        )
    return n


def is_synthetic(store) -> bool:
    return bool(store.con.execute("SELECT bool_or(synthetic) FROM crimes").fetchone()[0])


def person_harm(store, role: str, scheme: str = "css") -> pd.DataFrame:
    """One row per person in ``role``: pseudonym, crimes, harm (sum of code weights)."""
    cte, params = weights_cte(scheme)
    return store.query(
        f"""WITH {cte}
        SELECT s.pseudonym, count(*) AS crimes, sum(coalesce(w.weight, 0)) AS harm,
               min(c.committed_from) AS first_at, max(c.committed_from) AS last_at,
               min(p.age) AS first_age, any_value(p.sex) AS sex
        FROM persons_in_crimes p JOIN crimes c USING (crime_id)
        JOIN persons s USING (person_id)
        LEFT JOIN w ON w.code = c.offence_code
        WHERE p.role = $role GROUP BY s.pseudonym""",
        {**params, "role": role},
    )


def taxonomy() -> pd.DataFrame:
    t = load_taxonomy()
    t["code"] = t["code"].astype(str).str.upper()
    return t
