"""Deprivation: harm per 1,000 residents across IMD 2019 deciles, and the gradient."""

from __future__ import annotations

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._charts import rate_chart
from harmscope.report.sections._util import (
    RATE_COLS,
    area_analysis,
    has_lsoa_area,
    para,
    protect_group_table,
)

ORDER = 80


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.harm import deprivation_gradient

    if not has_lsoa_area(ctx):
        return None
    res = area_analysis(ctx, "deprivation", deprivation_gradient)
    table = res.table[["imd_decile", "lsoas", "population", "count", *RATE_COLS]]
    if len(table) < 2:
        return None
    pub = protect_group_table(
        ctx, table, "imd_decile", "imd_decile", {c: "count" for c in RATE_COLS}
    )
    s = res.summary
    sentences = []
    if "harm_rate_ratio_per_decile" in s:
        lo, hi = s["harm_rate_ratio_per_decile_ci"]
        step = (s["harm_rate_ratio_per_decile"] - 1) * 100
        sentences.append(
            f"Each step of one decile towards less deprivation goes with harm per resident "
            f"{step:+.0f}% (95% CI {(lo - 1) * 100:+.0f}% to {(hi - 1) * 100:+.0f}%)."
        )
    if "harm_most_vs_least_deprived_ratio" in s:
        lo, hi = s["harm_most_vs_least_deprived_ratio_ci"]
        d0, d1 = s.get("most_vs_least_deciles", [1, 10])
        sentences.append(
            f"LSOAs in decile {d0} have {s['harm_most_vs_least_deprived_ratio']:.1f} times the harm rate of "
            f"decile {d1} (95% CI {lo:.1f} to {hi:.1f})."
        )
    sentences.append(
        "This is an association: deprivation travels with town centres and policing intensity."
    )
    return Section(
        key="deprivation",
        title="Deprivation",
        html=para(*sentences),
        charts={
            "deprivation": rate_chart(
                pub, "imd_decile", "Harm per 1,000 residents by IMD 2019 decile (1 = most deprived)"
            )
        },
        tables={"deprivation": pub},
        notes=list(res.notes),
        method=res.method,
        disclosure_checked=True,
    )
