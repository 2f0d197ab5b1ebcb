"""Person-level people tables (RFG ranking, escalation flags): internal only, each file audited.

These tables hold pseudonyms, so they never pass through a Publication for partners or the
public; `harmscope people --export DIR` writes them here, one ``audit_log`` row per file.
"""

from __future__ import annotations

from pathlib import Path

from harmscope.errors import HarmscopeError


def export_person_tables(store, profile, folder: Path, *, audience: str, query: str) -> list[str]:
    """Write ``rfg_ranking.csv`` and ``escalation_flags.csv`` into ``folder`` (internal
    audience only) and record each in ``audit_log``; the paths written."""
    from harmscope.privacy import audit

    if audience != "internal":
        raise HarmscopeError(
            "person-level tables are internal only",
            where="--export",
            fix="use --audience internal (partners and the public get aggregates only)",
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (
        ("rfg_ranking.csv", profile.results["rfg"].table),
        ("escalation_flags.csv", profile.results["young"].tables["escalation"]),
    ):
        out = folder / name
        df.to_csv(out, index=False)
        written.append(str(out))
        audit.record(
            store,
            action="export",
            what=f"person-level {name[:-4]} (pseudonymised)",
            query=query,
            audience="internal",
            rows=len(df),
            output=str(out),
        )
    return written
