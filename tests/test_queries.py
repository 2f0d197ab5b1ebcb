"""The query layer's scope functions (harmscope.store.queries.scope) on a small planted store.

Each expected answer is computed in pandas from the planted rows, not by SQL.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from harmscope.store import Store
from harmscope.store.queries import scope as q

ROWS = pd.DataFrame(
    [
        # month, force, lad, lsoa11, crime type, out of area, lon, lat
        ("2025-01-01", "Kent Police", "E07000110", "E01024400", "Burglary", False, 0.5, 51.2),
        ("2025-01-01", "Kent Police", "E07000110", "E01024400", "Robbery", False, 0.5, 51.2),
        ("2025-01-01", "Kent Police", "E07000112", None, "Burglary", False, None, None),
        ("2025-02-01", "Kent Police", "E07000110", "E01024401", "Drugs", False, 0.6, 51.3),
        ("2025-04-01", "Kent Police", "E07000112", "E01024402", "Burglary", None, 0.7, 51.1),
        ("2025-04-01", "Kent Police", "E07000112", "E01024402", "Burglary", True, 0.7, 51.1),
        ("2025-04-01", "Essex Police", "E07000066", "E01021000", "Robbery", False, 0.4, 51.6),
        ("2025-05-01", "Essex Police", None, None, "Drugs", False, None, None),
    ],
    columns=["month", "force", "lad", "lsoa", "crime_type", "out", "lon", "lat"],
)
WEIGHTS = pd.DataFrame({"category": ["Burglary", "Robbery", "Drugs"], "weight": [2.0, 10.0, 0.5]})


@pytest.fixture(scope="module")
def store():
    s = Store.open(":memory:")
    for r in ROWS.itertuples():
        s.execute(
            "INSERT INTO street_crimes (month, falls_within, lad_code, lsoa11_code, crime_type, "
            "out_of_area, longitude, latitude, source_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [
                None if pd.isna(v) else v
                for v in (date.fromisoformat(r.month), r.force, r.lad, r.lsoa, r.crime_type)
                + (r.out, r.lon, r.lat)
            ],
        )
    yield s
    s.close()


def _expected(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows.out.fillna(False).astype(bool) == False]  # noqa: E712


def test_scope_filter_selects_the_planted_rows(store):
    where, params = q.scope_filter(force="Kent Police", start="2025-02", end=date(2025, 4, 9))
    kent = _expected(ROWS)
    kent = kent[(kent.force == "Kent Police") & kent.month.between("2025-02-01", "2025-04-01")]
    assert q.count_rows(store, where, params) == len(kent) == 2
    where, params = q.scope_filter(
        lad_codes=["E07000112", "E07000066"], categories=["Burglary", "Robbery"]
    )
    sel = _expected(ROWS)
    sel = sel[
        sel.lad.isin(["E07000112", "E07000066"]) & sel.crime_type.isin(["Burglary", "Robbery"])
    ]
    assert q.count_rows(store, where, params) == len(sel) == 3
    where, params = q.scope_filter(
        forces=["Kent Police", "Essex Police"], months=["2025-01", "2025-05"]
    )
    assert q.count_rows(store, where, params) == 4
    assert q.forces_held(store, where, params) in (
        ["Kent Police", "Essex Police"],
        ["Essex Police", "Kent Police"],
    )


def test_months_held_are_labelled_and_sorted(store):
    assert q.months_held(store) == ["2025-01", "2025-02", "2025-04", "2025-05"]
    where, params = q.scope_filter(force="Essex Police")
    assert q.months_held(store, where, params) == ["2025-04", "2025-05"]


def test_weighted_cube_against_pandas(store):
    where, params = q.scope_filter()
    cube = q.weighted_cube(
        store, where, params, WEIGHTS, {"district": "s.lad_code", "month": "s.month"}
    )
    rows = _expected(ROWS).assign(
        w=lambda d: d.crime_type.map(WEIGHTS.set_index("category").weight),
        month=lambda d: d.month.str[:7],
    )
    exp = (
        rows.groupby(["lad", "month"], dropna=False)
        .agg(
            count=("w", "size"),
            harm=("w", "sum"),
            harm_w2=("w", lambda w: (w * w).sum()),
            w_max=("w", "max"),
        )
        .reset_index()
    )
    got = cube.set_index(["district", "month"]).sort_index()
    exp = exp.set_index(["lad", "month"]).sort_index()
    assert got.index.tolist() == exp.index.tolist()
    for col in ("count", "harm", "harm_w2", "w_max"):
        np.testing.assert_allclose(got[col].to_numpy(float), exp[col].to_numpy(float))


def test_weighted_cube_applies_published_overrides(store):
    """An override replaces the weight of its district x month x category cell only."""
    where, params = q.scope_filter(force="Kent Police")
    w = WEIGHTS.copy()
    w.attrs["overrides"] = pd.DataFrame(
        {
            "lad_code": ["E07000110"],
            "month": ["2025-01-01"],
            "category": ["Robbery"],
            "weight": [3.0],
        }
    )
    cube = q.weighted_cube(store, where, params, w, {"category": "s.crime_type"}).set_index(
        "category"
    )
    # Kent in-area rows: Burglary x3 (2 each), Robbery x1 (overridden to 3), Drugs x1 (0.5)
    assert cube.loc["Robbery", "harm"] == 3.0
    assert cube.loc["Burglary", "harm"] == 6.0
    assert cube.loc["Drugs", "harm"] == 0.5


def test_weighted_counts_counts_rows_without_a_weight(store):
    where, params = q.scope_filter(force="Kent Police")
    where += f" AND {q.LOCATED}"
    weights = pd.Series({"Burglary": 2.0, "Robbery": 10.0})  # no weight for Drugs
    pts = q.weighted_counts(
        store, where, params, {"longitude": "s.longitude", "latitude": "s.latitude"}, weights
    ).set_index(["longitude", "latitude"])
    assert pts.loc[(0.5, 51.2)].tolist() == [2, 12.0, 0]
    assert pts.loc[(0.6, 51.3)].tolist() == [1, 0.0, 1]  # Drugs: counted, no value
    assert pts.loc[(0.7, 51.1)].tolist() == [1, 2.0, 0]  # the out-of-area twin is left out
    plain = q.weighted_counts(store, where, params, {"lon": "s.longitude"})
    assert plain["value"].sum() == plain["count"].sum() == 4


def test_count_cube_labels_months(store):
    where, params = q.scope_filter()
    df = q.count_cube(store, where, params, {"month": "s.month"})
    assert df.to_dict("list") == {
        "month": ["2025-01", "2025-02", "2025-04", "2025-05"],
        "count": [3, 1, 2, 1],
    }
