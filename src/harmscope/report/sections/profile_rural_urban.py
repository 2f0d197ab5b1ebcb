"""Rural against urban (ONS Rural-Urban Classification 2011), as harm per 1,000 residents
with intervals and the rural/urban rate ratio from a quasi-Poisson model."""

from __future__ import annotations

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._charts import rate_chart
from harmscope.report.sections._util import group_rates, lsoa_groups_analysis, result_section

ORDER = 70
TITLE = "Rural against urban"


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.harm import rural_urban

    # An area whose LSOAs are all urban (Basildon, Brighton and Hove) or all rural is
    # announced: "all 110 LSOAs in Basildon are urban (ONS RUC 2011); ... does not apply".
    res = lsoa_groups_analysis(ctx, "rural_urban", rural_urban, TITLE)
    pub = group_rates(ctx, res.table, "urban_rural")
    ruc_pub = group_rates(ctx, res.tables["ruc_class"], "ruc11_class")
    s = res.summary
    sentences = []
    if "rural_vs_urban_harm_rate_ratio" in s:
        lo, hi = s["rural_vs_urban_harm_rate_ratio_ci"]
        sentences.append(
            f"Harm per resident in rural LSOAs is {s['rural_vs_urban_harm_rate_ratio']:.2f} times that in "
            f"urban LSOAs (95% CI {lo:.2f} to {hi:.2f}, allowing for extra variation between LSOAs)."
        )
    sentences.append(
        "Crimes are counted where they happen and divided by who lives there, so busy town centres "
        "raise urban rates."
    )
    return result_section(
        "rural-urban",
        TITLE,
        res,
        sentences,
        charts={
            "rural_urban": rate_chart(
                pub, "urban_rural", "Harm per 1,000 residents, rural and urban"
            ),
            "ruc_class": rate_chart(
                ruc_pub, "ruc11_class", "Harm per 1,000 residents by RUC 2011 class"
            ),
        },
        tables={"rural_urban": pub, "ruc_class": ruc_pub},
    )
