"""Value for money of an evaluated scheme: what its estimated effect is worth against its cost.

From one evaluation (``run.run_scheme``, the same run as ``harmscope evaluate``), per method:

* **crimes averted** over the post period = counterfactual - observed = O (1/IRR - 1), with O
  the treated areas' observed count after the start. Its 95% interval maps the IRR's interval
  endpoints through that formula (decreasing in IRR, so the IRR's upper end gives the lower
  end). The map is monotone, so the interval covers the truth exactly when the IRR interval
  does: no normal approximation, no simulation. O is treated as known (it is counted).
* **harm averted** = crimes averted x the volume-weighted severity weight of the target
  crimes (sentence-days per crime, the weight the evaluation used).
* **pounds averted** = crimes averted x the unit cost of a crime (Home Office *Economic and
  social costs of crime*, 2018, via ``analysis.costs``; volume-weighted over several
  categories). The unit cost's own low-high range is a separate sensitivity, not folded into
  the interval (the interval is sampling error only).
* **cost per crime / per harm unit averted** = cost / averted, with the interval from the
  averted interval's ends; when that interval reaches zero (no effect) the upper end is
  unbounded and is said so in words, never written as infinity.
* **benefit-cost ratio** (BCR) = pounds averted / cost, with its interval (linear in crimes
  averted, so it is defined even when the interval includes harm done).
* **break-even**: the IRR at which pounds averted equal the cost, IRR* = O / (O + cost / u),
  i.e. a cut of 1 - IRR* in the counterfactual count; for a scheme with no detectable change
  it is set beside the design's minimum detectable effect. Without a recorded cost: the
  break-even cost (the cost at which the BCR would be 1) = pounds averted, with its interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

HARM_UNIT = "sentence-days"
VIOLENCE = ("Violence and sexual offences",)


# -- arithmetic --------------------------------------------------------------------------------
def averted(observed_post: float, irr: float | None) -> float | None:
    """Crimes averted, O (1/IRR - 1); None for an IRR of 0 (unbounded) or none at all."""
    if (
        irr is None
        or not math.isfinite(observed_post)
        or (isinstance(irr, float) and math.isnan(irr))
    ):
        return None
    if irr <= 0:
        return None  # every crime would have been averted many times over: unbounded
    if math.isinf(irr):
        return -float(observed_post)
    return float(observed_post) * (1.0 / irr - 1.0)


def averted_interval(observed_post: float, irr_ci) -> list[float | None]:
    """[low, high] crimes averted from the IRR interval [lo, hi] (the IRR's hi gives the low)."""
    lo, hi = irr_ci
    return [averted(observed_post, hi), averted(observed_post, lo)]


def _scale(values, factor: float | None) -> list[float | None] | float | None:
    if factor is None:
        return None if not isinstance(values, list) else [None, None]
    if isinstance(values, list):
        return [None if v is None else v * factor for v in values]
    return None if values is None else values * factor


def cost_per(cost: float, central: float | None, interval) -> tuple[float | None, list, str]:
    """cost / averted and its interval [cost / high, cost / low], with the reason in words
    where it is undefined (no reduction estimated) or unbounded (the interval reaches zero)."""
    lo, hi = interval
    point = cost / central if central is not None and central > 0 else None
    low = cost / hi if hi is not None and hi > 0 else None
    high = cost / lo if lo is not None and lo > 0 else None
    if point is None:
        why = "not defined: the estimate is no reduction"
    elif high is None:
        why = "no upper limit: the interval includes no effect"
    else:
        why = ""
    return point, [low, high], why


def break_even_irr(observed_post: float, cost: float, unit_cost: float) -> float | None:
    """The IRR at which crimes averted x unit cost = cost: O / (O + cost / unit_cost)."""
    if not unit_cost or unit_cost <= 0 or observed_post <= 0:
        return None
    return observed_post / (observed_post + cost / unit_cost)


# -- one method's row ---------------------------------------------------------------------------
def value_row(
    est: dict,
    observed_post: float,
    *,
    cost: float | None,
    unit_cost: dict | None,
    harm_weight: float | None,
    outcome: str = "violence",
) -> dict:
    """Value for money of one method's estimate ``est`` (method, irr, irr_ci, p_value, mde,
    verdict), from the treated areas' observed count after the start."""
    row = {k: est.get(k) for k in ("method", "irr", "irr_ci", "p_value", "mde", "verdict")}
    row["observed_post"] = float(observed_post)
    irr, ci = est.get("irr"), est.get("irr_ci")
    if irr is None or ci is None:
        row["words"] = [
            f"No value for money: the method gave no estimate ({est.get('error') or 'not run'})."
        ]
        return row
    row["detectable"] = est.get("p_value") is not None and est["p_value"] < 0.05
    row["crimes_averted"] = averted(observed_post, irr)
    row["crimes_averted_ci"] = averted_interval(observed_post, ci)
    row["harm_averted"] = _scale(row["crimes_averted"], harm_weight)
    row["harm_averted_ci"] = _scale(row["crimes_averted_ci"], harm_weight)
    u = unit_cost["gbp"] if unit_cost else None
    row["pounds_averted"] = _scale(row["crimes_averted"], u)
    row["pounds_averted_ci"] = _scale(row["crimes_averted_ci"], u)
    if unit_cost and row["crimes_averted"] is not None:
        row["pounds_averted_unit_cost_range"] = sorted(
            row["crimes_averted"] * unit_cost[k] for k in ("low", "high")
        )
    if cost:
        _with_cost(row, cost, u, unit_cost)
    elif u:
        row["break_even_cost_gbp"] = row["pounds_averted"]
        row["break_even_cost_gbp_ci"] = row["pounds_averted_ci"]
    row["words"] = row_words(row, cost, outcome)
    return row


def _with_cost(row: dict, cost: float, u: float | None, unit_cost: dict | None) -> None:
    row["cost_per_crime_averted"], row["cost_per_crime_averted_ci"], row["cost_per_crime_note"] = (
        cost_per(cost, row["crimes_averted"], row["crimes_averted_ci"])
    )
    if row["harm_averted"] is not None:
        row["cost_per_harm_averted"], row["cost_per_harm_averted_ci"], row["cost_per_harm_note"] = (
            cost_per(cost, row["harm_averted"], row["harm_averted_ci"])
        )
    if not u:
        return
    row["bcr"] = _scale(row["pounds_averted"], 1 / cost)
    row["bcr_ci"] = _scale(row["pounds_averted_ci"], 1 / cost)
    if "pounds_averted_unit_cost_range" in row:
        row["bcr_unit_cost_range"] = [p / cost for p in row["pounds_averted_unit_cost_range"]]
    be = break_even_irr(row["observed_post"], cost, u)
    row["break_even_irr"] = be
    row["break_even_reduction"] = None if be is None else 1 - be
    if unit_cost:
        # a dearer crime needs a smaller cut to pay: the high unit cost gives the low end
        ends = [break_even_irr(row["observed_post"], cost, unit_cost[k]) for k in ("high", "low")]
        row["break_even_reduction_unit_cost_range"] = [None if e is None else 1 - e for e in ends]


# -- words ----------------------------------------------------------------------------------------
def _n(x: float | None) -> str:
    return "unbounded" if x is None else f"{x:,.0f}"


def _gbp(x: float | None) -> str:
    if x is None:
        return "no limit"
    return f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"


def _ratio(x: float | None) -> str:
    return "unbounded" if x is None else f"{x:.2f}"


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:.1f}%" if abs(x) < 0.1 else f"{x * 100:.0f}%"


def row_words(row: dict, cost: float | None, outcome: str) -> list[str]:
    """Plain sentences for a board: what was averted, what it cost, whether it paid."""
    lo, hi = row["crimes_averted_ci"]
    out = [
        f"Crimes averted: {_n(row['crimes_averted'])} (95% CI {_n(lo)} to {_n(hi)}; "
        "a negative number means more crimes than expected)."
    ]
    if row.get("harm_averted") is not None:
        hl, hh = row["harm_averted_ci"]
        out.append(
            f"Harm averted: {_n(row['harm_averted'])} {HARM_UNIT} (95% CI {_n(hl)} to {_n(hh)})."
        )
    if row.get("pounds_averted") is not None:
        pl, ph = row["pounds_averted_ci"]
        out.append(
            f"Cost of crime avoided: {_gbp(row['pounds_averted'])} (95% CI {_gbp(pl)} to {_gbp(ph)})."
        )
    else:
        out.append("Cost of crime avoided: not computed (no unit cost for these crimes).")
    out += _cost_words(row, cost) if cost else _no_cost_words(row)
    out += _break_even_words(row, outcome)
    return out


def _cost_words(row: dict, cost: float) -> list[str]:
    out = []
    for key, unit in (("crime", "crime"), ("harm", f"{HARM_UNIT[:-1]}")):
        point = row.get(f"cost_per_{key}_averted")
        if f"cost_per_{key}_averted_ci" not in row:
            continue
        why = row.get(f"cost_per_{key}_note")
        if point is None:
            out.append(f"Cost per {unit} averted: {why}.")
            continue
        lo, hi = row[f"cost_per_{key}_averted_ci"]
        tail = f"; {why}" if why else ""
        out.append(
            f"Cost per {unit} averted: {_gbp(point)} (95% CI {_gbp(lo)} to {_gbp(hi)}{tail})."
        )
    if row.get("bcr") is not None:
        lo, hi = row["bcr_ci"]
        paid = (
            "it paid for itself"
            if lo is not None and lo > 1
            else "it did not pay for itself"
            if hi is not None and hi < 1
            else "the interval includes both paying for itself and not"
        )
        bought = (
            f"each £1 spent bought £{row['bcr']:.2f} of crime costs avoided, if the estimate is right"
            if row["bcr"] >= 0
            else "below zero because the estimate is more crime than expected, not less"
        )
        out.append(
            f"Benefit-cost ratio: {row['bcr']:.2f} (95% CI {_ratio(lo)} to {_ratio(hi)}): {bought}; {paid}."
        )
    return out


def _no_cost_words(row: dict) -> list[str]:
    if row.get("break_even_cost_gbp") is None:
        return ["The scheme's cost is not recorded: no cost per crime or benefit-cost ratio."]
    lo, hi = row["break_even_cost_gbp_ci"]
    return [
        "The scheme's cost is not recorded, so only benefits are given. It would pay for "
        f"itself if it cost less than {_gbp(row['break_even_cost_gbp'])} (the break-even "
        f"cost; 95% CI {_gbp(lo)} to {_gbp(hi)}; a figure below zero means the estimate is "
        "more crime, which no cost can pay back)."
    ]


def _break_even_words(row: dict, outcome: str) -> list[str]:
    need = row.get("break_even_reduction")
    if need is None:
        return []
    text = f"To break even it would need to cut {outcome} by {_pct(need)}"
    rng = row.get("break_even_reduction_unit_cost_range")
    if rng and None not in rng:
        text += f" ({_pct(rng[0])} to {_pct(rng[1])} over the unit cost's low-high range)"
    mde = row.get("mde")
    if row.get("detectable") or mde is None or (isinstance(mde, float) and math.isnan(mde)):
        return [text + "."]
    text += f", but the smallest effect this evaluation can detect is {_pct(mde)}"
    if need < mde:
        text += (
            ": an effect large enough to pay for the scheme could go unseen here, so "
            "'no detectable change' does not show that it failed to pay."
        )
    else:
        text += (
            ": an effect that large would probably (80% power) have been detected, and none "
            "was, so the scheme is unlikely to have paid for itself through these crimes alone."
        )
    return [text]


# -- unit costs -----------------------------------------------------------------------------------
def unit_cost_for(
    crime_types,
    unit_costs: pd.DataFrame | None = None,
    *,
    volumes: dict[str, float] | None = None,
    price_year=None,
    costs_file=None,
) -> tuple[dict | None, str]:
    """The unit cost of one crime of ``crime_types`` (volume-weighted by ``volumes`` when
    several), from ``unit_costs`` or ``analysis.costs.unit_costs()``; (None, why) when a
    category has no cost."""
    if unit_costs is None:
        try:
            from harmscope.analysis.costs import unit_costs as load
        except ImportError:
            return None, "the unit-cost table (harmscope.analysis.costs) is not available"
        unit_costs = load(price_year=price_year, costs_file=costs_file)
    tbl = unit_costs.set_index("category")
    missing = [c for c in crime_types if c not in tbl.index]
    if missing:
        return None, f"no unit cost for {', '.join(missing)} in the costs table"
    rows = tbl.loc[list(crime_types)]
    if "costed" in rows and not rows["costed"].fillna(False).astype(bool).all():
        bad = rows.index[~rows["costed"].fillna(False).astype(bool)]
        return None, f"no published unit cost for {', '.join(bad)}"
    w = pd.Series({c: float((volumes or {}).get(c, 1.0)) for c in crime_types})
    if w.sum() <= 0:
        w[:] = 1.0
    w = w / w.sum()
    mix = lambda col: float((rows[col].astype(float) * w).sum())  # noqa: E731
    years = sorted({str(y) for y in rows["price_year"].dropna()})  # '2015/16' or 2018
    return {
        "gbp": mix("unit_cost_gbp"),
        "low": mix("unit_cost_low"),
        "high": mix("unit_cost_high"),
        "price_year": years[0] if len(years) == 1 else years,
        "categories": list(crime_types),
        "weights": {c: round(float(v), 4) for c, v in w.items()},
        "source": "; ".join(sorted({str(s) for s in rows["source"].dropna()})),
        "status": "; ".join(
            f"{c}: {t}" for c, t in rows.get("status", pd.Series(dtype=str)).dropna().items()
        ),
        "derivation": "; ".join(
            f"{c}: {d}" for c, d in rows.get("derivation", pd.Series(dtype=str)).dropna().items()
        ),
    }, ""


# -- the analysis over the store ---------------------------------------------------------------
def observed_post(res: Result, method: str) -> float | None:
    """The treated areas' observed count from the start, from the evaluation's series."""
    s = res.tables.get(f"{method}_series")
    if not isinstance(s, pd.DataFrame):
        return None
    start = pd.Timestamp(res.summary["start"])
    return float(s.loc[pd.to_datetime(s["month"]) >= start, "observed"].sum())


def harm_weight_of(res: Result) -> float | None:
    """The severity weight per crime the evaluation used (harm averted / crimes averted)."""
    for r in res.summary["results"]:
        c, h = r.get("crimes_averted"), r.get("harm_averted")
        if c and h is not None:
            return float(h) / float(c)
    return None


def _volumes(store, crime_types) -> dict[str, float] | None:
    if len(crime_types) < 2:
        return None
    from harmscope.store.queries.evaluation import count_panel

    return {
        c: float(count_panel(store, unit="district", crime_types=[c])["count"].sum())
        for c in crime_types
    }


def _evaluate(store, scheme: str, cost, kwargs: dict) -> Result:
    """The scheme's evaluation by the evaluate command's own run (an open interval, e.g. a
    synthetic control's IRR 0 to infinity, is kept: :func:`averted` says it bounds nothing)."""
    from harmscope.analysis.evaluation.run import run_scheme

    methods = tuple(kwargs.pop("methods", None) or ("did", "synth", "its"))
    return run_scheme(store, scheme=scheme, cost=cost, methods=methods, **kwargs)


def value_for_money(
    store,
    *,
    scheme: str,
    cost_gbp: float | None = None,
    price_year=None,
    costs_file=None,
    unit_costs: pd.DataFrame | None = None,
    **evaluate_kwargs,
) -> Result:
    """Value for money of a register scheme: its evaluation (``run.run_scheme``; keywords such
    as ``start``, ``end``, ``methods``, ``plant``, ``seed`` pass through), then per method the
    crimes, harm and pounds averted, cost per unit averted, BCR and break-even (module doc)."""
    from harmscope.sources.register import load_schemes

    s = load_schemes(store, [scheme])[0]
    cost = cost_gbp if cost_gbp is not None else s["cost_gbp"]
    if cost is not None and (not math.isfinite(cost) or cost < 0):
        raise HarmscopeError(
            f"cost {cost} is not a sum of money",
            where="--cost",
            fix="give pounds, e.g. --cost 120000",
        )
    cost_source = (
        "given for this run, not the register's"
        if cost_gbp is not None
        else "the register"
        if cost
        else None
    )
    res = _evaluate(store, s["name"], cost, dict(evaluate_kwargs))
    notes: list[str] = []
    if evaluate_kwargs.get("start") and not s["start"]:
        notes.insert(
            0,
            f"The start month {res.summary['start'][:7]} was given for this run; the register has none.",
        )
    crime_types = tuple(s["crime_types"] or VIOLENCE)
    uc, why = unit_cost_for(
        crime_types,
        unit_costs,
        volumes=_volumes(store, crime_types),
        price_year=price_year,
        costs_file=costs_file,
    )
    return build_result(
        res, cost=cost, cost_source=cost_source, unit_cost=uc, unit_cost_gap=why, notes=notes
    )


def build_result(
    res: Result,
    *,
    cost: float | None,
    cost_source: str | None,
    unit_cost: dict | None,
    unit_cost_gap: str = "",
    notes: list[str] | None = None,
) -> Result:
    """The value-for-money Result from an evaluation Result."""
    outcome = (
        "violence" if tuple(res.summary["crime_types"].split(", ")) == VIOLENCE else "these crimes"
    )
    weight = harm_weight_of(res)
    rows = []
    for est in res.summary["results"]:
        obs = observed_post(res, est["method"])
        if obs is None:
            continue
        rows.append(
            value_row(est, obs, cost=cost, unit_cost=unit_cost, harm_weight=weight, outcome=outcome)
        )
    notes = list(notes or []) + list(res.notes)
    if not cost:
        notes.insert(0, "The scheme's cost is not recorded: benefits and the break-even cost only.")
    if unit_cost is None:
        notes.insert(0, f"Pounds not computed: {unit_cost_gap}.")
    else:
        notes.append(_unit_cost_note(unit_cost))
    summary = {
        "scheme": res.summary["scheme"],
        "start": res.summary["start"],
        "crime_types": res.summary["crime_types"],
        "cost_gbp": cost,
        "cost_recorded": bool(cost),
        "cost_source": cost_source,
        "unit_cost": unit_cost,
        "harm_weight": weight,
        "harm_unit": HARM_UNIT,
        "results": rows,
    }
    if "planted_irr" in res.summary:
        summary["planted_irr"] = res.summary["planted_irr"]
    return Result(
        table=flat_table(rows),
        summary=summary,
        method=method_text(unit_cost),
        tables={k: v for k, v in res.tables.items() if k.endswith("_series")},
        notes=notes,
    )


def _unit_cost_note(uc: dict) -> str:
    text = (
        f"Unit cost of one crime: £{uc['gbp']:,.0f} in {uc['price_year']} prices; the "
        f"sensitivity range £{uc['low']:,.0f} to £{uc['high']:,.0f} is the costs table's own "
        "low-high range for the category (for a mixed category such as violence, from its "
        "cheapest to its dearest offence, so it is very wide)."
    )
    if len(uc.get("weights") or {}) > 1:
        mix = ", ".join(f"{c} {w:.0%}" for c, w in uc["weights"].items())
        text += f" Several target categories: their unit costs weighted by their volumes in the store ({mix})."
    if uc.get("derivation"):
        text += f" How it was made: {uc['derivation']}."
    if uc.get("status"):
        text += f" Status: {uc['status']}."
    return text


FLAT = (
    "crimes_averted",
    "harm_averted",
    "pounds_averted",
    "cost_per_crime_averted",
    "cost_per_harm_averted",
    "bcr",
    "break_even_cost_gbp",
)


def flat_table(rows: list[dict]) -> pd.DataFrame:
    """One row per method; each interval as _low and _high columns."""
    out = []
    for r in rows:
        d = {k: r.get(k) for k in ("method", "irr", "p_value", "mde", "observed_post")}
        for k in FLAT:
            d[k] = r.get(k)
            lo, hi = r.get(f"{k}_ci") or [None, None]
            d[f"{k}_low"], d[f"{k}_high"] = lo, hi
        d["break_even_reduction"] = r.get("break_even_reduction")
        out.append(d)
    return pd.DataFrame(out)


def method_text(unit_cost: dict | None) -> str:
    src = (
        f"Unit cost per crime £{unit_cost['gbp']:,.0f} (range £{unit_cost['low']:,.0f} to "
        f"£{unit_cost['high']:,.0f}; price year {unit_cost['price_year']}; {unit_cost['source']})."
        if unit_cost
        else "No unit cost: pounds, BCR and break-even not computed."
    )
    return (
        "Value for money from the scheme's evaluation (harmscope evaluate, same run). Crimes "
        "averted = observed count after the start x (1/IRR - 1); its 95% interval maps the "
        "IRR interval's ends (a monotone map, so it covers the truth exactly when the IRR "
        "interval does; checked on planted effects, docs/value_for_money.md). Harm averted = "
        f"crimes averted x the target crimes' mean severity weight ({HARM_UNIT}). Pounds = "
        "crimes averted x the unit cost of a crime; the unit cost's low-high range is shown "
        "separately as a sensitivity, not in the interval. Cost per crime or harm unit "
        "averted = cost / averted (no upper limit when the interval reaches no effect). "
        "Benefit-cost ratio = pounds averted / cost. Break-even IRR = O / (O + cost / unit "
        "cost). " + src + " Intervals cover sampling error only: not error in the weights, "
        "the unit costs or the design's assumptions (no other change at the start, no "
        "spillover); benefits count only the target crimes in the scheme's areas."
    )


# -- simulation check: do the intervals cover a planted truth? --------------------------------
SIM_COST = 100_000.0  # a known scheme cost for the check (an input of the simulation)
SIM_UNIT_COST = {"gbp": 5_000.0, "low": 4_000.0, "high": 6_000.0, "price_year": 2018}


def _sim_its(rng, irr: float, level: float, rho: float, sigma: float):
    """One ITS scheme: the counterfactual counts y0 (Poisson around an AR(1) level), the
    observed y1 (y0 thinned binomially after the start: a planted IRR), the fit."""
    from harmscope.analysis.evaluation.coverage import MONTHS, ar1
    from harmscope.analysis.evaluation.its import its_fit

    n = len(MONTHS)
    k = int(rng.integers(6, n - 2))
    y0 = rng.poisson(level * np.exp(ar1(rng, n, rho, sigma)))
    y1 = y0.copy()
    y1[k:] = rng.binomial(y0[k:], irr)
    fit = its_fit(pd.DataFrame({"month": MONTHS, "count": y1.astype(float)}), MONTHS[k])
    return fit, float(y1[k:].sum()), float((y0[k:] - y1[k:]).sum())


def _sim_did(rng, irr: float, g1: int):
    """One DiD scheme: g1 treated and 3 g1 comparison areas (the panel of coverage.did_panel,
    with the effect planted by binomial thinning of the treated post counts)."""
    from harmscope.analysis.evaluation.coverage import MONTHS, did_panel
    from harmscope.analysis.evaluation.did import did_fit

    y0, X, area, month = did_panel(rng, g1, 3 * g1, 1.0, n_months=len(MONTHS), start=10)
    treated_post = (area < g1) & (month >= 10)
    y1 = y0.copy()
    y1[treated_post] = rng.binomial(y0[treated_post].astype(np.int64), irr)
    panel = pd.DataFrame({"area": [f"a{a:03d}" for a in area], "month": MONTHS[month], "count": y1})
    treated = [f"a{a:03d}" for a in range(g1)]
    comps = [f"a{a:03d}" for a in range(g1, 4 * g1)]
    fit = did_fit(panel, treated, comps, MONTHS[10], check_pre_trend=False)
    return fit, float(y1[treated_post].sum()), float((y0 - y1)[treated_post].sum())


def simulate_coverage(
    n_runs: int,
    *,
    design: str = "its",
    irr: float = 0.8,
    seed: int = 0,
    level: float = 200.0,
    rho: float = 0.3,
    sigma: float = 0.08,
    g1: int = 10,
) -> pd.DataFrame:
    """One row per simulated scheme with a planted IRR: whether the 95% intervals of crimes
    averted and of the BCR (at the known SIM_COST and SIM_UNIT_COST) cover the truth.

    Two truths: ``expected`` = O (1/IRR - 1), the quantity the estimate targets given the
    observed count O; ``realised`` = the crimes the thinning actually removed (that plus the
    counterfactual's own Poisson noise, which no evaluation can see)."""
    from harmscope.analysis.evaluation._threads import single_thread

    rng = np.random.default_rng(seed)
    rows = []
    with single_thread():
        for i in range(n_runs):
            if design == "its":
                fit, obs, removed = _sim_its(rng, irr, level, rho, sigma)
            else:
                fit, obs, removed = _sim_did(rng, irr, g1)
            r = value_row(fit, obs, cost=SIM_COST, unit_cost=SIM_UNIT_COST, harm_weight=None)
            lo, hi = r["crimes_averted_ci"]
            b_lo, b_hi = r["bcr_ci"]
            expected = obs * (1 / irr - 1)
            rows.append(
                {
                    "run": i,
                    "observed_post": obs,
                    "averted_est": r["crimes_averted"],
                    "averted_expected": expected,
                    "averted_realised": removed,
                    "covers_expected": _inside(expected, lo, hi),
                    "covers_realised": _inside(removed, lo, hi),
                    "bcr_true": removed * SIM_UNIT_COST["gbp"] / SIM_COST,
                    "bcr_covers_realised": _inside(
                        removed * SIM_UNIT_COST["gbp"] / SIM_COST, b_lo, b_hi
                    ),
                    "irr_covers": fit["irr_ci"][0] <= irr <= fit["irr_ci"][1],
                }
            )
    return pd.DataFrame(rows)


def _inside(x: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or lo <= x) and (hi is None or x <= hi)


def coverage_summary(runs: pd.DataFrame) -> dict:
    """Each coverage rate with its Monte Carlo standard error and Wilson interval."""
    from harmscope.analysis.evaluation.coverage import rate

    return {
        c: rate(int(runs[c].sum()), len(runs))
        for c in ("covers_expected", "covers_realised", "bcr_covers_realised", "irr_covers")
    }
