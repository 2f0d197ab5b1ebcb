"""`harmscope stopsearch`: outcome rates, fairness tests and whether searches follow violence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    FromOption,
    JsonOption,
    QuietOption,
    ToOption,
    out_option,
    print_json,
)

if TYPE_CHECKING:
    from harmscope.store import Store

# Breakdown tables shown in the terminal (the JSON carries every one).
_SHOWN = ("by_month", "by_legislation", "by_officer_defined_ethnicity", "by_age_range")


def _pct(value: Any) -> str:
    return "suppressed" if value is None else f"{value:.1%}"


def _ci(pair: Any) -> str:
    if not pair or pair[0] is None:
        return ""
    return f"({pair[0]:.1%} to {pair[1]:.1%})"


def _print(payload: dict[str, Any]) -> None:
    console = Console()
    s = payload["summary"]
    console.print(
        f"[bold]Stop and search[/], {s['period']}" + (f", {s['force']}" if s["force"] else "")
    )
    t = Table(title="Headline figures (95% Wilson intervals)")
    for col in ("measure", "value", "interval"):
        t.add_column(col)
    t.add_row("Searches", f"{s['searches']:,}" if s["searches"] is not None else "suppressed", "")
    for key, label in (
        ("arrest_rate", "Arrest rate"),
        ("action_rate", "Any action (not NFA)"),
        ("no_further_action_rate", "No further action"),
        ("find_rate", "Find rate (linked to object)"),
        ("find_rate_of_outcomes", "Find rate, searches with an action"),
        ("found_or_arrest_rate", "Found or arrest"),
        ("linked_action_rate", "Linked with an action"),
    ):
        t.add_row(label, _pct(s.get(key)), _ci(s.get(f"{key}_ci")))
    console.print(t)
    _print_breakdowns(console, payload, s)
    hit = payload.get("hit_rate_ethnicity", {}).get("summary", {})
    if hit.get("chi2_p_value") is not None:
        console.print(
            f"Outcome test (officer-defined ethnicity): chi-square {hit['chi2']:.2f} on "
            f"{hit['chi2_dof']} df, p = {hit['chi2_p_value']:.3g}",
            highlight=False,
        )
    agree = payload.get("ethnicity_agreement", {}).get("summary", {})
    if agree.get("kappa") is not None:
        console.print(
            f"Self- vs officer-defined ethnicity: kappa {agree['kappa']:.3f} {_ci_num(agree['kappa_ci'])}",
            highlight=False,
        )
    intel = payload.get("intelligence_led", {}).get("summary", {})
    if intel:
        console.print(
            f"Top 5% violence/weapons cells: {_pct(intel.get('top5pct_offence_share'))} of offences, "
            f"{_pct(intel.get('top5pct_search_share'))} of searches "
            f"{_ci(intel.get('top5pct_search_share_ci'))}",
            highlight=False,
        )
        if intel.get("gistar_hot_cells"):
            console.print(
                f"Gi* hot spots ({intel['gistar_hot_cells']:,} cells): "
                f"{_pct(intel.get('gistar_hot_offence_share'))} of offences, "
                f"{_pct(intel.get('gistar_hot_search_share'))} of searches "
                f"{_ci(intel.get('gistar_hot_search_share_ci'))}",
                highlight=False,
            )
    if s.get("spans_recording_change"):
        console.print(
            "[bold]Recording breaks[/]: the period spans a recording change; pooled rates mix "
            "two ways of recording outcomes (rates on each side in the notes and the JSON).",
            highlight=False,
        )
    for key in ("recording_breaks", "outcomes", "disproportionality", "intelligence_led"):
        notes = payload["notes"] if key == "outcomes" else payload.get(key, {}).get("notes", [])
        for note in notes:
            console.print(f"Note: {note}", highlight=False, soft_wrap=True)


def _print_breakdowns(console: Console, payload: dict[str, Any], s: dict[str, Any]) -> None:
    """The breakdown tables shown in the terminal (months of a recording break marked)."""
    for name in _SHOWN:
        rows = payload["tables"].get(name) or []
        bt = Table(title=name.replace("_", " "))
        for col in ("value", "searches", "arrest rate", "NFA rate", "find rate"):
            bt.add_column(col)
        breaks = set(s.get("recording_breaks") or []) if name == "by_month" else set()
        for r in rows:
            bt.add_row(
                str(r["value"]) + (" (break)" if str(r["value"]) in breaks else ""),
                "suppressed" if r["searches"] is None else f"{r['searches']:,}",
                _pct(r["arrest_rate"]),
                _pct(r["no_further_action_rate"]),
                _pct(r["find_rate"]),
            )
        console.print(bt)


def _ci_num(pair: Any) -> str:
    if not pair or pair[0] is None:
        return ""
    return f"({pair[0]:.3f} to {pair[1]:.3f})"


def register(app: typer.Typer) -> None:
    @app.command()
    def stopsearch(
        date_from: str = FromOption,
        date_to: str = ToOption,
        force: str = typer.Option(None, "--force", help="Force slug or name, e.g. kent."),
        population: Path = typer.Option(
            None,
            "--population",
            help="CSV of residents by broad ethnicity (columns ethnicity, population, source) "
            "for disproportionality ratios.",
        ),
        audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
        threshold: int = typer.Option(
            5, "--threshold", help="Disclosure threshold for --audience public."
        ),
        crime_from: str = typer.Option(
            None, "--crime-from", help="First month of offences to compare."
        ),
        crime_to: str = typer.Option(None, "--crime-to", help="Last month of offences to compare."),
        cell_m: float = typer.Option(500.0, "--cell", help="Grid cell size in metres."),
        outcome_mapping: Path = typer.Option(
            None,
            "--outcome-mapping",
            help="Own outcome -> group CSV (columns raw_outcome, group, action, source).",
        ),
        out: Path = out_option(
            "Also write the results",
            formats="the format comes from the extension: .json, .xlsx (a sheet per table and a "
            "README), .csv or .parquet (first table; the others beside it).",
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Stop and search: arrest, NFA and find rates with intervals; fairness; targeting."""
        from harmscope.privacy.scrutiny import published_scrutiny
        from harmscope.store import Store

        validate.store_path(db)
        validate.month(date_from, "--from")
        validate.month(date_to, "--to")
        validate.month(crime_from, "--crime-from")
        validate.month(crime_to, "--crime-to")
        validate.not_blank(force, "--force", fix="name a force, e.g. --force kent, or leave it out")
        validate.finite(cell_m, "--cell", gt=0, fix="pass metres, e.g. --cell 500")
        validate.input_file(population, "--population")
        validate.input_file(outcome_mapping, "--outcome-mapping")
        from harmscope.export import files

        check_out = files.check_out(out, formats=(".json", *files.TABLE_FORMATS))
        with Store.open(db, read_only=True) as store:
            payload, pub = published_scrutiny(
                store,
                date_from,
                date_to,
                force=force,
                population=population,
                audience=audience,
                threshold=threshold,
                crime_from=crime_from,
                crime_to=crime_to,
                cell_m=cell_m,
                outcome_mapping=outcome_mapping,
            )
        if check_out == ".json":
            out.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
        elif out is not None:
            files.write_tables(
                pub.tables,
                out,
                readme=files.readme_rows(pub, "Stop and search scrutiny (harmscope stopsearch)"),
                suppressed_cols=files.suppressed_columns(pub),
            )
        if json_out:
            print_json(payload)
            return
        _print(payload)
        if out is not None and not quiet:
            Console(stderr=True).print(f"Wrote {out}")


def demo(store: Store, out_dir: Path) -> list[str]:
    """Run the scrutiny on the demo store and write its JSON (public audience)."""
    from harmscope.privacy.scrutiny import published_scrutiny
    from harmscope.store.queries.catalog import stop_search_count

    if stop_search_count(store) == 0:
        return ["no stop-and-search rows in the sample: skipped"]
    payload, _ = published_scrutiny(store, audience="public")
    path = Path(out_dir) / "stopsearch.json"
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    s = payload["summary"]
    return [
        f"{s['period']}: {s['searches']:,} searches; arrest rate {_pct(s['arrest_rate'])} "
        f"{_ci(s['arrest_rate_ci'])}; find rate {_pct(s['find_rate'])} {_ci(s['find_rate_ci'])}; "
        f"NFA {_pct(s['no_further_action_rate'])} {_ci(s['no_further_action_rate_ci'])}",
        str(path),
    ]
