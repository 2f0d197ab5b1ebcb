"""The true picture: ED assault attendances read beside police violence (Cardiff Model).

Everything is aggregated in DuckDB; Python sees area x month, hour x day and weapon counts.

- Police proxy: police.uk street data has no "violence with injury" category, only
  "Violence and sexual offences" (VSO), which also holds violence without injury, stalking and
  harassment, and sexual offences. VSO is the proxy. It inflates the police side: Kent Police
  recorded 18,059 violence-with-injury offences in 2022/23 (Kent PCC annual report) against
  about 67,000 VSO rows on police.uk in 2025, so ED:police ratios here are roughly 3-4 times
  lower than ED:violence-with-injury ratios would be. The hidden-hotspot test compares places
  with each other, so the bias cancels only if the injury share of VSO is the same everywhere.
- Ratio: ED/police per area with an exact conditional interval (Clopper-Pearson on
  ED/(ED+police), mapped to the ratio), which treats both counts as Poisson.
- Hidden hotspots: for each area a one-sided exact binomial test of ED out of ED+police against
  the rest of the county's share, with Benjamini-Hochberg FDR across areas.
- Reporting rate (where a police victim extract with the same pseudonyms is loaded): the share
  of ED patients known to police, by district, age band and weapon, with Wilson intervals; and
  the dark figure by the Chapman estimator (analysis.capture_recapture).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from harmscope.analysis.capture_recapture import ASSUMPTIONS, chapman
from harmscope.analysis.intervals import wilson
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import apply_mask, get_audience, protect_table
from harmscope.privacy.disclosure import protect_linked
from harmscope.sources.ed import LOCATION_TYPES, WEAPON_CODES
from harmscope.store.queries.ed import has_ed_data

POLICE_PROXY = "Violence and sexual offences"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LEVELS = {"lad": ("lad_code", "lad_name"), "lsoa11": ("lsoa11_code", "lsoa11_code")}


def _ed_filter(date_from: date | None, date_to: date | None) -> tuple[str, list]:
    sql, params = "TRUE", []
    if date_from is not None:
        sql += " AND month >= ?"
        params.append(pd.Timestamp(date_from).replace(day=1).date())
    if date_to is not None:
        sql += " AND month <= ?"
        params.append(pd.Timestamp(date_to).date())
    return sql, params


def exact_ratio_ci(ed, police, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact conditional interval for the ratio of two Poisson counts (ED / police)."""
    e = np.asarray(ed, dtype=float)
    p = np.asarray(police, dtype=float)
    n = e + p
    with np.errstate(invalid="ignore", divide="ignore"):
        lo_p = np.where(e > 0, stats.beta.ppf(alpha / 2, e, p + 1), 0.0)
        hi_p = np.where(p > 0, stats.beta.ppf(1 - alpha / 2, e + 1, p), 1.0)
        low = np.where(n > 0, lo_p / (1 - lo_p), np.nan)
        high = np.where((n > 0) & (p > 0), hi_p / (1 - hi_p), np.inf)
    high = np.where(n > 0, high, np.nan)
    return low, high


def hidden_hotspot_test(
    ed, police, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-sided binomial test of each area's ED share against the rest of the county, BH-FDR.

    Returns (p, q, expected ED under the rest-of-county share). Areas with no records: NaN.
    """
    e = np.asarray(ed, dtype=int)
    p = np.asarray(police, dtype=int)
    e_tot, p_tot = e.sum(), p.sum()
    pvals = np.full(len(e), np.nan)
    expected = np.full(len(e), np.nan)
    for i in range(len(e)):
        n = e[i] + p[i]
        rest_e, rest_n = e_tot - e[i], e_tot + p_tot - n
        if n == 0 or rest_n == 0:
            continue
        share = rest_e / rest_n
        expected[i] = n * share
        pvals[i] = stats.binomtest(int(e[i]), int(n), share, alternative="greater").pvalue
    q = np.full(len(e), np.nan)
    ok = ~np.isnan(pvals)
    if ok.any():
        q[ok] = multipletests(pvals[ok], alpha=alpha, method="fdr_bh")[1]
    return pvals, q, expected


def _months(store, sql: str, params: list, force: str) -> tuple[list, list]:
    ed_m = store.query(f"SELECT DISTINCT month FROM ed_assaults WHERE {sql} ORDER BY 1", params)
    pol_m = store.query(
        "SELECT DISTINCT month FROM street_crimes WHERE falls_within = ? ORDER BY 1", [force]
    )
    ed_set = {pd.Timestamp(m).date() for m in ed_m.month}
    pol_set = {pd.Timestamp(m).date() for m in pol_m.month}
    both = sorted(ed_set & pol_set)
    return both, sorted(ed_set - pol_set)


def _ed_force(store, force: str | None) -> tuple[str | None, str | None]:
    """The force to compare the ED records with, and a note when it was not given: the one
    force whose districts hold the placed ED records (the reference district table), else the
    store's only force; several are refused, named (``area_or_only_force``)."""
    from harmscope.analysis.harm.scope import area_or_only_force
    from harmscope.reference import load_lad
    from harmscope.store.queries.catalog import forces_held

    if force:
        return force, None
    codes = set(
        store.query("SELECT DISTINCT lad_code FROM ed_assaults WHERE lad_code IS NOT NULL").lad_code
    )
    lad = load_lad()
    held = set(forces_held(store))
    of_ed = sorted(set(lad.loc[lad.lad_code.isin(codes), "force"].dropna()) & held)
    if len(of_ed) == 1:
        return of_ed[0], f"Force: {of_ed[0]}, where the placed ED records lie (no force was given)."
    return area_or_only_force(None, lambda: sorted(held), where="force")


def true_picture(
    store,
    *,
    level: str = "lad",
    date_from: date | None = None,
    date_to: date | None = None,
    force: str | None = None,
    audience: str = "internal",
    threshold: int = 5,
    alpha: float = 0.05,
    link_window_days: int = 7,
) -> Result:
    """ED assaults beside police violence, hidden hotspots, time profile, weapons, dark figure."""
    if level not in LEVELS:
        raise HarmscopeError(
            f"unknown level {level!r}", where="--level", fix=f"use one of {', '.join(LEVELS)}"
        )
    aud = get_audience(audience, threshold)
    if not has_ed_data(store):
        raise HarmscopeError(
            "the store holds no ED assault records",
            where="ed_assaults",
            fix="load an ISTV file with `harmscope ed ingest FILE`",
        )
    # no silent force: the caller's, else the force the ED records lie in, else the one the
    # store holds (announced in the notes)
    force, force_note = _ed_force(store, force)
    flt, params = _ed_filter(date_from, date_to)
    months, ed_only = _months(store, flt, params, force)
    notes: list[str] = [force_note] if force_note else []
    if ed_only:
        notes.append(
            f"{len(ed_only)} ED month(s) have no police data and are left out: "
            + ", ".join(m.strftime("%Y-%m") for m in ed_only[:6])
        )
    if not months:
        raise HarmscopeError(
            "no month holds both ED and police data",
            where="--from/--to",
            fix="load police street files for the months the ED file covers",
        )
    synthetic = bool(
        store.query(f"SELECT bool_or(synthetic) AS s FROM ed_assaults WHERE {flt}", params).s[0]
    )
    code, name = LEVELS[level]
    mlist = ", ".join(f"DATE '{m.isoformat()}'" for m in months)

    by_month = store.query(
        f"""
        WITH e AS (SELECT {code} AS area_code, month, count(*) AS ed FROM ed_assaults
                   WHERE {flt} AND {code} IS NOT NULL AND month IN ({mlist}) GROUP BY ALL),
             p AS (SELECT {code} AS area_code, month, count(*) AS police FROM street_crimes
                   WHERE crime_type = ? AND falls_within = ? AND {code} IS NOT NULL
                   AND NOT coalesce(out_of_area, FALSE) AND month IN ({mlist}) GROUP BY ALL)
        SELECT coalesce(e.area_code, p.area_code) AS area_code,
               coalesce(e.month, p.month) AS month,
               coalesce(e.ed, 0) AS ed, coalesce(p.police, 0) AS police
        FROM e FULL JOIN p ON e.area_code = p.area_code AND e.month = p.month
        ORDER BY 1, 2
        """,
        [*params, POLICE_PROXY, force],
    )
    names = store.query(
        f"SELECT DISTINCT {code} AS area_code, any_value({name}) AS area_name FROM street_crimes "
        f"WHERE {code} IS NOT NULL AND falls_within = ? GROUP BY 1",
        [force],
    )
    area = by_month.groupby("area_code", as_index=False)[["ed", "police"]].sum()
    area = area.merge(names, on="area_code", how="left")
    area["area_name"] = area["area_name"].fillna(area["area_code"])
    area["ratio"] = np.where(area.police > 0, area.ed / area.police.where(area.police > 0), np.nan)
    area["ratio_low"], area["ratio_high"] = exact_ratio_ci(area.ed, area.police, alpha)
    area["p_value"], area["q_value"], area["ed_expected"] = hidden_hotspot_test(
        area.ed, area.police, alpha
    )
    area["hidden_hotspot"] = (area.q_value < alpha) & (area.ed > area.ed_expected)
    area = area.sort_values(["hidden_hotspot", "q_value"], ascending=[False, True])
    area = area[
        [
            "area_code",
            "area_name",
            "ed",
            "police",
            "ratio",
            "ratio_low",
            "ratio_high",
            "ed_expected",
            "p_value",
            "q_value",
            "hidden_hotspot",
        ]
    ].reset_index(drop=True)

    by_month["ratio"] = by_month.ed / by_month.police.where(by_month.police > 0)
    by_month["ratio_low"], by_month["ratio_high"] = exact_ratio_ci(
        by_month.ed, by_month.police, alpha
    )
    e_tot, p_tot = int(area.ed.sum()), int(area.police.sum())
    r_low, r_high = exact_ratio_ci([e_tot], [p_tot], alpha)

    heat = store.query(
        f"""SELECT isodow(coalesce(assault_at, arrival_at)) - 1 AS dow,
                   hour(coalesce(assault_at, arrival_at)) AS hour, count(*) AS ed
            FROM ed_assaults WHERE {flt} AND time_source IS NOT NULL AND month IN ({mlist})
            GROUP BY ALL""",
        params,
    )
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["dow", "hour"])
    heat = heat.set_index(["dow", "hour"]).reindex(grid, fill_value=0).reset_index()
    heat["day"] = heat["dow"].map(dict(enumerate(DAYS)))
    no_time = int(
        store.query(
            f"SELECT count(*) AS n FROM ed_assaults WHERE {flt} AND time_source IS NULL "
            f"AND month IN ({mlist})",
            params,
        ).n[0]
    )

    weapons = store.query(
        f"SELECT weapon_code, count(*) AS ed FROM ed_assaults WHERE {flt} AND month IN ({mlist}) "
        "GROUP BY ALL",
        params,
    )
    weapons = (
        pd.DataFrame({"weapon_code": list(WEAPON_CODES)})
        .merge(weapons, how="left")
        .fillna({"ed": 0})
    )
    weapons["ed"] = weapons["ed"].astype(int)
    weapons["weapon"] = weapons.weapon_code.map(WEAPON_CODES)
    total_w = int(weapons.ed.sum())
    weapons["share"] = weapons.ed / total_w if total_w else np.nan
    weapons["share_low"], weapons["share_high"] = wilson(weapons.ed, np.full(len(weapons), total_w))

    placement = store.query(
        f"SELECT coalesce(placed_by, 'not placed') AS placed_by, "
        f"coalesce(unplaced_reason, '') AS reason, count(*) AS ed FROM ed_assaults "
        f"WHERE {flt} AND month IN ({mlist}) GROUP BY ALL ORDER BY ed DESC",
        params,
    )
    unplaced = int(placement.loc[placement.placed_by == "not placed", "ed"].sum())
    all_ed = int(placement.ed.sum())

    summary: dict = {
        "synthetic": synthetic,
        "audience": aud.name,
        "months": len(months),
        "first_month": months[0].strftime("%Y-%m"),
        "last_month": months[-1].strftime("%Y-%m"),
        "ed_assaults": all_ed,
        "ed_placed": e_tot,
        "police_violence_proxy": p_tot,
        "ed_unplaced": unplaced,
        "ed_without_time": no_time,
        "ed_per_police": e_tot / p_tot if p_tot else None,
        "ed_per_police_ci": [float(r_low[0]), float(r_high[0])],
        "hidden_hotspots": area.loc[area.hidden_hotspot, "area_name"].tolist(),
        "level": level,
    }
    tables = {
        "by_month": by_month,
        "heatmap": heat[["day", "dow", "hour", "ed"]],
        "weapons": weapons,
        "placement": placement,
    }

    link = _linkage(store, flt, params, months, alpha, link_window_days)
    if link is not None:
        summary.update(link["summary"])
        tables["reporting"] = link["reporting"]
        notes.extend(link["notes"])

    if synthetic:
        notes.insert(0, "SYNTHETIC: the ED records are simulated by harmscope, not real patients.")
    tables, area, supp, placed_hidden = _protect(tables, area, aud)
    summary["suppressed_cells"] = supp
    if placed_hidden:
        # The joint protection of by_month and the area table hid their grand total: withhold
        # it here too, and the unplaced count, which with all ED assaults would give it back.
        summary["ed_placed"] = None
        summary["ed_unplaced"] = None
    summary["hidden_hotspots"] = area.loc[
        area.hidden_hotspot.fillna(False).astype(bool), "area_name"
    ].tolist()
    if aud.suppress:
        for k in ("ed_assaults", "ed_placed", "ed_unplaced", "ed_without_time"):
            if summary.get(k) is not None and 0 < summary[k] < aud.threshold:
                summary[k] = None
        if summary["ed_placed"] is None:
            # ED per police offence times the published police total is the placed ED count.
            summary["ed_per_police"] = None
            summary["ed_per_police_ci"] = [None, None]
    return Result(
        table=area,
        summary=summary,
        charts=_charts(area, tables["heatmap"], tables["weapons"]),
        method=_method(level, alpha, link_window_days, aud, link is not None),
        tables=tables,
        notes=notes,
    )


def _linkage(store, flt, params, months, alpha, window) -> dict | None:
    if not store.table_exists("police_victims"):
        return None
    start, end = months[0], (pd.Timestamp(months[-1]) + pd.offsets.MonthEnd(0)).date()
    n2 = int(
        store.query(
            "SELECT count(*) AS n FROM police_victims WHERE offence_date BETWEEN ? AND ?",
            [start, end],
        ).n[0]
    )
    if n2 == 0:
        return None
    mlist = ", ".join(f"DATE '{m.isoformat()}'" for m in months)
    strata = store.query(
        f"""
        WITH e AS (
            SELECT pseudonym, assault_date, coalesce(lad_name, 'not placed') AS district,
                   coalesce(age_band, 'not recorded') AS age_band, weapon_code
            FROM ed_assaults WHERE {flt} AND pseudonym IS NOT NULL AND month IN ({mlist})),
        k AS (
            SELECT e.*, EXISTS (SELECT 1 FROM police_victims p WHERE p.pseudonym = e.pseudonym
                   AND abs(date_diff('day', e.assault_date, p.offence_date)) <= ?) AS known
            FROM e)
        SELECT district, age_band, weapon_code, count(*) AS ed, count(*) FILTER (WHERE known) AS known
        FROM k GROUP BY ALL
        """,
        [*params, int(window)],
    )
    n1, m = int(strata.ed.sum()), int(strata.known.sum())
    est = chapman(n1, n2, m, alpha)
    rows = []
    for dim in ("district", "age_band", "weapon_code"):
        g = strata.groupby(dim, as_index=False)[["ed", "known"]].sum()
        for r in g.itertuples(index=False):
            rows.append(
                {
                    "dimension": dim,
                    "group": getattr(r, dim),
                    "ed": int(r.ed),
                    "known_to_police": int(r.known),
                }
            )
    rep = pd.DataFrame(rows)
    rep["reporting_rate"] = rep.known_to_police / rep.ed
    rep["reporting_rate_low"], rep["reporting_rate_high"] = wilson(
        rep.known_to_police, rep.ed, alpha
    )
    low, high = wilson(m, n1, alpha) if n1 else (np.nan, np.nan)
    summary = {f"capture_{k}": v for k, v in est.as_dict().items()}
    summary["reporting_rate"] = m / n1 if n1 else None
    summary["reporting_rate_ci"] = [float(low), float(high)]
    notes = [
        f"Linked {n1:,} pseudonymised ED records to {n2:,} police victim records "
        f"(same pseudonym, dates within {window} days): {m:,} in both.",
        "Chapman assumptions: " + "; ".join(ASSUMPTIONS) + ".",
    ]
    return {"summary": summary, "reporting": rep, "notes": notes}


def _protect(tables: dict, area: pd.DataFrame, aud) -> tuple[dict, pd.DataFrame, int, bool]:
    """Disclosure control for every table by audience (public: small ED counts suppressed).

    ``by_month`` (area x month) and the area table publish one system of equations: each
    area's count is the sum of its months, and the areas add up to the placed ED total. They
    are protected together (the month cells are the units, the area and month totals and the
    grand total are cells of the same system), so the area table's ``ed`` is exactly the
    row-total pattern the by_month protection assumed. Protecting them one by one let their
    secondary choices differ (for example between two areas with equal counts), and a cell
    hidden in one table was then worked out from the other. The last value returned is whether
    the placed total itself is hidden.
    """
    derived_area = {
        c: "ed" for c in ("ratio", "ratio_low", "ratio_high", "ed_expected", "p_value", "q_value")
    }
    derived_month = {"ratio": "ed", "ratio_low": "ed", "ratio_high": "ed"}
    out = {}
    by_month = tables["by_month"].assign(
        month=lambda d: pd.to_datetime(d.month).dt.strftime("%Y-%m")
    )
    placed_hidden = False
    if aud.suppress:
        joint = protect_linked(by_month, "ed", ["area_code", "month"], threshold=aud.threshold)
        out["by_month"] = apply_mask(
            by_month, aud, joint.mask["ed"], count_cols=["ed"], derived=derived_month
        )
        area_margin = joint.margins["area_code"]
        hidden_areas = set(area_margin.loc[area_margin["ed"].isna(), "area_code"])
        area_p = apply_mask(
            area,
            aud,
            area["area_code"].astype("string").isin(hidden_areas),
            count_cols=["ed"],
            derived=derived_area,
        )
        placed_hidden = joint.total is None
        # a hotspot flag drawn from a suppressed count is withheld too
        hidden = area_p["ed"].isna()
        area_p["hidden_hotspot"] = area_p["hidden_hotspot"].astype("boolean").mask(hidden)
    else:
        area_p = protect_table(area, aud, count_cols=["ed"], derived=derived_area)
        out["by_month"] = protect_table(
            by_month, aud, count_cols=["ed"], row="area_code", col="month", derived=derived_month
        )
    out["heatmap"] = protect_table(tables["heatmap"], aud, count_cols=["ed"], row="dow", col="hour")
    out["weapons"] = protect_table(
        tables["weapons"],
        aud,
        count_cols=["ed"],
        derived={"share": "ed", "share_low": "ed", "share_high": "ed"},
    )
    out["placement"] = protect_table(tables["placement"], aud, count_cols=["ed"])
    if "reporting" in tables:
        rep = tables["reporting"]
        # Each dimension is its own one-way table; both counts are ED-derived.
        out["reporting"] = protect_table(
            rep,
            aud,
            count_cols=["ed", "known_to_police"],
            by="dimension",
            derived={
                c: ["ed", "known_to_police"]
                for c in ("reporting_rate", "reporting_rate_low", "reporting_rate_high")
            },
        )
    supp = sum(
        int(t.attrs.get("harmscope_disclosure", {}).get("suppressed", 0))
        for t in [area_p, *out.values()]
    )
    return out, area_p, supp, placed_hidden


def _charts(area: pd.DataFrame, heat: pd.DataFrame, weapons: pd.DataFrame) -> dict:
    def records(df):
        return [
            {
                k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v))
                for k, v in r.items()
            }
            for r in df.to_dict(orient="records")
        ]

    return {
        "heatmap": {
            "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "title": "ED assault attendances by day and hour (time of assault, else arrival)",
            "data": {"values": records(heat[["day", "hour", "ed"]])},
            "mark": "rect",
            "encoding": {
                "x": {"field": "hour", "type": "ordinal", "title": "Hour"},
                "y": {"field": "day", "type": "ordinal", "sort": list(DAYS), "title": None},
                "color": {"field": "ed", "type": "quantitative", "title": "ED assaults"},
                "tooltip": [{"field": "day"}, {"field": "hour"}, {"field": "ed"}],
            },
        },
        "ratio": {
            "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "title": "ED assaults per police violence record, with 95% intervals",
            "data": {
                "values": records(
                    area[["area_name", "ratio", "ratio_low", "ratio_high", "hidden_hotspot"]]
                )
            },
            "layer": [
                {
                    "mark": "rule",
                    "encoding": {
                        "y": {"field": "area_name", "type": "nominal", "sort": "-x", "title": None},
                        "x": {"field": "ratio_low", "type": "quantitative", "title": "ED / police"},
                        "x2": {"field": "ratio_high"},
                    },
                },
                {
                    "mark": {"type": "point", "filled": True},
                    "encoding": {
                        "y": {"field": "area_name", "type": "nominal", "sort": "-x"},
                        "x": {"field": "ratio", "type": "quantitative"},
                        "color": {
                            "field": "hidden_hotspot",
                            "type": "nominal",
                            "title": "Hidden hotspot",
                        },
                    },
                },
            ],
        },
        "weapons": {
            "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "title": "Assault method (weapon) mix at ED",
            "data": {"values": records(weapons[["weapon", "share", "share_low", "share_high"]])},
            "layer": [
                {
                    "mark": "bar",
                    "encoding": {
                        "y": {"field": "weapon", "type": "nominal", "sort": "-x", "title": None},
                        "x": {"field": "share", "type": "quantitative", "axis": {"format": "%"}},
                    },
                },
                {
                    "mark": "rule",
                    "encoding": {
                        "y": {"field": "weapon", "type": "nominal", "sort": "-x"},
                        "x": {"field": "share_low", "type": "quantitative"},
                        "x2": {"field": "share_high"},
                    },
                },
            ],
        },
    }


def _method(level: str, alpha: float, window: int, aud, linked: bool) -> str:
    conf = f"{100 * (1 - alpha):.0f}%"
    text = (
        f"ED assault attendances (ISTV, pseudonymised on ingest) are counted by "
        f"{'district' if level == 'lad' else '2011 LSOA'} and month and set beside police.uk "
        f"'{POLICE_PROXY}' records for the same months (the only violence category police.uk "
        "publishes; it also holds violence without injury, harassment and sexual offences, so it "
        "overstates violence with injury and the ED:police ratio is lower than an ED:injury "
        "ratio would be; comparisons between places are fair only if the injury share is similar). "
        f"Ratios carry exact conditional {conf} intervals (both counts treated as Poisson). "
        "Hidden hotspots: each area's ED share of ED+police records is tested against the rest "
        "of the county with a one-sided exact binomial test, and Benjamini-Hochberg FDR at "
        f"{alpha} is applied across areas; an area is flagged only if it survives the correction, "
        "not on a raw ratio. The day x hour profile uses the assault time, else the arrival time; "
        "records with neither are counted separately. Weapon shares carry Wilson intervals. "
        "ED records placed from a town-centre name sit at an approximate centroid (an estimate), "
        "so LSOA-level results put them in the centroid's LSOA; district level is the robust one."
    )
    if linked:
        text += (
            f" Linkage: an ED record is known to police when a police victim record has the same "
            f"pseudonym within {window} days. The reporting rate (share of ED patients known to "
            f"police) has Wilson {conf} intervals; the total number of victims (the dark figure) "
            "is the Chapman estimate with Seber's variance and Chao's log-transformed interval. "
            "Assumptions: " + "; ".join(ASSUMPTIONS) + "."
        )
    text += f" Audience: {aud.label}."
    if aud.suppress:
        text += (
            f" ED counts from 1 to {aud.threshold - 1} are suppressed with secondary "
            "suppression; ratios, tests and shares from a suppressed count are hidden."
        )
    return text


__all__ = ["true_picture", "exact_ratio_ci", "hidden_hotspot_test", "LOCATION_TYPES"]
