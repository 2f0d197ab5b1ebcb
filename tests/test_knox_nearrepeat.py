"""Knox test: a planted near-repeat pattern is found, the same events with shuffled dates are not."""

from __future__ import annotations

import numpy as np
import pytest

from harmscope.analysis.knox import knox_result, knox_stop_search, knox_table
from harmscope.errors import HarmscopeError


def planted(seed: int = 7, parents: int = 300, repeats: int = 1):
    """Events uniform over 10 km x 10 km and a year; each parent has `repeats` follow-ups
    within 100 m and 5 days (the planted near-repeat effect)."""
    rng = np.random.default_rng(seed)
    x, y, t = (
        rng.uniform(0, 10_000, parents),
        rng.uniform(0, 10_000, parents),
        rng.uniform(0, 365, parents),
    )
    k = parents * repeats
    src = np.repeat(np.arange(parents), repeats)
    ang, r = rng.uniform(0, 2 * np.pi, k), rng.uniform(5, 100, k)
    cx, cy = x[src] + r * np.cos(ang), y[src] + r * np.sin(ang)
    ct = t[src] + rng.uniform(0.5, 5, k)
    return np.r_[x, cx], np.r_[y, cy], np.r_[t, ct]


def test_planted_near_repeats_are_detected():
    x, y, t = planted()
    tab = knox_table(
        x, y, t, distance_bands=[100, 200, 400], time_bands=[7, 14, 28], iterations=199, seed=1
    )
    first = tab.iloc[0]
    assert first.ratio > 3 and first.p == pytest.approx(1 / 200)
    # beyond the planted scale the excess is small (pairs of clusters still make counts lumpy)
    far = tab[(tab.distance_band == "200-400 m") & (tab.time_band == "14-28 days")].iloc[0]
    assert far.ratio < 1.5 < first.ratio


def test_shuffled_dates_show_no_near_repeats():
    x, y, t = planted()
    t_shuffled = np.random.default_rng(99).permutation(t)
    tab = knox_table(
        x,
        y,
        t_shuffled,
        distance_bands=[100, 200, 400],
        time_bands=[7, 14, 28],
        iterations=199,
        seed=1,
    )
    assert tab.iloc[0].p > 0.05
    assert 0.5 < tab.iloc[0].ratio < 1.6
    # across many seeds the shuffled version is flagged at about the nominal rate
    flagged = 0
    for s in range(20):
        ts = np.random.default_rng(1000 + s).permutation(t)
        r = knox_table(x, y, ts, distance_bands=[100], time_bands=[7], iterations=99, seed=s)
        flagged += int(r.iloc[0].p < 0.05)
    assert flagged <= 4


def test_knox_is_seeded_and_validates_bands():
    x, y, t = planted(parents=100)
    a = knox_table(x, y, t, iterations=49, seed=3)
    b = knox_table(x, y, t, iterations=49, seed=3)
    assert a.equals(b)
    with pytest.raises(HarmscopeError):
        knox_table(x, y, t, distance_bands=[200, 100])
    with pytest.raises(HarmscopeError):
        knox_table(x[:2], y[:2], t[:2])


def test_knox_result_summary():
    x, y, t = planted()
    res = knox_result(
        x, y, t, distance_bands=[100, 200], time_bands=[7, 14], iterations=99, seed=2, alpha=0.05
    )
    assert res.summary["near_repeat_detected"]
    assert (
        res.summary["closest_expected_ci"][0]
        <= res.table.iloc[0].expected
        <= res.summary["closest_expected_ci"][1]
    )
    assert "shuffl" in res.method


def test_knox_on_real_kent_stop_and_search(kent_store):
    res = knox_stop_search(kent_store, iterations=99, seed=4)
    assert res.summary["events"] > 4000
    assert len(res.table) == 9
    assert any("same point within 1 h" in n for n in res.notes)
    assert (res.table["expected"] > 0).all()


def test_knox_cli_on_a_csv_extract(tmp_path, kent_store_path, capsys):
    import json

    import pandas as pd

    from harmscope.analysis.grid import to_wgs84
    from harmscope.cli import main

    x, y, t = planted(parents=200)
    lon, lat = to_wgs84(x + 560_000, y + 150_000)  # somewhere in Kent
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(t, unit="D")
    path = tmp_path / "extract.csv"
    pd.DataFrame({"lon": lon, "lat": lat, "when": when.astype(str)}).to_csv(path, index=False)
    args = [
        "knox",
        "--csv",
        str(path),
        "--lon-col",
        "lon",
        "--lat-col",
        "lat",
        "--date-col",
        "when",
        "--distance-bands",
        "100,200",
        "--time-bands",
        "7,14",
        "--iterations",
        "99",
        "--seed",
        "1",
        "--json",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["near_repeat_detected"] and out["summary"]["events"] == 400
    assert (
        main(["knox", "--csv", str(path)]) == 2
    )  # no 'longitude'/'date' columns: named in the error
    assert "--lon-col" in capsys.readouterr().err
    # the ED table exists but holds no located records in the police-only store
    assert main(["knox", "--source", "ed", "--db", str(kent_store_path)]) == 2
