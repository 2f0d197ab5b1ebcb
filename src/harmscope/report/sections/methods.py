"""Methods and sources: the weights used (each with its source and whether it is an
estimate), the data and reference sources, the disclosure-control rule and the main caveats.
Always last (ORDER 1000) so plug-in sections can sit anywhere before it."""

from __future__ import annotations

from markupsafe import Markup, escape

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import harm_districts

ORDER = 1000

SOURCES = [
    (
        "Street-level crime",
        "police.uk monthly force files (data.police.uk), Open Government Licence v3.0. "
        "Each crime appears once, in the month recorded; locations are anonymised snap points.",
    ),
    (
        "Population",
        "ONS mid-2019 LSOA population estimates (via mySociety composite data), the latest "
        "LSOA estimates in the packaged reference data; district totals are sums of LSOAs.",
    ),
    (
        "Rural-urban class",
        "ONS Rural-Urban Classification 2011 for LSOAs (A1-C2 urban, D1-E2 rural).",
    ),
    (
        "Deprivation",
        "English Index of Multiple Deprivation 2019, LSOA deciles (1 = most deprived).",
    ),
    (
        "Boundaries",
        "2011 LSOA generalised clipped boundaries (ONS/OS via martinjc/UK-GeoJSON); districts "
        "dissolved from them. Contains OS data (c) Crown copyright and database right.",
    ),
    (
        "Geography",
        "police.uk uses 2021 LSOA codes from 2022; rows with a 2021-only code are placed in a "
        "2011 LSOA by point in polygon. Rows that cannot be placed count only in force totals.",
    ),
]


WEIGHT_RANGE = (
    "Every severity weight is uncertain, and most are estimates made from secondary sources "
    "(the status column above). The front page therefore gives the share of harm from violence "
    "and sexual offences as a range over ten weighting scenarios: the ONS Crime Severity Score "
    "and the Cambridge Crime Harm Index, each (1) at its central weights, (2) with every "
    "category at the low end of its plausible range, (3) at the high end, and the two mixed "
    "extremes, (4) violence at its high end and everything else low and (5) the reverse, which "
    "give the largest and smallest share violence can take. The plausible ranges are the "
    "low and high weights in the table above; how each was set is recorded in the weights "
    "tables' derivation column (for example the CSS rape weight, read from an unlabelled list, "
    "runs from 1,825 to 3,905). A conclusion is called firm only if it holds under all ten. "
    "This range is a separate and much wider uncertainty than the 95% intervals, which cover "
    "counting noise only. harmscope harm --sensitivity prints the full table."
)


def build(ctx: ReportContext) -> Section | None:
    weights = harm_districts(ctx).tables["weights"].copy()
    keep = [
        c
        for c in [
            "category",
            "weight",
            "weight_low",
            "weight_high",
            "status",
            "source",
            "derivation",
        ]
        if c in weights.columns
    ]
    weights = ctx.protect(weights[keep].reset_index(drop=True))  # reference values, no counts
    estimates = (
        weights[weights.get("status", "").astype(str) == "estimate"]["category"].tolist()
        if "status" in weights.columns
        else []
    )
    scheme = ctx.options.get("weights") or ctx.options.get("scheme", "css")
    aud = ctx.aud
    # Markup for our own tags, escape() for values only: a plain str added to escape()'s
    # Markup is escaped whole, which printed "<h3>Harm weights</h3><p>..." as text (issue 12).
    items = Markup("").join(
        Markup("<li><strong>{}.</strong> {}</li>").format(k, v) for k, v in SOURCES
    )
    if aud.suppress:
        sdc = (
            f"This is the public version. Counts from 1 to {aud.threshold - 1} are suppressed ([c]); "
            "further cells are suppressed so that no hidden count can be solved for from the row, "
            "column or grand totals of its table; rates, shares and harm built from a suppressed "
            "count are suppressed too; true zeros are shown (ONS practice). Counts published at two "
            "levels are protected together, so that one table's totals cannot reveal another's "
            "hidden cell: LSOA counts with the district, rural/urban, RUC-class and deprivation "
            "totals; monthly counts with the period totals and the year-on-year comparison; the "
            "headline categories with the category table. Other tables are protected on their own. "
            "Sections from other analyses follow the same rule or are withheld. "
            "Category counts are protected once for the whole force (every district and the force "
            "show one pattern, so a district's hidden count cannot be found by subtracting the "
            "other districts from the force). Harm figures: a harm total published exactly beside "
            "suppressed counts would let them be worked out (its weights are public), so in this "
            "version every harm figure over several categories (the headline, months, LSOAs, "
            "districts, rural/urban, deprivation) weighs the crimes of the categories suppressed "
            "in their district and month at one shared weight, the mean of those categories' "
            "weights; a category's own harm is its weight times its published count. Harm totals "
            "therefore differ slightly from the internal version (by at most the suppressed "
            "counts times the spread of their weights), and the differences cannot be used to "
            "recover a suppressed count."
        )
    else:
        sdc = (
            f"This is the {aud.name} version: counts are not suppressed ({aud.description}). "
            "Do not publish it; use --audience public for a version with disclosure control."
        )
    html = (
        Markup("<h3>Harm weights</h3><p>")
        + escape(
            f"Harm = sum over crimes of the severity weight of the crime's category (scheme: {scheme}). "
            "Each weight below carries its source and derivation; "
            + (
                f"{len(estimates)} are estimates ({', '.join(estimates)}), made as their derivation says. "
                if estimates
                else ""
            )
            + "Load an official table with --weights FILE."
        )
        + Markup("</p><h3>Sources</h3><ul>")
        + items
        + Markup("</ul><h3>Disclosure control</h3><p>")
        + escape(sdc)
        + Markup("</p><h3>How much the weights matter</h3><p>")
        + escape(WEIGHT_RANGE)
        + Markup("</p><h3>What the intervals cover</h3><p>")
        + escape(
            "Intervals are 95% and treat counts as Poisson with a fixed population. They leave out "
            "error in the weights and the population (2019 estimates used for later years), "
            "under-recording (much violence is never reported to police), and changes in recording "
            "practice. Police.uk categories pool offences of very different severity, so category "
            "weights are volume-weighted averages."
        )
        + Markup("</p>")
    )
    return Section(
        key="methods",
        title="Appendix: methods and sources",
        html=str(html),
        tables={"weights": weights},
        disclosure_checked=True,
    )
