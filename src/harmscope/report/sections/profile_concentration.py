"""Concentration: how much harm falls in the top 1, 5 and 10% of LSOAs and of street
locations, with Lorenz curves and Gini coefficients (Weisburd's law of crime concentration)."""

from __future__ import annotations

import pandas as pd

from harmscope.report import vegalite as vl
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import area_analysis, need_lsoa_area, result_section

ORDER = 60
TITLE = "Concentration"
TOP = (1, 5, 10)


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.harm import concentration

    need_lsoa_area(ctx, "Concentration over LSOAs", TITLE)
    results = {
        unit: area_analysis(ctx, f"concentration_{unit}", concentration, unit=unit)
        for unit in ("lsoa", "location")
    }
    rows = []
    for unit, res in results.items():
        s = res.summary
        for measure in ("harm", "count"):
            for p in TOP:
                key = f"top{p}_{measure}_share"
                ci = s.get(f"{key}_expected_ci", [None, None])
                rows.append(
                    {
                        "unit": "LSOAs" if unit == "lsoa" else "street locations",
                        "units": s["units"],
                        "measure": measure,
                        "top_pct": p,
                        "share": s[key],
                        "share_expected": s.get(f"{key}_expected"),
                        "share_expected_ci_low": ci[0],
                        "share_expected_ci_high": ci[1],
                    }
                )
    shares = pd.DataFrame(rows)
    gini = pd.DataFrame(
        [
            {
                "unit": "LSOAs" if u == "lsoa" else "street locations",
                "units": r.summary["units"],
                "gini_harm": r.summary["gini_harm"],
                "gini_count": r.summary["gini_count"],
                "units_for_50pct_harm": r.summary.get("units_for_50pct_harm"),
                "units_for_25pct_harm": r.summary.get("units_for_25pct_harm"),
            }
            for u, r in results.items()
        ]
    )
    # Shares of anonymous ranked units are not counts of anything identifiable.
    shares_pub = ctx.protect(shares)
    gini_pub = ctx.protect(gini)
    lorenz = pd.concat(
        [
            r.tables["lorenz"].assign(unit="LSOAs" if u == "lsoa" else "street locations")
            for u, r in results.items()
        ],
        ignore_index=True,
    )
    lorenz_pub = ctx.protect(lorenz)
    pct = {"axis": {"format": "%"}, "scale": {"domain": [0, 1]}}
    lorenz_enc = {
        "x": {
            "shorthand": "unit_share:Q",
            "title": "share of places (least to most harmed)",
            **pct,
        },
        "y": {"shorthand": "value_share:Q", "title": "cumulative share", **pct},
        "color": "measure:N",
        "strokeDash": "unit:N",
    }
    lorenz_chart = vl.chart(
        lorenz_pub, [("line", {}, lorenz_enc)], width=420, height=320, title="Lorenz curves"
    )
    shares_pub["places"] = "top " + shares_pub["top_pct"].astype(str) + "% of " + shares_pub["unit"]
    order = [f"top {p}% of {u}" for u in ("LSOAs", "street locations") for p in TOP]
    bars_enc = {
        "y": {"shorthand": "places:N", "sort": order, "title": None},
        "yOffset": "measure:N",
        "x": {"shorthand": "share:Q", "title": "share of the area's total", **pct},
        "color": "measure:N",
        "tooltip": ["unit", "measure", "top_pct", {"shorthand": "share:Q", "format": ".1%"}],
    }
    bars = vl.chart(
        shares_pub,
        [("bar", {}, bars_enc)],
        width=560,
        height=vl.step(12),
        title="Share held by the top places",
    )
    ls, loc = results["lsoa"].summary, results["location"].summary
    sentences = [
        f"The top 10% of LSOAs hold {ls['top10_harm_share']:.0%} of harm and {ls['top10_count_share']:.0%} "
        f"of recorded crimes (Gini {ls['gini_harm']:.2f} for harm, {ls['gini_count']:.2f} for counts).",
        f"Across {loc['units']:,} street locations with at least one crime, the top 1% hold "
        f"{loc['top1_harm_share']:.0%} of harm; half of all harm falls in "
        f"{loc.get('units_for_50pct_harm', float('nan')):.1%} of them.",
        _expected_sentence(ls),
        "Weisburd's law puts half of crime on 2.1-6.0% of street segments; police.uk snap points "
        "are not segments, and only places with a crime are counted, so the comparison is rough.",
    ]
    return result_section(
        "concentration",
        TITLE,
        results["lsoa"],
        sentences,
        charts={"top_shares": bars, "lorenz": lorenz_chart},
        tables={"top_shares": shares_pub, "lorenz": lorenz_pub, "gini": gini_pub},
        method=results["lsoa"].method
        + " Street locations: the same measures over police.uk snap points with at least one crime.",
    )


def _expected_sentence(s: dict) -> str:
    ci = s.get("top10_harm_share_expected_ci")
    if not ci or s.get("top10_harm_share_expected") is None:
        return ""
    return (
        "With chance variation in the counts removed (Poisson bootstrap), the top 10% of LSOAs hold "
        f"{s['top10_harm_share_expected']:.0%} of expected harm (95% CI {ci[0]:.0%} to {ci[1]:.0%})."
    )
