"""Each page's data: the same JSON document the command line's ``--json`` prints, built by
the same library calls, published for the audience the role gets (access.audience_for).

Nothing here decides what an audience may see: every builder hands the audience to the
publishing path (privacy/publishers.py and friends), which fails closed. Documents are cached
per (store, resource, audience, parameters, data version), so a dashboard under load is
served from memory; the data version (store/queries/web.py) changes with any ingest, so a
new file is never hidden behind an old page.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from harmscope.analysis.result import _jsonable
from harmscope.errors import HarmscopeError
from harmscope.store.queries import web as q

# The CLI command each resource's document comes from (docs/web.md repeats this).
COMMAND_OF = {
    "dashboard": "harmscope report (its front page: findings, changes, risks)",
    "profile": "harmscope harm --json",
    "hotspots": "harmscope hotspots --json",
    "stopsearch": "harmscope stopsearch --json",
    "schemes": "harmscope schemes --json (plus the audience)",
    "ed": "harmscope ed picture --json",
    "people": "harmscope people --json",
    "networks": "harmscope networks --json",
}
# Report sections whose published tables the dashboard's front page reads (report/front.py).
FRONT_SECTIONS = [
    "profile_headline",
    "profile_trend",
    "profile_concentration",
    "profile_districts",
    "profile_categories",
    "alerts",
    "hotspots",
]
DEFAULT_THRESHOLD = 5


def _plain(doc: Any) -> dict:
    """Exactly what ``print_json`` writes, read back: plain JSON types only."""
    return json.loads(json.dumps(_jsonable(doc), default=str))


def _no_print(*_a, **_k) -> None:
    """A progress callback that says nothing (the web shows no progress for these)."""


# -- the builders, one per resource ---------------------------------------------------------


def _stopsearch(store, audience: str, p: dict) -> dict:
    from harmscope.privacy.scrutiny import published_scrutiny

    doc, _ = published_scrutiny(
        store,
        p.get("from"),
        p.get("to"),
        force=p.get("area"),
        audience=audience,
        threshold=p.get("threshold", DEFAULT_THRESHOLD),
    )
    return doc


def _profile(store, audience: str, p: dict) -> dict:
    from harmscope.privacy.publishers import publish_harm

    _check_area(store, p.get("area"))
    pub = publish_harm(
        store,
        audience,
        p.get("threshold", DEFAULT_THRESHOLD),
        level="district",
        area=p.get("area"),
        date_from=p.get("from"),
        date_to=p.get("to"),
        scheme="css",
        weights=None,
        by_month=False,
        categories=None,
    )
    return pub.document()


def hotspot_document(store, audience: str, p: dict) -> dict:
    """`hotspots --json`'s whole published document, cells included (the hotspot map draws
    the cells; the API's document leaves them out, as the CLI does)."""
    from harmscope.analysis import hotspot_run
    from harmscope.months import parse_month
    from harmscope.privacy.publishers import publish_hotspots

    _check_area(store, p.get("area"))
    res = hotspot_run.run(
        store,
        "gistar",
        crime_types=None,
        area=p.get("area"),
        date_from=parse_month(p.get("from"), "from"),
        date_to=parse_month(p.get("to"), "to"),
        units="grid",
        cell_size=None,
        neighbours="queen",
        weight="none",
        permutations=0,
        seed=None,
        correction="holm",
        bandwidth=None,
        test_from=None,
        test_to=None,
        progress=_no_print,
    )
    return publish_hotspots(res, audience, p.get("threshold", DEFAULT_THRESHOLD)).document()


def _hotspots(store, audience: str, p: dict) -> dict:
    doc = {k: v for k, v in hotspot_document(store, audience, p).items() if k != "cells"}
    return doc | {"written": None}


def _schemes(store, audience: str, p: dict) -> dict:
    from harmscope.privacy.schemes import publish_schemes, schemes_records
    from harmscope.sources.register import load_schemes

    # `schemes --json`'s document, published for the audience (privacy/schemes.py) and
    # marked with it, as every web document is
    pub = publish_schemes(load_schemes(store), audience, p.get("threshold", DEFAULT_THRESHOLD))
    return {"schemes": schemes_records(pub), "audience": pub.audience.name}


def _ed(store, audience: str, p: dict) -> dict:
    from harmscope.analysis.linkage import true_picture
    from harmscope.privacy.publishers import publish_ed_picture

    threshold = p.get("threshold", DEFAULT_THRESHOLD)
    result = true_picture(store, level="lad", audience=audience, threshold=threshold)
    pub = publish_ed_picture(result, audience, threshold)
    doc = pub.document()
    tables = {k: doc[k] for k in pub.tables if k != "table"}
    payload = {k: doc[k] for k in ("summary", "audience", "method", "notes", "table")}
    return payload | {"tables": tables, "withheld": doc.get("withheld", [])}


def _people(store, audience: str, p: dict) -> dict:
    from harmscope.analysis.people import people_profile
    from harmscope.privacy.people import publish_people_audited

    profile = people_profile(store, scheme="css", reps=200, seed=0)
    pub = publish_people_audited(
        store, profile, audience, p.get("threshold", DEFAULT_THRESHOLD), scheme="css"
    )
    return pub.document()


def _networks(store, audience: str, p: dict) -> dict:
    from harmscope.analysis.networks import network_profile
    from harmscope.privacy.networks import publish_networks

    profile = network_profile(store, seed=0, month_from=p.get("from"), month_to=p.get("to"))
    return publish_networks(profile, audience, p.get("threshold", DEFAULT_THRESHOLD)).document()


def _dashboard(store, audience: str, p: dict) -> dict:
    from dataclasses import asdict

    from harmscope.report.front import build_front
    from harmscope.report.render import build_report, check_sections, make_context

    area, date_from, date_to = dashboard_scope(store, p)
    ctx = make_context(
        store,
        area,
        date_from,
        date_to,
        audience=audience,
        threshold=p.get("threshold", DEFAULT_THRESHOLD),
        options={"scheme": "css"},
    )
    report = build_report(ctx, only=FRONT_SECTIONS)
    if report.errors:  # a broken section is an error, not an empty box
        check_sections(report, store_path=getattr(store, "path", None))
    front = asdict(build_front(report))
    return {
        "area": ctx.cache.get("area_label", area),
        "from": date_from,
        "to": date_to,
        "audience": audience,
        **front,
        "sections": {
            b.name: ("shown" if b.section else b.unavailable or "withheld") for b in report.sections
        },
    }


BUILDERS: dict[str, Callable[[Any, str, dict], dict]] = {
    "dashboard": _dashboard,
    "profile": _profile,
    "hotspots": _hotspots,
    "stopsearch": _stopsearch,
    "schemes": _schemes,
    "ed": _ed,
    "people": _people,
    "networks": _networks,
}


def _check_area(store, area: str | None) -> str | None:
    """The CLI's rule: no area on a store of several forces is refused (naming them)."""
    from harmscope.analysis.harm.scope import area_or_only_force
    from harmscope.store.queries.catalog import forces_held

    return area_or_only_force(area, lambda: forces_held(store), where="area")[0]


def dashboard_scope(store, p: dict) -> tuple[str, str, str]:
    """The dashboard's area and months: as given, else the one force held and its latest
    twelve months (a year, as a board reads it)."""
    from harmscope.store.queries.catalog import held_months

    area = _check_area(store, p.get("area"))
    if area is None:
        raise HarmscopeError(
            "the store holds no street crimes",
            where="store",
            fix="load police files (the upload page or `harmscope ingest`)",
        )
    lo, hi = held_months(store)
    to = p.get("to") or hi.strftime("%Y-%m")
    if p.get("from"):
        return area, p["from"], to
    y, m = int(to[:4]), int(to[5:7])
    start = f"{y - 1}-{m + 1:02d}" if m < 12 else f"{y}-01"
    return area, max(start, lo.strftime("%Y-%m")), to


# -- parameters -----------------------------------------------------------------------------


def normalise(params: dict | None) -> dict:
    """Parameters as builders read them: ``year`` becomes from/to; empty values dropped."""
    out = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    year = out.pop("year", None)
    if year is not None:
        if "from" in out or "to" in out:
            raise HarmscopeError(
                "give a year or from/to, not both", where="year", fix="drop one of them"
            )
        out["from"], out["to"] = f"{int(year):04d}-01", f"{int(year):04d}-12"
    if "from" in out and "to" in out and out["from"] > out["to"]:
        raise HarmscopeError("from is after to", where="from/to", fix="swap the two months")
    return out


# -- the cache ------------------------------------------------------------------------------


class PayloadCache:
    """JSON documents by key, least recently used dropped first; one build per key at a time
    (fifty users asking for a cold dashboard wait for one build, not fifty)."""

    def __init__(self, entries: int = 256, version_ttl: float = 2.0) -> None:
        self.entries = entries
        self.version_ttl = version_ttl
        self._docs: OrderedDict[tuple, tuple[dict, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self._versions: dict[str, tuple[float, str]] = {}
        self.hits = self.misses = 0

    def version(self, store) -> str:
        key = store_identity(store)
        now = time.monotonic()
        with self._lock:
            seen = self._versions.get(key)
        if seen and now - seen[0] < self.version_ttl:
            return seen[1]
        version = q.data_version(store)
        with self._lock:
            self._versions[key] = (now, version)
        return version

    def fresh_version(self, identity: str, *, stale: bool = False) -> str | None:
        """The data version read within the last ``version_ttl`` seconds (with ``stale``:
        the last one read, however old), else None."""
        with self._lock:
            seen = self._versions.get(identity)
        if seen and (stale or time.monotonic() - seen[0] < self.version_ttl):
            return seen[1]
        return None

    def get(self, key: tuple) -> tuple[dict, bytes] | None:
        with self._lock:
            found = self._docs.get(key)
            if found is not None:
                self._docs.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: tuple, doc: dict) -> tuple[dict, bytes]:
        entry = (doc, json.dumps(doc, separators=(",", ":")).encode("utf-8"))
        with self._lock:
            self._docs[key] = entry
            self._docs.move_to_end(key)
            while len(self._docs) > self.entries:
                self._docs.popitem(last=False)
            self.misses += 1
        return entry

    def build_lock(self, key: tuple) -> threading.Lock:
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._versions.clear()
            self._building.clear()


CACHE = PayloadCache()


class RenderedPages:
    """Rendered HTML pages by key (web/pages.py: the document's cache key plus the nav's
    role), least recently used dropped first. A page is built once per data version, not
    once per visit: under load the view building (web/present.py) is the costly part."""

    def __init__(self, entries: int = 128) -> None:
        self.entries = entries
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def put(self, key: tuple, html: str) -> None:
        with self._lock:
            self._pages[key] = html
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)

    def build_lock(self, key: tuple) -> threading.Lock:
        with self._lock:
            if len(self._building) > 4 * self.entries:  # keys of old data versions
                self._building = {k: v for k, v in self._building.items() if v.locked()}
            return self._building.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._building.clear()


PAGES = RenderedPages()


def store_identity(store) -> str:
    path = getattr(store, "path", None)
    url = getattr(store, "url", None)
    return str(url or path or f"memory:{id(store)}")


def invalidate() -> None:
    """Forget every cached document and page (after an upload, or a change made by this
    process)."""
    CACHE.clear()
    PAGES.clear()


def page_key(
    identity: str, resource: str, audience: str, params: dict | None, version: str
) -> tuple | None:
    """The cache key of this document at data version ``version`` (None: bad parameters,
    which the build reports)."""
    try:
        return _key(identity, resource, audience, normalise(params), version)
    except HarmscopeError:
        return None


def _key(identity: str, resource: str, audience: str, p: dict, version: str) -> tuple:
    return (identity, resource, audience, tuple(sorted((k, str(v)) for k, v in p.items())), version)


def peek(
    identity: str,
    resource: str,
    audience: str,
    params: dict | None = None,
    *,
    stale: bool = False,
):
    """(document, JSON bytes) when it is cached for the data version read within the last
    seconds, without touching the store (a busy store does not hold up a cached page); else
    None. ``identity`` is ``store_identity(store)`` of the store it was built on. ``stale``
    accepts the last version read however old: for a store busy building another page (a
    change made through this server clears the cache at once, see ``invalidate``)."""
    version = CACHE.fresh_version(identity, stale=stale)
    if version is None or resource not in BUILDERS:
        return None
    try:
        p = normalise(params)
    except HarmscopeError:
        return None
    return CACHE.get(_key(identity, resource, audience, p, version))


def cached(store, resource: str, audience: str, params: dict | None = None) -> tuple[dict, bytes]:
    """(document, its JSON bytes) for ``resource`` at ``audience``: from the cache when the
    data has not changed since it was built."""
    if resource not in BUILDERS:
        raise KeyError(f"no data for resource {resource!r}; known: {', '.join(BUILDERS)}")
    if audience not in ("public", "partner", "internal"):
        raise HarmscopeError(
            f"unknown audience {audience!r}", where="audience", fix="public | partner | internal"
        )
    return cached_build(store, resource, audience, normalise(params), BUILDERS[resource])


def cached_build(store, name: str, audience: str, p: dict, build) -> tuple[dict, bytes]:
    """``build(store, audience, p)`` once per (store, name, audience, parameters, data
    version): later calls get the cached (document, JSON bytes); one build runs per key."""
    key = _key(store_identity(store), name, audience, p, CACHE.version(store))
    found = CACHE.get(key)
    if found is not None:
        return found
    with CACHE.build_lock(key):
        found = CACHE.get(key)
        if found is not None:
            return found
        return CACHE.put(key, _plain(build(store, audience, p)))


def payload(store, resource: str, audience: str, params: dict | None = None) -> dict:
    """The document ``harmscope <command> --json --audience AUDIENCE`` prints for this
    resource and these parameters (area, year or from/to). Treat it as read-only: it is
    the cached copy."""
    return cached(store, resource, audience, params)[0]
