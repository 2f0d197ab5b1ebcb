"""Issue 12: a report a partnership board can read, and exports analysts use.

Each "Found" bug has a test here that failed on the code before the fix: methods printed as raw
HTML, stop and search on a misleading period, status blind to a partial month, raw field names
and untidy numbers. The browser test drives real Chromium at desktop and phone widths; the
Excel test reads the workbook back with openpyxl and compares it with the HTML tables."""

from __future__ import annotations

import csv
import gzip
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXCERPTS, KENT_STOP_SEARCH, KENT_STREET
from harmscope.errors import HarmscopeError
from harmscope.privacy.audience import CHECKED_ATTR
from harmscope.report.labels import (
    format_number,
    humanize_spec,
    label,
    month_text,
    months_in_text,
    round_for_export,
)
from harmscope.report.render import (
    build_report,
    make_context,
    output_format,
    render_html,
    write_report,
)
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store
from harmscope.store.status import partial_months, store_status
from report_helpers import HtmlTables

# Raw field names and machine formats a board must never read (issue 12).
FORBIDDEN = ["_low", "_high", "officer_defined", "share_low", "_rate", "_per_1000", "harm_ci"]
SCIENTIFIC = re.compile(r"\d\.?\d*e[-+]\d+", re.I)
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-01\b")
VISIBLE_TAG = re.compile(r"</?(h[1-6]|p|ul|li|strong|div|table|tr|td|br)\b[^>]*>", re.I)
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


# -- Found: methods printed as raw HTML ---------------------------------------------------------


def test_methods_section_is_html_not_text(kent_store):
    ctx = make_context(kent_store, "Kent Police", "2025-03", "2025-03")
    html = render_html(build_report(ctx, only=["methods"]))
    body = html[html.index('id="methods"') :]
    assert "&lt;h3&gt;" not in body and "&lt;li&gt;" not in body
    assert "<h3>Harm weights</h3>" in body and "<li><strong>Street-level crime.</strong>" in body


# -- Found: stop and search on a misleading period; status blind to a partial month ------------


def _rows(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.fixture(scope="module")
def excerpt_store(tmp_path_factory):
    """Two Kent street months of 2025, stop and search for Nov-Dec 2018 and the 67-row
    January 2024 excerpt: the report's months hold no searches at all."""
    path = tmp_path_factory.mktemp("excerpt") / "x.duckdb"
    files = [p for p in KENT_STREET if p.name.startswith(("2025-11", "2025-12"))]
    files += [p for p in KENT_STOP_SEARCH if p.name.startswith(("2018-10", "2018-11", "2018-12"))]
    with Store.open(path) as store:
        assert ingest_paths(store, files).ok
        excerpt = EXCERPTS / "2024-01-kent-stop-and-search.EXCERPT.csv"
        assert ingest_paths(store, [excerpt], force="kent").ok
    return path, files, excerpt


def test_status_flags_a_partial_month(excerpt_store):
    path, files, excerpt = excerpt_store
    with Store.open(path, read_only=True) as store:
        st = store_status(store)
    ss = next(c for c in st["coverage"] if c["kind"] == "stop_search")
    flagged = {p["month"]: p for p in ss["partial_months"]}
    # independent answer: the rows in the files themselves
    assert flagged["2024-01"]["rows"] == _rows(excerpt) == 67
    full = sorted(_rows(p) for p in files if "stop-and-search" in p.name)
    assert flagged["2024-01"]["typical"] == full[1]  # the median of its three neighbours
    assert set(flagged) == {"2024-01"}  # the full months are not flagged
    street = next(c for c in st["coverage"] if c["kind"] == "street")
    assert street["partial_months"] == []
    # the rule itself: far fewer than the neighbours, not merely fewer
    assert partial_months(["a", "b", "c", "d"], [500, 480, 25, 510]) == [
        {"month": "c", "rows": 25, "typical": 500}
    ]
    assert partial_months(["a", "b", "c"], [500, 400, 510]) == []


def test_stopsearch_says_what_period_it_uses_and_what_is_missing(excerpt_store):
    path, _, _ = excerpt_store
    with Store.open(path, read_only=True) as store:
        ctx = make_context(store, "Kent Police", "2025-11", "2025-12")
        rep = build_report(ctx, only=["stopsearch"])
    sec = rep.sections[0].section
    assert sec is not None, rep.sections[0].error_trace
    notes = " ".join(sec.notes)
    assert (
        "No stop-and-search records are held for the report period (Nov 2025 to Dec 2025)" in notes
    )
    assert "Jan 2024 only" in notes
    assert "Only 1 of 12 months from Feb 2023 to Jan 2024 is held; 11 are missing" in notes
    assert "Jan 2024 is a partial month: 67 searches" in notes
    # the body names the one month it counts, not a 12-month window
    assert "In Jan 2024 police recorded <strong>67</strong> searches" in sec.html
    assert "2023-02 to 2024-01" not in sec.html + notes


# -- Found: raw field names, fractions beside %, scientific notation, ISO dates ----------------


def test_labels_and_numbers_for_readers():
    for raw in (
        "share_low",
        "share_high",
        "officer_defined_ethnicity",
        "harm_rate_ci_low",
        "find_rate_low",
        "share_expected_ci_high",
        "harm_rate_per_1000",
    ):
        assert "_" not in label(raw), raw
    assert label("officer_defined_ethnicity") == "officer-defined ethnicity"
    assert format_number(2.78e-17) == "< 0.001"
    assert format_number(2.78e-17, percent=True) == "< 0.1%"
    assert format_number(0.1876, percent=True) == "18.8%"
    assert format_number(3.2e-9, p_value=True) == "< 0.001"
    assert month_text("2024-01") == month_text(pd.Timestamp("2024-01-01")) == "Jan 2024"
    assert months_in_text("from 2025-01 to 2025-04 (2025-01-kent-street.csv)") == (
        "from Jan 2025 to Apr 2025 (2025-01-kent-street.csv)"
    )
    df = pd.DataFrame({"share": [0.123456789, 2.78e-17], "harm": [21018507.898425, 1.23456]})
    out = round_for_export(df)
    assert out["share"].tolist() == [0.1235, 0.0] and out["harm"].tolist() == [21018507.9, 1.23]


def test_chart_titles_legends_and_tooltips_are_human():
    spec = {
        "title": "Find rate by officer_defined_ethnicity",
        "data": {
            "values": [
                {
                    "month": "2024-01-01",
                    "share": 0.2,
                    "share_low": 0.1,
                    "share_high": 0.3,
                    "hidden_hotspot": True,
                }
            ]
        },
        "layer": [
            {
                "mark": "area",
                "encoding": {
                    "x": {"field": "month", "type": "temporal"},
                    "y": {"field": "share_low", "type": "quantitative"},
                    "y2": {"field": "share_high"},
                },
            },
            {
                "mark": "line",
                "encoding": {
                    "x": {"field": "month", "type": "temporal"},
                    "y": {"field": "share", "type": "quantitative"},
                    "color": {"field": "hidden_hotspot", "type": "nominal"},
                    "tooltip": ["share", "share_low", {"field": "month", "type": "temporal"}],
                },
            },
        ],
    }
    out = humanize_spec(spec)
    titles = re.findall(
        r'"title": "([^"]*)"', json.dumps({k: v for k, v in out.items() if k != "data"})
    )
    assert titles and not [t for t in titles if "_" in t]
    assert out["title"] == "Find rate by officer-defined ethnicity"
    area, line = out["layer"][0]["encoding"], out["layer"][1]["encoding"]
    # one y title for the whole chart, not "share, share_low, share_high"
    assert area["y"]["title"] == area["y2"]["title"] == line["y"]["title"] == "share, 95% CI lower"
    assert area["x"]["axis"]["format"] == "%b %Y"
    assert [t["title"] for t in line["tooltip"]] == ["share", "share, 95% CI lower", "month"]
    assert "yes" in line["color"]["legend"]["labelExpr"]
    assert line["color"]["title"] == "hidden hotspot"
    assert out["data"] == spec["data"]  # numbers untouched (the publishing check needs them)
    # a title the chart's author wrote on any layer is the axis title for all of them
    spec["layer"][1]["encoding"]["y"]["title"] = "Share of searches"
    again = humanize_spec(spec)["layer"]
    assert {again[0]["encoding"]["y"]["title"], again[0]["encoding"]["y2"]["title"]} == {
        "Share of searches"
    }


# -- exports: --out picks the format; Excel matches the HTML -----------------------------------


def test_out_extension_picks_the_format(tmp_path):
    assert output_format(Path("a.html")) == "html"
    assert output_format(Path("a.PDF")) == "pdf"
    assert output_format(Path("a.xlsx")) == "xlsx"
    for bad in ("a.docx", "a.csv", "a"):
        with pytest.raises(HarmscopeError, match="--out") as err:
            output_format(Path(bad))
        assert ".xlsx" in err.value.fix
    with pytest.raises(HarmscopeError, match="does not match"):
        output_format(Path("a.xlsx"), "pdf")
    with pytest.raises(HarmscopeError, match="--format"):
        output_format(Path("a.html"), "docx")


def _same(html_text: str, value) -> bool:
    """Whether an HTML cell shows the workbook's typed value."""
    if isinstance(value, str):
        return html_text == (month_text(value) or value)
    if value is None:
        return html_text == ""
    if isinstance(value, bool):
        return html_text == ("yes" if value else "no")
    if hasattr(value, "year"):
        return html_text == month_text(pd.Timestamp(value))
    if html_text.startswith(("<", ">")):
        return abs(float(value)) < 0.001
    if html_text.endswith("%"):
        return abs(float(html_text[:-1]) / 100 - float(value)) <= 0.0005 + 1e-9
    shown = float(html_text.replace(",", ""))
    return abs(shown - float(value)) <= max(0.5, abs(float(value))) * 0.005 + 1e-9


def test_excel_workbook_matches_the_html_tables(kent_store, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    ctx = make_context(kent_store, "Maidstone", "2025-02", "2025-03", audience="public")
    rep = build_report(
        ctx,
        only=[
            "coverage",
            "profile_headline",
            "profile_trend",
            "profile_districts",
            "profile_categories",
            "methods",
        ],
    )
    assert not rep.errors, [b.error for b in rep.errors]
    html = render_html(rep)
    from harmscope.report.excel import sheet_names, write_workbook

    out = write_workbook(rep, tmp_path / "profile.xlsx")
    assert zipfile.is_zipfile(out)
    wb = openpyxl.load_workbook(out)
    pub = rep.publication.tables
    names = sheet_names(list(pub))
    # exactly what the publication let through, one sheet each, after the README
    assert wb.sheetnames == ["README", *names.values()]
    readme = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value)
    assert "police.uk" in readme and "Disclosure control" in readme and "Method" in readme
    parser = HtmlTables()
    parser.feed(html)
    html_tables = [(h, r) for h, r in parser.tables]
    suppressed_seen = 0
    for key, sheet in names.items():
        ws = wb[sheet]
        rows = list(ws.iter_rows(values_only=True))
        head, body = list(rows[0]), rows[1:]
        df = pub[key]
        assert len(body) == len(df), key
        assert head == [label(str(c)) for c in df.columns], key
        match = [
            r
            for h, r in html_tables
            if [x.removesuffix(" (%)") for x in h] == head and len(r) == len(body)
        ]
        assert match, f"no HTML table like sheet {sheet}"
        for xr, hr in zip(body, match[0], strict=True):
            for v, t in zip(xr, hr, strict=True):
                if v == "[c]":
                    suppressed_seen += 1
                    assert t == "[c]"
                else:
                    assert _same(t, v), (key, t, v)
        # typed columns: counts are numbers, never text; no small count is published
        info = df.attrs.get(CHECKED_ATTR, {})
        for col in info.get("count_cols", []):
            j = list(df.columns).index(col)
            for xr in body:
                assert xr[j] == "[c]" or (isinstance(xr[j], int) and not 1 <= xr[j] <= 4)
    cats = wb[names["harm-vs-count.by_category"]]
    share_col = [c.value for c in cats[1]].index("share of harm") + 1
    assert cats.cell(row=2, column=share_col).number_format == "0.0%"
    monthly = wb[names["trend.monthly"]]
    assert monthly.cell(row=2, column=1).is_date


def test_cli_out_xlsx_writes_excel_and_refuses_unknown(kent_store_path, tmp_path, capsys):
    from harmscope.cli import main as cli_main

    args = [
        "report",
        "--area",
        "Dover",
        "--from",
        "2025-03",
        "--to",
        "2025-03",
        "--db",
        str(kent_store_path),
        "--sections",
        "coverage,methods",
        "--quiet",
    ]
    assert cli_main([*args, "--out", str(tmp_path / "p.xlsx")]) == 0
    assert zipfile.is_zipfile(tmp_path / "p.xlsx")  # a workbook, not HTML under an .xlsx name
    assert cli_main([*args, "--out", str(tmp_path / "p.docx")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and ".xlsx" in err and not (tmp_path / "p.docx").exists()


# -- in real Chromium: desktop and phone ------------------------------------------------------


@pytest.fixture(scope="module")
def board_report(kent_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("board") / "kent-q4.html"
    path, rep = write_report(kent_store, "Kent Police", "2025-10", "2025-12", out)
    assert not rep.errors, [b.error_trace for b in rep.errors]
    return path, rep


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 390])
def test_board_report_in_chromium(board_report, width):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh to run this test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    path, _ = board_report
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        page.goto(path.as_uri())
        page.wait_for_function(
            "Number(document.body.dataset.chartsDone) + Number(document.body.dataset.chartsFailed)"
            " >= Number(document.body.dataset.chartsTotal)",
            timeout=90_000,
        )
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        state = page.evaluate(
            """() => ({
                scrollWidth: document.documentElement.scrollWidth,
                clientWidth: document.documentElement.clientWidth,
                text: document.body.innerText,
                svgText: [...document.querySelectorAll('div.chart svg text')].map(t => t.textContent),
                charts: [...document.querySelectorAll('div.chart')].map(el => {
                    // a Leaflet map (issue 13) draws on a canvas, a Vega-Lite chart in SVG
                    const svg = el.querySelector('svg') || el.querySelector('canvas');
                    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                    return [el.id, el.dataset.rendered, r.width, r.height, r.right];
                }),
                findings: document.querySelectorAll('#front .findings li').length,
                caveats: document.querySelectorAll('#front .caveats li').length,
                specs: document.getElementById('harmscope-specs').textContent,
            })"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"board_{width}.png"))  # the first screen
        browser.close()
    # no horizontal scroll; every chart drawn, at non-zero size, inside the screen
    assert state["scrollWidth"] <= state["clientWidth"], state["scrollWidth"]
    assert state["charts"], "no charts"
    for cid, rendered, w, h, right in state["charts"]:
        assert rendered == "1" and w > 0 and h > 0, cid
        assert right <= state["clientWidth"] + 1, (cid, right)
    # the front page for the board
    assert "Summary for the partnership board" in state["text"]
    assert state["findings"] == 5 and state["caveats"] >= 2
    assert (
        "Glossary" in state["text"] and "Appendix: how each section was worked out" in state["text"]
    )
    # nothing a board should not have to read
    text = state["text"] + "\n" + "\n".join(state["svgText"])
    assert not VISIBLE_TAG.search(state["text"]), VISIBLE_TAG.search(state["text"])
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
    assert not ISO_DAY.search(text), ISO_DAY.search(text)
    for token in FORBIDDEN:
        assert token not in text, (
            token,
            text[max(0, text.find(token) - 120) : text.find(token) + 40],
        )
    # tooltips are not on screen until hovered: their titles come from the specs
    titles = re.findall(r'"title":\s*"([^"]*)"', state["specs"])
    assert titles and not [t for t in titles if any(tok in t for tok in FORBIDDEN)]


@pytest.mark.browser
def test_pdf_is_a4_with_page_numbers(kent_store, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh to run this test")
    path, _ = write_report(
        kent_store, "Kent", "2025-01", "2025-01", tmp_path / "k.pdf", only=["coverage", "methods"]
    )
    data = path.read_bytes()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    # A4 is 595.28 x 841.89 points (210 x 297 mm); Letter would be 612 x 792
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)
    html = render_html(
        build_report(make_context(kent_store, "Kent", "2025-01", "2025-01"), only=["methods"]),
        for_print=True,
    )
    assert "size: A4" in html and 'counter(page) " of " counter(pages)' in html


# -- several districts as one area --------------------------------------------------------------


def test_several_districts_as_one_area(kent_store):
    from harmscope.analysis.harm import resolve_scope

    scope = resolve_scope("Dartford, Gravesham")
    assert scope.label == "Dartford and Gravesham" and scope.force == "Kent Police"
    assert scope.lad_codes == ["E07000107", "E07000109"]
    with pytest.raises(HarmscopeError, match="Gravesam") as err:
        resolve_scope("Dartford,Gravesam")
    assert "did you mean Gravesham" in err.value.fix

    def headline(area: str) -> pd.Series:
        ctx = make_context(kent_store, area, "2025-03", "2025-03")
        rep = build_report(ctx, only=["profile_headline"])
        return rep.publication.tables["headline.headline"].iloc[0]

    both, d, g = headline("Dartford,Gravesham"), headline("Dartford"), headline("Gravesham")
    # the joint area is the sum of its districts, count and harm
    assert both["count"] == d["count"] + g["count"] > 0
    assert both["harm"] == pytest.approx(d["harm"] + g["harm"])
