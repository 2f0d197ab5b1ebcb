"""`harmscope allocate`: split a budget between Community Safety Partnerships by a needs
formula (harm, population, young people, deprivation, rurality) with floors, damping and a
sensitivity range. The formula is analysis.allocation's; what is published is decided in
privacy.allocation."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    AudienceOption,
    DbOption,
    FromOption,
    JsonOption,
    QuietOption,
    ThresholdOption,
    ToOption,
    area_option,
    print_json,
    require_area,
    table,
)
from harmscope.errors import HarmscopeError


def _young(value: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in value.split("-"))
    except ValueError:
        raise HarmscopeError(
            f"{value!r} is not an age range", where="--young-ages", fix="e.g. 10-24"
        ) from None
    return lo, hi


def _money(v) -> str:
    return "" if v is None else f"£{v:,.2f}"


def _print(doc: dict) -> None:
    console = Console()
    s = doc["summary"]
    console.print(
        f"[bold]{doc.get('title', 'Allocation')}[/]: budget {_money(s['budget'])}, "
        f"{s['csps']} CSPs, harm {s['first_month']}..{s['last_month']} ({s['harm_scheme']})",
        highlight=False,
    )
    has_current = bool(doc["table"]) and "current_amount" in doc["table"][0]
    cols = ["CSP", "need share", "amount", "range (sensitivity)", "equal per head"]
    cols += ["current", "change"] if has_current else []
    t = table("Allocation (amounts add up to the budget)", cols)
    for r in doc["table"]:
        row = [
            r["csp"].replace(" Community Safety Partnership", " CSP"),
            f"{r['need_share']:.1%}",
            _money(r["amount"])
            + (" (floor)" if r.get("floor_binding") else "")
            + (" (cap)" if r.get("cap_binding") else ""),
            f"{_money(r['amount_low'])} - {_money(r['amount_high'])}",
            _money(r["per_head_amount"]),
        ]
        if has_current:
            row += [_money(r["current_amount"]), _money(r["change_from_current"])]
        t.add_row(*row)
    console.print(t)
    w = table("Weights (rescaled to sum to 1)", ["component", "weight", "why"])
    for r in doc["weights"]:
        w.add_row(r["component"], f"{r['share']:.2f}", r["why"])
    console.print(w)
    for note in doc["notes"]:
        console.print(f"Note: {note}", highlight=False, soft_wrap=True)
    console.print(f"[dim]Method: {doc['method']}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def allocate(
        budget: float = typer.Option(..., "--budget", help="The amount to split, in pounds."),
        area: str = area_option(
            "Force, county or districts whose CSPs share the budget (default: the store's "
            "only force, announced)."
        ),
        date_from: str = FromOption,
        date_to: str = ToOption,
        weights: Path = typer.Option(
            None,
            "--weights",
            help="CSV of component weights (component,weight[,why,source]); default "
            "reference/data/allocation/weights.csv.",
        ),
        weight_harm: float = typer.Option(None, "--weight-harm", help="Weight of harm."),
        weight_population: float = typer.Option(
            None, "--weight-population", help="Weight of residents."
        ),
        weight_young: float = typer.Option(
            None, "--weight-young-people", help="Weight of young people."
        ),
        weight_deprivation: float = typer.Option(
            None, "--weight-deprivation", help="Weight of deprivation."
        ),
        weight_rurality: float = typer.Option(
            None, "--weight-rurality", help="Weight of rurality (sparsity uplift)."
        ),
        harm_weights: str = typer.Option(
            "css", "--harm-weights", help="css | chi: the central harm weighting."
        ),
        csps: Path = typer.Option(
            None, "--csps", help="CSV csp,lad_codes (GSS codes separated by |) of the units."
        ),
        current: Path = typer.Option(
            None, "--current", help="CSV csp,amount: the current allocation (for damping)."
        ),
        floor: float = typer.Option(
            50.0, "--floor", help="Every CSP gets at least this % of an equal split."
        ),
        damping: float = typer.Option(
            10.0, "--damping", help="With --current: no share moves more than this %."
        ),
        young_ages: str = typer.Option("10-24", "--young-ages", help="Young people's ages."),
        audience: str = AudienceOption,
        threshold: int = ThresholdOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Split a budget between Community Safety Partnerships by a needs formula (harm, population,
        young people, deprivation, rurality) with floors, damping and sensitivity ranges."""
        from harmscope.analysis.allocation import load_component_weights
        from harmscope.privacy.allocation import publish_allocation
        from harmscope.store import Store

        validate.store_path(db)
        validate.area(area)
        validate.months(date_from, date_to, "--from", "--to")
        validate.choice(harm_weights, ("css", "chi"), "--harm-weights")
        harm_weights = harm_weights.strip().lower()
        for path, where in ((weights, "--weights"), (csps, "--csps"), (current, "--current")):
            validate.input_file(path, where)
        wt = load_component_weights(
            weights,
            harm=weight_harm,
            population=weight_population,
            young_people=weight_young,
            deprivation=weight_deprivation,
            rurality=weight_rurality,
        )
        with Store.open(db, read_only=True) as store:
            area = require_area(store, area, quiet=quiet or json_out)
            pub = publish_allocation(
                store,
                audience,
                threshold,
                budget=budget,
                area=area,
                date_from=date_from,
                date_to=date_to,
                weights=wt,
                harm_scheme=harm_weights,
                csps=csps,
                current=current,
                floor_pct=floor,
                damping_pct=damping,
                young_ages=_young(young_ages),
            )
        if json_out:
            print_json(pub.document())
            return
        _print(pub.document())
