"""A choropleth of Empirical-Bayes-smoothed harm rates by 2011 LSOA, drawn from the packaged
boundaries (no map tiles: the report stays offline), with district outlines."""

from __future__ import annotations

import numpy as np

from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import (
    lsoa_features,
    lsoa_linked,
    need_lsoa_area,
    result_section,
    smoothed_lsoa,
    street_points,
)

ORDER = 50
TITLE = "Map: smoothed harm rates by LSOA"

_TABLE_COLS = [
    "area_code",
    "area_name",
    "lad_name",
    "urban_rural",
    "imd_decile",
    "population",
    "count",
    "harm",
    "raw_rate_per_1000",
    "eb_rate_per_1000",
    "shrinkage_weight",
]


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.places import towns
    from harmscope.reference import lad_boundaries
    from harmscope.report import maps

    need_lsoa_area(ctx, "The LSOA map", TITLE)
    res = smoothed_lsoa(ctx)
    table = res.table[[c for c in _TABLE_COLS if c in res.table.columns]].copy()
    codes = set(table["area_code"])
    lad_of = dict(zip(res.table["area_code"], res.table["lad_code"], strict=True))
    # the same LSOA features the hotspot map outlines (written once in the page)
    features = [
        f
        for f in lsoa_features(ctx, {lad_of[c] for c in codes if c in lad_of})
        if f["properties"]["lsoa11_code"] in codes
    ]
    if not features:
        raise NotApplicable(
            "no packaged 2011 LSOA boundary covers this area's LSOAs, so no map is drawn",
            title=TITLE,
        )
    # Smoothed rates are invertible given population and the published mean, so they are
    # hidden wherever the LSOA's count is (public audience).
    derived = {
        c: "count"
        for c in ("harm", "raw_rate_per_1000", "eb_rate_per_1000", "shrinkage_weight")
        if c in table.columns
    }
    linked = lsoa_linked(ctx)
    if linked is not None:
        # jointly with the district, rural/urban and deprivation totals published elsewhere
        hidden = linked.mask["count"].reindex(table.index).to_numpy()
        pub = ctx.protect_masked(table, hidden, count_cols=["count"], derived=derived)
    else:
        pub = ctx.protect(table, count_cols=["count"], derived=derived)
    lad_codes = {lad_of[f["properties"]["lsoa11_code"]] for f in features}
    lads = lad_boundaries(lad_codes)["features"]

    shown = pub[["area_code", "area_name", "lad_name", "eb_rate_per_1000"]]
    rows = [
        {
            "area_code": r.area_code,
            "area_name": r.area_name,
            "lad_name": r.lad_name,
            "eb_rate_per_1000": None
            if r.eb_rate_per_1000 is None or r.eb_rate_per_1000 != r.eb_rate_per_1000
            else round(float(r.eb_rate_per_1000), 1),
        }
        for r in shown.astype(object).where(shown.notna(), None).itertuples()
    ]
    rates = pub["eb_rate_per_1000"].dropna().astype(float)
    # Quantile classes: a few very high town-centre LSOAs would flatten a linear scale.
    edges = (
        sorted(set(np.round(np.quantile(rates, [0.2, 0.4, 0.6, 0.8, 0.95]), 0)))
        if len(rates)
        else []
    )
    # Quantile classes (OrRd, ColorBrewer): a few very high town-centre LSOAs would flatten a
    # linear scale. Grey: suppressed (public) or no rate.
    colours = ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"][: len(edges) + 1]
    bounds = [f"{e:,.0f}" for e in edges]
    items = (
        [[colours[0], f"under {bounds[0]}"]]
        + [[colours[k + 1], f"{bounds[k]} to {bounds[k + 1]}"] for k in range(len(edges) - 1)]
        + [[colours[len(edges)], f"{bounds[-1]} or more"]]
        if edges
        else [[colours[0], "all LSOAs"]]
    )
    if ctx.public:
        items.append(["#cccccc", "suppressed"])
    spec = maps.map_spec(
        "Harm per 1,000 residents, EB-smoothed, by 2011 LSOA",
        [
            {
                "kind": "choropleth",
                "name": "Smoothed harm per 1,000 residents",
                "features": features,
                "key": "lsoa11_code",
                "values": rows,
                "row_key": "area_code",
                "field": "eb_rate_per_1000",
                "edges": edges,
                "colors": colours,
                "missing_color": "#cccccc",
                "tooltip": maps.tooltip(
                    ("area_name", "LSOA"),
                    ("lad_name", "District"),
                    ("eb_rate_per_1000", "Smoothed harm per 1,000 residents", 0),
                ),
                "show": True,
            },
            maps.boundary_layer(
                "District boundaries",
                [
                    maps.feature(f["geometry"], {"lad_name": f["properties"]["lad_name"]})
                    for f in lads
                ],
                colour="#15324a",
                weight=1.4,
            ),
            maps.street_layer("street_points"),
            maps.town_layer(towns(), lad_codes),
        ],
        {"title": "Harm per 1,000 residents (smoothed)", "items": items},
        basemap=ctx.options.get("basemap"),
    )
    s = res.summary
    top = pub.dropna(subset=["eb_rate_per_1000"]).head(3)
    sentences = [
        f"{s.get('lsoas', len(pub)):,} LSOAs; smoothing pulls each raw rate towards the area mean of "
        f"{s.get('mean_rate_per_1000', float('nan')):,.0f} per 1,000 by a weight that is larger for "
        f"small populations (median weight on the LSOA's own rate {s.get('median_shrinkage_weight', float('nan')):.2f}).",
    ]
    if len(top):
        sentences.append(
            "Highest smoothed rates: "
            + "; ".join(
                f"{r.area_name} ({float(r.eb_rate_per_1000):,.0f})" for r in top.itertuples()
            )
            + ". Town-centre LSOAs have few residents and many visitors, so resident rates run high there."
        )
    if ctx.public:
        sentences.append(
            "Grey LSOAs: suppressed (a count under the threshold, or needed to protect one)."
        )
    return result_section(
        "map",
        "Map: smoothed harm rates by LSOA",
        res,
        sentences,
        charts={"map": spec},
        # the street layer: distinct police.uk map points, no counts (report.maps.street_layer)
        tables={
            "map": pub,
            "street_points": street_points(ctx),
        },
        captions={
            "map": "Classes are quantiles of the smoothed rate (20/40/60/80/95%). District "
            "boundaries in dark blue. Zoom in for streets (police.uk's anonymised map points, "
            "faint grey); hover for names."
        },
        notes=[*res.notes, *filter(None, [maps.basemap_note(ctx.options.get("basemap"))])],
    )
