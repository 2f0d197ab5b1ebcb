"""Value for money of an evaluated scheme (analysis.evaluation.value, `harmscope value`).

Arithmetic against hand-computed values; interval coverage of a planted truth on simulated
schemes (ITS and DiD, 200 seeded runs each; benchmarks/validate_value.py runs 1,000 and
planted effects in the real Kent data); the wording for schemes with no detectable change and
without a recorded cost; the JSON contract and the publishing path on the real Kent store.

The unit-cost table used here is a TEST INPUT (round numbers chosen so the arithmetic can be
done by hand), not reference data: the real table is analysis.costs (Home Office 2018).
"""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from harmscope.analysis.evaluation import value as v
from harmscope.analysis.result import Result
from harmscope.cli import main
from harmscope.privacy.value import publish_value
from harmscope.report.section import NotApplicable, ReportContext
from harmscope.report.sections import value as section
from harmscope.store import Store

VIOLENCE = "Violence and sexual offences"
UNIT_COSTS = pd.DataFrame(
    [
        {
            "category": VIOLENCE,
            "unit_cost_gbp": 10_000.0,
            "unit_cost_low": 8_000.0,
            "unit_cost_high": 12_000.0,
            "price_year": 2018,
            "costed": True,
            "source": "TEST INPUT: round numbers for hand arithmetic",
        },
        {
            "category": "Shoplifting",
            "unit_cost_gbp": 200.0,
            "unit_cost_low": 100.0,
            "unit_cost_high": 300.0,
            "price_year": 2018,
            "costed": True,
            "source": "TEST INPUT",
        },
        {
            "category": "Anti-social behaviour",
            "unit_cost_gbp": float("nan"),
            "unit_cost_low": float("nan"),
            "unit_cost_high": float("nan"),
            "price_year": 2018,
            "costed": False,
            "source": "TEST INPUT",
        },
    ]
)
UC = {"gbp": 10_000.0, "low": 8_000.0, "high": 12_000.0, "price_year": 2018}
HANG10 = "Hang 10 (Ramsgate)"


def _words(row) -> str:
    return " ".join(row["words"])


# -- arithmetic ------------------------------------------------------------------------------
def test_value_row_matches_hand_arithmetic():
    # O = 400 crimes after the start, IRR 0.8 (95% CI 0.64 to 1.0), weight 200, cost £500,000
    est = {"method": "did", "irr": 0.8, "irr_ci": [0.64, 1.0], "p_value": 0.05, "mde": 0.2}
    r = v.value_row(est, 400.0, cost=500_000.0, unit_cost=UC, harm_weight=200.0)
    assert r["crimes_averted"] == pytest.approx(100.0)  # 400 (1/0.8 - 1)
    assert r["crimes_averted_ci"] == pytest.approx([0.0, 225.0])  # 400 (1/1 - 1), 400 (1/0.64 - 1)
    assert r["harm_averted"] == pytest.approx(20_000.0)
    assert r["harm_averted_ci"] == pytest.approx([0.0, 45_000.0])
    assert r["pounds_averted"] == pytest.approx(1_000_000.0)
    assert r["pounds_averted_ci"] == pytest.approx([0.0, 2_250_000.0])
    assert r["pounds_averted_unit_cost_range"] == pytest.approx([800_000.0, 1_200_000.0])
    assert r["cost_per_crime_averted"] == pytest.approx(5_000.0)
    lo, hi = r["cost_per_crime_averted_ci"]
    assert lo == pytest.approx(500_000 / 225) and hi is None  # the interval reaches no effect
    assert r["cost_per_harm_averted"] == pytest.approx(25.0)
    assert r["bcr"] == pytest.approx(2.0)
    assert r["bcr_ci"] == pytest.approx([0.0, 4.5])
    assert r["bcr_unit_cost_range"] == pytest.approx([1.6, 2.4])
    # break-even: 500,000 / 10,000 = 50 crimes; IRR* = 400 / 450
    assert r["break_even_irr"] == pytest.approx(400 / 450)
    assert r["break_even_reduction"] == pytest.approx(50 / 450)
    assert r["break_even_reduction_unit_cost_range"] == pytest.approx(
        [1 - 400 / (400 + 500_000 / 12_000), 1 - 400 / (400 + 500_000 / 8_000)]
    )
    text = _words(r)
    assert "no upper limit: the interval includes no effect" in text
    assert "inf" not in text.lower() and "nan" not in text.lower()
    # plugging the break-even IRR back in gives benefits equal to the cost
    back = v.value_row(
        {**est, "irr": r["break_even_irr"]}, 400.0, cost=500_000.0, unit_cost=UC, harm_weight=None
    )
    assert back["bcr"] == pytest.approx(1.0)


def test_cost_per_crime_has_both_ends_when_the_interval_excludes_no_effect():
    est = {"method": "its", "irr": 0.75, "irr_ci": [0.6, 0.9], "p_value": 0.01, "mde": 0.15}
    r = v.value_row(est, 300.0, cost=60_000.0, unit_cost=UC, harm_weight=None)
    # averted: 300 (1/0.9 - 1) = 33.33 to 300 (1/0.6 - 1) = 200
    assert r["crimes_averted_ci"] == pytest.approx([100 / 3, 200.0])
    assert r["cost_per_crime_averted_ci"] == pytest.approx([300.0, 1_800.0])
    assert r["cost_per_crime_note"] == ""
    assert "paid for itself" in _words(r) and r["bcr_ci"][0] > 1


def test_open_interval_and_no_reduction_are_said_in_words():
    # a synthetic control whose placebo ranks reject nothing: IRR 0 to infinity
    est = {"method": "synthetic_control", "irr": 1.1, "irr_ci": [0.0, math.inf], "p_value": 0.9}
    r = v.value_row(est, 120.0, cost=10_000.0, unit_cost=UC, harm_weight=None)
    assert r["crimes_averted_ci"] == [-120.0, None]
    assert r["cost_per_crime_averted"] is None
    assert r["cost_per_crime_note"] == "not defined: the estimate is no reduction"
    text = _words(r)
    assert "unbounded" in text and "not defined: the estimate is no reduction" in text
    assert "inf" not in text.lower()
    assert "below zero because the estimate is more crime" in text


def test_not_detectable_scheme_compares_break_even_with_the_mde():
    # needs a 11% cut (50 of 450 crimes), the design detects only 20%: could go unseen
    est = {"method": "did", "irr": 0.95, "irr_ci": [0.8, 1.13], "p_value": 0.4, "mde": 0.20}
    r = v.value_row(est, 400.0, cost=500_000.0, unit_cost=UC, harm_weight=None)
    assert r["detectable"] is False
    text = _words(r)
    assert "To break even it would need to cut violence by 11%" in text
    assert "but the smallest effect this evaluation can detect is 20%" in text
    assert "could go unseen" in text
    # a dear scheme needs more than the MDE: an effect that large would probably have shown
    r2 = v.value_row(est, 400.0, cost=5_000_000.0, unit_cost=UC, harm_weight=None)
    assert r2["break_even_reduction"] == pytest.approx(500 / 900)
    assert "would probably (80% power) have been detected" in _words(r2)
    # a detectable effect gets no MDE comparison
    r3 = v.value_row(
        {**est, "p_value": 0.01, "irr_ci": [0.9, 0.99]},
        400.0,
        cost=500_000.0,
        unit_cost=UC,
        harm_weight=None,
    )
    assert "smallest effect" not in _words(r3)


def test_no_cost_gives_benefits_and_the_break_even_cost():
    est = {"method": "its", "irr": 0.8, "irr_ci": [0.64, 1.0], "p_value": 0.05, "mde": 0.2}
    r = v.value_row(est, 400.0, cost=None, unit_cost=UC, harm_weight=200.0)
    assert "bcr" not in r and "cost_per_crime_averted" not in r
    assert r["break_even_cost_gbp"] == pytest.approx(1_000_000.0)
    assert r["break_even_cost_gbp_ci"] == pytest.approx([0.0, 2_250_000.0])
    text = _words(r)
    assert "cost is not recorded" in text and "less than £1,000,000" in text


def test_unit_cost_for_weights_categories_and_refuses_uncosted_ones():
    uc, why = v.unit_cost_for(
        [VIOLENCE, "Shoplifting"], UNIT_COSTS, volumes={VIOLENCE: 1, "Shoplifting": 3}
    )
    assert why == "" and uc["gbp"] == pytest.approx((10_000 + 3 * 200) / 4)
    assert uc["low"] == pytest.approx((8_000 + 3 * 100) / 4)
    none, why = v.unit_cost_for(["Anti-social behaviour"], UNIT_COSTS)
    assert none is None and "no published unit cost" in why
    none, why = v.unit_cost_for(["Drugs"], UNIT_COSTS)
    assert none is None and "Drugs" in why


# -- coverage of a planted truth --------------------------------------------------------------
@pytest.mark.parametrize("design", ["its", "did"])
def test_intervals_cover_the_planted_truth_at_about_the_nominal_rate(design):
    runs = v.simulate_coverage(200, design=design, irr=0.8, seed=17)
    cov = v.coverage_summary(runs)
    # the map IRR -> crimes averted is monotone: coverage of the expected truth IS the IRR's
    assert (runs["covers_expected"] == runs["irr_covers"]).all()
    # about 95%: within 3 Monte Carlo SEs (sqrt(.95 .05 / 200) = 1.5 points)
    for key in ("covers_expected", "covers_realised", "bcr_covers_realised"):
        assert abs(cov[key]["rate"] - 0.95) < 3 * 0.0154, (key, cov[key])
    # BCR at a known cost is crimes averted x a constant: same coverage
    assert (runs["covers_realised"] == runs["bcr_covers_realised"]).all()
    # and the estimate is centred near the truth (mean within 20% of the planted count)
    assert runs["averted_est"].median() == pytest.approx(runs["averted_realised"].mean(), rel=0.2)


# -- the real Kent store ------------------------------------------------------------------------
REGISTER = """
schemes:
  - name: Hang 10 costed (ASSUMED cost, test)
    provider: not recorded
    areas:
      point: {lat: 51.3347, lon: 1.4163, radius_m: 1500}
    start: 2025-07
    cost_gbp: 250000
    strand: prevention
    target_outcome:
      crime_types: [Violence and sexual offences]
      harm: true
    notes: the cost is ASSUMED for a test of the arithmetic; the real cost is not recorded
"""


@pytest.fixture(scope="module")
def value_store(kent_copy):
    folder, db = kent_copy("value", "value.duckdb")
    reg = folder / "costed.yaml"
    reg.write_text(REGISTER, encoding="utf-8")
    assert main(["schemes", "--example", "--db", str(db), "--quiet"]) == 0
    return db


def test_real_scheme_matches_the_evaluation_and_recovers_a_planted_effect(value_store):
    with Store.open(value_store, read_only=True) as store:
        res = v.value_for_money(
            store, scheme=HANG10, start="2025-07", cost_gbp=250_000, unit_costs=UNIT_COSTS
        )
        planted = v.value_for_money(
            store,
            scheme=HANG10,
            start="2025-07",
            cost_gbp=250_000,
            unit_costs=UNIT_COSTS,
            plant=0.3,
            seed=3,
            methods=("did",),
        )
    rows = {r["method"]: r for r in res.summary["results"]}
    assert set(rows) == {"did", "synthetic_control", "its"}
    assert res.summary["cost_source"].startswith("given for this run")
    weight = res.summary["harm_weight"]
    assert 50 < weight < 1000  # sentence-days per violent crime (ONS CSS)
    for r in rows.values():
        # the same crimes averted as `harmscope evaluate` computes (evaluate._effects)
        assert r["crimes_averted"] == pytest.approx(r["observed_post"] * (1 / r["irr"] - 1))
        assert r["harm_averted"] == pytest.approx(r["crimes_averted"] * weight)
        assert r["bcr"] == pytest.approx(r["crimes_averted"] * 10_000 / 250_000)
        assert r["observed_post"] > 100
    (p,) = planted.summary["results"]
    assert planted.summary["planted_irr"] == pytest.approx(0.7)
    truth = p["observed_post"] * (1 / 0.7 - 1)  # the planted 30% cut, as crimes averted
    assert p["crimes_averted_ci"][0] <= truth <= p["crimes_averted_ci"][1], p
    assert p["bcr_ci"][0] <= truth * 10_000 / 250_000 <= p["bcr_ci"][1]


def test_cli_json_contract(value_store, capsys):
    capsys.readouterr()
    rc = main(
        ["value", HANG10, "--start", "2025-07", "--cost", "250000", "--json"]
        + ["--db", str(value_store), "--audience", "partner"]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["summary"]
    assert doc["audience"] == "partner"
    assert s["scheme"] == HANG10 and s["cost_gbp"] == 250_000 and s["cost_recorded"] is True
    assert {r["method"] for r in s["results"]} == {"did", "synthetic_control", "its"}
    for r in s["results"]:
        for key in ("irr", "irr_ci", "crimes_averted", "crimes_averted_ci", "harm_averted_ci"):
            assert key in r, key
        assert len(r["crimes_averted_ci"]) == 2 and r["words"]
    assert {"method", "crimes_averted_low", "bcr_high"} <= set(doc["main"][0])
    # a scheme that is not in the register fails cleanly
    assert main(["value", "No such scheme", "--db", str(value_store), "--json"]) != 0


def test_public_publication_withholds_a_small_count():
    table = pd.DataFrame(
        [
            {"method": "its", "irr": 0.5, "p_value": 0.3, "mde": 0.4, "observed_post": 3.0}
            | {k: 3.0 for k in v.FLAT}
        ]
    )
    row = {"method": "its", "observed_post": 3.0, "crimes_averted": 3.0, "words": ["3 averted"]}
    res = Result(
        table=table,
        summary={"scheme": "tiny", "start": "2025-07-01", "cost_gbp": 1.0, "results": [row]},
        method="m",
    )
    doc = publish_value(res, "public").document()
    assert "withheld" in doc["summary"]["results"][0]
    assert doc["main"][0]["crimes_averted"] is None or pd.isna(doc["main"][0]["crimes_averted"])
    assert "3 averted" not in json.dumps(doc)
    internal = publish_value(res, "internal").document()
    assert internal["summary"]["results"][0]["words"] == ["3 averted"]


def test_report_section(value_store, tmp_path):
    ctx_args = ("Kent", date(2025, 1, 1), date(2025, 12, 1))
    with Store.open(value_store, read_only=True) as store:
        with pytest.raises(NotApplicable, match="recorded cost and a start month"):
            section.build(ReportContext(store, *ctx_args))
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "costed.yaml").write_text(REGISTER, encoding="utf-8")
    db = tmp_path / "costed.duckdb"
    db.write_bytes(value_store.read_bytes())
    assert main(["schemes", str(folder / "costed.yaml"), "--db", str(db), "--quiet"]) == 0
    with Store.open(db, read_only=True) as store:
        sec = section.build(ReportContext(store, *ctx_args, audience="public"))
    assert "Hang 10 costed" in sec.html and "benefit-cost ratio" in sec.html.lower()
    assert sec.disclosure_checked
    (table,) = sec.tables.values()
    assert "benefit-cost ratio" in table.columns and len(table) >= 2
