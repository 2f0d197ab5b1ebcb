"""Attacks on the real server (issue 16): SQL injection and path traversal on every parameter
of every route, CSRF without its token, session fixation, brute force, cookie flags.

This module runs its own `harmscope serve` on a private copy of the store, so that the brute
force leaves no lock-out on the other web tests' server and so that, once it is stopped, the
store can be opened and compared with the copy it started from: no attack changed a row.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from harmscope.web import access
from web_server import (
    CSRF_FIELD,
    CSRF_HEADER,
    HOST,
    SESSION_COOKIE,
    WebServer,
    client_for,
    csrf,
    login,
    street_file,
)

pytest_plugins = ("web_server",)

SQLI = [
    "' OR '1'='1",
    "'; DROP TABLE street_crimes; --",
    "Dover' UNION SELECT password_hash FROM web_accounts --",
    "1) OR (1=1",
    "2025-01' OR 1=1 --",
]
TRAVERSAL = [
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "....//....//....//etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "file:///etc/passwd",
]
PAYLOADS = SQLI + TRAVERSAL
# What must never come back: a system file, a password hash, a session token's row.
SECRETS = ("root:x:0:0", "$argon2", "password_hash", "token_hash", "[extensions]")
# The query parameters every data page and API route reads (the contract's common ones).
DATA_PARAMS = ("area", "year", "from", "to")
# Form fields of the state-changing routes.
FORMS = {
    "/login": ("username", "password", "next"),
    "/api/upload": ("file", "force"),
    "/upload": ("file", "force"),
}
# Tables that change when anyone uses the site (sessions, audit trails): all others must not.
CHANGING = {"web_sessions", "web_audit", "audit_log"}


def fingerprint(db) -> dict[str, tuple[int, str]]:
    """table -> (rows, order-free sum of the rows' hashes), for every table but CHANGING."""
    from harmscope.store import Store

    out = {}
    with Store.open(db, read_only=True) as store:
        tables = store.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).table_name
        for t in sorted(set(tables) - CHANGING):
            row = store.query(f'SELECT count(*) AS n, sum(hash(t))::VARCHAR AS h FROM "{t}" AS t')
            out[t] = (int(row.n[0]), str(row.h[0]))
    return out


@pytest.fixture(scope="module")
def attacked(web_store, tmp_path_factory):
    """(server, accounts, the copy's fingerprint before any request)."""
    db = web_store.copy(tmp_path_factory.mktemp("sec") / "sec.duckdb")
    before = fingerprint(db)
    server = WebServer(db)
    server.start()
    try:
        yield server, web_store.accounts, before
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(attacked):
    server, accounts, _ = attacked
    c = client_for(server.url)
    acc = accounts["admin"]
    assert login(c, acc.name, acc.password).status_code == 200
    yield c
    c.close()


def _operations(server) -> list[tuple[str, str, list[str]]]:
    """(method, path, parameter names) for every operation of the OpenAPI document, with the
    common data parameters added to every data page (pages read them from the query string)."""
    doc = httpx.get(server.url + "/openapi.json").json()
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            names = [p["name"] for p in op.get("parameters", [])]
            head = path.strip("/").split("/")[-1] or "dashboard"
            if method == "get" and head in access.DATA_RESOURCES:
                names = sorted(set(names) | set(DATA_PARAMS))
            ops.append((method.upper(), path, names))
    # routes left out of the document (upload pages) and the static mounts
    ops += [("GET", "/upload", list(DATA_PARAMS)), ("GET", "/upload/{job_id}", [])]
    return ops


def _needs_login(path: str) -> bool:
    parts = [p for p in path.split("/") if p and p != "api"]
    head = parts[0] if parts else "dashboard"
    return head in access.MATRIX and access.needs_login(head)


def _check_response(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    for secret in (s for s in SECRETS if s not in what):  # an error may quote what was sent
        assert secret not in r.text, f"{what}: the answer holds {secret!r}"


def test_injection_and_traversal_on_every_parameter(attacked, admin):
    """As the public and as the admin (who may reach every route's handler): every payload in
    every query and path parameter is refused or harmless; the public gets nothing the matrix
    denies it."""
    server, _, _ = attacked
    public = client_for(server.url)
    tried = 0
    try:
        for method, path, names in _operations(server):
            if method != "GET":
                continue
            for payload in PAYLOADS:
                url = path
                for part in [p for p in path.split("/") if p.startswith("{")]:
                    url = url.replace(part, quote(payload, safe=""))
                for name in names or [None]:
                    params = {name: payload} if name and "{" + name + "}" not in path else {}
                    for who, c in (("public", public), ("admin", admin)):
                        r = c.get(url, params=params)
                        tried += 1
                        what = f"GET {url} {params} as {who}"
                        _check_response(r, what)
                        if who == "public" and _needs_login(path):
                            # no data of another role (404: the payload matched no route)
                            assert r.status_code in ((401, 404) if url != path else (401,)), what
                        elif who == "public" and r.status_code < 300 and "/api/" in path:
                            assert r.json().get("audience", "public") == "public", what
    finally:
        public.close()
    print(f"\ninjection/traversal: {tried} requests, none 5xx, none leaking")
    assert tried > 500


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/../../web/auth.py",
        "/static/vendor/..%2f..%2fweb%2fauth.py",
        "/static/..%2f..%2fstore%2fstore.py",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/vendor/....//....//etc/passwd",
    ],
)
def test_static_files_stay_in_their_folder(attacked, path):
    server, _, _ = attacked
    r = httpx.get(server.url + path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "import" not in r.text and "root:x" not in r.text


def test_form_fields_refuse_payloads(attacked, admin):
    """Login's fields and the upload's file name and force: refused, nothing 5xx, no way in."""
    server, accounts, _ = attacked
    # failed logins from 127.0.0.3, so this address's count does not lock out the others;
    # every payload in every field at once (each failed login costs an argon2 hash)
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    for payload in PAYLOADS:
        with client_for(server.url, transport=transport) as c:
            form = {field: payload for field in FORMS["/login"]}
            form["password"] = payload.ljust(12, "x")
            r = c.post("/login", data={**form, CSRF_FIELD: csrf(c)})
            _check_response(r, f"POST /login with {payload!r} in every field")
            assert r.status_code in (401, 429), (payload, r.status_code)
            assert c.get("/api/me").json()["role"] == "public"
        for path in ("/api/upload", "/upload"):
            files = {"file": (payload, b"Crime ID,Month\n", "text/csv")}
            for data in ({}, {"force": payload}):
                r = admin.post(
                    path,
                    files=files,
                    data=data,
                    headers={CSRF_HEADER: csrf(admin), "Accept": "application/json"},
                )
                _check_response(r, f"POST {path} file={payload!r} {data}")
                assert r.status_code in (400, 415, 422), (path, payload, r.status_code)


def test_csrf_refused_without_or_with_a_wrong_token(attacked, admin):
    server, _, _ = attacked
    other = client_for(server.url)
    foreign = csrf(other)  # a real token, of another session
    other.close()
    data = street_file("2025-06").read_bytes()
    for token in (None, "", "forged", foreign):
        headers = {} if token is None else {CSRF_HEADER: token}
        r = admin.post("/api/upload", files={"file": ("2025-06-kent-street.csv.gz", data)},
                       headers=headers)  # fmt: skip
        assert r.status_code == 403, (token, r.status_code)
        r = admin.post("/logout", headers=headers)
        assert r.status_code == 403, (token, r.status_code)
    assert admin.get("/api/me").json()["role"] == "admin"  # still signed in
    with client_for(server.url) as c:  # a login form without its token
        acc = attacked[1]["analyst"]
        r = c.post("/login", data={"username": acc.name, "password": acc.password})
        assert r.status_code == 403
        assert c.get("/api/me").json()["role"] == "public"


def test_session_fixation(attacked):
    """A session id set before login (the server's visitor session, or one an attacker
    planted) is not the one after; the old one is not signed in."""
    server, accounts, _ = attacked
    acc = accounts["analyst"]
    with client_for(server.url) as c:
        token = csrf(c)
        before = c.cookies.get(SESSION_COOKIE)
        assert before
        r = c.post("/login", data={"username": acc.name, "password": acc.password,
                                    CSRF_FIELD: token})  # fmt: skip
        assert r.status_code == 200
        after = c.cookies.get(SESSION_COOKIE)
        assert after and after != before
        assert c.get("/api/people").status_code == 200
    with client_for(server.url, cookies={SESSION_COOKIE: before}) as old:
        assert old.get("/api/me").json()["role"] == "public"
        assert old.get("/api/people").status_code == 401
    with client_for(server.url) as c:  # a planted id the server never issued
        c.cookies.set(SESSION_COOKIE, "planted-by-attacker-0123456789", domain=HOST)
        assert login(c, acc.name, acc.password).status_code == 200
        assert c.cookies.get(SESSION_COOKIE) != "planted-by-attacker-0123456789"


def test_cookie_flags(attacked):
    server, accounts, _ = attacked
    acc = accounts["partner-council"]
    with client_for(server.url) as c:
        r = c.get("/api/csrf")
        r = c.post("/login", data={"username": acc.name, "password": acc.password,
                                    CSRF_FIELD: r.json()["csrf_token"]})  # fmt: skip
        cookie = r.headers["set-cookie"]
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")}
    assert cookie.startswith(SESSION_COOKIE + "=")
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "samesite=strict"
    # plain http on loopback (the contract): not Secure, or the browser would never send it
    assert "secure" not in attrs


def _failed_logins(c: httpx.Client, name: str, n: int) -> list[int]:
    out = []
    for i in range(n):
        r = c.post("/login", data={"username": name, "password": f"wrong-password-{i:04d}",
                                   CSRF_FIELD: csrf(c)})  # fmt: skip
        out.append(r.status_code)
    return out


def test_brute_force_is_rate_limited_per_account(attacked):
    server, accounts, _ = attacked
    acc = accounts["partner-police"]
    with client_for(server.url) as c:
        codes = _failed_logins(c, acc.name, 8)
        assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3, codes
        r = login(c, acc.name, acc.password)  # the right password, too late
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert c.get("/api/me").json()["role"] == "public"


def test_brute_force_is_rate_limited_per_address(attacked):
    """Many names from one address: refused past the address's limit. From 127.0.0.2 (still
    loopback), so 127.0.0.1's own logins are untouched, which is checked too."""
    server, accounts, _ = attacked
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with client_for(server.url, transport=transport) as c:
        codes = [_failed_logins(c, f"guess-{i:03d}", 1)[0] for i in range(22)]
        assert 401 in codes and codes[-1] == 429, codes
        first = codes.index(429)
        assert all(x == 429 for x in codes[first:]), codes
    with client_for(server.url) as c:
        acc = accounts["admin"]
        assert login(c, acc.name, acc.password).status_code == 200


def test_store_unchanged_by_the_attacks(attacked):
    """Last: stop the server and compare every table (sessions and audit trails aside) with
    the copy it started from."""
    server, _, before = attacked
    server.stop()
    after = fingerprint(server.db)
    assert after == before
