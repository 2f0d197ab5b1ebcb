"""What each analysis publishes, through the one publishing path (:mod:`privacy.publish`).

One function per analysis: it takes the analysis result (or runs it) and an audience, puts
every table and figure into a :class:`~harmscope.privacy.publish.Publication` with its
protection, and returns the finished publication. Commands print ``pub.document()`` or write
``pub.tables``; the report's sections use the same rules. A privacy rule lives here or in the
modules it calls, never in a command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmscope.analysis.result import Result
from harmscope.privacy.audience import CHECKED_ATTR, Audience, apply_mask
from harmscope.privacy.publish import Publication


def _mark(df: pd.DataFrame, aud: Audience, source: str) -> pd.DataFrame:
    out = df.copy()
    out.attrs[CHECKED_ATTR] = {"audience": aud.name, "source": source}
    return out


# -- harm -----------------------------------------------------------------------------------
def publish_harm(store, audience: str | Audience, threshold: int = 5, **kwargs: Any) -> Publication:
    """``harm_by_area`` for an audience (keywords as :func:`privacy.harm_view.harm_view`)."""
    from harmscope.privacy.harm_view import harm_view

    pub = Publication.for_audience(audience, "harm", threshold)
    view = harm_view(store, pub.audience, **kwargs)
    # the view's tables come from one protected universe per force (privacy.harm_view)
    for key, df in (
        ("table", view.table),
        ("totals", view.totals),
        ("by_category", view.by_category),
    ):
        pub.table(key, _mark(df, pub.audience, "privacy.harm_view"), protected=True)
    pub.table("weights", view.weights, reference=True)
    for key, value in view.summary.items():
        pub.figure(key, value, source="totals")
    pub.text("method", view.method)
    pub.text("notes", view.notes)
    return pub.finish()


# -- hotspots -------------------------------------------------------------------------------
def protect_cells(
    table: pd.DataFrame,
    aud: Audience,
    *,
    count_cols=("count",),
    derived=None,
    weights=None,
    group: str | None = None,
) -> pd.DataFrame:
    """Disclosure control for a per-unit table of counts (grid cells, LSOAs, area-months).

    ``group``: a column whose totals are published too (the hotspot class); the cells are then
    protected jointly with those totals, which come back in ``.attrs['group_margins']``.

    A Gi* z is a linear function of the counts in a cell's neighbourhood, so with the
    neighbours' counts published it would give a hidden count back: for the public, z and p
    are hidden for every cell whose neighbourhood (itself included) holds a hidden count. The
    class (a band of z) stays.
    """
    from scipy import sparse

    from harmscope.privacy.audience import apply_mask, protect_table

    derived = derived or {"value": "count"}
    if aud.suppress and group is not None and group in table.columns:
        # the cells are also published as totals by ``group`` (events per hotspot class):
        # protected together, so a class total cannot give a lone hidden cell back
        from harmscope.privacy.disclosure import protect_linked

        frame = table.reset_index(drop=True)
        joint = protect_linked(
            frame.assign(**{group: frame[group].astype("string")}),
            list(count_cols)[0],
            [group],
            threshold=aud.threshold,
        )
        out = apply_mask(
            frame,
            aud,
            joint.mask[list(count_cols)[0]],
            count_cols=list(count_cols),
            derived=derived,
        )
        out.attrs["group_margins"] = joint.margins[group]
    else:
        out = protect_table(table, aud, count_cols=list(count_cols), derived=derived, totals=True)
    zcols = [
        c for c in out.columns if c.startswith("gi_") or c in ("trend_z", "trend_p", "final_gi_z")
    ]
    if aud.suppress and weights is not None and zcols:
        hidden = out[list(count_cols)[0]].isna().to_numpy().astype(float)
        near = (sparse.csr_matrix(weights) + sparse.identity(len(hidden))) @ hidden > 0
        # a hidden count also reaches every cell that has it as a neighbour (kNN is asymmetric)
        near |= (sparse.csr_matrix(weights).T @ hidden) > 0
        for c in zcols:
            out[c] = out[c].astype("Float64").mask(near)
    return out


_MIXED_WEIGHT_NOTE = (
    "Public audience: harm-weighted values over several categories are withheld (a weighted "
    "sum beside suppressed counts can give them away); run with --weight none, or one "
    "--crime-type, for a public harm map."
)


def publish_hotspots(res: Result, audience: str | Audience, threshold: int = 5) -> Publication:
    """Hotspot cells (Gi*, emerging, KDE) for an audience; ``pub.tables['cells']`` is what an
    export writes."""
    pub = Publication.for_audience(audience, "hotspots", threshold)
    aud = pub.audience
    cells = res.table
    if "kde" in cells.columns and aud.suppress:
        from harmscope.errors import HarmscopeError

        raise HarmscopeError(
            "a KDE surface is drawn from event locations and is not published for the public",
            where="--audience public",
            fix="publish Gi* cells (small counts suppressed) instead, or use --audience partner",
        )
    summary = dict(res.summary)
    mixed = (
        aud.suppress
        and summary.get("weight", "none") != "none"
        and len(res.extras.get("crime_types") or []) != 1
    )
    derived = {c: "count" for c in ("value", "kde") if c in cells}
    group = "class" if "class" in cells.columns else None
    protected = protect_cells(
        cells, aud, derived=derived, weights=res.extras.get("weights"), group=group
    )
    margins = protected.attrs.pop("group_margins", None)
    if mixed and "value" in protected.columns:
        protected = protected.drop(columns=["value"])
    pub.table("cells", protected, protected=True)
    classes = res.tables.get("classes")
    hidden_class = False
    if isinstance(classes, pd.DataFrame):
        classes = classes.drop(columns=[c for c in ("value",) if mixed and c in classes.columns])
        class_derived = {c: "count" for c in ("value", "share_of_events") if c in classes.columns}
        if margins is not None:
            # the class totals as the joint protection with the cells published them
            shown = dict(zip(margins["class"].astype(str), margins["count"], strict=True))
            hide = [pd.isna(shown.get(str(c), pd.NA)) for c in classes["class"]]
            cls = pub.table(
                "classes",
                apply_mask(classes, aud, hide, count_cols=["count"], derived=class_derived),
                protected=True,
            )
        else:
            cls = pub.table("classes", classes, counts=["count"], derived=class_derived)
        hidden_class = cls is not None and bool(cls["count"].isna().any())
    for key, value in summary.items():
        if key in ("hot_share_of_events", "hot_share_of_value") and hidden_class:
            value = None
        if mixed and key in ("weighted_total", "hot_share_of_value"):
            continue
        pub.figure(key, value, source="cells")
    pub.text("method", res.method)
    pub.text("notes", [*res.notes, *([_MIXED_WEIGHT_NOTE] if mixed else [])])
    return pub.finish()


def accuracy_document(res: Result, audience: str | Audience) -> dict[str, Any]:
    """The hotspot accuracy check (``hotspots --evaluate``) as JSON for ``audience``.

    The internal audience gets the whole result (``Result.to_dict``: per-unit train and test
    counts with their coordinates included). The others get only the headline, method, notes
    and the table of hit rates by selection, as this command printed before ``to_dict`` carried
    every table: per-unit counts are event-level detail and no protection has been designed
    for them yet, so they never leave for partner or public.
    """
    doc = res.to_dict()
    if not Publication.for_audience(audience, "hotspots-accuracy").closed:
        return doc
    return {k: doc[k] for k in ("summary", "method", "notes", "table")}


# -- alerts ---------------------------------------------------------------------------------
def publish_alerts(
    res: Result, alarms: pd.DataFrame, audience: str | Audience, threshold: int = 5
) -> Publication:
    """The alarms table (and every judged area-month, for an export) for an audience."""
    from harmscope.analysis.trends import ALARM_DERIVED

    pub = Publication.for_audience(audience, "alerts", threshold)
    pub.table("alarms", alarms, counts=["observed"], derived=ALARM_DERIVED, totals=False)
    full = protect_cells(res.table, pub.audience, count_cols=("observed",), derived=ALARM_DERIVED)
    pub.table("judged", full, protected=True)
    for key, value in res.summary.items():
        pub.figure(key, value, source="alarms")
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    return pub.finish()


# -- evaluation -----------------------------------------------------------------------------
# tables of an evaluation that hold no counts of events (area features, model fits)
_EVALUATION_REFERENCE = {"did_balance", "synth_weights", "placebo_runs", "power"}


def publish_evaluation(
    res: Result, kind: str, audience: str | Audience, threshold: int = 5
) -> Publication:
    """An evaluation, power or placebo result for an audience: observed counts protected,
    tables of counts without a protection spec withheld."""
    pub = Publication.for_audience(audience, kind, threshold)
    tables = {"main": res.table, **res.tables}
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            continue
        if "observed" in df.columns:
            pub.table(
                name,
                df,
                counts=["observed"],
                derived={c: "observed" for c in ("counterfactual",) if c in df.columns},
                totals=False,
            )
        elif name in _EVALUATION_REFERENCE or not _has_counts(df):
            pub.table(name, df, reference=True)
        else:
            pub.table(name, df)  # no spec: withheld from partner and public
    for key, value in res.summary.items():
        pub.figure(key, value, source="main")
    pub.text("kind", kind)
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    return pub.finish()


def _has_counts(df: pd.DataFrame) -> bool:
    """Whether a table has a column that looks like a count of events."""
    names = {"count", "counts", "n", "observed", "crimes", "events", "searches", "records"}
    return any(str(c).lower() in names or str(c).lower().startswith("n_") for c in df.columns)


def write_tables(pub: Publication, out: Path, prefix: str) -> list[Path]:
    """Write a finished publication as ``prefix.json`` and one CSV per table."""
    import json

    from harmscope.export.rounding import write_csv

    out = Path(out)
    paths = [out / f"{prefix}.json"]
    paths[0].write_text(json.dumps(pub.document(), indent=2, default=str), encoding="utf-8")
    for name, df in pub.tables.items():
        p = out / f"{prefix}_{name}.csv"
        write_csv(df, p)  # floats rounded to meaningful precision (export.rounding)
        paths.append(p)
    return paths


# -- drivers: a covariate and harm across areas and periods ----------------------------------
_DRIVERS_FIGURES = (
    "elasticity",
    "elasticity_ci",
    "elasticity_p",
    "pct_change_for_10pct",
    "pct_change_for_10pct_ci",
    "elasticity_fd",
    "elasticity_fd_ci",
    "cumulative_elasticity",
    "cumulative_elasticity_ci",
    "placebo_outcome_estimate",
    "placebo_outcome_p",
    "placebo_lead_estimate",
    "placebo_lead_p",
    "mde",
    "mde_pct_for_10pct",
    "power",
    "alpha",
    "n_obs",
    "n_areas",
    "n_periods",
    "lag",
    "per_capita",
    "credible",
    "covariate",
    "unit",
    "covariate_source",
    "outcome",
    "outcome_source",
    "placebo_outcome",
    "synthetic",
)


def publish_drivers(res: Result, audience: str | Audience = "internal", threshold: int = 5):
    """The audience's view of a drivers result: estimates (no counts), the panel (counts
    protected), the headline figures, the verdict and method, and the charts where their numbers
    are all in the published panel (for internal, always)."""
    pub = Publication.for_audience(audience, "drivers", threshold)
    pub.table("estimates", res.table, reference=True)
    panel = res.tables["panel"]
    if "outcome_harm" not in panel:
        pub.table(
            "panel",
            panel,
            counts=["outcome_count", "placebo_count"],
            derived={"outcome_rate": "outcome_count", "placebo_rate": "placebo_count"},
        )
    elif pub.audience.name == "internal":
        pub.table("panel", panel)
    else:
        # harm is a weighted sum: it could reveal small hidden counts, so outside the
        # partnership's analysts the panel is withheld and only the estimates go out
        pub.dropped.append("panel: harm by area and period is shown to the internal audience only")
    for key in _DRIVERS_FIGURES:
        if key in res.summary:
            pub.figure(key, res.summary[key], source="estimates")
    pub.text("verdict", res.summary["verdict"])
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    for key, spec in res.charts.items():
        # The charts draw transformed values (logs with area and period effects taken out),
        # which no protected table shows, so they go to the internal audience only.
        if pub.closed:
            pub.dropped.append(f"chart_{key}: drawn from unprotected values, internal only")
        else:
            pub.figure(f"chart_{key}", spec, source="panel")
    return pub.finish()


_SENSITIVITY_SHARES = (
    "share_css_central",
    "share_chi_central",
    "share_min",
    "share_max",
)


def publish_weight_sensitivity(res: Result, audience: str | Audience, threshold: int = 5):
    """A weight-sensitivity result (analysis.harm.sensitivity) for an audience: the category
    table with its counts protected; the share ranges, scenario totals and district harm only
    when nothing in that table is hidden (several weightings of the same counts are several
    equations, which could give a hidden count back); district harm by weighting to the
    internal audience only; the conclusions and method as words."""
    pub = Publication.for_audience(audience, "harm-sensitivity", threshold)
    shares = [c for c in _SENSITIVITY_SHARES if c in res.table.columns]
    table = pub.table("table", res.table, counts=["count"], derived=dict.fromkeys(shares, "count"))
    hidden = table is None or bool(table["count"].isna().any())
    if pub.closed and hidden:
        pub.dropped.append(
            "shares, scenarios, districts: withheld because a category count is suppressed"
        )
    else:
        for key in ("shares", "scenarios", "weights"):
            pub.table(key, res.tables[key], reference=True)
        if pub.closed:
            # ten weightings of a district's unpublished category counts: internal only
            pub.dropped.append("districts: district harm under each weighting is internal only")
        else:
            pub.table("districts", res.tables["districts"])
        for key in ("focus_share_central", "focus_share_min", "focus_share_max", "harm_by_scheme"):
            if key in res.summary:
                pub.figure(key, res.summary[key], source="table")
    for key in ("area", "months", "first_month", "last_month", "focus", "scenarios"):
        pub.figure(key, res.summary.get(key), source="reference")
    conclusions = res.tables["conclusions"]
    pub.table("conclusions", conclusions, reference=True)  # words and flags, no counts
    if not (pub.closed and hidden):
        pub.text("uncertainty", res.summary["uncertainty"])
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    return pub.finish()


# -- stop and search ------------------------------------------------------------------------
def publish_stopsearch(
    results: dict[str, Result], audience: str | Audience, threshold: int = 5
) -> tuple[Publication, dict[str, Result]]:
    """The stop-and-search scrutiny (:func:`harmscope.analysis.stopsearch.scrutiny`) for an
    audience: every table protected by :mod:`harmscope.privacy.stopsearch`; a table that
    protection did not mark is withheld; the cell grid (search locations) is never published.
    Returns the publication and the protected results (for the report's charts)."""
    from harmscope.privacy.stopsearch import protect_results

    pub = Publication.for_audience(audience, "stopsearch", threshold)
    protected = protect_results(results, pub.audience)
    for key, res in protected.items():
        pub.table(f"{key}.table", res.table, protected=True)
        for name, table in res.tables.items():
            if name == "cells":
                continue  # per-cell search counts: event-level detail, never published
            pub.table(f"{key}.{name}", table, protected=True)
        pub.figure(f"{key}.summary", res.summary, source=f"{key}.table")
        pub.text(f"{key}.method", res.method)
        pub.text(f"{key}.notes", list(res.notes))
    return pub.finish(), protected


# -- ED: the true picture ------------------------------------------------------------------
def publish_ed_picture(
    result: Result, audience: str | Audience, threshold: int = 5, *, name: str = "ed-picture"
) -> Publication:
    """The ED true picture (protected jointly inside ``analysis.linkage.true_picture``) for an
    audience: every table must carry that protection's mark, or it is withheld."""
    pub = Publication.for_audience(audience, name, threshold)
    pub.table("table", result.table, protected=True)
    for key, table in result.tables.items():
        pub.table(key, table, protected=True)
    for key, value in result.summary.items():
        pub.figure(key, value, source="table")
    pub.text("method", result.method)
    pub.text("notes", list(result.notes))
    return pub.finish()


# -- the report -----------------------------------------------------------------------------
def chart_drawn_from(spec: dict, table: pd.DataFrame) -> bool:
    """Whether every number embedded in a chart appears in its (protected) table (possibly
    rounded for display).

    A chart is published only beside its table; a number in the chart that the table does not
    show (a hidden count, or anything computed from unprotected rows) closes it.
    """
    frames = list(_embedded_data(spec))
    if not frames:
        return True
    # a chart may round for display: a number is shown if the table shows it at some precision
    shown: set[float] = set()
    for col in table.columns:
        v = pd.to_numeric(table[col], errors="coerce").dropna().to_numpy(dtype=float)
        for decimals in (9, 6, 4, 3, 2, 1, 0):
            shown |= set(np.round(v, decimals))
    for frame in frames:
        for col in frame.columns:
            v = pd.to_numeric(frame[col], errors="coerce").dropna()
            if len(v) and not set(np.round(v.to_numpy(dtype=float), 9)) <= shown:
                return False
    return True


def _embedded_data(spec):
    """Every inline dataset anywhere in a Vega-Lite spec (top level, ``datasets``, layers,
    concatenations, facets), as frames."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "values" and isinstance(value, list) and value and isinstance(value[0], dict):
                yield pd.DataFrame(value)
            elif key == "datasets" and isinstance(value, dict):
                for rows in value.values():
                    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                        yield pd.DataFrame(rows)
            else:
                yield from _embedded_data(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _embedded_data(item)


def publish_report(report) -> Publication:
    """The report's tables and charts through the publishing path.

    Every table must carry a protection mark; every chart, for partner and public, must have a
    published table of the same id and draw only numbers that table shows. What fails is
    withheld and listed (``pub.dropped``), never shown.
    """
    ctx = report.ctx
    pub = Publication(ctx.aud, "report")
    for built in report.sections:
        sec = built.section
        if sec is None or built.withheld:
            continue
        for tid, table in sec.tables.items():
            pub.table(f"{sec.key}.{tid}", table, protected=True)
        for cid, spec in sec.charts.items():
            key = f"{sec.key}.{cid}"
            if not pub.closed:
                pub.figure(key, spec, source="reference")
                continue
            if key not in pub.tables:
                pub.dropped.append(f"{key}: a chart without its published table")
            elif not chart_drawn_from(spec, pub.tables[key]):
                pub.dropped.append(f"{key}: chart data not drawn from its protected table")
            else:
                pub.figure(key, spec, source=key)
    return pub.finish()
