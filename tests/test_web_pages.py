"""The workspace's HTML pages (issue 16): each page renders whole for a role that may see it,
with its figures equal to the published document; the nav shows only the matrix's pages; a
page that cannot be built is an error page with a non-2xx status; uploading a real Kent
street file reconciles to the file's own line count, and a damaged one lists its quarantined
lines.

One real DuckDB store for the module: two months of real Kent street crime, three of real Kent
stop and search, and SYNTHETIC ED, crime-extract and county-lines files simulated and ingested
by the real commands. The app runs in-process (fastapi.testclient)."""

from __future__ import annotations

import contextlib
import gzip
import html
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.store import Store
from harmscope.web import access, audit, auth, data, pages
from harmscope.web.access import User
from harmscope.web.app import create_app

PASSWORD = "correct horse battery staple"
BASE = "http://127.0.0.1"  # loopback: plain http keeps the session cookie (as `serve` does)
ACCOUNTS = {
    "pol": ("partner", "police"),
    "hea": ("partner", "health"),
    "ana": ("analyst", None),
    "adm": ("admin", None),
}
STREET_MONTHS = ("2025-11", "2025-12")
DATA_PAGES = (
    "dashboard",
    "profile",
    "hotspots",
    "stopsearch",
    "schemes",
    "ed",
    "people",
    "networks",
)


def _cli(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


@pytest.fixture(scope="module")
def pages_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("webpages")
    db = str(folder / "pages.duckdb")
    street = [p for p in KENT_STREET if p.name.startswith(STREET_MONTHS)]
    assert len(street) == 2, "the real Kent street files for 2025-11 and 2025-12 are missing"
    assert (
        _cli(["ingest", *map(str, street), *map(str, KENT_STOP_SEARCH[:3]), "--db", db, "-q"]) == 0
    )
    old = os.environ.get("HARMSCOPE_KEY")
    os.environ["HARMSCOPE_KEY"] = "5e0c2a7d9b1f43e6a8c0d2f4b6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2c4"
    try:
        for argv in (
            ["simulate", "ed", "--seed", "2", "--out", str(folder / "ed.csv"), "--db", db],
            ["ed", "ingest", str(folder / "ed.csv"), "--db", db, "--quiet"],
            [
                "simulate",
                "crimes",
                "--seed",
                "2",
                "--crimes",
                "1500",
                "--out",
                str(folder / "c.csv"),
            ],
            ["crimes", "ingest", str(folder / "c.csv"), "--db", db, "--quiet"],
            [
                "simulate",
                "lines",
                "--seed",
                "2",
                "--out",
                str(folder / "lines"),
                "--lines",
                "2",
                "--background",
                "120",
                "--months",
                "6",
                "--start",
                "2025-07",
            ],
            ["links", "ingest", str(folder / "lines" / "links.csv"), "--db", db, "--quiet"],
        ):
            assert _cli(argv) == 0, argv
    finally:
        if old is None:
            os.environ.pop("HARMSCOPE_KEY", None)
        else:
            os.environ["HARMSCOPE_KEY"] = old
    with Store.open(db) as store:
        for name, (role, agency) in ACCOUNTS.items():
            auth.create_account(store, name, role, PASSWORD, agency)
    return Path(db)


@pytest.fixture(scope="module")
def app(pages_db):
    data.invalidate()
    application = create_app(str(pages_db))
    yield application
    application.state.pool.close()


_SIGNED_IN: dict[tuple[int, str], TestClient] = {}


def _client(app, name: str | None = None) -> TestClient:
    """A client for ``name`` (None: the public), signed in once per app and reused."""
    if name is not None and (id(app), name) in _SIGNED_IN:
        return _SIGNED_IN[id(app), name]
    client = TestClient(app, base_url=BASE)
    if name is not None:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        r = client.post(
            "/login",
            data={"username": name, "password": PASSWORD, "csrf_token": token},
            headers={"accept": "text/html"},
        )
        assert r.status_code == 200 and "Signed in as" in r.text, r.text[:500]
        _SIGNED_IN[id(app), name] = client
    return client


def _user(name: str | None) -> User | None:
    return None if name is None else User(name, *ACCOUNTS[name])


def _text(page: str) -> str:
    """The page's words, tags removed and entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _nav(page: str) -> list[str]:
    return re.findall(r'id="nav-([a-z]+)"', page.split('<nav class="site"')[1].split("</nav>")[0])


def _payload(app, resource: str, user: User | None, params: dict | None = None) -> dict:
    with app.state.pool.store() as store:
        return data.payload(store, resource, access.audience_for(user, resource), params or {})


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# -- pages for their roles ------------------------------------------------------------------


def test_public_pages_render_whole_with_the_published_figures(app):
    c = _client(app)
    for resource in ("dashboard", "profile", "hotspots", "stopsearch"):
        r = c.get(pages.PAGES[resource].path)
        assert r.status_code == 200, (resource, r.text[:400])
        assert f'<main id="page-{resource}">' in r.text
        assert f"<h1>{html.escape(pages.PAGES[resource].title)}</h1>" in r.text
        assert "What this shows:" in r.text and 'id="methods"' in r.text
        assert not re.search(r'(src|href)="(https?:)?//', r.text), "nothing from another site"
    dash = _text(c.get("/").text)
    front = _payload(app, "dashboard", None)
    assert front["findings"], "the dashboard's document has findings"
    for f in front["findings"]:
        assert f["title"] in dash and f["value"] in dash
    profile = c.get("/profile").text
    doc = _payload(app, "profile", None)
    assert f"{doc['summary']['count']:,}" in _text(profile)
    assert 'class="map" id="map-profile"' in profile and 'class="chart"' in profile
    for row in doc["totals"]:  # every district of the published table is in the page
        assert html.escape(row["area_name"]) in profile
    hot = c.get("/hotspots").text
    assert 'class="map" id="map-hotspots"' in hot
    specs = json.loads(
        re.search(r'id="harmscope-specs" type="application/json">(.*?)</script>', hot).group(1)
    )
    drawn = [ly for ly in specs["map-hotspots"]["layers"] if ly["kind"] == "cells"][0]["values"]
    classes = _payload(app, "hotspots", None)["classes"]
    significant = sum(k["units"] for k in classes if k["class"].startswith(("hot", "cold")))
    assert significant > 0 and len(drawn) == significant, "the map draws every significant cell"
    ss = _payload(app, "stopsearch", None)
    text = _text(c.get("/stopsearch").text)
    assert f"{ss['summary']['searches']:,}" in text
    assert "Find rate by ethnic group" in text


def test_nav_shows_only_the_pages_the_role_may_see(app):
    # the layout's nav is the same on every page: the sign-in page needs no data built
    for name in (None, *ACCOUNTS):
        page = _client(app, name).get("/login").text
        shown = _nav(page)
        expected = [r for r in access.visible(_user(name)) if r in pages.PAGES]
        assert shown == expected, name
    public = _nav(_client(app).get("/").text)
    assert not {"ed", "people", "networks", "upload", "audit", "schemes"} & set(public)
    assert "ed" in _nav(_client(app, "hea").get("/schemes").text)
    assert "ed" not in _nav(_client(app, "pol").get("/schemes").text)


def test_each_page_renders_for_a_role_that_may_see_it_and_refuses_the_others(app):
    """Every role the matrix refuses gets 401/403 and no data; the least privileged role it
    allows (the public pages: the public, above) gets the whole page."""
    clients = {name: _client(app, name) for name in (None, *ACCOUNTS)}
    for resource in DATA_PAGES:
        path = pages.PAGES[resource].path
        allowed = [n for n in clients if access.allowed(_user(n), resource)]
        assert allowed, resource
        for name in set(clients) - set(allowed):
            r = clients[name].get(path)
            assert r.status_code == (401 if name is None else 403), (resource, name)
            assert "<table" not in r.text, "a refused page shows no data"
        r = clients[allowed[0]].get(path)
        assert r.status_code == 200, (resource, allowed[0], _text(r.text)[:600])
        assert f'<main id="page-{resource}">' in r.text
        assert "could not be shown" not in r.text
    ed = _text(clients["hea"].get("/ed").text)
    doc = _payload(app, "ed", _user("hea"))
    assert "The true picture" in ed and doc["table"], "the ED document has rows"
    people = _text(clients["ana"].get("/people").text)
    assert "power few" in people.lower()


def test_views_of_non_public_pages_are_audited_and_public_ones_are_not(app):
    admin = _client(app, "adm")

    def rows() -> list[dict]:
        return admin.get("/api/audit?limit=1000").json()["entries"]

    before = len(rows())
    _client(app).get("/profile?from=2025-12&to=2025-12")
    after_public = rows()
    assert not [e for e in after_public if e["resource"] == "profile" and e["who"] == "public"]
    _client(app, "ana").get("/profile?from=2025-12&to=2025-12")
    new = [e for e in rows() if e["resource"] == "profile" and e["who"] == "ana"]
    assert new and new[0]["audience"] == "internal"
    assert new[0]["params"] == {"from": "2025-12", "to": "2025-12"}
    assert len(rows()) > before
    page = admin.get("/audit")
    assert page.status_code == 200 and 'id="audit-table"' in page.text
    assert "The hash chain checks out" in page.text


def test_a_cached_page_carries_each_visitors_own_name_and_token(app):
    """Pages are rendered once per data version, role and parameters (web/pages.py's page
    cache): a second analyst is served the same page with its own name and CSRF token, never
    the first one's nor a stand-in, and each view is still audited."""
    with app.state.pool.store() as store:
        if "ana2" not in set(store.query("SELECT name FROM web_accounts").name):
            auth.create_account(store, "ana2", "analyst", PASSWORD)
    first, second = _client(app, "ana"), TestClient(app, base_url=BASE)
    token = _csrf(second.get("/login").text)
    signed = second.post("/login", data={"username": "ana2", "password": PASSWORD,
                                         "csrf_token": token})  # fmt: skip
    assert signed.status_code == 200
    with app.state.pool.store() as store:
        audit_rows = len(audit.entries(store, 10_000))
    a, b = first.get("/profile"), second.get("/profile")
    assert a.status_code == b.status_code == 200
    assert "Signed in as <strong>ana</strong>" in a.text
    assert "Signed in as <strong>ana2</strong>" in b.text
    assert _csrf(a.text) == first.get("/api/csrf").json()["csrf_token"]
    assert _csrf(b.text) == second.get("/api/csrf").json()["csrf_token"] != _csrf(a.text)
    for page in (a.text, b.text):
        assert pages._NAME_MARK not in page and pages._CSRF_MARK not in page

    def own_parts_removed(page: str, name: str, csrf: str) -> str:
        return page.replace(f"<strong>{name}</strong>", "").replace(csrf, "")

    assert own_parts_removed(a.text, "ana", _csrf(a.text)) == own_parts_removed(
        b.text, "ana2", _csrf(b.text)
    )
    with app.state.pool.store() as store:
        assert len(audit.entries(store, 10_000)) == audit_rows + 2


def test_a_page_that_cannot_be_built_is_an_error_page_not_a_half_empty_one(app):
    c = _client(app)
    for query, where in (("from=2025-13", "from"), ("area=No%20such%20place", None)):
        r = c.get(f"/profile?{query}")
        assert r.status_code == 422, (query, r.status_code)
        assert 'id="error"' in r.text and "<table" not in r.text
        if where:
            assert f"Where: {where}" in _text(r.text)


def test_login_page_and_a_wrong_password(app):
    c = TestClient(app, base_url=BASE)
    page = c.get("/login").text
    r = c.post(
        "/login",
        data={"username": "ana", "password": "wrong password!", "csrf_token": _csrf(page)},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 200 and 'id="login-error"' in r.text
    assert "Signed in as" not in r.text


# -- upload -----------------------------------------------------------------------------------


def _wait(client: TestClient, location: str, seconds: float = 60) -> str:
    job = location.rstrip("/").split("/")[-1]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/upload/{job}/progress").json()
        assert 0 <= status["fraction"] <= 1
        if status["status"] != "running":
            break
        time.sleep(0.1)
    return client.get(location).text


def _upload(client: TestClient, name: str, content: bytes) -> str:
    form = client.get("/upload")
    assert form.status_code == 200 and 'id="upload-form"' in form.text
    r = client.post(
        "/upload",
        data={"csrf_token": _csrf(form.text)},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    return _wait(client, r.headers["location"])


def _count(page: str, what: str) -> int:
    return int(re.search(rf'id="rows-{what}">([\d,]+)<', page).group(1).replace(",", ""))


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("harmscope-upload-*")}


def test_upload_of_a_real_kent_street_file_reconciles_to_its_rows(app, tmp_path, monkeypatch):
    # A temporary folder of this test's own: other test processes (make test runs one per
    # core) upload at the same time, and their folders in the shared /tmp are not ours.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = next(p for p in KENT_STREET if p.name.startswith("2025-10"))
    raw = path.read_bytes()
    lines = gzip.decompress(raw).decode("utf-8-sig").splitlines()
    rows_in_file = len([ln for ln in lines[1:] if ln.strip()])  # the header is not a row
    before = _leftovers()
    page = _upload(_client(app, "ana"), path.name, raw)
    assert 'id="reconciliation"' in page, _text(page)[:800]
    read = _count(page, "read")
    assert read == rows_in_file
    assert read == _count(page, "loaded") + _count(page, "duplicate") + _count(page, "rejected")
    assert _count(page, "loaded") == rows_in_file and "Every row is accounted for" in page
    assert _leftovers() <= before, "the uploaded file is not kept"
    # the upload is an audited action, and the store now holds the month
    entries = _client(app, "adm").get("/api/audit?limit=50").json()["entries"]
    up = [e for e in entries if e["action"] == "upload" and e["who"] == "ana"]
    assert up and up[0]["params"]["rows_read"] == rows_in_file
    profile = _text(_client(app).get("/profile?from=2025-10&to=2025-10").text)
    assert "Oct 2025" in profile


def test_a_damaged_file_shows_its_quarantined_lines(app):
    path = next(p for p in KENT_STREET if p.name.startswith("2025-09"))
    lines = gzip.decompress(path.read_bytes()).decode("utf-8-sig").splitlines(keepends=True)
    bad = lines[:300]
    bad[3] = "not,a,police,row\n"  # file line 4
    bad[7] = bad[7].replace("2025-09", "2025-13", 1)  # file line 8
    bad[10] = bad[10].split(",")[0] + ",x\n"  # file line 11
    page = _upload(_client(app, "ana"), path.name.removesuffix(".gz"), "".join(bad).encode())
    assert _count(page, "read") == 299
    assert _count(page, "rejected") == 3 and _count(page, "loaded") == 296
    table = page.split('id="rejects-table"')[1].split("</table>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in table.split("<tbody>")[1].split("<tr>")]
    rows = [r for r in rows if r]
    assert [int(r[1]) for r in rows] == [4, 8, 11]  # (file, line, reason)
    assert "fields" in rows[0][2] and "2025-13" in rows[1][2] and "fields" in rows[2][2]


def test_upload_refuses_without_csrf_a_non_police_name_and_other_roles(app):
    analyst = _client(app, "ana")
    r = analyst.post("/upload", files={"file": ("2025-10-kent-street.csv", b"x\n")})
    assert r.status_code == 403
    form = analyst.get("/upload").text
    r = analyst.post(
        "/upload", data={"csrf_token": _csrf(form)}, files={"file": ("../../etc/passwd", b"x")}
    )
    assert r.status_code == 422 and "cannot ingest a file called" in _text(r.text)
    assert _client(app, "pol").get("/upload").status_code == 403
    assert _client(app).get("/upload").status_code == 401


def test_api_upload_answers_the_reconciliation_report(app):
    path = next(p for p in KENT_STREET if p.name.startswith("2025-08"))
    analyst = _client(app, "ana")
    token = analyst.get("/api/csrf").json()["csrf_token"]
    r = analyst.post(
        "/api/upload",
        files={"file": (path.name, path.read_bytes(), "application/gzip")},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    rows = len(gzip.decompress(path.read_bytes()).decode("utf-8-sig").splitlines()) - 1
    assert (
        doc["rows_read"]
        == rows
        == doc["rows_loaded"] + doc["rows_duplicate"] + doc["rows_rejected"]
    )
    assert doc["files"][0]["file"] == path.name and doc["reconciles"]
