"""The workspace in a real browser (issue 16): Debian's chromium driven by Playwright against
the real server. Each role signs in through the form and sees exactly its matrix in the
navigation, and is refused the pages it may not see; an analyst uploads a real police file
and sees the reconciliation; the dashboard's charts and the area profile's map are drawn,
with no console error and no request leaving this machine.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from harmscope.web import access
from web_server import PERSONAS, UPLOAD_MONTH, street_file

pytest_plugins = ("web_server",)
pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Pages each resource has (health is an API check only).
PAGE_OF = {r: "/" if r == "dashboard" else f"/{r}" for r in access.RESOURCES if r != "health"}
LOCAL = ("http://127.0.0.1:", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


class Tab:
    """A browser context with its console errors and any request off this machine."""

    def __init__(self, browser, live):
        self.ctx = browser.new_context(base_url=live.url)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(120_000)
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: r.url.startswith(LOCAL) or self.foreign.append(r.url))

    def sign_in(self, acc) -> None:
        if acc.name is None:
            return
        self.page.goto("/login")
        self.page.fill("input[name=username]", acc.name)
        self.page.fill("input[name=password]", acc.password)
        with self.page.expect_navigation():
            self.page.click("#login-form button[type=submit]")
        assert acc.name in self.page.inner_text("header"), "not signed in"

    def nav(self) -> set[str]:
        ids = self.page.eval_on_selector_all(
            "nav.site a[id^=nav-]", "els => els.map(e => e.id.slice(4))"
        )
        return set(ids) - {"login"}

    def close(self) -> None:
        self.ctx.close()


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_role_sees_exactly_its_matrix(browser, live, persona):
    role, agency = PERSONAS[persona]
    user = None if role == "public" else access.User(f"web-{persona}", role, agency)
    tab = Tab(browser, live)
    try:
        tab.sign_in(live.accounts[persona])
        tab.page.goto("/")
        expected = {r for r in access.visible(user) if r in PAGE_OF}
        assert tab.nav() == expected, (persona, tab.nav() ^ expected)
        for resource, path in PAGE_OF.items():
            if resource in expected:
                continue
            response = tab.page.goto(path)
            want = 401 if user is None else 403
            assert response.status == want, (persona, path, response.status)
            assert tab.page.locator("table, div.chart, div.map").count() == 0, (persona, path)
        assert not tab.foreign, tab.foreign
    finally:
        tab.close()


def _rows_in(path: Path) -> int:
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


@pytest.fixture(scope="module")
def upload_live(web_store, tmp_path_factory):
    """A server of its own on a copy of the store: an upload changes the data version, and the
    shared server's cached pages (built once for the walk and these tests) should stay."""
    from web_server import Live, WebServer

    db = web_store.copy(tmp_path_factory.mktemp("upload") / "upload.duckdb")
    with WebServer(db) as server:
        it = Live(server, web_store.accounts, db.parent)
        yield it
        it.close()


def test_upload_shows_the_reconciliation(browser, upload_live):
    path = street_file(UPLOAD_MONTH)
    tab = Tab(browser, upload_live)
    try:
        tab.sign_in(upload_live.accounts["analyst"])
        tab.page.goto("/upload")
        tab.page.set_input_files("#upload-file", str(path))
        tab.page.click("#upload-submit")
        tab.page.wait_for_selector("#reconciliation", timeout=180_000)
        read = int(tab.page.inner_text("#rows-read").replace(",", ""))
        loaded = int(tab.page.inner_text("#rows-loaded").replace(",", ""))
        assert read == _rows_in(path)  # counted here from the file itself
        assert loaded == read  # a month the store did not hold: every row loads
        assert "nothing was lost" in tab.page.inner_text("#reconcile-status")
        assert path.name in tab.page.inner_text("#upload-files")
        assert not tab.errors and not tab.foreign, (tab.errors, tab.foreign)
    finally:
        tab.close()


def _drawn(tab: Tab, selector: str, inner: str) -> int:
    tab.page.wait_for_selector(f"{selector} {inner}", state="attached")
    return tab.page.locator(f"{selector}:has({inner})").count()


@pytest.mark.parametrize("persona", ["public", "analyst"])
def test_dashboard_and_maps_render(browser, live, persona):
    tab = Tab(browser, live)
    try:
        tab.sign_in(live.accounts[persona])
        tab.page.goto("/")
        assert tab.page.locator("#front #findings li").count() > 0, "the dashboard is empty"
        charts = {}
        for path in ("/", "/stopsearch", "/hotspots"):
            tab.page.goto(path)
            if tab.page.locator("div.chart").count():
                charts[path] = _drawn(tab, "div.chart", "svg, canvas")
        # the dashboard is the report's front page (findings, changes, risks: words and
        # figures); the scrutiny panel's page must draw its charts
        assert charts.get("/stopsearch", 0) >= 1, charts
        tab.page.goto("/profile")
        assert tab.page.locator("div.map").count() > 0, "the area profile has no map"
        assert _drawn(tab, "div.map", ".leaflet-pane") >= 1
        # the data layer drawn (Leaflet draws vectors as SVG paths, or on a canvas)
        assert _drawn(tab, "div.map", ".leaflet-overlay-pane path, .leaflet-overlay-pane canvas")
        ARTIFACTS.mkdir(exist_ok=True)
        tab.page.screenshot(path=str(ARTIFACTS / f"web-profile-{persona}.png"))
        assert not tab.errors, tab.errors
        assert not tab.foreign, tab.foreign
    finally:
        tab.close()
