"""Crime extract: a malformed line is one row read and one reject, and every other row keeps
its own file line number, however many surplus cells the bad line has.

DuckDB's CSV reader records a line with k surplus cells k times in its rejects table (once per
surplus cell, ``column_idx`` = the cell). Counting those records as lines makes one bad line
k rows read and k rejects (conservation still holds, so nothing else notices), and shifts the
line numbers of the rows before and after it. ``sources/links.py`` groups the records by line;
the crime extract must too.
"""

from __future__ import annotations

import secrets

import pytest

from harmscope.sources.crime_extract import ingest_crime_extract
from harmscope.store import Store

KEY = secrets.token_hex(32).encode()
HEADER = "crime_ref,offence_code,recorded_date,committed_from,victim_id,victim_age\n"
# DuckDB writes one rejects record per surplus cell of a malformed line; _load must count
# the line once (rows read, rejects) and keep later lines' numbers right.


def _extract(surplus: int) -> str:
    extra = "".join(f",x{i}" for i in range(surplus))
    return (
        HEADER
        + "R1,8N,2025-03-02,2025-03-01 22:10,V1,30\n"  # line 2: loads
        + f"R2,8N,2025-03-02,2025-03-01 22:10,V2,30{extra}\n"  # line 3: malformed
        + "R3,105A,2025-03-03,2025-03-02 10:00,V3,41\n"  # line 4: loads
        + "R4,105A,2025-13-03,2025-03-02 10:00,V4,41\n"  # line 5: impossible date
        + "R5,34B,2025-03-04,2025-03-03 18:30,V5,19\n"  # line 6: loads
    )


@pytest.mark.parametrize(
    "surplus",
    [
        1,  # DuckDB writes one reject record for the line
        2,  # ... and one per surplus cell here: still one reject, and later lines stay right
        3,
    ],
)
def test_a_line_with_surplus_cells_is_one_reject_and_lines_stay_right(tmp_path, surplus):
    path = tmp_path / "extract.csv"
    path.write_text(_extract(surplus), encoding="utf-8")
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_crime_extract(store, path, key=KEY)
        # Five data lines: three load, one malformed, one with an impossible date.
        assert (rep.rows_read, rep.rows_loaded, rep.rows_duplicate, rep.rows_rejected) == (
            5,
            3,
            0,
            2,
        )
        assert sum(n for r, n in rep.reject_reasons.items() if "malformed" in r) == 1
        rej = store.query("SELECT line, reason FROM rejects ORDER BY line")
        assert rej.line.tolist() == [3, 5]
        assert "malformed" in rej.reason[0] and "malformed" not in rej.reason[1]
        assert store.query("SELECT line FROM crimes ORDER BY line").line.tolist() == [2, 4, 6]
        n = store.query("SELECT rows_read, rows_rejected FROM ingests").iloc[0]
        assert (n.rows_read, n.rows_rejected) == (5, 2)
