"""Weighted sums (harm scores) beside suppressed counts, published from published counts only.

Policy (the reason this module exists):

* **The checksum attack.** A harm score is Σ weight × count. Published exactly beside a table
  whose small counts are suppressed, it is one more linear equation, and with fractional weights
  it usually has a single integer solution: the hidden counts can be read back. (Kent 2025,
  district × month reports: 373 of 373 hidden category counts recovered this way.) The same
  holds for a harm interval (a function of Σ w n and Σ w² n), a harm rate and a share of harm.
* **One protected universe.** The counts are protected once, as one cross-table of areas ×
  categories for the whole force (per month when months are published), with the rows that
  could not be placed as a row of their own, so that a district's output and the force's
  output show one suppression pattern: a district's hidden cell cannot be recovered by
  subtracting the other districts from the force total. Every output (a district, a county, the
  force; the command line and the report) is a slice of it.
* **Published information only.** What an attacker knows is the visible cells, the visible row,
  column and grand totals, the weights and the populations. Every figure published beside the
  table is computed from that alone:

  - a sum over a block of cells (areas × categories) is published **exactly** when the
    published margins already determine it (its hidden part lies in the row space of the margin
    equations), and hidden otherwise;
  - its harm is published **exactly** when the published counts determine it too; otherwise the
    hidden counts are replaced by their least-squares estimate from the published margins
    (clipped to their public bounds), the estimate is labelled, and its interval is widened by
    the most that the hidden counts could move it.

  Either way the published harm is a function of published numbers, so it adds no equation an
  attacker could use, whatever solver they bring.
* **Not promised:** counts the table never shows (categories within an LSOA that only appear as
  LSOA totals) are not cells here; their protection is the LSOA table's.

For audiences without suppression the same code gives the exact figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmscope.privacy.disclosure import protect_long

# Never published: rows that could not be placed (kept in the universe so the force's column
# totals are sums of its rows).
UNPLACED = "(not placed)"
_TOL = 1e-7


@dataclass
class BlockSum:
    """A sum over a block of the universe as it may be published.

    count : the count, or None when it must be hidden.
    harm, harm_w2, w_max : Σ w n, Σ w² n and the largest weight present (None when hidden).
    harm_error : 0 when harm is exact; otherwise the most the true harm can differ from it.
    """

    count: int | None
    harm: float | None
    harm_w2: float | None
    w_max: float | None
    harm_error: float

    @property
    def harm_estimated(self) -> bool:
        return self.harm is not None and self.harm_error > 0


class _Block:
    """One table of the universe (one month, or the whole period)."""

    def __init__(self, rows, cols, x, hidden, row_vis, col_vis, grand_vis, weights):
        self.rows = {r: i for i, r in enumerate(rows)}
        self.cols = {c: j for j, c in enumerate(cols)}
        self.x = x
        self.hidden = hidden
        self.w = weights
        self.visibility = (row_vis, col_vis, grand_vis)
        hid = list(zip(*np.nonzero(hidden), strict=True))
        self.hid = {(int(i), int(j)): k for k, (i, j) in enumerate(hid)}
        n, m = x.shape
        eqs, rhs = [], []
        visible = np.where(hidden, 0.0, x)
        # every published total, as the set of cells it adds up
        lines: list[np.ndarray] = []
        for i in range(n):
            if row_vis[i]:
                sel = np.zeros((n, m), bool)
                sel[i, :] = True
                lines.append(sel)
        for j in range(m):
            if col_vis[j]:
                sel = np.zeros((n, m), bool)
                sel[:, j] = True
                lines.append(sel)
        if grand_vis:
            lines.append(np.ones((n, m), bool))
        h = len(hid)
        self.upper = np.full(h, np.inf)
        for sel in lines:
            total = float(x[sel].sum())  # a published total
            resid = total - float(visible[sel].sum())
            members = [self.hid[c] for c in zip(*np.nonzero(sel & hidden), strict=True)]
            if not members:
                continue
            row = np.zeros(h)
            row[members] = 1.0
            eqs.append(row)
            rhs.append(resid)
            self.upper[members] = np.minimum(self.upper[members], resid)
        self.h = h
        if h and eqs:
            a = np.vstack(eqs)
            y = np.array(rhs)
            # least-squares (minimum-norm) solution and an orthonormal basis of the row space:
            # both functions of published numbers only
            self.xp = np.linalg.lstsq(a, y, rcond=None)[0]
            _, s, vt = np.linalg.svd(a, full_matrices=False)
            rank = int((s > _TOL * max(s.max(), 1.0)).sum())
            self.basis = vt[:rank]
        else:
            self.xp = np.zeros(h)
            self.basis = np.zeros((0, h))
        # the estimate used where harm is not determined: within each cell's public bounds
        self.xhat = np.clip(self.xp, 0.0, self.upper)

    def _determined(self, vec: np.ndarray) -> bool:
        if not vec.any():
            return True
        proj = self.basis.T @ (self.basis @ vec)
        return bool(np.abs(vec - proj).max() < 1e-6 * max(1.0, np.abs(vec).max()))

    def parts(self, rows: Iterable[str], cols: Iterable[str]):
        ri = [self.rows[r] for r in rows if r in self.rows]
        cj = [self.cols[c] for c in cols if c in self.cols]
        sel = np.zeros(self.x.shape, bool)
        if ri and cj:
            sel[np.ix_(ri, cj)] = True
        return sel


class Universe:
    """Counts of areas × categories (per ``by`` group) protected once for an audience.

    long : one row per area × category (× by) with a count column.
    weights : category -> weight. ``suppress`` False gives exact figures (internal, partner).
    """

    def __init__(
        self,
        long: pd.DataFrame,
        *,
        row: str,
        col: str,
        count: str = "count",
        by: Sequence[str] = (),
        weights: dict[str, float],
        threshold: int,
        suppress: bool,
        unpublished_rows: Sequence[str] = (UNPLACED,),
    ):
        self.row, self.col, self.count, self.by = row, col, count, list(by)
        self.weights = {str(k): float(v) for k, v in weights.items()}
        self.suppress = suppress
        self.threshold = threshold
        df = long[[*self.by, row, col, count]].copy()
        df[count] = pd.to_numeric(df[count]).fillna(0).round().astype("int64")
        if suppress and len(df):
            prot = protect_long(
                df, count, row=row, col=col, by=self.by or None, threshold=threshold
            )
            df["hidden"] = prot.mask[count].to_numpy(bool)
            margins = prot.totals
        else:
            df["hidden"] = False
            margins = {}
        cols = sorted(df[col].astype(str).unique())
        self.blocks: dict = {}
        groups = [((), df)] if not self.by else list(df.groupby(self.by, sort=True))
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            rows = sorted(part[row].astype(str).unique())
            ri = {r: i for i, r in enumerate(rows)}
            cj = {c: j for j, c in enumerate(cols)}
            x = np.zeros((len(rows), len(cols)))
            hidden = np.zeros(x.shape, bool)
            for r, c, v, hd in zip(
                part[row].astype(str),
                part[col].astype(str),
                part[count],
                part["hidden"],
                strict=True,
            ):
                x[ri[r], cj[c]] += v
                hidden[ri[r], cj[c]] |= bool(hd)
            unpub = [ri[r] for r in unpublished_rows if r in ri]
            row_vis = np.ones(len(rows), bool)
            col_vis = np.ones(len(cols), bool)
            grand_vis = True
            if suppress:
                hidden[unpub, :] = True
                mkey = key[0] if len(key) == 1 else key
                # no published margins to read: treat every total as hidden (closed)
                row_vis, col_vis, grand_vis = _visible_margins(
                    margins.get(mkey if self.by else None), rows, cols
                )
                row_vis[unpub] = False
            w = np.array([self.weights.get(c, 0.0) for c in cols])
            self.blocks[key] = _Block(rows, cols, x, hidden, row_vis, col_vis, grand_vis, w)
        self.categories = cols

    # -- cells ---------------------------------------------------------------------------
    def hidden_cell(self, key: tuple, area: str, category: str) -> bool:
        b = self.blocks.get(key)
        if b is None or area not in b.rows or category not in b.cols:
            return False
        return bool(b.hidden[b.rows[area], b.cols[category]])

    # -- sums ----------------------------------------------------------------------------
    def total(
        self,
        rows: Iterable[str],
        cols: Iterable[str] | None = None,
        keys: Iterable[tuple] | None = None,
    ) -> BlockSum:
        """The sum over ``rows`` × ``cols`` (all categories by default) and the ``by`` groups
        ``keys`` (all by default), as it may be published."""
        rows = [str(r) for r in rows]
        cols = self.categories if cols is None else [str(c) for c in cols]
        keys = (
            list(self.blocks)
            if keys is None
            else [k if isinstance(k, tuple) else (k,) for k in keys]
        )
        count = 0.0
        harm = w2 = err = 0.0
        w_max = 0.0
        count_ok = harm_ok = True
        for key in keys:
            b = self.blocks.get(key)
            if b is None:
                continue
            sel = b.parts(rows, cols)
            vis = sel & ~b.hidden
            wmat = np.broadcast_to(b.w, b.x.shape)
            count += float(b.x[vis].sum())
            harm += float((wmat * b.x)[vis].sum())
            w2 += float((wmat**2 * b.x)[vis].sum())
            present = vis & (b.x > 0)
            if present.any():
                w_max = max(w_max, float(wmat[present].max()))
            hsel = sel & b.hidden
            if not hsel.any():
                continue
            w_max = max(w_max, float(wmat[hsel].max()))
            idx = [b.hid[c] for c in zip(*np.nonzero(hsel), strict=True)]
            ind = np.zeros(b.h)
            ind[idx] = 1.0
            wv = np.zeros(b.h)
            wv[idx] = [b.w[j] for _, j in zip(*np.nonzero(hsel), strict=True)]
            if not b._determined(ind):
                count_ok = False
                continue
            n_h = float(ind @ b.xp)
            count += n_h
            if b._determined(wv):
                harm += float(wv @ b.xp)
                # Σ w² n of the hidden cells is estimated; it only shapes the interval
                w2 += float((wv**2) @ b.xhat)
            else:
                est = float(wv @ b.xhat)
                harm += est
                w2 += float((wv**2) @ b.xhat)
                ws = wv[idx]
                by_count = n_h * (ws.max() - ws.min())
                up = np.where(np.isfinite(b.upper[idx]), b.upper[idx], np.inf)
                by_bounds = float((ws * np.maximum(b.xhat[idx], up - b.xhat[idx])).sum())
                bound = min(by_count, by_bounds)
                if not np.isfinite(bound):
                    harm_ok = False
                err += bound
        if not count_ok:
            return BlockSum(None, None, None, None, 0.0)
        if not harm_ok:
            return BlockSum(int(round(count)), None, None, None, 0.0)
        return BlockSum(int(round(count)), harm, w2, w_max, err)


def _visible_margins(mt: pd.DataFrame | None, rows, cols):
    """Row, column and grand-total visibility from protect_long's published margins.

    The margins frame holds one row per area, in the pivot's (sorted) order, plus "Total"; its
    last column is the row total. Anything that cannot be read is taken as hidden, so a
    figure is never computed from a total that was not published.
    """
    row_vis = np.zeros(len(rows), bool)
    col_vis = np.zeros(len(cols), bool)
    if mt is None or "Total" not in mt.index:
        return row_vis, col_vis, False
    tot_col = "total" if "total" in mt.columns else mt.columns[-1]
    body = mt.drop(index="Total")
    if len(body) == len(rows):  # ``rows`` is sorted, as the pivot's index is
        row_vis = body[tot_col].notna().to_numpy(bool).copy()
    total_row = mt.loc["Total"]
    col_vis = np.array([c in total_row.index and bool(pd.notna(total_row[c])) for c in cols])
    return row_vis, col_vis, bool(pd.notna(total_row[tot_col]))
