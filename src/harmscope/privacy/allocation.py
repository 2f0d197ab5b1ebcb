"""The CSP funding allocation (:mod:`harmscope.analysis.allocation`) as an audience may see it.

Amounts of money, shares and populations are not counts of events and go out as they are.
The one figure built from crime counts is each CSP's harm (a weighted sum of its category
counts), and every amount depends on it: published exactly beside a category table whose
small counts are hidden, it would be one more equation giving them back (the checksum attack,
:mod:`harmscope.privacy.weighted`). So for an audience with suppression the allocation is
computed from the district harm that audience is shown everywhere else
(:func:`harmscope.privacy.harm_view.harm_view`: exact where the published counts determine
it, a labelled estimate otherwise), never from the exact figure. For districts over a year
this is usually the exact figure; a note says when it is not. Internal and partner audiences
see the exact allocation (as they see exact harm).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import CHECKED_ATTR, Audience
from harmscope.privacy.publish import Publication


def published_district_harm(
    store, aud: Audience, *, area: str, date_from, date_to, scheme: str
) -> tuple[pd.Series, bool]:
    """District harm as ``aud`` sees it (lad_code -> harm) and whether any is estimated.
    A district whose harm is hidden closes the publication (fails closed)."""
    from harmscope.privacy.harm_view import harm_view

    view = harm_view(
        store,
        aud,
        level="district",
        area=area,
        date_from=date_from,
        date_to=date_to,
        scheme=scheme,
    )
    totals = view.totals
    if totals["harm"].isna().any():
        gone = ", ".join(totals.loc[totals["harm"].isna(), "area_name"].astype(str))
        raise HarmscopeError(
            f"harm for {gone} is withheld for the {aud.name} audience, so no allocation "
            "built on it can be published",
            where="--audience",
            fix="use a longer period, or publish for the partner audience",
        )
    estimated = bool(totals.get("harm_estimated", pd.Series(dtype=bool)).fillna(False).any())
    harm = totals.set_index("area_code")["harm"].astype(float)
    return harm, estimated


def publish_allocation(
    store, audience: str | Audience, threshold: int = 5, **kwargs: Any
) -> Publication:
    """Run :func:`allocate` for an audience (keywords as ``allocate``) and publish it: the
    allocation table, its components, the sensitivity runs, the weights, the headline
    figures, the chart, the method and the notes."""
    from harmscope.analysis.allocation import allocate
    from harmscope.analysis.harm.scope import area_or_only_force
    from harmscope.store.queries.catalog import forces_held

    pub = Publication.for_audience(audience, "allocation", threshold)
    aud = pub.audience
    notes: list[str] = []
    if aud.suppress:
        area, _ = area_or_only_force(kwargs.get("area"), lambda: forces_held(store))
        harm, any_estimated = {}, False
        for scheme in ("css", "chi"):
            harm[scheme], est = published_district_harm(
                store,
                aud,
                area=area,
                date_from=kwargs.get("date_from"),
                date_to=kwargs.get("date_to"),
                scheme=scheme,
            )
            any_estimated |= est
        kwargs["harm"] = harm
        notes.append(
            f"{aud.name.capitalize()} audience: the allocation is computed from the district "
            "harm published to this audience"
            + (
                "; some of it is an estimate (small counts suppressed), so amounts may differ "
                "slightly from the partnership's exact figures."
                if any_estimated
                else ", which equals the exact harm here (no district's harm rests on a "
                "suppressed count)."
            )
        )
    res = allocate(store, **kwargs)
    return publish_result(res, pub, notes)


def publish_result(res, pub: Publication, notes: list[str] | None = None) -> Publication:
    """Put an allocation result (already computed for ``pub``'s audience) into ``pub``."""
    for key, df in (("table", res.table), ("components", res.tables["components"])):
        marked = df.copy()
        # money, shares, populations, and harm as this audience sees it (publish_allocation)
        marked.attrs[CHECKED_ATTR] = {
            "audience": pub.audience.name,
            "source": "privacy.allocation",
        }
        pub.table(key, marked, protected=True)
    pub.table("scenarios", res.tables["scenarios"], reference=True)  # money and shares
    pub.table("weights", res.tables["weights"], reference=True)
    for key, value in res.summary.items():
        pub.figure(key, value, source="table")
    pub.figure("chart_allocation", res.charts["allocation"], source="table")
    pub.text("title", res.title)
    pub.text("method", res.method)
    pub.text("notes", [*res.notes, *(notes or [])])
    return pub.finish()
