"""Evaluation on the real police data (Kent, with Essex and Sussex as donors), seeded.

The street data hold 2024-01..04 and 2025-01..12: the gap is kept as a gap (month effects,
real elapsed time), and planted effects start in 2025 so every design has >= 6 months before.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest

from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.evaluate import evaluate, evaluate_design, load_panels
from harmscope.analysis.evaluation.placebo import plant, run_placebos, summarise
from harmscope.cli import main
from harmscope.report.section import ReportContext
from harmscope.report.sections import evaluation as section
from harmscope.store import Store

START = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def panels(all_store):
    return load_panels(all_store)


@pytest.fixture(scope="module")
def kent_lsoas(panels):
    return sorted(panels.lsoa.loc[panels.lsoa["force"] == "Kent Police", "area"].unique())


@pytest.fixture(scope="module")
def store_copy(all_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluation") / "eval.duckdb"
    shutil.copy(all_store_path, path)
    assert main(["schemes", "--example", "--db", str(path), "--quiet"]) == 0
    return path


def test_panel_keeps_the_gap_and_the_three_forces(panels):
    months = sorted(panels.lsoa["month"].unique())
    assert len(months) == 16
    assert pd.Timestamp("2024-05-01") not in set(months)
    assert set(panels.lsoa["force"]) == {"Kent Police", "Essex Police", "Sussex Police"}
    assert panels.harm_weight is not None and panels.harm_weight > 0


def test_planted_20pc_reduction_is_recovered_by_did_and_synthetic_control(panels, kent_lsoas):
    rng = np.random.default_rng(20251)
    areas = list(rng.choice(kent_lsoas, 30, replace=False))
    planted = plant(panels, areas, START, 0.20, rng)
    design = Design("lsoa", areas, [a for a in kent_lsoas if a not in set(areas)], "Kent Police")
    res = {
        r["method"]: r for r in evaluate_design(planted, design, START, methods=("did", "synth"))
    }
    for method in ("did", "synthetic_control"):
        r = res[method]
        lo, hi = r["irr_ci"]
        assert lo <= 0.80 <= hi, (method, r["irr"], r["irr_ci"])
        assert 0.6 < r["irr"] < 0.95, (method, r["irr"])
    assert res["did"]["p_value"] < 0.05  # 20% is above this design's MDE (about 17%)
    assert res["did"]["balance"]["smd_after"].abs().max() < 0.25  # matching achieved balance
    donors = res["synthetic_control"]["weights"]
    assert donors["weight"].sum() == pytest.approx(1.0) and (donors["weight"] >= 0).all()


def test_evaluate_result_carries_counts_harm_intervals_and_verdicts(panels, kent_lsoas, all_store):
    rng = np.random.default_rng(7)
    areas = list(rng.choice(kent_lsoas, 30, replace=False))
    planted = plant(panels, areas, START, 0.20, rng)
    res = evaluate(
        all_store, {"lsoas": areas}, "2025-07", cost=250_000, panels=planted, name="planted"
    )
    out = {r["method"]: r for r in res.summary["results"]}
    assert set(out) == {"did", "synthetic_control", "its"}
    for r in out.values():
        assert {
            "irr",
            "irr_ci",
            "p_value",
            "verdict",
            "mde",
            "crimes_averted_ci",
            "harm_averted_ci",
        } <= set(r)
        lo, hi = r["crimes_averted_ci"]
        assert lo <= r["crimes_averted"] <= hi
        assert r["harm_averted"] == pytest.approx(r["crimes_averted"] * panels.harm_weight)
    did = out["did"]
    assert did["cost_per_harm_averted"] == pytest.approx(250_000 / did["harm_averted"])
    assert "gap" not in res.method and any("2024-05..2024-12" in n for n in res.notes)
    assert {
        "did_observed_vs_counterfactual",
        "synthetic_control_placebos",
        "synthetic_control_pre_fit",
    } <= set(res.charts)


def test_placebo_schemes_hold_their_size_small_seeded(panels):
    runs = run_placebos(panels, 16, seed=11, force="Kent Police")
    s = summarise(runs).set_index("method")
    assert set(s.index) == {"did", "synthetic_control", "its"}
    for method, row in s.iterrows():
        assert row["runs"] == 16
        assert row["significant_rate"] <= 3 / 16, (
            method
        )  # nominal 5%; the 200-run check is in validate
        assert row["coverage"] >= 0.8, method


def test_power_agrees_with_planted_effects_at_the_mde_small_seeded(panels):
    runs = run_placebos(panels, 20, seed=5, methods=("did",), reduction_at_mde=True, force="Kent Police")
    s = summarise(runs).iloc[0]
    assert 0.10 < s["mean_mde"] < 0.35
    assert 0.55 <= s["detection_rate"] <= 0.97  # nominal 80% (200 runs in validate: 79%)


def _json(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_power_placebo_and_errors(store_copy, capsys):
    db = ["--db", str(store_copy)]
    power = _json(capsys, ["evaluate", "--power", "--json", *db])
    assert len(power["results"]) == 9
    for r in power["results"]:
        assert 0 < r["mde"] < 1, r
    one = _json(
        capsys,
        ["evaluate", "--district", "Thanet", "--start", "2025-07", "--placebo", "3", "--json", *db],
    )
    assert [r["method"] for r in one["results"]] == ["did", "synthetic_control", "its"]
    for r in one["results"]:
        assert {"method", "irr", "irr_ci", "p_value", "verdict", "false_positive_rate"} <= set(r)
        assert len(r["irr_ci"]) == 2
    capsys.readouterr()
    assert main(["evaluate", "--scheme", "Hang 10 (Ramsgate)", *db]) == 2
    assert "no start month" in capsys.readouterr().err
    listed = _json(capsys, ["schemes", "--json", *db])
    assert len(listed["schemes"]) == 9 and all(s["start"] is None for s in listed["schemes"])
    planted = _json(
        capsys,
        [
            "evaluate",
            "--point",
            "51.3347,1.4163,1500",
            "--start",
            "2025-06",
            "--plant",
            "0.3",
            "--method",
            "did",
            "--seed",
            "3",
            "--json",
            *db,
        ],
    )
    (r,) = planted["results"]
    assert planted["summary"]["planted_irr"] == pytest.approx(0.7)
    assert r["irr_ci"][0] <= 0.7 <= r["irr_ci"][1]
    assert any("SYNTHETIC" in n for n in planted["notes"])


def test_report_section_for_a_dated_scheme(store_copy):
    with Store.open(store_copy) as store:
        store.execute(
            "UPDATE interventions SET start_month = DATE '2025-07-01' WHERE name = 'Hang 10 (Ramsgate)'"
        )
        sec = section.build(
            ReportContext(store, "Kent", date(2025, 1, 1), date(2025, 12, 1), audience="public")
        )
        store.execute("UPDATE interventions SET start_month = NULL")
    assert sec is not None and "Hang 10" in sec.html and "Could we even tell?" in sec.html
    names = list(sec.charts)
    for part in ("observed_vs_counterfactual", "placebos", "pre_fit"):
        assert any(part in n for n in names), part
    assert "minimum_detectable_effects" in sec.tables


def test_design_errors_name_the_area_and_the_fix(panels):
    from harmscope.analysis.evaluation.design import resolve_design
    from harmscope.errors import HarmscopeError

    with pytest.raises(HarmscopeError) as err:
        resolve_design({"districts": ["Atlantis"], "force": "Kent Police"}, panels.lsoa, panels.district, panels.covariates)
    assert "areas.districts" in str(err.value) and "Thanet" in str(err.value)
    with pytest.raises(HarmscopeError, match="areas.point"):
        resolve_design(
            {"point": {"lat": 51.0, "lon": -3.0, "radius_m": 200}, "force": "Kent Police"},
            panels.lsoa,
            panels.district,
            panels.covariates,
        )
    d = resolve_design(
        {"countywide": True, "force": "Kent Police"},
        panels.lsoa,
        panels.district,
        panels.covariates,
    )
    assert d.aggregate and len(d.treated) == 13 and not any(a.startswith("Kent") for a in d.pool)
