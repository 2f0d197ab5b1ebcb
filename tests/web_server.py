"""A real `harmscope serve` for the web tests (issue 16): a subprocess on a free loopback port,
over a store built from real Kent files plus synthetic ED, people and links data, with one
account per role.

Test modules load it as a plugin (``pytest_plugins = ("web_server",)``), so its session
fixtures run once however many web test modules ask for them (a fixture merely imported into
several modules would be built once per module). ``benchmarks/bench_web.py`` uses the same
:class:`WebServer` and :func:`login` on its own PostgreSQL store.

PYTEST_DONT_REWRITE: test modules import names from here before pytest loads it as a plugin,
so it is not assertion-rewritten (its failures raise with their own messages).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARMSCOPE_SHARED", ROOT.parent / "shared")) / "data"
KENT = SHARED / "police" / "kent"
# A few real street months (the second half of 2025, as the bundled sample) and a year of stop
# and search: enough for every page, quick to ingest. 2025-06 is left out for the upload test.
STREET_MONTHS = ("2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12")
UPLOAD_MONTH = "2025-06"
HOST = "127.0.0.1"
START_TIMEOUT = 90.0

# Who walks the site: persona -> (role, agency). "public" has no account.
PERSONAS: dict[str, tuple[str, str | None]] = {
    "public": ("public", None),
    "partner-police": ("partner", "police"),
    "partner-health": ("partner", "health"),
    "partner-council": ("partner", "council"),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_COOKIE = "harmscope_session"


def street_file(month: str) -> Path:
    return KENT / "street" / f"{month}-kent-street.csv.gz"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class WebServer:
    """``harmscope serve --db DB --host 127.0.0.1 --port N`` as a real subprocess.

    ``start()`` waits for GET /api/health to answer 200 (or fails with the server's stderr);
    ``stop()`` ends the process it started, and only that one."""

    def __init__(self, db: str | Path, *, port: int | None = None, env: dict | None = None):
        self.db = str(db)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="harmscope-serve-", suffix=".log")

    def command(self) -> list[str]:
        return [sys.executable, "-m", "harmscope", "serve", "--db", self.db,
                "--host", HOST, "--port", str(self.port)]  # fmt: skip

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def start(self, timeout: float = START_TIMEOUT) -> WebServer:
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=self.env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"harmscope serve exited with {self.proc.returncode}:\n{self.log()[-4000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"harmscope serve gave no 200 on /api/health in {timeout:.0f} s:\n{self.log()[-4000:]}"
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self._log.close()


def csrf(client: httpx.Client) -> str:
    """This client's session CSRF token (GET /api/csrf starts a visitor session if needed)."""
    r = client.get("/api/csrf")
    r.raise_for_status()
    return r.json()["csrf_token"]


def login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    """Log ``client`` in as a script would: a CSRF token for its visitor session, then POST
    /login (form: username, password, csrf_token)."""
    return client.post(
        "/login", data={"username": name, "password": password, CSRF_FIELD: csrf(client)}
    )


def client_for(url: str, **kw) -> httpx.Client:
    return httpx.Client(base_url=url, follow_redirects=False, timeout=60, **kw)


@dataclass
class Account:
    persona: str
    role: str
    agency: str | None
    name: str | None = None
    password: str | None = None


def make_accounts() -> dict[str, Account]:
    """One account per persona, each with a fresh random password (no password in the code)."""
    out = {}
    for persona, (role, agency) in PERSONAS.items():
        acc = Account(persona, role, agency)
        if role != "public":
            acc.name = f"web-{persona}"
            acc.password = secrets.token_urlsafe(18)
        out[persona] = acc
    return out


def add_accounts(db: str | Path, accounts: dict[str, Account]) -> None:
    """Create the accounts with the real `harmscope users add` (in this process, for speed;
    the password through HARMSCOPE_PASSWORD, as a script gives it)."""
    for acc in accounts.values():
        if acc.name is None:
            continue
        args = ["users", "add", acc.name, "--role", acc.role, "--db", str(db)]
        if acc.agency:
            args += ["--agency", acc.agency]
        old = os.environ.get("HARMSCOPE_PASSWORD")
        os.environ["HARMSCOPE_PASSWORD"] = acc.password
        try:
            _cli(*args)
        finally:
            if old is None:
                os.environ.pop("HARMSCOPE_PASSWORD", None)
            else:
                os.environ["HARMSCOPE_PASSWORD"] = old


@dataclass
class Live:
    """A running server and who may log in to it."""

    server: WebServer
    accounts: dict[str, Account]
    folder: Path
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, persona: str) -> httpx.Client:
        """A logged-in client for ``persona`` (shared; logged in once), or an anonymous one."""
        if persona not in self._clients:
            c = client_for(self.url)
            acc = self.accounts[persona]
            if acc.name is not None:
                r = login(c, acc.name, acc.password)
                assert r.status_code in (200, 302, 303), (persona, r.status_code, r.text[:500])
            self._clients[persona] = c
        return self._clients[persona]

    def fresh(self, persona: str) -> httpx.Client:
        """A new client of its own (logged in unless public); the caller closes it."""
        c = client_for(self.url)
        acc = self.accounts[persona]
        if acc.name is not None:
            r = login(c, acc.name, acc.password)
            assert r.status_code in (200, 302, 303), (persona, r.status_code, r.text[:500])
        return c

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()


def _cli(*args) -> None:
    from harmscope.cli import main

    code = main([str(a) for a in args])
    if code:
        raise RuntimeError(f"harmscope {' '.join(map(str, args))} exited {code}")


def build_store(folder: Path) -> tuple[Path, Path]:
    """A DuckDB store of real Kent street months and 2018 stop and search, plus synthetic ED,
    a synthetic crime extract (people), synthetic county-lines links and the example scheme
    register, each through its real loader. Returns (store, key file)."""
    street = [street_file(m) for m in STREET_MONTHS]
    stops = sorted((KENT / "stop-and-search").glob("*.csv.gz"))
    missing = [p for p in street if not p.exists()]
    if missing or not stops:
        pytest.fail(f"the real police data is missing under {KENT}: {missing or 'stop-and-search'}")
    db, key = folder / "web.duckdb", folder / "partnership.key"
    key.write_text(secrets.token_hex(32) + "\n")
    _cli("ingest", *street, *stops, "--db", db, "-q")
    _cli("simulate", "ed", "--seed", 5, "--out", folder / "ed.csv", "--db", db)
    _cli("ed", "ingest", folder / "ed.csv", "--db", db, "--key-file", key, "-q")
    _cli("simulate", "crimes", "--seed", 3, "--crimes", 3000, "--out", folder / "extract.csv")
    _cli("crimes", "ingest", folder / "extract.csv", "--db", db, "--key-file", key, "-q")
    _cli("simulate", "lines", "--seed", 4, "--out", folder / "lines")
    _cli("links", "ingest", folder / "lines" / "links.csv", "--db", db, "--key-file", key, "-q")
    _cli("schemes", "--example", "--db", db, "-q")
    return db, key


@dataclass
class WebStore:
    """The web tests' store: ``db`` (the live server's), ``pristine`` (a copy taken before any
    server touched it, for in-process apps and before/after checks), the key, the accounts."""

    db: Path
    pristine: Path
    key: Path
    accounts: dict[str, Account]

    def copy(self, to: Path) -> Path:
        """A private copy of the pristine store (accounts included)."""
        shutil.copy(self.pristine, to)
        return to


@pytest.fixture(scope="session")
def web_store(tmp_path_factory) -> WebStore:
    """See :func:`build_store`; with an account per persona. The server owns ``db`` once
    started: tests read ``pristine`` copies."""
    folder = tmp_path_factory.mktemp("web")
    db, key = build_store(folder)
    accounts = make_accounts()
    add_accounts(db, accounts)
    pristine = folder / "pristine.duckdb"
    shutil.copy(db, pristine)
    return WebStore(db, pristine, key, accounts)


@pytest.fixture(scope="session")
def live(web_store) -> Live:
    """The one server of the web tests (walk, schema, browser), an account per persona."""
    server = WebServer(web_store.db)
    server.start()
    it = Live(server, web_store.accounts, web_store.db.parent)
    try:
        yield it
    finally:
        it.close()
        server.stop()
