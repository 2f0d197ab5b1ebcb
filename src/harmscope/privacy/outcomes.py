"""What the Serious Violence Duty outcome measures publish for an audience.

Two tables carry counts and go through the publishing path with their protection:

* ``measures``: one row per measure and group (all, under 25), every measure listed.
  ``value`` and ``age_unknown`` are counts; the interval, the rate ratio and its interval are
  derived from ``value`` and hidden with it. Homicide counts are small: for the public
  audience a value of 1 to threshold-1 is suppressed with everything derived from it. A
  measure with no data is a row with ``available`` false, a null value and the reason.
* ``series``: the monthly (or quarterly/annual) counts, protected as a long table per measure
  (rows = periods, columns = groups) with secondary suppression, so a published total cannot
  give back a hidden month.

The headline figures are read from the published ``measures`` table (after protection), so a
hidden count never reaches the summary. The rejects of the user tables (file, line, reason)
are for the internal audience only: they carry no protection spec and are withheld from every
other audience. The command and the report section both publish through here.
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.result import Result
from harmscope.privacy.audience import CHECKED_ATTR, protect_table
from harmscope.privacy.publish import Publication

_DERIVED = ("value_low", "value_high", "rate_ratio_per_year", "rr_low", "rr_high", "trend_p")


def publish_outcomes(res: Result, audience: str, threshold: int = 5) -> Publication:
    """The audience's view of an :func:`harmscope.analysis.outcomes.outcome_measures` result."""
    pub = Publication.for_audience(audience, "outcomes", threshold)
    measures = pub.table("measures", _measures(res.table, pub), protected=True)
    series = res.tables.get("series")
    if series is not None and len(series):
        pub.table(
            "series",
            series,
            counts=["count"],
            row="period",
            col="group",
            by="measure",
            totals=True,
        )
    elif series is not None:
        pub.table("series", series, reference=True)  # empty: no count in it
    rejects = res.tables.get("rejects")
    if rejects is not None and len(rejects):
        pub.table("rejects", rejects)  # internal only (no protection spec: withheld elsewhere)
    if measures is not None:
        for key, value in headline(measures).items():
            pub.figure(key, value, source="measures")
    for key in ("area", "period_from", "period_to", "synthetic"):
        pub.figure(key, res.summary.get(key), source="reference")
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    if res.summary.get("synthetic"):
        pub.text("label", "SYNTHETIC: made by harmscope simulate; no real person or event.")
    return pub.finish()


class _Row(dict):
    """A row whose absent columns read as None (the unavailable rows carry no figures)."""

    __getattr__ = dict.get


def _measures(table: pd.DataFrame, pub: Publication) -> pd.DataFrame:
    """Every measure in one table: the rows with data protected (``value`` and
    ``age_unknown`` are counts; intervals and trends hidden with ``value``), then the rows of
    measures with no data, which hold no count (value null, the reason in words)."""
    ok = table["available"].astype(bool)
    held = table[ok].assign(
        age_unknown=lambda d: d.age_unknown.fillna(0).astype(int),
        value=lambda d: d.value.astype(int),
    )
    prot = protect_table(
        held,
        pub.audience,
        count_cols=["value", "age_unknown"],
        derived={c: "value" for c in _DERIVED},
        totals=False,
    )
    out = pd.concat([prot, table.loc[~ok]], ignore_index=True).astype({"value": "object"})
    order = {m: i for i, m in enumerate(dict.fromkeys(table.measure))}
    out = out.sort_values(
        ["measure", "group"], key=lambda c: c.map(order) if c.name == "measure" else c
    )
    out = out.reset_index(drop=True)
    out.attrs[CHECKED_ATTR] = {**prot.attrs[CHECKED_ATTR], "no_count_rows": int((~ok).sum())}
    return out


def headline(measures: pd.DataFrame) -> dict:
    """Per measure: value, interval, proxy flag, availability and trend, from the (published)
    measures table; ``None`` where a figure is hidden or missing."""
    out: dict = {}

    def num(v):
        return None if v is None or pd.isna(v) else v

    for r in measures.itertuples():
        r = _Row(r._asdict())
        key = r.measure if r.group == "all" else f"{r.measure}_{r.group}"
        value = num(r.value)
        value = int(value) if value is not None else None
        out[key] = value
        out[f"{key}_ci"] = [num(r.value_low), num(r.value_high)] if value is not None else None
        if r.group == "all":
            out[f"{r.measure}_available"] = bool(r.available)
            out[f"{r.measure}_proxy"] = bool(r.proxy)
            rr = num(r.rate_ratio_per_year)
            out[f"{r.measure}_rate_ratio_per_year"] = rr
            out[f"{r.measure}_rate_ratio_per_year_ci"] = (
                [num(r.rr_low), num(r.rr_high)] if rr is not None else None
            )
    return out


def publish_outcomes_audited(
    store, res: Result, audience: str, threshold: int, *, query: str
) -> Publication:
    """:func:`publish_outcomes` with the ``audit_log`` row every output from person-level
    sources (ED, crime extract) writes."""
    from harmscope.privacy import audit

    pub = publish_outcomes(res, audience, threshold)
    suppressed = sum(
        int(df.attrs.get(CHECKED_ATTR, {}).get("suppressed", 0)) for df in pub.tables.values()
    )
    audit.record(
        store,
        action="picture",
        what="Serious Violence Duty outcome measures (aggregates)",
        query=query,
        audience=audience,
        rows=int(len(res.table)),
        suppressed=suppressed,
    )
    return pub
