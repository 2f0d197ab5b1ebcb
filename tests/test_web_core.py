"""The web workspace's core (issue 16): health and OpenAPI, the role x data matrix on real
routes, sign-in with sessions, CSRF and rate limiting, the hash-chained audit trail, and API
documents equal to the command line's ``--json`` for the same command and audience.

One real DuckDB store for the module: two months of real Kent street crime, three months of
real Kent stop and search, and SYNTHETIC ED, crime-extract and county-lines files simulated
and ingested by the real commands. The app runs in-process (fastapi.testclient)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.store import Store
from harmscope.web import access, audit, auth, data
from harmscope.web.access import User
from harmscope.web.app import create_app
from harmscope.web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
# base_url on loopback: plain http there keeps cookies without Secure (as `serve` does)
BASE = "http://127.0.0.1"
ACCOUNTS = {
    "pol": ("partner", "police"),
    "hea": ("partner", "health"),
    "cou": ("partner", "council"),
    "ana": ("analyst", None),
    "adm": ("admin", None),
}


def _cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    return code, out.getvalue()


@contextlib.contextmanager
def _env(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def web_db(tmp_path_factory) -> Path:
    """The store, and the CLI's --json for the comparisons, taken before the app opens it."""
    folder = tmp_path_factory.mktemp("web")
    db = str(folder / "web.duckdb")
    street = [p for p in KENT_STREET if p.name.startswith(("2025-11", "2025-12"))]
    assert len(street) == 2, "the real Kent street files for 2025-11 and 2025-12 are missing"
    searches = KENT_STOP_SEARCH[:3]
    code, _ = _cli(["ingest", *map(str, street), *map(str, searches), "--db", db, "--quiet"])
    assert code == 0
    key = "9c1f4be07a3d52e68810f2b7c4d9e35a1b6c7d8e9f0a1b2c3d4e5f60718293a4"
    with _env(HARMSCOPE_KEY=key):
        steps = [
            ["simulate", "ed", "--seed", "1", "--out", str(folder / "ed.csv"), "--db", db],
            ["ed", "ingest", str(folder / "ed.csv"), "--db", db, "--quiet"],
            ["simulate", "crimes", "--seed", "1", "--crimes", "2000",
             "--out", str(folder / "crimes.csv")],
            ["crimes", "ingest", str(folder / "crimes.csv"), "--db", db, "--quiet"],
            ["simulate", "lines", "--seed", "1", "--out", str(folder / "lines"), "--lines", "2",
             "--background", "150", "--months", "6", "--start", "2025-07"],
            ["links", "ingest", str(folder / "lines" / "links.csv"), "--db", db, "--quiet"],
            ["schemes", "--example", "--db", db, "--quiet"],
        ]
        for argv in steps:
            code, _ = _cli(argv)
            assert code == 0, argv
    with Store.open(db) as store:
        for name, (role, agency) in ACCOUNTS.items():
            auth.create_account(store, name, role, PASSWORD, agency)
    return Path(db)


@pytest.fixture(scope="module")
def cli_docs(web_db) -> dict[str, dict]:
    """`harmscope ... --json` for three commands and audiences, run before the app opens
    the store (one DuckDB file, one writer)."""
    db = str(web_db)
    runs = {
        ("stopsearch", "public"): ["stopsearch", "--json", "--audience", "public"],
        ("profile", "partner"): ["harm", "--json", "--audience", "partner", "--quiet"],
        ("ed", "partner"): ["ed", "picture", "--json", "--audience", "partner"],
        ("schemes", "partner"): ["schemes", "--json"],
    }
    out = {}
    for key, argv in runs.items():
        code, text = _cli([*argv, "--db", db])
        assert code == 0, argv
        out[key] = json.loads(text)
    return out


@pytest.fixture(scope="module")
def app(web_db, cli_docs):
    data.invalidate()
    application = create_app(str(web_db))
    yield application
    application.state.pool.close()


def _client(app, name: str | None = None) -> TestClient:
    client = TestClient(app, base_url=BASE)
    if name is not None:
        r = _login(client, name, PASSWORD)
        assert r.status_code == 200, r.text
    return client


def _login(client: TestClient, name: str, password: str):
    token = client.get("/api/csrf").json()["csrf_token"]
    return client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token}
    )


def _user(name: str | None) -> User | None:
    if name is None:
        return None
    role, agency = ACCOUNTS[name]
    return User(name, role, agency)


# -- health, OpenAPI, the documented matrix ------------------------------------------------


def test_health_and_openapi(app):
    c = _client(app)
    r = c.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["store"] == "duckdb"
    assert r.headers["x-frame-options"] == "DENY"
    doc = c.get("/openapi.json").json()
    for path in ("/api/health", "/api/stopsearch", "/api/ed", "/api/audit", "/login"):
        assert path in doc["paths"], path
    # every data route declares its response schema (schemathesis checks against it)
    for resource in data.BUILDERS:
        ok = doc["paths"][f"/api/{resource}"]["get"]["responses"]["200"]
        assert "$ref" in json.dumps(ok["content"]["application/json"]["schema"]), resource


# The intended matrix, written out here from issue 16 (not read from the code under test):
# resource -> the roles that may see it.
INTENDED = {
    "health": {None, "pol", "hea", "cou", "ana", "adm"},
    "dashboard": {None, "pol", "hea", "cou", "ana", "adm"},
    "profile": {None, "pol", "hea", "cou", "ana", "adm"},
    "hotspots": {None, "pol", "hea", "cou", "ana", "adm"},
    "stopsearch": {None, "pol", "hea", "cou", "ana", "adm"},
    "schemes": {"pol", "hea", "cou", "ana", "adm"},
    "ed": {"hea", "ana", "adm"},
    "people": {"ana", "adm"},
    "networks": {"ana", "adm"},
    "upload": {"ana", "adm"},
    "audit": {"adm"},
}


def test_matrix_is_the_intended_one():
    assert set(access.RESOURCES) == set(INTENDED)
    for resource, who in INTENDED.items():
        for name in [None, *ACCOUNTS]:
            assert access.allowed(_user(name), resource) == (name in who), (resource, name)
    # the audience follows the role: public for the public, partner, internal for staff
    assert access.audience_for(None, "stopsearch") == "public"
    assert access.audience_for(_user("pol"), "stopsearch") == "partner"
    assert access.audience_for(_user("hea"), "ed") == "partner"
    assert access.audience_for(_user("ana"), "ed") == "internal"
    with pytest.raises(PermissionError):
        access.audience_for(_user("pol"), "ed")


def test_docs_hold_the_matrix_from_the_code():
    doc = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    assert access.matrix_markdown() in doc, "regenerate the table: access.matrix_markdown()"


# -- the matrix on the real routes ----------------------------------------------------------


def test_public_sees_public_data_and_is_told_to_sign_in_for_the_rest(app):
    c = _client(app)
    r = c.get("/api/stopsearch")
    assert r.status_code == 200 and r.json()["audience"] == "public"
    for resource in ("ed", "people", "networks", "schemes", "audit"):
        r = c.get(f"/api/{resource}")
        assert r.status_code == 401, resource


def test_partners_by_agency(app):
    police, health = _client(app, "pol"), _client(app, "hea")
    assert police.get("/api/ed").status_code == 403
    r = health.get("/api/ed")
    assert r.status_code == 200 and r.json()["audience"] == "partner"
    for resource in ("people", "networks", "audit"):
        assert health.get(f"/api/{resource}").status_code == 403, resource
    assert police.get("/api/schemes").status_code == 200


def test_analyst_sees_people_and_networks_admin_the_audit(app):
    analyst = _client(app, "ana")
    for resource in ("people", "networks", "ed"):
        r = analyst.get(f"/api/{resource}")
        assert r.status_code == 200 and r.json()["audience"] == "internal", resource
    assert analyst.get("/api/audit").status_code == 403
    assert _client(app, "adm").get("/api/audit").status_code == 200


def test_bad_parameters_are_422(app):
    c = _client(app)
    for query in ("from=2018-13", "year=1800", "to=18-01", "area=%3Cscript%3E"):
        assert c.get(f"/api/stopsearch?{query}").status_code == 422, query
    r = c.get("/api/profile?area=Atlantis")
    assert r.status_code == 422 and r.json()["detail"]["fix"]


# -- the same JSON as the command line -------------------------------------------------------


def _same(a, b) -> bool:
    """Equal documents, floats to 1e-9 relative: DuckDB sums a store's row groups in
    parallel, so two runs of the same harm sum can differ in the last bits."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_api_equals_cli_json(app, cli_docs):
    public, health = _client(app), _client(app, "hea")
    assert public.get("/api/stopsearch").json() == cli_docs[("stopsearch", "public")]
    profile = _client(app, "pol").get("/api/profile").json()
    assert _same(profile, cli_docs[("profile", "partner")])
    assert profile != {} and profile["table"]
    assert health.get("/api/ed").json() == cli_docs[("ed", "partner")]
    # the register: `schemes --json`, published for the audience and marked with it
    schemes = _client(app, "cou").get("/api/schemes").json()
    assert schemes == cli_docs[("schemes", "partner")] | {"audience": "partner"}
    assert len(schemes["schemes"]) > 0


def test_payload_is_cached_until_the_data_changes(app, web_db):
    with app.state.pool.store() as store:
        first = data.payload(store, "schemes", "partner", {})
        hits = data.CACHE.hits
        assert data.payload(store, "schemes", "partner", {}) is first
        assert data.CACHE.hits == hits + 1
        before = data.CACHE.version(store)
        from harmscope.sources.register import (
            example_register_path,
            read_register,
            store_register,
        )

        path = example_register_path()
        renamed = read_register(path)[0] | {"name": "A scheme added while the server runs"}
        store_register(store, [renamed], path)
        data.CACHE.version_ttl = 0.0  # re-read the data version now
        try:
            assert data.CACHE.version(store) != before
            after = data.payload(store, "schemes", "partner", {})
        finally:
            data.CACHE.version_ttl = 2.0
    assert after is not first and len(after["schemes"]) > len(first["schemes"])


# -- sessions, CSRF, rate limiting -----------------------------------------------------------


def test_login_rotates_the_session_and_logout_ends_it(app):
    c = TestClient(app, base_url=BASE)
    token = c.get("/api/csrf").json()["csrf_token"]
    before = c.cookies.get(auth.COOKIE)
    r = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    after = c.cookies.get(auth.COOKIE)
    assert after and after != before  # a new session id at login: no fixation
    fixed = TestClient(app, base_url=BASE, cookies={auth.COOKIE: before})
    assert fixed.get("/api/people").status_code == 401  # the pre-login token is dead
    assert c.get("/api/people").status_code == 200
    csrf = c.get("/api/csrf").json()["csrf_token"]
    assert c.post("/logout", headers={auth.CSRF_HEADER: csrf}).status_code == 200
    assert TestClient(app, base_url=BASE, cookies={auth.COOKIE: after}).get(
        "/api/people"
    ).status_code == 401


def test_state_changing_requests_need_the_csrf_token(app):
    c = TestClient(app, base_url=BASE)
    c.get("/api/csrf")
    r = c.post("/login", data={"username": "ana", "password": PASSWORD})
    assert r.status_code == 403
    r = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "x" * 43})
    assert r.status_code == 403
    signed_in = _client(app, "ana")
    assert signed_in.post("/logout").status_code == 403  # no token: still signed in
    assert signed_in.get("/api/people").status_code == 200


def test_wrong_passwords_are_rate_limited(web_db, cli_docs):
    settings = WebSettings(max_failures_per_user=3, max_failures_per_address=5)
    limited = create_app(str(web_db), settings=settings)
    try:
        c = TestClient(limited, base_url=BASE)
        codes = [_login(c, "hea", "wrong password here").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        r = _login(c, "hea", PASSWORD)  # the right password, but too late
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # per address: other account names from the same address are refused too
        assert _login(c, "pol", "wrong password here").status_code == 401
        assert _login(c, "cou", "wrong password here").status_code == 401
        assert _login(c, "ana", PASSWORD).status_code == 429
    finally:
        limited.state.pool.close()


# -- the audit trail ---------------------------------------------------------------------------


def test_views_of_non_public_data_are_audited(app):
    health = _client(app, "hea")
    assert health.get("/api/ed?from=2025-11&to=2025-12").status_code == 200
    _client(app).get("/api/stopsearch")  # public: not audited
    doc = _client(app, "adm").get("/api/audit?limit=50").json()
    assert doc["ok"] and doc["rows"] >= 2
    mine = [e for e in doc["entries"] if e["who"] == "hea" and e["resource"] == "ed"]
    assert mine and mine[0]["params"] == {"from": "2025-11", "to": "2025-12"}
    assert mine[0]["audience"] == "partner" and mine[0]["query"] == "GET /api/ed"
    assert not [e for e in doc["entries"] if e["role"] == "public"]


def test_audit_chain_detects_an_edit_and_a_deletion():
    with Store.open(":memory:") as store:
        for i in range(5):
            audit.record(store, _user("ana"), "view", "people", "GET /api/people", {"i": i})
        assert audit.verify(store) == (True, None)
        store.execute("UPDATE web_audit SET who = 'someone else' WHERE audit_id = 3")
        assert audit.verify(store) == (False, 3)
        store.execute("UPDATE web_audit SET who = 'ana' WHERE audit_id = 3")
        assert audit.verify(store) == (True, None)
        store.execute("DELETE FROM web_audit WHERE audit_id = 2")
        ok, bad = audit.verify(store)
        assert not ok and bad == 3  # the row after the gap


def test_users_command(tmp_path, monkeypatch):
    db = str(tmp_path / "accounts.duckdb")
    monkeypatch.setenv("HARMSCOPE_PASSWORD", PASSWORD)
    assert _cli(["users", "add", "maria", "--role", "partner", "--agency", "health",
                 "--db", db])[0] == 0
    assert _cli(["users", "add", "x", "--role", "partner", "--db", db])[0] == 2  # no agency
    code, out = _cli(["users", "list", "--db", db, "--json"])
    assert code == 0
    assert json.loads(out)["accounts"][0] | {"created_at": None} == {
        "name": "maria", "role": "partner", "agency": "health", "disabled": False,
        "created_at": None,
    }
    with Store.open(db) as store:
        assert auth.authenticate(store, "maria", PASSWORD) is not None
        row = store.query("SELECT password_hash FROM web_accounts").password_hash[0]
        assert row.startswith("$argon2id$") and PASSWORD not in row
    assert _cli(["users", "disable", "maria", "--db", db])[0] == 0
    with Store.open(db) as store:
        assert auth.authenticate(store, "maria", PASSWORD) is None
    code, out = _cli(["users", "verify-audit", "--db", db, "--json"])
    assert code == 0 and json.loads(out)["ok"] is True


# -- the same app on PostgreSQL ------------------------------------------------------------------


def test_postgres_store_sessions_audit_and_trigger(pg_db):
    """The server on a PostgreSQL store: accounts, sign-in, an audited view, the chain whole,
    and the trigger refusing to edit or delete an audit row."""
    with Store.open(pg_db) as store:
        auth.create_account(store, "ana", "analyst", PASSWORD)
    application = create_app(pg_db)
    try:
        c = TestClient(application, base_url=BASE)
        health = c.get("/api/health").json()
        assert health["store"] == "postgresql"
        assert _login(c, "ana", PASSWORD).status_code == 200
        assert c.get("/api/people").status_code == 422  # no crime extract: said, not empty
        with application.state.pool.store() as store:
            audit.record(store, _user("ana"), "view", "people", "GET /api/people", {"x": 1})
            assert audit.verify(store) == (True, None)
            for sql in ("UPDATE web_audit SET who = 'x'", "DELETE FROM web_audit"):
                with pytest.raises(Exception, match="append-only"):
                    store.execute(sql)
            assert audit.verify(store) == (True, None)
    finally:
        application.state.pool.close()


def test_cookie_is_secure_off_loopback_and_redirects_stay_on_site(app):
    local = TestClient(app, base_url=BASE).get("/api/csrf").headers["set-cookie"].lower()
    remote = TestClient(app, base_url="http://partner.example").get("/api/csrf")
    assert "secure" not in local and "secure" in remote.headers["set-cookie"].lower()
    c = TestClient(app, base_url=BASE, follow_redirects=False)
    token = c.get("/api/csrf").json()["csrf_token"]
    r = c.post(
        "/login",
        data={"username": "pol", "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
