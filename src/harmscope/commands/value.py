"""`harmscope value`: what a scheme's estimated effect is worth against its cost.

The work is in analysis.evaluation.value; what leaves goes through privacy.value.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    AudienceOption,
    DbOption,
    JsonOption,
    QuietOption,
    Stages,
    ThresholdOption,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command(name="value")
    def value_cmd(
        scheme: str = typer.Argument(..., help="A scheme in the stored register (by name)."),
        cost: float = typer.Option(
            None, "--cost", help="Cost in pounds (overrides the register's cost_gbp)."
        ),
        start: str = typer.Option(
            None, "--start", help="First month, YYYY-MM, when the register has none."
        ),
        end: str = typer.Option(None, "--end", help="Last month to evaluate, YYYY-MM."),
        price_year: int = typer.Option(
            None, "--price-year", help="Price year of the unit costs (default: the table's)."
        ),
        costs: Path = typer.Option(
            None, "--costs", help="A unit-costs CSV replacing the Home Office 2018 table."
        ),
        audience: str = AudienceOption,
        threshold: int = ThresholdOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Value for money of an evaluated scheme: crimes, harm and pounds averted, cost per crime averted, benefit-cost ratio and break-even, with intervals."""
        from harmscope.analysis.evaluation._threads import single_thread
        from harmscope.analysis.evaluation.value import value_for_money
        from harmscope.privacy.value import publish_value
        from harmscope.store import Store

        validate.store_path(db)
        validate.finite(cost, "--cost", ge=0, fix="pass the cost in pounds, e.g. --cost 120000")
        validate.months(start, end, "--start", "--end")
        validate.input_file(costs, "--costs")
        validate.choice(audience, ("internal", "partner", "public"), "--audience")
        validate.int_at_least(threshold, 1, "--threshold")
        with (
            Store.open(db, read_only=True) as store,
            single_thread(),
            Stages("value", quiet=quiet or json_out) as stages,
        ):
            stages("evaluating the scheme, then costing its effect")
            res = value_for_money(
                store,
                scheme=scheme,
                cost_gbp=cost,
                price_year=price_year,
                costs_file=costs,
                start=start,
                end=end,
            )
            stages.close()
        doc = publish_value(res, audience, threshold).document()
        if json_out:
            print_json(doc)
            return
        _print(doc)


def _print(doc: dict) -> None:
    console = Console()
    s = doc["summary"]
    cost = s.get("cost_gbp")
    console.print(
        f"[bold]Value for money: {s['scheme']}[/] (from {s['start']}; "
        + (f"cost £{cost:,.0f}, {s['cost_source']})" if cost else "cost not recorded)"),
        highlight=False,
    )
    for r in s.get("results", []):
        console.print(f"\n[bold]{r['method']}[/]", highlight=False)
        for line in r.get("words") or [r.get("withheld", "")]:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
    for note in doc.get("notes", []):
        console.print(note, highlight=False, soft_wrap=True)
    console.print(f"Method: {doc['method']}", highlight=False, soft_wrap=True)
