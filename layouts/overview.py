"""总览: the district at a glance. Map in the centre, a KPI strip per domain on
either side, breadcrumb and exports above the map (the event ticker is the shell's, on every scene)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.i18n import t
from dashboard.kpis import CATALOGUE
from dashboard.scope import Scope, href
from dashboard.settings import TileLayerSettings
from layouts import ids
from layouts.kpi import tile_frame
from layouts.map import choropleth_select, district_map, legend

LEFT = ("transport", "video")
RIGHT = ("environment", "tourism", "rating")


def domain_panel(domain: str, lang: str, scope: Scope) -> html.Section:
    specs = CATALOGUE.for_domain(domain)
    return html.Section(
        className=f"panel domain-{domain}",
        children=[
            html.H3(t(f"domain.panel.{domain}", lang), className="panel-title"),
            html.Div(
                className=f"tiles tiles-{len(specs)}",
                children=[tile_frame(s, lang, href(s.drill, scope)) for s in specs],
            ),
        ],
    )


def overview(
    lang: str,
    legend_items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    scope: Scope,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    choropleth: str,
    crumbs: Sequence[tuple[str, str]],
    exports: bool = True,
) -> html.Section:
    """The overview at ``scope``; ``exports`` shows the briefing map and CSV links (not to a big screen)."""
    return html.Section(
        className="overview",
        children=[
            html.Div([domain_panel(d, lang, scope) for d in LEFT], className="ov-side ov-left"),
            html.Div(
                className="ov-centre",
                children=[
                    html.Div(
                        className="ov-bar",
                        children=[
                            breadcrumb(crumbs),
                            html.Div(
                                className="ov-tools",
                                children=[
                                    *choropleth_select(lang, choropleth),
                                    *(export_links(lang, scope) if exports else ()),
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="map-wrap",
                        children=[
                            district_map(lang, urls, bounds, tiles),
                            legend(legend_items),
                            html.Div(t("map.approximate", lang), className="map-credit"),
                        ],
                    ),
                ],
            ),
            html.Div([domain_panel(d, lang, scope) for d in RIGHT], className="ov-side ov-right"),
        ],
    )


def breadcrumb(crumbs: Sequence[tuple[str, str]]) -> html.Nav:
    """District › 镇街 › 村居 › asset; every part but the last is a link."""
    parts: list[Any] = []
    for i, (label, link) in enumerate(crumbs):
        if i:
            parts.append(html.Span("›", className="crumb-sep"))
        last = i == len(crumbs) - 1
        parts.append(
            html.Span(label, className="crumb current") if last else dcc.Link(label, href=link, className="crumb")
        )
    aria: dict[str, Any] = {"aria-label": "breadcrumb"}
    return html.Nav(parts, id=ids.BREADCRUMB, className="breadcrumb", **aria)


def scope_error(lang: str, message: str, not_found: bool) -> html.Section:
    return html.Section(
        className="placeholder scope-error",
        children=[
            html.H2(t("scope.notfound" if not_found else "scope.bad", lang), className="scope-title"),
            html.P(message, className="placeholder-body"),
            dcc.Link(t("scope.district", lang), href="/", className="crumb"),
        ],
    )


def export_links(lang: str, scope: Scope, domain: str | None = None, kpi: str | None = None) -> list[html.A]:
    """The briefing map (folium HTML) and the KPIs as CSV at ``scope``; a scene's name its ``domain`` (its tiles and
    layers, the base map) and the ``kpi`` its towns are coloured by. The server fills them with only what the
    signed-in user may see, so the same links serve a leader and a department head."""
    query = {"scope": scope.key} | ({"domain": domain} if domain else {})
    colour = {"kpi": kpi} if kpi else {}
    return [
        html.A(
            t("export.map", lang),
            id=ids.EXPORT_MAP,
            className="export",
            href=f"/export/map.html?{urlencode(query | colour)}",
        ),
        html.A(
            t("export.csv", lang),
            id=ids.EXPORT_CSV,
            className="export",
            href=f"/export/kpis.csv?{urlencode(query)}",
        ),
    ]
