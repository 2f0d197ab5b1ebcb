"""Issue 18, the report part: the faster concentration bootstrap gives the old figures bit for
bit, the report reads what its sections share once, and the comparison of forces works on any
store (a relabelled store's "Force 01" is named, never silently dropped).

Speed itself is measured in ``benchmarks/bench_report.py`` (``make bench``), never asserted here.
"""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import COMPARISON_STREET, KENT_STREET, ROOT
from harmscope.analysis.harm import comparison_forces, concentration
from harmscope.analysis.result import _jsonable
from harmscope.cli import main
from harmscope.report import render
from harmscope.report.reads import ReportReads
from harmscope.report.render import build_report, make_context, render_html
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

# the module, not the function of the same name that harmscope.analysis.harm exports
conc = importlib.import_module("harmscope.analysis.harm.concentration")


# --- the bootstrap: sorted once per replicate, drawn in blocks, the same figures -------------


def _reference_bootstrap(counts, weights_per_unit, reps, seed):
    """The implementation the fast one replaced (kept verbatim as the reference): one Poisson
    draw per replicate, then ``gini`` and three ``top_share`` calls, each sorting again."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(reps):
        sim = rng.poisson(counts)
        vals = sim * weights_per_unit
        out.append([conc.gini(vals)] + [conc.top_share(vals, p) for p in conc.TOP_PCTS])
    return np.array(out)


@pytest.fixture(scope="module")
def kent_locations(kent_store):
    """Kent's street locations over 2025-01..06: counts and mean harm weight per location."""
    res = concentration(
        kent_store,
        area="Kent Police",
        date_from="2025-01",
        date_to="2025-06",
        unit="location",
        reps=0,
    )
    counts = res.table["count"].to_numpy(float)
    harm = res.table["harm"].to_numpy(float)
    return counts, np.where(counts > 0, harm / np.maximum(counts, 1), 0.0)


@pytest.mark.parametrize("seed", [20240101, 7])
def test_bootstrap_equals_the_reference_bit_for_bit(kent_locations, monkeypatch, seed):
    counts, per_unit_w = kent_locations
    assert len(counts) > 5000  # real street locations, not a toy
    # blocks of 7 replicates: the generator's stream must run on across blocks unchanged
    monkeypatch.setattr(conc, "_BOOT_CHUNK", 7 * len(counts))
    for weights in (per_unit_w, np.ones_like(counts)):
        fast = conc._bootstrap(counts, weights, 40, seed)
        ref = _reference_bootstrap(counts, weights, 40, seed)
        assert fast.shape == ref.shape == (40, 1 + len(conc.TOP_PCTS))
        assert np.array_equal(fast, ref)  # identical floats, not merely close


def test_bootstrap_edge_cases_match_the_reference():
    # all-zero counts (NaN figures), one unit, zeros among the units
    for counts in ([0.0, 0.0, 0.0], [3.0], [0.0, 2.0, 0.5, 40.0, 0.0, 1.0]):
        c = np.asarray(counts)
        w = np.linspace(1.0, 2.0, len(c))
        fast = conc._bootstrap(c, w, 25, 11)
        ref = _reference_bootstrap(c, w, 25, 11)
        assert np.array_equal(fast, ref, equal_nan=True)
    # a negative value (with a positive total) is refused by both, as gini refuses it
    for fn in (conc._bootstrap, _reference_bootstrap):
        with pytest.raises(ValueError, match="non-negative"):
            fn(np.array([50.0, 1.0]), np.array([1.0, -0.5]), 3, 1)


# --- what the sections share is read once, and written once --------------------------------


def test_maps_share_one_read_and_one_copy_in_the_page(kent_store):
    ctx = make_context(kent_store, "Kent Police", "2025-01", "2025-03")
    maps_and_groups = ["profile_map", "hotspots", "profile_rural_urban", "profile_deprivation"]
    report = build_report(ctx, only=maps_and_groups)
    # the LSOA comparisons ask the store the same questions: each is read once
    assert isinstance(ctx.store, ReportReads) and ctx.store.hits > 0
    built = {b.name: b.section for b in report.sections}
    assert all(built.values()), [(b.name, b.error, b.unavailable) for b in report.sections]
    # one street-points read for both maps, the very same table
    assert built["profile_map"].tables["street_points"] is built["hotspots"].tables["street_points"]
    assert "street_points" in ctx.cache
    assert [k for k in ctx.cache if k.startswith("lsoa_features:")]  # read once, cached
    html = render_html(report)
    start = html.index('<script id="harmscope-map-refs" type="application/json">')
    text = html[html.index(">", start) + 1 : html.index("</script>", start)]
    refs = json.loads(text.replace("<\\/", "</"))
    streets = [v for v in refs.values() if isinstance(v, dict) and "points" in v]
    assert len(streets) == 1  # both maps point at one copy
    table = built["hotspots"].tables["street_points"]
    assert len(streets[0]["points"]) == len(table)
    # every layer in the page is what the old path (via _jsonable) would have written
    for ref, value in refs.items():
        assert json.dumps(value, separators=(",", ":")) == json.dumps(
            _jsonable(value), separators=(",", ":"), default=str
        ), ref


def test_report_reads_serve_repeats_and_forget_them_after_a_write():
    with Store.open(":memory:") as store:
        store.execute("CREATE TABLE t (x INTEGER)")
        store.execute("INSERT INTO t VALUES (1), (2)")
        reads = ReportReads(store)
        sql = "SELECT sum(x) AS s, count(*) AS n FROM t WHERE x > ?"
        first = reads.query(sql, [0])
        first.loc[0, "s"] = -99  # the caller's copy: what is remembered stays as read
        again = reads.query(sql, [0])
        assert reads.hits == 1 and int(again.s[0]) == 3
        assert int(reads.query(sql, [1]).s[0]) == 2 and reads.hits == 1  # other params: read
        reads.execute("INSERT INTO t VALUES (10)")  # a write: nothing read before is served
        assert int(reads.query(sql, [0]).s[0]) == 13 and reads.hits == 1
        reads.con.execute("INSERT INTO t VALUES (100)")  # the raw connection may write too
        assert int(reads.query(sql, [0]).s[0]) == 113
        assert reads.read_only is store.read_only  # anything else is the store's own


def test_layer_json_falls_back_for_numpy_and_nan():
    data = {"a": [np.int64(3), np.float32(0.5), float("nan")], "b": np.float64(0.1)}
    assert render._layer_json(data) == json.dumps(_jsonable(data), separators=(",", ":"))
    plain = [{"type": "Feature", "geometry": {"coordinates": [[0.12345, 51.1]]}}]
    assert render._layer_json(plain) == json.dumps(plain, separators=(",", ":"))


# --- the comparison of forces on any store ---------------------------------------------------


def _force_populations() -> pd.Series:
    """Each force's 2019 population, summed from the packaged district table directly."""
    lad = pd.read_csv(ROOT / "src/harmscope/reference/data/geography/lad.csv")
    return lad.dropna(subset=["force"]).groupby("force")["population_2019"].sum()


def test_comparison_forces_chooses_the_closest_held_forces():
    pop = _force_populations()
    held = [*pop.index, "Force 01", "Force 02"]  # a national store, two names relabelled
    chosen, left_out = comparison_forces("Kent Police", held)
    others = pop.drop("Kent Police")
    distance = (np.log(others / pop["Kent Police"])).abs().sort_values()
    assert chosen == sorted(distance.index[:5])
    assert len(left_out) == len(others) - 5 + 2
    assert "not a police force" in left_out["Force 01"]
    assert "population" in left_out[distance.index[5]]
    # a store with Kent, Essex and Sussex compares all three, as the report always did
    assert comparison_forces("Kent Police", ["Essex Police", "Kent Police", "Sussex Police"]) == (
        ["Essex Police", "Sussex Police"],
        {},
    )


def test_compare_forces_has_no_default_forces(kent_store):
    from harmscope.analysis.harm import compare_forces

    with pytest.raises(TypeError):
        compare_forces(kent_store)  # no silent Kent/Essex/Sussex


def _relabelled(src: Path, dest: Path, name: str) -> Path:
    """A copy of a police.uk street file whose force columns read ``name``."""
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        text = fh.read()
    force = text.splitlines()[1].split(",")[3]
    out = dest / src.name.replace(src.name.split("-")[2], name.lower().replace(" ", "-"))
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        fh.write(text.replace(f",{force},{force},", f",{name},{name},"))
    return out


@pytest.fixture(scope="module")
def relabelled_db(tmp_path_factory):
    """Kent 2025-01, Essex 2025-01 as itself and Sussex 2025-01 relabelled "Force 01"."""
    folder = tmp_path_factory.mktemp("relabelled")
    kent = [p for p in KENT_STREET if p.name.startswith("2025-01")]
    essex = [p for p in COMPARISON_STREET if p.name.startswith("2025-01-essex")]
    sussex = [p for p in COMPARISON_STREET if p.name.startswith("2025-01-sussex")]
    assert len(kent) == len(essex) == len(sussex) == 1
    db = folder / "relabelled.duckdb"
    with Store.open(db) as store:
        assert ingest_paths(store, [*kent, *essex, _relabelled(sussex[0], folder, "Force 01")]).ok
    return db


def _report_json(db, tmp_path, capsys, *extra):
    out = tmp_path / "r.html"
    args = ["report", "--db", str(db), "--area", "Kent Police", "--from", "2025-01"]
    code = main([*args, "--to", "2025-01", "--out", str(out), "--json", "-q", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), out.read_text(encoding="utf-8")


def test_relabelled_store_names_what_it_does_not_compare(relabelled_db, tmp_path, capsys):
    summary, html = _report_json(
        relabelled_db, tmp_path, capsys, "--sections", "profile_forces,stopsearch"
    )
    assert summary["sections"] == ["profile_forces"]
    assert "Force 01" in html and "not a police force" in html
    assert "Held in the store but not compared: Force 01" in html
    # a section with no data here is listed with its reason, not only its name
    assert summary["skipped"] == {"stopsearch": render.SKIPPED_REASON}


def test_store_of_unknown_forces_says_why_there_is_no_comparison(tmp_path, capsys):
    db = tmp_path / "only_relabelled.duckdb"
    sussex = [p for p in COMPARISON_STREET if p.name.startswith("2025-01-sussex")]
    kent = [p for p in KENT_STREET if p.name.startswith("2025-01")]
    with Store.open(db) as store:
        assert ingest_paths(store, [*kent, _relabelled(sussex[0], tmp_path, "Force 01")]).ok
    summary, html = _report_json(db, tmp_path, capsys, "--sections", "profile_forces")
    reason = summary["not_applicable"]["profile_forces"]
    assert "Force 01" in reason and "not police forces" in reason
    assert "Does not apply here" in html and "Force 01" in html
    assert summary["sections"] == [] and summary["errors"] == {}


# --- the same figures without the formula layer, and charts built only when read -----------

compare_mod = importlib.import_module("harmscope.analysis.harm.compare")


@pytest.mark.parametrize(
    "column, reference",
    [("urban_rural", "urban"), ("imd_decile", None), ("imd_decile", "highest")],
)
def test_direct_glm_equals_the_formula_fit_bit_for_bit(kent_store, column, reference):
    _, df, _, _ = compare_mod._lsoa_groups(
        kent_store, column, "Kent Police", "2025-01", "2025-06", "css", None, None
    )
    assert len(df) > 500  # Kent's LSOAs, not a toy
    if column == "imd_decile":
        df[column] = df[column].astype(int)
    if reference == "highest":
        reference = int(df[column].max())
    rhs = column if reference is None else f"C({column}, Treatment({reference!r}))"
    for measure in ("harm", "count"):
        formula = compare_mod.quasi_poisson(df, measure, rhs)
        direct = compare_mod._qp_fit(df, measure, column, reference=reference)
        assert list(direct.params.index) == list(formula.params.index)
        for attr in ("params", "bse", "pvalues"):
            assert np.array_equal(getattr(direct, attr), getattr(formula, attr)), attr
        assert direct.scale == formula.scale


def test_charts_are_built_when_read_and_equal_the_eager_ones(kent_store):
    from harmscope.analysis.harm import rural_urban
    from harmscope.analysis.result import LazyCharts, Result

    res = rural_urban(kent_store, area="Kent Police", date_from="2025-01", date_to="2025-03")
    raw = dict.items(res.charts)  # what is held, without building
    assert isinstance(res.charts, LazyCharts) and all(callable(v) for _, v in raw)
    eager = compare_mod._err_chart(res.table, "urban_rural", "Harm per 1,000 residents")
    res.table.loc[:, "harm"] = -1.0  # a reader changing the table later changes no chart
    assert json.dumps(res.charts["rural_urban"]) == json.dumps(eager)
    assert json.dumps(res.to_dict()["charts"]["rural_urban"]) == json.dumps(_jsonable(eager))
    # a concentration's two charts, and plain dicts given eagerly, pass through unchanged
    conc_res = concentration(
        kent_store, area="Kent Police", date_from="2025-01", date_to="2025-03", reps=0
    )
    ref = conc._charts(conc_res.tables["lorenz"], conc_res.tables["top_shares"], "lsoa", "Kent")
    assert set(conc_res.charts) == {"lorenz", "top_shares"}
    assert json.dumps(conc_res.charts["top_shares"]) == json.dumps(ref["top_shares"])
    plain = Result(table=pd.DataFrame(), charts={"a": {"mark": "bar"}})
    assert plain.charts == {"a": {"mark": "bar"}} and dict(plain.charts) == {"a": {"mark": "bar"}}


# --- cell names in one grouped sort ---------------------------------------------------------


def _reference_cell_names(cells, cell_size, points, streets=2):
    """The per-cell loop ``places.cell_places`` replaced (verbatim): place, LSOA and district
    of each cell with events."""
    from harmscope.analysis import grid as gridmod
    from harmscope.analysis.places import GENERIC_PLACES, NO_LOCATION, _join_names

    def top(g, col):
        s = g.dropna(subset=[col]).groupby(col)["n"].sum()
        return None if s.empty else s.sort_values(ascending=False, kind="stable").index[0]

    cx, cy = cells["x"].to_numpy(float), cells["y"].to_numpy(float)
    ox, oy = cx.min() - cell_size / 2, cy.min() - cell_size / 2
    key = {
        (int(round((x - ox) / cell_size - 0.5)), int(round((y - oy) / cell_size - 0.5))): u
        for x, y, u in zip(cx, cy, cells["unit"], strict=True)
    }
    pts = points.dropna(subset=["lon", "lat"]).reset_index(drop=True).copy()
    px, py = gridmod.to_bng(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    ix = np.floor((px - ox) / cell_size).astype(int)
    iy = np.floor((py - oy) / cell_size).astype(int)
    pts["unit"] = [key.get((i, j)) for i, j in zip(ix, iy, strict=True)]
    pts = pts.dropna(subset=["unit"])
    place, lsoa, lad = {}, {}, {}
    for unit, g in pts.groupby("unit", sort=False):
        by_name = g.groupby("location")["n"].sum().sort_values(ascending=False, kind="stable")
        named = [n for n in by_name.index if n not in GENERIC_PLACES and n != NO_LOCATION]
        place[unit] = _join_names(named[:streets] or list(by_name.index[:1]))
        lsoa[unit] = top(g, "lsoa_name")
        lad[unit] = top(g, "lad_name")
    return place, lsoa, lad


def test_cell_places_names_every_cell_as_the_per_cell_loop_did(kent_store):
    from harmscope.analysis.hotspots import hotspots
    from harmscope.analysis.places import cell_places, point_scope
    from harmscope.store.queries.points import point_names

    kw = {"crime_types": ["Burglary"], "date_from": "2025-01", "date_to": "2025-06"}
    res = hotspots(kent_store, area="Kent Police", cell_size=500, **kw)
    cells = res.table[["unit", "x", "y"]]
    points = point_names(kent_store, *point_scope("Kent Police", **kw))
    size = res.summary["cell_size_m"]
    got = cell_places(cells, size, points).set_index("unit")
    place, lsoa, lad = _reference_cell_names(cells, size, points)
    assert len(place) > 200  # real cells with events, not a toy
    for unit in place:
        assert got.at[unit, "place"] == place[unit]
        assert got.at[unit, "lsoa_name"] == lsoa[unit]
        assert got.at[unit, "lad_name"] == lad[unit]
    # cells with no event of their own are still named by the nearest point, and said so
    rest = got.drop(index=list(place))
    assert len(rest) and rest["place"].str.endswith("(nearest; no crime in the cell)").all()


# --- the charts as plain dicts, the very specs Altair writes --------------------------------

_CHART_SECTIONS = [
    "coverage",
    "profile_trend",
    "profile_categories",
    "profile_concentration",
    "profile_deprivation",
    "profile_districts",
    "profile_rural_urban",
]


@pytest.fixture(scope="module")
def report_charts(kent_store):
    """Every chart the chart-drawing sections ask for on Kent 2025-01..06: (table, layers,
    properties) as handed to ``vegalite.chart``."""
    from harmscope.report import vegalite as vl

    calls = []
    orig = vl.chart

    def spy(df, layers, **props):
        calls.append((df.copy(), layers, props))
        return orig(df, layers, **props)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vl, "chart", spy)
        ctx = make_context(kent_store, "Kent Police", "2025-01", "2025-06")
        report = build_report(ctx, only=_CHART_SECTIONS)
    assert not report.errors, [(b.name, b.error) for b in report.errors]
    return calls


def test_chart_dicts_are_what_altair_writes(report_charts):
    import altair as alt

    from harmscope.report import vegalite as vl

    assert vl.SCHEMA_URL == alt.SCHEMA_URL
    # rates (5: deciles, districts, rural/urban, RUC class; no forces in this store), months,
    # outcomes, trend, seasonal shape, categories, Lorenz, top shares
    assert len(report_charts) >= 11
    for df, layers, props in report_charts:
        fast = vl._plain(df, layers, props)  # the report's own tables take the plain path
        assert json.dumps(fast) == json.dumps(vl.altair_chart(df, layers, **props)), props


def test_chart_dicts_sanitise_as_altair_and_leave_the_rest_to_it(report_charts):
    from harmscope.report import vegalite as vl

    df, layers, props = next(c for c in report_charts if "IMD 2019 decile" in c[2]["title"])
    odd = df.copy()
    odd.loc[odd.index[0], "harm_rate_ci_low"] = np.nan
    odd.loc[odd.index[1], "harm_rate_ci_high"] = np.inf
    odd["label"] = ["a", None, float("nan")] + ["b"] * (len(odd) - 3)
    odd["flag"] = odd["count"] > odd["count"].median()
    tips = [("point", {}, {"x": "harm_rate_per_1000:Q", "tooltip": ["label", "flag", "count"]})]
    for lay in (layers, tips):
        fast = vl._plain(odd, lay, props)
        assert json.dumps(fast) == json.dumps(vl.altair_chart(odd, lay, **props))
    # a category column (Altair may infer an order), a dotted field name: built by Altair
    cat = odd.assign(grp=odd["label"].astype("category"))
    for df_, lay in ((cat, [("bar", {}, {"y": "grp"})]), (odd, [("bar", {}, {"y": "a.b:N"})])):
        with pytest.raises(vl._Fallback):
            vl._plain(df_, lay, {})
    assert vl.chart(cat, [("bar", {}, {"y": "grp"})]) == vl.altair_chart(
        cat, [("bar", {}, {"y": "grp"})]
    )
