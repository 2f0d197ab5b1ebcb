"""`harmscope evidence SCHEME`: the scheme's local estimate beside the published toolkit
evidence and their combination. The work is in analysis.evaluation.evidence."""

from __future__ import annotations

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json, table


def register(app: typer.Typer) -> None:
    @app.command(name="evidence")
    def evidence_cmd(
        scheme: str = typer.Argument(..., help="A scheme in the stored register (by name)."),
        toolkit: str = typer.Option(
            None, "--toolkit", help="yef | cop: overrides the register's evidence link."
        ),
        strand: str = typer.Option(
            None, "--strand", help="Toolkit strand, e.g. mentoring: overrides the register's link."
        ),
        reach: float = typer.Option(
            1.0,
            "--reach",
            help="Share (0-1] of the areas' violence the scheme's participants could account "
            "for; the toolkit's reduction is scaled by it (default 1: no dilution).",
        ),
        start: str = typer.Option(
            None, "--start", help="First month, YYYY-MM, if the register has none."
        ),
        end: str = typer.Option(None, "--end", help="Last month to evaluate, YYYY-MM."),
        method: list[str] = typer.Option(
            None, "--method", help="did | synth | its (repeat); default all."
        ),
        audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """A scheme's local estimate read beside the Youth Endowment Fund or College of Policing
        toolkit: the local estimate, the published prior and their combination (Bayesian
        shrinkage), with 95% intervals and the probability of a reduction."""
        from harmscope.analysis.evaluation._threads import single_thread
        from harmscope.analysis.evaluation.evidence import evidence_for_scheme
        from harmscope.analysis.evaluation.run import parse_methods
        from harmscope.privacy.evidence import publish_evidence
        from harmscope.store import Store

        validate.store_path(db)
        validate.not_blank(scheme, "SCHEME", fix="name a stored scheme: harmscope schemes")
        validate.months(start, end, "--start", "--end")
        validate.finite(
            reach, "--reach", gt=0, le=1, fix="give a share in (0, 1], e.g. --reach 0.2"
        )
        validate.choice(audience, ("internal", "partner", "public"), "--audience")
        with Store.open(db, read_only=True) as store, single_thread():
            res = evidence_for_scheme(
                store,
                scheme=scheme,
                toolkit=toolkit,
                strand=strand,
                reach=reach,
                start=start,
                end=end,
                methods=parse_methods(method),
            )
        pub = publish_evidence(res, audience)
        if json_out:
            print_json(pub.document())
            return
        console = Console()
        t = table(
            f"{res.summary['scheme']}: local, toolkit prior and combined (rate ratio for violence)",
            ("method", "estimate", "IRR", "95% interval", "change", "P(reduction)", "local weight"),
        )
        for r in pub.tables["main"].itertuples():
            t.add_row(
                r.method,
                r.estimate,
                f"{r.irr:.3f}",
                f"{r.irr_low:.3f}-{r.irr_high:.3f}",
                f"{r.pct_change:+.0f}%",
                f"{r.prob_reduction:.0%}",
                f"{r.weight_local:.0%}",
            )
        console.print(t)
        for note in pub.texts["notes"]:
            console.print(note, highlight=False, soft_wrap=True)
        if not quiet:
            console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)
