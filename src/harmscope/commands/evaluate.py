"""`harmscope evaluate`: did a scheme work here, how sure are we, and could we even tell?

The work is in analysis.evaluation.run; files are written by export.evaluation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    OldCrimeTypeOption,
    QuietOption,
    Stages,
    print_json,
    renamed,
    require_area,
)
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.analysis.result import Result
    from harmscope.store import Store


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
            None,
            "--force",
            help="Force of the areas; required with --countywide or --placebo when the store "
            "holds several forces (a single-force store's force is used and announced).",
        ),
        start: str = typer.Option(None, "--start", help="First month of the scheme, YYYY-MM."),
        end: str = typer.Option(
            None, "--end", help="Last month to evaluate, YYYY-MM (default: latest held)."
        ),
        category: list[str] = typer.Option(
            None, "--category", help="Outcome police.uk category (repeat); default violence."
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
            help="Run N placebo schemes and report each method's false-positive rate "
            "(with --plant: its detection rate and coverage at the planted effect).",
        ),
        placebo_areas: int = typer.Option(
            None, "--placebo-areas", help="LSOAs per placebo scheme (default: the scheme's, or 30)."
        ),
        plant: float = typer.Option(
            None,
            "--plant",
            help="Self-check: plant this reduction (e.g. 0.2) in the areas first (and, with "
            "--placebo, in every placebo scheme).",
        ),
        seed: int = typer.Option(0, "--seed", help="Random seed for placebos and planting."),
        design: str = typer.Option(
            "auto",
            "--design",
            help="standard | staggered (Callaway-Sant'Anna: areas starting in different months; "
            "--end is then the scheme's last month, the months after it reported as "
            "persistence) | auto (staggered when the register's per-area starts differ).",
        ),
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
        crime_type: list[str] = OldCrimeTypeOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Evaluate a scheme (DiD, synthetic control, ITS), its power before funding, or placebo false-positive rates."""
        from harmscope.analysis.evaluation._threads import single_thread
        from harmscope.analysis.evaluation.run import areas_from_options, parse_methods, run_power
        from harmscope.export.evaluation import OUT_FORMATS
        from harmscope.export.files import check_out
        from harmscope.store import Store

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
        validate.choice(design, ("auto", "standard", "staggered"), "--design")
        hush = quiet or json_out
        categories = renamed(category, crime_type, new="--category", old="--crime-type", quiet=hush)
        job = dict(
            scheme=scheme,
            areas=areas_from_options(lsoa, district, point, countywide, force),
            start=start,
            end=end,
            crime_types=categories or None,
            methods=parse_methods(method),
            k=k,
            cost=cost,
            high_counts=high_counts,
            plant=plant,
            seed=seed,
        )
        with (
            Store.open(db, read_only=True) as store,
            single_thread(),
            Stages("evaluate", quiet=hush) as stages,
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
                kind = "power"
            elif _staggered(store, design, scheme, hush):
                stages("staggered roll-out (Callaway-Sant'Anna group-time effects)")
                from harmscope.analysis.evaluation.staggered import run_staggered

                res, kind = run_staggered(store, **job), "evaluation"
            else:
                placebo_job = (placebo, placebo_areas, force, quiet)
                res, kind = _evaluate(store, stages, job, placebo_job)
            stages.close()
            _emit(res, kind, json_out, out, audience)


def _evaluate(store, stages, job: dict, placebo_job: tuple) -> tuple[Result, str]:
    """The scheme's estimate, its placebo false-positive rates, or both."""
    from harmscope.analysis.evaluation.run import (
        METHOD_WORDS,
        attach_placebos,
        placebos,
        run_scheme,
    )

    n_placebo, placebo_areas, force, quiet = placebo_job
    areas = job["areas"]
    if (areas or n_placebo) and not force:  # never a silent force
        force = _force(store, areas, quiet)
        if areas:
            areas["force"] = force
    res = None
    if job["scheme"] or areas:
        stages(f"evaluating the scheme ({', '.join(METHOD_WORDS[m] for m in job['methods'])})")
        res = run_scheme(store, **job)
    if n_placebo:
        stages(f"{n_placebo} placebo runs")
        pres = placebos(
            store,
            res,
            n_placebo,
            placebo_areas,
            job["methods"],
            job["seed"],
            job["crime_types"],
            force,
            plant=job["plant"],
        )
        if res is None:
            return pres, "placebo"
        attach_placebos(res, pres)
    if res is None:
        raise HarmscopeError(
            "nothing to do",
            where="evaluate",
            fix="give --scheme NAME or areas with --start, or --power, or --placebo N",
        )
    return res, "evaluation"


def _staggered(store, design: str, scheme: str | None, quiet: bool) -> bool:
    """--design staggered, or auto with a stored scheme whose per-area starts differ (announced)."""
    from harmscope.sources.register import staggered_starts

    if design != "auto":
        return design == "staggered"
    if staggered_starts(store, scheme) is None:
        return False
    if not quiet:
        sys.stderr.write(
            "Design: staggered roll-out (the register gives different starts by area); "
            "--design standard overrides.\n"
        )
    return True


def _force(store, areas: dict | None, quiet: bool) -> str | None:
    """The force of the scheme's districts or LSOAs, else the store's only force (announced);
    a store of several forces needs --force."""
    from harmscope.store.queries.catalog import force_of_areas

    found = force_of_areas(store, areas)
    if found is None:
        return require_area(store, None, where="--force", quiet=quiet)
    if not quiet:
        sys.stderr.write(f"Force: {found} (where the scheme's areas are; --force overrides).\n")
    return found


def _emit(res: Result, kind: str, json_out: bool, out: Path | None, audience: str) -> None:
    from harmscope.commands._evaluate_view import print_estimates, print_power
    from harmscope.export.evaluation import write_outputs
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
    (print_power if kind == "power" else print_estimates)(res, console)
    console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)


def demo(store: Store, out_dir: Path) -> list[str]:
    """Power for the example register on the demo store, and a planted-effect self-check."""
    from harmscope.analysis.evaluation.run import run_power
    from harmscope.export.evaluation import write_outputs
    from harmscope.sources.register import example_register_path, read_register, store_register
    from harmscope.store.queries.catalog import table_rows

    lines = []
    if table_rows(store, "interventions") == 0:
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
