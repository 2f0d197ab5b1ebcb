"""Report section "Early warning": this month's rises that exceed what past months predict."""

from __future__ import annotations

import pandas as pd

from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import para

ORDER = 35
TITLE = "Early warning"
# Where analysis.trends.alerts reports that there is nothing to judge here (no event matches,
# the last month is not held): announced. Any other error is a failure of the section.
_NO_DATA = ("alerts", "--month")


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.trends import ALARM_DERIVED, alerts, latest_alarms
    from harmscope.errors import HarmscopeError

    weight = ctx.options.get("scheme", "css")
    try:
        res = alerts(
            ctx.store,
            level="district",
            area=ctx.area,
            weight=weight,
            month=ctx.date_to.replace(day=1),
        )
    except HarmscopeError as exc:
        if exc.where in _NO_DATA:
            raise NotApplicable(exc.problem, title=TITLE) from exc
        raise
    s = res.summary
    latest = latest_alarms(res)
    latest[["expected", "upper", "score", "cusum", "harm_excess"]] = latest[
        ["expected", "upper", "score", "cusum", "harm_excess"]
    ].round(2)
    pub = ctx.protect(
        latest,
        count_cols=["observed"],
        derived=ALARM_DERIVED,
        totals=False,
    )
    rate = s.get("alarm_rate")
    html = para(
        f"Is a rise this month a new risk or noise? For {s['latest_month']:%B %Y}, {s['latest_alarms']} district x "
        f"category counts exceed their upper limit and {s['latest_cusum_alarms']} show a sustained shift (CUSUM); "
        "they are listed by the harm in the excess over the expected count.",
        f"Across all judged district-months {rate:.1%} raised an alarm against a nominal {s['alpha']:.0%}."
        if rate is not None
        else "",
    )
    tables, charts = {"alerts": pub}, {}
    if "top_alarm" in res.charts and not ctx.public:
        # one series month by month holds small counts: shown to internal and partner readers only
        spec = res.charts["top_alarm"]
        charts["top_alarm"] = spec
        tables["top_alarm"] = ctx.protect(pd.DataFrame(spec["data"]["values"]))
    return Section(
        key="alerts",
        title=TITLE,
        html=html,
        tables=tables,
        charts=charts,
        method=res.method,
        notes=list(res.notes[:1]),
        disclosure_checked=True,
    )
