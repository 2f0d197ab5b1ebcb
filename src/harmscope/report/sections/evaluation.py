"""Report section "What works here": scheme evaluations and, before funding, their power."""

from __future__ import annotations

import pandas as pd
from markupsafe import escape

from harmscope.report.section import ReportContext, Section
from harmscope.store.queries import report as queries

ORDER = 110
MAX_EVALUATED = 3  # a report is not the place for every scheme; the CLI gives the rest


def _pct(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "n/a"
    return f"{float(v):.0%}"


def _dated(schemes: list[dict], months: list[pd.Timestamp]) -> list[dict]:
    """Schemes whose start leaves >= 3 months of data before it and >= 1 after."""
    out = []
    for s in schemes:
        if not s["start"]:
            continue
        st = pd.Timestamp(s["start"])
        if sum(m < st for m in months) >= 3 and sum(m >= st for m in months) >= 1:
            out.append(s)
    return out


def build(ctx: ReportContext) -> Section | None:
    from harmscope.sources.register import load_schemes

    if not ctx.store.table_exists("interventions"):
        return None
    schemes = load_schemes(ctx.store)
    if not schemes:
        return None
    months = queries.street_months(ctx.store)
    if len(months) < 4:
        return None
    # imported only when there is a scheme to evaluate (statsmodels and scipy cost ~0.5 s)
    from harmscope.analysis.evaluation.evaluate import evaluate, load_panels
    from harmscope.analysis.evaluation.register_power import register_power

    parts = [
        "<p>Did a funded scheme work here, and how sure can we be? Each dated scheme is "
        "compared with what its areas would have seen without it, estimated three ways "
        "(difference-in-differences against matched comparison areas, synthetic control, "
        "interrupted time series). A verdict never claims more than the design can show: "
        "\u201cno detectable change\u201d comes with the smallest reduction the design could "
        "have detected.</p>"
    ]
    charts: dict[str, dict] = {}
    tables: dict[str, pd.DataFrame] = {}
    methods: list[str] = []
    cache: dict = {}
    for s in _dated(schemes, months)[:MAX_EVALUATED]:
        key = tuple(s["crime_types"])
        if key not in cache:
            cache[key] = load_panels(ctx.store, key)
        res = evaluate(
            ctx.store,
            s["areas"],
            s["start"],
            end=s["end"],
            crime_types=key,
            cost=s["cost_gbp"],
            selected_for_high_counts=s["selected_for_high_counts"],
            name=s["name"],
            panels=cache[key],
        )
        slug = "".join(c if c.isalnum() else "_" for c in s["name"].lower()).strip("_")[:40]
        rows = "".join(
            f"<li><strong>{escape(r['method'])}</strong>: IRR "
            + (
                f"{r['irr']:.2f} (95% CI {r['irr_ci'][0]:.2f} to {r['irr_ci'][1]:.2f}), p {r['p_value']:.3f}; "
                if r.get("irr") is not None
                else ""
            )
            + f"{escape(r['verdict'])}</li>"
            for r in res.summary["results"]
        )
        parts.append(f"<h3>{escape(s['name'])} (from {s['start']:%Y-%m})</h3><ul>{rows}</ul>")
        if len(set((s["areas"].get("starts") or {}).values())) > 1:
            # a staggered roll-out is read here from its first start, and said so
            parts.append(
                "<p class='note'>This scheme started in its areas at different months; "
                "this section reads it from the first start with the standard designs. "
                f"<code>harmscope evaluate --scheme \"{escape(s['name'])}\"</code> uses the "
                "staggered (Callaway-Sant'Anna) design for the roll-out.</p>"
            )
        parts += [f"<p class='note'>{escape(n)}</p>" for n in res.notes]
        for name, spec in res.charts.items():
            method = next(
                (r["method"] for r in res.summary["results"] if name.startswith(r["method"] + "_")),
                None,
            )
            series = res.tables.get(f"{method}_series")
            # A public chart must not show a small count: drop it when any month is small.
            if ctx.public and series is not None and (series["observed"] < ctx.threshold).any():
                parts.append(
                    f"<p class='note'>Chart {escape(name)} withheld: a monthly count is below {ctx.threshold}.</p>"
                )
                continue
            charts[f"{slug}_{name}"] = spec
        tables[f"{slug}_results"] = ctx.protect(res.table)
        if "did_balance" in res.tables:  # the matching, shown: means and standardised differences
            tables[f"{slug}_matching"] = ctx.protect(res.tables["did_balance"])
        methods.append(res.method)
    undated = [s for s in schemes if not s["start"]]
    if undated:
        pw = register_power(ctx.store, undated)
        tbl = pw.table[
            [
                c
                for c in (
                    "scheme",
                    "unit",
                    "n_areas",
                    "baseline_per_month",
                    "mde_did",
                    "mde_synth",
                    "notes",
                )
                if c in pw.table
            ]
        ]
        tables["minimum_detectable_effects"] = ctx.protect(tbl)
        items = "".join(
            f"<li>{escape(r['scheme'])}: DiD {_pct(r.get('mde_did'))}, synthetic control {_pct(r.get('mde_synth'))}</li>"
            for r in pw.table.to_dict(orient="records")
        )
        parts.append(
            f"<h3>Could we even tell? {len(undated)} schemes without dates</h3>"
            f"<p>Smallest reduction in the schemes' target crimes detectable with 80% power at "
            f"alpha 0.05, assuming {pw.summary['pre_months']} months of data before and "
            f"{pw.summary['post_months']} after a start (the real dates are not recorded):</p>"
            f"<ul>{items}</ul><p>A scheme expected to cut crime by less than its figure could "
            "not be told apart from noise in police data, whatever it achieves.</p>"
        )
        methods.append(pw.method)
    return Section(
        key="evaluation",
        title="What works here: scheme evaluation and power",
        html="\n".join(parts),
        charts=charts,
        tables=tables,
        method=" ".join(methods),
        # Tables hold no counts (ratios, means, modelled crimes averted over whole post
        # periods); charts with monthly counts are dropped for the public when any is small.
        disclosure_checked=True,
    )
