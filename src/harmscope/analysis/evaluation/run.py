"""One scheme evaluation as `harmscope evaluate` and the demo run it: the register's power,
a scheme's estimate (optionally with a planted self-check), placebo false-positive rates.

Kept out of the command so scripts and tests run exactly what the CLI runs.
"""

from __future__ import annotations

import numpy as np

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

ALIASES = {
    "did": "did",
    "synth": "synth",
    "synthetic_control": "synth",
    "sc": "synth",
    "its": "its",
}

METHOD_WORDS = {
    "did": "difference in differences",
    "synth": "synthetic control",
    "its": "interrupted time series",
}


def areas_from_options(lsoa, district, point, countywide, force) -> dict | None:
    """The areas of a scheme from the command's options (one kind of area), or None."""
    areas: dict = {}
    if lsoa:
        areas["lsoas"] = [c for v in lsoa for c in v.split(",") if c.strip()]
    if district:
        areas["districts"] = list(district)
    if point:
        try:
            lat, lon, rad = (float(x) for x in point.split(","))
        except ValueError:
            raise HarmscopeError(
                f"{point!r} is not 'lat,lon,radius_m'",
                where="--point",
                fix="e.g. --point 51.08,1.17,1500",
            ) from None
        areas["point"] = {"lat": lat, "lon": lon, "radius_m": rad}
    if countywide:
        areas["countywide"] = True
    kinds = [k for k in ("lsoas", "districts", "point", "countywide") if k in areas]
    if len(kinds) > 1:
        raise HarmscopeError(
            f"give one kind of area, not {' and '.join(kinds)}",
            where="--lsoa/--district/--point/--countywide",
            fix="evaluate each kind of area separately",
        )
    if not kinds:
        return None
    if force:
        areas["force"] = force
    return areas


def parse_methods(method: list[str] | None) -> tuple[str, ...]:
    """Method names (aliases allowed) as the analysis keys, in order, without repeats."""
    if not method:
        return ("did", "synth", "its")
    out = []
    for m in method:
        key = ALIASES.get(m.strip().lower())
        if key is None:
            raise HarmscopeError(
                f"unknown method {m!r}",
                where="--method",
                fix="use did, synth or its (repeat for several)",
            )
        out.append(key)
    return tuple(dict.fromkeys(out))


def run_power(
    store, *, register_file=None, names=None, pre_months=12, post_months=12, k=3
) -> Result:
    """Minimum detectable effects for the register's schemes (a register file, or the stored one)."""
    from harmscope.analysis.evaluation.register_power import register_power
    from harmscope.sources.register import load_schemes, read_register

    if register_file:
        schemes = read_register(register_file)
        if names:
            schemes = [s for s in schemes if s["name"].lower() in {n.lower() for n in names}]
    else:
        schemes = load_schemes(store, names or None)
    if not schemes:
        raise HarmscopeError(
            "no schemes to assess",
            where="--power",
            fix="load a register (`harmscope schemes --example`) or pass --register FILE",
        )
    return register_power(store, schemes, pre_months=pre_months, post_months=post_months, k=k)


def run_scheme(
    store,
    *,
    scheme: str | None = None,
    areas: dict | None = None,
    start=None,
    end=None,
    crime_types=None,
    methods=("did", "synth", "its"),
    k: int = 3,
    cost: float | None = None,
    high_counts: bool = False,
    plant: float | None = None,
    seed: int = 0,
) -> Result:
    """Evaluate one scheme: from the stored register (``scheme``), or given ``areas`` and
    ``start``; ``plant`` first plants a known reduction (a labelled SYNTHETIC self-check)."""
    from harmscope.analysis.evaluation import placebo as plc
    from harmscope.analysis.evaluation.design import resolve_design
    from harmscope.analysis.evaluation.evaluate import _month, evaluate, load_panels
    from harmscope.analysis.evaluation.panel import VIOLENCE
    from harmscope.sources.register import load_schemes

    name = "scheme"
    if scheme:
        s = load_schemes(store, [scheme])[0]
        name = s["name"]
        areas = areas or s["areas"]
        crime_types = crime_types or s["crime_types"]
        start = start or s["start"]
        end = end or s["end"]
        cost = cost if cost is not None else s["cost_gbp"]
        high_counts = high_counts or s["selected_for_high_counts"]
        if not start:
            raise HarmscopeError(
                f"scheme {name!r} has no start month in the register (dates are never invented)",
                where="--scheme",
                fix="pass --start YYYY-MM if you know it, or use --power to see what could be detected",
            )
    if areas is None:
        raise HarmscopeError(
            "no scheme or areas given",
            where="evaluate",
            fix="pass --scheme NAME, or areas (--lsoa/--district/--point/--countywide) with --start",
        )
    if not start:
        raise HarmscopeError("no start month", where="--start", fix="give --start YYYY-MM")
    if not scheme:
        name = describe(areas)
    panels = load_panels(store, crime_types or VIOLENCE)
    notes = []
    if plant:
        design = resolve_design(areas, panels.lsoa, panels.district, panels.covariates)
        panels = plc.plant(
            panels,
            design.treated,
            _month(start, "--start"),
            plant,
            np.random.default_rng(seed),
            design.unit,
        )
        name = f"{name} [SYNTHETIC: {plant:.0%} reduction planted]"
        notes.append(
            f"SYNTHETIC CHECK: a {plant:.0%} reduction was planted in the areas' counts from "
            f"{start} (binomial thinning); the true IRR is {1 - plant:.2f}."
        )
    res = evaluate(
        store,
        areas,
        start,
        end=end,
        crime_types=panels.crime_types,
        methods=methods,
        k=k,
        cost=cost,
        selected_for_high_counts=high_counts,
        name=name,
        panels=panels,
    )
    res.notes[:0] = notes
    if plant:
        res.summary["planted_irr"] = 1 - plant
    return res


def describe(areas: dict) -> str:
    """A scheme's areas in words (its name when it has none)."""
    if "lsoas" in areas:
        return f"{len(areas['lsoas'])} LSOAs"
    if "districts" in areas:
        return ", ".join(areas["districts"])
    if "point" in areas:
        p = areas["point"]
        return f"{p['radius_m']:.0f} m around ({p['lat']}, {p['lon']})"
    return f"countywide ({areas.get('force') or 'the force held'})"


def placebos(
    store, res, n, n_areas, methods, seed, crime_types, force, plant: float | None = None
) -> Result:
    """``n`` placebo schemes of ``n_areas`` LSOAs (default: the scheme's own LSOAs, else 30)
    in ``force``: each method's false-positive rate; with ``plant``, that reduction planted in
    every placebo scheme: each method's detection rate and coverage at the planted effect."""
    from harmscope.analysis.evaluation.evaluate import load_panels
    from harmscope.analysis.evaluation.panel import VIOLENCE
    from harmscope.analysis.evaluation.placebo import placebo_check

    panels = load_panels(store, crime_types or VIOLENCE)
    if n_areas is None:
        n_areas = (
            res.summary["n_treated_areas"]
            if res is not None and res.summary["unit"] == "lsoa"
            else 30
        )
    return placebo_check(
        panels,
        n,
        seed=seed,
        methods=methods,
        n_areas=n_areas,
        force=force,
        reduction=plant or 0.0,
    )


def attach_placebos(res: Result, pres: Result) -> None:
    """Each method's placebo false-positive rate (or, with a plant, detection rate and
    coverage at the planted effect) beside its estimate, and the runs as a table."""
    by = {r["method"]: r for r in pres.summary["results"]}
    keys = (
        ("detection_rate", "detection_rate_ci", "coverage", "coverage_ci")
        if pres.summary.get("planted_reduction")
        else ("false_positive_rate", "false_positive_rate_ci")
    )
    for r in res.summary["results"]:
        key = "synth" if r["method"] == "synthetic_control" else r["method"]
        p = by.get(r["method"]) or by.get(key) or {}
        for k in keys:
            r[f"placebo_{k}" if k.startswith("coverage") else k] = p.get(k)
    res.tables["placebo_runs"] = pres.tables["runs"]
    res.notes.extend(n for n in pres.notes if n not in res.notes)
    res.notes.append(pres.method)
