"""The route x role walk (issue 16): every route of the app, as every role, against the
matrix. A route is found from the app itself (so a new one cannot be missed), given its
resource by its path, and asked for by each persona on the real server: allowed means 2xx,
denied means 401 (not signed in) or 403 (signed in, wrong role). A denied request that gets
anything but a refusal is a leak; there must be none.

Also: the matrix is the one the contract gives (written out here, not read from the code),
anonymous requests for non-public data are refused however the cookie is forged, and public
and partner data come out of the publishing path (a ``Publication`` in ``publish.LOG`` made
for the document served, and small counts suppressed).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pytest

from harmscope.web import access
from web_server import CSRF_FIELD, CSRF_HEADER, PERSONAS, SESSION_COOKIE, csrf

pytest_plugins = ("web_server",)

EVERYONE = set(PERSONAS)
PARTNERS = {"partner-police", "partner-health", "partner-council"}
STAFF = {"analyst", "admin"}
# The contract's matrix (issue 16; the web contract): who may see each resource.
INTENDED: dict[str, set[str]] = {
    "health": EVERYONE,
    "dashboard": EVERYONE,
    "profile": EVERYONE,
    "hotspots": EVERYONE,
    "stopsearch": EVERYONE,
    "schemes": PARTNERS | STAFF,
    "ed": {"partner-health"} | STAFF,
    "people": STAFF,
    "networks": STAFF,
    "upload": STAFF,
    "audit": {"admin"},
}
AUDIENCE_OF = {"public": "public", **{p: "partner" for p in PARTNERS}, "analyst": "internal",
               "admin": "internal"}  # fmt: skip
# Routes open to everyone that show no data: signing in and out, the CSRF token, who am I,
# and the framework's own API documents.
OPEN_ROUTES = {"login", "logout", "csrf", "me", "openapi.json", "docs", "redoc"}
# Values for path parameters (an upload job that does not exist: 404 for those allowed).
PATH_VALUES = {"job_id": "0" * 32}
# Small counts: one small district in one month.
SMALL = {"area": "Dover", "from": "2025-12", "to": "2025-12"}


def user_of(persona: str) -> access.User | None:
    role, agency = PERSONAS[persona]
    return None if role == "public" else access.User(f"web-{persona}", role, agency)


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    resource: str | None  # None: an open route (OPEN_ROUTES)

    def url(self) -> str:
        out = self.path
        for name, value in PATH_VALUES.items():
            out = out.replace("{" + name + "}", value)
        assert "{" not in out, f"{self.path}: add a value for its path parameter to PATH_VALUES"
        return out


def resource_of(path: str) -> str | None:
    """The resource a route shows, read from its path: /api/<r>..., /<r>..., / = dashboard."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    head = parts[0] if parts else "dashboard"
    if head in access.MATRIX:
        return head
    if head in OPEN_ROUTES:
        return None
    raise AssertionError(
        f"route {path} shows no known resource: give it a resource in access.MATRIX "
        "(or, if it shows no data, add it to OPEN_ROUTES here)"
    )


def app_routes(app) -> list[Route]:
    """Every (path, method) the app answers, static mounts aside (they hold no data)."""
    from fastapi import routing

    contexts = getattr(routing, "iter_route_contexts", lambda rs: rs)(app.routes)
    out = []
    for ctx in contexts:
        methods = getattr(ctx, "methods", None)
        path = getattr(ctx, "path", None)
        if not methods or path is None:  # a Mount (static files)
            continue
        for m in sorted(methods - {"HEAD", "OPTIONS"}):
            out.append(Route(path, m, resource_of(path)))
    return sorted(set(out), key=lambda r: (r.path, r.method))


@pytest.fixture(scope="module")
def routes(web_store, tmp_path_factory) -> list[Route]:
    """The routes of an app built in this process on a copy of the store (the server's own
    file is locked by the server)."""
    from harmscope.web.app import create_app

    app = create_app(str(web_store.copy(tmp_path_factory.mktemp("walk") / "routes.duckdb")))
    try:
        return app_routes(app)
    finally:
        app.state.pool.close()


def test_matrix_is_the_contracts():
    assert set(access.MATRIX) == set(INTENDED), "resources differ from the contract's"
    for resource, who in INTENDED.items():
        for persona in PERSONAS:
            user = user_of(persona)
            assert access.allowed(user, resource) == (persona in who), (resource, persona)
            if persona in who:
                assert access.audience_for(user, resource) == AUDIENCE_OF[persona]
    # partners never get the internal audience, the public never the partner one
    assert {access.audience_for(None, r) for r in access.RESOURCES if r in INTENDED
            and "public" in INTENDED[r]} == {"public"}  # fmt: skip


def test_every_resource_has_its_routes(routes):
    """Each data resource has its API route and its page; every page and API route is walked."""
    found = {(r.path, r.method) for r in routes}
    for resource in access.DATA_RESOURCES:
        assert (f"/api/{resource}", "GET") in found, resource
    for path in ("/", "/profile", "/hotspots", "/stopsearch", "/schemes", "/ed", "/people",
                 "/networks", "/upload", "/audit", "/login", "/api/health", "/api/audit"):  # fmt: skip
        assert (path, "GET") in found, path
    assert ("/api/upload", "POST") in found and ("/login", "POST") in found


def _expected(route: Route, persona: str) -> str:
    if route.resource is None:
        return "open"
    if access.allowed(user_of(persona), route.resource):
        return "allowed"
    return "denied-401" if persona == "public" else "denied-403"


def _ask(live, route: Route, persona: str):
    if route.method == "GET":
        return live.client(persona).get(route.url())
    # a state-changing route: a client of its own (POST /logout would end the shared one's
    # session), with its session's CSRF token, so what decides is the matrix
    c = live.fresh(persona)
    try:
        return c.request(route.method, route.url(), headers={CSRF_HEADER: csrf(c)})
    finally:
        c.close()


def _verdict(route: Route, expected: str, status: int) -> str:
    """ok | leak | wrong-refusal | error | unexpected."""
    if status >= 500:
        return "error"
    if expected.startswith("denied"):
        if status == int(expected[-3:]):
            return "ok"
        return "leak" if status < 400 else "unexpected"
    if status in (401, 403) and not (route.path == "/login" and route.method == "POST"):
        return "wrong-refusal"  # POST /login with no password answers 401 for everyone
    if expected == "allowed" and route.method == "GET" and "{" not in route.path:
        return "ok" if 200 <= status < 300 else "unexpected"
    return "ok"  # open routes, POSTs with an empty body and unknown jobs: refused, not denied


def test_route_role_walk(live, routes):
    counts, problems = Counter(), []
    for route in routes:
        for persona in PERSONAS:
            expected = _expected(route, persona)
            r = _ask(live, route, persona)
            verdict = _verdict(route, expected, r.status_code)
            counts["requests"] += 1
            counts[f"{expected.split('-')[0]} {verdict}"] += 1
            counts[verdict] += 1
            if verdict != "ok":
                problems.append(
                    f"{route.method} {route.path} as {persona}: expected {expected}, "
                    f"got {r.status_code} {r.text[:200]!r}"
                )
    print(
        f"\nroute walk: {len(routes)} routes x {len(PERSONAS)} roles = {counts['requests']} "
        f"requests; allowed and served {counts['allowed ok']}, denied as the matrix says "
        f"{counts['denied ok']}, open {counts['open ok']}; leaks {counts['leak']}, wrong "
        f"refusals {counts['wrong-refusal']}, 5xx {counts['error']}, other "
        f"{counts['unexpected']}"
    )
    assert counts["leak"] == 0, problems
    assert not problems, "\n".join(problems)


def test_data_routes_carry_their_audience(live):
    """Each data document says the audience it was published for, and it is the role's."""
    wrong = []
    for resource in access.DATA_RESOURCES:
        for persona in PERSONAS:
            user = user_of(persona)
            if not access.allowed(user, resource):
                continue
            r = live.client(persona).get(f"/api/{resource}")
            assert r.status_code == 200, (resource, persona, r.text[:300])
            got = r.json().get("audience")
            if got != access.audience_for(user, resource):
                wrong.append(f"{resource} as {persona}: audience {got!r}")
    assert not wrong, "documents not marked with the role's audience: " + "; ".join(wrong)


NON_PUBLIC = [r for r in access.RESOURCES if access.needs_login(r)]


def _ask_anonymously(c, resource: str) -> list:
    out = [c.get(f"/{resource}")]
    if resource in access.DATA_RESOURCES or resource == "audit":
        out.append(c.get(f"/api/{resource}"))
    if resource == "upload":  # with the visitor session's own CSRF token: the role decides
        token = csrf(c)
        files = {"file": ("x.csv", b"Crime ID,Month\n", "text/csv")}
        out.append(c.post("/api/upload", files=files, headers={CSRF_HEADER: token}))
    return out


@pytest.mark.parametrize("resource", NON_PUBLIC)
def test_anonymous_refused_however_the_cookie_is_forged(live, resource):
    from web_server import client_for

    for cookie in (None, "forged", "x" * 300, "' OR 1=1 --"):
        with client_for(live.url) as c:
            if cookie is not None:
                c.cookies.set(SESSION_COOKIE, cookie)
            for r in _ask_anonymously(c, resource):
                assert r.status_code == 401, (r.request.url, cookie, r.status_code)
                assert "summary" not in r.text and "entries" not in r.text


def test_logged_out_session_is_refused(live):
    c = live.fresh("analyst")
    try:
        assert c.get("/api/people").status_code == 200
        token = c.cookies.get(SESSION_COOKIE)
        assert c.post("/logout", headers={CSRF_HEADER: csrf(c)}).status_code in (200, 303)
        c.cookies.set(SESSION_COOKIE, token)  # the old cookie, replayed
        assert c.get("/api/people").status_code == 401
    finally:
        c.close()


def test_public_small_counts_are_suppressed(live):
    """Dover in one month: a category with 1-4 crimes in the analyst's (internal) figures shows
    no count and no harm to the public, and no count the public sees is 1-4. Partners get
    aggregates in full (privacy/audience.py), marked as the partner audience."""
    internal = live.client("analyst").get("/api/profile", params=SMALL).json()
    small = {r["category"] for r in internal["table"] if r["count"] and 0 < r["count"] < 5}
    assert small, "no small count to check in Dover 2025-12 (pick another district-month)"
    doc = live.client("public").get("/api/profile", params=SMALL).json()
    assert doc["audience"] == "public"
    rows = {r["category"]: r for r in doc["table"]}
    for cat in small:
        assert rows[cat]["count"] is None and rows[cat]["harm"] is None, cat
    shown = [r["count"] for r in doc["table"] if r["count"] is not None]
    assert shown and all(c == 0 or c >= 5 for c in shown), shown
    partner = live.client("partner-council").get("/api/profile", params=SMALL).json()
    assert partner["audience"] == "partner"
    assert {r["category"]: r["count"] for r in partner["table"]} == {
        r["category"]: r["count"] for r in internal["table"]
    }


# In-process: the route's document is a Publication's, made for the role's audience.
PUBLISHED = [
    ("public", "profile", SMALL),
    ("public", "hotspots", SMALL),
    ("public", "dashboard", SMALL),
    ("partner-health", "ed", {}),
    ("partner-council", "profile", SMALL),
    ("partner-council", "schemes", {}),
]


@pytest.fixture(scope="module")
def in_process(web_store, tmp_path_factory):
    """A TestClient per persona on an app over a copy of the store (same accounts)."""
    from fastapi.testclient import TestClient

    from harmscope.web.app import create_app

    app = create_app(str(web_store.copy(tmp_path_factory.mktemp("walk") / "pub.duckdb")))
    clients = {}
    for persona in sorted({p for p, _, _ in PUBLISHED}):
        c = TestClient(app, base_url="http://127.0.0.1")  # loopback: no Secure cookie
        acc = web_store.accounts[persona]
        if acc.name:
            token = c.get("/api/csrf").json()["csrf_token"]
            r = c.post(
                "/login", data={"username": acc.name, "password": acc.password, CSRF_FIELD: token}
            )
            assert r.status_code == 200, r.text
        clients[persona] = c
    yield clients
    for c in clients.values():
        c.close()
    app.state.pool.close()


@pytest.mark.parametrize(("persona", "resource", "params"), PUBLISHED)
def test_served_document_is_a_publication(in_process, persona, resource, params):
    from harmscope.analysis.result import _jsonable, frame_records
    from harmscope.privacy import publish
    from harmscope.web import data

    data.invalidate()  # built now, in this process, not taken from the cache
    before = publish.serial()
    r = in_process[persona].get(f"/api/{resource}", params=params)
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    pubs = [p for p in publish.LOG if p.number > before]
    assert pubs, f"GET /api/{resource} as {persona} made no Publication: not the publishing path"
    audience = AUDIENCE_OF[persona]
    assert {p.audience.name for p in pubs} == {audience}
    assert doc.get("audience") == audience
    # every table the document shows at top level is the publication's, as published
    pub = pubs[-1]
    for key, value in doc.items():
        if key in pub.tables and isinstance(value, list):
            published = json.loads(
                json.dumps(_jsonable(frame_records(pub.tables[key])), default=str)
            )
            assert value == published, key
