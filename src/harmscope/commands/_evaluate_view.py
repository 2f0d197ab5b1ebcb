"""How `harmscope evaluate` shows a result in a terminal (power table, estimates, balance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from harmscope.commands._common import table

if TYPE_CHECKING:
    import pandas as pd

    from harmscope.analysis.result import Result


def print_power(res: Result, console: Console) -> None:
    from harmscope.analysis.result import frame_records

    t = table(
        f"Minimum detectable reduction (80% power, alpha 0.05; {res.summary['pre_months']} months before, {res.summary['post_months']} after: assumed)",
        ("scheme", "unit", "areas", "crimes/month", "DiD MDE", "synth MDE", "notes"),
    )
    for r in frame_records(res.table):
        t.add_row(
            r["scheme"],
            str(r.get("unit") or ""),
            str(r.get("n_areas") or ""),
            f"{r['baseline_per_month']:,.0f}" if r.get("baseline_per_month") is not None else "",
            _pct(r.get("mde_did")),
            _pct(r.get("mde_synth")),
            r.get("notes") or "",
        )
    console.print(t)


def print_estimates(res: Result, console: Console) -> None:
    import pandas as pd

    planted = any("detection_rate" in r for r in res.summary["results"])
    rate_key = "detection_rate" if planted else "false_positive_rate"
    placebo_col = "placebo detection rate (planted)" if planted else "false-positive rate"
    t = table(
        f"{res.summary.get('scheme', 'placebo check')}",
        ("method", "IRR", "95% CI", "p", "MDE", placebo_col),
    )
    for r in res.summary["results"]:
        t.add_row(
            r["method"],
            f"{r['irr']:.3f}" if r.get("irr") is not None else "",
            f"{r['irr_ci'][0]:.3f}-{r['irr_ci'][1]:.3f}" if r.get("irr_ci") else "",
            f"{r['p_value']:.3g}" if r.get("p_value") is not None else "",
            _pct(r.get("mde")),
            _pct(r.get(rate_key)),
        )
    console.print(t)
    for r in res.summary["results"]:
        console.print(
            f"[bold]{r['method']}[/]: {r.get('verdict', '')}", highlight=False, soft_wrap=True
        )
    bal = res.tables.get("did_balance")
    if isinstance(bal, pd.DataFrame):
        _print_balance(bal, console)


def _print_balance(bal: pd.DataFrame, console: Console) -> None:
    from harmscope.analysis.result import frame_records

    b = table(
        "DiD matching: treated vs candidate pool vs matched comparison areas",
        ("feature", "used", "treated", "pool", "matched", "SMD before", "SMD after"),
    )
    keys = ("treated_mean", "pool_mean", "matched_mean", "smd_before", "smd_after")
    for r in frame_records(bal):
        b.add_row(
            r["feature"],
            "yes" if r["used_in_matching"] else "no",
            *[f"{r[k]:.2f}" if r[k] is not None else "" for k in keys],
        )
    console.print(b)


def _pct(v) -> str:
    import numpy as np

    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    return f"{v:.1%}"
