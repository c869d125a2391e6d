"""The district map: offline basemap, switchable live layers, legends.

Layers load from URLs (``/geo/<name>``); styling lives in ``assets/map.js``
and is referenced by name, so no function travels with the data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from dashboard.i18n import t
from dashboard.kpis import CATALOGUE
from dashboard.layers import CHOROPLETH_KPIS, LAYERS
from dashboard.settings import TileLayerSettings
from layouts import ids

ns = Namespace("shanting", "map")

#: name → (GeoJSON options) for each live layer; static ones are drawn below them.
_OPTIONS: Mapping[str, dict[str, object]] = {
    "towns": {"style": ns("townStyle"), "hoverStyle": ns("townHover"), "onEachFeature": ns("townTooltip")},
    "villages": {"pointToLayer": ns("villagePoint")},
    "segments": {"style": ns("segmentStyle"), "onEachFeature": ns("segmentTooltip")},
    "accidents": {"style": ns("heatStyle"), "interactive": False},
    "cameras": {
        "pointToLayer": ns("cameraPoint"),
        "cluster": True,
        "clusterToLayer": ns("cameraCluster"),
        "superClusterOptions": {"radius": 90, "maxZoom": 15},
        "zoomToBoundsOnClick": True,
    },
    "buses": {"pointToLayer": ns("busPoint")},
    "bus_lines": {"style": ns("busLineStyle"), "onEachFeature": ns("busLineTooltip")},
    "parking": {"pointToLayer": ns("parkingPoint")},
    "accident_points": {"pointToLayer": ns("accidentPoint")},
    "air": {"pointToLayer": ns("airPoint")},
    "water": {"pointToLayer": ns("waterPoint")},
    "scenic": {"pointToLayer": ns("scenicPoint")},
    "blindspots": {
        "style": ns("blindStyle"),
        "pointToLayer": ns("blindPoint"),
        "onEachFeature": ns("blindTooltip"),
    },
}
_STATIC_STYLE = {"outline": "outlineStyle", "rivers": "riverStyle", "roads": "roadStyle"}


def district_map(
    lang: str,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    shown: Collection[str] | None = None,
    extra: Sequence[dl.Overlay] = (),
    layers: Collection[str] | None = None,
    own_ids: Mapping[str, Any] | None = None,
) -> dl.Map:
    """The map with every layer at its URL; ``tiles`` adds an optional basemap.

    ``shown`` names the overlays switched on at first (default: all); the
    others wait in the layer control, so every scene has the same map.
    ``layers`` names the overlays present (default: the shared ones, plus a
    scene's own ones that ``shown`` names, e.g. blind spots); ``own_ids``
    gives some of them a scene's own component id, so that the scene sets their
    URL (e.g. with a period) and the shared layer refresh leaves them alone.
    ``extra`` adds a scene's own overlays (data set by its callbacks rather
    than loaded by URL) to the layer control. A layer without a URL (one the
    user may not see, see ``layer_urls``) is left out, so the layer control
    lists only what the viewer may see.
    """
    present = (
        set(layers)
        if layers is not None
        else {spec.name for spec in LAYERS if spec.shared or (shown is not None and spec.name in shown)}
    )
    own = own_ids or {}
    base: list[object] = []
    # Our data is WGS84; over a GCJ-02 tile layer every layer is shifted to match it.
    shift = {"coordsToLatLng": ns("toGcj02")} if tiles is not None and tiles.datum == "gcj02" else {}
    if tiles is not None:
        base.append(dl.TileLayer(url=tiles.url, attribution=tiles.attribution, maxZoom=tiles.max_zoom))
    base += [
        dl.GeoJSON(id=ids.layer(name), url=urls[name], style=ns(style), interactive=False, **shift)
        for name, style in _STATIC_STYLE.items()
    ]
    overlays = [
        dl.Overlay(
            dl.GeoJSON(
                id=own.get(spec.name, ids.layer(spec.name)), url=urls[spec.name], **_OPTIONS[spec.name], **shift
            ),
            name=spec.title_en if lang == "en" else spec.title_zh,
            checked=shown is None or spec.name in shown,
        )
        for spec in LAYERS
        if spec.name in _OPTIONS and spec.name in present and urls[spec.name]
    ]
    overlays += list(extra)
    return dl.Map(
        id=ids.MAP,
        className="district-map",
        bounds=bounds,
        # No viewport tracking: its handler reads props.center, which is unset
        # when bounds position the map (and center/zoom would override bounds).
        trackViewport=False,
        # No zoom/fade animations: navigating away mid-animation makes Leaflet
        # throw ("_leaflet_pos" of a removed pane), and a wall needs none.
        zoomAnimation=False,
        fadeAnimation=False,
        markerZoomAnimation=False,
        zoomSnap=0.25,
        minZoom=8,
        maxZoom=18,
        attributionControl=False,
        children=[
            *base,
            # ``overlays`` must start defined: dash-leaflet 1.1.3's LayersControl
            # filters it on the first "overlayremove" and throws when it is unset.
            dl.LayersControl(
                overlays, overlays=[o.name for o in overlays if o.checked], position="topright", collapsed=False
            ),
            dl.ScaleControl(position="bottomleft", imperial=False),
            dl.AttributionControl(prefix="Leaflet", position="bottomright"),
        ],
    )


def legend(entries: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> html.Div:
    """What the colours mean (status, congestion, AQI, crowding)."""
    return html.Div(
        className="map-legend",
        children=[
            html.Div(
                className="legend-row",
                children=[
                    html.Span(title, className="legend-name"),
                    # Colours come from the standards' tables: data, hence inline.
                    *[
                        html.Span(
                            [html.I(className="sw", style={"background": colour}), label], className="legend-item"
                        )
                        for label, colour in items
                    ],
                ],
            )
            for title, items in entries
        ],
    )


def choropleth_select(lang: str, value: str) -> list[Any]:
    """Label and dropdown of the KPI the 镇街 areas are coloured by (every map scene
    has one: the shared layer refresh reads it). It offers only the KPIs whose
    colouring the signed-in user may see (a department head: their domains')."""
    from dashboard.access import layer_permission
    from dashboard.views import may

    options = [
        {"label": s.title_en if lang == "en" else s.title_zh, "value": s.id}
        for s in CATALOGUE.specs
        if s.id in CHOROPLETH_KPIS and may(layer_permission("towns", s.id))
    ]
    return [
        html.Label(t("choropleth.label", lang), htmlFor=ids.CHOROPLETH_KPI),
        dcc.Dropdown(
            id=ids.CHOROPLETH_KPI,
            options=options,
            value=value,
            clearable=False,
            searchable=False,
            className="choropleth-select",
        ),
    ]
