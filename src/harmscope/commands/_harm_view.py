"""How `harmscope harm` shows its results: the harm table, the weights in use, and an
offence-code extract weighed (--codes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harmscope.commands._common import print_json, table


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "suppressed"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def print_harm(payload: dict[str, Any], by_month: bool) -> None:
    console = Console()
    s = payload["summary"]
    console.print(
        f"[bold]Harm[/] ({s['scheme']}), {s['area']}, {s['first_month']}..{s['last_month']} "
        f"({s['months']} months), level {s['level']}",
        highlight=False,
    )
    ci = s.get("harm_ci") or [None, None]
    estimated = " (estimated: includes suppressed counts)" if s.get("harm_estimated") else ""
    console.print(
        f"{_fmt(s['count'])} crimes and ASB incidents; harm {_fmt(s['harm'], 0)}{estimated} "
        f"(95% CI {_fmt(ci[0], 0)} to {_fmt(ci[1], 0)})",
        highlight=False,
    )
    t = Table(title="Areas ranked by harm (rates per 1,000 residents over the period; 95% CI)")
    cols = (
        ["area"]
        + (["month"] if by_month else [])
        + ["count", "rate", "harm", "harm rate", "harm rate CI"]
    )
    for c in cols:
        t.add_column(c, justify="left" if c in ("area", "month") else "right")
    for r in payload["totals"][:60]:
        ci = (
            "suppressed"
            if r.get("harm_rate_ci_low") is None
            else f"{r['harm_rate_ci_low']:,.0f}-{r['harm_rate_ci_high']:,.0f}"
        )
        row = [str(r["area_name"])] + ([str(r["month"])] if by_month else [])
        row += [
            _fmt(r["count"]),
            _fmt(r.get("rate_per_1000")),
            _fmt(r.get("harm"), 0),
            _fmt(r.get("harm_rate_per_1000"), 0),
            ci,
        ]
        t.add_row(*row)
    console.print(t)
    ct = Table(title="Harm against count, by category")
    for c in ("category", "count", "share of count", "harm", "share of harm"):
        ct.add_column(c, justify="left" if c == "category" else "right")
    for r in payload["by_category"]:
        ct.add_row(
            r["category"],
            _fmt(r["count"]),
            "suppressed" if r["count_share"] is None else f"{r['count_share']:.1%}",
            _fmt(r["harm"], 0),
            "suppressed" if r["harm_share"] is None else f"{r['harm_share']:.1%}",
        )
    console.print(ct)
    for note in payload["notes"]:
        console.print(f"Note: {note}", highlight=False)
    console.print(f"[dim]Method: {payload['method']}[/]", highlight=False)


def print_weights(scheme: str, weights: str | None, json_out: bool) -> None:
    from harmscope.analysis.result import frame_records
    from harmscope.reference.offences import load_weights

    table = load_weights(scheme, path=weights)
    if json_out:
        print_json(
            {"scheme": scheme if weights is None else "custom", "weights": frame_records(table)}
        )
        return
    console = Console()
    t = table(
        f"Category weights ({scheme if weights is None else weights})",
        ("category", "weight", "range of sub-groups", "status"),
    )
    for r in table.itertuples():
        rng = "" if r.weight_low != r.weight_low else f"{r.weight_low:g}-{r.weight_high:g}"
        t.add_row(r.category, f"{r.weight:,.2f}", rng, r.status)
    console.print(t)
    console.print(
        "Sources and derivations: --json, or reference/data/offences/SOURCES.md", highlight=False
    )


def run_codes(path: Path, scheme: str, weights: str | None, json_out: bool) -> None:
    from harmscope.analysis.harm import harm_from_codes
    from harmscope.analysis.result import _jsonable, frame_records
    from harmscope.sources.offence_codes import read_code_counts

    frame, by = read_code_counts(path)
    res = harm_from_codes(frame, scheme=scheme, weights=weights, by=by)
    payload = _jsonable(
        {
            "summary": res.summary,
            "method": res.method,
            "table": frame_records(res.table.drop(columns=["harm_w2", "w_max"])),
            "tables": {
                k: frame_records(v.drop(columns=["harm_w2", "w_max"]))
                for k, v in res.tables.items()
            },
        }
    )
    if json_out:
        print_json(payload)
        return
    console = Console()
    s = payload["summary"]
    console.print(
        f"[bold]Harm from offence codes[/] ({s['scheme']}): {s['count']:,.0f} offences, harm "
        f"{s['harm']:,.0f} (95% CI {s['harm_ci'][0]:,.0f} to {s['harm_ci'][1]:,.0f})",
        highlight=False,
    )
    t = table("By ONS sub-group", ("sub-group", "count", "harm"))
    for r in payload["tables"]["by_subgroup"]:
        t.add_row(str(r["ons_subgroup"]), f"{r['count']:,.0f}", f"{r['harm']:,.0f}")
    console.print(t)
    console.print(f"[dim]Method: {payload['method']}[/]", highlight=False)
