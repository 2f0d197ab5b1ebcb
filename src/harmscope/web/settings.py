"""The web server's settings: where the store is, cookie and login rules, cache size."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


@dataclass
class WebSettings:
    """Settings of one server. ``secure_cookies`` None means: Secure unless the server is
    reached over plain http on loopback (``harmscope serve --host 127.0.0.1``); behind a
    TLS proxy set it True (``HARMSCOPE_SECURE_COOKIES=1``)."""

    db: str | None = None
    secure_cookies: bool | None = None
    session_hours: float = 8.0
    # login rate limiting: at most this many failures in the window, per account name and
    # per client address (an address is shared by a whole office behind NAT: allow more)
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    failure_window_seconds: int = 900
    cache_entries: int = 256
    # a version of the data is re-read at most this often (seconds) to key the cache
    data_version_ttl: float = 2.0
    # stores opened at once (PostgreSQL; an embedded DuckDB file always has one): enough that
    # signed-in requests (a session read and an audit row each) seldom wait for one
    pool_size: int = 8
    # smallest count a public page shows (the publishing path suppresses smaller ones)
    threshold: int = 5
    # public documents built in the background at start (`harmscope serve --warm`), so the
    # first visitors are served from the cache
    warm: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, db: str | None = None) -> WebSettings:
        secure = os.environ.get("HARMSCOPE_SECURE_COOKIES", "").strip().lower()
        return cls(
            db=db,
            secure_cookies=None if not secure else secure in ("1", "true", "yes"),
            pool_size=_env_int("HARMSCOPE_WEB_POOL", 8),
            max_failures_per_user=_env_int("HARMSCOPE_LOGIN_MAX_FAILURES", 5),
        )
