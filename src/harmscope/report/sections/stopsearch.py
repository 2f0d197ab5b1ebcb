"""Report section "Stop and search": outcome rates, the outcome test and targeting."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from markupsafe import escape

from harmscope.analysis import stopsearch as ss
from harmscope.analysis.breaks import BREAK_TABLE_COLUMNS
from harmscope.months import month_range
from harmscope.privacy.audience import CHECKED_ATTR
from harmscope.report.section import ReportContext, Section
from harmscope.store.queries import report as queries

ORDER = 70

_BREAKDOWNS = (
    ("by_month", "Month"),
    ("by_legislation", "Legislation"),
    ("by_object_of_search", "Object of search"),
    ("by_age_range", "Age range"),
    ("by_gender", "Gender"),
    ("by_self_defined_ethnicity", "Self-defined ethnicity"),
    ("by_officer_defined_ethnicity", "Officer-defined ethnicity"),
    ("by_strip_search", "Strip search (more than outer clothing)"),
)
_TABLE_COLS = [
    "value",
    "searches",
    "arrest_rate",
    "arrest_rate_low",
    "arrest_rate_high",
    "action_rate",
    "action_rate_low",
    "action_rate_high",
    "no_further_action_rate",
    "find_rate",
    "find_rate_low",
    "find_rate_high",
    "find_rate_of_outcomes",
    "found_or_arrest_rate",
    "found_or_arrest_rate_low",
    "found_or_arrest_rate_high",
    "linked_action_rate",
    "linked_action_rate_low",
    "linked_action_rate_high",
]
_BREAK_COLS = ["mix", *BREAK_TABLE_COLUMNS]


def _pct(value: Any) -> str:
    try:
        if value is None or pd.isna(value):
            return "[c]"
    except (TypeError, ValueError):
        return "[c]"
    return f"{float(value):.1%}"


def _ci(pair: Any) -> str:
    if not pair or pair[0] is None:
        return ""
    return f" (95% CI {pair[0]:.1%} to {pair[1]:.1%})"


def _mon(m: str) -> str:
    from harmscope.report.labels import month_text

    return month_text(m) or m


def _months_between(lo: date, hi: date) -> list[str]:
    return [str(m) for m in month_range(lo, hi)]


def _period(ctx: ReportContext) -> tuple[str, str, list[str]]:
    """The months this section uses and plain notes on what is missing or partial.

    The report's months when the store holds searches in them; otherwise the latest 12 months
    held, narrowed to the months actually held in that window (a window of 12 months with one
    month held is one month, and is called that)."""
    from harmscope.store.status import partial_months

    held = queries.stop_search_months(ctx.store)
    if held.empty:
        return "", "", []
    months = list(held.month)
    asked = _months_between(ctx.date_from, ctx.date_to)
    inside = [m for m in months if m in asked]
    notes: list[str] = []
    if inside:
        window = asked
        start, end = ctx.month_from, ctx.month_to
    else:
        hi = date.fromisoformat(months[-1] + "-01")
        first = date(hi.year, 1, 1) if hi.month == 12 else date(hi.year - 1, hi.month + 1, 1)
        window = _months_between(first, hi)
        inside = [m for m in months if m in window]
        start, end = inside[0], inside[-1]
        notes.append(
            f"No stop-and-search records are held for the report period ({_mon(ctx.month_from)} "
            f"to {_mon(ctx.month_to)}), so this section uses the latest records held instead: "
            + (f"{_mon(start)} only." if start == end else f"{_mon(start)} to {_mon(end)}.")
            + " These are not the same months as the rest of the report."
        )
    missing = [m for m in window if m not in inside]
    if missing:
        shown = ", ".join(_mon(m) for m in missing[:4]) + (" ..." if len(missing) > 4 else "")
        notes.append(
            f"Only {len(inside)} of {len(window)} months from {_mon(window[0])} to "
            f"{_mon(window[-1])} {'is' if len(inside) == 1 else 'are'} held; {len(missing)} are missing ({shown}). Figures cover "
            "the months held only and are not a year's picture."
        )
    for p in partial_months(months, [int(n) for n in held.n]):
        if p["month"] in inside:
            notes.append(
                f"{_mon(p['month'])} is a partial month: {p['rows']:,} searches against about "
                f"{p['typical']:,} in the months around it (an excerpt or an incomplete file)."
            )
    return start, end, notes


def build(ctx: ReportContext) -> Section | None:
    if not ctx.store.table_exists("stop_searches"):
        return None
    start, end, period_notes = _period(ctx)
    if not start:
        return None
    force = ctx.options.get("force")
    results = ss.scrutiny(
        ctx.store, start, end, force=force, population=ctx.options.get("population")
    )
    from harmscope.privacy.stopsearch import protect_results

    results = protect_results(results, ctx.aud)
    out = results["outcomes"]
    s = out.summary

    notes = list(period_notes)
    notes += [n for n in out.notes if not n.startswith("Disclosure control")]
    notes.append(
        "Stop-and-search figures are force-wide: searches are not filtered to the report area."
    )
    tables: dict[str, pd.DataFrame] = {}
    parts = [
        "<p>How often does a search find what it was for, or lead to an arrest? "
        f"In {escape(_period_text(start, end))} police recorded <strong>{_count(s['searches'])}"
        "</strong> searches"
        + (" (months missing or partial: see the notes above). " if period_notes else ". ")
        + f"Arrest rate {_pct(s['arrest_rate'])}{_ci(s['arrest_rate_ci'])}; "
        f"no further action {_pct(s['no_further_action_rate'])}{_ci(s['no_further_action_rate_ci'])}; "
        f"find rate (outcome linked to the object of the search) {_pct(s['find_rate'])}"
        f"{_ci(s['find_rate_ci'])}, or {_pct(s['find_rate_of_outcomes'])}"
        f"{_ci(s['find_rate_of_outcomes_ci'])} of searches with an action outcome.</p>",
        _public_measures_html(s),
    ]
    parts += _breaks_html(results, s, tables)
    charts: dict[str, dict] = {"monthly_rates": out.charts["monthly_rates"]}
    tables["monthly_rates"] = _subset(out.tables["by_month"], _TABLE_COLS)
    for name, _label in _BREAKDOWNS[1:]:
        tables[name] = _subset(out.tables[name], _TABLE_COLS)
    # the board reads labels; the code names of the measures stay in --json
    tables["public_measures"] = out.tables["public_measures"].drop(
        columns=["measure", "numerator", "denominator"], errors="ignore"
    )
    parts.append(
        "<p>Tables below give each breakdown with 95% Wilson intervals (low/high columns). "
        "Outcome names changed in April 2018; they are grouped with a documented mapping.</p>"
    )

    hit = results["hit_rate_ethnicity"]
    hs = hit.summary
    charts["find_rate_by_ethnicity"] = hit.charts["find_rates"]
    tables["find_rate_by_ethnicity"] = hit.table
    tables["find_rate_by_self_defined_ethnicity"] = results["hit_rate_self_defined"].table
    tables["find_rate_by_age"] = results["hit_rate_age"].table
    if hs.get("chi2_p_value") is not None:
        parts.append(
            "<p><strong>Outcome test.</strong> If one group is searched on weaker grounds, its "
            "searches find something less often. A chi-square test of equal find rates across "
            f"officer-defined ethnic groups gives {hs['chi2']:.2f} on {hs['chi2_dof']} degrees of "
            f"freedom, p = {hs['chi2_p_value']:.3g} (reference group "
            f"{escape(str(hs['reference']))}). "
            "Pairwise differences with Newcombe intervals and Holm-adjusted p-values are in the "
            "table. A difference is consistent with, but does not prove, a different threshold.</p>"
        )
    agree = results["ethnicity_agreement"]
    tables["ethnicity_agreement"] = agree.table
    a = agree.summary
    parts.append(
        f"<p><strong>Self- and officer-defined ethnicity</strong> agree with Cohen's kappa "
        f"{a['kappa']:.2f} (95% CI {a['kappa_ci'][0]:.2f} to {a['kappa_ci'][1]:.2f}) on the five "
        f"broad groups plus 'not stated'; {a['kappa_stated_only']:.2f} where both are stated.</p>"
    )
    disp = results["disproportionality"]
    if disp.summary.get("ratios_available"):
        tables["disproportionality"] = disp.table
        parts.append(
            "<p><strong>Disproportionality</strong>: searches per 1,000 residents "
            "by ethnicity against the White rate are in the table below.</p>"
        )
    else:
        notes.extend(n for n in disp.notes if not n.startswith("Disclosure control"))

    intel = results.get("intelligence_led")
    if intel is not None:
        i = intel.summary
        charts["concentration_curve"] = intel.charts["concentration_curve"]
        tables["concentration_curve"] = intel.tables["concentration_curve"]
        tables["hot_cells"] = intel.table
        if "by_district" in intel.tables:
            tables["searches_per_offence_by_district"] = intel.tables["by_district"]
        notes.extend(n for n in intel.notes if not n.startswith("Disclosure control"))
        parts.append(
            "<p><strong>Do searches follow violence?</strong> The top 5% of grid cells by violence "
            f"and weapons offences ({escape(i['crime_period'])}) hold "
            f"{_pct(i.get('top5pct_offence_share'))} of those offences and "
            f"{_pct(i.get('top5pct_search_share'))}{_ci(i.get('top5pct_search_share_ci'))} of "
            "located searches. Concentration index of searches on the offence ranking: "
            f"{i['concentration_index_searches']:.2f} (offences themselves: "
            f"{i['concentration_index_offences']:.2f})."
            + (
                f" Gi* hot spots ({i['gistar_hot_cells']:,} cells) hold "
                f"{_pct(i.get('gistar_hot_offence_share'))} of the offences and "
                f"{_pct(i.get('gistar_hot_search_share'))}{_ci(i.get('gistar_hot_search_share_ci'))}"
                " of the searches."
                if i.get("gistar_hot_cells")
                else ""
            )
            + "</p>"
        )
    breaks = results.get("recording_breaks")
    method = "\n\n".join(
        r.method for r in (out, breaks, hit, agree, disp, intel) if r is not None and r.method
    )
    return Section(
        key="stop-and-search",
        title="Stop and search",
        html="\n".join(parts),
        charts=charts,
        tables=tables,
        method=method,
        disclosure_checked=True,
        notes=notes,
        captions={
            "monthly_rates": "Shaded bands: 95% Wilson intervals. Recording changes, not only "
            "policing, move these lines (see notes).",
        },
    )


def _public_measures_html(s: dict) -> str:
    """The public's measures beside the others, each defined in plain words."""
    return (
        "<p><strong>Found or arrest</strong> (searches where what the officer looked for was "
        "found, or the person was arrested; each search once): "
        f"{_pct(s.get('found_or_arrest_rate'))}{_ci(s.get('found_or_arrest_rate_ci'))}. "
        "<strong>Linked with an action</strong> (the outcome was linked to the object of the "
        "search and was not 'no further action'): "
        f"{_pct(s.get('linked_action_rate'))}{_ci(s.get('linked_action_rate_ci'))}. "
        "A figure the force publishes for 'something found or an arrest' can differ: the "
        "definitions differ and the recording changed during the period (see the notes and the "
        "table of each definition's figure).</p>"
    )


def _breaks_html(results: Any, s: dict, tables: dict) -> list[str]:
    """The recording breaks as a paragraph (and their tables) when one lies in the period."""
    breaks = results.get("recording_breaks")
    if breaks is None:
        return []
    flagged = breaks.tables["flagged"]
    if flagged.empty:
        return [
            "<p><strong>Recording breaks.</strong> No month where the outcome recording "
            "changed was found (the test and its threshold are in the method).</p>"
        ]
    tables["recording_breaks"] = _subset(flagged, [c for c in _BREAK_COLS if c in flagged])
    tables["rates_around_breaks"] = _subset(
        results["outcomes"].tables["rates_around_breaks"],
        ["break", "side", "months", "searches", *_TABLE_COLS[2:]],
    )
    months = ", ".join(_mon(m) for m in s.get("recording_breaks") or [])
    items = "".join(
        f"<li>{escape(n)}</li>" for n in breaks.notes if not n.startswith("Disclosure control")
    )
    return [
        "<p><strong>Recording breaks.</strong> The way outcomes were recorded changed inside "
        f"this period (breaks from {escape(months)}), so the rates above pool two ways of "
        "recording; the rates on each side of every break are in the table "
        "'rates around breaks'.</p>",
        f"<ul>{items}</ul>",
    ]


def _subset(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Columns of a protected table, keeping its disclosure mark (for the columns kept)."""
    out = frame[cols].copy()
    mark = dict(frame.attrs.get(CHECKED_ATTR, {}))
    for key in ("count_cols", "derived_cols"):
        if key in mark:
            mark[key] = [c for c in mark[key] if c in cols]
    out.attrs = {CHECKED_ATTR: mark} if mark else {}
    return out


def _count(value: Any) -> str:
    return "[c]" if value is None else f"{int(value):,}"


def _period_text(start: str, end: str) -> str:
    return _mon(start) if start == end else f"{_mon(start)} to {_mon(end)}"
