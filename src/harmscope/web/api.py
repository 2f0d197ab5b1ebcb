"""The REST API: ``GET /api/<resource>`` gives a page's data as the CLI's ``--json`` does,
for the audience the caller's role gets; ``GET /api/audit`` (admin); ``GET /api/health``.

Every data route depends on ``auth.require(resource)`` (401/403 from the matrix), reads
``data.cached`` (the publishing path, cached) and, for any audience but public, appends an
audit row naming who asked, for what, with which parameters.
"""

from __future__ import annotations

import queue
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from harmscope import __version__
from harmscope.web import access, audit, data
from harmscope.web.access import User
from harmscope.web.auth import require
from harmscope.web.deps import store_of

router = APIRouter(prefix="/api", tags=["data"])

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
AreaQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9 ,.'&()\-]+$",
        description="Force, county, district (name or GSS code), several districts "
        '("Dartford,Gravesham") or a named CSP.',
    ),
]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="A calendar year.")]
FromQuery = Annotated[
    str | None, Query(alias="from", pattern=MONTH, description="First month, YYYY-MM.")
]
ToQuery = Annotated[
    str | None, Query(alias="to", pattern=MONTH, description="Last month, YYYY-MM.")
]


class Doc(BaseModel):
    """A published document: the fields named here always, others as the command gives."""

    model_config = ConfigDict(extra="allow")


class AudiencedDoc(Doc):
    audience: str


class SummaryDoc(AudiencedDoc):
    summary: dict[str, Any]


class DashboardDoc(AudiencedDoc):
    area: str
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    findings: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    risks: list[dict[str, Any]]
    caveats: list[str]
    sections: dict[str, str]


class SchemesDoc(AudiencedDoc):
    schemes: list[dict[str, Any]]


class EdDoc(SummaryDoc):
    method: Any
    notes: list[Any]
    table: list[dict[str, Any]]
    tables: dict[str, Any]
    withheld: list[Any]


class Health(BaseModel):
    status: str
    version: str
    schema_version: int
    store: str


class AuditEntry(BaseModel):
    audit_id: int
    logged_at: str
    who: str
    role: str
    agency: str | None
    action: str
    resource: str
    audience: str
    query: str
    params: dict[str, Any]
    row_hash: str


class AuditDoc(BaseModel):
    ok: bool
    first_bad_id: int | None
    problem: str | None
    rows: int
    head: str
    entries: list[AuditEntry]


MODELS: dict[str, type[BaseModel]] = {
    "dashboard": DashboardDoc,
    "profile": SummaryDoc,
    "hotspots": SummaryDoc,
    "stopsearch": AudiencedDoc,
    "schemes": SchemesDoc,
    "ed": EdDoc,
    "people": SummaryDoc,
    "networks": SummaryDoc,
}
ERRORS = {
    401: {"description": "Sign in to see this"},
    403: {"description": "Your role may not see this"},
    422: {"description": "A parameter is not valid (problem, where, fix)"},
}


@router.get("/health", response_model=Health, summary="Liveness: the server and its store")
def health(request: Request) -> Health:
    """200 while the server runs and its store answers. A DuckDB store busy building a
    page for a few seconds is up: ``status`` says "busy" rather than keeping you waiting."""
    pool = request.app.state.pool
    try:
        with pool.store(wait=1.0) as store:
            version, status = store.schema_version(), "ok"
    except queue.Empty:
        version, status = -1, "busy"
    store_kind = "postgresql" if pool.dialect == "postgres" else "duckdb"
    return Health(status=status, version=__version__, schema_version=version, store=store_kind)


async def serve_data(request: Request, user: User, resource: str, params: dict) -> Response:
    """The cached document for ``resource`` at the user's audience, audited when not public.
    Returned as ready JSON bytes (the response model documents it). A cached public document
    is answered on the event loop; anything that needs the store runs in the thread pool."""
    audience = access.audience_for(user, resource)
    if audience == "public":  # nothing to audit: a cached document needs no store
        found = data.peek(request.app.state.pool.identity, resource, audience, params)
        if found is not None:
            return _json(found[1])
    body = await run_in_threadpool(_from_store, request, user, resource, audience, params)
    return _json(body)


def _from_store(request: Request, user: User, resource: str, audience: str, params) -> bytes:
    pool = request.app.state.pool
    try:
        with pool.store(wait=0.2) as store:
            return _build(store, request, user, resource, audience, params)
    except queue.Empty:  # the store is busy (an embedded DuckDB file building a page)
        if audience == "public":
            found = data.peek(pool.identity, resource, audience, params, stale=True)
            if found is not None:
                return found[1]
    with pool.store() as store:
        return _build(store, request, user, resource, audience, params)


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _build(store, request: Request, user: User, resource: str, audience: str, params) -> bytes:
    _, body = data.cached(store, resource, audience, params)
    if audience != "public":
        audit.record(
            store, user, "view", resource, f"GET {request.url.path}", params, audience=audience
        )
    return body


def _data_route(resource: str) -> None:
    rule = access.MATRIX[resource]

    async def endpoint(
        request: Request,
        area: AreaQuery = None,
        year: YearQuery = None,
        date_from: FromQuery = None,
        date_to: ToQuery = None,
        user: User = require(resource, asynchronous=True),
    ) -> Response:
        params = {"area": area, "year": year, "from": date_from, "to": date_to}
        return await serve_data(request, user, resource, {k: v for k, v in params.items() if v})

    endpoint.__name__ = f"api_{resource}"
    router.add_api_route(
        f"/{resource}",
        endpoint,
        methods=["GET"],
        response_model=MODELS[resource],
        summary=rule.title,
        description=f"{data.COMMAND_OF[resource]}, published for your role's audience "
        f"(data owner: {rule.owner}).",
        responses=ERRORS,
    )


for _resource in data.BUILDERS:
    _data_route(_resource)


@router.get("/audit", response_model=AuditDoc, summary="Audit trail (admin)", responses=ERRORS)
def get_audit(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    user: User = require("audit"),
) -> AuditDoc:
    """The newest entries, newest first, and whether the hash chain is whole."""
    with store_of(request) as store:
        verdict = audit.check(store)
        entries = audit.entries(store, limit)
        audit.record(store, user, "view", "audit", f"GET {request.url.path}", {"limit": limit})
    return AuditDoc(
        ok=verdict.ok,
        first_bad_id=verdict.first_bad_id,
        problem=verdict.problem,
        rows=verdict.rows,
        head=verdict.head,
        entries=[AuditEntry(**e) for e in entries],
    )
