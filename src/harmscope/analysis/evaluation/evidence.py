"""Evidence from elsewhere: a scheme's local estimate read in the light of the published toolkits.

The register links a scheme to a strand of the Youth Endowment Fund Toolkit (``yef``) or the
College of Policing Crime Reduction Toolkit (``cop``); the packaged table
``reference/data/evidence/toolkit.csv`` holds each strand's published headline (impact band,
a % reduction where one was read, the toolkit's confidence), each with its source. This module

* turns a strand into a normal prior on the log rate ratio (IRR) of violence: mean
  ``log(1 - r)`` for a published reduction ``r`` (or the band's stated value, an assumption:
  ``bands.csv``), standard deviation from the toolkit's confidence (an assumption:
  ``prior_sd.csv``);
* combines it with the local estimate (log IRR ``y`` with standard error ``s``) by the
  normal-normal conjugate rule::

      posterior mean = (mu0 / tau0^2 + y / s^2) / (1 / tau0^2 + 1 / s^2)
      posterior sd   = (1 / tau0^2 + 1 / s^2) ** -0.5

  and reports the local estimate, the prior and the combination side by side with 95%
  intervals, the weight the local study gets and the posterior probability of a reduction;
* :func:`evidence_for_scheme` runs the scheme's evaluation through the same path as
  ``harmscope evaluate`` (:func:`harmscope.analysis.evaluation.run.run_scheme`) and combines
  each method's estimate with the prior.

Assumptions (stated in every result): Kent's effect is exchangeable with the effects in the
studies behind the toolkit (same kind of scheme, same kind of outcome); both the local
estimate and the prior are normal on the log scale; the toolkit figure is an effect on the
participants' violence, so a scheme that reaches only part of an area's violence is diluted
(``reach``: the share of the area's recorded violence the participants could account for;
prior reduction ``reach * r``).
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

TOOLKITS = {
    "yef": "Youth Endowment Fund Toolkit",
    "cop": "College of Policing Crime Reduction Toolkit",
}
Z95 = float(stats.norm.ppf(0.975))
# What the result's ``toolkit_entry`` table shows of the prior's source.
ENTRY_KEYS = ("toolkit", "strand", "name", "impact_band", "confidence", "source", "url", "accessed")
# The order in which a scheme's methods give the headline (the first that ran).
HEADLINE_ORDER = ("did", "its", "synthetic_control", "synth")


def _data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "reference" / "data" / "evidence"


def _read(name: str) -> list[dict]:
    with open(_data_dir() / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _tables() -> tuple[tuple[dict, ...], dict[tuple[str, str], dict], dict[str, float]]:
    entries = tuple(_read("toolkit.csv"))
    bands = {(r["toolkit"], r["band"]): r for r in _read("bands.csv")}
    sds = {r["confidence"]: float(r["prior_sd_log"]) for r in _read("prior_sd.csv")}
    return entries, bands, sds


def toolkit_table() -> pd.DataFrame:
    """The packaged toolkit entries (one row per toolkit and strand), with their sources."""
    return pd.DataFrame(list(_tables()[0]))


def strands(toolkit: str) -> list[str]:
    """The strands of ``toolkit`` the packaged table holds."""
    return [r["strand"] for r in _tables()[0] if r["toolkit"] == toolkit]


def toolkit_entry(toolkit: str, strand: str) -> dict:
    """One toolkit strand, or a HarmscopeError that lists the valid ones."""
    toolkit = str(toolkit).strip().lower()
    if toolkit not in TOOLKITS:
        raise HarmscopeError(
            f"unknown toolkit {toolkit!r}",
            where="evidence.toolkit",
            fix=f"use one of: {', '.join(TOOLKITS)} ({'; '.join(f'{k}: {v}' for k, v in TOOLKITS.items())})",
        )
    key = str(strand).strip().lower()
    for r in _tables()[0]:
        if r["toolkit"] == toolkit and r["strand"] == key:
            return dict(r)
    raise HarmscopeError(
        f"unknown {toolkit} strand {strand!r}",
        where="evidence.strand",
        fix=f"use one of: {', '.join(strands(toolkit))}",
    )


def prior_for(toolkit: str, strand: str, *, reach: float = 1.0) -> dict:
    """The normal prior on the log IRR for a toolkit strand, and how it was made.

    The % reduction is the toolkit's own figure where one on violence was read
    (``reduction_outcome == 'violence'``), else the value stated for its impact band
    (an assumption, ``bands.csv``); the sd follows the toolkit's confidence (an assumption,
    ``prior_sd.csv``). ``reach`` (0..1] scales the reduction for a scheme whose participants
    account for only part of the area's violence."""
    if not 0 < reach <= 1:
        raise HarmscopeError(
            f"reach {reach} is outside (0, 1]",
            where="--reach",
            fix="give the share of the area's violence the scheme's participants could account for, e.g. 0.1",
        )
    e = toolkit_entry(toolkit, strand)
    _, bands, sds = _tables()
    if e["reduction_pct"] and e["reduction_outcome"] == "violence":
        r = float(e["reduction_pct"]) / 100
        basis = f"the toolkit's average reduction in violence, {float(e['reduction_pct']):g}%"
    elif (e["toolkit"], e["impact_band"]) in bands:
        b = bands[(e["toolkit"], e["impact_band"])]
        r = float(b["prior_reduction_pct"]) / 100
        basis = (
            f"the toolkit's impact band {e['impact_band']} taken as a {float(b['prior_reduction_pct']):g}% "
            f"reduction ({b['prior_rule']})"
        )
    else:
        raise HarmscopeError(
            f"the {TOOLKITS[e['toolkit']]} entry {e['strand']!r} gives no usable effect "
            f"(band: {e['impact_band'] or 'none'}; figure: {e['reduction_pct'] or 'none'})",
            where="evidence",
            fix="link the scheme to a strand with a published impact (see docs/evidence.md)",
        )
    sd = sds.get(e["confidence"], sds["not found"])
    r_eff = r * reach
    return {
        "toolkit": e["toolkit"],
        "strand": e["strand"],
        "name": e["name"],
        "impact_band": e["impact_band"],
        "reduction": r,
        "reach": reach,
        "mean": math.log(1 - r_eff),
        "sd": sd,
        "confidence": e["confidence"],
        "basis": basis
        + (f", times reach {reach:g}" if reach != 1 else "")
        + f"; sd {sd:g} on the log scale for confidence '{e['confidence']}' (assumption)",
        "source": e["source"],
        "url": e["url"],
        "accessed": e["accessed"],
    }


def combine(mu0: float, tau0: float, y: float, s: float) -> dict:
    """Normal-normal conjugate combination of a prior N(mu0, tau0^2) and an estimate y with
    standard error s (all on the log rate-ratio scale)."""
    if not (tau0 > 0 and s > 0) or not all(map(math.isfinite, (mu0, tau0, y, s))):
        raise HarmscopeError(
            f"cannot combine: prior sd {tau0}, local standard error {s}",
            where="evidence",
            fix="both standard deviations must be positive and finite",
        )
    w0, w1 = 1 / tau0**2, 1 / s**2
    mean = (mu0 * w0 + y * w1) / (w0 + w1)
    sd = (w0 + w1) ** -0.5
    return {
        "mean": mean,
        "sd": sd,
        "weight_local": w1 / (w0 + w1),
        "prob_reduction": float(stats.norm.cdf(-mean / sd)),
    }


def posterior_by_integration(mu0: float, tau0: float, y: float, s: float, n: int = 20001) -> dict:
    """The same posterior by brute force: prior x likelihood on a grid, normalised numerically
    (trapezoid rule). The reference the conjugate formula is tested against."""
    lo = min(mu0 - 10 * tau0, y - 10 * s)
    hi = max(mu0 + 10 * tau0, y + 10 * s)
    grid = np.union1d(np.linspace(lo, hi, n), [0.0])  # 0 on the grid: P(reduction) exactly
    dens = stats.norm.pdf(grid, mu0, tau0) * stats.norm.pdf(y, grid, s)
    z = np.trapezoid(dens, grid)
    mean = np.trapezoid(grid * dens, grid) / z
    var = np.trapezoid((grid - mean) ** 2 * dens, grid) / z
    below = grid <= 0
    return {
        "mean": float(mean),
        "sd": float(np.sqrt(var)),
        "prob_reduction": float(np.trapezoid(dens[below], grid[below]) / z),
    }


def local_estimate(irr: float, irr_ci) -> tuple[float, float]:
    """(log IRR, its standard error) from an IRR and its 95% interval: the interval's width on
    the log scale / (2 x 1.96) (a normal approximation; exact for Wald intervals)."""
    lo, hi = irr_ci
    if not (irr > 0 and lo > 0 and hi > lo):
        raise HarmscopeError(
            f"IRR {irr} with interval {irr_ci} cannot be put on the log scale",
            where="evidence",
            fix="the local estimate needs a positive IRR and a proper 95% interval",
        )
    return math.log(irr), (math.log(hi) - math.log(lo)) / (2 * Z95)


def _row(method: str, kind: str, mean: float, sd: float, **extra) -> dict:
    return {
        "method": method,
        "estimate": kind,
        "irr": math.exp(mean),
        "irr_low": math.exp(mean - Z95 * sd),
        "irr_high": math.exp(mean + Z95 * sd),
        "pct_change": 100 * (math.exp(mean) - 1),
        "log_irr": mean,
        "sd_log": sd,
        "prob_reduction": float(stats.norm.cdf(-mean / sd)),
        "weight_local": extra.get("weight_local"),
    }


def shrink(results: list[dict], prior: dict, skipped: list[str] | None = None) -> pd.DataFrame:
    """Per method that gave an estimate: the local estimate, the prior and the combination.
    A method without a finite interval is left out (and named in ``skipped``)."""
    rows = []
    for r in results:
        ci = r.get("irr_ci")
        if r.get("irr") is None or not ci or None in ci or not all(map(math.isfinite, ci)):
            if skipped is not None:
                skipped.append(f"{r['method']}: no finite 95% interval ({r.get('error') or ci})")
            continue
        try:
            y, s = local_estimate(r["irr"], ci)
        except HarmscopeError as exc:
            if skipped is not None:
                skipped.append(f"{r['method']}: {exc.problem}")
            continue
        post = combine(prior["mean"], prior["sd"], y, s)
        m = r["method"]
        local = _row(m, "local", y, s, weight_local=1.0)
        # the method's own interval as it reported it (s is derived from its width)
        local["irr"], (local["irr_low"], local["irr_high"]) = (
            float(r["irr"]),
            map(float, r["irr_ci"]),
        )
        rows.append(local)
        rows.append(_row(m, "prior", prior["mean"], prior["sd"], weight_local=0.0))
        rows.append(
            _row(m, "combined", post["mean"], post["sd"], weight_local=post["weight_local"])
        )
    return pd.DataFrame(rows)


def evidence_result(evaluation: Result, prior: dict, *, scheme: str) -> Result:
    """The evaluation's estimates beside the toolkit prior and their combination."""
    skipped: list[str] = []
    table = shrink(evaluation.summary["results"], prior, skipped)
    if table.empty:
        raise HarmscopeError(
            f"no method gave scheme {scheme!r} an estimate with an interval ({'; '.join(skipped)})",
            where="evidence",
            fix="check `harmscope evaluate --scheme` for why each method did not run",
        )
    methods = list(dict.fromkeys(table["method"]))
    head = next((m for m in HEADLINE_ORDER if m in methods), methods[0])
    pick = {
        k: table[(table["method"] == head) & (table["estimate"] == k)].iloc[0].to_dict()
        for k in ("local", "prior", "combined")
    }
    summary = {
        "scheme": scheme,
        "toolkit": prior["toolkit"],
        "strand": prior["strand"],
        "headline_method": head,
        "local_irr": pick["local"]["irr"],
        "local_irr_ci": [pick["local"]["irr_low"], pick["local"]["irr_high"]],
        "prior_irr": pick["prior"]["irr"],
        "prior_irr_ci": [pick["prior"]["irr_low"], pick["prior"]["irr_high"]],
        "combined_irr": pick["combined"]["irr"],
        "combined_irr_ci": [pick["combined"]["irr_low"], pick["combined"]["irr_high"]],
        "weight_local": pick["combined"]["weight_local"],
        "prob_reduction": pick["combined"]["prob_reduction"],
        "prior_basis": prior["basis"],
        "prior_source": prior["source"],
        "prior_url": prior["url"],
    }
    c = pick["combined"]
    outcome = evaluation.summary.get("crime_types") or "violence"
    notes = [
        f"{scheme}: the local estimate ({head}) gets {c['weight_local']:.0%} of the weight and the "
        f"{TOOLKITS[prior['toolkit']]} ({prior['name']}) {1 - c['weight_local']:.0%}. Read together, "
        f"{outcome} changed by {c['pct_change']:+.0f}% (95% interval "
        f"{100 * (c['irr_low'] - 1):+.0f}% to {100 * (c['irr_high'] - 1):+.0f}%); the probability "
        "that the scheme reduced them "
        f"is {_prob(c['prob_reduction'])}, if Kent is like the places the toolkit's studies come from.",
        *(
            [f"Not combined with the toolkit (no usable interval): {'; '.join(skipped)}."]
            if skipped
            else []
        ),
        *evaluation.notes,
    ]
    return Result(
        table=table,
        summary=summary,
        method=_method_text(prior),
        tables={"toolkit_entry": pd.DataFrame([{k: prior[k] for k in ENTRY_KEYS}])},
        notes=notes,
    )


def _prob(p: float) -> str:
    """A probability in words that never rounds to certainty."""
    return "over 99%" if p > 0.99 else "under 1%" if p < 0.01 else f"{p:.0%}"


def _method_text(prior: dict) -> str:
    return (
        "Evidence from elsewhere: each method's local estimate of the scheme's rate ratio (IRR) "
        "for violence is combined with a prior from the "
        f"{TOOLKITS[prior['toolkit']]} strand '{prior['name']}' by the normal-normal conjugate "
        "rule on the log IRR scale: posterior mean = (mu0/tau0^2 + y/s^2)/(1/tau0^2 + 1/s^2), "
        "posterior sd = (1/tau0^2 + 1/s^2)^-1/2, where y is the local log IRR and s its "
        "standard error (the 95% interval's log width / 3.92). The local study's weight is "
        "(1/s^2)/(1/tau0^2 + 1/s^2); the probability of a reduction is P(log IRR < 0) under "
        f"the posterior. Prior: mu0 = log(1 - r) from {prior['basis']}. Source: "
        f"{prior['source']} ({prior['url']}, read {prior['accessed']}). Assumptions: the "
        "scheme's effect in Kent is exchangeable with the effects behind the toolkit (a "
        "toolkit figure is an average over mostly US and UK studies of participants' "
        "offending, while the local estimate is area-level police-recorded violence, so it is "
        "diluted unless the participants account for all of it: reach scales the prior); "
        "normal approximations on the log scale for both; the prior's sd by the toolkit's "
        "confidence is a stated assumption, not a published figure. Checked against numerical "
        "integration of prior x likelihood and a published worked example (Diamond & Kaul, "
        "JACC 2004;43:1929, Figure 2)."
    )


def evidence_for_scheme(
    store,
    *,
    scheme: str,
    toolkit: str | None = None,
    strand: str | None = None,
    reach: float = 1.0,
    start=None,
    end=None,
    methods=("did", "synth", "its"),
    seed: int = 0,
) -> Result:
    """Evaluate a stored scheme as ``harmscope evaluate`` does and read its estimates beside the
    toolkit strand the register links it to (``toolkit``/``strand`` override the link)."""
    from harmscope.analysis.evaluation.run import run_scheme
    from harmscope.sources.register import load_schemes

    s = load_schemes(store, [scheme])[0]
    link = s.get("evidence") or {}
    toolkit = toolkit or link.get("toolkit")
    strand = strand or link.get("strand")
    if not (toolkit and strand):
        raise HarmscopeError(
            f"scheme {s['name']!r} has no evidence link in the register",
            where="evidence",
            fix="add 'evidence: {toolkit: yef, strand: mentoring}' to the scheme in the register "
            "and load it again, or pass --toolkit and --strand",
        )
    prior = prior_for(toolkit, strand, reach=reach)
    res = run_scheme(store, scheme=s["name"], start=start, end=end, methods=methods, seed=seed)
    return evidence_result(res, prior, scheme=s["name"])
