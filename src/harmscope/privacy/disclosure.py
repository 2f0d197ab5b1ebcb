"""Statistical disclosure control for published tables: small-count suppression and rounding.

Policy (documented here because every public output depends on it):

* **Primary suppression.** A count from 1 to ``threshold - 1`` is hidden (default threshold 5,
  so 1-4 are hidden; METHODS.md notes ONS research outputs often start from 10: pass
  ``threshold=10``). Margins (row, column and grand totals) are cells too: a small total is
  hidden like any other count.
* **Zeros are shown.** Following ONS practice a true zero is published: "nothing recorded"
  discloses nothing about a person, and hiding zeros would make every sparse table unreadable.
  A zero is used as a secondary-suppression cell only when no non-zero cell is available.
* **Secondary suppression.** With ``totals=True`` the row, column and grand totals are assumed
  public (they usually are, somewhere in the same report). Every additive relation
  ``sum(cells in a line) = line total`` is then a linear equation an attacker can solve. We hide
  further cells until no hidden cell is determined by those equations: we build the constraint
  matrix over the hidden cells and require every hidden cell to move along some vector in its
  null space (for a 2-D table this is the same as "no hidden cell is a bridge in the
  row/column graph", which implies at least two hidden cells in every affected row and column).
  We also require the hidden cells of a line whose total is visible to add up to at least the
  threshold, so that "these two cells together hold 3" cannot be read off either.
  Secondary cells are the smallest visible non-zero cells in the offending line (least loss of
  information), interior cells before margins.
* **Non-negativity.** Counts cannot be negative, which an attacker can use to pin a cell that
  the equations alone leave free; a linear programme per hidden cell checks its feasible range
  is wider than zero (tables of up to 400 hidden cells).
* **Not promised:** a minimum width of the interval an attacker can deduce for a hidden cell
  (tau-argus "protection levels"); the cell cannot be solved for, but may be bounded.
* **Derived values.** A rate, share or harm score built from a hidden count is hidden too
  (``derived={"rate": "count"}``).
* **Rounding** (:func:`round_to_base`) is the alternative: every count goes to the nearest
  multiple of ``base`` (zero stays zero); derived values computed from the unrounded counts are
  hidden because they would give the true count back.

Hidden cells are ``pd.NA`` in nullable columns, and :class:`Protected` carries the mask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError

DEFAULT_THRESHOLD = 5

# Null-space components below this are numerical noise (the constraint matrix holds 0/1 only).
_TOL = 1e-9
# Above this many hidden cells in one table the exact null-space audit is replaced by the
# line rules alone, which are exact for one-way tables (the only big ones we publish: LSOAs).
_MAX_AUDIT_CELLS = 1500
# The bounds audit solves two linear programmes per hidden cell; beyond this it is skipped
# (large tables here are one-way LSOA lists, where the line rules already suffice).
_MAX_LP_CELLS = 400


@dataclass
class Protected:
    """A table after disclosure control.

    frame : the input with hidden cells as ``pd.NA`` (count columns become ``Int64``).
    mask : same index as ``frame``; a boolean column per count or derived column, True = hidden.
    totals : per ``by`` group, the margins as they may be published (``NA`` = hidden): a frame
        with the count columns, one row per table row plus a ``"Total"`` row, and a ``total``
        column when there are two or more count columns. Empty when ``totals=False``.
    primary, secondary : numbers of interior cells hidden by each rule.
    method : one paragraph for the report's methods section.
    """

    frame: pd.DataFrame
    mask: pd.DataFrame
    totals: dict = field(default_factory=dict)
    primary: int = 0
    secondary: int = 0
    threshold: int = DEFAULT_THRESHOLD
    method: str = ""


def is_small(values: np.ndarray | pd.Series, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """True where a count would be disclosive on its own (1 .. threshold-1)."""
    arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").fillna(0), dtype=float)
    return (arr >= 1) & (arr < threshold)


def protect_counts(
    df: pd.DataFrame,
    count_cols: Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    totals: bool = True,
    derived: Mapping[str, str | Sequence[str]] | None = None,
) -> Protected:
    """Suppress small counts in ``df`` (rows x ``count_cols``), with secondary suppression.

    Each ``by`` group is its own table (for example one table per month); without ``by`` the
    whole frame is one table. ``derived`` maps a derived column (a rate, a harm score) to the
    count column(s) it was built from; it is hidden wherever any of those is hidden.
    """
    count_cols = list(count_cols)
    _check(df, count_cols, by, threshold, derived)
    by_cols = _as_list(by)
    derived = dict(derived or {})

    values = df[count_cols].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    hidden = np.zeros(values.shape, dtype=bool)
    primary_mask = is_small(values.ravel(), threshold).reshape(values.shape)
    margins: dict = {}

    positions = np.arange(len(df))
    groups = (
        [(None, positions)]
        if not by_cols
        else [
            (key, positions[idx])
            for key, idx in df.reset_index(drop=True)
            .groupby(by_cols, sort=False, dropna=False)
            .indices.items()
        ]
    )
    for key, rows in groups:
        block = values[rows]
        cell_hidden, margin_table = _protect_block(block, threshold, totals)
        hidden[rows] = cell_hidden
        if totals:
            margin_table.index = [*df.index[rows], "Total"]
            margin_table.columns = count_cols + (["total"] if len(count_cols) > 1 else [])
            margins[key] = margin_table

    out = df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=count_cols + list(derived))
    for j, col in enumerate(count_cols):
        col_mask = pd.Series(hidden[:, j], index=df.index)
        out[col] = _shown(np.round(values[:, j]).astype("int64"), col_mask)
        mask[col] = col_mask
    _hide_derived(out, mask, derived)

    n_primary = int((primary_mask & hidden).sum())
    n_hidden = int(hidden.sum())
    method = (
        f"Disclosure control: counts from 1 to {threshold - 1} are suppressed (shown as "
        "'suppressed'); true zeros are shown. "
        + (
            "Further cells are suppressed so that no hidden count can be worked out from the "
            "row, column or grand totals (each hidden cell lies on a cycle of hidden cells and "
            f"the hidden cells of any line add up to at least {threshold}). "
            if totals
            else ""
        )
        + "Rates and scores built from a suppressed count are suppressed too."
    )
    return Protected(
        frame=out,
        mask=mask,
        totals=margins,
        primary=n_primary,
        secondary=n_hidden - n_primary,
        threshold=threshold,
        method=method,
    )


def protect_long(
    df: pd.DataFrame,
    count_col: str,
    *,
    row: str,
    col: str,
    by: str | Sequence[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    totals: bool = True,
    derived: Mapping[str, str | Sequence[str]] | None = None,
) -> Protected:
    """:func:`protect_counts` for a long table (one row per ``row`` x ``col`` cell).

    The cells are pivoted to a two-way table (missing combinations count as zero, which is what
    an absent row in an aggregate means), protected, and the mask mapped back to the long rows.
    ``derived`` columns may only name ``count_col`` as their source.
    """
    for name, label in ((row, "row"), (col, "col"), (count_col, "count_col")):
        if name not in df.columns:
            raise HarmscopeError(
                f"column {name!r} is not in the table (columns: {', '.join(map(str, df.columns))})",
                where=f"protect_long({label}=...)",
                fix="pass the name of an existing column",
            )
    by_cols = _as_list(by)
    keys = [*by_cols, row]
    wide = df.pivot_table(
        index=keys, columns=col, values=count_col, aggfunc="sum", fill_value=0, observed=True
    )
    cols = list(wide.columns)
    cell_cols = [f"__c{i}" for i in range(len(cols))]
    original_name = dict(zip(cell_cols, cols, strict=True))
    wide = wide.reset_index()
    wide.columns = [*keys, *cell_cols]
    prot = protect_counts(wide, cell_cols, by=by_cols or None, threshold=threshold, totals=totals)
    long_mask = prot.mask.copy()
    long_mask[keys] = wide[keys]
    long_mask = long_mask.melt(id_vars=keys, value_vars=cell_cols, var_name="__c", value_name="__h")
    long_mask[col] = long_mask["__c"].map(original_name)
    merged = df[[*keys, col]].merge(long_mask[[*keys, col, "__h"]], on=[*keys, col], how="left")
    hidden = pd.Series(merged["__h"].fillna(False).to_numpy(bool), index=df.index)

    out = df.copy()
    mask = pd.DataFrame({count_col: hidden}, index=df.index)
    out[count_col] = _shown(pd.to_numeric(df[count_col]).round().astype("int64"), hidden)
    _hide_derived(
        out, mask, derived, only=count_col, where="protect_long(derived=...)", table="a long table"
    )
    return Protected(
        frame=out,
        mask=mask,
        totals={key: t.rename(columns=original_name) for key, t in prot.totals.items()},
        primary=prot.primary,
        secondary=prot.secondary,
        threshold=threshold,
        method=prot.method,
    )


@dataclass
class LinkedProtected:
    """A one-way table protected together with the group totals published beside it.

    frame, mask : the unit-level table (e.g. LSOAs) with hidden counts as NA.
    margins : per grouping column, a frame (group, count) as it may be published, NA = hidden.
    total : the grand total, or None when hidden.
    """

    frame: pd.DataFrame
    mask: pd.DataFrame
    margins: dict[str, pd.DataFrame]
    total: int | None
    primary: int
    secondary: int
    threshold: int
    method: str


def protect_linked(
    df: pd.DataFrame,
    count_col: str,
    groupings: Sequence[str],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    derived: Mapping[str, str | Sequence[str]] | None = None,
) -> LinkedProtected:
    """Protect unit counts (e.g. LSOAs) that are also published as totals by several groupings.

    A report that shows LSOA counts and also counts by district, by rural/urban class and by
    deprivation decile publishes one linear equation per group: sum of its LSOAs = its total.
    Protecting the LSOA table on its own would let a reader subtract the visible LSOAs of a
    district from the district's total and recover a lone hidden LSOA. Here every group total
    is a cell with its own line, the grand total closes each grouping, and the same solver as
    :func:`protect_counts` runs over the whole system. Missing group labels form their own
    group ("(none)"). Use the returned ``margins`` for the group tables.
    """
    groupings = list(groupings)
    _check(df, [count_col], None, threshold, derived)
    missing = [g for g in groupings if g not in df.columns]
    if missing:
        raise HarmscopeError(
            f"grouping column(s) {missing} not in the table",
            where="protect_linked(groupings=...)",
            fix="name columns of the unit table",
        )
    values = pd.to_numeric(df[count_col]).to_numpy(float)
    n = len(values)
    labels = {g: df[g].astype("string").fillna("(none)").to_numpy(object) for g in groupings}
    cells: list[float] = list(values)
    index_of: dict[tuple[str, str], int] = {}
    for g in groupings:
        for label in pd.unique(labels[g]):
            index_of[(g, label)] = len(cells)
            cells.append(float(values[labels[g] == label].sum()))
    grand = len(cells)
    cells.append(float(values.sum()))
    aug = np.array(cells).reshape(-1, 1)
    lines: list[list[tuple[int, int]]] = []
    for g in groupings:
        group_cells = []
        for label in pd.unique(labels[g]):
            k = index_of[(g, label)]
            members = np.nonzero(labels[g] == label)[0]
            lines.append([(int(i), 0) for i in members] + [(k, 0)])
            group_cells.append((k, 0))
        lines.append(group_cells + [(grand, 0)])
    if not groupings:
        lines.append([(i, 0) for i in range(n)] + [(grand, 0)])
    hidden = is_small(aug.ravel(), threshold).reshape(aug.shape)
    primary_n = int(hidden[:n].sum())
    _solve(aug, hidden, lines, threshold)

    cell_hidden = pd.Series(hidden[:n, 0], index=df.index)
    out = df.copy()
    out[count_col] = _shown(np.round(values).astype("int64"), cell_hidden)
    mask = pd.DataFrame({count_col: cell_hidden}, index=df.index)
    _hide_derived(out, mask, derived, only=count_col, where="protect_linked(derived=...)")
    margins = {}
    for g in groupings:
        rows = []
        for label in pd.unique(labels[g]):
            k = index_of[(g, label)]
            rows.append({g: label, count_col: None if hidden[k, 0] else int(round(aug[k, 0]))})
        frame = pd.DataFrame(rows)
        frame[count_col] = pd.array(frame[count_col], dtype="Int64")
        margins[g] = frame
    total = None if hidden[grand, 0] else int(round(aug[grand, 0]))
    n_hidden = int(hidden[:n].sum())
    return LinkedProtected(
        frame=out,
        mask=mask,
        margins=margins,
        total=total,
        primary=primary_n,
        secondary=n_hidden - primary_n,
        threshold=threshold,
        method=(
            f"Disclosure control: counts from 1 to {threshold - 1} are suppressed; unit counts are "
            f"protected together with their totals by {', '.join(groupings) or 'the whole table'}, "
            "so that no hidden count can be worked out from any published total."
        ),
    )


def _solve(aug: np.ndarray, hidden: np.ndarray, lines, threshold: int) -> None:
    """Secondary suppression in place until no line or linear combination gives a cell away."""
    for _ in range(aug.size + 1):
        changed = (
            _fix_lines(aug, hidden, lines, threshold)
            or _fix_determined(aug, hidden, lines)
            or _fix_bounded(aug, hidden, lines)
        )
        if not changed:
            return


def round_to_base(
    df: pd.DataFrame,
    cols: Sequence[str],
    base: int = 5,
    *,
    derived: Sequence[str] = (),
) -> pd.DataFrame:
    """Round counts to the nearest multiple of ``base`` (halves round up; zero stays zero).

    Derived columns (rates built from the exact counts) are hidden: ``rate x population`` would
    give the exact count back. Recompute them from the rounded counts if they are wanted.
    """
    if not isinstance(base, int) or base < 2:
        raise HarmscopeError(
            f"base must be an integer of 2 or more, got {base!r}",
            where="round_to_base(base=...)",
            fix="use base=5 (the usual choice) or 10",
        )
    _check(df, list(cols), None, 2, {d: cols[0] for d in derived} if cols else None)
    out = df.copy()
    for col in cols:
        v = pd.to_numeric(df[col], errors="coerce")
        rounded = np.floor(v / base + 0.5) * base
        out[col] = pd.array(rounded.round().astype("Int64"), dtype="Int64")
    for col in derived:
        out[col] = pd.Series(pd.NA, index=df.index, dtype="Float64")
    return out


# -- the solver ------------------------------------------------------------------------------


def _protect_block(
    block: np.ndarray, threshold: int, totals: bool
) -> tuple[np.ndarray, pd.DataFrame]:
    """Hide cells of one table; returns the interior mask and the published margins."""
    n, m = block.shape
    if not totals:
        return is_small(block.ravel(), threshold).reshape(block.shape), pd.DataFrame()

    two_way = m > 1
    # The augmented table: interior, row totals (two-way only), column totals and grand total.
    if two_way:
        aug = np.zeros((n + 1, m + 1))
        aug[:n, :m] = block
        aug[:n, m] = block.sum(axis=1)
        aug[n, :m] = block.sum(axis=0)
        aug[n, m] = block.sum()
    else:
        aug = np.zeros((n + 1, 1))
        aug[:n, 0] = block[:, 0]
        aug[n, 0] = block.sum()
    hidden = is_small(aug.ravel(), threshold).reshape(aug.shape)
    _solve(aug, hidden, _lines(n, m, two_way), threshold)

    published = pd.DataFrame(aug).astype("Int64").mask(pd.DataFrame(hidden))
    # The interior of the published margins table is the cells themselves (already returned),
    # so keep only the totals: last column (two-way) and last row.
    if two_way:
        published.iloc[:n, :m] = pd.NA
    else:
        published.iloc[:n, :] = pd.NA
    return hidden[:n, :m], published


def _lines(n: int, m: int, two_way: bool) -> list[list[tuple[int, int]]]:
    """Every additive relation, as the cells of the line with its total cell last."""
    lines: list[list[tuple[int, int]]] = []
    if two_way:
        for i in range(n + 1):
            lines.append([(i, j) for j in range(m + 1)])
        for j in range(m + 1):
            lines.append([(i, j) for i in range(n + 1)])
    else:
        lines.append([(i, 0) for i in range(n + 1)])
    return lines


def _fix_lines(aug: np.ndarray, hidden: np.ndarray, lines, threshold: int) -> bool:
    """One hidden cell alone in a line, or hidden cells of a line summing to a small count."""
    changed = False
    for line in lines:
        cells = [c for c in line if hidden[c]]
        if not cells:
            continue
        total_cell = line[-1]
        interior_hidden = [c for c in cells if c != total_cell]
        small_sum = (
            not hidden[total_cell]
            and interior_hidden
            and 0 < sum(aug[c] for c in interior_hidden) < threshold
        )
        if len(cells) == 1 or small_sum:
            if _hide_one_more(aug, hidden, line):
                changed = True
    return changed


def _fix_determined(aug: np.ndarray, hidden: np.ndarray, lines) -> bool:
    """Hide one more cell beside the first hidden cell the line equations pin down."""
    if not 0 < hidden.sum() <= _MAX_AUDIT_CELLS:
        return False
    return _hide_beside(aug, hidden, lines, determined_cells(hidden, lines))


def _fix_bounded(aug: np.ndarray, hidden: np.ndarray, lines) -> bool:
    """Hide one more cell beside a hidden cell pinned once counts are known to be >= 0.

    The null-space audit treats cells as free reals; an attacker also knows counts cannot be
    negative, which can pin a cell (x + y = 1 with x >= 1 known... or x + y = 0). A linear
    programme per hidden cell finds its feasible range; a zero-width range is a disclosure.
    """
    if not 0 < hidden.sum() <= _MAX_LP_CELLS:
        return False
    return _hide_beside(aug, hidden, lines, pinned_cells(aug, hidden, lines))


def _hide_beside(aug: np.ndarray, hidden: np.ndarray, lines, exposed) -> bool:
    """Hide one more cell in a line through the first ``exposed`` cell that has one to spare."""
    for cell in exposed:
        for line in lines:
            if cell in line and _hide_one_more(aug, hidden, line):
                return True
    return False


def pinned_cells(aug: np.ndarray, hidden: np.ndarray, lines) -> list[tuple[int, int]]:
    """Hidden cells whose minimum equals their maximum given the visible cells and counts >= 0."""
    cells = [tuple(int(x) for x in c) for c in zip(*np.nonzero(hidden), strict=True)]
    if not cells:
        return []
    a_eq, b_eq = _line_equations(cells, lines, aug)
    if not a_eq:
        return []
    # Imported here: scipy.optimize costs a command that publishes nothing hidden ~0.3 s to load.
    from scipy.optimize import linprog

    a, b = np.vstack(a_eq), np.array(b_eq)
    pinned = []
    for k, cell in enumerate(cells):
        c = np.zeros(len(cells))
        c[k] = 1.0
        lo = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if lo.status == 0 and hi.status == 0 and (-hi.fun) - lo.fun < 1e-6:
            pinned.append(cell)
    return pinned


def determined_cells(hidden: np.ndarray, lines) -> list[tuple[int, int]]:
    """Hidden cells whose value the line equations fix exactly (ignoring non-negativity)."""
    cells = [tuple(c) for c in zip(*np.nonzero(hidden), strict=True)]
    if not cells:
        return []
    rows, _ = _line_equations(cells, lines)
    if not rows:
        return []
    from scipy.linalg import null_space

    basis = null_space(np.vstack(rows))
    if basis.size == 0:
        return cells
    free = np.abs(basis).max(axis=1) > _TOL
    return [c for c, f in zip(cells, free, strict=True) if not f]


def _line_equations(cells, lines, aug: np.ndarray | None = None) -> tuple[list, list]:
    """Each line's relation (its cells add up to its total, the last cell) over the hidden
    ``cells``: coefficient rows and right-hand sides, the visible cells of ``aug`` moved to the
    right (all zero without ``aug``). Lines without a hidden cell are left out."""
    index = {c: k for k, c in enumerate(cells)}
    rows, rhs = [], []
    for line in lines:
        row = np.zeros(len(cells))
        b = 0.0
        total_cell = line[-1]
        for c in line:
            sign = -1.0 if c == total_cell else 1.0
            if c in index:
                row[index[c]] += sign
            elif aug is not None:
                b -= sign * aug[c]
        if row.any():
            rows.append(row)
            rhs.append(b)
    return rows, rhs


def _hide_one_more(aug: np.ndarray, hidden: np.ndarray, line) -> bool:
    """Hide the visible cell of ``line`` that costs least: smallest non-zero interior first."""
    total_cell = line[-1]
    candidates = [c for c in line if not hidden[c]]
    if not candidates:
        return False

    def cost(c):
        return (aug[c] == 0, c == total_cell, aug[c])

    best = min(candidates, key=cost)
    hidden[best] = True
    return True


def _as_list(names) -> list:
    """One column name, several, or None, as a list."""
    return [names] if isinstance(names, str) else list(names or [])


def _shown(counts, hidden) -> pd.arrays.IntegerArray:
    """Integer counts as a nullable column, hidden ones as NA."""
    return pd.array(np.where(hidden, None, counts), dtype="Int64")


def _hide_derived(
    out: pd.DataFrame,
    mask: pd.DataFrame,
    derived,
    *,
    only: str | None = None,
    where: str = "",
    table: str = "the table",
) -> None:
    """Hide each derived column (in ``out`` and ``mask``) wherever a count it is built from is.

    ``only``: the table has this one count column, which every derived column must name.
    """
    for col, sources in (derived or {}).items():
        sources = _as_list(sources)
        if only is not None and sources != [only]:
            raise HarmscopeError(
                f"derived column {col!r} names sources {sources}, but {table} has one count",
                where=where,
                fix=f"map each derived column to {only!r}",
            )
        col_mask = mask[sources].any(axis=1)
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Float64").mask(col_mask)
        mask[col] = col_mask


def _check(df, count_cols, by, threshold, derived) -> None:
    if not isinstance(df, pd.DataFrame):
        raise HarmscopeError(
            f"expected a pandas DataFrame, got {type(df).__name__}",
            where="disclosure control",
            fix="pass the table as a DataFrame",
        )
    if not isinstance(threshold, (int, np.integer)) or threshold < 2:
        raise HarmscopeError(
            f"threshold must be an integer of 2 or more, got {threshold!r}",
            where="--threshold",
            fix="use 5 (the usual rule) or 10 (ONS research outputs)",
        )
    if not count_cols:
        raise HarmscopeError(
            "no count columns given", where="count_cols", fix="name the columns holding counts"
        )
    named = [*count_cols, *_as_list(by), *(derived or {})]
    for s in (derived or {}).values():
        named += _as_list(s)
    missing = [c for c in named if c not in df.columns]
    if missing:
        raise HarmscopeError(
            f"column(s) {missing} not in the table (columns: {', '.join(map(str, df.columns))})",
            where="disclosure control",
            fix="pass the names of existing columns",
        )
    for col in count_cols:
        if df[col].isna().any():
            raise HarmscopeError(
                f"column {col!r} has missing values (already suppressed, or absent counts)",
                where=f"count_cols={col!r}",
                fix="protect the complete counts once; fill absent counts with 0 first",
            )
        v = pd.to_numeric(df[col], errors="coerce").dropna()
        if (v < 0).any() or not np.allclose(v, np.round(v)):
            raise HarmscopeError(
                f"column {col!r} holds negative or fractional values, so it is not a count",
                where=f"count_cols={col!r}",
                fix="protect the counts and list the derived values (rates, harm) in derived=",
            )
