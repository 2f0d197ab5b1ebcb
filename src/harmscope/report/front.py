"""The front page for the partnership board: five key findings with their intervals, what
changed since last month and since the same months last year, the top risks, and the data
caveats in one box; plus the glossary.

It is written from the *published* tables only (``report.publication.tables``), never from a
section's own results, so it can say nothing the publication did not let through: a suppressed
value is missing there and the finding that needs it is left out (or shows [c]).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SUPPRESSED = "[c]"

HARM_UNITS = {
    "css": "sentence-equivalent days",
    "chi": "days of imprisonment (Cambridge Crime Harm Index)",
}

GLOSSARY = [
    (
        "Harm",
        "Each crime weighted by how serious it is, then added up. With the ONS Crime "
        "Severity Score a crime's weight is the average number of days of custody (or the "
        "equivalent fine or community sentence) that such an offence gets in court, so harm is "
        "counted in sentence-equivalent days. One homicide weighs as much as thousands of thefts.",
    ),
    (
        "Harm per 1,000 residents",
        "Harm divided by the resident population (ONS mid-2019), times "
        "1,000, over the whole period (not per year). Areas with many visitors, such as town "
        "centres, look high.",
    ),
    (
        "95% CI (confidence interval)",
        "The range the figure would fall in 95 times out of 100 "
        "if the same underlying risk produced the crimes again; it reflects chance variation in "
        "the counts only, not recording errors.",
    ),
    (
        "LSOA",
        "Lower layer Super Output Area: a small neighbourhood of about 1,500 residents "
        "(2011 boundaries).",
    ),
    (
        "Hotspot (Gi*)",
        "A grid cell whose harm, with its neighbours', is far above the area "
        "average: more than chance would give, after allowing for testing many cells.",
    ),
    (
        "Alert (exceedance)",
        "A district and crime type whose count this month is above the upper "
        "limit predicted from earlier months; CUSUM flags a sustained shift over several months.",
    ),
    (
        "Find rate",
        "Share of stop and searches whose outcome was linked to the object of the "
        "search (something was found).",
    ),
    (
        "[c]",
        "A confidential value, suppressed in the public version so that no small count of "
        "people or events can be identified.",
    ),
    (
        "Partial month",
        "A month held with far fewer records than the months around it, usually "
        "an excerpt or an incomplete download: its figures are not comparable.",
    ),
]


@dataclass
class FrontPage:
    findings: list[dict[str, str]] = field(default_factory=list)  # title, value, detail, link
    changes: list[dict[str, str]] = field(default_factory=list)
    risks: list[dict[str, str]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


def harm_unit(options: dict) -> str:
    if options.get("weights"):
        return "weighted units (the weights file given)"
    return HARM_UNITS.get(str(options.get("scheme", "css")), "weighted units")


def _ok(v: Any) -> bool:
    try:
        return v is not None and not pd.isna(v) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _n(v: Any, decimals: int = 0) -> str:
    return f"{float(v):,.{decimals}f}" if _ok(v) else SUPPRESSED


def _big(v: Any) -> str:
    """Millions for a board ("21.0 million"); plain thousands below that."""
    if not _ok(v):
        return SUPPRESSED
    v = float(v)
    return f"{v / 1e6:,.2f} million" if abs(v) >= 1e6 else f"{v:,.0f}"


def _pct(v: Any, decimals: int = 0) -> str:
    return f"{float(v) * 100:.{decimals}f}%" if _ok(v) else SUPPRESSED


def _change(ratio: Any, lo: Any = None, hi: Any = None) -> str:
    if not _ok(ratio):
        return SUPPRESSED
    text = f"{(float(ratio) - 1) * 100:+.1f}%"
    if _ok(lo) and _ok(hi):
        text += f" (95% CI {(float(lo) - 1) * 100:+.1f}% to {(float(hi) - 1) * 100:+.1f}%)"
    return text


def _month(text: Any) -> str:
    from harmscope.report.labels import month_text

    return month_text(text) or str(text)


def _span(text: Any) -> str:
    """'2025-01 to 2025-04' -> 'Jan 2025 to Apr 2025'."""
    return re.sub(r"\d{4}-\d{2}", lambda m: _month(m.group(0)), str(text))


def _finding(title: str, value: str, detail: str, link: str) -> dict[str, str]:
    return {"title": title, "value": value, "detail": detail, "link": link}


def _headline_findings(tables: dict, unit: str) -> list[dict]:
    head = tables.get("headline.headline")
    if head is None or not len(head):
        return []
    allc, viol = head.iloc[0], head.iloc[-1]
    return [
        _finding(
            "Harm from recorded crime",
            f"{_big(allc['harm'])} {unit}",
            f"95% CI {_big(allc['harm_ci_low'])} to {_big(allc['harm_ci_high'])}; "
            f"from {_n(allc['count'])} street-level crimes; {_n(allc['harm_rate_per_1000'])} "
            f"per 1,000 residents (95% CI {_n(allc['harm_rate_ci_low'])} to "
            f"{_n(allc['harm_rate_ci_high'])}).",
            "headline",
        ),
        _finding(
            "Violence, robbery and weapons",
            f"{_pct(viol['share_of_harm'])} of all harm",
            f"{_n(viol['count'])} offences, {_n(viol['rate_per_1000'], 1)} per 1,000 "
            f"residents (95% CI {_n(viol['rate_ci_low'], 1)} to {_n(viol['rate_ci_high'], 1)}). "
            "This counts violence and sexual offences, robbery and possession of weapons "
            "together; violence and sexual offences alone is the larger part.",
            "headline",
        ),
    ]


def _same_period_row(tables: dict):
    same = tables.get("trend.same_period_change")
    return same.iloc[0] if same is not None and len(same) else None


def _ratio_text(r, measure: str) -> str:
    return _change(
        r[f"{measure}_ratio"], r[f"{measure}_ratio_ci_low"], r[f"{measure}_ratio_ci_high"]
    )


def _same_period_findings(tables: dict) -> list[dict]:
    r = _same_period_row(tables)
    if r is None:
        return []
    return [
        _finding(
            "Change on the same months a year before",
            f"harm {_change(r['harm_ratio'])}",
            f"{_span(r['months'])} against {_span(r['previous_months'])}: harm "
            f"{_ratio_text(r, 'harm')}; crimes {_ratio_text(r, 'count')}.",
            "trend",
        )
    ]


def _concentration_findings(tables: dict) -> list[dict]:
    top = tables.get("concentration.top_shares")
    if top is None or not len(top):
        return []
    rows = top[(top["measure"] == "harm") & (top["top_pct"] == 10)]
    if not len(rows):
        return []
    r = rows.iloc[0]
    ci = (
        f" (95% CI {_pct(r['share_expected_ci_low'], 1)} to {_pct(r['share_expected_ci_high'], 1)})"
        if "share_expected_ci_low" in r and _ok(r["share_expected_ci_low"])
        else ""
    )
    return [
        _finding(
            "Where harm concentrates",
            f"{_pct(r['share'])} of harm in 10% of {r['unit']}",
            f"The most harmed 10% of {_n(r['units'])} {r['unit']} hold "
            f"{_pct(r['share'], 1)} of harm{ci}.",
            "concentration",
        )
    ]


def _top_row(tables: dict, key: str, col: str, needs: tuple[str, ...] = ()):
    """The row of a published table with the largest ``col`` shown (a suppressed value is
    missing and cannot be the top), or None when the table or every value is absent."""
    table = tables.get(key)
    if table is None or not len(table) or not {col, *needs} <= set(table.columns):
        return None
    shown = table.dropna(subset=[col])
    return shown.sort_values(col, ascending=False).iloc[0] if len(shown) else None


def _district_findings(tables: dict) -> list[dict]:
    r = _top_row(tables, "districts.districts", "harm_rate_per_1000")
    if r is None:
        return []
    return [
        _finding(
            "Highest harm rate",
            f"{r['district']}",
            f"{_n(r['harm_rate_per_1000'])} harm per 1,000 residents (95% CI "
            f"{_n(r['harm_rate_ci_low'])} to {_n(r['harm_rate_ci_high'])}), "
            f"{_n(r['count'])} crimes.",
            "districts",
        )
    ]


def _category_findings(tables: dict) -> list[dict]:
    r = _top_row(tables, "harm-vs-count.by_category", "harm_share", ("count_share",))
    if r is None:
        return []
    return [
        _finding(
            "Most harmful category",
            f"{r['category']}",
            f"{_pct(r['harm_share'])} of harm from {_pct(r['count_share'])} of recorded crimes.",
            "harm-vs-count",
        )
    ]


def _month_change(tables: dict) -> list[dict]:
    from harmscope.analysis.profile import count_ratio_ci

    monthly = tables.get("trend.monthly")
    if monthly is None or len(monthly) < 2:
        return []
    m = monthly.sort_values("month")
    last, prev = m.iloc[-1], m.iloc[-2]
    if not (_ok(last["count"]) and _ok(prev["count"])):
        return []
    ci = count_ratio_ci(float(last["count"]), float(prev["count"]))
    ratio = float(last["count"]) / float(prev["count"]) if float(prev["count"]) else None
    harm = (
        f"; harm {_change(float(last['harm']) / float(prev['harm']))}"
        if _ok(last["harm"]) and _ok(prev["harm"]) and float(prev["harm"])
        else ""
    )
    return [
        {
            "title": f"Since last month ({_month(last['month'])} against {_month(prev['month'])})",
            "text": f"crimes {_n(prev['count'])} to {_n(last['count'])}, "
            + _change(ratio, *(ci or (None, None)))
            + harm
            + ". One month's change is often noise: see the alerts below for what exceeds "
            "normal variation.",
        }
    ]


def _year_change(tables: dict) -> list[dict]:
    r = _same_period_row(tables)
    if r is None:
        return []
    return [
        {
            "title": f"Since the same months last year ({_span(r['months'])})",
            "text": f"harm {_ratio_text(r, 'harm')}; crimes {_ratio_text(r, 'count')}.",
        }
    ]


def _alert_risks(tables: dict) -> list[dict]:
    alerts = tables.get("alerts.alerts")
    if alerts is None or not len(alerts):
        return []
    a = alerts
    flag = a.get("alarm", False) | a.get("cusum_alarm", False)
    a = a[flag.astype(bool)] if hasattr(flag, "astype") else a
    if "harm_excess" in a:
        a = a.sort_values("harm_excess", ascending=False, na_position="last")
    out = []
    for r in a.head(3).itertuples(index=False):
        kind = "above its upper limit" if bool(getattr(r, "alarm", False)) else "a sustained rise"
        out.append(
            {
                "title": f"{r.crime_type} in {r.area}",
                "text": f"{_n(r.observed)} recorded against {_n(r.expected, 1)} expected "
                f"(upper limit {_n(r.upper, 1)}): {kind}.",
                "link": "alerts",
            }
        )
    return out


def _hotspot_risks(tables: dict) -> list[dict]:
    out = [
        # an emerging-hotspot table (hotspots --emerging) names new or intensifying places
        {
            "title": "Emerging hotspots",
            "text": f"{len(table):,} cells are new, intensifying or persistent hotspots.",
            "link": "hotspots",
        }
        for key, table in tables.items()
        if key.startswith("hotspots.") and "emerging" in key and len(table)
    ]
    hot = tables.get("hotspots.hotspot_classes")
    if hot is not None and len(hot) and "share_of_events" in hot:
        h = hot[hot["class"].astype(str).str.startswith("hot")]
        if len(h) and h["share_of_events"].notna().all():
            out.append(
                {
                    "title": "Persistent hotspots",
                    "text": f"{_n(h['units'].sum())} hotspot cells ({_pct(h['share_of_units'].sum(), 1)} "
                    f"of the area) hold {_pct(h['share_of_events'].sum())} of the crimes analysed.",
                    "link": "hotspots",
                }
            )
    return out


def build_front(report) -> FrontPage:
    pub = report.publication
    tables: dict[str, pd.DataFrame] = dict(pub.tables) if pub is not None else {}
    unit = harm_unit(report.ctx.options)
    findings = [
        *_headline_findings(tables, unit),
        *_same_period_findings(tables),
        *_concentration_findings(tables),
        *_district_findings(tables),
        *_category_findings(tables),
    ]
    # five findings: the later candidates stand in when an earlier one has no data (no year
    # before the period, or a figure suppressed)
    return FrontPage(
        findings=findings[:5],
        changes=[*_month_change(tables), *_year_change(tables)],
        risks=[*_alert_risks(tables), *_hotspot_risks(tables)],
    )


def collect_caveats(blocks: list[dict]) -> list[str]:
    """Every section's caveats once: a note that appears in several sections (the months held,
    the weights caveat) moves to the front page's box and leaves the sections; so do the data
    coverage notes. The blocks are edited in place."""
    seen: dict[str, int] = {}
    for b in blocks:
        for n in b.get("notes", []):
            seen[_key(n)] = seen.get(_key(n), 0) + 1
    caveats: list[str] = []
    keys: set[str] = set()
    for b in blocks:
        keep = []
        for n in b.get("notes", []):
            k = _key(n)
            if seen[k] > 1 or b.get("key") == "coverage":
                move = True
            elif _PERIOD_NOTE.search(n):
                # a section on other months, or with months missing, is a caveat for the whole
                # report: said in the box (with the section's name) and kept beside its figures
                caveats.append(f"{b.get('title')}: {n}")
                keep.append(n)
                continue
            else:
                move = False
            if move:
                if k not in keys:
                    keys.add(k)
                    caveats.append(n)
            else:
                keep.append(n)
        b["notes"] = keep
    return caveats


_PERIOD_NOTE = re.compile(r"partial month|not the same months|months? .{0,60}missing", re.I)


def _key(note: str) -> str:
    return re.sub(r"\W+", " ", str(note)).strip().lower()
