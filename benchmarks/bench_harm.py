"""Speed of the harm analyses against the bare aggregation query, measured in the same run.

Run: .venv/bin/python benchmarks/bench_harm.py
Builds a store with every Kent, Essex and Sussex street file in ../shared/data (or reuses
HARMSCOPE_BENCH_DB if set), then times each analysis and the plain
``GROUP BY lad_code, month, crime_type`` count it rests on, and prints the ratio. A ratio near 1
means the analysis costs little beyond the scan the engine must do anyway. No timing is
asserted anywhere.
"""

from __future__ import annotations

from _common import best_time, figure, street_store

from harmscope.analysis import harm as H


def main() -> None:
    store = street_store()
    rows = int(store.query("SELECT count(*) AS n FROM street_crimes").n[0])
    bare_sql = (
        "SELECT lad_code, month, crime_type, count(*) FROM street_crimes "
        "WHERE falls_within = 'Kent Police' AND NOT coalesce(out_of_area, false) GROUP BY ALL"
    )
    baseline = best_time(lambda: store.query(bare_sql))
    print(f"street rows in store: {rows:,}")
    print(f"baseline (bare GROUP BY district x month x category, Kent): {baseline * 1000:.1f} ms")
    cases = {
        "harm_by_area district x month": lambda: H.harm_by_area(
            store, area="Kent Police", by_month=True
        ),
        "harm_by_area lsoa": lambda: H.harm_by_area(store, level="lsoa", area="Kent Police"),
        "harm_trend": lambda: H.harm_trend(store, area="Kent Police"),
        "smoothed_lsoa_rates": lambda: H.smoothed_lsoa_rates(store, area="Kent Police"),
        "concentration lsoa (200 boot)": lambda: H.concentration(store, area="Kent Police"),
        "concentration location (200 boot)": lambda: H.concentration(
            store, area="Kent Police", unit="location"
        ),
        "rural_urban": lambda: H.rural_urban(store, area="Kent Police"),
        "deprivation_gradient": lambda: H.deprivation_gradient(store, area="Kent Police"),
        "compare_forces (3 forces)": lambda: H.compare_forces(
            store, ["Kent Police", "Essex Police", "Sussex Police"]
        ),
    }
    times = {}
    for name, fn in cases.items():
        fn()  # warm caches (reference tables, imports)
        t = times[name] = best_time(fn)
        print(f"{name:<38} {t * 1000:8.1f} ms   ratio to baseline {t / baseline:6.1f}")
    store.close()
    # each against the bare GROUP BY above (Kent, district x month x category), in ms
    for name, t in times.items():
        figure(figure_name(name), t * 1000, "ms", baseline * 1000)


def figure_name(label: str) -> str:
    """'concentration lsoa (200 boot)' -> 'harm_concentration_lsoa_200_boot'."""
    words = "".join(c if c.isalnum() else " " for c in label.lower()).split()
    return "_".join(["harm", *[w for w in words if w != "harm"]])


if __name__ == "__main__":
    main()
