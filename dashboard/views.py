"""What a scene needs for a scope: the resolved scope, breadcrumb and layer URLs.

Shared by the page layouts, the callbacks, the API and the exports so all of
them agree on what a scope means.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from dashboard.i18n import t
from dashboard.layers import CHOROPLETH_KPIS, LAYERS, LayerUnavailable, bounds, build, version
from dashboard.live import Failed, Live
from dashboard.scope import ASSET_FEEDS, Scope, ScopeForbidden, ScopeNotFound, href, parse
from dashboard.timeutil import fmt

if TYPE_CHECKING:
    from dashboard.services import Services


def resolve(text: str | None, live: Live) -> Scope:
    """Parse and check that the town, village or asset exists.

    Raises ScopeError (malformed, 400), ScopeNotFound (unknown, 404) or ScopeForbidden (an asset of a department
    the signed-in user may not see, 403).
    """
    scope = parse(text)
    if scope.level in ("town", "village"):
        areas = live.areas()
        if not isinstance(areas, Failed):
            areas.check(scope)
    elif scope.level == "asset":
        from dashboard.access import ASSET_DOMAINS

        domain = ASSET_DOMAINS.get(scope.feed)
        if domain is not None and not may(f"scene:{domain}"):
            raise ScopeForbidden(f"{scope.feed} assets are the {domain} department's data")
        rows = live.rows(scope.feed)
        if not isinstance(rows, Failed) and scope.code not in set(rows.frame[ASSET_FEEDS[scope.feed]]):
            raise ScopeNotFound(f"no {scope.feed} asset {scope.code!r}")
    return scope


def crumbs(scope: Scope, live: Live, lang: str, path: str = "/") -> list[tuple[str, str]]:
    """(label, link) from the district down to the scope."""
    trail = [(t("scope.district", lang), path)]
    areas = live.areas()
    if isinstance(areas, Failed) or scope.level == "district":
        return trail
    town, village = _parents(scope, live)
    if town:
        trail.append((areas.town_name(town), href(path, Scope("town", town))))
    if village:
        trail.append((areas.village_name(village), href(path, Scope("village", village))))
    if scope.level == "asset":
        trail.append((_asset_name(scope, live), href(path, scope)))
    return trail


def _parents(scope: Scope, live: Live) -> tuple[str | None, str | None]:
    if scope.level == "town":
        return scope.code, None
    if scope.level == "village":
        return scope.code[:9], scope.code
    rows = live.rows(scope.feed)
    if isinstance(rows, Failed):
        return None, None
    row = rows.frame.loc[rows.frame[ASSET_FEEDS[scope.feed]] == scope.code]
    if row.empty or "town_code" not in row:
        return None, None
    town = row["town_code"].iloc[0] or None
    village = row["village_code"].iloc[0] if "village_code" in row else None
    return town, village or None


def _asset_name(scope: Scope, live: Live) -> str:
    rows = live.rows(scope.feed)
    if isinstance(rows, Failed) or "name" not in rows.frame:
        return scope.code
    match = rows.frame.loc[rows.frame[ASSET_FEEDS[scope.feed]] == scope.code, "name"]
    return str(match.iloc[0]) if len(match) else scope.code


def may(permission: str) -> bool:
    """Whether the signed-in user holds ``permission`` (True with no sign-in: no request, or routes without it)."""
    from dashboard.auth import principal

    who = principal()
    return who is None or who.may(permission)


def layer_urls(scope: Scope, live: Live, kpi: str) -> dict[str, str]:
    """Each layer's URL; it changes only when the layer's data changes. A layer the signed-in user may not
    fetch (another department's) gets no URL, so their map never asks for it nor lists it, and their briefing
    export leaves it out: this is the one place that decides which layers a user's maps hold."""
    from dashboard.access import layer_permission

    return {
        spec.name: layer_url(spec.name, scope, live, kpi)
        if may(layer_permission(spec.name, kpi if spec.name == "towns" else None))
        else ""
        for spec in LAYERS
    }


def layer_url(name: str, scope: Scope, live: Live, kpi: str = "") -> str:
    """One layer's URL (reads only that layer's feeds' versions)."""
    spec = next(s for s in LAYERS if s.name == name)
    query = {"v": version(spec.name, live)}
    if not spec.static:
        query["scope"] = scope.key
    if spec.name == "towns":
        query["kpi"] = kpi
    return f"/geo/{spec.name}?{urlencode(query)}"


def briefing_map(
    services: Services, scope: Scope, lang: str, kpi: str | None = None, only: Collection[str] | None = None
) -> str:
    """The current map view as a standalone HTML file (folium), for briefings.

    It holds the layers the signed-in user's map holds (:func:`layer_urls`: a department head's file has only
    their domains' layers and the base map), of those only the ones in ``only`` when given (a scene's export).
    """
    from dashboard.access import layer_permission
    from dashboard.export import map_html

    live, settings = services.live, services.settings
    kpi = kpi if kpi in CHOROPLETH_KPIS else settings.choropleth_kpi
    if not may(layer_permission("towns", kpi)):  # coloured by another department's KPI: by the user's own, if any
        kpi = next((k for k in CHOROPLETH_KPIS if may(layer_permission("towns", k))), kpi)
    now = services.now()
    allowed = layer_urls(scope, live, kpi)
    collections = {}
    for spec in LAYERS:
        if not spec.shared:
            continue  # a scene's own layer (blind spots, bus lines…) is not on the overview map this exports
        if not allowed[spec.name] or (only is not None and not spec.static and spec.name not in only):
            continue
        try:
            collections[spec.name] = build(
                spec.name, live, settings, scope, now, **({"kpi": kpi} if spec.name == "towns" else {})
            )
        except LayerUnavailable:
            continue  # a failing feed leaves its layer out; the rest still exports
    titles = {s.name: s.title_en if lang == "en" else s.title_zh for s in LAYERS}
    place = " › ".join(label for label, _ in crumbs(scope, live, lang))
    return map_html(
        collections,
        titles=titles,
        bounds=bounds(scope, live),
        heading=f"{t('app.title', lang)} · {place}",
        data_time=f"{'数据时间' if lang == 'zh-CN' else 'Data as of'} {fmt(now)} (Asia/Shanghai)",
        credits=t("map.approximate", lang),
        legend=legend_entries(lang, collections),
        lang=lang,
        tiles=(settings.tiles.url, settings.tiles.attribution) if settings.tiles else None,
    )


#: The layer each legend group explains: a map without that layer leaves the group out.
LEGEND_LAYERS: dict[str, str] = {
    "legend.cameras": "cameras",
    "legend.congestion": "segments",
    "legend.aqi": "air",
    "legend.crowding": "scenic",
}
#: Legend groups: (i18n key, [(code, colour)]); colours are the standards' tables.
LEGEND: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("legend.cameras", (("online", "#2ecc71"), ("offline", "#8a94a6"), ("fault", "#ff4d4f"))),
    ("legend.congestion", (("1", "#2ECC71"), ("2", "#A3D977"), ("3", "#F5B041"), ("4", "#E67E22"), ("5", "#C0392B"))),
    (
        "legend.aqi",
        (("1", "#00E400"), ("2", "#FFFF00"), ("3", "#FF7E00"), ("4", "#FF0000"), ("5", "#99004C"), ("6", "#7E0023")),
    ),
    ("legend.crowding", (("1", "#2ecc71"), ("2", "#a3d977"), ("3", "#f5b041"), ("4", "#e67e22"), ("5", "#c0392b"))),
)


def legend_entries(lang: str, layers: Collection[str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The legend in ``lang``: [(group title, [(label, colour)])]; with ``layers``, only the groups of those."""
    return [
        (t(key, lang), [(t(f"{key}.{code}", lang), colour) for code, colour in items])
        for key, items in LEGEND
        if layers is None or LEGEND_LAYERS[key] in layers
    ]
