"""Deprivation: harm per 1,000 residents across IMD 2019 deciles, and the gradient."""

from __future__ import annotations

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._charts import rate_chart
from harmscope.report.sections._util import group_rates, lsoa_groups_analysis, result_section

ORDER = 80
TITLE = "Deprivation"


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.harm import deprivation_gradient

    # fewer than two IMD deciles (or none: Welsh LSOAs carry no English IMD) is announced
    res = lsoa_groups_analysis(ctx, "deprivation", deprivation_gradient, TITLE)
    pub = group_rates(ctx, res.table, "imd_decile")
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
    chart = rate_chart(
        pub, "imd_decile", "Harm per 1,000 residents by IMD 2019 decile (1 = most deprived)"
    )
    return result_section(
        "deprivation",
        TITLE,
        res,
        sentences,
        charts={"deprivation": chart},
        tables={"deprivation": pub},
    )
