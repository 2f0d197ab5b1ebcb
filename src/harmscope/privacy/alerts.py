"""`harmscope alerts` as published: the analysis and its alarms table for an audience.

The command and its demo both come through here, so the published table is always the one
`privacy.publishers.publish_alerts` protects.
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.result import Result
from harmscope.analysis.trends import ALARM_COLUMNS, AlertSettings, alerts, latest_alarms

# the published table keeps the month, after the area and category
SHOWN = [*ALARM_COLUMNS[:2], "month", *ALARM_COLUMNS[2:]]


def published_alerts(
    store,
    *,
    level: str = "district",
    crime_types: list[str] | None = None,
    area: str | None = None,
    weight: str = "css",
    month=None,
    alpha: float = 0.05,
    audience: str = "internal",
    threshold: int = 5,
) -> tuple[Result, pd.DataFrame]:
    """The alerts result (its Publication in ``extras["publication"]``) and the published
    table of the latest month's alarms."""
    from harmscope.privacy.publishers import publish_alerts

    res = alerts(
        store,
        level=level,
        crime_types=crime_types,
        area=area,
        weight=weight,
        month=month,
        settings=AlertSettings(alpha=alpha),
    )
    pub = publish_alerts(res, latest_alarms(res, SHOWN), audience, threshold)
    res.extras["publication"] = pub
    return res, pub.tables["alarms"]
