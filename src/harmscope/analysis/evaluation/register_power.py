"""Before money is spent: which registered schemes could be evaluated on police data at all?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.evaluation.design import resolve_design
from harmscope.analysis.evaluation.evaluate import (
    Panels,
    _panel_for,
    did_mde,
    load_panels,
    noise_model,
    synth_units,
)
from harmscope.analysis.evaluation.power import mde_from_se, robust_sd
from harmscope.analysis.evaluation.synth import synth_fit
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError


def scheme_power(
    panels: Panels,
    scheme: dict,
    *,
    pre_months: int = 12,
    post_months: int = 12,
    k: int = 3,
    probe_start: pd.Timestamp | None = None,
) -> dict:
    """MDE of a DiD and of a synthetic control for one scheme under an assumed duration."""
    design = resolve_design(scheme["areas"], panels.lsoa, panels.district, panels.covariates)
    panel = _panel_for(panels, design.unit)
    alpha, deff = noise_model(panel, design)
    means = (
        panel[panel["area"].isin(set(design.treated))].groupby("area")["count"].mean().to_numpy()
    )
    kk = (
        k
        if len(design.pool) >= k * len(design.treated)
        else max(1, len(design.pool) // max(len(design.treated), 1))
    )
    if design.aggregate:
        means, kk = np.array([means.sum()]), len(design.pool)
    did = {"mde": did_mde(means, alpha, deff, pre_months, post_months, kk, len(means))}
    # Synthetic control: the spread of placebo estimates on the real data at a probe start,
    # rescaled from the probe's months to the assumed duration.
    months = sorted(panel["month"].unique())
    probe = probe_start or pd.Timestamp(months[len(months) * 2 // 3])
    m0 = sum(1 for m in months if m < probe)
    m1 = len(months) - m0
    try:
        wide, key, donors, plc = synth_units(panels, design, seed=1)
        sc = synth_fit(wide, key, donors, probe, placebo_units=plc)
        sd_probe = robust_sd(sc["placebos"]["log_ratio"])
        sd = sd_probe * np.sqrt((1 / pre_months + 1 / post_months) / (1 / m0 + 1 / m1))
        mde_sc = mde_from_se(sd, n_placebos=len(sc["placebos"]))
        n_plc = len(sc["placebos"])
    except HarmscopeError:
        mde_sc, n_plc = None, 0
    base = float(means.sum())
    return {
        "scheme": scheme["name"],
        "unit": design.unit,
        "n_areas": len(design.treated),
        "crime_types": ", ".join(panels.crime_types),
        "baseline_per_month": base,
        "overdispersion_alpha": alpha,
        "design_effect": deff,
        "comparisons_per_area": kk,
        "mde_did": did["mde"],
        "mde_synth": mde_sc,
        "synth_placebos": n_plc,
        "mde": min([m for m in (did["mde"], mde_sc) if m is not None], default=None),
        "notes": "; ".join(design.notes),
    }


def register_power(
    store,
    schemes: list[dict],
    *,
    pre_months: int = 12,
    post_months: int = 12,
    k: int = 3,
) -> Result:
    """Power table for every scheme: the smallest reduction detectable (80% power, alpha 0.05)."""
    if not schemes:
        raise HarmscopeError(
            "no schemes to assess",
            where="register",
            fix="load a register (`harmscope schemes FILE`) or pass --register FILE",
        )
    cache: dict[tuple, Panels] = {}
    rows = []
    for s in schemes:
        key = tuple(s["crime_types"])
        if key not in cache:
            cache[key] = load_panels(store, key)
        try:
            rows.append(
                scheme_power(cache[key], s, pre_months=pre_months, post_months=post_months, k=k)
            )
        except HarmscopeError as exc:
            rows.append({"scheme": s["name"], "mde": None, "notes": f"not assessable: {exc}"})
    table = pd.DataFrame(rows)
    any_panel = next(iter(cache.values()))
    months = sorted(any_panel.lsoa["month"].unique())
    method = (
        f"Assumed design: {pre_months} months before and {post_months} months after the start "
        "(an assumption: the schemes' real dates are not known). Baseline: the mean monthly count "
        f"of each scheme's target crimes per area over the {len(months)} months in the store "
        f"({pd.Timestamp(months[0]):%Y-%m}..{pd.Timestamp(months[-1]):%Y-%m}, with gaps). "
        "DiD MDE: two-group log-IRR variance with negative-binomial overdispersion (alpha, "
        "method of moments from area and month effects of the same force and unit) and k "
        "matched comparison areas per treated area; MDE = 1 - exp(-(1.96 + 0.84) SE). "
        "Synthetic control MDE: the robust spread of placebo-in-space estimates on the real data "
        "(random untreated LSOA sets of the scheme's size, or donor districts), rescaled to the "
        "assumed months, and the placebo rank test at alpha 0.05. MDEs are reductions as "
        "fractions; None means the design cannot reach significance. Reductions below the MDE "
        "may be real but would not be distinguishable from noise in police data."
    )
    summary = {
        "pre_months": pre_months,
        "post_months": post_months,
        "results": [
            {
                k2: r.get(k2)
                for k2 in (
                    "scheme",
                    "mde",
                    "mde_did",
                    "mde_synth",
                    "baseline_per_month",
                    "n_areas",
                    "unit",
                )
            }
            for r in rows
        ],
    }
    return Result(table=table, summary=summary, method=method, notes=[])
