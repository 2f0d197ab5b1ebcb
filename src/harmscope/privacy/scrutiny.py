"""`harmscope stopsearch` as published: the scrutiny, through the publishing path, as one
JSON-ready document (sections outcomes, fairness, targeting...) and its Publication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harmscope.analysis import stopsearch as ss
from harmscope.analysis.result import _jsonable, frame_records
from harmscope.privacy.publish import Publication


def published_scrutiny(
    store,
    date_from: str | None = None,
    date_to: str | None = None,
    *,
    force: str | None = None,
    population: str | Path | None = None,
    audience: str = "internal",
    threshold: int = 5,
    crime_from: str | None = None,
    crime_to: str | None = None,
    cell_m: float = 500.0,
    outcome_mapping: str | Path | None = None,
) -> tuple[dict[str, Any], Publication]:
    """Everything `harmscope stopsearch` prints, as one JSON-ready dict, and the finished
    Publication it comes from (what ``--out`` writes)."""
    from harmscope.privacy.publishers import publish_stopsearch

    results = ss.scrutiny(
        store,
        date_from,
        date_to,
        force=force,
        population=population,
        crime_from=crime_from,
        crime_to=crime_to,
        cell_m=cell_m,
        outcome_mapping=outcome_mapping,
    )
    pub, _ = publish_stopsearch(results, audience, threshold)
    payload: dict[str, Any] = {"audience": pub.audience.name}
    for key in results:
        section = {
            "summary": pub.figures.get(f"{key}.summary", {}),
            "method": pub.texts[f"{key}.method"],
            "notes": pub.texts[f"{key}.notes"],
        }
        if key != "outcomes":
            table = pub.tables.get(f"{key}.table")
            section["table"] = [] if table is None else frame_records(table)
        prefix = f"{key}."
        section["tables"] = {
            name[len(prefix) :]: frame_records(t)
            for name, t in pub.tables.items()
            if name.startswith(prefix) and name != f"{key}.table"
        }
        if key == "outcomes":
            payload.update(section)
        else:
            payload[key] = section
    if pub.dropped:
        payload["withheld"] = list(pub.dropped)
    return _jsonable(payload), pub
