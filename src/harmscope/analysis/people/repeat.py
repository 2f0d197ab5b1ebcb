"""Repeat victimisation (12-month method), time to repeat, near-repeat victims, and the
victim-offender overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.intervals import rate_with_ci
from harmscope.analysis.people._data import require_crimes
from harmscope.analysis.result import Result

GAP_BANDS = [
    (0, 7, "within a week"),
    (8, 30, "8-30 days"),
    (31, 90, "31-90 days"),
    (91, 365, "91-365 days"),
]


def repeat_victimisation(
    store, *, window_days: int = 365, near_days: int = 14, shuffles: int = 20, seed: int = 0
) -> Result:
    """Repeat victims by the 12-month method, with time to repeat and near-repeat victims.

    12-month method (Home Office): take the 12 months ending with the last offence date in the
    extract; a repeat victim is a person victimised two or more times in that window. The rate
    is repeat victims / victims (Wilson interval); the share of victimisations suffered by
    repeat victims is also given.
    """
    require_crimes(store)
    end = store.con.execute(
        "SELECT max(c.committed_from) FROM crimes c JOIN persons_in_crimes p USING (crime_id) "
        "WHERE p.role = 'victim'"
    ).fetchone()[0]
    if end is None:
        return Result(
            table=pd.DataFrame(),
            summary={"victims": 0},
            method="No victims recorded.",
            notes=["no victims in the extract"],
        )
    start = pd.Timestamp(end) - pd.Timedelta(days=window_days)
    # Per-victim counts, gaps and first victimisations are computed in the engine: only
    # numbers come back (no pseudonyms), which keeps a million-crime extract fast.
    base = """SELECT p.person_id, c.committed_from AS "at", c.lsoa_code
        FROM persons_in_crimes p JOIN crimes c USING (crime_id)
        WHERE p.role = 'victim' AND c.committed_from > $start"""
    params = {"start": start.to_pydatetime()}
    counts = store.query(
        f"""SELECT n AS victimisations, count(*) AS victims FROM
        (SELECT person_id, count(*) AS n FROM ({base}) GROUP BY 1) GROUP BY 1 ORDER BY 1""",
        params,
    )
    gaps = store.query(
        f"""SELECT gap FROM (SELECT (epoch("at") - epoch(lag("at") OVER (PARTITION BY person_id
        ORDER BY "at"))) / 86400.0 AS gap FROM ({base})) WHERE gap IS NOT NULL""",
        params,
    ).gap.to_numpy()
    first = store.query(
        f"""SELECT arg_min(lsoa_code, "at") AS lsoa_code, min("at") AS "at" FROM ({base})
        GROUP BY person_id""",
        params,
    )
    victims = int(counts.victims.sum())
    repeat = int(counts.victims[counts.victimisations >= 2].sum())
    rate, ci = rate_with_ci(repeat, victims)
    events = int((counts.victimisations * counts.victims).sum())
    on_repeat = int((counts.victimisations * counts.victims)[counts.victimisations >= 2].sum())
    share, share_ci = rate_with_ci(on_repeat, events)
    bands = []
    for lo, hi, label in GAP_BANDS:
        n = int(((gaps >= lo) & (gaps < hi + 1)).sum())
        s, sci = rate_with_ci(n, len(gaps))
        bands.append(
            {"gap": label, "repeats": n, "share": s, "share_low": sci[0], "share_high": sci[1]}
        )
    table = counts
    near = _near_repeat(first, near_days, shuffles, seed)
    summary = {
        "window_start": start.date().isoformat(),
        "window_end": pd.Timestamp(end).date().isoformat(),
        "victims": victims,
        "repeat_victims": repeat,
        "repeat_victim_rate": rate,
        "repeat_victim_rate_ci": ci,
        "repeat_victimisation_share": share,
        "repeat_victimisation_share_ci": share_ci,
        "median_days_to_repeat": float(np.median(gaps)) if len(gaps) else None,
        "repeats_within_7_days_share": bands[0]["share"],
        **near,
    }
    method = (
        f"12-month method: the {window_days} days ending with the last victimisation in the "
        "extract; a repeat victim is a victim (keyed pseudonym) with two or more recorded "
        "victimisations in the window. Rate = repeat victims / victims with a Wilson 95% "
        "interval; time to repeat = days between a victim's successive victimisations. "
        f"Near-repeat victims: pairs of different victims in the same LSOA within {near_days} "
        "days of each other (first victimisations only), against the mean of "
        f"{shuffles} shuffles of dates across victims (a Knox-style ratio). Assumptions: "
        "one identifier is one person, and recorded crime misses unreported victimisation, so "
        "the recorded rate is below the survey rate. Uncertainty: the Wilson interval treats "
        "victims as independent; the near-repeat ratio has only its shuffle spread."
    )
    return Result(
        table=table, summary=summary, method=method, tables={"time_to_repeat": pd.DataFrame(bands)}
    )


def _near_repeat(first: pd.DataFrame, days: int, shuffles: int, seed: int) -> dict:
    first = first.dropna(subset=["lsoa_code"])
    if len(first) < 2:
        return {"near_repeat_ratio": None}
    day = (first["at"] - first["at"].min()).dt.days.to_numpy()
    place = pd.factorize(first.lsoa_code)[0]
    n_days = int(day.max()) + days + 2

    def close_pairs(d: np.ndarray) -> float:
        n_places = place.max() + 1
        m = (
            np.bincount(place * n_days + d, minlength=n_places * n_days)
            .reshape(n_places, n_days)
            .astype(float)
        )
        c = np.cumsum(m, axis=1)
        ahead = np.zeros_like(m)  # victims in the next `days` days (excluding the same day)
        ahead[:, : n_days - 1] = (
            c[:, np.minimum(np.arange(1, n_days) + days - 1, n_days - 1)] - c[:, : n_days - 1]
        )
        return float((m * ahead).sum())

    obs = close_pairs(day)
    rng = np.random.default_rng(seed)
    exp = np.mean([close_pairs(rng.permutation(day)) for _ in range(shuffles)])
    return {
        "near_repeat_pairs": obs,
        "near_repeat_expected": float(exp),
        "near_repeat_ratio": float(obs / exp) if exp > 0 else None,
    }


def victim_offender_overlap(store) -> Result:
    """People recorded both as a victim and as an offender, by age group and sex."""
    require_crimes(store)
    t = store.query(
        """SELECT person_id, bool_or(role = 'victim') AS victim, bool_or(role = 'offender')
                AS offender, min(age) AS age, any_value(sex) AS sex
        FROM persons_in_crimes GROUP BY person_id"""
    )
    t["age_group"] = pd.cut(
        t.age,
        [-1, 9, 17, 24, 34, 49, 200],
        labels=["0-9", "10-17", "18-24", "25-34", "35-49", "50+"],
    )
    both = t.victim & t.offender
    v_rate, v_ci = rate_with_ci(int(both.sum()), int(t.victim.sum()))
    o_rate, o_ci = rate_with_ci(int(both.sum()), int(t.offender.sum()))
    by = (
        t.assign(both=both)
        .groupby(["age_group", "sex"], observed=True, dropna=False)
        .agg(
            persons=("person_id", "size"),
            victims=("victim", "sum"),
            offenders=("offender", "sum"),
            both=("both", "sum"),
        )
        .reset_index()
    )
    by["age_group"] = by.age_group.astype(str)
    summary = {
        "persons": len(t),
        "victims": int(t.victim.sum()),
        "offenders": int(t.offender.sum()),
        "overlap_persons": int(both.sum()),
        "overlap_share_of_victims": v_rate,
        "overlap_share_of_victims_ci": v_ci,
        "overlap_share_of_offenders": o_rate,
        "overlap_share_of_offenders_ci": o_ci,
    }
    method = (
        "A person (keyed pseudonym) is in the overlap when recorded as a victim in one crime "
        "and as an offender in another, anywhere in the extract. Shares have Wilson 95% "
        "intervals. Assumptions: the same identifier is used for a person in both roles (true "
        "for a force's nominal index; across agencies it needs the shared key). Uncertainty: "
        "recorded crime misses unreported victimisation, so the overlap is a lower bound."
    )
    return Result(table=by, summary=summary, method=method)
