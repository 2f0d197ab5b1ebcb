"""`harmscope drivers`: is a covariate (officer numbers, youth services) associated with violence
across areas and years? An honest panel answer, published through the one door out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json, table

if TYPE_CHECKING:
    from harmscope.store import Store

OUTCOME_FILE_HELP = (
    "Recorded crime by area and period instead of the store's street files: CSV with area, "
    "period, offence, count [, population, area_name], '# source: ...' note; area level and "
    "period kind as the covariate's (see docs/DEVELOPING.md)."
)


def register(app: typer.Typer) -> None:
    @app.command(name="drivers")
    def drivers_cmd(
        covariate: str = typer.Option(
            ..., "--covariate", help="A series held (harmscope covariates list)."
        ),
        outcome: str = typer.Option(
            "violence",
            "--outcome",
            help="violence, harm (CSS-weighted, store data), or any crime type held.",
        ),
        placebo: str = typer.Option(
            None,
            "--placebo",
            help="A crime type the covariate should not move (default: Bicycle theft).",
        ),
        outcome_file: Path = typer.Option(None, "--outcome-file", help=OUTCOME_FILE_HELP),
        lag: int = typer.Option(
            1, "--lag", help="Periods between the covariate and the outcome (0-3)."
        ),
        lags: int = typer.Option(2, "--lags", help="Lags in the distributed-lag model (0-3)."),
        per_capita: bool = typer.Option(
            True,
            "--per-capita/--no-per-capita",
            help="Rates per 100,000 people where populations are known.",
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="Level of the tests and intervals."),
        audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
        threshold: int = typer.Option(
            5, "--threshold", help="Smallest count shown to a public audience."
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Officer numbers (or any covariate) and violence across areas and years: two-way fixed
        effects with area-clustered intervals, first differences, lags, placebo outcome and
        placebo timing, and the smallest association the panel could detect. Never proof of cause."""
        from harmscope.analysis.drivers import DEFAULT_PLACEBO, drivers_from_store
        from harmscope.privacy.audience import get_audience
        from harmscope.privacy.publishers import publish_drivers
        from harmscope.store import Store

        validate.store_path(db)
        validate.not_blank(covariate, "--covariate", fix="name a series: harmscope covariates list")
        validate.not_blank(outcome, "--outcome", fix="e.g. --outcome violence")
        validate.not_blank(placebo, "--placebo", fix="e.g. --placebo 'Bicycle theft'")
        validate.input_file(outcome_file, "--outcome-file")
        for value, where in ((lag, "--lag"), (lags, "--lags")):
            validate.int_at_least(value, 0, where)
            if value > 3:
                from harmscope.errors import HarmscopeError

                raise HarmscopeError(
                    f"{value} is more lags than a short panel can carry",
                    where=where,
                    fix="use 0, 1, 2 or 3",
                )
        validate.finite(alpha, "--alpha", gt=0, lt=0.5, fix="e.g. --alpha 0.05")
        get_audience(audience, threshold)  # a bad audience or threshold fails before any work
        with Store.open(db, read_only=True) as store:
            res = drivers_from_store(
                store,
                covariate,
                outcome=outcome,
                placebo=placebo or DEFAULT_PLACEBO,
                outcome_file=outcome_file,
                lag=lag,
                lags=lags,
                per_capita=per_capita,
                alpha=alpha,
            )
        pub = publish_drivers(res, audience, threshold)
        if json_out:
            print_json(pub.document())
            return
        console = Console()
        for note in res.notes:
            console.print(note, highlight=False, soft_wrap=True)
        t = table(
            f"{res.summary['outcome']} and {covariate}: estimates (elasticities)",
            ("model", "term", "estimate", "95% interval", "p", "areas"),
        )
        for r in pub.tables["estimates"].itertuples():
            t.add_row(
                r.model,
                r.term,
                f"{r.estimate:+.3f}",
                f"{r.ci_low:+.3f} to {r.ci_high:+.3f}",
                f"{r.p:.3f}",
                str(r.n_areas),
            )
        console.print(t)
        s = res.summary
        console.print(
            f"Smallest detectable elasticity (80% power): {s['mde']:.3f}", highlight=False
        )
        console.print(s["verdict"], highlight=False, soft_wrap=True)
        if not quiet:
            console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)


def demo(store: Store, out_dir: Path) -> list[str]:
    """The example: real officer FTE by force (added to the demo store as ``officers_fte``) and
    a SYNTHETIC outcome (no public force series could be obtained), published for the public."""
    import json

    from harmscope.analysis.drivers import drivers_from_store
    from harmscope.privacy.publishers import publish_drivers
    from harmscope.sources.covariates import add_covariate
    from harmscope.sources.covariates_example import EXAMPLE_SOURCE, write_example

    out_dir = Path(out_dir)
    cov_path, out_path = write_example(out_dir, elasticity=-0.1, seed=1)
    add_covariate(
        store, cov_path, name="officers_fte", unit="FTE", source=EXAMPLE_SOURCE, replace=True
    )
    res = drivers_from_store(
        store,
        "officers_fte",
        outcome="violence",
        placebo="Bicycle theft",
        outcome_file=out_path,
        lags=1,
    )
    doc = publish_drivers(res, "public").document()
    path = out_dir / "drivers_SYNTHETIC_outcome.json"
    path.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    s = res.summary
    return [
        f"drivers (real officer FTE, SYNTHETIC violence with -0.1 planted): elasticity "
        f"{s['elasticity']:.2f} ({s['elasticity_ci'][0]:.2f} to {s['elasticity_ci'][1]:.2f}), "
        f"smallest detectable {s['mde']:.2f} -> {path}"
    ]
