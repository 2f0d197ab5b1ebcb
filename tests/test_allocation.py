"""CSP funding allocation (`harmscope allocate`, analysis.allocation) on the real Kent store:
amounts add up to the budget to the penny, shares follow the stated formula (recomputed here
independently from the packaged files and the store's rows), weights move amounts the right
way, floors and damping hold, ranges contain the central amount, and the JSON contract."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.analysis.allocation import (
    COMPONENTS,
    RAW_COLUMN,
    allocate,
    allocate_frame,
    constrained_amounts,
    load_component_weights,
    round_pennies,
)
from harmscope.cli import app
from harmscope.errors import HarmscopeError
from harmscope.reference._files import PACKAGED

BUDGET = 1_000_000.0
PERIOD = {"date_from": "2025-01", "date_to": "2025-12"}


@pytest.fixture(scope="module")
def central(kent_store):
    return allocate(kent_store, budget=BUDGET, area="Kent Police", **PERIOD)


def test_amounts_add_up_to_the_budget_to_the_penny(central):
    t = central.table
    assert len(t) == 13  # 12 Kent district CSPs and Medway; the county-wide CSP is an umbrella
    assert "Kent Community Safety Partnership" not in set(t.csp)
    assert round(t.amount.sum() * 100) == round(BUDGET * 100)
    assert np.allclose(t.amount * 100, np.round(t.amount * 100))  # whole pennies
    assert t.share.sum() == pytest.approx(1.0, abs=1e-12)
    assert central.summary["total_allocated"] == BUDGET


def _independent_components() -> pd.DataFrame:
    """The five components per Kent and Medway district, from the packaged files with plain
    pandas (not the library's loaders)."""
    lsoa = pd.read_csv(PACKAGED / "geography/lsoa11.csv.gz")
    lad = pd.read_csv(PACKAGED / "geography/lad.csv")
    kent = lad.loc[lad.force == "Kent Police", "lad_code"]
    lsoa = lsoa[lsoa.lad_code.isin(kent)]
    pop = lsoa.population_2019
    out = pd.DataFrame(
        {
            "population": pop.groupby(lsoa.lad_code).sum(),
            "deprived_population": pop.where(lsoa.imd_decile <= 2, 0).groupby(lsoa.lad_code).sum(),
            "rural_population": pop.where(lsoa.ruc11_code.str[0].isin(["D", "E"]), 0)
            .groupby(lsoa.lad_code)
            .sum(),
        }
    )
    ages = pd.read_csv(PACKAGED / "population/lad_age_2019.csv.gz").set_index("lad_code")
    out["young_people"] = ages.loc[out.index, [f"age_{a}" for a in range(10, 25)]].sum(axis=1)
    return out


def _independent_harm(store) -> pd.Series:
    """CSS harm per district in 2025: the store's rows counted by category, weighted by the
    packaged CSS table."""
    counts = store.query(
        "SELECT lad_code, crime_type, count(*) AS n FROM street_crimes "
        "WHERE month BETWEEN DATE '2025-01-01' AND DATE '2025-12-01' AND lad_code IS NOT NULL "
        "GROUP BY 1, 2"
    )
    w = pd.read_csv(PACKAGED / "offences/weights_css.csv")
    w = w[w.level == "category"].set_index("key").weight
    counts["harm"] = counts.n * counts.crime_type.map(w)
    assert counts.harm.notna().all()
    return counts.groupby("lad_code").harm.sum()


def test_shares_match_an_independent_computation_of_the_formula(central, kent_store):
    comp = _independent_components()
    comp["harm"] = _independent_harm(kent_store).reindex(comp.index)
    weights = {
        "harm": 0.40,
        "population": 0.20,
        "young_people": 0.15,
        "deprivation": 0.15,
        "rurality": 0.10,
    }
    cols = {
        "harm": "harm",
        "population": "population",
        "young_people": "young_people",
        "deprivation": "deprived_population",
        "rurality": "rural_population",
    }
    need = sum(weights[k] * comp[c] / comp[c].sum() for k, c in cols.items())
    t = central.table.set_index("lad_codes")  # every Kent CSP is one district
    assert not t.floor_binding.any()  # the default floor (50% of equal) binds nowhere here
    assert t.loc[need.index, "need_share"].to_numpy() == pytest.approx(need.to_numpy(), abs=1e-9)
    assert t.loc[need.index, "amount"].to_numpy() == pytest.approx(
        (need * BUDGET).to_numpy(), abs=0.011
    )
    # the per-head comparison is the residents' split
    per_head = comp.population / comp.population.sum() * BUDGET
    assert t.loc[per_head.index, "per_head_amount"].to_numpy() == pytest.approx(
        per_head.to_numpy(), abs=0.011
    )


@pytest.mark.parametrize("component", COMPONENTS)
def test_raising_a_weight_moves_amounts_the_right_way(central, component):
    """With weights rescaled, d need_i / d w_k = (s_ik - need_i) / Σw: raising a weight moves
    money to every CSP whose share of that component is above its need share, and away from
    every CSP below it. (So "the CSP with the largest share of the component gains" holds
    exactly when that share is above its need share: Medway has the largest population but
    its need share, 16.2%, is above its population share, 15.0%, so more weight on
    population lowers it. The CSP furthest above gains most.)"""
    comp = central.tables["components"]
    w = dict(
        zip(central.tables["weights"].component, central.tables["weights"].weight, strict=True)
    )
    base = allocate_frame(comp, w, BUDGET)
    raised = allocate_frame(comp, {**w, component: w[component] * 1.5}, BUDGET).amount
    gap = comp[f"share_{component}"] - base.need_share
    move = raised - base.amount
    clear = gap.abs() > 1e-4  # a gap of 0.01 points moves a few pounds: above rounding
    assert (np.sign(move[clear]) == np.sign(gap[clear])).all()
    assert move.idxmax() == gap.idxmax() and move.idxmin() == gap.idxmin()
    assert raised.sum() == pytest.approx(BUDGET, abs=1e-6)


def test_a_weight_given_to_the_store_run_moves_harm_leader_up(central, kent_store):
    wt = load_component_weights(harm=0.8)
    res = allocate(kent_store, budget=BUDGET, area="Kent Police", weights=wt, **PERIOD)
    comp = central.tables["components"]
    top = comp.loc[comp.share_harm.idxmax(), "csp"]
    bottom = comp.loc[comp.share_harm.idxmin(), "csp"]
    before = central.table.set_index("csp").amount
    after = res.table.set_index("csp").amount
    assert after[top] > before[top] and after[bottom] < before[bottom]


def test_floors_are_respected_and_the_budget_still_spent(central):
    comp = central.tables["components"]
    w = dict(
        zip(central.tables["weights"].component, central.tables["weights"].weight, strict=True)
    )
    out = allocate_frame(comp, w, BUDGET, floor_pct=95)
    floor = BUDGET / len(comp) * 0.95
    assert (out.amount >= floor - 0.01).all()
    assert out.floor_binding.any()  # 95% of equal binds for the smallest CSPs
    assert round(out.amount.sum() * 100) == round(BUDGET * 100)
    # the CSPs above their floor keep their need ratios (they share the rest by need)
    free = ~out.floor_binding
    ratio = out.amount[free] / out.need_share[free]
    assert ratio.max() / ratio.min() == pytest.approx(1.0, abs=1e-6)


def test_damping_holds_each_share_near_the_current_one(central, kent_store, tmp_path):
    names = list(central.table.csp)
    current = tmp_path / "current.csv"
    pd.DataFrame({"csp": names, "amount": [BUDGET / len(names) * 0.8] * len(names)}).to_csv(
        current, index=False
    )  # an equal split of a smaller budget: rescaled, each current share is 1/13
    res = allocate(
        kent_store, budget=BUDGET, area="Kent Police", current=current, damping_pct=10, **PERIOD
    )
    t = res.table
    assert round(t.amount.sum() * 100) == round(BUDGET * 100)
    assert (t.share <= 1 / 13 * 1.10 + 1e-8).all() and (t.share >= 1 / 13 * 0.90 - 1e-8).all()
    assert t.cap_binding.any() and t.floor_binding.any()
    assert t.change_from_current.to_numpy() == pytest.approx(
        (t.amount - t.current_amount).to_numpy(), abs=0.006
    )
    # a CSP missing from the current allocation is an error that names it
    pd.DataFrame({"csp": names[1:], "amount": 1}).to_csv(current, index=False)
    with pytest.raises(HarmscopeError, match="missing"):
        allocate(kent_store, budget=BUDGET, area="Kent Police", current=current, **PERIOD)


def test_ranges_contain_the_central_amount_and_come_from_the_scenarios(central):
    t = central.table
    assert (t.amount_low <= t.amount).all() and (t.amount <= t.amount_high).all()
    assert (t.amount_high > t.amount_low).all()
    scen = central.tables["scenarios"]
    assert scen.scenario.nunique() == 2 * len(COMPONENTS) + 2  # central, ±25% each, CHI
    assert "harm weighted by CHI" in set(scen.scenario)
    for name, g in scen.groupby("scenario"):
        assert round(g.amount.sum() * 100) == round(BUDGET * 100), name
    rng = scen.groupby("csp").amount.agg(["min", "max"])
    assert t.set_index("csp").amount_low.equals(rng["min"].reindex(t.csp).rename("amount_low"))


def test_round_pennies_and_bisection_on_planted_cases():
    amounts = np.array([1 / 3, 1 / 3, 1 / 3]) * 100.0
    out = round_pennies(amounts, 100.0)
    assert out.sum() == pytest.approx(100.0) and sorted(out) == [33.33, 33.33, 33.34]
    raw = np.array([10.0, 1.0, 1.0])
    lower, upper = np.array([0.0, 3.0, 0.0]), np.array([6.0, np.inf, np.inf])
    a = constrained_amounts(raw, 12.0, lower, upper)
    # first capped at 6, second floored at 3; third gets the rest: 3
    assert a == pytest.approx([6.0, 3.0, 3.0], abs=1e-9)


def test_errors_name_the_option(kent_store, tmp_path):
    with pytest.raises(HarmscopeError, match="--budget"):
        allocate(kent_store, budget=-5, area="Kent Police", **PERIOD)
    with pytest.raises(HarmscopeError, match="floors and damping"):
        allocate_frame(
            pd.DataFrame({c: [1.0, 2.0] for c in RAW_COLUMN.values()}),
            dict.fromkeys(COMPONENTS, 1.0),
            100.0,
            floor_pct=50,
            damping_pct=0,
            current_share=np.array([0.9, 0.1]),
        )
    bad = tmp_path / "w.csv"
    bad.write_text("component,weight\nguns,1\n")
    with pytest.raises(HarmscopeError, match="unknown component"):
        load_component_weights(bad)


def test_json_contract(kent_store_path):
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "--budget",
            "1000000",
            "--from",
            "2025-01",
            "--to",
            "2025-12",
            "--json",
            "--db",
            str(kent_store_path),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    rows = doc["table"]
    assert len(rows) == 13
    assert {"csp", "share", "amount", "amount_low", "amount_high"} <= set(rows[0])
    assert round(sum(r["amount"] for r in rows) * 100) == 100_000_000
    assert all(r["amount_low"] <= r["amount"] <= r["amount_high"] for r in rows)
    assert doc["summary"]["budget"] == 1_000_000 and doc["method"]


def test_public_allocation_is_built_from_published_harm_and_report_section(kent_store):
    from harmscope.privacy.allocation import publish_allocation
    from harmscope.privacy.publishers import chart_drawn_from
    from harmscope.report.section import NotApplicable, ReportContext
    from harmscope.report.sections import allocation as section

    pub = publish_allocation(kent_store, "public", 5, budget=BUDGET, area="Kent Police", **PERIOD)
    assert pub.finished and not pub.dropped
    assert round(pub.tables["table"].amount.sum() * 100) == round(BUDGET * 100)
    assert any("district harm published to this audience" in n for n in pub.texts["notes"])
    ctx = ReportContext(kent_store, "Kent Police", date(2025, 1, 1), date(2025, 12, 1))
    with pytest.raises(NotApplicable, match="no budget"):
        section.build(ctx)
    ctx.options["allocation_budget"] = BUDGET
    sec = section.build(ctx)
    assert chart_drawn_from(sec.charts["allocation"], sec.tables["allocation"])
    assert sec.disclosure_checked and "£1,000,000" in sec.html


def test_units_for_other_forces_and_from_a_users_file(tmp_path):
    from harmscope.analysis.allocation import area_districts, csp_units

    _, essex = area_districts("Essex Police")
    units, notes = csp_units(essex)
    assert len(units) == len(essex) == 14  # one unit per district, announced
    assert all(n.endswith("(district)") for n in units.csp)
    assert any("treated as its own unit" in n for n in notes)
    _, kent = area_districts("Kent Police")
    rows = [("Dartford and Gravesham", "E07000107|E07000109")]
    rows += [(c, c) for c in kent if c not in ("E07000107", "E07000109")]
    f = tmp_path / "csps.csv"
    pd.DataFrame(rows, columns=["csp", "lad_codes"]).to_csv(f, index=False)
    units, _ = csp_units(kent, f)
    assert len(units) == 12
    assert units.set_index("csp").lad_codes["Dartford and Gravesham"] == ["E07000107", "E07000109"]
    pd.DataFrame(rows[1:], columns=["csp", "lad_codes"]).to_csv(f, index=False)
    with pytest.raises(HarmscopeError, match="in no CSP"):
        csp_units(kent, f)
