"""Stop-and-search analysis cost against DuckDB's own scan, measured in the same run.

Loads the 12 real Kent 2018 stop-and-search files, then replicates them (x1, x10, x100) in an
in-memory store and times ``outcome_figures`` (every breakdown in one GROUPING SETS pass)
against a baseline ``GROUP BY outcome`` count over the same table. Prints ratios, never
asserts on time.
"""

from __future__ import annotations

from _common import SHARED, best_time, figure

from harmscope.analysis import stopsearch as ss
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

FILES = sorted((SHARED / "police" / "kent" / "stop-and-search").glob("*.csv.gz"))


def main() -> None:
    if not FILES:
        print(f"no stop-and-search files under {SHARED}; nothing to measure")
        return
    with Store.open(":memory:") as store:
        ingest_paths(store, FILES, quiet=True)
        base_rows = int(store.query("SELECT count(*) AS n FROM stop_searches").n[0])
        store.con.execute("CREATE TEMP TABLE one AS SELECT * FROM stop_searches")
        print(f"{'copies':>7} {'rows':>10} {'baseline s':>11} {'outcomes s':>11} {'ratio':>7}")
        copies_done = 1
        figures = []
        for copies in (1, 10, 100):
            while copies_done < copies:
                store.con.execute("INSERT INTO stop_searches SELECT * FROM one")
                copies_done += 1
            rows = base_rows * copies
            baseline = best_time(
                lambda: store.query("SELECT outcome, count(*) AS n FROM stop_searches GROUP BY ALL")
            )
            full = best_time(lambda: ss.outcome_figures(store, "2018-01", "2018-12"))
            print(
                f"{copies:>7} {rows:>10,} {baseline:>11.4f} {full:>11.4f} {full / baseline:>7.1f}"
            )
            figures.append((f"stopsearch_outcome_figures_x{copies}", full, baseline))
    # every breakdown (one GROUPING SETS pass) against the bare GROUP BY outcome, same table
    for name, full, baseline in figures:
        figure(name, full, "s", baseline)


if __name__ == "__main__":
    main()
