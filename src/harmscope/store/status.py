"""What the store holds: forces x kinds x months, gaps, rejects and rows that could not be placed."""

from __future__ import annotations

from datetime import date
from statistics import median
from typing import Any

from harmscope.months import month_range
from harmscope.store.store import Store


def _month_range(first: date, last: date) -> list[str]:
    return [str(m) for m in month_range(first, last)]


# A month is partial when it holds under this share of the typical month around it (the
# median of its nearest held months of the same force and kind, up to 3 each side): an
# excerpt or a cut-short download, whose figures must not be read as a real fall.
PARTIAL_SHARE = 0.5
PARTIAL_NEIGHBOURS = 3


def partial_months(months: list[str], rows: list[int]) -> list[dict[str, Any]]:
    """Months with far fewer rows than their neighbours: [{month, rows, typical}]."""
    out = []
    for i, (month, n) in enumerate(zip(months, rows, strict=True)):
        around = list(rows[max(0, i - PARTIAL_NEIGHBOURS) : i]) + list(
            rows[i + 1 : i + 1 + PARTIAL_NEIGHBOURS]
        )
        if len(around) < 2:
            continue  # one neighbour is too little to call a month short
        typical = float(median(around))
        if n < PARTIAL_SHARE * typical:
            out.append({"month": month, "rows": int(n), "typical": round(typical)})
    return out


def _records(store: Store, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts of plain Python values. Not ``store.query``: a DataFrame would
    load pandas, and `harmscope status` must answer in well under half a second (issue 18)."""
    cur = store.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _coverage(store: Store) -> list[dict[str, Any]]:
    """Per kind x force: months held, the gaps between them and the partial months."""
    parts = _records(
        store,
        "SELECT kind, force, strftime(month, '%Y-%m') AS month, rows FROM partitions ORDER BY 1, 2, 3",
    )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in parts:
        groups.setdefault((p["kind"], p["force"]), []).append(p)
    coverage = []
    for (kind, force), g in sorted(groups.items(), key=lambda kv: kv[0]):
        months = [p["month"] for p in g]
        rows = [int(p["rows"]) for p in g]
        first = date.fromisoformat(months[0] + "-01")
        last = date.fromisoformat(months[-1] + "-01")
        missing = [m for m in _month_range(first, last) if m not in set(months)]
        coverage.append(
            {
                "kind": kind,
                "force": force,
                "first_month": months[0],
                "last_month": months[-1],
                "months": len(months),
                "rows": sum(rows),
                "missing_months": missing,
                "partial_months": partial_months(months, rows),
            }
        )
    return coverage


def store_status(store: Store) -> dict[str, Any]:
    """A JSON-ready description of the store's contents and their gaps."""
    coverage = _coverage(store)
    tables = {
        t: int(store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
        for t in ("street_crimes", "outcomes", "stop_searches", "ingests", "rejects")
    }
    rejects = _records(
        store,
        "SELECT i.kind, r.reason, count(*) AS n FROM rejects r JOIN ingests i USING (ingest_id) "
        "GROUP BY ALL ORDER BY n DESC, i.kind, r.reason LIMIT 20",  # ties in a fixed order
    )
    placement = _records(
        store,
        """SELECT falls_within AS force,
                  count(*) AS rows,
                  count(*) FILTER (WHERE longitude IS NULL) AS no_location,
                  count(*) FILTER (WHERE placed_by = 'lsoa_code') AS placed_by_lsoa_code,
                  count(*) FILTER (WHERE placed_by = 'point') AS placed_by_point,
                  count(*) FILTER (WHERE placed_by = 'lsoa21_lookup') AS placed_by_lsoa21_lookup,
                  count(*) FILTER (WHERE placed_by = 'lsoa_name') AS district_only,
                  count(*) FILTER (WHERE placed_by IS NULL) AS unplaced,
                  count(*) FILTER (WHERE out_of_area) AS out_of_area,
                  -- the share every LSOA-level figure rests on: in-area rows with a 2011 LSOA
                  round(100.0 * count(*) FILTER (WHERE lsoa11_code IS NOT NULL
                                                 AND NOT coalesce(out_of_area, false))
                        / greatest(count(*) FILTER (WHERE NOT coalesce(out_of_area, false)), 1),
                        2) AS lsoa_placed_pct
           FROM street_crimes GROUP BY 1 ORDER BY 1"""
    )
    # Partnership files (crime extracts, ED, links...): no month partitions, one row per kind.
    files = _records(
        store,
        """SELECT kind, count(*) AS files, sum(rows_read)::BIGINT AS rows_read,
                  sum(rows_loaded)::BIGINT AS rows_loaded,
                  sum(rows_rejected)::BIGINT AS rows_rejected,
                  strftime(max(finished_at), '%Y-%m-%d %H:%M') AS last_loaded
           FROM ingests WHERE kind NOT IN (SELECT DISTINCT kind FROM partitions)
           GROUP BY kind ORDER BY kind"""
    )
    return {
        "files": files,
        "schema_version": store.schema_version(),
        "path": store.location,
        "tables": tables,
        "coverage": coverage,
        "street_placement": placement,
        "rejects_by_reason": rejects,
    }
