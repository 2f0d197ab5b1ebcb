"""Headline figures: volume and harm of crime in the area, the violent categories, rates per
1,000 residents with intervals, and the change against the same months a year before."""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.harm import COUNT_RATE_COLS, HARM_RATE_COLS
from harmscope.analysis.profile import area_population, headline_measures, weight_range_figures
from harmscope.errors import HarmscopeError
from harmscope.privacy.disclosure import is_small
from harmscope.report.front import harm_unit
from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import (
    cards,
    ci_text,
    harm_districts,
    harm_total,
    harm_trend_with_baseline,
    has_lsoa_area,
    para,
    protected_categories,
    segment_hidden,
    value_text,
)

ORDER = 20

VIOLENT = ("Violence and sexual offences", "Robbery", "Possession of weapons")
_DERIVED = [
    "harm",
    "harm_ci_low",
    "harm_ci_high",
    *COUNT_RATE_COLS,
    *HARM_RATE_COLS,
    "share_of_harm",
]


def headline_table(ctx: ReportContext) -> tuple[pd.DataFrame, float, int]:
    """One row per headline measure, with rates and intervals (before disclosure control)."""
    total = harm_total(ctx)
    population = area_population(harm_districts(ctx).tables["totals"])
    groups = [("All street-level crime", None)]
    groups += [(c, [c]) for c in VIOLENT]
    groups.append(("Violence, robbery and weapons together", VIOLENT))
    table = headline_measures(total.table, districts_weights(ctx), population, groups)
    months = int(total.summary.get("months") or 0)
    return table, population, months


def districts_weights(ctx: ReportContext) -> dict:
    """Each category's own weight (the scheme or the user's table)."""
    wt = harm_districts(ctx).tables["weights"]
    return dict(zip(wt["category"], wt["weight"].astype(float), strict=True))


def _hidden_rows(ctx: ReportContext, table: pd.DataFrame) -> list[bool]:
    if not ctx.public:
        return [False] * len(table)
    _, cats = protected_categories(ctx)
    hidden_cat = dict(zip(cats["category"], cats["count"].isna(), strict=True))
    singles = [bool(hidden_cat.get(c, False)) for c in VIOLENT]
    all_hidden = bool(is_small([table["count"].iloc[0]], ctx.threshold)[0]) or segment_hidden(
        ctx, "period", grouping="part"
    )
    return [all_hidden, *singles, any(singles) or all_hidden]


SENSITIVITY_METHOD = (
    " The share of harm from violence and sexual offences is also given as a range: the "
    "lowest and highest share over every weighting scenario (ONS Crime Severity Score and "
    "Cambridge Crime Harm Index, each at its central weights, with every category at the low "
    "or the high end of its plausible range, and the two mixed extremes; see Methods and "
    "sources). A conclusion is listed as holding only if it is true under every scenario."
)


def weight_sensitivity_result(ctx: ReportContext):
    """analysis.harm.weight_sensitivity for the report's area and period (cached), or None
    when the report has no force or district to run it on."""
    if not has_lsoa_area(ctx):
        return None
    from harmscope.analysis.harm import weight_sensitivity

    return ctx.cached(
        "weight_sensitivity",
        lambda: weight_sensitivity(
            ctx.store, area=ctx.area, date_from=ctx.month_from, date_to=ctx.month_to
        ),
    )


def sensitivity_parts(ctx: ReportContext) -> tuple[list, list[str], dict]:
    """The front page's weight-sensitivity card, sentences and table. For the public
    audience they are shown only when no category count is suppressed: the same counts under
    ten weightings are ten equations that could give a hidden count back."""
    res = weight_sensitivity_result(ctx)
    if res is None:
        return [], [], {}
    if ctx.public:
        _, cats = protected_categories(ctx)
        if cats["count"].isna().any():
            return (
                [],
                [
                    "(The range of the violence share over weightings is withheld: a "
                    "category count is suppressed.)"
                ],
                {},
            )
    s = res.summary
    scen = res.tables["scenarios"]
    central = {
        lab.split(":")[0]: key
        for key, lab in zip(scen["scenario"], scen["label"], strict=True)
        if key.endswith("_central")
    }
    fig = weight_range_figures(
        s.get("focus_share_by_scenario", {}), central, res.tables["conclusions"]
    )
    if not fig["range_text"]:
        return [], [], {}
    items = [
        (
            "share of harm from violence and sexual offences, over every weighting",
            fig["range_text"],
            fig["central_text"],
        )
    ]
    sentences = []
    if fig["surviving"]:
        sentences.append("True under every choice of weights: " + " ".join(fig["surviving"]))
    if fig["not_surviving"]:
        sentences.append(
            "Not true under every choice of weights, so not a firm finding: "
            + " ".join(fig["not_surviving"])
        )
    table = scen[["label", "focus_share"]].rename(
        columns={"label": "weighting", "focus_share": "share_of_harm_violence_sexual"}
    )
    tables = {
        "weight_sensitivity": ctx.protect(table.reset_index(drop=True)),
        "weight_conclusions": ctx.protect(res.tables["conclusions"].reset_index(drop=True)),
    }
    return items, sentences, tables


def build(ctx: ReportContext) -> Section | None:
    table, population, months = headline_table(ctx)
    if table["count"].iloc[0] == 0:
        return None
    # The rows repeat figures of the category table (and the period total of the monthly
    # tables), so they take their suppression from those protections rather than their own.
    pub = ctx.protect_masked(
        table,
        _hidden_rows(ctx, table),
        count_cols=["count"],
        derived={c: "count" for c in _DERIVED},
    )
    allc = pub.iloc[0]
    viol = pub.iloc[-1]
    items = [
        ("street-level crimes", value_text(allc["count"]), f"{months} month(s) of data"),
        (
            f"harm, {harm_unit(ctx.options)} (all crime)",
            value_text(allc["harm"], decimals=0),
            ci_text(allc["harm_ci_low"], allc["harm_ci_high"], decimals=0),
        ),
        (
            "harm per 1,000 residents",
            value_text(allc["harm_rate_per_1000"], decimals=0),
            ci_text(allc["harm_rate_ci_low"], allc["harm_rate_ci_high"], decimals=0),
        ),
        (
            "violence, robbery and weapons offences",
            value_text(viol["count"]),
            (
                f"{value_text(viol['rate_per_1000'], decimals=1)} per 1,000 residents ("
                + ci_text(viol["rate_ci_low"], viol["rate_ci_high"], decimals=1)
                + ")"
            )
            if pd.notna(viol["rate_per_1000"])
            else "",
        ),
        (
            "share of harm from violence, robbery and weapons",
            "[c]" if pd.isna(viol["share_of_harm"]) else f"{float(viol['share_of_harm']):.0%}",
            "",
        ),
    ]
    try:
        sens_items, sentences, sens_tables = sensitivity_parts(ctx)
    except HarmscopeError as exc:  # keep the headline; say why the range is missing
        sens_items, sentences, sens_tables = [], [f"(No range over weightings: {exc}.)"], {}
    items += sens_items
    try:
        trend = harm_trend_with_baseline(ctx)
        s = trend.summary
        yoy_hidden = segment_hidden(ctx, "period-paired") or segment_hidden(ctx, "baseline-paired")
        if "harm_same_period_change_pct" in s and not yoy_hidden:
            lo, hi = s["harm_same_period_change_pct_ci"]
            period = s.get("same_period_months") or []
            items.append(
                (
                    "change in harm on the same months a year before",
                    f"{s['harm_same_period_change_pct']:+.1f}%",
                    f"95% CI {lo:+.1f}% to {hi:+.1f}% ({period[0]} to {period[-1]})"
                    if period
                    else "",
                )
            )
    except HarmscopeError as exc:  # too few months for a year-on-year change: say so
        sentences.append(f"(No year-on-year change: {exc}.)")

    _, top = protected_categories(ctx)
    top = top.dropna(subset=["harm_share", "count_share"])
    if len(top):
        first = top.iloc[0]
        sentences.append(
            f"The most harmful category is {first.category}: it accounts for "
            f"{float(first.harm_share):.0%} of harm but {float(first.count_share):.0%} of "
            "recorded crimes."
            # two shares a reader will set side by side: say why they differ
            + (
                " The share of harm from violence, robbery and weapons above is larger because "
                "it adds robbery and possession of weapons to violence and sexual offences."
                if first.category == "Violence and sexual offences"
                else ""
            )
        )
    sentences.append(
        f"Rates use a resident population of {population:,.0f} (ONS mid-2019 estimates) and cover "
        "the whole period; they are not annualised."
    )
    return Section(
        key="headline",
        title="Headline figures",
        html=cards(items) + para(*sentences),
        tables={"headline": pub, **sens_tables},
        method=(
            "Counts are street-level crimes in the period (rows flagged outside the area left out). "
            "Harm weights each crime by its category's severity weight (see Methods and sources). "
            "Intervals are 95%: exact Poisson (Garwood) for counts and the Fay-Feuer gamma interval "
            "for harm, with population fixed. The year-on-year change compares only months present "
            "in both years, with a log-scale delta-method interval." + SENSITIVITY_METHOD
        ),
        disclosure_checked=True,
    )
