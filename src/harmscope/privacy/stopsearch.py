"""Disclosure control for publishing the stop-and-search results (part of the publishing path): small counts suppressed
(with secondary suppression), the rates built from them hidden, notes scrubbed of small
numbers and event-level tables left out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.charts import group_rate_chart, monthly_rates_chart
from harmscope.analysis.stopsearch.searches import COUNTS, RATES


def _rate_columns(name: str) -> list[str]:
    return [name, f"{name}_low", f"{name}_high"]


def _hidden_with(sources: list[str], columns: Iterable[str]) -> dict[str, list[str]]:
    """Derived columns -> the counts whose suppression hides them."""
    return {c: list(sources) for c in columns}


# For each published table: groups of count columns protected together (a group is a
# partition of its row total, so secondary suppression sees the real additive structure),
# and the derived columns hidden when any of their counts is hidden.
_OUTCOME_PARTS = [
    ["actions", "nfa", "outcome_missing"],
    ["searches"],
    ["arrests"],
    ["finds"],
    ["finds_in_action"],
    ["found_or_arrest"],
    ["linked_missing"],
]
_OUTCOME_DERIVED = {c: list(RATES[name]) for name in RATES for c in _rate_columns(name)}
_HIT_DERIVED_COLS = [
    *_rate_columns("find_rate"),
    "difference",
    "difference_low",
    "difference_high",
    "z",
    "p_value",
    "p_holm",
    "ratio_to_reference",
]


def protect_frame(
    frame: pd.DataFrame,
    audience: Any,
    parts: list[list[str]],
    derived: dict[str, list[str]] | None = None,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Apply the audience's disclosure control to a table of counts and rates.

    Each entry of ``parts`` is a set of count columns that partition a row total (protected
    together with secondary suppression); a derived column is hidden wherever one of its
    counts is. For internal and partner audiences the table comes back unchanged, marked.
    """
    from harmscope.privacy.audience import CHECKED_ATTR, protect_table

    if not audience.suppress:
        return protect_table(frame, audience)
    out = frame.copy()
    hidden: dict[str, pd.Series] = {}
    suppressed = 0
    keys = [by] if by else []
    for cols in parts:
        if len(frame) == 0:
            break
        sub = frame[[*keys, *cols]].reset_index(drop=True)
        protected = protect_table(sub, audience, count_cols=cols, by=by)
        for col in cols:
            out[col] = pd.Series(protected[col].array, index=frame.index)
            hidden[col] = pd.Series(protected[col].isna().to_numpy(), index=frame.index)
            suppressed += int(hidden[col].sum())
    for col, sources in (derived or {}).items():
        if col not in out.columns:
            continue
        mask = np.zeros(len(out), dtype=bool)
        for source in sources:
            if source in hidden:
                mask |= hidden[source].to_numpy()
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Float64").mask(mask)
    out.attrs[CHECKED_ATTR] = {
        "audience": audience.name,
        "threshold": audience.threshold,
        "count_cols": [c for cols in parts for c in cols],
        "derived_cols": [c for c in (derived or {}) if c in out.columns],
        "suppressed": suppressed,
    }
    return out


# The outcome groups partition the searches: actions + nfa + outcome_missing = searches. The
# headline totals are one line of that equation, shared by every breakdown table as its
# column totals, so which of them is hidden is decided once, here, for the whole output.
_PARTITION = ["actions", "nfa", "outcome_missing"]


def hidden_totals(summary: dict[str, Any], threshold: int) -> set[str]:
    """The headline outcome-group totals a public output must hide: the small ones and, so
    that ``searches - the others`` cannot give one back, a partner for any lone hidden one."""
    from harmscope.privacy.disclosure import protect_counts

    values = {c: summary.get(c) for c in _PARTITION}
    if any(not isinstance(v, int) for v in values.values()):
        return set()
    frame = pd.DataFrame([values])
    prot = protect_counts(frame, _PARTITION, threshold=threshold, totals=True)
    return {c for c in _PARTITION if bool(prot.mask[c].iloc[0])}


def protect_summary(summary: dict[str, Any], audience: Any) -> dict[str, Any]:
    """Hide small headline counts (and the rates built from them) for a public audience."""
    if not audience.suppress:
        return dict(summary)
    out = dict(summary)
    keys = [*COUNTS, "unmapped_outcomes"]
    small = {c for c in keys if isinstance(out.get(c), int) and 0 < out[c] < audience.threshold}
    small |= hidden_totals(summary, audience.threshold)
    for c in small:
        out[c] = None
    for name, (num, den) in RATES.items():
        if num in small or den in small:
            out[name] = None
            out[f"{name}_ci"] = [None, None]
    out["disclosure_control"] = (
        f"public: counts from 1 to {audience.threshold - 1} suppressed, with secondary "
        "suppression; rates from suppressed counts hidden"
    )
    return out


_SMALL_NUMBER = re.compile(r"(?<![\w.,/%-])(\d+)(?![\w/%-]|[.,]\d)")


def scrub_small_numbers(text: str, threshold: int) -> str:
    """Replace counts from 1 to threshold-1 in a sentence by 'fewer than <threshold>'.

    Notes quote counts (searches with no outcome, unmapped categories); for the public
    they must not show a small one. Numbers glued to other characters (months, percents,
    decimals) are left alone.
    """

    def swap(match: re.Match) -> str:
        value = int(match.group(1))
        return f"fewer than {threshold}" if 0 < value < threshold else match.group(1)

    return _SMALL_NUMBER.sub(swap, text)


def _chi2_visible(table: pd.DataFrame) -> dict[str, Any]:
    """The chi-square test over the groups whose counts are all published."""
    visible = table[table.tested & table.finds.notna() & table.non_finds.notna()]
    counts = np.column_stack([visible.finds.astype(float), visible.non_finds.astype(float)])
    counts = counts[counts.sum(axis=1) > 0] if len(counts) else counts
    out: dict[str, Any] = {
        "chi2": None,
        "chi2_dof": None,
        "chi2_p_value": None,
        "chi2_groups": visible["group"].astype(str).tolist(),
    }
    if len(counts) >= 2 and (counts.sum(axis=0) > 0).all():
        chi2, p, dof, _ = stats.chi2_contingency(counts, correction=False)
        out.update(chi2=float(chi2), chi2_dof=int(dof), chi2_p_value=float(p))
    return out


# Each protects one kind of result: it returns the published main table and edits the
# copies of the summary, tables and charts it is given.
_Protector = Callable[[Result, Any, dict, dict, dict], pd.DataFrame]


def _merged_name(gone: set[str]) -> str:
    return "_or_".join(c for c in _PARTITION if c in gone)


def _merge_hidden_groups(table: pd.DataFrame, gone: set[str]) -> pd.DataFrame:
    """The outcome groups in ``gone`` as one column (searches less the groups still shown);
    rates built on them kept as hidden columns, so every table keeps one shape."""
    known = [c for c in _PARTITION if c not in gone]
    total = pd.to_numeric(table["searches"], errors="coerce").astype("Float64")
    for c in known:
        total = total - pd.to_numeric(table[c], errors="coerce").astype("Float64")
    table[_merged_name(gone)] = total.round().astype("Int64")
    for col, sources in _OUTCOME_DERIVED.items():
        if col in table.columns and set(sources) & gone:
            table[col] = pd.array([pd.NA] * len(table), dtype="Float64")
    return table.drop(columns=[c for c in gone if c in table.columns])


def _merge_hidden_summary(summary: dict, gone: set[str]) -> None:
    """The headline with the groups in ``gone`` merged as in the tables (in place)."""
    known = [c for c in _PARTITION if c not in gone]
    values = [summary.get("searches"), *[summary.get(c) for c in known]]
    merged = None if any(v is None for v in values) else values[0] - sum(values[1:])
    summary[_merged_name(gone)] = merged
    for c in gone:
        summary[c] = None
    for name, (num, den) in RATES.items():
        if num in gone or den in gone:
            summary[name] = None
            summary[f"{name}_ci"] = [None, None]


def _protect_outcomes(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    table = protect_frame(res.table, audience, _OUTCOME_PARTS, _OUTCOME_DERIVED, by="dimension")
    gone: set[str] = set()
    if audience.suppress:
        # A group whose headline total must be hidden (say 4 searches with no outcome
        # recorded) would be a column of hidden cells in every breakdown, each breakdown a
        # different partition of the same searches: together they pin it down. So the hidden
        # groups are merged into one published column (table redesign, not suppression), the
        # same in every table and in the headline.
        gone = hidden_totals(res.summary, audience.threshold)
        if gone:
            table = _merge_hidden_groups(table, gone)
        table = _guard_found_or_arrest(table, audience.threshold)
    for name in list(tables):
        if name.startswith("by_"):
            part = table[table.dimension == name[3:]].drop(columns="dimension")
            part = part.reset_index(drop=True)
            part.attrs = dict(table.attrs)
            tables[name] = part
    for name in ("outcome_groups", "unmapped_outcomes"):
        tables[name] = protect_frame(tables[name], audience, [["searches"]])
    summary.clear()
    summary.update(protect_summary(res.summary, audience))
    if gone:
        _merge_hidden_summary(summary, gone)
    _protect_break_tables(res, audience, tables)
    if audience.suppress:
        _guard_found_or_arrest_summary(summary, audience.threshold)
        charts.clear()
        charts["monthly_rates"] = monthly_rates_chart(tables["by_month"])
    return table


# found_or_arrest = finds + arrests - (found and arrested): published beside finds and arrests,
# it would give back "arrests not found" (found_or_arrest - finds) and "found, not arrested"
# (found_or_arrest - arrests), so it is hidden wherever either difference is a small count.
_FOUND_OR_ARREST = ("found_or_arrest", ("finds", "arrests"))
_FOUND_OR_ARREST_RATE = _rate_columns("found_or_arrest_rate")


def _small_difference(total, part, threshold: int) -> np.ndarray:
    diff = pd.to_numeric(total, errors="coerce") - pd.to_numeric(part, errors="coerce")
    diff = np.asarray(diff, dtype=float)
    with np.errstate(invalid="ignore"):
        return (diff > 0) & (diff < threshold)


def _guard_found_or_arrest(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Hide found_or_arrest (and its rate) where it would difference out a small count."""
    col, parts = _FOUND_OR_ARREST
    if col not in table.columns:
        return table
    mask = np.zeros(len(table), dtype=bool)
    for part in parts:
        if part in table.columns:
            mask |= _small_difference(table[col], table[part], threshold)
    out = table.copy()
    out.attrs = dict(table.attrs)
    out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64").mask(mask)
    for c in _FOUND_OR_ARREST_RATE:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("Float64").mask(mask)
    return out


def _guard_found_or_arrest_summary(summary: dict, threshold: int) -> None:
    col, parts = _FOUND_OR_ARREST
    total = summary.get(col)
    for part in parts:
        value = summary.get(part)
        if total is None or value is None or 0 < total - value < threshold:
            summary[col] = None
            summary["found_or_arrest_rate"] = None
            summary["found_or_arrest_rate_ci"] = [None, None]
            return


def _protect_break_tables(res: Result, audience: Any, tables: dict) -> None:
    """The rates around breaks and the public measures as published (counts protected, the
    found-or-arrest difference guarded); the notes that quote them are rebuilt in
    :func:`_outcome_notes_published`."""
    if "rates_around_breaks" in tables:
        around = protect_frame(
            tables["rates_around_breaks"], audience, _OUTCOME_PARTS, _OUTCOME_DERIVED
        )
        if audience.suppress:
            around = _guard_found_or_arrest(around, audience.threshold)
        tables["rates_around_breaks"] = around
    if "public_measures" in tables:
        measures = tables["public_measures"]
        derived = _hidden_with(
            ["count", "searches"],
            ["value", "value_low", "value_high", "gap_points", "interval_holds_published"],
        )
        tables["public_measures"] = protect_frame(
            measures, audience, [["count"], ["searches"]], derived
        )


def _outcome_notes_published(res: Result, summary: dict, tables: dict, audience: Any) -> list[str]:
    """The outcome notes for a public audience: the ones quoting rates rebuilt from the
    published tables, the rest scrubbed of small numbers."""
    from harmscope.analysis.stopsearch.breaks import pooled_notes
    from harmscope.analysis.stopsearch.outcomes import reconciliation_note

    notes = []
    for note in res.notes:
        if note.startswith("These pooled figures"):
            notes += pooled_notes(tables["rates_around_breaks"])
        elif note.startswith("Reconciliation:"):
            notes.append(
                reconciliation_note(summary, tables["by_month"], summary.get("published_rate"))
            )
        else:
            notes.append(scrub_small_numbers(note, audience.threshold))
    return notes


def _show_hit_rate(table: pd.DataFrame, summary: dict, charts: dict) -> None:
    """The chart, chi-square and reference rate of a published hit-rate table, from what it
    shows (a group with a hidden count is left out of the test)."""
    charts.clear()
    charts["find_rates"] = group_rate_chart(table, "find_rate", "Find rate")
    summary.update(_chi2_visible(table))
    ref = table[table["group"] == summary.get("reference")]
    if ref.empty or ref.finds.isna().any() or ref.searches.isna().any():
        summary["reference_find_rate"] = None
        summary["reference_find_rate_ci"] = [None, None]


def _protect_hit_rate(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    frame = res.table.assign(non_finds=res.table.searches - res.table.finds)
    derived = _hidden_with(["finds", "non_finds", "searches"], _HIT_DERIVED_COLS)
    table = protect_frame(frame, audience, [["finds", "non_finds"], ["searches"]], derived)
    if audience.suppress:
        _show_hit_rate(table, summary, charts)
    return table


def _protect_disproportionality(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    derived = _hidden_with(
        ["searches"], [*_rate_columns("per_1000"), "ratio_to_white", "ratio_low", "ratio_high"]
    )
    table = protect_frame(res.table, audience, [["searches"]], derived)
    if audience.suppress:
        hidden = set(table.loc[table.searches.isna(), "ethnicity"].str.lower())
        for eth in hidden:
            summary.pop(f"ratio_{eth}", None)
            summary.pop(f"ratio_{eth}_ci", None)
    return table


def _protect_agreement(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    cols = [c for c in res.table.columns if c != "self_defined"]
    table = protect_frame(res.table, audience, [cols])
    if audience.suppress:
        # Rounded so that kappa cannot be solved back for a suppressed cell.
        for name in ("kappa", "kappa_stated_only", "observed_agreement"):
            summary[name] = round(summary[name], 2)
        for name in ("kappa_ci", "kappa_stated_only_ci"):
            summary[name] = [round(v, 2) for v in summary[name]]
    tables["by_self_defined"] = protect_frame(
        tables["by_self_defined"],
        audience,
        [["searches"], ["officer_same"]],
        _hidden_with(["searches", "officer_same"], _rate_columns("agreement")),
    )
    return table


def _protect_intelligence(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    table = protect_frame(
        res.table,
        audience,
        [["searches_in_hot_cells"]],
        _hidden_with(
            ["searches_in_hot_cells"],
            [*_rate_columns("search_share"), "search_to_offence_ratio"],
        ),
    )
    # Shares at whole percents of cells only: no count can be read off them.
    tables["concentration_curve"] = protect_frame(tables["concentration_curve"], audience, [])
    if audience.suppress:
        # Cell counts are close to event level: publish only the aggregated curve.
        tables.pop("cells", None)
    if "by_district" in tables:
        tables["by_district"] = protect_frame(
            tables["by_district"],
            audience,
            [["searches"], ["offences"]],
            _hidden_with(["searches", "offences"], _rate_columns("searches_per_offence")),
        )
    return table


_SHARE_COUNTS = {
    "rise_share": ("rise_count", "n"),
    "fall_share": ("fall_count", "n"),
    "rise_share_other": (None, "n_other"),
    "fall_share_other": (None, "n_other"),
}


def _small_share(share, count, n, threshold: int) -> np.ndarray:
    """Where a share stands for a count from 1 to threshold-1 (its count, or share x n)."""
    k = pd.to_numeric(count if count is not None else share * n, errors="coerce")
    k = np.round(np.asarray(k, dtype=float))
    with np.errstate(invalid="ignore"):
        return (k > 0) & (k < threshold)


def _protect_moves(moves: Any, n: Any, n_other: Any, threshold: int) -> list:
    out = []
    for m in list(moves) if isinstance(moves, (list, tuple)) else []:
        m = dict(m)
        if 0 < int(m["count"]) < threshold:
            m["count"], m["share"] = None, None
        if m.get("count_other") is not None and 0 < int(m["count_other"]) < threshold:
            m["count_other"], m["share_other"] = None, None
        out.append(m)
    return out


def protect_break_table(frame: pd.DataFrame, audience: Any) -> pd.DataFrame:
    """A recording-break table as published: month totals are large, so counts are protected
    cell by cell, and a share that stands for a small count (in the month or the pooled
    other months) is hidden, in the table and in the 'moved' list the notes are written from."""
    table = protect_frame(frame, audience, [["n"], ["n_other"], ["rise_count"], ["fall_count"]])
    if not audience.suppress or table.empty:
        return table
    t = audience.threshold
    for share, (count, n) in _SHARE_COUNTS.items():
        counts = frame[count] if count else None
        mask = _small_share(frame[share], counts, frame[n], t)
        table[share] = pd.to_numeric(table[share], errors="coerce").astype("Float64").mask(mask)
    table["moved"] = [
        _protect_moves(m, n, o, t)
        for m, n, o in zip(frame["moved"], frame["n"], frame["n_other"], strict=True)
    ]
    return table


def _protect_breaks(
    res: Result, audience: Any, summary: dict, tables: dict, charts: dict
) -> pd.DataFrame:
    table = protect_break_table(res.table, audience)
    tables["flagged"] = protect_break_table(tables["flagged"], audience)
    for name in [n for n in tables if n.startswith("mix_")]:
        mix = tables[name]
        cats = [c for c in mix.columns if c not in ("month", "total")]
        tables[name] = protect_frame(mix, audience, [cats, ["total"]])
    return table


_PROTECTORS: dict[str, _Protector] = {
    "recording_breaks": _protect_breaks,
    "outcomes": _protect_outcomes,
    "hit_rate": _protect_hit_rate,
    "disproportionality": _protect_disproportionality,
    "ethnicity_agreement": _protect_agreement,
    "intelligence_led": _protect_intelligence,
}


# The outcome breakdown that holds the same groups' searches and finds as each hit-rate test:
# the test's counts are taken from it, so the two tables show one suppression pattern.
_HIT_RATE_BREAKDOWN = {
    "hit_rate_ethnicity": "by_officer_defined_ethnicity",
    "hit_rate_self_defined": "by_self_defined_broad",
    "hit_rate_age": "by_age_range",
}


def _align_hit_rate(table: pd.DataFrame, breakdown: pd.DataFrame | None) -> pd.DataFrame:
    """Hit-rate counts as the outcome breakdown published them (a group it does not show, or
    shows hidden, is hidden here too); non-finds follow from the two."""
    out = table.copy()
    rows = (
        {}
        if breakdown is None
        else {
            str(v): r for v, r in zip(breakdown["value"], breakdown.to_dict("records"), strict=True)
        }
    )
    for col in ("searches", "finds"):
        out[col] = pd.array(
            [
                rows[str(g)][col] if str(g) in rows and pd.notna(rows[str(g)][col]) else pd.NA
                for g in out["group"]
            ],
            dtype="Int64",
        )
    out["non_finds"] = (out["searches"] - out["finds"]).astype("Int64")
    hidden = (out["searches"].isna() | out["finds"].isna()).to_numpy()
    for col in _HIT_DERIVED_COLS:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("Float64").mask(hidden)
    return out


def _published_notes(
    key: str, res: Result, summary: dict, tables: dict, audience: Any
) -> list[str]:
    """A result's notes for a public audience: notes quoting rates or shares are rebuilt from
    the published tables; the others are scrubbed of small numbers."""
    if key == "recording_breaks":
        from harmscope.analysis.stopsearch.breaks import break_notes

        return break_notes(tables["flagged"], audience.threshold)
    if key == "outcomes":
        return _outcome_notes_published(res, summary, tables, audience)
    return [scrub_small_numbers(n, audience.threshold) for n in res.notes]


def publish_street_breaks(res: Result, audience: Any) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """:func:`harmscope.analysis.breaks.street_category_breaks` for an audience: the monthly
    category mix and the flagged breaks protected, and one sentence per break written from
    the protected table (a share standing for a small count is not quoted)."""
    from harmscope.analysis.breaks import describe_break

    flagged = protect_break_table(res.tables["flagged"], audience)
    mix = res.tables["mix"]
    cats = [c for c in mix.columns if c != "month"]
    tables = {"street_category_mix": protect_frame(mix, audience, [cats]), "flagged": flagged}
    threshold = audience.threshold if audience.suppress else None
    sentences = [
        describe_break(r, unit="street crimes", threshold=threshold)
        for r in flagged.to_dict("records")
    ]
    return tables, sentences


def protect_results(results: dict[str, Result], audience: Any) -> dict[str, Result]:
    """Copies of :func:`scrutiny` results with every published table protected."""
    out: dict[str, Result] = {}
    for key, res in results.items():
        summary, tables, charts = dict(res.summary), dict(res.tables), dict(res.charts)
        protect = _PROTECTORS.get("hit_rate" if key.startswith("hit_rate") else key)
        table = protect(res, audience, summary, tables, charts) if protect else res.table
        if audience.suppress and key in _HIT_RATE_BREAKDOWN and "outcomes" in out:
            from harmscope.privacy.audience import CHECKED_ATTR

            mark = dict(table.attrs.get(CHECKED_ATTR, {}))
            breakdown = out["outcomes"].tables.get(_HIT_RATE_BREAKDOWN[key])
            table = _align_hit_rate(table, breakdown)
            table.attrs[CHECKED_ATTR] = mark
            _show_hit_rate(table, summary, charts)
        notes = list(res.notes)
        if audience.suppress:
            notes = _published_notes(key, res, summary, tables, audience)
            notes.append(f"Disclosure control ({audience.label}).")
        out[key] = Result(
            table=table,
            summary=summary,
            charts=charts,
            method=res.method,
            tables=tables,
            notes=notes,
            title=res.title,
        )
    return out
