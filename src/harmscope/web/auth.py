"""Accounts, sessions, CSRF and login rate limiting.

* Passwords: argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile); an unknown
  account name costs one hash too, so timing does not tell names apart.
* Sessions are server-side: the cookie ``harmscope_session`` carries a random token and the
  store keeps only its sha256 (``web_sessions``). HttpOnly, SameSite=Strict, Secure unless
  the request is plain http on loopback. A new token at every login (no fixation); logout
  deletes the row.
* CSRF: each session has a token; every state-changing request (POST, PUT, PATCH, DELETE)
  must carry it in the form field ``csrf_token`` or the header ``X-CSRF-Token``. A visitor who
  has not signed in gets a pre-login session (no account) when the login form asks for a
  token, so the login form is protected as well.
* Rate limiting: failures are counted per account name and per client address over a
  window; past the limit the login answers 429 before any password is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from harmscope.errors import HarmscopeError
from harmscope.store.queries import web as q
from harmscope.web import access
from harmscope.web.access import PUBLIC, User
from harmscope.web.deps import store_of

COOKIE = "harmscope_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ACCOUNT_ROLES = ("partner", "analyst", "admin")  # public needs no account
MIN_PASSWORD = 12

_hasher = PasswordHasher()  # argon2id
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- accounts -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_account_fields(name: str, role: str, agency: str | None, password: str) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise HarmscopeError(
            f"account name {name!r} is not allowed",
            where="NAME",
            fix="use 1-64 letters, digits, '.', '_', '-' or '@'",
        )
    if role not in ACCOUNT_ROLES:
        raise HarmscopeError(
            f"unknown role {role!r}", where="--role", fix=f"use one of {', '.join(ACCOUNT_ROLES)}"
        )
    if role == "partner" and agency not in access.AGENCIES:
        raise HarmscopeError(
            "a partner account needs its agency",
            where="--agency",
            fix=f"add --agency {' | '.join(access.AGENCIES)}",
        )
    if role != "partner" and agency is not None:
        raise HarmscopeError(
            f"only partner accounts have an agency (this is {role})",
            where="--agency",
            fix="drop --agency, or use --role partner",
        )
    if len(password) < MIN_PASSWORD:
        raise HarmscopeError(
            f"the password is shorter than {MIN_PASSWORD} characters",
            where="password",
            fix=f"choose a passphrase of {MIN_PASSWORD} characters or more",
        )


def create_account(store, name: str, role: str, password: str, agency: str | None = None):
    """Add an account (argon2id hash of ``password``); an existing name is refused."""
    _check_account_fields(name, role, agency, password)
    if q.account(store, name) is not None:
        raise HarmscopeError(
            f"there is already an account called {name!r}",
            where="NAME",
            fix="choose another name, or `harmscope users disable` the old account first",
        )
    with store.transaction():
        q.add_account(store, name, role, agency, hash_password(password), _now())
    return User(name, role, agency)


def disable_account(store, name: str) -> None:
    """Disable an account and end its sessions at once."""
    if q.account(store, name) is None:
        raise HarmscopeError(
            f"no account called {name!r}", where="NAME", fix="see `harmscope users list`"
        )
    with store.transaction():
        q.set_disabled(store, name, True)
        q.delete_sessions_of(store, name)


def authenticate(store, name: str, password: str) -> User | None:
    """The account if ``password`` is right and the account is enabled, else None."""
    row = q.account(store, name) if name else None
    ok = check_password(row["password_hash"] if row else None, password)
    if not ok or row is None or row["disabled"]:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        with store.transaction():
            q.set_password(store, name, hash_password(password))
    return User(row["name"], row["role"], row["agency"])


# -- sessions -----------------------------------------------------------------------------


def new_session(store, account: str | None, hours: float) -> tuple[str, str]:
    """A new session (token, csrf token); only the token's hash is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with store.transaction():
        q.add_session(store, token_hash(token), account, csrf, now, now + timedelta(hours=hours))
    return token, csrf


def _session(request: Request) -> dict | None:
    """This request's session row (cached on the request), None without a live one."""
    if "hs_session" in request.state._state:
        return request.state.hs_session
    token = request.cookies.get(COOKIE)
    found = None
    if token and len(token) < 200:
        with store_of(request) as store:
            found = q.session(store, token_hash(token), _now())
    request.state.hs_session = found
    return found


def current_user(request: Request) -> User | None:
    """The signed-in account of this request, None for the public."""
    s = _session(request)
    if s is None or s["account"] is None or s["disabled"] or s["role"] is None:
        return None
    return User(s["account"], s["role"], s["agency"])


def _secure(request: Request) -> bool:
    chosen = request.app.state.settings.secure_cookies
    if chosen is not None:
        return chosen
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True  # a name other than localhost over plain http: Secure all the same


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    hours = request.app.state.settings.session_hours
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def csrf_token(request: Request, response: Response) -> str:
    """The CSRF token for this request's session; a visitor with no session gets a pre-login
    one (its cookie set on ``response``). Pages put it in the form field ``csrf_token``."""
    s = _session(request)
    if s is not None:
        return s["csrf_token"]
    with store_of(request) as store:
        token, csrf = new_session(store, None, request.app.state.settings.session_hours)
    set_session_cookie(request, response, token)
    request.state.hs_session = {
        "account": None,
        "csrf_token": csrf,
        "role": None,
        "agency": None,
        "disabled": False,
    }
    return csrf


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: a state-changing request without its session's CSRF token is
    refused (403), whatever route it is for."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    s = await run_in_threadpool(_session, request)  # a store read: off the event loop
    if not sent or s is None or not hmac.compare_digest(sent, s["csrf_token"]):
        raise HTTPException(
            status_code=403,
            detail="CSRF token missing or wrong: reload the page and try again",
        )


def require(resource: str, *, asynchronous: bool = False):
    """A dependency for a route showing ``resource``: the user (``access.PUBLIC`` when not
    signed in) if the matrix allows it; 401 when signing in is needed, 403 when this account
    may not see it. ``.dependency(request)`` gives the same verdict called directly (sync).
    ``asynchronous``: the Depends wraps an async function that reads the store only when a
    session cookie is present (the API's data routes)."""
    access.MATRIX[resource]  # an unknown resource fails when the route is declared

    def dependency(request: Request) -> User:
        return _verdict(resource, current_user(request))

    async def async_dependency(request: Request) -> User:
        # no cookie: no store to ask, so no hop to the thread pool (a public page under load)
        if request.cookies.get(COOKIE) is None:
            return _verdict(resource, None)
        return await run_in_threadpool(dependency, request)

    dependency.__name__ = f"require_{resource}"
    async_dependency.__name__ = f"require_{resource}"
    return Depends(async_dependency) if asynchronous else Depends(dependency)


def _verdict(resource: str, user: User | None) -> User:
    """The user when the matrix allows ``resource``; else 401 (not signed in) or 403."""
    if access.allowed(user, resource):
        return user or PUBLIC
    if user is None:
        raise HTTPException(
            status_code=401,
            detail=f"sign in to see {resource}",
            headers={"WWW-Authenticate": 'Cookie realm="harmscope"'},
        )
    raise HTTPException(status_code=403, detail=f"your role may not see {resource}")


# -- login rate limiting ------------------------------------------------------------------


class RateLimiter:
    """Failed logins per key (account name, client address) within a sliding window."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._failures[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._recent(key, time.monotonic()))

    def fail(self, key: str) -> None:
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def retry_after(self, key: str) -> int:
        with self._lock:
            hits = self._recent(key, time.monotonic())
            return int(self.window - (time.monotonic() - hits[0])) + 1 if hits else 0


def _limited(request: Request, username: str) -> int | None:
    """Seconds to wait when this login is over a limit, else None."""
    s = request.app.state.settings
    limiter: RateLimiter = request.app.state.login_limiter
    keys = [(f"user:{username.lower()}", s.max_failures_per_user)]
    keys.append(
        (f"addr:{request.client.host if request.client else '-'}", s.max_failures_per_address)
    )
    waits = [limiter.retry_after(k) for k, limit in keys if limiter.count(k) >= limit]
    return max(waits) if waits else None


# -- routes -------------------------------------------------------------------------------

router = APIRouter(tags=["auth"])


class CsrfToken(BaseModel):
    csrf_token: str


class Me(BaseModel):
    name: str
    role: str
    agency: str | None
    resources: list[str]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/api/csrf", response_model=CsrfToken, summary="A CSRF token for this session")
def get_csrf(request: Request, response: Response) -> CsrfToken:
    """The token to send as ``X-CSRF-Token`` (or form field ``csrf_token``) with every
    POST; starts a pre-login session for a visitor who has none."""
    return CsrfToken(csrf_token=csrf_token(request, response))


@router.get("/api/me", response_model=Me, summary="Who is signed in")
def get_me(request: Request) -> Me:
    user = current_user(request) or PUBLIC
    return Me(name=user.name, role=user.role, agency=user.agency, resources=access.visible(user))


def _login_failed(request: Request, status: int, detail: str, headers: dict | None = None):
    if _wants_html(request) and status == 401:
        return RedirectResponse("/login?error=1", status_code=303)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


@router.post("/login", summary="Sign in (form: username, password, csrf_token)")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:128]
    password = str(form.get("password") or "")[:1024]
    # argon2 and the store: in the thread pool, so a sign-in does not stall other requests
    return await run_in_threadpool(
        _login, request, username, password, str(form.get("next") or "/")
    )


def _login(request: Request, username: str, password: str, next_path: str) -> Response:
    wait = _limited(request, username)
    if wait is not None:
        return _login_failed(
            request,
            429,
            "too many failed sign-ins: wait and try again",
            {"Retry-After": str(wait)},
        )
    settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.login_limiter
    old = request.cookies.get(COOKIE)
    with store_of(request) as store:
        user = authenticate(store, username, password)
        if user is None:
            limiter.fail(f"user:{username.lower()}")
            limiter.fail(f"addr:{request.client.host if request.client else '-'}")
            return _login_failed(request, 401, "wrong account name or password")
        if old:  # the pre-login session ends: the signed-in one gets a new token
            with store.transaction():
                q.delete_session(store, token_hash(old))
                q.delete_expired_sessions(store, _now())
        token, _ = new_session(store, user.name, settings.session_hours)
        from harmscope.web import audit

        audit.record(store, user, "login", "session", "POST /login", {})
    limiter.clear(f"user:{username.lower()}")
    target = _safe_next(next_path)
    response = (
        RedirectResponse(target, status_code=303)
        if _wants_html(request)
        else JSONResponse({"name": user.name, "role": user.role, "agency": user.agency})
    )
    set_session_cookie(request, response, token)
    return response


@router.post("/logout", summary="Sign out")
def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        with store_of(request) as store, store.transaction():
            q.delete_session(store, token_hash(token))
    response = (
        RedirectResponse("/", status_code=303)
        if _wants_html(request)
        else JSONResponse({"signed_out": True})
    )
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
