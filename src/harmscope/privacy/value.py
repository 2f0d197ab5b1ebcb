"""What ``harmscope value`` publishes: scheme-level totals only, through the one path.

The main table holds one row per method with the treated areas' observed count after the
start (``observed_post``, a count protected by the audience's small-count rule) and every
figure derived from it (crimes, harm and pounds averted, cost per unit averted, BCR,
break-even): wherever the count is hidden, so is everything built from it, and that method's
sentences are withheld too. Monthly series are published as the evaluation publishes them
(observed counts protected, the counterfactual hidden with them).
"""

from __future__ import annotations

import math

import pandas as pd

from harmscope.analysis.result import Result
from harmscope.privacy.audience import Audience
from harmscope.privacy.publish import Publication

# figures of the summary that hold no count (the scheme's own details, the unit cost)
_PLAIN = (
    "scheme",
    "start",
    "crime_types",
    "cost_gbp",
    "cost_recorded",
    "cost_source",
    "unit_cost",
    "harm_weight",
    "harm_unit",
    "planted_irr",
)


def publish_value(res: Result, audience: str | Audience, threshold: int = 5) -> Publication:
    """A value-for-money Result (``analysis.evaluation.value``) for an audience."""
    pub = Publication.for_audience(audience, "value", threshold)
    derived_cols = [c for c in res.table.columns if c not in ("method", "irr", "p_value", "mde")]
    derived_cols.remove("observed_post")
    main = pub.table(
        "main",
        res.table,
        counts=["observed_post"],
        derived={c: "observed_post" for c in derived_cols},
        totals=False,
    )
    for name, df in res.tables.items():
        pub.table(
            name,
            df,
            counts=["observed"],
            derived={c: "observed" for c in ("counterfactual",) if c in df.columns},
            totals=False,
        )
    for key in _PLAIN:
        if key in res.summary:
            pub.figure(key, res.summary[key], source="reference")
    pub.figure("results", _results(res.summary["results"], main, pub), source="main")
    pub.text("method", res.method)
    pub.text("notes", list(res.notes))
    return pub.finish()


def _hidden(v) -> bool:
    if v is None or isinstance(v, str):
        return True
    try:
        return bool(pd.isna(v)) or not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


def _results(rows: list[dict], main: pd.DataFrame | None, pub: Publication) -> list[dict]:
    """Each method's figures and sentences, withheld where its count is hidden."""
    if main is None:
        return []
    shown = dict(zip(main["method"], main["observed_post"], strict=True))
    out = []
    for r in rows:
        if pub.closed and _hidden(shown.get(r["method"])):
            out.append(
                {
                    "method": r["method"],
                    "withheld": (
                        f"fewer than {pub.audience.threshold} crimes after the start: the "
                        "figures built on that count are not published"
                    ),
                }
            )
        else:
            out.append(r)
    return out
