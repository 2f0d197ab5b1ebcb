"""The Serious Violence Duty outcome measures for an area: value, interval, trend, proxy.

Three Home Office success measures (definitions and sources in
``reference/data/outcomes/measures.csv``), each with a split for victims under 25:

* hospital admissions for assault with a knife or sharp object: a user-supplied HES-style
  table (``hes=``), else ED (ISTV) knife attendances as a NAMED PROXY;
* knife or sharp object enabled serious violence: a user-supplied Home Office-style table
  (``ho_table=``, force areas only), else the force crime extract's knife flag on the Home
  Office selected offences (a proxy);
* homicide: the Home Office-style table, else the extract's homicide codes (a proxy).

A measure with no data is returned with ``available = False``, a null value and the reason,
never a zero. police.uk "Possession of weapons" is not knife-enabled violence and is never
used for it (its count is named in the reason, so the reader knows it was not forgotten).

Statistics: a count is Poisson; its 95% interval is the exact (Garwood) interval. The trend is
a quasi-Poisson regression of the period counts on time in years (statsmodels GLM, Pearson
scale, log offset for the months in a period), reported as the rate ratio per year with its
95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import Z95, garwood
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.months import month_range, parse_month, to_month

MEASURES = ("hospital_admissions_knife", "knife_enabled_serious_violence", "homicide")
GROUPS = ("all", "under_25")
MIN_TREND_PERIODS = {"month": 6, "other": 3}
_PROXY_NAMES = {
    "ed": "ED (ISTV) attendances for assault with a knife or sharp object (assault_method "
    "KNIFE), by month of the assault",
    "extract_knife": "force crime extract: crimes in the Home Office selected offences with "
    "the knife or sharp instrument flag set (the force's own flag, not the Home Office return)",
    "extract_homicide": "force crime extract: crimes recorded under homicide codes 1, 4.1, "
    "4.10, 4.2 (at extraction; not the Home Office Homicide Index)",
}


def load_measures() -> pd.DataFrame:
    """The packaged measure definitions with their sources."""
    from harmscope.reference._files import read_table

    return read_table(
        "outcomes/measures.csv",
        {
            c: "string"
            for c in (
                "measure",
                "label",
                "definition",
                "under_25",
                "national_source",
                "local_source",
                "proxy_when",
                "wording",
                "source",
            )
        },
        unique="measure",
    )


def homicide_codes() -> list[str]:
    """Home Office offence codes in the ONS subgroup Homicide (offence_codes.csv)."""
    from harmscope.reference.offences import load_taxonomy

    t = load_taxonomy()
    return sorted(t.loc[t.ons_subgroup == "Homicide", "code"].astype(str).str.upper().unique())


# -- trend -------------------------------------------------------------------------------------
def poisson_trend(counts, years, exposure=None) -> dict:
    """Rate ratio per year from a quasi-Poisson regression of ``counts`` on ``years`` (time
    of each period in years), with a log offset for ``exposure`` (months in each period).

    statsmodels GLM (Poisson family, Pearson chi-square scale, so over-dispersion widens the
    interval and under-dispersion is not allowed to narrow it). Returns rate_ratio, low, high,
    p and dispersion; None values when there are too few periods or no events."""
    import statsmodels.api as sm
    from scipy import stats

    y = np.asarray(counts, dtype=float)
    t = np.asarray(years, dtype=float)
    off = np.log(np.asarray(exposure, dtype=float)) if exposure is not None else None
    empty = {"rate_ratio": None, "low": None, "high": None, "p": None, "dispersion": None}
    if len(y) < 3 or y.sum() == 0 or np.ptp(t) == 0:
        return empty
    X = sm.add_constant(t - t.mean())
    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit()
    dof = max(len(y) - 2, 1)
    disp = float(np.sum(fit.resid_pearson**2) / dof)
    scale = max(disp, 1.0)
    beta, se = float(fit.params[1]), float(fit.bse[1] * np.sqrt(scale))
    p = float(2 * stats.norm.sf(abs(beta / se))) if se > 0 else None
    return {
        "rate_ratio": float(np.exp(beta)),
        "low": float(np.exp(beta - Z95 * se)),
        "high": float(np.exp(beta + Z95 * se)),
        "p": p,
        "dispersion": disp,
    }


# -- one measure's data ------------------------------------------------------------------------
@dataclass
class Found:
    """The data found for one measure: series per group, or the reason there is none."""

    measure: str
    available: bool
    proxy: bool = False
    proxy_name: str = ""
    data_source: str = ""
    reason: str = ""
    period_kind: str = "month"
    series: pd.DataFrame = field(default_factory=pd.DataFrame)  # period, first, last, group, count
    age_unknown: int = 0
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Inputs:
    """What the analysis reads besides the store: the area's districts and LSOAs, the months
    and the user tables."""

    label: str
    force: str | None
    lad_codes: list[str]
    lsoa_codes: list[str]
    start: date
    end: date
    hes: tuple[pd.DataFrame, object] | None = None
    ho: tuple[pd.DataFrame, object] | None = None
    force_area: bool = False
    street_where: tuple[str, list] | None = None


def _monthly(df: pd.DataFrame, lo: date, hi: date) -> pd.DataFrame:
    """Rows (month, age_group, count) -> series rows for all and under_25 over every month
    lo..hi (months with no row are zero: the source covers them)."""
    months = [m.first_day for m in month_range(lo, hi)]
    d = df.copy()
    d["month"] = [to_month(m).first_day for m in d["month"]]
    by = d.pivot_table(index="month", columns="age_group", values="count", aggfunc="sum")
    by = by.reindex(months, fill_value=0).fillna(0)
    rows = []
    for m in months:
        total = int(by.loc[m].sum()) if len(by.columns) else 0
        young = int(by.loc[m, "under_25"]) if "under_25" in by.columns else 0
        label = str(to_month(m))
        rows.append({"period": label, "first": m, "last": m, "group": "all", "count": total})
        rows.append({"period": label, "first": m, "last": m, "group": "under_25", "count": young})
    return pd.DataFrame(rows)


def _unknown(df: pd.DataFrame) -> int:
    return int(df.loc[df.age_group == "unknown", "count"].sum()) if len(df) else 0


def _covered(span: tuple[date | None, date | None], inp: Inputs) -> tuple[date, date] | None:
    lo, hi = span
    if lo is None:
        return None
    lo, hi = max(lo, inp.start), min(hi, inp.end)
    return (lo, hi) if lo <= hi else None


def _coverage_note(name: str, got: tuple[date, date], inp: Inputs) -> list[str]:
    if got == (inp.start, inp.end):
        return []
    return [
        f"{name} covers {to_month(got[0])} to {to_month(got[1])} of the period asked "
        f"({to_month(inp.start)} to {to_month(inp.end)}); the measure is reported over the "
        "months covered only."
    ]


def _from_hes(inp: Inputs) -> Found | None:
    if inp.hes is None:
        return None
    frame, rep = inp.hes
    rows = frame[frame.lad_code.isin(inp.lad_codes)]
    in_months = rows[(rows.month >= inp.start) & (rows.month <= inp.end)]
    if in_months.empty:
        return Found(
            "hospital_admissions_knife",
            False,
            reason=f"the HES table {Path(rep.path).name} holds no row for {inp.label} in "
            f"{to_month(inp.start)} to {to_month(inp.end)}",
        )
    lo, hi = in_months.month.min(), in_months.month.max()
    suppressed = sum("suppressed cell" in r["reason"] for r in rep.rejects)
    lower = (
        [f"{suppressed} suppressed HES cell(s) were rejected: the total is a lower bound."]
        if suppressed
        else []
    )
    df = in_months.rename(columns={"admissions": "count"})[["month", "age_group", "count"]]
    return Found(
        "hospital_admissions_knife",
        True,
        data_source=f"HES-style table {Path(rep.path).name}"
        + (f" (source: {rep.source})" if rep.source else " (no '# source:' line)"),
        series=_monthly(df, lo, hi),
        age_unknown=_unknown(df),
        synthetic=rep.synthetic,
        notes=lower + _coverage_note("the HES table", (lo, hi), inp),
    )


def _from_ed(store, inp: Inputs) -> Found:
    from harmscope.store.queries import outcomes as q
    from harmscope.store.queries.ed import has_ed_data

    m = "hospital_admissions_knife"
    if not has_ed_data(store):
        return Found(
            m,
            False,
            reason="no HES table was given (--hes) and the store holds no "
            "ED assault records (harmscope ed ingest)",
        )
    got = _covered(q.ed_months(store), inp)
    if got is None:
        return Found(m, False, reason="the ED records hold no month in the period asked")
    df = q.ed_knife_by_month(store, inp.lad_codes, *got)
    unplaced = q.ed_knife_unplaced(store, *got)
    notes = _coverage_note("The ED data", got, inp)
    if unplaced:
        notes.append(
            f"{unplaced:,} ED knife attendances in these months have no district and "
            "count towards no area."
        )
    return Found(
        m,
        True,
        proxy=True,
        proxy_name=_PROXY_NAMES["ed"],
        data_source="ed_assaults (ISTV) in the store",
        series=_monthly(df, *got),
        age_unknown=_unknown(df),
        synthetic=q.ed_synthetic(store),
        notes=notes,
    )


def _from_ho(measure: str, inp: Inputs) -> Found | None:
    if inp.ho is None:
        return None
    frame, rep = inp.ho
    name = Path(rep.path).name
    if not inp.force_area:
        return Found(
            measure,
            False,
            reason=f"the Home Office table {name} is by police force "
            f"area and {inp.label} is not one",
        )
    rows = frame[(frame.measure == measure) & (frame.force == inp.force)]
    inside = rows[(rows.first_month >= inp.start) & (rows.last_month <= inp.end)]
    if inside.empty:
        return Found(
            measure,
            False,
            reason=f"the Home Office table {name} holds no {measure} "
            f"period for {inp.force} wholly inside {to_month(inp.start)} to "
            f"{to_month(inp.end)}",
        )
    series = inside.rename(
        columns={"first_month": "first", "last_month": "last", "age_group": "group"}
    )
    series = series[["period", "first", "last", "group", "count"]].sort_values(["first", "group"])
    notes = []
    if len(rows) > len(inside):
        notes.append(
            f"{len(rows) - len(inside)} row(s) of the Home Office table for {measure} "
            "fall partly or wholly outside the period and are not used."
        )
    return Found(
        measure,
        True,
        data_source=f"Home Office-style table {name}"
        + (f" (source: {rep.source})" if rep.source else " (no '# source:' line)"),
        period_kind=str(inside.period_kind.iloc[0]),
        series=series.reset_index(drop=True),
        synthetic=rep.synthetic,
        notes=notes,
    )


def _from_extract(store, measure: str, inp: Inputs) -> Found:
    from harmscope.analysis.people._data import KNIFE_SELECTED
    from harmscope.store.queries import outcomes as q
    from harmscope.store.queries.catalog import table_rows

    knife = measure == "knife_enabled_serious_violence"
    if not table_rows(store, "crimes"):
        reason = "no Home Office table was given (--ho-table) and the store holds no crime extract"
        n = q.possession_of_weapons(store, *inp.street_where) if knife and inp.street_where else 0
        if n:
            reason += (
                f"; police.uk 'Possession of weapons' ({n:,} in the area and months) is "
                "possession of any weapon, not knife-enabled violence, and is not used"
            )
        return Found(measure, False, reason=reason)
    got = _covered(q.extract_months(store), inp)
    if got is None:
        return Found(measure, False, reason="the crime extract holds no month in the period asked")
    codes = list(KNIFE_SELECTED) if knife else homicide_codes()
    df = q.extract_by_month(store, codes, inp.lsoa_codes, *got, knife=knife)
    notes = _coverage_note("The crime extract", got, inp)
    unplaced = q.extract_unplaced(store, codes, *got, knife=knife)
    if unplaced:
        notes.append(
            f"{unplaced:,} extract crimes for {measure} have no LSOA and count towards no area."
        )
    if knife and (blank := q.extract_knife_flag_missing(store, codes, *got)):
        notes.append(
            f"{blank:,} selected-offence crimes have a blank knife flag (counted as no knife)."
        )
    return Found(
        measure,
        True,
        proxy=True,
        proxy_name=_PROXY_NAMES["extract_knife" if knife else "extract_homicide"],
        data_source="crimes (force crime extract) in the store",
        series=_monthly(df, *got),
        age_unknown=_unknown(df),
        synthetic=q.extract_synthetic(store),
        notes=notes,
    )


def _find_measure(store, measure: str, inp: Inputs) -> Found:
    """The best data for ``measure``: the user's table, else the named proxy, else none."""
    if measure == "hospital_admissions_knife":
        found = _from_hes(inp)
        return (
            found
            if found is not None and found.available
            else _fallback(found, _from_ed(store, inp))
        )
    found = _from_ho(measure, inp)
    if found is not None and found.available:
        return found
    return _fallback(found, _from_extract(store, measure, inp))


def _fallback(first: Found | None, second: Found) -> Found:
    """``second``, carrying why the user's table could not be used."""
    if first is not None and first.reason:
        second.notes.insert(0, f"Not used: {first.reason}.")
        if not second.available:
            second.reason = f"{first.reason}; {second.reason}"
    return second


# -- rows of the result ------------------------------------------------------------------------
def _period_years(series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mid-point of each period in years and its length in months."""
    first = [to_month(d) for d in series["first"]]
    last = [to_month(d) for d in series["last"]]
    months = np.array([b.index - a.index + 1 for a, b in zip(first, last, strict=True)], float)
    mid = np.array([(a.index + b.index + 1) / 2 for a, b in zip(first, last, strict=True)], float)
    return mid / 12.0, months


def measure_rows(found: Found, defs: pd.Series, label: str) -> list[dict]:
    """One row per group (all, under 25) of one measure."""
    base = {
        "measure": found.measure,
        "label": str(defs["label"]),
        "area": label,
        "available": found.available,
        "proxy": bool(found.proxy),
        "proxy_name": found.proxy_name or None,
        "data_source": found.data_source or None,
        "definition": str(defs["definition"]),
        "source": str(defs["source"]),
        "reason": found.reason or None,
        "synthetic": found.synthetic,
    }
    rows = []
    for group in GROUPS:
        s = found.series[found.series.group == group] if found.available else found.series
        row = {
            **base,
            "group": group,
            "period_from": None,
            "period_to": None,
            "periods": 0,
            "period_kind": found.period_kind,
            "value": None,
            "value_low": None,
            "value_high": None,
            "rate_ratio_per_year": None,
            "rr_low": None,
            "rr_high": None,
            "trend_p": None,
            "age_unknown": found.age_unknown if group == "all" else None,
        }
        if found.available and len(s):
            row.update(_figures(s, found.period_kind))
        elif found.available:
            row.update(available=False, reason=f"the {group} series is not in the data")
        rows.append(row)
    return rows


def _figures(s: pd.DataFrame, kind: str) -> dict:
    total = int(s["count"].sum())
    low, high = garwood(total)
    years, months = _period_years(s)
    need = MIN_TREND_PERIODS["month" if kind == "month" else "other"]
    trend = (
        poisson_trend(s["count"], years, months)
        if len(s) >= need
        else {"rate_ratio": None, "low": None, "high": None, "p": None}
    )
    return {
        "period_from": str(to_month(s["first"].min())),
        "period_to": str(to_month(s["last"].max())),
        "periods": int(len(s)),
        "value": total,
        "value_low": float(low),
        "value_high": float(high),
        "rate_ratio_per_year": trend["rate_ratio"],
        "rr_low": trend["low"],
        "rr_high": trend["high"],
        "trend_p": trend["p"],
    }


# -- the analysis ------------------------------------------------------------------------------
def _resolve_inputs(
    store, area: str | None, date_from=None, date_to=None, *, hes=None, ho_table=None
) -> tuple[Inputs, list[str]]:
    """The area's districts and LSOAs, the months, and the user tables read (with notes)."""
    from harmscope.analysis.harm.scope import area_or_only_force, resolve_scope
    from harmscope.reference import lad_codes_for_force, load_lsoa11, load_lsoa21_lookup
    from harmscope.sources.outcome_tables import read_hes_table, read_ho_table
    from harmscope.store.queries.catalog import forces_held

    area, note = area_or_only_force(area, lambda: forces_held(store), where="--area")
    if area is None:
        raise HarmscopeError(
            "no area was given and the store holds no street crimes to name one",
            where="--area",
            fix="pass --area (Kent Police, a district or a CSP)",
        )
    scope = resolve_scope(area)
    if scope.lad_codes is not None:
        lads = list(scope.lad_codes)
    else:
        lads = sorted(lad_codes_for_force(scope.force or ""))
    lsoa11 = load_lsoa11()
    l11 = set(lsoa11.loc[lsoa11.lad_code.isin(lads), "lsoa11_code"].astype(str))
    l21 = load_lsoa21_lookup()
    lsoas = sorted(l11 | set(l21.loc[l21.lsoa11_code.isin(l11), "lsoa21_code"].astype(str)))
    start, end = _months(store, date_from, date_to)
    street = resolve_scope(area, to_month(start), to_month(end))
    inp = Inputs(
        label=scope.label,
        force=scope.force,
        lad_codes=lads,
        lsoa_codes=lsoas,
        start=start,
        end=end,
        force_area=scope.lad_codes is None and scope.force is not None,
        street_where=(street.where, street.params) if store.table_exists("street_crimes") else None,
    )
    notes = [note] if note else []
    for path, reader, attr in ((hes, read_hes_table, "hes"), (ho_table, read_ho_table, "ho")):
        if path is not None:
            frame, rep = reader(path)
            setattr(inp, attr, (frame, rep))
            notes.append(_read_note(rep))
    return inp, notes


def _read_note(rep) -> str:
    return (
        f"{Path(rep.path).name}: read {rep.rows_read}, used {rep.rows_loaded}, duplicate "
        f"{rep.rows_duplicate}, rejected {rep.rows_rejected} (each reject in the rejects "
        "table with file, line and reason)" + (" - SYNTHETIC" if rep.synthetic else "")
    )


def _months(store, date_from, date_to) -> tuple[date, date]:
    """--from/--to, each defaulting to the span of the person-level data held (ED, extract),
    else of the street crimes."""
    from harmscope.store.queries import outcomes as q
    from harmscope.store.queries.catalog import table_rows

    start, end = parse_month(date_from, "--from"), parse_month(date_to, "--to")
    spans = []
    if table_rows(store, "ed_assaults"):
        spans.append(q.ed_months(store))
    if table_rows(store, "crimes"):
        spans.append(q.extract_months(store))
    if not spans and table_rows(store, "street_crimes"):
        from harmscope.store.queries.catalog import held_months

        spans.append(held_months(store))
    if (start is None or end is None) and not spans:
        raise HarmscopeError(
            "no period was given and the store holds nothing to take one from",
            where="--from/--to",
            fix="pass --from YYYY-MM --to YYYY-MM",
        )
    start = start or min(s[0] for s in spans)
    end = end or max(s[1] for s in spans)
    if start > end:
        raise HarmscopeError("--from is after --to", where="--from/--to", fix="swap the two months")
    return start, end


def outcome_measures(
    store,
    area: str | None = None,
    date_from=None,
    date_to=None,
    *,
    hes: str | Path | None = None,
    ho_table: str | Path | None = None,
) -> Result:
    """The three Serious Violence Duty outcome measures for ``area`` (see the module doc)."""
    inp, notes = _resolve_inputs(store, area, date_from, date_to, hes=hes, ho_table=ho_table)
    defs = load_measures().set_index("measure")
    found = [_find_measure(store, m, inp) for m in MEASURES]
    table = pd.DataFrame(
        [r for f in found for r in measure_rows(f, defs.loc[f.measure], inp.label)]
    )
    series = pd.concat(
        [f.series.assign(measure=f.measure) for f in found if f.available and len(f.series)]
        or [pd.DataFrame(columns=["measure", "period", "first", "last", "group", "count"])]
    )
    series = series[["measure", "group", "period", "first", "last", "count"]].reset_index(drop=True)
    series["first"] = [str(to_month(d)) for d in series["first"]]
    series["last"] = [str(to_month(d)) for d in series["last"]]
    for f in found:
        notes += [f"{f.measure}: {n}" for n in f.notes]
        if f.proxy:
            notes.append(f"{f.measure} is a PROXY: {f.proxy_name}.")
        if not f.available:
            notes.append(f"{f.measure} is not available: {f.reason}.")
    rejects = _rejects(inp)
    summary = _summary(table, inp)
    synthetic = any(f.synthetic for f in found)
    if synthetic:
        notes.insert(
            0,
            "SYNTHETIC: at least one measure comes from synthetic data (made by "
            "harmscope simulate); no real person or event.",
        )
    summary["synthetic"] = synthetic
    return Result(
        table=table,
        summary=summary,
        tables={"series": series, "rejects": rejects},
        notes=notes,
        method=METHOD,
        title=f"Serious Violence Duty outcome measures, {inp.label}",
    )


def _rejects(inp: Inputs) -> pd.DataFrame:
    rows = [r for src in (inp.hes, inp.ho) if src is not None for r in src[1].rejects]
    return pd.DataFrame(rows, columns=["file", "line", "reason"])


def _summary(table: pd.DataFrame, inp: Inputs) -> dict:
    out: dict = {
        "area": inp.label,
        "period_from": str(to_month(inp.start)),
        "period_to": str(to_month(inp.end)),
    }
    for r in table.itertuples():
        key = r.measure if r.group == "all" else f"{r.measure}_{r.group}"
        out[key] = r.value
        out[f"{key}_ci"] = [r.value_low, r.value_high] if r.value is not None else None
        if r.group == "all":
            out[f"{r.measure}_available"] = bool(r.available)
            out[f"{r.measure}_proxy"] = bool(r.proxy)
            out[f"{r.measure}_rate_ratio_per_year"] = r.rate_ratio_per_year
            out[f"{r.measure}_rate_ratio_per_year_ci"] = (
                [r.rr_low, r.rr_high] if r.rate_ratio_per_year is not None else None
            )
    return out


METHOD = (
    "The Home Office Serious Violence Duty success measures (definitions and sources in "
    "reference/data/outcomes/measures.csv): hospital admissions for assault with a knife or "
    "sharp object, knife or sharp object enabled serious violence recorded by the police, and "
    "homicide, each also for victims under 25. Each is taken from a user-supplied table where "
    "one is given (HES-style admissions, ICD-10 X99; Home Office-style force tables), else from "
    "a NAMED PROXY in the store, flagged proxy = true (ED knife attendances; the crime extract's "
    "knife flag on the Home Office selected offences; the extract's homicide codes); a measure "
    "with neither is reported unavailable with the reason, never as zero. Area: districts are "
    "matched by GSS code (ED, HES) and by 2011 or 2021 LSOA code (extract); records with no "
    "place count towards no area and are counted in the notes. Under 25: ED age band 0-15, "
    "16-17 or 18-24; the extract victim's age at the offence (the youngest victim); records "
    "with no age are counted as age unknown, in the total but not in the under-25 figure. "
    "Uncertainty: each total is treated as a Poisson count with an exact (Garwood) 95% "
    "interval, which covers chance variation in a stable underlying rate, not recording "
    "changes. Trend: a quasi-Poisson regression of the monthly (or quarterly/annual) counts "
    "on time (statsmodels GLM, Pearson-scaled standard errors, log offset for months per "
    "period), given as the rate ratio per year with its 95% interval; at least 6 monthly or 3 "
    "longer periods are needed. A proxy moves with its own recording practice (an ED "
    "attendance is not an admission; a force flag is not the Home Office return), so a proxy's "
    "trend is evidence about the measure, not the measure itself."
)
