"""The app: ``create_app(db)`` builds the FastAPI application on one store.

Routers: auth (login, logout, CSRF token), the REST API, and the HTML pages and upload when
present (web/pages.py, web/upload.py). An app-wide dependency checks the CSRF token on every
state-changing request, so no route can forget it. The vendored Vega and Leaflet files are
served from the package (``/static/vendor``): nothing comes from a CDN.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from harmscope import __version__
from harmscope.errors import HarmscopeError
from harmscope.web import auth
from harmscope.web.deps import StorePool
from harmscope.web.settings import WebSettings

VENDOR = Path(__file__).resolve().parents[1] / "report" / "vendor"
STATIC = Path(__file__).resolve().parent / "static"
# Sent with every response: no framing, no MIME sniffing, no referrer to other sites.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
]


class SecurityHeaders:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware under load)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _optional_router(name: str):
    """web/<name>.py's router when that module exists (W-pages' pages and upload)."""
    try:
        module = importlib.import_module(f"harmscope.web.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"harmscope.web.{name}":
            return None
        raise
    return getattr(module, "router", None)


def _error_handlers(app: FastAPI) -> None:
    from harmscope.store.store import StoreError

    @app.exception_handler(HarmscopeError)
    async def harmscope_error(request: Request, exc: HarmscopeError):
        status = 503 if isinstance(exc, StoreError) else 422
        detail = {"message": str(exc), "problem": exc.problem, "where": exc.where, "fix": exc.fix}
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        # the errors without the input echoed back (it may be a password or a file)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)


WARM = ("dashboard", "stopsearch", "profile", "hotspots")


def warm_cache(pool: StorePool, resources: tuple[str, ...]) -> threading.Thread:
    """Build the public documents of ``resources`` in a background thread (one at a time,
    the store released between them). A failure is left for the first visitor to see."""
    from harmscope.web import data

    def run() -> None:
        for resource in resources:
            with contextlib.suppress(Exception), pool.store() as store:
                data.cached(store, resource, "public", {})

    thread = threading.Thread(target=run, name="harmscope-warm", daemon=True)
    thread.start()
    return thread


def create_app(db: str | None = None, *, settings: WebSettings | None = None) -> FastAPI:
    """The web app on the store ``db`` (a DuckDB file or a ``postgresql://`` URL; default
    ``HARMSCOPE_DB`` or ./harmscope.duckdb). The store is opened (and migrated) now, so a bad
    store fails at start-up, not at the first request."""
    settings = settings or WebSettings.from_env(db)
    if db is not None:
        settings.db = db
    pool = StorePool(settings.db, settings.pool_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.close()

    app = FastAPI(
        title="harmscope",
        version=__version__,
        summary="The partnership's shared workspace: violence-reduction analyses for each "
        "role, through the publishing path, audited.",
        dependencies=[Depends(auth.csrf_guard)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.login_limiter = auth.RateLimiter(settings.failure_window_seconds)
    _error_handlers(app)
    from harmscope.web import api

    app.include_router(auth.router)
    app.include_router(api.router)
    for name in ("upload", "pages"):
        router = _optional_router(name)
        if router is not None:
            app.include_router(router)
    app.mount("/static/vendor", StaticFiles(directory=VENDOR), name="vendor")
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    if settings.warm:
        app.state.warming = warm_cache(pool, settings.warm)
    return app
