"""A synthetic force x year panel with a planted elasticity: always labelled synthetic.

It stands in for "officer numbers and violence in the 43 forces over 15 years" so that
``harmscope drivers`` can be checked against a truth it did not see:

- population: each area's population is drawn around the size of an English force (about
  1.4 million, spread like the real forces, 0.3 to 8 million) and grows slowly;
- the covariate (officer FTE) follows a national path shared by every area (cuts for eight
  years, then an uplift, as officer numbers did after 2010 and 2019), an area's own trend, and
  persistent shocks (AR(1), as a force's strength moves with its budget year after year);
- the outcome (violence) has its own national path (recording changes moved every force at
  once), an area's own level and trend, persistent area shocks (AR(1)), Poisson counting noise
  and, planted, ``elasticity`` x log(covariate per head, lagged ``lag`` periods);
- a placebo outcome shares the national path, levels and shocks but is not moved by the
  covariate, so its estimated "effect" must be null.

The area trends of the covariate and of the outcome are drawn independently: the simulation
checks the estimator's honesty when its assumptions hold (no confounding), not what happens
when they fail. That is what the placebo tests are for on real data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LABEL = "SYNTHETIC: harmscope.simulate.panel, planted elasticity"
# The recorded-crime table both simulators make (the shape ``harmscope drivers`` reads).
OUTCOME_COLUMNS = [
    "area_code",
    "area_name",
    "period",
    "period_start",
    "offence",
    "count",
    "population",
]


@dataclass
class SimulatedPanel:
    covariate: pd.DataFrame  # area_code, area_name, period, period_start, value
    outcome: pd.DataFrame  # area_code, area_name, period, period_start, offence, count, population
    elasticity: float
    lag: int
    label: str = LABEL


def simulate_panel(
    *,
    areas: int = 43,
    years: int = 15,
    elasticity: float = -0.2,
    lag: int = 1,
    seed: int = 0,
    first_year: int = 2008,
    shock_sd: float = 0.04,
    rho: float = 0.5,
    outcome: str = "violence",
    placebo: str = "placebo",
) -> SimulatedPanel:
    """One panel of ``areas`` x ``years`` financial years with ``elasticity`` planted."""
    rng = np.random.default_rng(seed)
    t = np.arange(years + lag)  # lag extra leading years so every kept year has its lagged x
    pop0 = np.exp(rng.normal(np.log(1.4e6), 0.55, areas)).clip(3e5, 8.5e6)
    growth = rng.normal(0.006, 0.003, areas)
    pop = pop0[:, None] * np.exp(growth[:, None] * t[None, :])

    # officers per head: ~ 200 per 100,000 with a national cut-then-uplift path
    cut_end = min(8, len(t) - 1)
    national_x = np.where(t <= cut_end, -0.025 * t, -0.025 * cut_end + 0.03 * (t - cut_end))
    x_level = rng.normal(np.log(200e-5), 0.15, areas)
    x_trend = rng.normal(0, 0.008, areas)
    x_shock = _ar1(rng, areas, len(t), 0.6, 0.03)
    log_x_rate = x_level[:, None] + national_x[None, :] + x_trend[:, None] * t + x_shock

    # violence per head: ~ 25 per 1,000 with a rising national (recording) path
    national_y = 0.06 * t + rng.normal(0, 0.02, len(t))
    y_level = rng.normal(np.log(25e-3), 0.25, areas)
    y_trend = rng.normal(0, 0.01, areas)
    lagged_x = np.full_like(log_x_rate, np.nan)
    lagged_x[:, lag:] = log_x_rate[:, : len(t) - lag] if lag else log_x_rate
    area_shock = _ar1(rng, areas, len(t), rho, shock_sd)
    log_y_rate = y_level[:, None] + national_y[None, :] + y_trend[:, None] * t + area_shock
    # centre the planted term on each area's mean so the planted value moves only the within-area path
    planted = elasticity * (lagged_x - np.nanmean(lagged_x, axis=1, keepdims=True))
    mean_v = pop * np.exp(log_y_rate + np.nan_to_num(planted))
    plc_level = rng.normal(np.log(8e-3), 0.3, areas)
    plc_shock = _ar1(rng, areas, len(t), rho, shock_sd)
    mean_p = pop * np.exp(
        plc_level[:, None] + national_y[None, :] + y_trend[:, None] * t + plc_shock
    )
    counts_v = rng.poisson(mean_v)
    counts_p = rng.poisson(mean_p)
    fte = np.exp(log_x_rate) * pop

    # the covariate starts ``lag`` years before the outcome, as a real series would, so the
    # first outcome year has its lagged covariate
    codes = [f"SYN{i + 1:02d}" for i in range(areas)]
    cov_rows, out_rows = [], []
    for i, code in enumerate(codes):
        name = f"Synthetic force {i + 1}"
        for j in range(len(t)):
            yr = first_year - lag + j
            period, start = f"{yr}/{(yr + 1) % 100:02d}", pd.Timestamp(yr, 4, 1)
            cov_rows.append((code, name, period, start, float(fte[i, j])))
            if j < lag:
                continue
            p = float(pop[i, j])
            out_rows.append((code, name, period, start, outcome, int(counts_v[i, j]), p))
            out_rows.append((code, name, period, start, placebo, int(counts_p[i, j]), p))
    cov = pd.DataFrame(
        cov_rows, columns=["area_code", "area_name", "period", "period_start", "value"]
    )
    out = pd.DataFrame(
        out_rows,
        columns=OUTCOME_COLUMNS,
    )
    return SimulatedPanel(cov, out, float(elasticity), int(lag))


def _ar1(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    e = rng.normal(0, sd, (n, t))
    out = np.empty_like(e)
    out[:, 0] = e[:, 0] / np.sqrt(max(1e-9, 1 - rho**2))  # stationary start
    for j in range(1, t):
        out[:, j] = rho * out[:, j - 1] + e[:, j]
    return out


def recovery(
    runs: int,
    *,
    seed: int = 0,
    elasticity: float = -0.2,
    areas: int = 43,
    years: int = 15,
    alpha: float = 0.05,
) -> dict:
    """Plant ``elasticity`` in ``runs`` panels and none in ``runs`` more; count how often the
    interval holds the truth (coverage, nominal 1 - alpha) and how often the null panels give a
    "clear association" (false-positive rate, nominal alpha), each with a Wilson interval."""
    from harmscope.analysis.drivers import drivers
    from harmscope.analysis.intervals import wilson

    covered = false_pos = lead_fp = placebo_fp = 0
    estimates, nulls = [], []
    for i in range(runs):
        for planted in (elasticity, 0.0):
            sim = simulate_panel(
                areas=areas, years=years, elasticity=planted, seed=seed + 2 * i + (planted == 0.0)
            )
            res = drivers(
                sim.covariate,
                sim.outcome,
                placebo="placebo",
                alpha=alpha,
                lags=0,
                charts=False,
                synthetic=True,
            )
            s = res.summary
            lo, hi = s["elasticity_ci"]
            if planted != 0.0:
                covered += lo <= planted <= hi
                estimates.append(s["elasticity"])
            else:
                false_pos += not (lo <= 0.0 <= hi)
                nulls.append(s["elasticity"])
            lead_fp += s["placebo_lead_p"] < alpha
            placebo_fp += s["placebo_outcome_p"] < alpha

    def rate(k, n):
        lo, hi = wilson(k, n)
        return k / n, [float(lo), float(hi)]

    cov, cov_ci = rate(covered, runs)
    fp, fp_ci = rate(false_pos, runs)
    lead, lead_ci = rate(lead_fp, 2 * runs)
    plc, plc_ci = rate(placebo_fp, 2 * runs)
    return {
        "runs": runs,
        "areas": areas,
        "years": years,
        "planted": elasticity,
        "seed": seed,
        "coverage": cov,
        "coverage_ci": cov_ci,
        "null_rate": fp,
        "null_rate_ci": fp_ci,
        "lead_false_alarm": lead,
        "lead_false_alarm_ci": lead_ci,
        "placebo_false_alarm": plc,
        "placebo_false_alarm_ci": plc_ci,
        "mean_estimate": float(np.mean(estimates)),
        "mean_null_estimate": float(np.mean(nulls)),
    }


def synthetic_outcome(
    covariate: pd.DataFrame,
    population: pd.Series,
    *,
    elasticity: float = 0.0,
    lag: int = 1,
    seed: int = 0,
    outcome: str = "Violence against the person",
    placebo: str = "Bicycle theft",
) -> pd.DataFrame:
    """A SYNTHETIC recorded-crime table for the areas and periods of a real covariate.

    ``population`` maps area_code to people (held constant). Violence per head follows the same
    model as :func:`simulate_panel` (own level and trend, a shared rising path, AR(1) shocks,
    Poisson noise) plus ``elasticity`` x the covariate per head ``lag`` periods earlier; the
    placebo is not moved by it. Periods without a lagged covariate are left out.
    """
    rng = np.random.default_rng(seed)
    cov = covariate.sort_values(["area_code", "period_start"]).copy()
    periods = sorted(cov.period_start.unique())[lag:]
    areas = sorted(cov.area_code.unique())
    n, t = len(areas), len(periods)
    national = 0.06 * np.arange(t) + rng.normal(0, 0.02, t)
    y_level = rng.normal(np.log(25e-3), 0.25, n)
    trend = rng.normal(0, 0.01, n)
    shock = _ar1(rng, n, t, 0.5, 0.04)
    p_level = rng.normal(np.log(2e-3), 0.3, n)
    p_shock = _ar1(rng, n, t, 0.5, 0.04)
    rows = []
    for i, code in enumerate(areas):
        a = cov[cov.area_code == code].set_index("period_start")
        pop = float(population[code])
        logx = np.log(a.value / pop)
        centre = logx.mean()
        name = str(a.area_name.iloc[0])
        for j, start in enumerate(periods):
            pos = list(a.index).index(start) if start in a.index else -1
            if pos < lag:
                continue
            xl = float(logx.iloc[pos - lag]) - centre
            mu = pop * np.exp(
                y_level[i] + national[j] + trend[i] * j + shock[i, j] + elasticity * xl
            )
            mp = pop * np.exp(p_level[i] + national[j] + trend[i] * j + p_shock[i, j])
            period = str(a.period.iloc[pos])
            rows.append(
                (code, name, period, pd.Timestamp(start), outcome, int(rng.poisson(mu)), pop)
            )
            rows.append(
                (code, name, period, pd.Timestamp(start), placebo, int(rng.poisson(mp)), pop)
            )
    return pd.DataFrame(
        rows,
        columns=OUTCOME_COLUMNS,
    )
