"""Algorithmic transparency records (UK ATRS style) for flags and rankings of people, with
error rates measured against planted truth (synthetic data only).

A record says what the tool uses, what it is for, what it must not be used for, who oversees
it, and how often it is wrong: precision (of those flagged, how many are in the planted
group) and recall (of the planted group, how many are flagged), overall and by age group and
sex, each with a Wilson 95% interval. A tool whose measured precision falls short of its
stated target says so in ``meets_precision_target`` and in its summary line.
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.intervals import precision_recall
from harmscope.privacy.pseudonymise import Pseudonymiser

AGE_BINS = [-1, 17, 24, 34, 200]
AGE_LABELS = ["10-17", "18-24", "25-34", "35+"]


def error_rates(
    flags: pd.DataFrame,
    truth_persons: pd.DataFrame,
    truth_col: str,
    key: bytes,
    *,
    year: int = 2025,
) -> pd.DataFrame:
    """Precision and recall of ``flags`` (pseudonym, flagged) against ``truth_persons``
    (person_id, sex, birth_year, <truth_col>), overall and by age group and sex.

    The truth's raw synthetic IDs are pseudonymised with the same key here, so the comparison
    happens in pseudonym space, as the store holds it. Only people in ``flags`` (the population
    the tool scores) are counted; a planted person the tool never saw counts as a miss.
    """
    pseudo = Pseudonymiser(key)
    tp = truth_persons.copy()
    tp["pseudonym"] = [pseudo(p) for p in tp.person_id]
    tp["age_group"] = pd.cut(year - tp.birth_year, AGE_BINS, labels=AGE_LABELS).astype(str)
    tp["sex"] = tp.sex.map({"M": "male", "F": "female"}).fillna("other")
    planted = tp[tp[truth_col].astype(bool)]
    merged = flags[["pseudonym", "flagged"]].merge(
        tp[["pseudonym", "age_group", "sex", truth_col]], on="pseudonym", how="left"
    )
    merged[truth_col] = merged[truth_col].fillna(False).astype(bool)
    missed = planted[~planted.pseudonym.isin(flags.pseudonym)]
    rows = []
    groups = [("all", "all", None)]
    groups += [("age_group", g, None) for g in AGE_LABELS]
    groups += [("sex", s, None) for s in ("female", "male")]
    for dim, val, _ in groups:
        m = merged if dim == "all" else merged[merged[dim] == val]
        miss = missed if dim == "all" else missed[missed[dim] == val]
        tp_n = int((m.flagged & m[truth_col]).sum())
        fp_n = int((m.flagged & ~m[truth_col]).sum())
        fn_n = int((~m.flagged & m[truth_col]).sum()) + len(miss)
        rows.append(
            {
                "group": dim,
                "value": val,
                "flagged": tp_n + fp_n,
                "planted": tp_n + fn_n,
                "true_positive": tp_n,
                "false_positive": fp_n,
                "false_negative": fn_n,
                **precision_recall(tp_n, tp_n + fp_n, tp_n + fn_n),
            }
        )
    return pd.DataFrame(rows)


def transparency_record(
    *,
    name: str,
    purpose: str,
    uses: str,
    how: str,
    not_for: list[str],
    precision_target: float,
    rates: pd.DataFrame | None = None,
    truth_note: str = "",
) -> dict:
    """An ATRS-style record (tier 2 fields, shortened) as a JSON-ready dict."""
    rec: dict = {
        "name": name,
        "purpose": purpose,
        "data_used": uses,
        "how_it_works": how,
        "must_not_be_used_for": not_for,
        "human_oversight": (
            "A flag starts a review by a named practitioner, who sees the reasons (the "
            "components and the crimes behind them) and decides; no action follows from the "
            "flag alone. The list is internal only and every export of it is audited."
        ),
        "risks": (
            "Recorded crime reflects where police look and who reports: groups policed more "
            "heavily are flagged more often for the same behaviour. Pseudonyms that split one "
            "person, or merge two, distort the counts."
        ),
        "precision_target": precision_target,
    }
    if rates is None or rates.empty:
        rec["error_rates"] = None
        rec["meets_precision_target"] = None
        rec["statement"] = (
            "Error rates not measured: no planted truth was supplied (they can only be "
            "measured on synthetic data with a truth file)."
        )
        return rec
    overall = rates[rates.group == "all"].iloc[0]
    meets = overall.precision is not None and overall.precision >= precision_target
    rec["error_rates"] = rates.to_dict(orient="records")
    rec["measured_on"] = truth_note
    rec["meets_precision_target"] = bool(meets)
    rec["statement"] = (
        f"Measured precision {overall.precision:.2f} (95% CI {overall.precision_low:.2f}-"
        f"{overall.precision_high:.2f}), recall {overall.recall:.2f}: "
        + (
            f"meets its stated precision target of {precision_target:.2f}."
            if meets
            else f"DOES NOT reach its stated precision target of {precision_target:.2f}; "
            "do not rely on a flag without review."
        )
    )
    return rec
