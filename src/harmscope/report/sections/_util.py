"""Helpers shared by the problem-profile sections (not a section: the name starts with _).

The harm results are computed once per report and cached on the context, so the headline,
category and district sections read one DuckDB aggregation.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import escape

from harmscope.analysis.harm import COUNT_RATE_COLS, HARM_RATE_COLS
from harmscope.months import shift as shift_month  # sections import it from here
from harmscope.report.render import SUPPRESSED, fmt_number
from harmscope.report.section import NotApplicable, ReportContext, Section


def scope(ctx: ReportContext):
    from harmscope.analysis.harm import resolve_scope

    return ctx.cached("scope", lambda: resolve_scope(ctx.area, ctx.month_from, ctx.month_to))


def base_harm_args(ctx: ReportContext) -> dict:
    """The scheme and weights the user chose."""
    return {
        "scheme": ctx.options.get("scheme", "css"),
        "weights": ctx.options.get("weights"),
    }


def harm_args(ctx: ReportContext) -> dict:
    """The weights every harm analysis of the report uses: for the public audience, the
    published weights (privacy.harm_view.published_weights), so that no harm figure can tell
    suppressed categories apart."""
    args = base_harm_args(ctx)
    if not ctx.public:
        return args

    def make():
        from harmscope.privacy.harm_view import published_weights

        return published_weights(
            ctx.store,
            ctx.aud,
            area=ctx.area,
            date_from=ctx.month_from,
            date_to=ctx.month_to,
            months_from=shift_month(ctx.date_from, -12).strftime("%Y-%m"),
            **args,
        )

    return {"scheme": args["scheme"], "weights": ctx.cached("published_weights", make)}


def harm_category_view(ctx: ReportContext):
    """The area's counts by category as the audience may see them (one protected universe
    per force, privacy.harm_view), cached."""
    from harmscope.privacy.harm_view import harm_view

    return ctx.cached(
        "harm_category_view",
        lambda: harm_view(
            ctx.store,
            ctx.aud,
            level="county",
            area=ctx.area,
            date_from=ctx.month_from,
            date_to=ctx.month_to,
            **base_harm_args(ctx),
        ),
    )


def has_lsoa_area(ctx: ReportContext) -> bool:
    """Whether the report's area is a force or districts (the LSOA analyses need one)."""
    sc = scope(ctx)
    return sc.force is not None or sc.lad_codes is not None


def area_analysis(ctx: ReportContext, key: str, analysis, **kwargs):
    """``analysis(store, area=..., date_from=..., date_to=..., scheme/weights, **kwargs)`` for
    the report's area and period, run once per report and cached under ``key``."""
    return ctx.cached(
        key,
        lambda: analysis(
            ctx.store,
            area=ctx.area,
            date_from=ctx.month_from,
            date_to=ctx.month_to,
            **kwargs,
            **harm_args(ctx),
        ),
    )


def lsoa_features(ctx: ReportContext, lad_codes) -> list[dict]:
    """``report.maps.lsoa_features`` of these districts, read once per report: the LSOA map
    and the hotspot map outline the same polygons (the renderer then writes them once).
    Callers must not change the list or its features."""
    from harmscope.report import maps

    codes = None if lad_codes is None else sorted(set(lad_codes))
    key = "lsoa_features:" + ("*" if codes is None else ",".join(codes))
    return ctx.cached(key, lambda: maps.lsoa_features(codes))


def street_points(ctx: ReportContext):
    """The street layer's table (police.uk's distinct map points of the area, no counts),
    read once per report: the LSOA map and the hotspot map draw the same points, and the
    renderer then inlines them once."""
    from harmscope.analysis.places import NO_LOCATION, point_scope
    from harmscope.store.queries import points

    return ctx.cached(
        "street_points",
        lambda: ctx.protect(
            points.street_points(ctx.store, *point_scope(ctx.area), skip_location=NO_LOCATION)
        ),
    )


def need_lsoa_area(ctx: ReportContext, what: str, title: str) -> None:
    """Raise NotApplicable unless the report's area is a force or districts (an LSOA
    analysis needs one)."""
    if not has_lsoa_area(ctx):
        raise NotApplicable(
            f"{what} needs an area within one police force (a force, district or CSP); "
            f"{scope(ctx).label} is not one",
            title=title,
        )


def lsoa_groups_analysis(ctx: ReportContext, key: str, analysis, title: str):
    """:func:`area_analysis` of an analysis comparing groups of LSOAs. NotApplicable when
    there is nothing to compare: the area is not a force or districts, or its LSOAs fall in
    fewer than two groups (the analysis's ``summary["not_applicable"]`` says why)."""
    need_lsoa_area(ctx, "This comparison of LSOAs", title)
    res = area_analysis(ctx, key, analysis)
    if len(res.table) < 2:
        reason = res.summary.get("not_applicable") or (
            f"the LSOAs of {scope(ctx).label} fall in fewer than two groups; there is "
            "nothing to compare"
        )
        raise NotApplicable(reason, title=title)
    return res


def harm_districts(ctx: ReportContext):
    """harm_by_area at district level for the report's area and period (cached)."""
    from harmscope.analysis.harm import harm_by_area

    return area_analysis(ctx, "harm_district", harm_by_area, level="district")


def harm_total(ctx: ReportContext):
    """harm_by_area over the whole area (force/county level): totals that include unplaced rows."""
    from harmscope.analysis.harm import harm_by_area

    return area_analysis(ctx, "harm_total", harm_by_area, level="county")


def harm_trend_with_baseline(ctx: ReportContext):
    """harm_trend from 12 months before --from to --to, so each month can meet last year's."""
    from harmscope.analysis.harm import harm_trend

    start = shift_month(ctx.date_from, -12).strftime("%Y-%m")
    return ctx.cached(
        "harm_trend",
        lambda: harm_trend(
            ctx.store, area=ctx.area, date_from=start, date_to=ctx.month_to, **harm_args(ctx)
        ),
    )


def value_text(value, *, decimals: int | None = None) -> str:
    """A published value: [c] when disclosure control hid it."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return SUPPRESSED
    return fmt_number(value, decimals)


def ci_text(low, high, *, decimals: int | None = None) -> str:
    if any(v is None or v is pd.NA or (isinstance(v, float) and v != v) for v in (low, high)):
        return ""
    return f"95% CI {fmt_number(low, decimals)} to {fmt_number(high, decimals)}"


def cards(items: list[tuple[str, str, str]]) -> str:
    """Headline figure cards: (label, value, interval text)."""
    out = ['<div class="headline">']
    for label, value, ci in items:
        out.append(
            f'<div class="fig"><div class="v">{escape(value)}</div><div class="l">{escape(label)}</div>'
            + (f'<div class="ci">{escape(ci)}</div>' if ci else "")
            + "</div>"
        )
    out.append("</div>")
    return "".join(out)


def para(*sentences: str) -> str:
    return "<p>" + " ".join(str(escape(s)) for s in sentences if s) + "</p>"


def result_section(key: str, title: str, res, sentences: list[str], **parts) -> Section:
    """A section presenting one analysis result: its sentences as a paragraph, its notes and
    method (unless ``parts`` gives others), checked for disclosure (every table in ``parts``
    went through ``ctx.protect``)."""
    parts.setdefault("notes", list(res.notes))
    parts.setdefault("method", res.method)
    return Section(key=key, title=title, html=para(*sentences), disclosure_checked=True, **parts)


def group_rates(ctx: ReportContext, frame: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """A table of LSOA group totals (rural/urban, RUC class, IMD decile) with its rates,
    protected jointly with the LSOA counts (``protect_group_table``)."""
    table = frame[[grouping, "lsoas", "population", "count", *RATE_COLS]]
    return protect_group_table(ctx, table, grouping, grouping, {c: "count" for c in RATE_COLS})


def withheld(key: str, title: str, *sentences: str) -> Section:
    """A section that shows no figure, saying why (checked: it publishes nothing)."""
    return Section(key=key, title=title, disclosure_checked=True, html=para(*sentences))


def audited(store, key: str, title: str, subject: str, **record) -> Section | None:
    """Write the audit-log row (``privacy.audit.record``, action 'report') that a section of
    person-level or health figures needs before it shows any. None when written; when the row
    cannot be written, the section withheld instead: no row, no figures."""
    import duckdb

    from harmscope.privacy import audit

    try:
        audit.record(store, action="report", **record)
    except duckdb.Error:
        return withheld(
            key, title, f"{subject} are withheld: the audit-log row could not be written."
        )
    return None


def month_str(frame: pd.DataFrame, col: str = "month") -> pd.Series:
    return pd.to_datetime(frame[col]).dt.strftime("%Y-%m")


# Harm and rate columns of a group-totals table: each is hidden with its row's count.
RATE_COLS = ("harm", *HARM_RATE_COLS, *COUNT_RATE_COLS)


# Groupings under which LSOA counts are also published as totals (district table, rural/urban
# and RUC tables, deprivation table): they are protected jointly with the LSOA table.
LSOA_GROUPINGS = ("lad_name", "urban_rural", "ruc11_class", "imd_decile")


def smoothed_lsoa(ctx: ReportContext):
    from harmscope.analysis.harm import smoothed_lsoa_rates

    return area_analysis(ctx, "smoothed_lsoa", smoothed_lsoa_rates)


def lsoa_linked(ctx: ReportContext):
    """Joint disclosure control of LSOA counts and their group totals (public audience only).

    Protected district by district, for every district of the force, each district's LSOAs
    jointly with its own totals by rural/urban class, RUC class and deprivation decile. A
    district's report and the force's report are then slices of one pattern, so an LSOA or a
    decile hidden in one cannot be read from the other (or from the other districts' reports).
    A county's or the force's group total is published only when every district's part of it
    is (then it is a sum of published numbers and tells nothing new). Returns an object with
    ``mask`` (indexed like :func:`smoothed_lsoa`'s table) and ``margins`` (this report's
    area's group totals, by grouping), or None for audiences without suppression.
    """
    if not ctx.public:
        return None

    def make():
        from types import SimpleNamespace

        from harmscope.analysis.harm import smoothed_lsoa_rates
        from harmscope.privacy.disclosure import protect_linked

        mine = smoothed_lsoa(ctx).table
        sc = scope(ctx)
        whole = (
            smoothed_lsoa_rates(
                ctx.store,
                area=sc.force,
                date_from=ctx.month_from,
                date_to=ctx.month_to,
                **harm_args(ctx),
            ).table
            if sc.force is not None
            else mine
        )
        table = whole.copy()
        table["imd_decile"] = table["imd_decile"].astype("Int64").astype("string")
        groups = [g for g in ("urban_rural", "ruc11_class", "imd_decile") if g in table.columns]
        hidden: dict[str, bool] = {}
        parts: dict[str, dict] = {}  # district -> grouping -> {label: count or None}
        totals: dict[str, int | None] = {}
        for lad, sub in table.groupby(table["lad_name"].astype(str), sort=True):
            prot = protect_linked(
                sub.reset_index(drop=True), "count", groups, threshold=ctx.threshold
            )
            hidden.update(zip(sub["area_code"].astype(str), prot.mask["count"], strict=True))
            parts[lad] = {
                g: dict(
                    zip(
                        prot.margins[g][g].astype(str),
                        [None if pd.isna(v) else int(v) for v in prot.margins[g]["count"]],
                        strict=True,
                    )
                )
                for g in groups
            }
            totals[lad] = prot.total
        mask = pd.DataFrame(
            {"count": [hidden.get(str(c), True) for c in mine["area_code"]]}, index=mine.index
        )
        lads = sorted(set(mine["lad_name"].dropna().astype(str)) & set(parts))
        margins = {
            "lad_name": pd.DataFrame(
                {
                    "lad_name": list(totals),
                    "count": pd.array(list(totals.values()), dtype="Int64"),
                }
            )
        }
        for g in groups:
            labels = sorted({lab for d in lads for lab in parts[d][g]})
            values = []
            for lab in labels:
                pieces = [parts[d][g].get(lab, 0) for d in lads]
                # a sum over districts is shown only when every district's part is
                values.append(None if any(p is None for p in pieces) else int(sum(pieces)))
            margins[g] = pd.DataFrame({g: labels, "count": pd.array(values, dtype="Int64")})
        return SimpleNamespace(mask=mask, margins=margins)

    return ctx.cached("lsoa_linked", make)


def group_hidden(ctx: ReportContext, grouping: str, labels: pd.Series, counts: pd.Series):
    """Which rows of a group table are hidden by the joint LSOA protection (None: no control).

    A group the LSOA table does not know (its rows were placed in a district only) still gets
    primary suppression, and a lone hidden row gets a partner, as in protect_counts.
    """
    linked = lsoa_linked(ctx)
    if linked is None or grouping not in linked.margins:
        return None
    from harmscope.privacy.disclosure import is_small

    m = linked.margins[grouping].set_index(grouping)["count"]
    keys = (
        labels.astype("Int64").astype("string")
        if grouping == "imd_decile"
        else labels.astype("string")
    )
    hidden = [bool(k in m.index and pd.isna(m[k])) for k in keys]
    small = is_small(counts.to_numpy(), ctx.threshold)
    hidden = [h or bool(sm) for h, sm in zip(hidden, small, strict=True)]
    if sum(hidden) == 1:
        visible = [
            (float(c), i)
            for i, (c, h) in enumerate(zip(counts, hidden, strict=True))
            if not h and c > 0
        ]
        if visible:
            hidden[min(visible)[1]] = True
    return hidden


def protect_group_table(
    ctx: ReportContext, table: pd.DataFrame, grouping: str, label_col: str, derived: dict
) -> pd.DataFrame:
    """Disclosure control for a table of LSOA group totals (districts, rural/urban, RUC, IMD)."""
    hidden = group_hidden(ctx, grouping, table[label_col], table["count"])
    if hidden is None:
        return ctx.protect(table, count_cols=["count"], derived=derived)
    return ctx.protect_masked(table, hidden, count_cols=["count"], derived=derived)


def month_protection(ctx: ReportContext):
    """Joint disclosure control of the monthly counts (public audience only), or None.

    The report publishes monthly counts for the period (coverage, trend) and for the year
    before (seasonal chart), the period total (headline) and the totals of the months compared
    year on year (same-period change). All are sums of the same monthly counts, so they are
    protected together: groupings 'part' (period or year before) and 'segment' (part x whether
    the month is in the year-on-year comparison).
    """
    if not ctx.public:
        return None
    from harmscope.months import shift_year
    from harmscope.privacy.disclosure import protect_linked

    def make():
        df = harm_trend_with_baseline(ctx).table[["month", "count"]].copy()
        months = set(df.month)
        in_period = (df.month >= ctx.month_from) & (df.month <= ctx.month_to)
        # a period month pairs with the year before; a baseline month with the year after,
        # when that falls in the period
        paired = [
            shift_year(m, -1) in months
            if p
            else shift_year(m, 1) in months and shift_year(m, 1) <= ctx.month_to
            for m, p in zip(df.month, in_period, strict=True)
        ]
        df["part"] = ["period" if p else "baseline" for p in in_period]
        df["segment"] = [
            f"{pt}-{'paired' if pr else 'unpaired'}" for pt, pr in zip(df.part, paired, strict=True)
        ]
        return protect_linked(df, "count", ["part", "segment"], threshold=ctx.threshold)

    return ctx.cached("month_protection", make)


def hidden_months(ctx: ReportContext) -> set[str]:
    prot = month_protection(ctx)
    if prot is None:
        return set()
    return set(prot.frame.loc[prot.frame["count"].isna(), "month"])


def segment_hidden(ctx: ReportContext, segment: str, grouping: str = "segment") -> bool:
    """Whether the total of a month segment ('period-paired', or with grouping='part',
    'period') must not be published."""
    prot = month_protection(ctx)
    if prot is None:
        return False
    m = prot.margins[grouping].set_index(grouping)["count"]
    return bool(segment in m.index and pd.isna(m[segment]))


def protected_categories(ctx: ReportContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and harm by police.uk category for the area (force-level totals), raw and
    protected; the headline's category figures take their suppression from here."""

    def make():
        from harmscope.analysis.profile import category_shares, published_category_shares

        res = harm_total(ctx)
        cube = category_shares(res.table, harm_districts(ctx).tables["weights"])
        if not ctx.public:
            pub = ctx.protect(
                cube,
                count_cols=["count"],
                derived={"count_share": "count", "harm": "count", "harm_share": "count"},
            )
            return cube, pub
        # Public: counts from the force's protected universe (the same pattern as every
        # district's and the force's outputs); a category's harm is its weight x its published
        # count, its share of the report's (published-weights) harm total.
        view = harm_category_view(ctx).by_category[["category", "count"]]
        # the total harm summed in category order, as category_shares summed it
        total_harm = cube.sort_values("category")["harm"].sum()
        pub = published_category_shares(cube, view, res.summary.get("count") or 0, total_harm)
        pub = ctx.protect_masked(
            pub,
            pub["count"].isna().tolist(),
            count_cols=["count"],
            derived={"count_share": "count", "harm": "count", "harm_share": "count"},
        )
        return cube, pub

    return ctx.cached("categories", make)


def per_scheme_section(
    ctx: ReportContext,
    schemes: list[dict],
    one,
    *,
    key: str,
    title: str,
    intro: str,
    table_suffix: str,
    which: str,
    max_schemes: int = 3,
) -> Section:
    """A section with one block per scheme (value for money, evidence): ``one(ctx, scheme)``
    gives (html, published table, method) or raises HarmscopeError, which names the scheme in
    a "Not evaluated" note; no scheme evaluated at all makes the section not apply. Every table
    and sentence comes from the caller's publisher, so the section is disclosure-checked."""
    from harmscope.errors import HarmscopeError

    parts, tables, methods, skipped = [intro], {}, [], []
    for s in schemes[:max_schemes]:
        try:
            html, table, method = one(ctx, s)
        except HarmscopeError as exc:
            skipped.append(f"{s['name']}: {exc.problem}")
            continue
        parts.append(html)
        slug = "".join(c if c.isalnum() else "_" for c in s["name"].lower()).strip("_")[:40]
        tables[f"{slug}_{table_suffix}"] = table
        methods.append(method)
    if not tables:
        raise NotApplicable(
            f"no {which} scheme could be evaluated here: " + "; ".join(skipped), title=title
        )
    if skipped:
        parts.append(f"<p class='note'>Not evaluated: {escape('; '.join(skipped))}.</p>")
    return Section(
        key=key,
        title=title,
        html="\n".join(parts),
        tables=tables,
        method=" ".join(dict.fromkeys(methods)),
        disclosure_checked=True,
    )
