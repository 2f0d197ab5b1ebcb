"""Rural against urban (ONS Rural-Urban Classification 2011), as harm per 1,000 residents
with intervals and the rural/urban rate ratio from a quasi-Poisson model."""

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

ORDER = 70


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.harm import rural_urban

    if not has_lsoa_area(ctx):
        return None
    res = area_analysis(ctx, "rural_urban", rural_urban)
    table = res.table[["urban_rural", "lsoas", "population", "count", *RATE_COLS]]
    if len(table) < 2:
        return None  # all urban or all rural: nothing to compare
    derived = {c: "count" for c in RATE_COLS}
    pub = protect_group_table(ctx, table, "urban_rural", "urban_rural", derived)
    ruc = res.tables["ruc_class"][["ruc11_class", "lsoas", "population", "count", *RATE_COLS]]
    ruc_pub = protect_group_table(ctx, ruc, "ruc11_class", "ruc11_class", derived)
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
    return Section(
        key="rural-urban",
        title="Rural against urban",
        html=para(*sentences),
        charts={
            "rural_urban": rate_chart(
                pub, "urban_rural", "Harm per 1,000 residents, rural and urban"
            ),
            "ruc_class": rate_chart(
                ruc_pub, "ruc11_class", "Harm per 1,000 residents by RUC 2011 class"
            ),
        },
        tables={"rural_urban": pub, "ruc_class": ruc_pub},
        notes=list(res.notes),
        method=res.method,
        disclosure_checked=True,
    )
