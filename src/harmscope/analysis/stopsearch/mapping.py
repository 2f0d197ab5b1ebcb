"""The outcome -> group table: packaged, or a user's file with the same columns."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError

GROUPS = (
    "arrest",
    "summons",
    "caution",
    "community_resolution",
    "drugs_warning",
    "penalty_notice",
    "no_further_action",
    "other_action",
    "unknown",
    "blank",
)
UNMAPPED = "unmapped"


def load_outcome_mapping(path: str | Path | None = None) -> pd.DataFrame:
    """The outcome -> group table (packaged, or a user's file with the same columns)."""
    if path is None:
        ref = resources.files("harmscope.reference").joinpath("data/stopsearch/outcome_groups.csv")
        text = ref.read_text(encoding="utf-8")
        where = "harmscope/reference/data/stopsearch/outcome_groups.csv"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise HarmscopeError(
                f"cannot read the outcome mapping ({exc.strerror})",
                where=f"--outcome-mapping {path}",
                fix="pass a CSV with columns raw_outcome, group, action, source",
            ) from None
        where = f"--outcome-mapping {path}"
    rows = list(csv.DictReader(text.splitlines()))
    required = {"raw_outcome", "group", "action", "source"}
    if not rows or not required <= set(rows[0]):
        raise HarmscopeError(
            f"the outcome mapping needs columns {sorted(required)}",
            where=where,
            fix="see reference/data/stopsearch/SOURCES.md for the format",
        )
    frame = pd.DataFrame(rows)
    bad = sorted(set(frame["group"]) - set(GROUPS))
    if bad:
        raise HarmscopeError(
            f"unknown outcome group(s) {bad}",
            where=where,
            fix=f"use one of {list(GROUPS)}",
        )
    frame["key"] = frame["raw_outcome"].str.strip().str.lower()
    dup = frame.loc[frame.key.duplicated(), "raw_outcome"].tolist()
    if dup:
        raise HarmscopeError(
            f"outcome(s) listed twice: {dup}", where=where, fix="keep one row per outcome"
        )
    flags = frame["action"].fillna("").str.strip().str.lower()
    wrong = sorted(set(flags) - {"true", "false", ""})
    if wrong:
        raise HarmscopeError(
            f"action must be True, False or empty, not {wrong}",
            where=where,
            fix="write True for outcomes that are an action, False for no further action",
        )
    frame["action"] = flags.map({"true": True, "false": False, "": None}).astype("object")
    frame.loc[frame["action"].isna(), "action"] = None
    return frame


def mapping_frame(outcome_mapping: str | Path | pd.DataFrame | None) -> pd.DataFrame:
    """A mapping already loaded (so one read serves several analyses), or read it."""
    if isinstance(outcome_mapping, pd.DataFrame):
        return outcome_mapping
    return load_outcome_mapping(outcome_mapping)
