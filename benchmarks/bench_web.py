"""Load test of the web workspace (issue 16), on loopback only, bounded, stopping by itself.

Starts its own PostgreSQL cluster (scripts/pg-cluster.sh, in a temporary folder, unix socket
only), ingests a full Kent year (2025: 12 street files) and the Kent stop and search files,
adds an analyst and a partner account, starts its own `harmscope serve` on a free loopback
port, warms each page once, then runs USERS concurrent users (asyncio + httpx) for DURATION
seconds over the dashboard page and the data API: most as the public, some signed in as the
analyst or the partner. Prints p50, p95, errors and requests/s, and the contract line
``web_p95: X ms (baseline Y ms, ratio R)``: the baseline is GET /api/health's p95 in the same
run, under the same load (the server's floor: no data, one store read).

Environment: HARMSCOPE_BENCH_WEB_USERS (50), HARMSCOPE_BENCH_WEB_SECONDS (30),
HARMSCOPE_BENCH_WEB_DB (an existing postgresql:// URL or DuckDB file: skip the cluster and
the ingest).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED, figure, kent_street_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from web_server import WebServer, free_port, login  # noqa: E402  (tests/web_server.py)

USERS = int(os.environ.get("HARMSCOPE_BENCH_WEB_USERS", "50"))
SECONDS = float(os.environ.get("HARMSCOPE_BENCH_WEB_SECONDS", "30"))
MAX_REQUESTS = 200_000  # a second bound besides the clock
PG = ROOT / "scripts" / "pg-cluster.sh"
# (who, path): the pages and API routes the users walk round, each from its own offset.
PUBLIC_MIX = ["/", "/api/dashboard", "/api/stopsearch", "/api/profile", "/api/hotspots",
              "/stopsearch", "/profile", "/api/health"]  # fmt: skip
SIGNED_MIX = ["/", "/api/dashboard", "/api/profile", "/api/hotspots", "/hotspots",
              "/api/schemes", "/api/health"]  # fmt: skip
SHARES = {"public": 0.7, "analyst": 0.2, "partner": 0.1}


def harmscope(*args, env: dict | None = None) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "harmscope", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip
    if res.returncode:
        raise SystemExit(f"harmscope {args[0]} failed:\n{res.stderr[-3000:]}")


def start_cluster(folder: Path) -> str:
    env = {**os.environ, "PG_FAST": "1", "PGPORT": str(free_port())}
    res = subprocess.run(["sh", str(PG), "start", str(folder)], capture_output=True, text=True,
                         env=env, check=False)  # fmt: skip
    if res.returncode:
        raise SystemExit(f"pg-cluster.sh start failed:\n{res.stderr[-3000:]}")
    return res.stdout.strip().splitlines()[-1]


def stop_cluster(folder: Path) -> None:
    subprocess.run(["sh", str(PG), "stop", str(folder)], capture_output=True, check=False)


def load_store(db: str) -> None:
    """Ingest the Kent 2025 year and stop and search."""
    street = [p for p in kent_street_files() if p.name.startswith("2025-")]
    stops = sorted((SHARED / "police/kent/stop-and-search").glob("*.csv.gz"))
    if len(street) != 12 or not stops:
        raise SystemExit(f"expected 12 Kent 2025 street files and stop and search under {SHARED}")
    t0 = time.perf_counter()
    harmscope("ingest", *street, *stops, "--db", db, "-q")
    print(f"ingest: {len(street)} street + {len(stops)} stop-and-search files in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip


def add_accounts(db: str) -> dict[str, tuple[str, str]]:
    """An analyst and a partner account, new names each run (a given store may have older)."""
    accounts = {}
    run = secrets.token_hex(3)
    for role, agency in (("analyst", None), ("partner", "council")):
        name, password = f"bench-{role}-{run}", secrets.token_urlsafe(18)
        args = ["users", "add", name, "--role", role, "--db", db]
        harmscope(*args, *(["--agency", agency] if agency else []),
                  env={"HARMSCOPE_PASSWORD": password})  # fmt: skip
        accounts[role] = (name, password)
    return accounts


def cookies_for(url: str, accounts: dict) -> dict[str, dict]:
    import httpx

    out = {"public": {}}
    for role, (name, password) in accounts.items():
        with httpx.Client(base_url=url, timeout=120) as c:
            r = login(c, name, password)
            if r.status_code != 200:
                raise SystemExit(f"login as {role} failed: {r.status_code} {r.text[:300]}")
            out[role] = dict(c.cookies)
    return out


def warm(url: str, cookies: dict[str, dict]) -> None:
    """Each page once per audience (the cold builds; reported, not part of the figures)."""
    import httpx

    for who, jar in cookies.items():
        for path in PUBLIC_MIX if who == "public" else SIGNED_MIX:
            t0 = time.perf_counter()
            r = httpx.get(url + path, cookies=jar, timeout=600)
            if r.status_code != 200:
                raise SystemExit(f"warm-up {path} as {who}: {r.status_code} {r.text[:300]}")
            print(f"  cold {who:8s} {path:16s} {time.perf_counter() - t0:6.2f} s", flush=True)


async def user(i: int, who: str, url: str, jar: dict, deadline: float, out: list) -> None:
    import httpx

    mix = PUBLIC_MIX if who == "public" else SIGNED_MIX
    async with httpx.AsyncClient(base_url=url, cookies=jar, timeout=60) as c:
        n = i
        while time.perf_counter() < deadline and len(out) < MAX_REQUESTS:
            path = mix[n % len(mix)]
            n += 1
            t0 = time.perf_counter()
            try:
                r = await c.get(path)
                status = r.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}"
            out.append((path, time.perf_counter() - t0, status))


async def run_load(url: str, cookies: dict[str, dict]) -> tuple[list, float]:
    roles = []
    for who, share in SHARES.items():
        roles += [who] * round(USERS * share)
    roles = (roles + ["public"] * USERS)[:USERS]
    out: list = []
    t0 = time.perf_counter()
    deadline = t0 + SECONDS
    await asyncio.gather(*(user(i, w, url, cookies[w], deadline, out) for i, w in enumerate(roles)))
    return out, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def report(out: list, elapsed: float) -> None:
    errors = [o for o in out if not (isinstance(o[2], int) and o[2] < 400)]
    data = [o[1] * 1000 for o in out if o[0] != "/api/health"]
    health = [o[1] * 1000 for o in out if o[0] == "/api/health"]
    print(f"load: {USERS} users, {elapsed:.1f} s, {len(out)} requests, "
          f"{len(out) / elapsed:.1f} requests/s, errors {len(errors)}", flush=True)  # fmt: skip
    for path in sorted({o[0] for o in out}):
        ms = [o[1] * 1000 for o in out if o[0] == path]
        print(f"  {path:16s} n={len(ms):6d} p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms")
    print(f"dashboard and API: p50 {pct(data, 50):.1f} ms, p95 {pct(data, 95):.1f} ms; "
          f"errors {len(errors)}", flush=True)  # fmt: skip
    if errors:
        print("  first errors:", errors[:5], flush=True)
    # p50 against the same floor; errors and throughput as plain lines (no baseline to hold)
    figure("web_p50", pct(data, 50), "ms", pct(health, 50))
    print(f"web_errors: {len(errors)} of {len(out)} requests", flush=True)
    print(f"web_throughput: {len(out) / elapsed:.1f} requests/s", flush=True)
    figure("web_p95", pct(data, 95), "ms", pct(health, 95))
    if errors:
        raise SystemExit(f"{len(errors)} requests failed under load")


def main() -> None:
    given = os.environ.get("HARMSCOPE_BENCH_WEB_DB")
    folder = Path(tempfile.mkdtemp(prefix="harmscope-bench-web-"))
    # a folder of its own: pg-cluster.sh gives it to the postgres account (mode 0700)
    cluster = Path(tempfile.mkdtemp(prefix="harmscope-bench-pg-"))
    server = None
    try:
        db = given or start_cluster(cluster)
        if not given:
            load_store(db)
        accounts = add_accounts(db)
        server = WebServer(db).start(timeout=300)
        print(f"server: {server.url} on {'PostgreSQL' if db.startswith('postgres') else db}")
        cookies = cookies_for(server.url, accounts)
        warm(server.url, cookies)
        out, elapsed = asyncio.run(run_load(server.url, cookies))
        report(out, elapsed)
    finally:
        if server is not None:
            server.stop()
        if not given:
            stop_cluster(cluster)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(cluster, ignore_errors=True)


if __name__ == "__main__":
    main()
