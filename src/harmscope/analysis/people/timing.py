"""Time of day and day of week, with aoristic weighting for crimes known only within a window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.people._data import require_crimes
from harmscope.analysis.result import Result

MAX_WINDOW_H = 168  # windows longer than a week say nothing about the hour: left out
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NIGHT = (22, 23, 0, 1, 2, 3)


def aoristic_hour_of_week(start_min: np.ndarray, end_min: np.ndarray) -> np.ndarray:
    """Weights over the 168 hours of the week (Monday 00:00 = 0) for events known to lie in
    [start, end) (minutes since a Monday 00:00); an exact time (end <= start) puts all its
    weight in its hour. Each event's weights sum to 1 (Ratcliffe's aoristic method)."""
    out = np.zeros(168)
    exact = end_min <= start_min
    out += np.bincount((start_min[exact] // 60) % 168, minlength=168)
    s, e = start_min[~exact].astype(float), end_min[~exact].astype(float)
    if len(s):
        h0 = np.floor(s / 60)
        span = e - s
        steps = int(np.ceil((e - h0 * 60).max() / 60))
        for k in range(steps):
            live = e > (h0 + k) * 60  # windows still open at this hour step
            if k and not live.any():
                break
            s, e, h0, span = s[live], e[live], h0[live], span[live]
            lo = (h0 + k) * 60
            overlap = np.clip(np.minimum(e, lo + 60) - np.maximum(s, lo), 0, None)
            out += np.bincount(((h0 + k) % 168).astype(int), weights=overlap / span, minlength=168)
    return out


def time_profile(store) -> Result:
    """Hour of day x day of week of crimes, aoristically weighted."""
    require_crimes(store)
    t = store.query(
        """SELECT epoch(committed_from) AS s, epoch(coalesce(committed_to, committed_from)) AS e
        FROM crimes"""
    )
    # Minutes since Monday 1970-01-05 00:00 (1970-01-01 was a Thursday).
    mon = 4 * 86400
    s = ((t.s.to_numpy() - mon) // 60).astype(np.int64)
    e = ((t.e.to_numpy() - mon) // 60).astype(np.int64)
    long = (e - s) > MAX_WINDOW_H * 60
    windowed = (e > s) & ~long
    w = aoristic_hour_of_week(s[~long], e[~long])
    n = int((~long).sum())
    week = pd.DataFrame(
        {"day": np.repeat(DAYS, 24), "hour": np.tile(np.arange(24), 7), "weight": w}
    )
    hours = week.groupby("hour", as_index=False).weight.sum()
    hours["share"] = hours.weight / n if n else np.nan
    days = week.groupby("day", as_index=False, sort=False).weight.sum()
    days["share"] = days.weight / n if n else np.nan
    night = float(hours.weight[hours.hour.isin(NIGHT)].sum())
    night_share, night_ci = rate_with_ci(int(round(night)), n)
    summary = {
        "crimes_used": n,
        "crimes_windowed": int(windowed.sum()),
        "crimes_window_over_week_left_out": int(long.sum()),
        "peak_hour": int(hours.hour[hours.weight.idxmax()]) if n else None,
        "peak_day": str(days.day[days.weight.idxmax()]) if n else None,
        "night_share": night_share,
        "night_share_ci": night_ci,
    }
    method = (
        "Aoristic weighting (Ratcliffe 2000): a crime known only to lie between committed_from "
        "and committed_to spreads one unit of weight over the hours of the week in proportion "
        "to the time of the window in each; a crime with an exact time puts its unit in its "
        f"hour. Windows over {MAX_WINDOW_H} hours are left out (they carry no hour signal). "
        "Assumptions: within a window every minute is equally likely. Uncertainty: the night "
        "share (22:00-03:59) has a Wilson 95% interval on its rounded weight, which ignores "
        "the extra spread from spreading windows."
    )
    return Result(
        table=week, summary=summary, method=method, tables={"by_hour": hours, "by_day": days}
    )
