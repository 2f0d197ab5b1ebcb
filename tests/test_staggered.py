"""Staggered roll-out (Callaway & Sant'Anna 2021): the R did package's published mpdta
results, planted effects in simulated and real (Kent) panels, schemes that stop, the
register's per-area starts and `harmscope evaluate --design staggered`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from harmscope.analysis.evaluation.placebo import plant
from harmscope.analysis.evaluation.staggered import (
    aggregate,
    att_gt,
    did_stop,
    evaluate_staggered,
    reference_check,
    twfe,
)
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.sources.register import read_register
from harmscope.store.queries.evaluation import load_panels

# --- the reference: R did 2.5.0 on mpdta --------------------------------------------------


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_mpdta_matches_the_r_did_package(control):
    out = reference_check(control)
    assert len(out) == 30 and out["att"].notna().all()  # 12 ATT(g,t), 3+7+4 by kind, 4 overall
    assert out["att_diff"].abs().max() < 1e-4
    # the analytic (influence-function) SEs are R's own; the bootstrap's within 10%
    assert np.allclose(out["se_analytic_ratio"], 1.0, atol=1e-6)
    assert out["se_bootstrap_ratio"].between(0.9, 1.1).all()
    simple = out.set_index("estimand").loc["overall_simple"]
    assert simple["att_r"] == pytest.approx(
        -0.0399512751551763 if control == "never" else -0.0397636256230437
    )
    assert simple["att"] == pytest.approx(simple["att_r"], abs=1e-4)


def test_mpdta_published_first_cell():
    """The did vignette's first printed cell, ATT(2004, 2004) = -0.0105 (SE 0.0233)."""
    out = reference_check("never")
    first = out[(out["estimand"] == "att_gt") & (out["group"] == 2004) & (out["time"] == 2004)]
    assert first["att"].iloc[0] == pytest.approx(-0.0105, abs=5e-5)
    assert first["se_analytic"].iloc[0] == pytest.approx(0.0233, abs=5e-5)


# --- simulation: planted dynamic effects; the naive TWFE is biased --------------------------


def _sim(seed: int = 7, n_per: int = 60, periods: int = 12, stop_after: int | None = None):
    """Units in cohorts starting at periods 4, 7 and 10 (and never); the effect grows by -2
    per period of exposure (-2 at the start, -4 a period later...), as the literature's
    example where two-way fixed effects go wrong. ``stop_after``: the effect ends that many
    periods after each start (a scheme that stops)."""
    rng = np.random.default_rng(seed)
    cohorts = np.repeat([4, 7, 10, 0], n_per)
    unit_fe = rng.normal(0, 3, len(cohorts))
    time_fe = np.cumsum(rng.normal(0.5, 1, periods))
    rows = []
    for i, g in enumerate(cohorts):
        for t in range(periods):
            e = t - g if g else -1
            on = g and e >= 0 and (stop_after is None or e < stop_after)
            effect = -2.0 * (e + 1) if on else 0.0
            y = unit_fe[i] + time_fe[t] + effect + rng.normal(0, 1)
            rows.append({"unit": i, "time": t, "g": g, "y": y, "effect": effect})
    return pd.DataFrame(rows)


def test_simulated_staggered_effects_are_recovered_and_twfe_is_biased():
    df = _sim()
    gt = att_gt(df, y="y", unit="unit", time="time", group="g", seed=1)
    post = gt.table[gt.table["post"]]
    truth = -2.0 * (post["event_time"] + 1)
    assert np.max(np.abs(post["att"] - truth)) < 1.0  # each cell within 1 unit of its truth
    covered = (post["ci_low"] <= truth) & (truth <= post["ci_high"])
    assert covered.mean() >= 0.8
    dyn = aggregate(gt, "dynamic")["table"].set_index("event_time")
    for e in range(0, 6):
        assert dyn.loc[e, "ci_low"] <= -2.0 * (e + 1) <= dyn.loc[e, "ci_high"]
    pre = dyn.loc[dyn.index < 0]
    assert (pre["band_low"] <= 0).all() and (pre["band_high"] >= 0).all()
    simple = aggregate(gt, "simple")
    true_simple = df.loc[df["effect"] != 0, "effect"].mean()
    assert simple["ci"][0] <= true_simple <= simple["ci"][1]
    # the static TWFE coefficient is pulled towards zero (the already-treated act as
    # controls for the later cohorts while their effects keep growing)
    naive = twfe(df, y="y", unit="unit", time="time", group="g")
    d = df.assign(d=((df["g"] > 0) & (df["time"] >= df["g"])).astype(float))
    ols = smf.ols("y ~ C(unit) + C(time) + d", data=d).fit().params["d"]
    assert naive == pytest.approx(ols, abs=1e-8)  # the same TWFE as statsmodels' OLS
    assert abs(naive - true_simple) > 2.0 and abs(naive) < abs(true_simple)


def test_a_scheme_that_stops_reports_during_and_after_apart():
    df = _sim(seed=3, stop_after=3)  # effect -2, -4, -6 for three periods, then none
    gt = att_gt(df, y="y", unit="unit", time="time", group="g", seed=2)
    tab = gt.table
    during = tab["event_time"].between(0, 2).to_numpy()
    after = (tab["event_time"] >= 3).to_numpy()
    d = aggregate(gt, "simple", cells=during)
    a = aggregate(gt, "simple", cells=after)
    assert d["ci"][1] < -2.0  # clearly an effect while it ran
    assert a["ci"][0] <= 0.0 <= a["ci"][1]  # none after it stopped
    with pytest.raises(HarmscopeError, match="control"):
        att_gt(df, y="y", unit="unit", time="time", group="g", control="everyone")


# --- the real data: Kent districts, planted staggered reductions --------------------------


@pytest.fixture(scope="module")
def kent_panels(kent_store):
    return load_panels(kent_store)


def test_real_kent_planted_staggered_reduction_is_recovered(kent_store, kent_panels):
    rng = np.random.default_rng(2025)
    cohorts = {
        pd.Timestamp("2025-03-01"): ["Kent Police / Canterbury", "Kent Police / Maidstone"],
        pd.Timestamp("2025-06-01"): ["Kent Police / Thanet", "Kent Police / Medway"],
    }
    panels = kent_panels
    for start, areas in cohorts.items():
        panels = plant(panels, areas, start, 0.30, rng, unit="district")
    starts = {a.split(" / ")[1]: f"{m:%Y-%m}" for m, areas in cohorts.items() for a in areas}
    res = evaluate_staggered(
        kent_store,
        {"districts": list(starts)},
        starts,
        end="2025-09",
        name="planted",
        panels=panels,
    )
    during = res.summary["results"][0]
    assert during["method"].endswith("during the scheme")
    lo, hi = during["irr_ci"]
    assert lo <= 0.70 <= hi and hi < 1.0
    assert res.summary["n_cohorts"] == 2 and res.summary["n_treated_areas"] == 4
    assert len(res.table) == 2  # during, and after the end (persistence)
    assert "event_study" in res.charts and res.charts["event_study"]["layer"]
    assert "parallel trends" in res.method and "anticipation" in res.method
    # the same areas unplanted: the estimate moves towards no effect
    plain = evaluate_staggered(
        kent_store, {"districts": list(starts)}, starts, end="2025-09", panels=kent_panels
    )
    assert plain.summary["results"][0]["irr"] > during["irr"] + 0.15


def test_did_stop_wraps_the_single_start_did(kent_panels):
    panel = kent_panels.district[kent_panels.district["force"] == "Kent Police"]
    areas = sorted(panel["area"].unique())
    treated = ["Kent Police / Dover", "Kent Police / Thanet"]
    comps = [a for a in areas if a not in treated][:6]
    rng = np.random.default_rng(1)
    planted = plant(kent_panels, treated, pd.Timestamp("2025-04-01"), 0.3, rng, "district")
    during_only = planted.district.copy()
    after = during_only["area"].isin(treated) & (during_only["month"] > pd.Timestamp("2025-08-01"))
    during_only.loc[after, "count"] = kent_panels.district.loc[after, "count"]  # stops in August
    out = did_stop(
        during_only, treated, comps, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-08-01")
    )
    assert out["during"]["irr"] < 0.8
    assert out["after"]["irr"] > out["during"]["irr"] + 0.15


# --- the register's per-area starts ---------------------------------------------------------


def _register(tmp_path, body: str):
    path = tmp_path / "reg.yaml"
    path.write_text(
        "schemes:\n  - name: Roll-out\n    provider: not recorded\n    strand: prevention\n" + body
    )
    return path


def test_register_reads_per_area_starts(tmp_path):
    path = _register(
        tmp_path,
        "    areas: {districts: [Canterbury, Thanet, Dover]}\n"
        "    starts: {Canterbury: 2025-03, thanet: 2025-06}\n"
        "    start: 2025-03\n    end: 2025-10\n",
    )
    s = read_register(path)[0]
    assert s["areas"]["starts"] == {
        "Canterbury": "2025-03",
        "Thanet": "2025-06",
        "Dover": "2025-03",
    }
    assert str(s["start"]) == "2025-03-01"
    csv = tmp_path / "reg.csv"
    csv.write_text(
        "name,provider,area_kind,areas,start,end,strand,starts\n"
        "Roll-out,not recorded,districts,Canterbury;Thanet,,,prevention,"
        "Canterbury=2025-03;Thanet=2025-06\n"
    )
    s = read_register(csv)[0]
    assert s["areas"]["starts"] == {"Canterbury": "2025-03", "Thanet": "2025-06"}
    assert str(s["start"]) == "2025-03-01"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("    areas: {districts: [Thanet]}\n    starts: {Dover: 2025-03}\n", "not among"),
        ("    areas: {countywide: true}\n    starts: {Kent: 2025-03}\n", "countywide"),
        (
            "    areas: {districts: [Thanet, Dover]}\n    starts: {Thanet: 2025-06, Dover: 2025-04}\n"
            "    start: 2025-03\n",
            "earliest",
        ),
        ("    areas: {districts: [Thanet, Dover]}\n    starts: {Thanet: 2025-06}\n", "no start"),
        (
            "    areas: {districts: [Thanet, Dover]}\n"
            "    starts: {Thanet: 2025-03, Dover: 2025-09}\n    end: 2025-06\n",
            "before the start of Dover",
        ),
        ("    areas: {districts: [Thanet]}\n    starts: {Thanet: March}\n", "starts.Thanet"),
    ],
)
def test_register_rejects_bad_starts(tmp_path, body, match):
    with pytest.raises(HarmscopeError) as err:
        read_register(_register(tmp_path, body))
    assert match in str(err.value)


# --- the command ------------------------------------------------------------------------------


def test_cli_evaluate_picks_the_staggered_design_for_a_register_roll_out(
    kent_copy, tmp_path, capsys
):
    _, db = kent_copy("staggered", "stag.duckdb")
    reg = _register(
        tmp_path,
        "    areas: {districts: [Canterbury, Thanet, Dover]}\n"
        "    starts: {Canterbury: 2025-03, Thanet: 2025-06, Dover: 2025-06}\n"
        "    end: 2025-09\n",
    )
    assert main(["schemes", str(reg), "--db", str(db), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--scheme", "Roll-out", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["design"] == "staggered"
    methods = [r["method"] for r in doc["results"]]
    assert methods == [
        "staggered DiD, during the scheme",
        "staggered DiD, after it ended (persistence)",
    ]
    for r in doc["results"]:
        assert r["att_ci"][0] <= r["att"] <= r["att_ci"][1]
    assert "Callaway" in doc["method"]
    # the standard design is still there when asked for
    rc = main(
        [
            "evaluate",
            "--scheme",
            "Roll-out",
            "--db",
            str(db),
            "--json",
            "--design",
            "standard",
            "--method",
            "its",
        ]
    )
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["summary"].get("design") is None
    # the report reads the roll-out from its first start and says where the staggered design is
    out = tmp_path / "r.html"
    args = ["report", "--db", str(db), "--area", "Kent Police", "--from", "2025-01"]
    args += ["--to", "2025-12", "--sections", "evaluation", "--out", str(out), "--quiet"]
    assert main(args) == 0
    html = out.read_text(encoding="utf-8")
    assert "started in its areas at different months" in html
    assert "staggered (Callaway-Sant&#39;Anna) design" in html or "staggered (Callaway" in html


def test_few_treated_districts_use_randomization_inference(kent_panels):
    """Placebo roll-outs over 2 of Kent's 13 districts (real data, no effect): the area
    bootstrap calls about a third significant, randomization inference about 5%
    (benchmarks/validate_staggered.py: 32.5% vs 3.8% over 400 placebos)."""
    from harmscope.analysis.evaluation.design import _districts
    from harmscope.analysis.evaluation.staggered import placebo_rates

    panel = kent_panels.district
    kent = [a for a in _districts(panel).index if a.startswith("Kent Police / ")]
    starts = [pd.Timestamp(m) for m in ("2025-03-01", "2025-05-01", "2025-07-01")]
    r = placebo_rates(panel, kent, 2, starts, runs=80, seed=11, draws=499)
    assert r["bootstrap"]["rate"] >= 0.15
    assert r["randomization"]["rate"] <= 0.12


def test_cli_staggered_design_for_areas_with_one_start(kent_store_path, capsys):
    rc = main(
        [
            "evaluate",
            "--district",
            "Thanet",
            "--district",
            "Dover",
            "--start",
            "2025-06",
            "--design",
            "staggered",
            "--db",
            str(kent_store_path),
            "--json",
            "--quiet",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert r["method"] == "staggered DiD, all months since the start"
    assert r["inference"].startswith("randomization inference")  # 2 treated areas
    assert r["att_ci"][0] <= r["att"] <= r["att_ci"][1]
    assert doc["summary"]["n_cohorts"] == 1 and doc["summary"]["n_treated_areas"] == 2
