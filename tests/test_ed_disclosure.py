"""Property tests: every public ED output keeps small counts hidden, with secondary suppression.

Hypothesis draws small, sparse ED and police count tables (the case where disclosure matters)
and loads them into a real in-memory DuckDB store; the public true picture and the report
section built from it are then audited cell by cell.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from harmscope.analysis.linkage import true_picture
from harmscope.privacy.audience import is_checked
from harmscope.privacy.disclosure import determined_cells
from harmscope.report.section import ReportContext
from harmscope.report.sections import true_picture as section
from harmscope.store import Store

LADS = [
    ("E07000110", "Maidstone"),
    ("E07000114", "Thanet"),
    ("E06000035", "Medway"),
    ("E07000108", "Dover"),
]
MONTHS = [date(2025, 1, 1), date(2025, 2, 1)]
WEAPONS = ["BODY", "KNIFE", "GLASS", "BLUNT"]
COUNT_COLS = ("ed", "known_to_police")


def _store(ed_cells: list[tuple[int, int, int, int, int]], police: list[int], threshold: int):
    store = Store.open(":memory:")
    rows = []
    for lad_i, month_i, weapon_i, hour, n in ed_cells:
        for k in range(n):
            m = MONTHS[month_i]
            when = datetime(m.year, m.month, 1 + (k % 27), hour, 5)
            rows.append(
                {
                    "source_id": 1,
                    "line": len(rows) + 2,
                    "record_key": f"k{len(rows)}",
                    "pseudonym": f"p{len(rows)}",
                    "site_code": "S",
                    "arrival_at": when,
                    "assault_at": when,
                    "assault_date": when.date(),
                    "month": m,
                    "time_source": "assault",
                    "weapon_code": WEAPONS[weapon_i],
                    "weapon_text": None,
                    "location_type": "STREET",
                    "location_desc": None,
                    "postcode_district": None,
                    "longitude": None,
                    "latitude": None,
                    "lsoa11_code": None,
                    "lad_code": LADS[lad_i][0],
                    "lad_name": LADS[lad_i][1],
                    "place_name": None,
                    "place_score": None,
                    "placed_by": "town_centre",
                    "unplaced_reason": None,
                    "age_band": "18-24",
                    "sex": "male",
                    "redactions": 0,
                    "synthetic": True,
                }
            )
    frame = pd.DataFrame(rows)
    store.con.register("_ed", frame)
    store.execute("INSERT INTO ed_assaults SELECT * FROM _ed")
    for i, n in enumerate(police):
        lad, name = LADS[i % len(LADS)]
        month = MONTHS[i // len(LADS)]
        store.execute(
            "INSERT INTO street_crimes (month, falls_within, crime_type, lad_code, lad_name, "
            "out_of_area, source_id) SELECT ?, 'Kent Police', 'Violence and sexual offences', ?, ?, "
            "FALSE, 1 FROM range(?)",
            [month, lad, name, n],
        )
    # a linkable police extract for some of the ED patients
    store.execute(
        "INSERT INTO police_victims SELECT 2, line, pseudonym, assault_date, lad_code, "
        "TRUE FROM ed_assaults WHERE line % 3 = 0"
    )
    return store


def _leaks(
    values: np.ndarray, hidden: np.ndarray, row_vis, col_vis, grand_vis: bool, threshold: int
) -> list[str]:
    """What an attacker can work out from one published table and the margins published anywhere.

    ``values``/``hidden``: the n x m interior (m = 1 for a one-way table). ``row_vis``/``col_vis``:
    which row and column totals are published (in this table or another output); ``grand_vis``:
    whether the grand total is. A leak is a hidden small count (1..threshold-1) that the additive
    equations pin down, or a line whose hidden cells add up to a small count while its total is
    published. Uses the disclosure module's null-space audit (``determined_cells``).
    """
    n, m = values.shape
    aug_v = np.zeros((n + 1, m + 1))
    aug_v[:n, :m] = values
    aug_v[:n, m] = values.sum(axis=1)
    aug_v[n, :m] = values.sum(axis=0)
    aug_v[n, m] = values.sum()
    aug_h = np.zeros((n + 1, m + 1), dtype=bool)
    aug_h[:n, :m] = hidden
    aug_h[:n, m] = ~np.asarray(row_vis, dtype=bool)
    aug_h[n, :m] = ~np.asarray(col_vis, dtype=bool)
    aug_h[n, m] = not grand_vis
    lines = [[(i, j) for j in range(m + 1)] for i in range(n + 1)]
    lines += [[(i, j) for i in range(n + 1)] for j in range(m + 1)]
    out = []
    for cell in determined_cells(aug_h, lines):
        if 1 <= aug_v[cell] < threshold:
            out.append(f"cell {cell} = {aug_v[cell]:.0f} can be worked out")
    for line in lines:
        total = line[-1]
        inner = [c for c in line[:-1] if aug_h[c]]
        if not aug_h[total] and inner and 1 <= sum(aug_v[c] for c in inner) < threshold:
            out.append(f"hidden cells {inner} add up to a small count")
    return out


def _one_way_leaks(true: np.ndarray, published: pd.Series, total_vis: bool, threshold: int):
    """:func:`_leaks` of a one-way table: each cell is its own row total; the one column
    total is the grand total (published or not)."""
    return _leaks(
        true[:, None],
        published.isna().to_numpy()[:, None],
        published.notna().to_numpy(),
        [total_vis],
        total_vis,
        threshold,
    )


def _audit_public(res, raw, threshold: int) -> None:
    tables = {"area": res.table, **res.tables}
    for name, table in tables.items():
        for col in COUNT_COLS:
            if col not in table:
                continue
            v = pd.to_numeric(table[col], errors="coerce")
            shown = v.dropna()
            assert not ((shown >= 1) & (shown < threshold)).any(), (
                f"{name}.{col} shows a small count"
            )
    # derived values vanish with their counts
    area = res.table
    for col in ("ratio", "ratio_low", "ratio_high", "p_value", "q_value", "ed_expected"):
        assert area.loc[area.ed.isna(), col].isna().all()
    weapons = res.tables["weapons"]
    assert weapons.loc[weapons.ed.isna(), "share"].isna().all()

    s = res.summary
    total_vis = s["ed_assaults"] is not None
    placed_vis = s["ed_placed"] is not None or (total_vis and s["ed_unplaced"] is not None)
    timed_vis = total_vis and s["ed_without_time"] is not None
    # one-way tables
    true_area = raw.table.set_index("area_code")["ed"].reindex(area.area_code).to_numpy(float)
    leaks = _one_way_leaks(true_area, area.ed, placed_vis, threshold)
    assert not leaks, f"area table: {leaks}"
    true_w = raw.tables["weapons"].set_index("weapon_code")["ed"].reindex(weapons.weapon_code)
    leaks = _one_way_leaks(true_w.to_numpy(float), weapons.ed, total_vis, threshold)
    assert not leaks, f"weapons table: {leaks}"
    # two-way tables; by_month's row totals are the area table's cells
    area_vis = dict(zip(area.area_code, area.ed.notna(), strict=True))
    for name, (r, c), row_vis_of, grand in (
        ("heatmap", ("dow", "hour"), lambda idx: [False] * len(idx), timed_vis),
        (
            "by_month",
            ("area_code", "month"),
            lambda idx: [area_vis.get(a, False) for a in idx],
            placed_vis,
        ),
    ):
        pub, full = res.tables[name], raw.tables[name].copy()
        if name == "by_month":
            full["month"] = pd.to_datetime(full.month).dt.strftime("%Y-%m")
        h = (
            pub.assign(h=pub.ed.isna())
            .pivot_table(index=r, columns=c, values="h", aggfunc="max", fill_value=False)
            .astype(bool)
        )
        v = full.pivot_table(index=r, columns=c, values="ed", aggfunc="sum", fill_value=0)
        v = v.reindex(index=h.index, columns=h.columns, fill_value=0)
        leaks = _leaks(
            v.to_numpy(float),
            h.to_numpy(),
            row_vis_of(list(h.index)),
            [False] * h.shape[1],
            grand,
            threshold,
        )
        assert not leaks, f"{name}: {leaks}"
    # no hotspot is named from a suppressed count
    named = set(s["hidden_hotspots"])
    assert not named & set(area.loc[area.ed.isna(), "area_name"])


cells = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 1),
        st.integers(0, 3),
        st.sampled_from([1, 2, 14, 23]),
        st.integers(1, 9),
    ),
    min_size=1,
    max_size=14,
)


# Issue 10: by_month and the area table were protected one by one; with two areas of equal
# count their secondary choices differed, and a month cell hidden in by_month was worked out
# from the area table's totals. The first is what the fixed (derandomized) sequence found
# (Thanet 7 and Maidstone 7 beside Dover's 2); the second is the same leak built by hand.
@example(
    ed_cells=[(0, 0, 0, 14, 7), (3, 0, 1, 14, 2), (1, 0, 0, 1, 7)],
    police=[36, 7, 38, 16, 36, 36, 17, 27],
    threshold=5,
)
@example(
    ed_cells=[(0, 0, 0, 1, 6), (1, 0, 0, 1, 9), (1, 0, 1, 1, 9), (2, 0, 0, 1, 4), (3, 0, 0, 1, 6)],
    police=[1, 40, 40, 40, 1, 1, 1, 1],
    threshold=5,
)
# The budget is the profile's (tests/conftest.py): large enough for the fixed sequence to find
# the leak above without the pinned example.
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    ed_cells=cells,
    police=st.lists(st.integers(1, 40), min_size=8, max_size=8),
    threshold=st.sampled_from([5, 10]),
)
def test_public_true_picture_never_discloses(ed_cells, police, threshold):
    store = _store(ed_cells, police, threshold)
    try:
        res = true_picture(store, audience="public", threshold=threshold)
        raw = true_picture(store, audience="internal")
        _audit_public(res, raw, threshold)
        s = res.summary
        for key in ("ed_assaults", "ed_unplaced", "ed_without_time"):
            assert s[key] is None or s[key] == 0 or s[key] >= threshold
    finally:
        store.close()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ed_cells=cells, police=st.lists(st.integers(1, 40), min_size=8, max_size=8))
def test_public_report_section_is_checked_and_audited(ed_cells, police):
    store = _store(ed_cells, police, 5)
    try:
        ctx = ReportContext(
            store=store, area="Kent", date_from=MONTHS[0], date_to=MONTHS[-1], audience="public"
        )
        sec = section.build(ctx)
        assert sec is not None and sec.disclosure_checked
        assert all(is_checked(t) for t in sec.tables.values())
        for t in sec.tables.values():
            for col in COUNT_COLS:
                if col in t:
                    v = pd.to_numeric(t[col], errors="coerce").dropna()
                    assert not ((v >= 1) & (v < 5)).any()
        log = store.query("SELECT * FROM audit_log")
        assert len(log) == 1 and log.action[0] == "report" and log.audience[0] == "public"
    finally:
        store.close()


def test_partner_sees_counts_but_no_records(tmp_path):
    from harmscope.errors import HarmscopeError
    from harmscope.export.ed import export_ed

    store = _store([(0, 0, 0, 1, 3), (1, 1, 1, 23, 7)], [10] * 8, 5)
    res = true_picture(store, audience="partner")
    assert sorted(res.table.ed.dropna().astype(int)) == [0, 0, 3, 7]
    with pytest.raises(HarmscopeError, match="record-level"):
        export_ed(store, tmp_path, audience="partner", records=True)
    store.close()


def test_the_auditor_catches_a_lone_hidden_cell():
    values = np.array([[3.0], [20.0], [30.0]])
    lone = np.array([[True], [False], [False]])
    assert _leaks(values, lone, [False, True, True], [True], True, 5)
    pair = np.array([[True], [True], [False]])
    assert not _leaks(values, pair, [False, False, True], [True], True, 5)
    # hidden cells that together hold a small count are caught too
    small = np.array([[2.0], [1.0], [30.0]])
    assert _leaks(small, pair, [False, False, True], [True], True, 5)
