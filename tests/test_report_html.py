"""The problem-profile report, built in process on the real Kent store: every section present,
every chart with its table and CSV, nothing fetched from outside the file, and the public
audience with no count between 1 and threshold-1 and no hidden cell recoverable from totals."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmscope.cli import main as cli_main
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import CHECKED_ATTR
from harmscope.report.render import SUPPRESSED, chart_frame, discover_sections, write_report
from report_helpers import BROWSER_ARGS, CHARTS_SETTLED, HtmlTables

PROFILE_KEYS = [
    "coverage",
    "headline",
    "trend",
    "harm-vs-count",
    "map",
    "concentration",
    "rural-urban",
    "deprivation",
    "districts",
    "methods",
]


def _parse(path: Path) -> HtmlTables:
    p = HtmlTables()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def internal_report(kent_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "kent.html"
    path, rep = write_report(kent_store, "Kent Police", "2025-01", "2025-04", out)
    return path, rep


@pytest.fixture(scope="module")
def public_report(kent_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("report_public") / "maidstone.html"
    path, rep = write_report(kent_store, "Maidstone", "2025-02", "2025-03", out, audience="public")
    return path, rep


def test_sections_are_discovered_in_order():
    found = discover_sections()
    names = [n for _, n, _ in found]
    assert names[0] == "coverage" and names[-1] == "methods"
    assert [o for o, _, _ in found] == sorted(o for o, _, _ in found)


def test_internal_report_has_every_section_chart_and_table(internal_report):
    path, rep = internal_report
    assert not rep.errors, {b.name: b.error_trace for b in rep.errors}
    parsed = _parse(path)
    for key in PROFILE_KEYS:
        assert key in parsed.ids, f"section {key} missing"
    html = path.read_text(encoding="utf-8")
    n_charts = len(re.findall(r'<div class="chart" id="', html))
    assert n_charts >= 12
    # every chart is followed by its table and a CSV download (a data: URI, not a file)
    assert html.count("Table for this chart") == n_charts
    csv_links = [x for x in parsed.links if x.startswith("data:text/csv")]
    assert len(csv_links) >= n_charts
    # the CSV decodes to the same rows as the table beside it
    first = urllib.parse.unquote(csv_links[0].split(",", 1)[1])
    assert first.splitlines()[0].startswith("month,rows")
    # the year-on-year change is given with its interval (Jan-Apr 2025 against Jan-Apr 2024)
    assert re.search(r"harm was [+-]\d+\.\d% against the same months a year before \(95% CI", html)


def test_report_is_self_contained(internal_report):
    path, _ = internal_report
    parsed = _parse(path)
    html = path.read_text(encoding="utf-8")
    external = [x for x in parsed.links if re.match(r"^(https?:)?//", x)]
    assert external == [], external
    assert "<script src" not in html and "<link" not in html
    assert "vegaEmbed" in html and len(html) > 800_000  # the vendored JS is inlined


def test_headline_figures_match_the_store(internal_report, kent_store):
    _, rep = internal_report
    head = next(b.section for b in rep.sections if b.name == "profile_headline").tables["headline"]
    n = kent_store.query(
        "SELECT count(*) AS n FROM street_crimes WHERE falls_within = 'Kent Police' "
        "AND NOT coalesce(out_of_area, false) AND month BETWEEN DATE '2025-01-01' AND DATE '2025-04-01'"
    ).n[0]
    assert int(head["count"].iloc[0]) == int(n)
    row = head.iloc[0]
    assert row["harm_ci_low"] < row["harm"] < row["harm_ci_high"]


def _small(values, threshold) -> np.ndarray:
    v = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    return ((v >= 1) & (v < threshold)).to_numpy(dtype=bool)


def test_public_report_has_no_small_counts(public_report):
    path, rep = public_report
    assert not rep.errors, {b.name: b.error_trace for b in rep.errors}
    threshold = rep.ctx.threshold
    suppressed_somewhere = 0
    for built in rep.sections:
        sec = built.section
        if sec is None or built.withheld:
            continue
        for name, table in sec.tables.items():
            info = table.attrs[CHECKED_ATTR]
            for col in info["count_cols"]:
                assert not _small(table[col], threshold).any(), f"{built.name}.{name}.{col}"
                suppressed_somewhere += int(table[col].isna().sum())
        # the charts carry the same protected values, never the raw ones
        count_fields = {c for t in sec.tables.values() for c in t.attrs[CHECKED_ATTR]["count_cols"]}
        for cid, spec in sec.charts.items():
            frame = chart_frame(spec)
            for col in count_fields & set(frame.columns if frame is not None else []):
                assert not _small(frame[col], threshold).any(), f"chart {built.name}.{cid}.{col}"
    assert suppressed_somewhere > 0, "a two-month district report should need some suppression"

    # ...and in the HTML as written: every count column of every table
    parsed = _parse(path)
    html = path.read_text(encoding="utf-8")
    assert SUPPRESSED in html
    for head, rows in parsed.tables:
        for j, col in enumerate(head):
            if col in ("count", "rows", "count previous"):
                vals = [r[j].replace(",", "") for r in rows if j < len(r)]
                nums = pd.to_numeric(pd.Series(vals), errors="coerce")
                assert not ((nums >= 1) & (nums < threshold)).any(), (col, head)


def test_public_tables_cannot_be_solved_from_totals(public_report):
    """With totals published, no line of a table may hold exactly one hidden count (it would
    equal the total minus the rest). One-way tables: each count column; the month x
    outcome-status table: each month and each status. (test_disclosure_control attacks the
    tables with a linear programme.)"""
    _, rep = public_report
    lines_checked = 0
    for built in rep.sections:
        if built.section is None or built.withheld:
            continue
        for name, table in built.section.tables.items():
            info = table.attrs[CHECKED_ATTR]
            if not info["count_cols"] or info.get("totals") is False:
                continue
            if name == "outcome_snapshot":
                wide = table.pivot(index="month", columns="outcome_status", values="rows")
                hidden = wide.isna().to_numpy()
                lines = [*hidden, *hidden.T]
            else:
                lines = [table[c].isna().to_numpy() for c in info["count_cols"]]
            for line in lines:
                lines_checked += 1
                assert line.sum() != 1, f"{built.name}.{name}: a single hidden cell in a line"
    assert lines_checked >= 10


def test_public_lsoa_counts_protected_with_their_group_totals(public_report):
    """The LSOA table (map) and the district, rural/urban and deprivation tables publish the
    same counts at two levels: within any published group total, a lone hidden LSOA could be
    worked out by subtraction, so no group may hold exactly one."""
    _, rep = public_report
    lsoa = next(b.section for b in rep.sections if b.name == "profile_map").tables["map"]
    assert lsoa["count"].isna().sum() >= 2, "a two-month district map should need suppression"
    for grouping in ("lad_name", "urban_rural", "imd_decile"):
        per_group = lsoa.groupby(lsoa[grouping].astype(str))["count"].apply(
            lambda c: c.isna().sum()
        )
        assert (per_group != 1).all(), (grouping, per_group[per_group == 1])
    # and the group tables show exactly the totals the joint protection allowed
    depr = next(b.section for b in rep.sections if b.name == "profile_deprivation").tables[
        "deprivation"
    ]
    for row in depr.itertuples():
        members = lsoa[lsoa.imd_decile.astype("Int64") == row.imd_decile]["count"]
        if pd.notna(row.count) and members.notna().all():
            assert int(members.sum()) == int(row.count)


def test_unknown_section_withheld_from_public(kent_store, tmp_path, monkeypatch):
    """A plug-in section that does not declare disclosure control is withheld, not shown."""
    import types

    import harmscope.report.render as render
    from harmscope.report.section import Section

    mod = types.SimpleNamespace(
        ORDER=500,
        build=lambda ctx: Section(
            key="leaky",
            title="Leaky",
            html="<p>3 crimes</p>",
            tables={"t": pd.DataFrame({"count": [3]})},
        ),
    )
    real = render.discover_sections
    monkeypatch.setattr(render, "discover_sections", lambda: [*real()[:1], (500, "leaky", mod)])
    path, rep = write_report(
        kent_store, "Maidstone", "2025-02", "2025-02", tmp_path / "p.html", audience="public"
    )
    assert [b.name for b in rep.sections if b.withheld] == ["leaky"]
    assert "<p>3 crimes</p>" not in path.read_text(encoding="utf-8")
    path, rep = write_report(kent_store, "Maidstone", "2025-02", "2025-02", tmp_path / "i.html")
    assert "<p>3 crimes</p>" in path.read_text(encoding="utf-8")


def test_section_without_data_says_why(kent_store, tmp_path, monkeypatch):
    """A section that raises NotApplicable (no data for it here) is announced with its
    reason, and the rest of the report is still written. (Any other exception, HarmscopeError
    included, is a failure: tests/test_report_failures.py.)"""
    import types

    import harmscope.report.render as render
    from harmscope.report.section import NotApplicable

    def build(ctx):
        raise NotApplicable("no searches in this period")

    mod = types.SimpleNamespace(ORDER=500, build=build)
    real = render.discover_sections
    monkeypatch.setattr(render, "discover_sections", lambda: [*real()[:1], (500, "nodata", mod)])
    path, rep = write_report(kent_store, "Dover", "2025-02", "2025-02", tmp_path / "n.html")
    html = path.read_text(encoding="utf-8")
    assert "Does not apply here:</strong> no searches in this period" in html
    assert not rep.errors and rep.sections[0].section is not None


def test_user_errors_name_the_option(kent_store, tmp_path):
    with pytest.raises(HarmscopeError, match="--area"):
        write_report(kent_store, "Atlantis", "2025-01", "2025-02", tmp_path / "x.html")
    with pytest.raises(HarmscopeError, match="--from"):
        write_report(kent_store, "Kent", "2025-13", "2025-02", tmp_path / "x.html")
    with pytest.raises(HarmscopeError, match="--audience"):
        write_report(
            kent_store, "Kent", "2025-01", "2025-02", tmp_path / "x.html", audience="press"
        )
    with pytest.raises(HarmscopeError, match="--format"):
        write_report(kent_store, "Kent", "2025-01", "2025-02", tmp_path / "x.docx", fmt="docx")
    with pytest.raises(HarmscopeError, match="store holds 2024-01 to 2025-12"):
        write_report(kent_store, "Kent Police", "2023-01", "2023-03", tmp_path / "x.html")
    with pytest.raises(HarmscopeError, match="--scheme"):
        write_report(
            kent_store, "Kent", "2025-01", "2025-02", tmp_path / "x.html", options={"scheme": "x"}
        )
    with pytest.raises(HarmscopeError, match="--out"):
        write_report(kent_store, "Kent", "2025-01", "2025-02", tmp_path / "no" / "x.html")


def _report_cli(area: str, out: Path, db: Path, *extra: str) -> int:
    """``harmscope report`` for March 2025 of ``area``; the exit code."""
    return cli_main(
        ["report", "--area", area, "--from", "2025-03", "--to", "2025-03"]
        + ["--out", str(out), "--db", str(db), *extra]
    )


def test_cli_report_and_error_exit(kent_store_path, tmp_path, capsys):
    out = tmp_path / "cov.html"
    code = _report_cli(
        "Dover",
        out,
        kent_store_path,
        *("--audience", "public", "--threshold", "10"),
        *("--sections", "coverage,methods", "--quiet"),
    )
    assert code == 0 and out.exists()
    assert capsys.readouterr().out.strip() == str(out)
    assert _report_cli("Nowhere", out, kent_store_path) == 2
    assert "--area" in capsys.readouterr().err
    assert _report_cli("Dover", out, kent_store_path, "--sections", "nope") == 2
    assert "--sections" in capsys.readouterr().err


def test_demo_hook_writes_the_report(tmp_path):
    """The demo hook on a store holding two real Kent months (a stand-in for the sample)."""
    from conftest import KENT_STREET
    from harmscope.commands.report import demo
    from harmscope.sources.ingest import ingest_paths
    from harmscope.store import Store

    files = [p for p in KENT_STREET if p.name.startswith(("2025-11", "2025-12"))]
    with Store.open(tmp_path / "demo.duckdb") as store:
        ingest_paths(store, files, quiet=True)
        lines = demo(store, tmp_path)
    assert len(lines) == 1 and "failed" not in lines[0], lines
    path = Path(lines[0].split(": ", 1)[1].split(" (")[0])
    assert path.exists() and path.stat().st_size > 500_000


# -- in a real headless browser ----------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _local(url: str) -> bool:
    if url.startswith(LOCAL_SCHEMES):
        return True
    host = urllib.parse.urlparse(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")


@pytest.mark.browser
def test_report_renders_offline_in_chromium(internal_report):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh to run this test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    path, _ = internal_report
    requests, blocked, console_errors = [], [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=BROWSER_ARGS,
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1400})

        def route(r):
            if _local(r.request.url):
                r.continue_()
            else:  # record and refuse: the test must not depend on the network either way
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function(CHARTS_SETTLED, timeout=90_000)
        state = page.evaluate(
            """() => ({
                total: Number(document.body.dataset.chartsTotal),
                done: Number(document.body.dataset.chartsDone),
                failed: Number(document.body.dataset.chartsFailed),
                drawn: [...document.querySelectorAll('div.chart')].filter(
                    el => el.dataset.rendered === '1' && el.querySelector('svg, canvas')).length,
                charts: document.querySelectorAll('div.chart').length,
                marks: document.querySelectorAll('div.chart svg path, div.chart svg rect').length,
                lsoas: (() => {
                    let n = 0;
                    document.getElementById('chart-map-map').harmscopeMap.eachLayer(l => {
                        if (l.feature && l.feature.properties.lsoa11_code) { n++; }
                    });
                    return n;
                })(),
            })"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "report_kent.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    print(f"\nscreenshot: {shot}")
    assert [u for u in requests if not _local(u)] == [] and blocked == []
    assert requests and requests[0].startswith("file:")
    assert console_errors == []
    assert state["total"] == state["charts"] >= 12
    assert state["done"] == state["total"] and state["failed"] == 0
    assert state["drawn"] == state["charts"]
    # the LSOA map is a Leaflet canvas since issue 13: its 1,065 LSOAs are Leaflet layers, and
    # the Vega-Lite charts still draw their SVG marks
    assert state["lsoas"] > 1000 and state["marks"] > 300
    assert shot.stat().st_size > 100_000


@pytest.mark.browser
def test_pdf_through_headless_chromium(kent_store, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh to run this test")
    out = tmp_path / "kent.pdf"
    path, rep = write_report(
        kent_store,
        "Kent",
        "2025-01",
        "2025-02",
        out,
        fmt="pdf",
        only=["coverage", "profile_trend", "methods"],
    )
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 30_000
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2
    assert not (tmp_path / "kent.print.html").exists()  # the intermediate file is cleaned up
