"""Who may see what: the role x data matrix that decides every page and API route.

Roles: ``public`` (no login), ``partner`` (an account of one agency: police, health or
council), ``analyst`` and ``admin``. Each resource has a data owner and, for each role, the
publishing-path audience its data is published for (``public`` | ``partner`` | ``internal``),
or no access. The matrix is data, not code paths: ``allowed`` and ``audience_for`` only read
it, docs/web.md shows it (``matrix_markdown``, checked by tests/test_web_core.py), and the
route walk in tests/test_web_walk.py asserts it route by route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("public", "partner", "analyst", "admin")
AGENCIES = ("police", "health", "council")
# The publishing-path audiences (privacy/audience.py), least to most detailed.
AUDIENCES = ("public", "partner", "internal")


@dataclass(frozen=True)
class User:
    """A signed-in account (``role`` partner | analyst | admin), or the public visitor."""

    name: str
    role: str
    agency: str | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "public"


PUBLIC = User("public", "public", None)


@dataclass(frozen=True)
class Rule:
    """Who sees one resource. ``audiences`` maps a role to the audience its data is published
    for; a role absent from it has no access. ``agencies``, when given, narrows the partner
    role to those agencies (ED data: health partners only)."""

    owner: str  # police | health | council | partnership (the workspace's own records)
    title: str
    audiences: dict[str, str]
    agencies: tuple[str, ...] | None = None
    data: bool = True  # False: no published data (the liveness check, upload, audit)
    notes: str = ""
    kinds: tuple[str, ...] = field(default=("page", "api"))


_OPEN = {"public": "public", "partner": "partner", "analyst": "internal", "admin": "internal"}
_PARTNERS = {"partner": "partner", "analyst": "internal", "admin": "internal"}
_ANALYSTS = {"analyst": "internal", "admin": "internal"}

MATRIX: dict[str, Rule] = {
    "health": Rule(
        "partnership",
        "Liveness check",
        _OPEN,
        data=False,
        kinds=("api",),
        notes="answers 200 while the server and its store are up",
    ),
    "dashboard": Rule(
        "police",
        "Dashboard (report front page)",
        _OPEN,
        notes="findings, changes and risks from the published report tables",
    ),
    "profile": Rule("police", "Area profile (harm by area)", _OPEN),
    "hotspots": Rule("police", "Hotspots (Gi*)", _OPEN),
    "stopsearch": Rule(
        "police",
        "Stop and search (scrutiny panel)",
        _OPEN,
        notes="the scrutiny panel's page: public",
    ),
    "schemes": Rule("council", "Schemes and evaluation", _PARTNERS),
    "ed": Rule(
        "health",
        "ED true picture",
        _PARTNERS,
        agencies=("health",),
        notes="partners of the health agency only",
    ),
    "people": Rule("police", "People (power few, repeat victims)", _ANALYSTS),
    "networks": Rule("police", "County-lines networks", _ANALYSTS),
    "upload": Rule(
        "police",
        "Upload and ingest",
        _ANALYSTS,
        data=False,
        notes="loads files into the store",
    ),
    "audit": Rule(
        "partnership",
        "Audit viewer",
        {"admin": "internal"},
        data=False,
        notes="every view or export of non-public data",
    ),
}

RESOURCES = tuple(MATRIX)
# Resources whose API returns published data (``GET /api/<resource>``).
DATA_RESOURCES = tuple(r for r, rule in MATRIX.items() if rule.data)


def _rule(resource: str) -> Rule:
    try:
        return MATRIX[resource]
    except KeyError:
        raise KeyError(f"unknown resource {resource!r}; known: {', '.join(RESOURCES)}") from None


def _role_of(user: User | None) -> str:
    return "public" if user is None else user.role


def allowed(user: User | None, resource: str) -> bool:
    """May ``user`` (None: not signed in) see ``resource``? Unknown roles see nothing."""
    rule = _rule(resource)
    role = _role_of(user)
    if role not in rule.audiences:
        return False
    if role == "partner" and rule.agencies is not None:
        return user is not None and user.agency in rule.agencies
    return True


def audience_for(user: User | None, resource: str) -> str:
    """The publishing-path audience ``user`` gets ``resource`` at. Raises PermissionError
    when the user may not see it (callers check ``allowed`` first)."""
    if not allowed(user, resource):
        raise PermissionError(f"{_role_of(user)} may not see {resource}")
    return _rule(resource).audiences[_role_of(user)]


def needs_login(resource: str) -> bool:
    """True when the public may not see ``resource`` (an anonymous request gets 401)."""
    return "public" not in _rule(resource).audiences


def visible(user: User | None) -> list[str]:
    """The resources ``user`` may see, in matrix order (the navigation shows these)."""
    return [r for r in RESOURCES if allowed(user, r)]


# -- the documented matrix ----------------------------------------------------------------

_COLUMNS = (
    ("public", None),
    ("partner (police)", "police"),
    ("partner (health)", "health"),
    ("partner (council)", "council"),
    ("analyst", None),
    ("admin", None),
)


def _cell(resource: str, label: str, agency: str | None) -> str:
    role = label.split(" ")[0]
    user = None if role == "public" else User(label, role, agency)
    return audience_for(user, resource) if allowed(user, resource) else "-"


def matrix_markdown() -> str:
    """The role x data matrix as a Markdown table (docs/web.md holds exactly this)."""
    head = ["resource", "owner", *(label for label, _ in _COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for resource, rule in MATRIX.items():
        cells = [_cell(resource, label, agency) for label, agency in _COLUMNS]
        lines.append("| " + " | ".join([f"`{resource}`", rule.owner, *cells]) + " |")
    return "\n".join(lines) + "\n"
