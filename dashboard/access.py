"""Who may do what, as data: roles grant permissions, and every request names the permissions it needs.

A permission is a string such as ``scene:video`` (see a scene's page, callbacks and data), ``layer:transport``
(a map layer's GeoJSON), ``export:video``, ``events:act`` or ``screen:main`` (that big screen's page and poll).
A role grants patterns (``scene:*``); a department head's grants follow from their domains. A request needs every
permission :func:`needs` finds in it (a callback's component ids, a route's path); it is allowed when each one
matches a grant. Anything unclassified needs ``unknown``, which only an admin holds: new endpoints fail closed.

The functions here are pure (no Flask), so the matrix is tested as data; :mod:`dashboard.auth` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

from dashboard.scenes import SCENES

ROLES = ("leader", "department", "operator", "admin", "screen")
#: The domains a department head can be given: each is a scene, its layers and its exports.
DOMAINS = ("transport", "video", "environment", "tourism", "rating")
#: Needs nothing: reachable without signing in.
PUBLIC = "public"
#: Any signed-in user (the shell: clock, navigation, health strip, scene list).
SHELL = "shell"
UNKNOWN = "unknown"

#: What each role may do. ``department`` gets these plus ``DEPARTMENT_PER_DOMAIN`` for each of its domains.
GRANTS: Mapping[str, tuple[str, ...]] = {
    "leader": (SHELL, "page:*", "scene:*", "layer:*", "export:*", "screen:*", "console:view"),
    "operator": (
        SHELL,
        "page:*",
        "scene:*",
        "layer:*",
        "export:*",
        "screen:*",
        "console:view",
        "console:act",
        "events:act",
    ),
    "admin": ("*",),
    # A display: every scene's callbacks and layers (an alarm may put any scene on it), but only its own page and
    # poll ("screen:<id>" is added from the account), no other page, no export, no action.
    "screen": (SHELL, "scene:*", "layer:*"),
    # ``export:overview`` lets a head use the briefing exports (kpis.csv, map.html): the server fills them with only
    # what the head may see (their domains' tiles and layers, the base map), see :func:`export_permissions`.
    "department": (SHELL, "page:data", "scene:data", "layer:base", "export:overview"),
}
DEPARTMENT_PER_DOMAIN = ("page:{d}", "scene:{d}", "layer:{d}", "export:{d}")
#: Writes a department head's domain brings (the star rating's departments enter their own indicators).
DOMAIN_WRITES: Mapping[str, tuple[str, ...]] = {"rating": ("rating:write",)}


@dataclass(frozen=True)
class Principal:
    """A signed-in user as the checks see them (an account, a screen's token, the trusted local developer)."""

    username: str
    role: str
    display_name: str = ""
    domains: tuple[str, ...] = ()
    screen_id: str | None = None
    #: Changes with the password: a session made before a reset or a disable no longer loads.
    fingerprint: str = ""

    def grants(self) -> tuple[str, ...]:
        base = GRANTS.get(self.role, ())
        if self.role == "department":
            base += tuple(p.format(d=d) for d in self.domains for p in DEPARTMENT_PER_DOMAIN)
            base += tuple(w for d in self.domains for w in DOMAIN_WRITES.get(d, ()))
        if self.role == "screen" and self.screen_id:
            base += (f"screen:{self.screen_id}",)
        return base

    def may(self, permission: str) -> bool:
        if permission == PUBLIC:
            return True
        return any(fnmatchcase(permission, grant) for grant in self.grants())

    def may_all(self, permissions: Iterable[str]) -> bool:
        return all(self.may(p) for p in permissions)

    def first_page(self) -> str | None:
        """The first scene this user may open (where ``/`` sends a department head)."""
        if self.role == "screen" and self.screen_id:
            return f"/screen/{self.screen_id}"
        return next((s.path for s in SCENES if self.may(f"page:{s.id}")), None)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.username}|{self.fingerprint}"


# ---- map layers ---------------------------------------------------------------------------------------------

#: Each layer's domain; ``base`` layers (the district's geography) are every signed-in user's.
LAYER_DOMAINS: Mapping[str, str] = {
    "outline": "base",
    "rivers": "base",
    "roads": "base",
    "villages": "base",
    "towns": "base",
    "segments": "transport",
    "accidents": "transport",
    "buses": "transport",
    "bus_lines": "transport",
    "parking": "transport",
    "accident_points": "transport",
    "cameras": "video",
    "blindspots": "video",
    "air": "environment",
    "water": "environment",
    "scenic": "tourism",
}
#: The town choropleth is coloured by a KPI: the layer is then that KPI's domain's data.
CHOROPLETH_DOMAINS: Mapping[str, str] = {
    "working_rate": "video",
    "networking_rate": "video",
    "aqi": "environment",
    "visitors": "tourism",
    "parking": "transport",
}


def layer_permission(name: str, kpi: str | None = None) -> str:
    if name == "towns" and kpi:
        return f"layer:{CHOROPLETH_DOMAINS.get(kpi, 'base')}"
    return f"layer:{LAYER_DOMAINS.get(name, UNKNOWN)}"


#: The domain of each asset feed a scope may name (``scope=asset:cameras:…`` is the video department's data).
ASSET_DOMAINS: Mapping[str, str] = {
    "cameras": "video",
    "key_places": "video",
    "road_segments": "transport",
    "bus_lines": "transport",
    "parking_lots": "transport",
    "air_stations": "environment",
    "water_sections": "environment",
    "reservoirs": "environment",
    "radiation_stations": "environment",
    "scenic_spots": "tourism",
}


def export_permissions(args: Mapping[str, str]) -> tuple[str, ...]:
    """What a briefing export (``/export/kpis.csv``, ``/export/map.html``) needs.

    ``export:overview`` for the route (leader, operator, admin, department heads); then each piece of data the query
    names explicitly: ``domain=`` (comma-separated) its domains' exports, ``layers=`` each layer, ``kpi=`` the domain
    of the KPI the towns are coloured by, an asset scope its feed's domain. Naming another department's data is a
    403; what the query leaves open is filled on the server with only what the user may see. Unknown names add
    nothing here: the route answers them with a 400.
    """
    found = ["export:overview"]
    found += [f"export:{d}" for d in listed(args.get("domain")) if d in DOMAINS]
    found += [layer_permission(n) for n in listed(args.get("layers")) if n in LAYER_DOMAINS]
    if args.get("kpi") in CHOROPLETH_DOMAINS:
        found.append(layer_permission("towns", args.get("kpi")))
    if (domain := asset_domain(args)) is not None:
        found.append(f"export:{domain}")
    return tuple(dict.fromkeys(found))


def kpis_permissions(args: Mapping[str, str]) -> tuple[str, ...]:
    """What ``/api/v1/kpis`` needs: any signed-in user, who is answered the tiles their scenes show (a department
    head: their domains'); an asset scope needs its feed's domain, as the scenes and the exports do."""
    domain = asset_domain(args)
    return (SHELL,) if domain is None else (SHELL, f"scene:{domain}")


def asset_domain(args: Mapping[str, str]) -> str | None:
    """The domain of the asset a query's ``scope`` names (``asset:<feed>:<id>``), if it names one."""
    scope = str(args.get("scope") or "").split(":")
    return ASSET_DOMAINS.get(scope[1]) if scope[0] == "asset" and len(scope) > 1 else None


def listed(value: str | None) -> list[str]:
    """The names in a comma-separated query value (``domain=transport,video``)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# ---- pages ----------------------------------------------------------------------------------------------------

SCENE_PATHS: Mapping[str, str] = {s.path: s.id for s in SCENES}


def page_permission(path: str) -> str:
    """What opening the page at ``path`` needs (its layout comes from Dash's page callback, checked the same way)."""
    path = "/" + path.strip("/") if path != "/" else "/"
    if path in SCENE_PATHS:
        return f"page:{SCENE_PATHS[path]}"
    parts = path.strip("/").split("/")
    if parts[0] == "screen" and len(parts) == 2:
        return f"screen:{parts[1]}"
    if parts[0] == "console":
        return "console:view"
    return SHELL  # the 404 page


# ---- HTTP routes beside the pages ----------------------------------------------------------------------------

#: (method, path regex, permission): the first match wins. ``{screen}`` is filled from the path; ``layer`` and
#: ``callback`` are worked out from the request (see :func:`needs`). Any other GET is a page.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", r"/healthz", PUBLIC),
    ("GET", r"/lang/[^/]+", PUBLIC),
    ("*", r"/login", PUBLIC),
    ("*", r"/logout", PUBLIC),
    ("GET", r"/assets/.*", PUBLIC),
    ("GET", r"/_dash-component-suites/.*", PUBLIC),
    ("GET", r"/_?favicon\.ico", PUBLIC),
    ("GET", r"/_dash-layout", SHELL),
    ("GET", r"/_dash-dependencies", SHELL),
    ("POST", r"/_dash-update-component", "callback"),
    ("GET", r"/geo/(?P<layer>[^/]+)", "layer"),
    ("GET", r"/api/v1/scenes", SHELL),
    ("GET", r"/api/v1/version", SHELL),
    ("GET", r"/api/v1/kpis", "kpis"),
    ("GET", r"/api/v1/screens", "console:view"),
    ("POST", r"/api/v1/screens/(?P<screen>[^/]+)/sync", "screen:{screen}"),
    ("POST", r"/api/v1/screens/(?P<screen>[^/]+)/command", "console:act"),
    ("GET", r"/export/kpis\.csv", "export"),
    ("GET", r"/export/map\.html", "export"),
    ("GET", r"/export/camera-sites\.csv", "export:video"),
    ("GET", r"/export/rating\.csv", "export:rating"),
    ("*", r"/admin(/.*)?", "admin"),
)
_ROUTES = tuple((m, re.compile(p), need) for m, p, need in ROUTES)


@dataclass(frozen=True)
class Need:
    """What a request needs: its kind (``public``, ``page``, ``api``, ``callback``) and the permissions."""

    kind: str
    permissions: tuple[str, ...]


def needs(method: str, path: str, args: Mapping[str, str], body: Any = None) -> Need:
    """The permissions a request needs, from its method, path, query and (for callbacks) JSON body."""
    method = "GET" if method == "HEAD" else method  # Flask answers HEAD with the GET view
    for route_method, pattern, need in _ROUTES:
        match = pattern.fullmatch(path)
        if not match or route_method not in ("*", method):
            continue
        if need == PUBLIC:
            return Need(PUBLIC, ())
        if need == "callback":
            return Need("callback", tuple(sorted(callback_permissions(body))))
        if need == "layer":
            return Need("api", (layer_permission(match["layer"], args.get("kpi")),))
        if need == "export":
            return Need("api", export_permissions(args))
        if need == "kpis":
            return Need("api", kpis_permissions(args))
        return Need("api", (need.format(**match.groupdict()),))
    if method == "GET":
        return Need("page", (page_permission(path),))
    return Need("api", (UNKNOWN,))


# ---- Dash callbacks ------------------------------------------------------------------------------------------

#: A component id (a string id's prefix, or a pattern-matching id's ``type``) → the permission its data needs.
#: The first matching prefix wins, so the specific ones come first.
COMPONENT_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("evt-action", "events:act"),
    ("evt-check", "events:act"),
    ("evt-", "scene:events"),
    ("scr-cmd", "console:act"),
    ("scr-ack", "console:act"),
    ("scr-", "console:view"),
    ("console-", "console:view"),
    ("rat-upload", "rating:write"),
    ("rat-form-submit", "rating:write"),
    ("rat-", "scene:rating"),
    ("env-", "scene:environment"),
    ("vid-", "scene:video"),
    ("tour-", "scene:tourism"),
    ("trn-", "scene:transport"),
    ("data-", "scene:data"),
    ("ticker", "scene:events"),
    ("breadcrumb", "scene:overview"),
    ("scope-title", "scene:overview"),
    ("export-", "export:overview"),
    # Layer components carry only URLs, the choropleth chooser only a KPI's name: their data is behind
    # /geo/<layer>?kpi=…, checked there. Every scene's map has them.
    ("choropleth-kpi", SHELL),
    ("layer", SHELL),
    ("map", SHELL),
    ("screen-part", SHELL),
    ("nav", SHELL),
    ("url", SHELL),
    ("clock", SHELL),
    ("refresh", SHELL),
    ("health-strip", SHELL),
    ("lang-link", SHELL),
    ("_pages_", SHELL),
)


def component_permission(component: Any) -> str:
    """The permission a component's data needs; a KPI tile's is its metric's domain."""
    if isinstance(component, dict):
        kind = str(component.get("type", ""))
        if kind == "kpi":
            return tile_permission(str(component.get("metric")))
        name = kind
    else:
        name = str(component)
    return next((need for prefix, need in COMPONENT_PERMISSIONS if name.startswith(prefix)), UNKNOWN)


def tile_permission(metric: str) -> str:
    """What a KPI tile's value needs, on screen (the tile callback) and in an export alike."""
    return f"scene:{kpi_domain(metric)}"


def kpi_domain(metric: str) -> str:
    from dashboard.kpis import CATALOGUE

    domain = next((s.domain for s in CATALOGUE.specs if s.id == metric), "overview")
    return domain if domain in DOMAINS else "overview"


def callback_permissions(body: Any) -> set[str]:
    """Every permission a callback request's components need, plus the page a page-content callback renders.

    A body that is not a Dash callback request needs ``unknown`` (refused to all but admins).
    """
    if not isinstance(body, dict) or not isinstance(body.get("outputs", body.get("output")), list | dict | str):
        return {UNKNOWN}
    found: set[str] = set() if body.get("outputs") is not None else {UNKNOWN}
    entries = list(_entries([body.get("outputs"), body.get("inputs"), body.get("state")]))
    for entry in entries:
        found.add(component_permission(entry["id"]))
    pages = {e.get("property"): e.get("value") for e in entries if e["id"] == "_pages_location"}
    if "pathname" in pages:
        found.add(page_permission(str(pages["pathname"] or "/")))
        search = parse_qs(str(pages.get("search") or "").lstrip("?"))
        found |= {f"scene:{s}" for s in search.get("scene", []) if isinstance(s, str)}
    return found or {UNKNOWN}


def _entries(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict) and "id" in node:
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _entries(item)
