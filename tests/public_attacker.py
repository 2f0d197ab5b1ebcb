"""One attacker over every public output (issue 10): parse what a command emits, then try to
recover each hidden count.

Independent of harmscope.privacy (the code it checks); shared by tests/test_public_attack.py.

An *output* is everything one invocation emits (JSON on stdout, files under --out, the HTML
report with its data-URI CSVs and embedded Vega-Lite data). It is parsed into named tables
(:class:`Table`: key columns = non-numeric, numeric columns as floats, NaN = hidden). A *bundle*
is several outputs attacked together (a county output with its 13 district outputs, so that
"county minus the other districts" is one of the equations).

Attacks
  (a) a visible count 1..threshold-1 in any count column;
  (b) linear relations within and across the tables of a bundle, each of the form
      ``lo <= sum(coef * cell) <= hi`` over visible and hidden cells, solved for every hidden
      count with integer, non-negative unknowns (scipy.optimize.milp); a hidden count is
      RECOVERED when its integer minimum equals its maximum. Relations tried:
        * margins: table B's key columns a subset of table A's (or none: a headline / summary /
          'Total' / 'All ...' row): sum of A's matching rows = B, per count column;
        * weighted margins: a harm column = sum(weight(category) x count) with the weights the
          output publishes (its weights table); a harm figure that is a multiple of a declared
          rounding base gives ``|sum(w x) - H| <= base / 2`` instead of an equation;
        * a row 'total' column = sum of the row's other count columns; a count column = sum of
          two or three other count columns of the same row;
        * ratios within a row: ``k * a = r * b`` for a visible rate/share r, counts a, b (or a
          population b), k in 1, 100, 1000; shares of the column total;
  (c) county against districts: a county table cell against the sum of the same cell in the
      district outputs.
  Which relations hold is decided per *family* (relation type x tables x column), never per
  cell: with ``truth`` (the same output for the internal audience) a family is kept when every
  instance holds once the hidden cells take their true values (as '=', or as '<=' / '>=' when
  only the inequality always holds); without truth, when every fully visible instance holds.
  Coincidences aside, that is what an attacker reading the method text knows. Recovered values
  are checked against the truth when it is given.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

THRESHOLD = 5
HIDDEN_MARKERS = {
    "",
    "[c]",
    "c",
    "suppressed",
    "–",
    "—",
    "-",
    "*",
    "..",
    "x",
    "[x]",
    "null",
    "none",
    "nan",
    "na",
    "n/a",
    "<na>",
    "[z]",
}
_BOOL = {"true", "false", "yes", "no"}
# numeric columns that identify a row rather than measure something
_ID_COLS = {
    "unit",
    "rank",
    "year",
    "imd_decile",
    "decile",
    "top_percent",
    "top_pct",
    "id",
    "cell",
    "cell_id",
    "month_of_year",
    "n_months",
    "months",
    "quintile",
    "x",
    "y",
    "baseline_months",
    "previous_months",
}
_DROP_COLS = {"lon", "lat", "longitude", "latitude", "geometry", "coordinates"}
_COUNT_RE = re.compile(
    r"^(n|count|counts|rows|records|searches|arrests|actions|nfa|finds|finds_in_action|non_finds|"
    r"outcome_missing|linked_missing|observed|offences|crimes|incidents|attendances|assaults|"
    r"victims|events|officer_same|count_previous|count_pre|count_post|offences_in_hot_cells|"
    r"searches_in_hot_cells|searches_compared|searches_without_location|searches_outside_area|"
    r"searches_outside_districts|searches_both_stated|offences_located|[a-z_]*_count|count_[a-z_]*)$"
)
_NOT_COUNT_RE = re.compile(
    r"(rate|share|ratio|_ci|ci_|low|high|per_|expected|mean|pct|percent|weight|population|harm|"
    r"score|upper|cusum|excess|value|gini|z$|^p_|p_value|kappa|index|lsoas|units|cells|lon|lat|"
    r"phi|difference|effect|estimate|se$|mde|agreement|gi_|adjusted|(^|_)p($|_)|_z$|^z_)"
)
_TOTAL_RE = re.compile(
    r"^(total|totals|all|overall|grand total|all .*|.* total|kent police)$", re.I
)
_AREA_KEYS = {"area", "area_code", "area_name", "lad_code", "lad_name", "district", "level"}


@dataclass
class Table:
    name: str  # "<output>::<table>"
    frame: pd.DataFrame
    keys: list[str]
    counts: list[str]  # count columns
    numeric: list[str]  # every numeric column (counts included)

    @property
    def kind(self) -> str:
        return self.name.split("::", 1)[1]


@dataclass
class Output:
    name: str
    tables: list[Table]
    area: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    weight_key: str = "category"
    weight_decimals: int = 7
    rounding_base: float | None = None
    threshold: int = THRESHOLD


# ----------------------------------------------------------------------------- parsing


def _num(v):
    """(is_hidden_marker, float or None) for a raw value."""
    if v is None:
        return True, None
    if isinstance(v, bool):
        return False, None
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return (f != f), (None if f != f else f)
    s = str(v).strip()
    if s.lower() in HIDDEN_MARKERS:
        return True, None
    s2 = s.replace(",", "").replace("£", "")
    if s2.endswith("%"):
        s2 = s2[:-1]
    try:
        return False, float(s2)
    except ValueError:
        return False, None


def _parse_column(c: str, vals: list) -> tuple[str | None, list]:
    """How one raw column enters a Table: ("numeric", floats with NaN = hidden), ("key",
    strings), or (None, []) for a yes/no flag (neither a count nor a key worth joining on)."""
    parsed = [_num(v) for v in vals]
    strs = [str(v).strip().lower() for v in vals if v is not None]
    is_bool = all(isinstance(v, bool) or str(v).strip().lower() in _BOOL or v is None for v in vals)
    if is_bool and any(s in _BOOL for s in strs):
        return None, []
    numeric_ok = all(h or f is not None for h, f in parsed) and any(
        f is not None for _, f in parsed
    )
    if numeric_ok and c not in _ID_COLS:
        return "numeric", [np.nan if f is None else f for _, f in parsed]
    if all(h for h, _ in parsed):
        # an all-hidden column: numeric if it looks like a count
        return "numeric", [np.nan] * len(vals)
    return "key", ["" if v is None else str(v).strip() for v in vals]


def _long_to_wide(frame: pd.DataFrame, keys: list[str], numeric: list[str]) -> list[dict] | None:
    """Records of a long-form (measure, value) table pivoted to one column per measure, so its
    measures can be related like any other columns; None when the table is not long form."""
    mk = [k for k in keys if k in ("measure", "series", "variable")]
    if not (mk and "value" in numeric and not frame.duplicated(keys).any()):
        return None
    other = [k for k in keys if k != mk[0]]
    if not other:
        return None
    wide = frame.pivot(index=other, columns=mk[0], values="value").reset_index()
    wide.columns = [str(c).strip().lower().replace(" ", "_") for c in wide.columns]
    wide.columns.name = None
    recs = wide.to_dict("records")
    for r in recs:
        for k, v in r.items():
            if isinstance(v, float) and v != v:
                r[k] = None
    return recs


def _is_count(c: str, col: pd.Series) -> bool:
    """A count column by its name, or by its values: a column with hidden cells whose visible
    values are all whole and non-negative is attacked as counts (e.g. a cross-tab whose
    columns are categories), unless its name says it is a derived figure."""
    if _COUNT_RE.match(c) and not (c != "count" and _NOT_COUNT_RE.search(c)):
        return True
    vis = col.dropna()
    return bool(
        not _NOT_COUNT_RE.search(c)
        and col.isna().any()
        and len(vis)
        and (vis >= 0).all()
        and (vis == vis.round()).all()
    )


def make_table(name: str, records: list[dict]) -> Table | None:
    """A Table from a list of flat records; None when it holds nothing numeric."""
    rows = [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in records]
    if not rows:
        return None
    raw = pd.DataFrame(rows)
    raw.columns = [str(c).strip().lower().replace(" ", "_") for c in raw.columns]
    raw = raw.loc[:, ~raw.columns.duplicated()]
    out, keys, numeric = {}, [], []
    for c in raw.columns:
        if c in _DROP_COLS:
            continue
        kind, values = _parse_column(c, raw[c].tolist())
        if kind is None:
            continue
        out[c] = values
        (numeric if kind == "numeric" else keys).append(c)
    if not numeric:
        return None
    frame = pd.DataFrame(out)
    wide = _long_to_wide(frame, keys, numeric)
    if wide is not None:
        return make_table(name, wide)
    counts = [c for c in numeric if _is_count(c, frame[c])]
    return Table(name, frame, keys, counts, numeric)


def tables_from_json(obj, output: str, path: str = "") -> list[Table]:
    """Every list of records in a JSON document is a table; each object's scalars are a
    one-row table (the headline figures); GeoJSON features give their properties."""
    found: list[Table] = []
    if isinstance(obj, dict):
        if obj.get("type") == "FeatureCollection":
            recs = [f.get("properties") or {} for f in obj.get("features", [])]
            t = make_table(f"{output}::{path or 'features'}", recs)
            return [t] if t else []
        scalars = {k: v for k, v in obj.items() if not isinstance(v, (dict, list))}
        if scalars:
            t = make_table(f"{output}::{path or 'root'}#scalars", [scalars])
            if t:
                t.keys = []
                found.append(t)
        for k, v in obj.items():
            if isinstance(v, (dict, list)):
                found += tables_from_json(v, output, f"{path}/{k}" if path else k)
    elif isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        t = make_table(f"{output}::{path}", obj)
        if t:
            found.append(t)
        for i, r in enumerate(obj):  # nested tables inside records (e.g. results[].table)
            for k, v in r.items():
                if isinstance(v, list) and v and isinstance(v[0], dict):
                    found += tables_from_json(v, output, f"{path}[{i}]/{k}")
    return found


def tables_from_csv(text: str, output: str, name: str) -> list[Table]:
    rows = list(csv.DictReader(io.StringIO(text)))
    t = make_table(f"{output}::{name}", rows)
    return [t] if t else []


class _HtmlTables(HTMLParser):
    """HTML tables that have no data-URI CSV beside them, plus the data-URI CSVs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.csvs: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.details_has_csv: list[bool] = []
        self._table = None
        self._row = None
        self._cell = None
        self._skip_table = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "details":
            self.details_has_csv.append(False)
        elif tag == "a" and (a.get("href") or "").startswith("data:text/csv"):
            href = a["href"]
            payload = href.split(",", 1)[1]
            name = a.get("download") or f"csv{len(self.csvs)}"
            self.csvs.append((name, urllib.parse.unquote(payload)))
            if self.details_has_csv:
                self.details_has_csv[-1] = True
        elif tag == "table":
            self._table = []
            self._skip_table = bool(self.details_has_csv and self.details_has_csv[-1])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "details" and self.details_has_csv:
            self.details_has_csv.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            if not self._skip_table:
                self.tables.append(self._table)
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _spec_tables(spec, output: str, name: str) -> list[Table]:
    found = []

    def walk(x, p):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "datasets" and isinstance(v, dict):
                    for dn, vals in v.items():
                        if isinstance(vals, list) and vals and isinstance(vals[0], dict):
                            recs = [
                                r.get("properties", r) if isinstance(r, dict) else {} for r in vals
                            ]
                            t = make_table(f"{output}::vega:{name}:{dn}", recs)
                            if t:
                                found.append(t)
                elif k == "values" and isinstance(v, list) and v and isinstance(v[0], dict):
                    recs = [r.get("properties", r) for r in v]
                    t = make_table(f"{output}::vega:{name}:{p}", recs)
                    if t:
                        found.append(t)
                else:
                    walk(v, f"{p}/{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{p}[{i}]")

    walk(spec, "")
    return found


def tables_from_html(text: str, output: str) -> list[Table]:
    p = _HtmlTables()
    p.feed(text)
    found: list[Table] = []
    for name, body in p.csvs:
        found += tables_from_csv(body, output, f"csv:{name}")
    for i, rows in enumerate(p.tables):
        if len(rows) < 2:
            continue
        head, body = rows[0], rows[1:]
        recs = [dict(zip(head, r, strict=False)) for r in body if len(r) == len(head)]
        t = make_table(f"{output}::html:{i}", recs)
        if t:
            found.append(t)
    for m in re.finditer(
        r"<script[^>]*type=\"application/(?:json|ld\+json)\"[^>]*>(.*?)</script>", text, re.S
    ):
        try:
            specs = json.loads(m.group(1))
        except json.JSONDecodeError:
            continue
        items = specs.items() if isinstance(specs, dict) else enumerate(specs)
        for k, spec in items:
            found += _spec_tables(spec, output, str(k))
    return _dedupe(found)


def _fingerprint(t: Table):
    f = t.frame[sorted(t.frame.columns)]
    return (tuple(sorted(t.frame.columns)), tuple(map(tuple, f.astype(str).to_numpy().tolist())))


def _dedupe(tables: list[Table]) -> list[Table]:
    seen, out = set(), []
    for t in tables:
        fp = _fingerprint(t)
        if fp in seen:
            continue
        seen.add(fp)
        out.append(t)
    return out


def decimals(values) -> int:
    """Decimal places the values are published to (7 = more than 6, treated as exact)."""
    v = np.asarray([x for x in values if x == x], float)
    for d in range(7):
        if np.all(np.abs(v * 10**d - np.round(v * 10**d)) < 1e-6):
            return d
    return 7


def _take_weights(out: Output, t: Table) -> None:
    """Adopt t's (category, weight) pairs as the output's weights when they are the most
    precise weights table the output publishes (the attacker uses the best it is given)."""
    lower = t.frame.columns.str.lower()
    wkeys = [k for k in ("category", "crime_type") if k in t.keys]
    if not ("weight" in lower and wkeys):
        return
    key = wkeys[0]
    w = t.frame[[key, "weight"]].dropna()
    d = decimals(w["weight"])
    if len(w) and w[key].is_unique and (not out.weights or d > out.weight_decimals):
        out.weights = {str(a): float(b) for a, b in zip(w[key], w["weight"], strict=True)}
        out.weight_key = key
        out.weight_decimals = d


def _take_rounding_base(out: Output, t: Table) -> None:
    """A declared rounding base turns a harm equation into a window of +- base / 2."""
    for c in t.frame.columns:
        if "rounding_base" in c:
            v = t.frame[c].dropna()
            if len(v):
                out.rounding_base = float(v.iloc[0])


def _split_totals(t: Table) -> list[Table]:
    """t with its 'Total' / 'All ...' rows split off as a coarser table, so that the margin
    relation (sum of the body rows = the total row) is found like any other margin."""
    kl = list(t.keys)
    if not kl:
        return [t]
    tot = np.zeros(len(t.frame), bool)
    for k in kl:
        tot |= t.frame[k].astype(str).str.strip().str.match(_TOTAL_RE).to_numpy()
    if tot.all() and len(t.frame) == 1:
        return [Table(t.name, t.frame.drop(columns=kl), [], t.counts, t.numeric)]
    if not (tot.any() and (~tot).any()):
        return [t]
    body = Table(t.name, t.frame[~tot].reset_index(drop=True), kl, t.counts, t.numeric)
    # key columns that still distinguish the total rows (e.g. a total per district)
    totk = [k for k in kl if not t.frame.loc[tot, k].astype(str).str.match(_TOTAL_RE).all()]
    tt = Table(
        t.name + "#total",
        t.frame[tot].drop(columns=[k for k in kl if k not in totk]).reset_index(drop=True),
        totk,
        t.counts,
        t.numeric,
    )
    return [body, tt]


def make_output(
    name: str, tables: list[Table], *, area: str | None = None, threshold: int = THRESHOLD
) -> Output:
    """Finish an output: split 'Total'/'All' rows off as key-less tables, find the published
    weights and rounding base, and give area-less tables the output's area as a key."""
    out = Output(name, [], area=area, threshold=threshold)
    for t in _dedupe(tables):
        _take_weights(out, t)
        _take_rounding_base(out, t)
        out.tables += _split_totals(t)
    if area is not None:
        # the area as a key lets county and district tables be matched cell by cell
        for t in out.tables:
            if not set(t.keys) & _AREA_KEYS:
                t.frame = t.frame.assign(__area=area)
                t.keys = [*t.keys, "__area"]
    return out


# ----------------------------------------------------------------------------- the attack


@dataclass
class Recovered:
    output: str
    table: str
    row: str
    column: str
    value: float
    how: str
    true_value: float | None = None
    relations: str = ""


@dataclass
class AttackResult:
    outputs: int = 0
    tables: int = 0
    hidden: int = 0  # hidden count cells attacked
    equations: int = 0  # relation instances used
    families: int = 0
    recovered: list[Recovered] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    wrong: list[Recovered] = field(default_factory=list)  # "recovered" but not the true value

    def merge(self, other: AttackResult) -> None:
        for f in ("outputs", "tables", "hidden", "equations", "families"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.recovered += other.recovered
        self.inconsistent += other.inconsistent
        self.wrong += other.wrong

    def summary(self) -> str:
        return (
            f"{self.outputs} outputs, {self.tables} tables, {self.hidden} hidden count cells "
            f"attacked, {self.equations} equations ({self.families} relation families), "
            f"{len(self.recovered)} cells recovered"
        )


Cell = tuple[int, int, str]  # (table index in bundle, row, column)


class _Bundle:
    def __init__(self, outputs: list[Output], truth: list[Output] | None):
        self.outputs = outputs
        self.tables: list[Table] = []
        self.owner: list[Output] = []
        for o in outputs:
            for t in o.tables:
                self.tables.append(t)
                self.owner.append(o)
        self.truth_tables: dict[str, Table] = {}
        if truth:
            for o in truth:
                for t in o.tables:
                    self.truth_tables.setdefault(t.name, t)
        self._truth_cache: dict[Cell, float | None] = {}
        self._truth_index: dict[tuple[str, tuple], dict] = {}

    def value(self, c: Cell) -> float:
        return self.tables[c[0]].frame.at[c[1], c[2]]

    def hidden(self, c: Cell) -> bool:
        return bool(pd.isna(self.value(c)))

    def true_value(self, c: Cell) -> float | None:
        if c in self._truth_cache:
            return self._truth_cache[c]
        t = self.tables[c[0]]
        tt = self.truth_tables.get(t.name)
        v = None
        if tt is not None and c[2] in tt.frame.columns:
            keys = tuple(k for k in t.keys if k in tt.frame.columns and k != "__area")
            ix = self._truth_index.get((t.name, keys))
            if ix is None:
                ix = {}
                for i, tup in _group_index(tt.frame, list(keys)).items():
                    ix[i] = tup[0] if len(tup) == 1 else None
                self._truth_index[(t.name, keys)] = ix
            key = tuple(str(t.frame.at[c[1], k]) for k in keys)
            r = ix.get(key)
            if r is not None:
                x = tt.frame.at[r, c[2]]
                v = None if pd.isna(x) else float(x)
        self._truth_cache[c] = v
        return v

    def label(self, c: Cell) -> tuple[str, str, str, str]:
        t = self.tables[c[0]]
        out, _, tab = t.name.partition("::")
        row = t.frame.loc[c[1]]
        rl = ", ".join(f"{k}={row[k]}" for k in t.keys if k != "__area") or "(headline)"
        return out, tab, rl, c[2]


@dataclass
class _Rel:
    family: tuple
    terms: list[tuple[Cell, float]]  # sum(coef * cell)
    const: float  # moved to the other side: sum(coef*cell) + const in [lo, hi] with lo=hi=0
    tol: float  # half-width of the window


def _group_index(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, list[int]]:
    if not keys:
        return {(): list(frame.index)}
    out: dict[tuple, list[int]] = {}
    for i, tup in zip(
        frame.index, frame[keys].astype(str).itertuples(index=False, name=None), strict=True
    ):
        out.setdefault(tup, []).append(i)
    return out


def _margin_rels(b: _Bundle, ia: int, ib: int, ga: dict, gb: dict, eps: float) -> list[_Rel]:
    """Table A finer than table B: the sum of A's rows under each of B's keys equals B's row,
    for every count column the two share."""
    A, B = b.tables[ia], b.tables[ib]
    oa, ob = b.owner[ia], b.owner[ib]
    rels = []
    for m in set(A.counts) & set(B.counts):
        # within one output the family is per table; across outputs, per kind of table
        fam = ("margin", A.name if oa is ob else A.kind, B.name if oa is ob else B.kind, m)
        for key, rows_b in gb.items():
            if len(rows_b) != 1 or key not in ga:
                continue
            terms = [((ia, r, m), 1.0) for r in ga[key]] + [((ib, rows_b[0], m), -1.0)]
            rels.append(_Rel(fam, terms, 0.0, eps))
    return rels


def _weighted_tolerance(
    ob: Output, A: Table, B: Table, rb: int, rows_a: list, cnt: str, H: float, eps: float
) -> float:
    """Half-width of the window around a published harm figure H = sum(w x count)."""
    # published weights and harm figures are rounded to some decimals:
    # sum(w x) is known to within half a unit of the last decimal of
    # each weight times the count (B's count if published)
    tol = eps * max(1.0, abs(H))
    dw = ob.weight_decimals if ob.weights else 7
    if dw < 7:
        nb = B.frame.at[rb, cnt] if cnt in B.frame.columns else np.nan
        n_upper = nb if nb == nb else A.frame.loc[rows_a, cnt].sum() + 1e4
        tol += 0.5 * 10.0**-dw * n_upper
    dh = decimals([H])
    if dh < 7:
        tol += 0.5 * 10.0**-dh
    base = ob.rounding_base
    if base and H % base == 0:
        tol = max(tol, base / 2 + eps)
    return tol


def _weighted_rel(
    b: _Bundle, ia: int, ib: int, rb: int, rows_a: list, h: str, cnt: str, fam: tuple, eps: float
) -> _Rel | None:
    """One harm instance: B's harm figure at row rb = sum(weight x count) over A's rows_a;
    None when a category has no published weight, every weight is 0, or the figure is hidden."""
    A, B = b.tables[ia], b.tables[ib]
    w, wk = b.owner[ia].weights, b.owner[ia].weight_key
    H = B.frame.at[rb, h]
    cats = A.frame.loc[rows_a, wk].astype(str)
    if not cats.isin(list(w)).all():
        return None
    terms = [((ia, r, cnt), w[c]) for r, c in zip(rows_a, cats, strict=True) if w[c] != 0]
    if not terms:
        return None
    if pd.isna(H):
        return None  # a hidden harm figure is derived, not a count
    tol = _weighted_tolerance(b.owner[ib], A, B, rb, rows_a, cnt, H, eps)
    return _Rel(fam, terms, -float(H), tol)


def _weighted_rels(b: _Bundle, ia: int, ib: int, ga: dict, gb: dict, eps: float) -> list[_Rel]:
    """harm = sum(weight x count) with the output's published weights: A (by category) against
    B's harm columns, or A against its own harm column row by row (ia == ib)."""
    A, B = b.tables[ia], b.tables[ib]
    oa, ob = b.owner[ia], b.owner[ib]
    same = ia == ib
    wk = oa.weight_key
    if not (oa.weights and oa is ob and wk in A.keys and (wk not in B.keys or same)):
        return []
    hcols = [c for c in B.numeric if c == "harm" or c.startswith("harm_") and c.endswith("_total")]
    cnt = "count" if "count" in A.counts else (A.counts[0] if len(A.counts) == 1 else None)
    if cnt is None:
        return []
    rels = []
    for h in hcols:
        fam = ("weighted", A.name, B.name, h)
        for key, rows_b in gb.items():
            if key not in ga:
                continue
            for rb in rows_b:
                if not same and len(rows_b) != 1:
                    continue
                rows_a = [rb] if same else ga[key]
                rel = _weighted_rel(b, ia, ib, rb, rows_a, h, cnt, fam, eps)
                if rel is not None:
                    rels.append(rel)
    return rels


def _margin_and_weighted_relations(b: _Bundle, eps: float) -> list[_Rel]:
    """Margins and weighted margins (A finer than B), within one output, or across outputs
    between tables of the same kind (the same cell published twice)."""
    rels: list[_Rel] = []
    T = b.tables
    for ia, A in enumerate(T):
        oa = b.owner[ia]
        ga_cache: dict[tuple, dict] = {}  # A grouped by each key set, built once per A
        for ib, B in enumerate(T):
            if oa is not b.owner[ib] and A.kind != B.kind:
                continue
            if not set(B.keys) <= set(A.keys):
                continue
            kb = tuple(B.keys)
            if kb not in ga_cache:
                ga_cache[kb] = _group_index(A.frame, list(kb))
            ga = ga_cache[kb]
            gb = _group_index(B.frame, list(kb))
            if ia != ib:
                rels += _margin_rels(b, ia, ib, ga, gb, eps)
            rels += _weighted_rels(b, ia, ib, ga, gb, eps)
    return rels


def _rowsum_rels(it: int, t: Table, eps: float) -> list[_Rel]:
    """A row 'total' column = the sum of the row's other counts; any count column = the sum
    of two or three others (tried as families; only those that hold are kept)."""
    rels = []
    cs = t.counts
    for tot in cs:
        others = [c for c in cs if c != tot]
        subsets = [others] if tot == "total" else []
        if len(others) <= 9:  # the combinations grow too fast beyond this
            for k in (2, 3):
                subsets += [list(s) for s in itertools.combinations(others, k)]
        for sub in subsets:
            fam = ("rowsum", t.name, tot, tuple(sub))
            for r in t.frame.index:
                terms = [((it, r, c), 1.0) for c in sub] + [((it, r, tot), -1.0)]
                rels.append(_Rel(fam, terms, 0.0, eps))
    return rels


def _ratio_instances(
    it: int, f: pd.DataFrame, fam: tuple, rcol: str, a: str, den: str, k: float
) -> list[_Rel]:
    """``k * a = rate * den`` in every row whose rate is visible (den a count column, the
    population, or the column total of a)."""
    rels = []
    for r in f.index:
        rv = f.at[r, rcol]
        if pd.isna(rv):
            continue
        if den == "__coltotal":
            terms = [((it, r, a), k)] + [((it, q, a), -float(rv)) for q in f.index]
        elif den == "population":
            pv = f.at[r, den]
            if pd.isna(pv):
                continue
            # a population is not attacked: its product with the rate is a constant
            rels.append(_Rel(fam, [((it, r, a), k)], -float(rv) * float(pv), 1e-6 * k))
            continue
        else:
            terms = [((it, r, a), k), ((it, r, den), -float(rv))]
        rels.append(_Rel(fam, terms, 0.0, 1e-6 * k))
    return rels


def _ratio_rels(it: int, t: Table) -> list[_Rel]:
    """Ratios within a row: a visible rate / share against every count and denominator, at
    the scales a rate is published in (per 1, per 100, per 1000)."""
    f = t.frame
    cs = t.counts
    ratio_cols = [
        c
        for c in t.numeric
        if c not in cs
        and re.search(r"rate|share|per_", c)
        and not re.search(r"_ci|low|high|harm", c)
    ]
    dens = [*cs, *(["population"] if "population" in t.numeric else [])]
    if len(f) <= 300:  # a share of the column total ties every row: only for small tables
        dens.append("__coltotal")
    rels = []
    for rcol in ratio_cols:
        for a in cs:
            for den in dens:
                if den == a:
                    continue
                for k in (1.0, 100.0, 1000.0) if den != "__coltotal" else (1.0, 100.0):
                    fam = ("ratio", t.name, rcol, a, den, k)
                    rels += _ratio_instances(it, f, fam, rcol, a, den, k)
    return rels


def _district_tables(b: _Bundle, county: str, C: Table) -> list[int]:
    """The district outputs' tables of the same kind and keys as the county's table C."""
    keys = [k for k in C.keys if k != "__area"]
    return [
        i
        for i, t in enumerate(b.tables)
        if b.owner[i].name != county
        and t.kind == C.kind
        and [k for k in t.keys if k != "__area"] == keys
        and "__area" in t.keys
    ]


def _county_relations(b: _Bundle, county: str | None, eps: float) -> list[_Rel]:
    """(c) each county cell against the sum of the same cell in the district outputs."""
    rels: list[_Rel] = []
    if county is None:
        return rels
    T = b.tables
    for ic in [i for i, o in enumerate(b.owner) if o.name == county]:
        C = T[ic]
        dists = _district_tables(b, county, C)
        if not dists or "__area" not in C.keys:
            continue
        keys = [k for k in C.keys if k != "__area"]
        gc = _group_index(C.frame, keys)
        gds = [(i, _group_index(T[i].frame, keys)) for i in dists]
        for m in C.counts:
            fam = ("county-districts", C.kind, m)
            for key, rows_c in gc.items():
                if len(rows_c) != 1:
                    continue
                terms = [((ic, rows_c[0], m), -1.0)]
                for i, g in gds:
                    if m in T[i].counts and key in g and len(g[key]) == 1:
                        terms.append(((i, g[key][0], m), 1.0))
                if len(terms) > 1:
                    rels.append(_Rel(fam, terms, 0.0, eps))
    return rels


def _relations(b: _Bundle, county: str | None) -> list[_Rel]:
    """Every candidate relation instance, (b) then (c); _accept decides which families hold.
    The order is kept stable: it is the row order of the integer programmes."""
    eps = 1e-6
    rels = _margin_and_weighted_relations(b, eps)
    # within a row: total column, sums of two or three count columns, ratios
    for it, t in enumerate(b.tables):
        rels += _rowsum_rels(it, t, eps)
        rels += _ratio_rels(it, t)
    rels += _county_relations(b, county, eps)
    return rels


def _instance_total(b: _Bundle, r: _Rel, use_truth: bool) -> float | None:
    """sum(coef * cell) + const with hidden cells at their true values (when use_truth);
    None when a cell's value is not known."""
    total = r.const
    for c, coef in r.terms:
        v = b.value(c)
        if pd.isna(v):
            if not use_truth:
                return None
            v = b.true_value(c)
            if v is None:
                return None
        total += coef * v
    return total


def _check_family(b: _Bundle, rs: list[_Rel], use_truth: bool) -> tuple[bool, bool, bool, int]:
    """(holds as '=', as '<=', as '>=', instances checked) over a family's instances."""
    ok_eq = ok_le = ok_ge = True
    checked = 0
    for r in rs:
        total = _instance_total(b, r, use_truth)
        if total is None:
            if use_truth:
                return False, False, False, checked  # cannot vouch for this family
            continue
        checked += 1
        # the published figures' own float error, relative to their size
        tol = r.tol + 1e-9 * sum(
            abs(coef) * (abs(b.value(c)) if not pd.isna(b.value(c)) else 1) for c, coef in r.terms
        )
        if abs(total) > tol:
            ok_eq = False
        if total > tol:
            ok_le = False
        if total < -tol:
            ok_ge = False
        if not (ok_eq or ok_le or ok_ge):
            break
    return ok_eq, ok_le, ok_ge, checked


def _family_sense(b: _Bundle, fam: tuple, rs: list[_Rel], use_truth: bool) -> str | None:
    """'=', '<=' or '>=' when the whole family holds that way; None to drop it."""
    ok_eq, ok_le, ok_ge, checked = _check_family(b, rs, use_truth)
    # a ratio or row-sum family needs several instances to be believed
    need = 3 if fam[0] in ("ratio", "rowsum") else 1
    if checked < need and (use_truth or fam[0] in ("ratio", "rowsum")):
        return None
    if fam[0] in ("ratio", "rowsum") and not ok_eq:
        return None
    return "=" if ok_eq else "<=" if ok_le else ">=" if ok_ge else None


def _accept(b: _Bundle, rels: list[_Rel], use_truth: bool) -> list[tuple[_Rel, str]]:
    """Keep whole families that hold: '=', '<=' or '>=' (value of sum(coef*cell)+const)."""
    by_fam: dict[tuple, list[_Rel]] = {}
    for r in rels:
        by_fam.setdefault(r.family, []).append(r)
    kept = []
    for fam, rs in by_fam.items():
        useful = [r for r in rs if any(b.hidden(c) for c, _ in r.terms)]
        if not useful:
            continue
        sense = _family_sense(b, fam, rs, use_truth)
        if sense is None:
            continue
        kept += [(r, sense) for r in useful]
    return kept


def _component_matrix(
    cells: list[Cell], rows: list[tuple[_Rel, str]], b: _Bundle
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, lo, hi) with lo <= A x <= hi over the component's hidden cells; visible cells are
    moved into the bounds."""
    idx = {c: i for i, c in enumerate(cells)}
    A = np.zeros((len(rows), len(cells)))
    lo = np.full(len(rows), -np.inf)
    hi = np.full(len(rows), np.inf)
    for k, (r, sense) in enumerate(rows):
        const = r.const
        for c, coef in r.terms:
            if c in idx:
                A[k, idx[c]] += coef
            else:
                const += coef * b.value(c)
        if sense in ("=", ">="):
            lo[k] = -const - r.tol
        if sense in ("=", "<="):
            hi[k] = -const + r.tol
    return A, lo, hi


def _random_probes(n: int, problem: dict, seen: list[set]) -> None:
    """A few random objectives first: every cell seen with two values is not pinned, which
    spares the two programmes per cell of _cell_range."""
    rng = np.random.default_rng(0)
    for _ in range(6 if n > 4 else 0):
        res = milp(rng.choice([-1.0, 1.0], n), **problem)
        if res.x is None:
            continue
        for j, v in enumerate(res.x):
            seen[j].add(round(v))
        if all(len(sv) > 1 for sv in seen):
            break


def _cell_range(i: int, n: int, problem: dict, seen: list[set]) -> tuple[float, float]:
    """(min, max) of cell i, from the values seen so far or its own min and max programmes;
    a range that is not proven is widened so that it never counts as a recovery."""
    if len(seen[i]) > 1:
        return (min(seen[i]), max(seen[i]))
    bounds_found = []
    for sign in (1.0, -1.0):
        obj = np.zeros(n)
        obj[i] = sign
        res = milp(obj, **problem)
        if res.x is not None:
            for j, v in enumerate(res.x):
                seen[j].add(round(v))
        if len(seen[i]) > 1:
            break
        # not proven optimal (time limit): do not claim a recovery
        bounds_found.append(round(sign * res.fun) if res.status == 0 else np.nan)
    if len(seen[i]) > 1 or len(bounds_found) < 2 or any(v != v for v in bounds_found):
        return (min(seen[i]), max(seen[i]) + (0 if len(seen[i]) > 1 else 1))
    return (bounds_found[0], bounds_found[1])


def _solve_component(
    cells: list[Cell], rows: list[tuple[_Rel, str]], b: _Bundle, time_limit: float
) -> dict[Cell, tuple[float, float]] | None:
    n = len(cells)
    A, lo, hi = _component_matrix(cells, rows, b)
    big = 1e7
    problem = {
        "constraints": [LinearConstraint(A, lo, hi)],
        "integrality": np.ones(n),
        "bounds": Bounds(np.zeros(n), np.full(n, big)),
        "options": {"time_limit": time_limit, "presolve": True},
    }
    first = milp(np.zeros(n), **problem)
    if first.status != 0 or first.x is None:
        return None
    seen = [{round(v)} for v in first.x]
    _random_probes(n, problem, seen)
    return {c: _cell_range(i, n, problem, seen) for i, c in enumerate(cells)}


def _visible_small(b: _Bundle) -> list[Recovered]:
    """(a) published counts 1..threshold-1: given away without any equation."""
    found = []
    for it, t in enumerate(b.tables):
        th = b.owner[it].threshold
        for c in t.counts:
            col = t.frame[c]
            for r in t.frame.index[(col >= 1) & (col < th)]:
                out, tab, rl, cc = b.label((it, r, c))
                found.append(Recovered(out, tab, rl, cc, float(col[r]), "visible 1..4"))
    return found


def _components(
    hidden_cells: list[Cell], hidden_set: set[Cell], kept: list[tuple[_Rel, str]]
) -> list[tuple[list[Cell], list | None]]:
    """(cells, relations) of each connected component over hidden cells (union-find), so each
    integer programme is only as large as the cells its relations tie together."""
    parent = {c: c for c in hidden_cells}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r, _ in kept:
        hs = [c for c, _ in r.terms if c in hidden_set]
        for c in hs[1:]:
            parent[find(c)] = find(hs[0])
    comps: dict[Cell, list[Cell]] = {}
    for c in hidden_cells:
        comps.setdefault(find(c), []).append(c)
    comp_rows: dict[Cell, list] = {}
    for r, s in kept:
        hs = [c for c, _ in r.terms if c in hidden_set]
        if hs:
            comp_rows.setdefault(find(hs[0]), []).append((r, s))
    return [(cells, comp_rows.get(root)) for root, cells in comps.items()]


def _families_text(rows: list[tuple[_Rel, str]]) -> str:
    """The first few relation families of a component, to say how a cell was recovered."""
    fams = sorted(
        {f"{r.family[0]}:{'/'.join(str(x).split('::')[-1] for x in r.family[1:])}" for r, _ in rows}
    )
    return "; ".join(fams[:4])


def _record_pinned(
    b: _Bundle,
    ranges: dict[Cell, tuple[float, float]],
    rows: list[tuple[_Rel, str]],
    truth: list[Output] | None,
    res: AttackResult,
) -> None:
    """Every cell whose integer minimum equals its maximum is recovered (and wrong when the
    truth says otherwise: a relation family that does not hold)."""
    for c, (lo, hi) in ranges.items():
        if lo == lo and hi == hi and lo == hi:
            out, tab, rl, cc = b.label(c)
            tv = b.true_value(c) if truth else None
            rec = Recovered(out, tab, rl, cc, float(lo), "equations", tv, _families_text(rows))
            res.recovered.append(rec)
            if tv is not None and abs(tv - lo) > 0.5:
                res.wrong.append(rec)


def attack(
    outputs: list[Output],
    *,
    truth: list[Output] | None = None,
    county: str | None = None,
    time_limit: float = 10.0,
) -> AttackResult:
    """Attack a bundle of outputs; see the module docstring."""
    b = _Bundle(outputs, truth)
    res = AttackResult(outputs=len(outputs), tables=len(b.tables))
    res.recovered += _visible_small(b)
    hidden_cells = [
        (it, r, c)
        for it, t in enumerate(b.tables)
        for c in t.counts
        for r in t.frame.index[t.frame[c].isna()]
    ]
    hidden_set = set(hidden_cells)
    res.hidden = len(hidden_cells)
    if not hidden_cells:
        return res
    rels = _relations(b, county)
    kept = _accept(b, rels, truth is not None)
    # hidden non-count cells in a relation (a hidden harm) make it useless: drop
    kept = [
        (r, s) for r, s in kept if all((c in hidden_set) or not b.hidden(c) for c, _ in r.terms)
    ]
    res.equations = len(kept)
    res.families = len({r.family for r, _ in kept})
    for cells, rows in _components(hidden_cells, hidden_set, kept):
        if not rows:
            continue
        ranges = _solve_component(cells, rows, b, time_limit)
        if ranges is None:
            res.inconsistent.append(f"{len(cells)} cells from {b.label(cells[0])[:2]}: no solution")
            continue
        _record_pinned(b, ranges, rows, truth, res)
    return res


def report_lines(res: AttackResult, limit: int = 200) -> list[str]:
    lines = [res.summary()]
    for r in res.recovered[:limit]:
        tv = "" if r.true_value is None else f" (true {r.true_value:g})"
        via = f"  via {r.relations}" if r.relations else ""
        lines.append(
            f"  RECOVERED [{r.how}] {r.output} | {r.table} | {r.row} | {r.column} = {r.value:g}{tv}{via}"
        )
    if len(res.recovered) > limit:
        lines.append(f"  ... and {len(res.recovered) - limit} more")
    for s in res.inconsistent:
        lines.append(f"  INCONSISTENT {s}")
    for r in res.wrong:
        lines.append(
            f"  WRONG (relation family not sound) {r.output} | {r.table} | {r.row} | {r.column}"
        )
    return lines


def naive_primary(
    output: Output,
    threshold: int = THRESHOLD,
    only: set[str] | None = None,
    line_rule: bool = False,
) -> Output:
    """The same output with only primary suppression: every count 1..threshold-1 hidden,
    totals and harm figures left as they are (the unprotected baseline). With ``line_rule``, a
    column with a single hidden count also loses its smallest other non-zero count (the
    count-only secondary suppression the issue's finding 2 was made against)."""
    tables = []
    for t in output.tables:
        f = t.frame.copy()
        if only is None or t.kind in only:
            small = np.zeros(len(f), bool)
            for c in t.counts:
                m = ((f[c] >= 1) & (f[c] < threshold)).to_numpy().copy()
                if line_rule and m.sum() == 1:
                    rest = f[c].where(~m & (f[c] > 0))
                    if rest.notna().any():
                        m[f.index.get_loc(rest.idxmin())] = True
                f.loc[m, c] = np.nan
                small |= m
            # figures derived from a hidden count (its rate, share, harm) go with it
            derived = [c for c in t.numeric if c not in t.counts and c != "population"]
            if derived and small.any() and len(f) > 1:
                f.loc[small, derived] = np.nan
        tables.append(Table(t.name, f, list(t.keys), list(t.counts), list(t.numeric)))
    o = Output(
        output.name,
        tables,
        output.area,
        dict(output.weights),
        output.weight_key,
        output.weight_decimals,
        output.rounding_base,
        output.threshold,
    )
    return o


_ = math  # (kept for callers doing their own arithmetic)
