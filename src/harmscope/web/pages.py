"""The workspace's HTML pages: server-rendered Jinja2 on the same data as the API.

Each data page asks ``data.payload`` for its resource at the audience the user's role gets
(``access.audience_for``), records the view in the audit trail when it is not public, and
shows the document in a board's words (web/present.py). No SQL and no privacy rule here: what
a role may see is the matrix's (``auth.require``), what an audience may see is the publishing
path's. A page whose data cannot be built answers an error page with a non-2xx status, never a
half-empty page.

Stable hooks for browser tests: ``<main id="page-<resource>">``, every chart a ``div.chart``
and every map a ``div.map`` (each with ``data-rendered`` set to 1 once drawn), the nav links
``#nav-<resource>``.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jinja2
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import escape

from harmscope.errors import HarmscopeError
from harmscope.web import access, audit, auth, data, present
from harmscope.web.access import User
from harmscope.web.deps import store_of

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
VENDOR_URL = "/static/vendor"
STATIC_URL = "/static"


@dataclass(frozen=True)
class PageInfo:
    path: str
    nav: str  # the nav's words
    title: str  # the page's heading
    what: str  # "what this shows", one or two plain sentences
    docs: tuple[str, ...] = ()


PAGES: dict[str, PageInfo] = {
    "dashboard": PageInfo(
        "/",
        "Dashboard",
        "Violence and harm: summary for the partnership board",
        "The front page of the problem profile: the key findings with their uncertainty, what "
        "changed since last month and last year, the alerts that exceed normal variation and "
        "the caveats that apply to every figure. Harm is counted in sentence-equivalent days "
        "(ONS Crime Severity Score).",
        ("harm_weights.md",),
    ),
    "profile": PageInfo(
        "/profile",
        "Area profile",
        "Area profile: harm by district",
        "Recorded crime and its harm for each district, the harm rate per 1,000 residents with "
        "95% confidence intervals, and which kinds of crime carry most of the harm. The map "
        "colours each district by its harm rate.",
        ("harm_weights.md", "geography.md"),
    ),
    "hotspots": PageInfo(
        "/hotspots",
        "Hotspots",
        "Hotspots: where crime concentrates",
        "Grid cells where recorded crime, with that of their neighbours, is far above the area "
        "average (Getis-Ord Gi*, corrected for testing many cells), and the share of crime the "
        "hotspot cells hold.",
    ),
    "stopsearch": PageInfo(
        "/stopsearch",
        "Stop and search",
        "Stop and search: outcomes and fairness",
        "For the stop-and-search scrutiny panel: how many searches, what they found and what "
        "followed, how often searches of each ethnic group and age found something, and "
        "whether people of some groups are searched more often than others, with the changes "
        "in how outcomes were recorded.",
        ("recording_breaks.md",),
    ),
    "schemes": PageInfo(
        "/schemes",
        "Schemes",
        "Schemes and their evaluation",
        "The partnership's register of local schemes (where, when, what they aim at) that the "
        "evaluation compares before and after, against comparison areas.",
        ("evaluation.md", "value_for_money.md", "evidence.md"),
    ),
    "ed": PageInfo(
        "/ed",
        "ED true picture",
        "The true picture: hospital assaults beside police data",
        "Assaults seen in emergency departments (ISTV data) beside police-recorded violence for "
        "each district: how much violence never reaches police records.",
    ),
    "people": PageInfo(
        "/people",
        "People",
        "People: the power few, repeat victims and young people",
        "From the force's pseudonymised crime extract: how much harm a few offenders account "
        "for, repeat victims, people who are both victim and offender, and young people's "
        "escalation, each flag with its transparency record.",
    ),
    "networks": PageInfo(
        "/networks",
        "Networks",
        "County-lines networks",
        "Networks from pseudonymised links (co-offending, phones, addresses, stations): lines "
        "found, brokers, young people at risk, cuckooing candidates and routes into the area, "
        "each with its measured error rate.",
        ("networks.md", "links.md", "networks_accuracy.md"),
    ),
    "upload": PageInfo(
        "/upload",
        "Upload data",
        "Upload police data",
        "Load a police.uk CSV into the shared store. Every row is loaded, counted as a "
        "duplicate, or quarantined with its line and the reason.",
    ),
    "audit": PageInfo("/audit", "Audit trail", "Audit trail", "Who saw which non-public data."),
}
# The filters each page's data takes (the builders in web/data.py read these parameters).
FILTERS = {
    "dashboard": ("area", "from", "to"),
    "profile": ("area", "from", "to"),
    "hotspots": ("area", "from", "to"),
    "stopsearch": ("area", "from", "to"),
    "networks": ("from", "to"),
}
METHODS_INTRO = (
    "Each part of this page says how it was worked out under \u201cHow this was worked out\u201d; "
    "the figures are the ones `harmscope` prints on the command line, published for your role."
)

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("harmscope.web", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
)


# -- shared page parts ----------------------------------------------------------------------


def nav_items(user: User | None) -> list[dict[str, str]]:
    """The pages ``user`` may see, in the matrix's order (the nav shows only these)."""
    return [
        {"resource": r, "path": PAGES[r].path, "label": PAGES[r].nav}
        for r in access.visible(user)
        if r in PAGES
    ]


def _html(template: str, resource: str, user: User | None, token: str, **context: Any) -> str:
    return _env.get_template(template).render(
        user=user,
        nav=nav_items(user),
        resource=resource,
        csrf_token=token,
        vendor_url=VENDOR_URL,
        static_url=STATIC_URL,
        page_title=context.pop("page_title", PAGES.get(resource, PAGES["dashboard"]).title),
        view=context.pop("view", None),
        **context,
    )


def render(
    request: Request, template: str, resource: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page from ``template`` with the layout's context (nav, user, CSRF token when the
    page has a form: the sign-out button, the login and upload forms)."""
    user = auth.current_user(request)
    holder = Response()
    need_csrf = user is not None or context.pop("csrf", False)
    token = auth.csrf_token(request, holder) if need_csrf else ""
    return _respond(holder, _html(template, resource, user, token, **context), status)


def _respond(holder: Response, html: str, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status)
    for key, value in holder.raw_headers:
        if key == b"set-cookie":  # a visitor's pre-login session (login form)
            response.raw_headers.append((key, value))
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(
    request: Request,
    resource: str,
    status: int,
    problem: str,
    *,
    where: str | None = None,
    fix: str | None = None,
    title: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "error.html.j2",
        resource,
        status,
        page_title=title or "This page could not be shown",
        problem=problem,
        where=where,
        fix=fix,
        code=status,
    )


def allow(request: Request, resource: str) -> User | HTMLResponse:
    """``auth.require(resource)``'s verdict as a page: the user, or an error page with its
    status (401 with a sign-in link, 403)."""
    try:
        return auth.require(resource).dependency(request)
    except HTTPException as exc:
        signin = exc.status_code == 401
        return error_page(
            request,
            resource,
            exc.status_code,
            "Sign in to see this page." if signin else "Your role may not see this page.",
            fix="sign in at /login with a partnership account"
            if signin
            else "ask your partnership's administrator if you need it",
            title="Sign in needed" if signin else "Not for your role",
        )


# -- parameters -----------------------------------------------------------------------------

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_AREA = re.compile(r"^[A-Za-z0-9 ,.'&()\-]{1,120}$")
_YEAR = re.compile(r"^(20[0-9]{2}|2100)$")


def page_params(request: Request) -> dict[str, str]:
    """area, year, from, to from the query string, checked as the API checks them (a bad one
    is a HarmscopeError naming it: the page answers 422)."""
    q = request.query_params
    out: dict[str, str] = {}
    for name, rule, example in (
        ("area", _AREA, "a force, district or CSP name, e.g. Maidstone"),
        ("year", _YEAR, "a year such as 2025"),
        ("from", _MONTH, "a month as YYYY-MM, e.g. 2025-01"),
        ("to", _MONTH, "a month as YYYY-MM, e.g. 2025-12"),
    ):
        value = (q.get(name) or "").strip()
        if not value:
            continue
        if not rule.match(value):
            raise HarmscopeError(
                f"{value[:40]!r} is not valid here", where=name, fix=f"give {example}"
            )
        out[name] = value
    return out


# -- data pages -----------------------------------------------------------------------------


def _load(store, resource: str, audience: str, params: dict) -> dict:
    """The published document. The hotspot page's map cells join it when the payload has
    none (web/pagedata.py); the cached document itself is never changed."""
    doc = data.payload(store, resource, audience, params)
    if resource == "hotspots":
        from harmscope.web import pagedata

        if "cells" not in doc:
            doc = {**doc, "cells": pagedata.hotspot_cells(store, audience, params)["cells"]}
        doc = {**doc, "districts": pagedata.area_districts(store, params)}
    return doc


# Stand-ins for the per-visitor parts of a cached page (the signed-in name and the CSRF
# token), put in when it is served: random, so no page text can contain them by chance.
_NAME_MARK = f"hs-name-{secrets.token_hex(12)}"
_CSRF_MARK = f"hs-csrf-{secrets.token_hex(12)}"


def _page_key(request: Request, resource: str, audience: str, params: dict, template: str,
              version: str | None) -> tuple | None:  # fmt: skip
    """The rendered page's cache key: its document's, plus what the layout shows of the
    visitor besides the stand-ins (the nav follows role and agency)."""
    if version is None:
        return None
    identity = request.app.state.pool.identity
    key = data.page_key(identity, resource, audience, params, version)
    signed = auth.current_user(request)
    who = (signed.role, signed.agency) if signed is not None else None
    return None if key is None else (*key, template, who)


def _cached_page(request: Request, user: User, resource: str, audience: str, params: dict,
                 template: str) -> str:  # fmt: skip
    """The page's HTML with stand-ins, from the page cache or built (and cached); the audit
    row for any audience but public, written once the page is there."""
    identity = request.app.state.pool.identity
    key = _page_key(request, resource, audience, params, template,
                    data.CACHE.fresh_version(identity))  # fmt: skip
    html = data.PAGES.get(key) if key is not None else None
    if html is None:
        with store_of(request) as store:
            key = _page_key(request, resource, audience, params, template,
                            data.CACHE.version(store))  # fmt: skip
            html = data.PAGES.get(key) if key is not None else None
            doc = _load(store, resource, audience, params) if html is None else None
        if html is None:
            html = _build_once(request, key, resource, audience, params, template, doc)
    if audience != "public":
        with store_of(request) as store:
            audit.record(store, user, "view", resource, f"GET {request.url.path}", params,
                         audience=audience)  # fmt: skip
    return html


def _build_once(request: Request, key: tuple | None, resource: str, audience: str,
                params: dict, template: str, doc: dict) -> str:  # fmt: skip
    """Build and cache the page; visitors arriving meanwhile wait for this one build (fifty
    users on a page whose data just changed cost one build, not fifty)."""
    if key is None:
        return _build_page(request, resource, audience, params, template, doc)
    with data.PAGES.build_lock(key):
        html = data.PAGES.get(key)
        if html is None:
            html = _build_page(request, resource, audience, params, template, doc)
            data.PAGES.put(key, html)
    return html


def _build_page(request: Request, resource: str, audience: str, params: dict, template: str,
                doc: dict) -> str:  # fmt: skip
    info = PAGES[resource]
    public = audience != "internal"
    view = present.build_view(
        doc,
        title="Figures",
        public=public,
        skip=FRONT_KEYS if resource == "dashboard" else frozenset(),
    )
    _extra_figures(resource, doc, view, public)
    signed = auth.current_user(request)
    stand_in = User(_NAME_MARK, signed.role, signed.agency) if signed is not None else None
    return _html(
        template,
        resource,
        stand_in,
        _CSRF_MARK if signed is not None else "",
        page_title=info.title,
        what=info.what,
        docs=info.docs,
        methods_intro=METHODS_INTRO,
        view=view,
        audience=audience,
        params=params,
        path=info.path,
        filters=FILTERS.get(resource, ()),
        doc=doc,
        front=_front(doc) if resource == "dashboard" else None,
        glossary=_glossary() if resource == "dashboard" else None,
    )


def _personal(request: Request, html: str) -> HTMLResponse:
    """The cached page with this visitor's name and CSRF token in place of the stand-ins."""
    signed = auth.current_user(request)
    holder = Response()
    if signed is not None:
        token = auth.csrf_token(request, holder)
        html = html.replace(_NAME_MARK, str(escape(signed.name)))
        html = html.replace(_CSRF_MARK, str(escape(token)))
    return _respond(holder, html)


def _extra_figures(resource: str, doc: dict, view: present.PageView, public: bool) -> None:
    """The maps and charts a page draws from its document's rows (besides the document's own
    charts): presentation of published values only."""
    from harmscope.web import pagecharts, pagemaps

    blocks = {b.key: b for b in view.blocks}
    for key, cid, spec in pagecharts.page_charts(resource, doc):
        block = blocks.get(key, view.blocks[0])
        dom_id = f"chart-{block.key}-{cid}"
        view.add_spec(dom_id, spec, harm_unit="sentence-equivalent days")
        block.charts.append(present.Figure(dom_id, spec.get("title", ""), "chart"))
    spec = None
    if resource == "profile" and isinstance(doc.get("totals"), list):
        spec = pagemaps.district_map(
            doc["totals"], "harm_rate_per_1000", "Harm per 1,000 residents", public=public
        )
    elif resource == "hotspots" and isinstance(doc.get("cells"), list):
        size = (doc.get("summary") or {}).get("cell_size_m")
        spec = pagemaps.hotspot_map(
            doc["cells"], size, public=public, districts=doc.get("districts") or []
        )
    if spec is not None:
        dom_id = f"map-{resource}"
        view.add_spec(dom_id, spec, harm_unit="")
        view.blocks[0].charts.insert(0, present.Figure(dom_id, spec["title"], "map"))


def data_page(request: Request, resource: str, template: str = "page.html.j2") -> HTMLResponse:
    """One data page, whole or an error page (never half-built)."""
    user = allow(request, resource)
    if isinstance(user, HTMLResponse):
        return user
    info = PAGES[resource]
    try:
        params = page_params(request)
        audience = access.audience_for(user, resource)
        html = _cached_page(request, user, resource, audience, params, template)
    except HarmscopeError as exc:
        from harmscope.store.store import StoreError

        status = 503 if isinstance(exc, StoreError) else 422
        return error_page(
            request,
            resource,
            status,
            exc.problem,
            where=exc.where,
            fix=exc.fix,
            title=f"{info.nav}: could not be shown",
        )
    except Exception as exc:  # a fault: said as one, never a half-empty page
        log.exception("page %s failed", resource)
        return error_page(
            request,
            resource,
            500,
            f"{type(exc).__name__}: the page's data could not be built",
            fix="this is a fault in harmscope: the server log has the details",
            title=f"{info.nav}: could not be shown",
        )
    return _personal(request, html)


# The dashboard document's front-page parts (report/front.py's FrontPage), shown as the
# board's summary rather than as tables.
FRONT_KEYS = frozenset({"findings", "changes", "risks", "caveats", "sections"})
# Where a finding's "More" goes: the report section it came from -> the page that shows it.
FRONT_LINKS = {
    "headline": "/profile",
    "trend": "/profile",
    "concentration": "/profile",
    "districts": "/profile",
    "harm-vs-count": "/profile",
    "hotspots": "/hotspots",
}


def _glossary() -> list[tuple[str, str]]:
    from harmscope.report.front import GLOSSARY

    return GLOSSARY


def _front(doc: dict) -> dict:
    """The dashboard's summary: findings, changes, risks and caveats, each finding and risk
    linked to the page that shows it; the area and months it covers."""
    out: dict[str, Any] = {k: doc.get(k) or [] for k in ("findings", "changes", "risks", "caveats")}
    for key in ("findings", "risks"):
        out[key] = [{**f, "href": FRONT_LINKS.get(str(f.get("link")))} for f in out[key]]
    out["area"] = doc.get("area")
    out["period"] = " to ".join(
        present.value_text("m", doc.get(k), public=False) for k in ("from", "to")
    )
    return out


def _page(resource: str, template: str = "page.html.j2"):
    def endpoint(request: Request) -> HTMLResponse:
        return data_page(request, resource, template)

    endpoint.__name__ = f"page_{resource}"
    router.add_api_route(
        PAGES[resource].path, endpoint, methods=["GET"], response_class=HTMLResponse
    )


_page("dashboard", "dashboard.html.j2")
for _resource in ("profile", "hotspots", "stopsearch", "schemes", "ed", "people", "networks"):
    _page(_resource)


# -- login and the audit viewer -------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The sign-in form (POST /login is auth's); ?error=1 after a wrong name or password."""
    message = "Wrong account name or password." if request.query_params.get("error") else None
    return render(
        request, "login.html.j2", "login", page_title="Sign in", message=message, csrf=True
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    user = allow(request, "audit")
    if isinstance(user, HTMLResponse):
        return user
    with store_of(request) as store:
        verdict = audit.check(store)
        rows = audit.entries(store, 200)
        audit.record(store, user, "view", "audit", f"GET {request.url.path}", {"limit": 200})
    for r in rows:
        r["params"] = audit.params_text(r["params"])
        r["logged_at"] = str(r["logged_at"])[:19].replace("T", " ")  # to the second
    return render(
        request,
        "audit.html.j2",
        "audit",
        page_title="Audit trail",
        rows=list(reversed(rows)),
        chain_ok=verdict.ok,
        first_bad=verdict.first_bad_id,
        total=verdict.rows,
        audience="internal",
    )
