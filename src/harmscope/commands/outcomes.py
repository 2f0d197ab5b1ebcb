"""`harmscope outcomes`: the Serious Violence Duty success measures for an area, published for
the audience (value, 95% interval, trend, and whether each is a named proxy)."""

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

AUDIENCES = ("internal", "partner", "public")


def outcomes_cmd(
    area: str = area_option(),
    date_from: str = FromOption,
    date_to: str = ToOption,
    hes: Path = typer.Option(
        None, "--hes", help="HES-style admissions table (month,area_code,age_group,admissions)."
    ),
    ho_table: Path = typer.Option(
        None, "--ho-table", help="Home Office-style table (period,force,measure,count[,age_group])."
    ),
    audience: str = AudienceOption,
    threshold: int = ThresholdOption,
    db: str = DbOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Hospital admissions for knife assault, knife-enabled serious violence and homicide
    (all ages and under 25): value, 95% interval, trend per year, proxies named."""
    from harmscope.analysis.outcomes import outcome_measures
    from harmscope.privacy.outcomes import publish_outcomes_audited
    from harmscope.store import Store

    validate.store_path(db)
    audience = validate.choice(audience, AUDIENCES, "--audience").strip().lower()
    validate.int_at_least(threshold, 2, "--threshold")
    validate.area(area)
    validate.months(date_from, date_to, "--from", "--to")
    for path, where in ((hes, "--hes"), (ho_table, "--ho-table")):
        if path is not None:
            validate.input_file(path, where)
    with Store.open(db) as store:
        area = require_area(store, area, quiet=quiet or json_out)
        res = outcome_measures(store, area, date_from, date_to, hes=hes, ho_table=ho_table)
        pub = publish_outcomes_audited(
            store,
            res,
            audience,
            threshold,
            query=f"outcomes(area={area!r}, from={date_from!r}, to={date_to!r}, "
            f"hes={str(hes) if hes else None!r}, ho_table={str(ho_table) if ho_table else None!r})",
        )
    doc = pub.document()
    if json_out:
        print_json(doc)
        return
    _print(doc)


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def _print(doc: dict) -> None:
    c = Console()
    s = doc["summary"]
    c.print(
        f"[bold]Serious Violence Duty outcome measures[/], {s['area']}, "
        f"{s['period_from']} to {s['period_to']}" + (" (SYNTHETIC)" if s.get("synthetic") else "")
    )
    t = table(
        None, ["measure", "group", "value", "95% interval", "rate ratio / year (95% CI)", "proxy"]
    )
    for r in doc.get("measures", []):
        if not r["available"]:
            if r["group"] == "all":
                t.add_row(r["measure"], "all", "not available", "", "", "(see note)")
            continue
        ci = f"{_fmt(r['value_low'])} to {_fmt(r['value_high'])}" if r["value"] is not None else ""
        rr = (
            f"{r['rate_ratio_per_year']:.2f} ({r['rr_low']:.2f} to {r['rr_high']:.2f})"
            if r["rate_ratio_per_year"] is not None
            else "-"
        )
        value = _fmt(r["value"]) if r["value"] is not None else "suppressed"
        t.add_row(r["measure"], r["group"], value, ci, rr, "yes (see note)" if r["proxy"] else "no")
    c.print(t)
    for note in doc.get("notes", []):
        c.print(f"Note: {note}", highlight=False, soft_wrap=True)
    for w in doc.get("withheld", []):
        c.print(f"withheld: {w}", highlight=False)
    c.print(f"Method: {doc['method']}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("outcomes")(outcomes_cmd)
