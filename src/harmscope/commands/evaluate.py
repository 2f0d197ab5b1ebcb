"""`harmscope evaluate`: did a scheme work here, how sure are we, and could we even tell?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.analysis.result import Result, frame_records
from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, Stages, print_json
from harmscope.errors import HarmscopeError
from harmscope.export.files import TABLE_FORMATS, check_out
from harmscope.store import Store

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
OUT_FORMATS = (*TABLE_FORMATS, ".json")  # or a folder: JSON plus one CSV per table


def _areas_from_options(lsoa, district, point, countywide, force) -> dict | None:
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


def _methods(method: list[str] | None) -> tuple[str, ...]:
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
        name = _describe(areas)
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


def _describe(areas: dict) -> str:
    if "lsoas" in areas:
        return f"{len(areas['lsoas'])} LSOAs"
    if "districts" in areas:
        return ", ".join(areas["districts"])
    if "point" in areas:
        p = areas["point"]
        return f"{p['radius_m']:.0f} m around ({p['lat']}, {p['lon']})"
    return f"countywide ({areas.get('force', 'Kent Police')})"


def register(app: typer.Typer) -> None:
    @app.command(name="evaluate")
    def evaluate_cmd(
        scheme: str = typer.Option(
            None, "--scheme", help="A scheme in the stored register (by name)."
        ),
        lsoa: list[str] = typer.Option(
            None, "--lsoa", help="LSOA code(s) of the scheme (repeat or comma-separate)."
        ),
        district: list[str] = typer.Option(
            None, "--district", help="District name(s) of the scheme (repeat)."
        ),
        point: str = typer.Option(
            None, "--point", help="lat,lon,radius_m of a scheme around a place."
        ),
        countywide: bool = typer.Option(
            False, "--countywide", help="The scheme covers the whole force area."
        ),
        force: str = typer.Option(
            None, "--force", help="Force of the areas (default Kent Police)."
        ),
        start: str = typer.Option(None, "--start", help="First month of the scheme, YYYY-MM."),
        end: str = typer.Option(
            None, "--end", help="Last month to evaluate, YYYY-MM (default: latest held)."
        ),
        crime_type: list[str] = typer.Option(
            None, "--crime-type", help="Outcome category (repeat); default violence."
        ),
        method: list[str] = typer.Option(
            None, "--method", help="did | synth | its (repeat); default all."
        ),
        k: int = typer.Option(3, "--k", help="Matched comparison areas per treated area (DiD)."),
        cost: float = typer.Option(
            None, "--cost", help="Cost in pounds (for cost per harm unit averted)."
        ),
        high_counts: bool = typer.Option(
            False, "--high-counts", help="The areas were chosen for their high counts."
        ),
        power: bool = typer.Option(
            False, "--power", help="Minimum detectable effects for the register's schemes."
        ),
        register_file: Path = typer.Option(
            None, "--register", help="With --power: a register file instead of the stored one."
        ),
        pre_months: int = typer.Option(
            12, "--pre-months", help="With --power: assumed months before the start."
        ),
        post_months: int = typer.Option(
            12, "--post-months", help="With --power: assumed months after the start."
        ),
        placebo: int = typer.Option(
            0,
            "--placebo",
            help="Run N placebo schemes and report each method's false-positive rate.",
        ),
        placebo_areas: int = typer.Option(
            None, "--placebo-areas", help="LSOAs per placebo scheme (default: the scheme's, or 30)."
        ),
        plant: float = typer.Option(
            None, "--plant", help="Self-check: plant this reduction (e.g. 0.2) in the areas first."
        ),
        seed: int = typer.Option(0, "--seed", help="Random seed for placebos and planting."),
        out: Path = typer.Option(
            None,
            "--out",
            help="A folder (the result's JSON and one CSV per table), or one file whose "
            "extension picks the format: .xlsx (a sheet per table and a README), .csv or "
            ".parquet (main table; the others beside it), .json.",
        ),
        audience: str = typer.Option(
            "internal", "--audience", help="internal | partner | public (for --out tables)."
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Evaluate a scheme (DiD, synthetic control, ITS), its power before funding, or placebo false-positive rates."""
        from harmscope.analysis.evaluation._threads import single_thread

        validate.store_path(db)
        validate.not_blank(force, "--force", fix="name a force, e.g. --force 'Kent Police'")
        validate.months(start, end, "--start", "--end")
        validate.int_at_least(k, 1, "--k", fix="pass e.g. --k 3")
        validate.finite(cost, "--cost", ge=0, fix="pass the cost in pounds, e.g. --cost 50000")
        validate.int_at_least(pre_months, 1, "--pre-months")
        validate.int_at_least(post_months, 1, "--post-months")
        validate.int_at_least(placebo, 0, "--placebo", fix="pass 0 (none) or e.g. --placebo 50")
        validate.int_at_least(placebo_areas, 1, "--placebo-areas")
        validate.finite(plant, "--plant", ge=0, lt=1, fix="pass a share, e.g. --plant 0.2")
        validate.seed(seed)
        if check_out(out, formats=OUT_FORMATS, folder_ok=True) == "":
            validate.output_folder(out, "--out")
        validate.input_file(register_file, "--register")
        validate.choice(audience, ("internal", "partner", "public"), "--audience")
        methods = _methods(method)
        areas = _areas_from_options(lsoa, district, point, countywide, force)
        with (
            Store.open(db, read_only=True) as store,
            single_thread(),
            Stages("evaluate", quiet=quiet or json_out) as stages,
        ):
            if power:
                stages("power for each scheme (matching comparison areas)")
                res = run_power(
                    store,
                    register_file=register_file,
                    names=[scheme] if scheme else None,
                    pre_months=pre_months,
                    post_months=post_months,
                    k=k,
                )
                stages.close()
                _emit(res, "power", json_out, out, audience)
                return
            res = None
            if scheme or areas:
                stages(f"evaluating the scheme ({', '.join(METHOD_WORDS[m] for m in methods)})")
                res = run_scheme(
                    store,
                    scheme=scheme,
                    areas=areas,
                    start=start,
                    end=end,
                    crime_types=crime_type or None,
                    methods=methods,
                    k=k,
                    cost=cost,
                    high_counts=high_counts,
                    plant=plant,
                    seed=seed,
                )
            if placebo:
                stages(f"{placebo} placebo runs")
                pres = _placebos(
                    store, res, placebo, placebo_areas, methods, seed, crime_type, force
                )
                if res is None:
                    stages.close()
                    _emit(pres, "placebo", json_out, out, audience)
                    return
                _attach_placebos(res, pres)
            if res is None:
                raise HarmscopeError(
                    "nothing to do",
                    where="evaluate",
                    fix="give --scheme NAME or areas with --start, or --power, or --placebo N",
                )
            stages.close()
            _emit(res, "evaluation", json_out, out, audience)


def _placebos(store, res, n, n_areas, methods, seed, crime_type, force):
    from harmscope.analysis.evaluation.evaluate import load_panels
    from harmscope.analysis.evaluation.panel import VIOLENCE
    from harmscope.analysis.evaluation.placebo import placebo_check

    panels = load_panels(store, crime_type or VIOLENCE)
    if n_areas is None:
        n_areas = (
            res.summary["n_treated_areas"]
            if res is not None and res.summary["unit"] == "lsoa"
            else 30
        )
    return placebo_check(
        panels, n, seed=seed, methods=methods, n_areas=n_areas, force=force or "Kent Police"
    )


def _attach_placebos(res: Result, pres: Result) -> None:
    """Each method's placebo false-positive rate beside its estimate, and the runs as a table."""
    by = {r["method"]: r for r in pres.summary["results"]}
    for r in res.summary["results"]:
        key = "synth" if r["method"] == "synthetic_control" else r["method"]
        p = by.get(r["method"]) or by.get(key) or {}
        r["false_positive_rate"] = p.get("false_positive_rate")
        r["false_positive_rate_ci"] = p.get("false_positive_rate_ci")
    res.tables["placebo_runs"] = pres.tables["runs"]
    res.notes.append(pres.method)


def _emit(res: Result, kind: str, json_out: bool, out: Path | None, audience: str) -> None:
    from harmscope.privacy.publishers import publish_evaluation

    pub = publish_evaluation(res, kind, audience)
    if out is not None:
        write_outputs(res, out, kind, audience, pub=pub)
    if json_out:
        doc = pub.document()
        payload = {"kind": kind, "summary": doc["summary"], "method": doc["method"]}
        payload["notes"] = doc["notes"]
        payload["results"] = doc["summary"].get("results", [])
        payload["audience"] = doc["audience"]
        print_json(payload)
        return
    console = Console()
    for note in res.notes:
        console.print(note, highlight=False, soft_wrap=True)
    if kind == "power":
        t = Table(
            title=f"Minimum detectable reduction (80% power, alpha 0.05; {res.summary['pre_months']} months before, {res.summary['post_months']} after: assumed)"
        )
        for c in ("scheme", "unit", "areas", "crimes/month", "DiD MDE", "synth MDE", "notes"):
            t.add_column(c)
        for r in frame_records(res.table):
            t.add_row(
                r["scheme"],
                str(r.get("unit") or ""),
                str(r.get("n_areas") or ""),
                f"{r['baseline_per_month']:,.0f}"
                if r.get("baseline_per_month") is not None
                else "",
                _pct(r.get("mde_did")),
                _pct(r.get("mde_synth")),
                r.get("notes") or "",
            )
        console.print(t)
    else:
        t = Table(title=f"{res.summary.get('scheme', 'placebo check')}")
        cols = ["method", "IRR", "95% CI", "p", "MDE", "false-positive rate"]
        for c in cols:
            t.add_column(c)
        for r in res.summary["results"]:
            t.add_row(
                r["method"],
                f"{r['irr']:.3f}" if r.get("irr") is not None else "",
                f"{r['irr_ci'][0]:.3f}-{r['irr_ci'][1]:.3f}" if r.get("irr_ci") else "",
                f"{r['p_value']:.3g}" if r.get("p_value") is not None else "",
                _pct(r.get("mde")),
                _pct(r.get("false_positive_rate")),
            )
        console.print(t)
        for r in res.summary["results"]:
            console.print(
                f"[bold]{r['method']}[/]: {r.get('verdict', '')}", highlight=False, soft_wrap=True
            )
        bal = res.tables.get("did_balance")
        if isinstance(bal, pd.DataFrame):
            b = Table(title="DiD matching: treated vs candidate pool vs matched comparison areas")
            for c in ("feature", "used", "treated", "pool", "matched", "SMD before", "SMD after"):
                b.add_column(c)
            for r in frame_records(bal):
                b.add_row(
                    r["feature"],
                    "yes" if r["used_in_matching"] else "no",
                    *[
                        f"{r[k]:.2f}" if r[k] is not None else ""
                        for k in (
                            "treated_mean",
                            "pool_mean",
                            "matched_mean",
                            "smd_before",
                            "smd_after",
                        )
                    ],
                )
            console.print(b)
    console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)


def _pct(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    return f"{v:.1%}"


def write_outputs(
    res: Result, out: Path, kind: str, audience: str = "internal", *, pub=None
) -> list[Path]:
    """The result as published for the audience: to a folder, JSON plus one CSV per table;
    to a file, in the format its extension names (export.files)."""
    import json

    from harmscope.export import files
    from harmscope.privacy.publishers import publish_evaluation, write_tables

    out = Path(out)
    fmt = files.check_out(out, formats=OUT_FORMATS, folder_ok=True)
    if fmt == "" and not out.exists():
        raise HarmscopeError(
            f"folder {out} does not exist", where="--out", fix="create it or pass another folder"
        )
    pub = pub if pub is not None else publish_evaluation(res, kind, audience)
    if fmt == "":
        return write_tables(pub, out, kind)
    if fmt == ".json":
        out.write_text(json.dumps(pub.document(), indent=2, default=str), encoding="utf-8")
        return [out]
    return files.write_tables(
        pub.tables,
        out,
        readme=files.readme_rows(pub, f"Scheme evaluation ({kind}), harmscope evaluate"),
        suppressed_cols=files.suppressed_columns(pub),
    )


def demo(store: Store, out_dir: Path) -> list[str]:
    """Power for the example register on the demo store, and a planted-effect self-check."""
    from harmscope.sources.register import example_register_path, read_register, store_register

    lines = []
    if (
        not store.table_exists("interventions")
        or store.query("SELECT count(*) n FROM interventions").n[0] == 0
    ):
        store_register(store, read_register(example_register_path()), example_register_path())
    try:
        pres = run_power(store)
        write_outputs(pres, Path(out_dir), "power", "public")
        best = pres.table.dropna(subset=["mde"]).sort_values("mde")
        lines.append(
            f"evaluate --power: {len(pres.table)} schemes; smallest detectable reduction "
            f"{best['mde'].iloc[0]:.0%} ({best['scheme'].iloc[0]}) to {best['mde'].iloc[-1]:.0%} "
            f"({best['scheme'].iloc[-1]}) -> {Path(out_dir) / 'power_main.csv'}"
        )
    except HarmscopeError as exc:
        lines.append(f"evaluate --power: skipped ({exc})")
    return lines
