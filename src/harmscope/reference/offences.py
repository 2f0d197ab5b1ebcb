"""Offence taxonomy and severity weights (ONS Crime Severity Score, Cambridge Crime Harm Index).

Packaged tables live in ``reference/data/offences`` (sources in its SOURCES.md). Street data
from police.uk only carry the 14 police.uk categories, so the harm analyses weight those;
Home Office code-level tables are there for partners who load a force extract.

A partnership with the official tables replaces ours with ``load_weights(path=FILE)`` (the
CLI's ``--weights FILE``); the file format is described in :func:`read_weights_file`. Any
packaged file can also be swapped, like the other reference tables, by putting a file of the
same name under ``$HARMSCOPE_REFERENCE_DIR/offences/``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.reference._files import resolve

SCHEMES = ("css", "chi")
SCHEME_LABELS = {
    "css": "ONS Crime Severity Score (sentence-equivalent days)",
    "chi": "Cambridge Crime Harm Index (starting-point custody days)",
}
STATUSES = ("official", "published-secondary", "estimate", "exclusion")
ASB = "Anti-social behaviour"
POLICE_CATEGORIES = (
    ASB,
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
WEIGHT_COLUMNS = ["weight", "weight_low", "weight_high", "status", "source", "derivation"]


def _data_path(name: str) -> Path:
    """The packaged file, or its replacement under HARMSCOPE_REFERENCE_DIR/offences/."""
    return resolve(f"offences/{name}")


@lru_cache(maxsize=16)
def _read_cached(stamp: tuple[str, int, int]) -> pd.DataFrame:
    return pd.read_csv(stamp[0], dtype=str, keep_default_na=False)


def _csv(name: str) -> pd.DataFrame:
    path = _data_path(name)
    st = path.stat()
    return _read_cached((str(path), st.st_mtime_ns, st.st_size)).copy()


def _as_bool(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])


def _taxonomy() -> pd.DataFrame:
    df = _csv("offence_codes.csv")
    for col in ("injury", "serious_violence", "sexual"):
        df[col] = _as_bool(df[col])
    return df


def load_taxonomy() -> pd.DataFrame:
    """Home Office offence codes with ONS sub-group, offence group, police.uk category and flags.

    Columns: code, label, ons_subgroup, offence_group, police_category, injury,
    serious_violence, sexual, note.
    """
    return _taxonomy().copy()


def _subgroups() -> pd.DataFrame:
    df = _csv("subgroups.csv")
    df["volume_ew"] = df["volume_ew"].astype(float)
    return df


def load_subgroups() -> pd.DataFrame:
    """ONS sub-groups, the police.uk category each falls in, and its national volume (estimate)."""
    return _subgroups().copy()


def load_police_categories() -> pd.DataFrame:
    """The 14 police.uk categories, the ONS sub-groups each pools and whether it is mixed."""
    sub = _subgroups()
    rows = []
    for cat in POLICE_CATEGORIES:
        parts = sub.loc[sub.police_category == cat, "subgroup"].tolist()
        rows.append(
            {
                "category": cat,
                "subgroups": "; ".join(parts) if parts else "(not a notifiable crime)",
                "mixed": len(parts) > 1,
                "violence": cat
                in ("Violence and sexual offences", "Robbery", "Possession of weapons"),
            }
        )
    return pd.DataFrame(rows)


def _num(value) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    return float(value)


def _packaged(scheme: str) -> pd.DataFrame:
    df = _csv(f"weights_{scheme}.csv")
    for col in ("weight", "weight_low", "weight_high"):
        df[col] = df[col].map(_num)
    return df


def derive_category_weights(
    subgroup_weights: pd.DataFrame, subgroups: pd.DataFrame
) -> pd.DataFrame:
    """Category weight = volume-weighted mean of its sub-groups' weights.

    A police.uk category pools ONS sub-groups of very different severity (Violence and
    sexual offences runs from harassment to homicide), so its weight depends on the mix.
    We weight by national recorded volumes (``subgroups.csv``, with their sources), which is the
    weight an average offence in the category carries. weight_low/high give the smallest and
    largest sub-group weight pooled, to show how mixed the category is.
    """
    sw = subgroup_weights.set_index("key")
    rows = []
    for cat in POLICE_CATEGORIES:
        part = subgroups[subgroups.police_category == cat]
        if cat == ASB:
            rows.append(
                {
                    "category": cat,
                    "weight": 0.0,
                    "weight_low": 0.0,
                    "weight_high": 0.0,
                    "status": "exclusion",
                    "source": "Both schemes cover notifiable offences only",
                    "derivation": "Anti-social behaviour incidents are not notifiable crimes and carry "
                    "no severity weight; they count in counts but add no harm.",
                }
            )
            continue
        missing = [s for s in part.subgroup if s not in sw.index]
        if missing:
            raise HarmscopeError(
                f"no weight for sub-group(s) {', '.join(missing)}",
                where="sub-group weights",
                fix="add a row for each sub-group",
            )
        w = sw.loc[part.subgroup.tolist()]
        vol = part.volume_ew.to_numpy()
        weight = float((w.weight.to_numpy() * vol).sum() / vol.sum())
        statuses = set(w.status)
        if len(part) > 1 or statuses != {"published-secondary"}:
            status = "estimate"
        else:
            status = "published-secondary"
        if len(part) == 1:
            derivation = f"The weight of its one ONS sub-group ({part.subgroup.iloc[0]})."
        else:
            mix = ", ".join(
                f"{s} {v / vol.sum():.1%} x {x:g}"
                for s, v, x in zip(part.subgroup, vol, w.weight, strict=True)
            )
            derivation = (
                "Estimate: volume-weighted mean of its ONS sub-group weights, using the "
                f"England and Wales recorded volumes in subgroups.csv (see their sources): {mix}."
            )
        rows.append(
            {
                "category": cat,
                "weight": round(weight, 4),
                "weight_low": float(w.weight.min()),
                "weight_high": float(w.weight.max()),
                "status": status,
                "source": "Sub-group weights and volumes in this folder (see their sources)",
                "derivation": derivation,
            }
        )
    return pd.DataFrame(rows)


def _check_scheme(scheme: str) -> str:
    s = str(scheme).strip().lower()
    if s not in SCHEMES:
        raise HarmscopeError(
            f"unknown weighting scheme {scheme!r}",
            where="--scheme",
            fix="use 'css' (ONS Crime Severity Score) or 'chi' (Cambridge Crime Harm Index)",
        )
    return s


def load_weights(
    scheme: str = "css", path: str | Path | None = None, *, level: str = "category"
) -> pd.DataFrame:
    """Severity weights as a DataFrame.

    ``level='category'`` (default) gives one row per police.uk category (column ``category``);
    ``'subgroup'`` and ``'code'`` give the ONS sub-group and Home Office code tables (column
    ``key``). Every row carries weight, weight_low, weight_high, status, source, derivation.
    With ``path`` the user's file replaces the packaged table (see :func:`read_weights_file`).
    """
    if level not in ("category", "subgroup", "code"):
        raise HarmscopeError(
            f"unknown weights level {level!r}",
            where="level",
            fix="use 'category', 'subgroup' or 'code'",
        )
    if path is not None:
        table, file_level = read_weights_file(path)
        if file_level != level:
            raise HarmscopeError(
                f"the file gives {file_level}-level weights but {level}-level weights are needed"
                + (
                    " (police.uk street data carry categories, not offence codes)"
                    if level == "category"
                    else ""
                ),
                where=str(path),
                fix=f"give a file with a '{'category' if level == 'category' else 'code'}' column",
            )
        return table
    scheme = _check_scheme(scheme)
    table = _packaged(scheme)
    if level == "category":
        out = table[table.level == "category"].rename(columns={"key": "category"})
        if out.empty:  # packaged file without its category rows: derive them
            out = derive_category_weights(table[table.level == "subgroup"], _subgroups())
        return out[["category", *WEIGHT_COLUMNS]].reset_index(drop=True)
    return table[table.level == level][["key", "label", *WEIGHT_COLUMNS]].reset_index(drop=True)


def read_weights_file(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read and validate a user's weights CSV. Returns (table, level).

    Format (UTF-8 CSV with a header row):

    - one key column: ``category`` (a police.uk category name, all 14 required; give 0 to
      leave a category out of harm) or ``code`` (Home Office offence codes);
    - ``weight``: a number >= 0 (days, or CSS points);
    - optional ``source``, ``status`` (official | published-secondary | estimate |
      exclusion), ``derivation``, ``weight_low``, ``weight_high``.
    """
    p = Path(path)
    where = f"--weights {p}"
    raw = _read_weights_csv(p, where)
    key = _weights_key(raw, where)
    raw[key] = raw[key].str.strip()
    raw["weight"] = _weight_values(raw, key, where)
    dupes = sorted(set(raw[key][raw[key].duplicated()]))
    if dupes:
        raise HarmscopeError(
            f"{key} listed more than once: {', '.join(dupes)}",
            where=where,
            fix="keep one row per " + key,
        )
    if "status" in raw.columns:
        bad = sorted(set(raw["status"].str.strip()) - set(STATUSES) - {""})
        if bad:
            raise HarmscopeError(
                f"unknown status value(s) {', '.join(bad)}",
                where=where,
                fix="use one of " + ", ".join(STATUSES),
            )
    if key == "category":
        raw[key] = _known_categories(raw[key], where)
    else:
        _check_codes(raw[key], where)
    for col in ("weight_low", "weight_high"):
        raw[col] = raw[col].map(_num) if col in raw.columns else math.nan
    for col, default in (
        ("status", "official"),
        ("source", str(p)),
        ("derivation", "user-supplied table"),
    ):
        if col not in raw.columns:
            raw[col] = default
        raw[col] = raw[col].replace("", default)
    if key == "category":
        return raw[["category", *WEIGHT_COLUMNS]].reset_index(drop=True), "category"
    out = raw.rename(columns={"code": "key"})
    return out[["key", *WEIGHT_COLUMNS]].reset_index(drop=True), "code"


def _read_weights_csv(p: Path, where: str) -> pd.DataFrame:
    """The file as text cells, header names trimmed and lower case."""
    if not p.exists():
        raise HarmscopeError("file not found", where=where, fix="check the path")
    if p.is_dir():
        raise HarmscopeError(
            "is a folder, not a CSV file", where=where, fix="give the CSV file itself"
        )
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise HarmscopeError(
            f"not a readable CSV ({type(exc).__name__}: {first_line})",
            where=where,
            fix="save the table as UTF-8 CSV with a header row: category,weight,source,status",
        ) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw


def _weights_key(raw: pd.DataFrame, where: str) -> str:
    """The key column (``category`` or ``code``) of a table that has rows and weights."""
    keys = [c for c in ("category", "code") if c in raw.columns]
    if len(keys) != 1 or "weight" not in raw.columns:
        raise HarmscopeError(
            "needs a 'weight' column and exactly one of 'category' or 'code' "
            f"(found: {', '.join(raw.columns)})",
            where=where,
            fix="use the header category,weight,source,status "
            "(or code,weight,... for offence codes)",
        )
    if raw.empty:
        raise HarmscopeError(
            "has a header but no rows", where=where, fix="add one row per category"
        )
    return keys[0]


def _weight_values(raw: pd.DataFrame, key: str, where: str) -> list[float]:
    """The weights as numbers; every cell that is not a number >= 0 is named (five at most)."""
    bad_rows = []
    weights = []
    for i, text in enumerate(raw["weight"], start=2):
        try:
            value = float(str(text).replace(",", "").strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            bad_rows.append(f"line {i} ({raw[key].iloc[i - 2]!r}: {text!r})")
        weights.append(value)
    if bad_rows:
        raise HarmscopeError(
            "weight must be a number >= 0 at "
            + "; ".join(bad_rows[:5])
            + (" ..." if len(bad_rows) > 5 else ""),
            where=where,
            fix="write plain numbers such as 203.07 (use 0 to leave an offence out of harm)",
        )
    return weights


def _known_categories(values: pd.Series, where: str) -> list[str]:
    """The police.uk names in their own spelling; all 14 categories must be given."""
    known = {c.lower(): c for c in POLICE_CATEGORIES}
    unknown = [c for c in values if c.lower() not in known]
    if unknown:
        raise HarmscopeError(
            f"unknown police.uk categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}",
            where=where,
            fix="use the police.uk names: " + ", ".join(POLICE_CATEGORIES),
        )
    names = [known[c.lower()] for c in values]
    missing = [c for c in POLICE_CATEGORIES if c not in set(names)]
    if missing:
        raise HarmscopeError(
            f"no weight for {', '.join(missing)}",
            where=where,
            fix="add a row for every police.uk category (weight 0 leaves one out of harm)",
        )
    return names


def _check_codes(values: pd.Series, where: str) -> None:
    known_codes = set(_taxonomy().code)
    unknown = [c for c in values if c not in known_codes]
    if unknown:
        raise HarmscopeError(
            f"unknown Home Office offence code(s): {', '.join(unknown[:10])}",
            where=where,
            fix="use codes from the taxonomy (harmscope.reference.offences.load_taxonomy())",
        )


def weights_mapping(weights: pd.DataFrame) -> dict[str, float]:
    """category -> weight, for joining onto counts."""
    return dict(zip(weights["category"], weights["weight"].astype(float), strict=True))
