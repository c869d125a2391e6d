"""治安视频: camera health and the 镇街/村居 table on the left, the map and the placement advisor in the centre,
offline cameras, coverage and blind spots on the right.

:func:`video` builds the frame (pure); the scene callbacks fill each panel's body with the builders below from one
:class:`~dashboard.video_view.VideoView` (and the advisor's frame). A panel whose feed fails says 数据源异常 and
nothing else; the rest of the scene keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import dash_leaflet as dl
import pandas as pd
from dash import dcc, html

from dashboard.i18n import t
from dashboard.live import Failed
from dashboard.scope import Scope, href
from dashboard.settings import TileLayerSettings
from dashboard.video_view import (
    DEFAULT_SITES,
    MAX_SITES,
    MIN_SITES,
    RATE_TARGETS,
    AreaCoverage,
    AreaHealth,
    CoveragePanel,
    HealthPanel,
    OfflinePanel,
    TrendPanel,
    VideoView,
    human_duration,
)
from layouts import charts, ids
from layouts.map import choropleth_select, district_map, legend, ns
from layouts.overview import breadcrumb, export_links, scope_error

if TYPE_CHECKING:
    from dashboard.services import Services

PATH = "/video"
#: The 镇街 areas of this scene are coloured by working rate at first.
CHOROPLETH = "working_rate"
#: Overlays that start switched on here; the others stay one click away in the layer control.
VID_LAYERS = frozenset({"towns", "cameras", "blindspots"})
#: Colours of the scene's own map symbols (assets/map.js draws them; the legend repeats them).
BLIND_COLOURS: Mapping[str, str] = {"cell": "#ff8c42", "place": "#ff4d4f", "site": "#35c2ff"}
EMPTY_FC: dict[str, Any] = {"type": "FeatureCollection", "features": []}
_RATE_KEYS: Mapping[str, str] = {
    "working_rate": "vid.working",
    "networking_rate": "vid.networking",
    "hd_share": "vid.hd",
}


# ---- the page --------------------------------------------------------------------------------------


def page(services: Services, lang: str, text: str | None) -> html.Section:
    """The scene at the scope in the URL (or why that scope is wrong)."""
    from dashboard.layers import bounds
    from dashboard.scope import ScopeError, ScopeNotFound
    from dashboard.views import crumbs, layer_urls, legend_entries, may, resolve

    live, settings = services.live, services.settings
    try:
        scope = resolve(text, live)
    except (ScopeError, ScopeNotFound) as exc:
        return scope_error(lang, str(exc), not_found=isinstance(exc, ScopeNotFound))
    camera_legend = [entry for entry in legend_entries(lang) if entry[0] == t("legend.cameras", lang)]
    return video(
        lang,
        layer_urls(scope, live, CHOROPLETH),
        bounds(scope, live),
        settings.tiles,
        crumbs(scope, live, lang, PATH),
        [*camera_legend, blind_legend(lang)],
        settings.video.radius_m,
        export_links(lang, scope, "video", CHOROPLETH) if may("export:video") else (),
    )


def blind_legend(lang: str) -> tuple[str, list[tuple[str, str]]]:
    """The legend group of the scene's own symbols: blind cells, uncovered places, advised sites."""
    return t("legend.blind", lang), [(t(f"legend.blind.{k}", lang), colour) for k, colour in BLIND_COLOURS.items()]


def video(
    lang: str,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    crumbs: Sequence[tuple[str, str]],
    legend_items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    radius_m: float = 100.0,
    exports: Sequence[Any] = (),
) -> html.Section:
    """The scene's frame: every panel with an empty body the scene callbacks fill; ``exports`` are the
    briefing export links (for those who may export)."""
    rule = t("vid.coverage.rule", lang).format(r=f"{radius_m:g}")
    return html.Section(
        className="vid",
        children=[
            html.Div(
                className="vid-side vid-left",
                children=[
                    _panel(t("vid.panel.health", lang), ids.VID_HEALTH, "vid-health", "发改高技〔2015〕996号"),
                    _panel(t("vid.panel.areas", lang), ids.VID_AREAS, "vid-areas"),
                    _panel(t("vid.panel.uncovered", lang), ids.VID_UNCOVERED, "vid-uncovered"),
                ],
            ),
            html.Div(
                className="vid-centre",
                children=[
                    html.Div(className="ov-bar", children=[breadcrumb(crumbs), _choropleth(lang, exports)]),
                    html.Div(
                        className="map-wrap",
                        children=[
                            _video_map(lang, urls, bounds, tiles),
                            legend(legend_items),
                            html.Div(t("map.approximate", lang), className="map-credit"),
                        ],
                    ),
                    _advisor(lang),
                ],
            ),
            html.Div(
                className="vid-side vid-right",
                children=[
                    _trend_panel(lang),
                    _panel(t("vid.panel.offline", lang), ids.VID_OFFLINE, "vid-offline"),
                    _panel(t("vid.panel.coverage", lang), ids.VID_COVERAGE, "vid-coverage", rule),
                ],
            ),
        ],
    )


def _panel(title: str, body_id: str, cls: str, note: str = "", tools: Any = None) -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3([title, html.Span(note, className="vid-note") if note else None, tools], className="panel-title"),
            html.Div(id=body_id, className="vid-body", children=html.Span("…", className="vid-wait")),
        ],
    )


def _trend_panel(lang: str) -> html.Section:
    note = t("vid.trend.note", lang)
    return html.Section(
        className="panel vid-trend",
        children=[
            html.H3([t("vid.panel.trend", lang), html.Span(note, className="vid-note")], className="panel-title"),
            html.Div(
                className="vid-body",
                children=dcc.Graph(
                    id=ids.VID_TREND, className="vid-chart", figure=_figure([]), config=charts.CONFIG, responsive=True
                ),
            ),
        ],
    )


def _advisor(lang: str) -> html.Section:
    tools = html.Span(
        className="vid-tools",
        children=[
            html.Label(t("vid.advisor.n", lang), htmlFor=ids.VID_N),
            dcc.Input(
                id=ids.VID_N,
                type="number",
                min=MIN_SITES,
                max=MAX_SITES,
                step=1,
                value=DEFAULT_SITES,
                debounce=True,
                className="vid-n",
            ),
            html.A(t("vid.export", lang), id=ids.VID_EXPORT, href="#", className="export"),
        ],
    )
    return _panel(t("vid.panel.advisor", lang), ids.VID_ADVISOR, "vid-advisor", t("vid.advisor.rule", lang), tools)


def _choropleth(lang: str, exports: Sequence[Any] = ()) -> html.Div:
    """The town colouring, as on the overview; working rate here. Then the export links."""
    return html.Div(className="ov-tools", children=[*choropleth_select(lang, CHOROPLETH), *exports])


def _video_map(lang: str, urls: Mapping[str, str], bounds: list[list[float]], tiles: TileLayerSettings | None) -> Any:
    """The overview's map with the towns, cameras and blind spots switched on, plus the advisor's sites."""
    sites = dl.Overlay(
        dl.GeoJSON(id=ids.VID_SITES, data=EMPTY_FC, pointToLayer=ns("sitePoint")),
        name=t("vid.sites.layer", lang),
        checked=True,
    )
    return district_map(lang, urls, bounds, tiles, shown=VID_LAYERS, extra=[sites])


# ---- what the callbacks fill ------------------------------------------------------------------------

#: (component id, property) of everything the scene callback returns, in order.
OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.VID_HEALTH, "children"),
    (ids.VID_AREAS, "children"),
    (ids.VID_OFFLINE, "children"),
    (ids.VID_COVERAGE, "children"),
    (ids.VID_UNCOVERED, "children"),
    (ids.VID_TREND, "figure"),
)


def panel_outputs(view: VideoView, lang: str, scope: Scope) -> tuple[Any, ...]:
    """Every panel body of the scene, in :data:`OUTPUTS` order."""
    return (
        _or_failing(view.health, lang, lambda v: health_summary(v, lang)),
        _or_failing(view.health, lang, lambda v: area_table(v.areas, lang, scope)),
        _or_failing(view.offline, lang, lambda v: offline_list(v, lang)),
        _or_failing(view.coverage, lang, lambda v: coverage_summary(v, lang)),
        _or_failing(view.coverage, lang, lambda v: uncovered_list(v, lang)),
        trend_figure(view.trend, lang),
    )


def _or_failing(value: Any, lang: str, build: Callable[[Any], Any]) -> Any:
    if isinstance(value, Failed):
        return html.Div(t("health.failing", lang), className="vid-failing", title=value.error)
    return build(value)


def _none(text: str) -> html.Div:
    return html.Div(text, className="vid-none")


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _judge(rate: float | None, target: float) -> str:
    return "none" if rate is None else ("ok" if rate >= target - 1e-12 else "bad")


def rate_cell(rate: float | None, target: float) -> html.Td:
    """A rate coloured against its target."""
    return html.Td(pct(rate), className=f"num rate-{_judge(rate, target)}")


def health_summary(panel: HealthPanel, lang: str) -> html.Div:
    """The three rates against target, then counts by system and status."""
    s = panel.summary
    rates = [
        html.Div(
            className=f"vid-rate rate-{_judge(getattr(s, key), target)}",
            children=[
                html.Span(t(_RATE_KEYS[key], lang), className="vid-rate-name"),
                html.Span(pct(getattr(s, key)), className="vid-rate-value"),
                html.Span(f"{t('vid.target', lang)} {target * 100:.0f}%", className="vid-rate-target"),
            ],
        )
        for key, target in RATE_TARGETS.items()
    ]
    statuses = ("online", "offline", "fault")
    head = ["", t("vid.col.total", lang), *(t(f"vid.status.{k}", lang) for k in statuses)]
    rows = [
        html.Tr(
            [
                html.Td(t(f"vid.system.{c.system}", lang)),
                *(html.Td(str(v), className="num") for v in (c.total, c.online, c.offline, c.fault)),
            ]
        )
        for c in panel.systems
    ]
    total = html.Tr(
        className="vid-total",
        children=[html.Td("∑"), *(html.Td(str(v), className="num") for v in (s.total, s.online, s.offline, s.fault))],
    )
    return html.Div(
        [
            html.Div(rates, className="vid-rates"),
            html.Table(
                className="vid-table vid-systems",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody([*rows, total])],
            ),
        ]
    )


def _area_link(level: str, code: str, name: str) -> dcc.Link:
    return dcc.Link(name, href=href(PATH, Scope("town" if level == "town" else "village", code)), className="vid-link")


def area_table(rows: Sequence[AreaHealth], lang: str, scope: Scope) -> Any:
    """镇街 (or 村居) worst against target first; names drill down."""
    if not rows:
        return _none(t("vid.no_cameras", lang))
    head = [
        t(f"vid.col.area.{rows[0].level}", lang),
        t("vid.col.total", lang),
        *(t(k, lang) for k in _RATE_KEYS.values()),
    ]
    return html.Table(
        className="vid-table vid-area-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(_area_link(r.level, r.code, r.name), className="vid-name"),
                            html.Td(str(r.total), className="num"),
                            *(rate_cell(getattr(r, k), target) for k, target in RATE_TARGETS.items()),
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
    )


def offline_list(panel: OfflinePanel, lang: str) -> Any:
    """Offline and faulty cameras, down longest first, with how long."""
    if not panel.rows:
        return _none(t("vid.offline.none", lang))
    head = [t("vid.col.camera", lang), t("vid.col.status", lang), t("vid.col.area.town", lang), t("vid.col.down", lang)]
    body = [
        html.Tr(
            className=f"vid-down {r.status}",
            children=[
                html.Td(
                    dcc.Link(r.camera_id, href=href(PATH, Scope("asset", r.camera_id, "cameras")), className="vid-link")
                ),
                html.Td(t(f"vid.status.{r.status}", lang), className=f"vid-status {r.status}"),
                html.Td(r.town_name, className="vid-name"),
                html.Td(human_duration(r.down_s, lang), className="num"),
            ],
        )
        for r in panel.rows
    ]
    rest = panel.total - len(panel.rows)
    return html.Div(
        [
            html.Table(
                className="vid-table vid-offline-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
            ),
            html.Div(t("vid.offline.rest", lang).format(n=rest), className="vid-rest") if rest > 0 else None,
        ]
    )


def coverage_summary(panel: CoveragePanel, lang: str) -> html.Div:
    """The coverage rate against 100 %, then the rate per 镇街 / 村居, lowest first."""
    target = 1.0
    return html.Div(
        [
            html.Div(
                className=f"vid-rate big rate-{_judge(panel.rate, target)}",
                children=[
                    html.Span(pct(panel.rate), className="vid-rate-value"),
                    html.Span(
                        t("vid.coverage.of", lang).format(covered=panel.covered, places=panel.places),
                        className="vid-rate-name",
                    ),
                    html.Span(f"{t('vid.target', lang)} 100%", className="vid-rate-target"),
                ],
            ),
            _coverage_table(panel.areas, lang),
        ]
    )


def _coverage_table(rows: Sequence[AreaCoverage], lang: str) -> Any:
    if not rows:
        return None
    head = [t(f"vid.col.area.{rows[0].level}", lang), t("vid.col.places", lang), t("vid.col.rate", lang)]
    return html.Table(
        className="vid-table vid-coverage-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(_area_link(r.level, r.code, r.name), className="vid-name"),
                            html.Td(f"{r.covered}/{r.places}", className="num"),
                            rate_cell(r.rate, 1.0),
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
    )


def uncovered_list(panel: CoveragePanel, lang: str) -> Any:
    """Key places without a working camera in range: name, category, 镇街."""
    if not panel.uncovered:
        return _none(t("vid.uncovered.none", lang))
    body = [
        html.Tr(
            [
                html.Td(
                    dcc.Link(p.name, href=href(PATH, Scope("asset", p.place_id, "key_places")), className="vid-link"),
                    className="vid-name",
                ),
                html.Td(_category(p.category, lang)),
                html.Td(p.town_name, className="vid-dim"),
            ]
        )
        for p in panel.uncovered
    ]
    rest = panel.uncovered_total - len(panel.uncovered)
    head = [t("vid.col.place", lang), t("vid.col.category", lang), t("vid.col.area.town", lang)]
    return html.Div(
        [
            html.Table(
                className="vid-table vid-uncovered-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
            ),
            html.Div(t("vid.uncovered.rest", lang).format(n=rest), className="vid-rest") if rest > 0 else None,
        ]
    )


def _category(code: str, lang: str) -> str:
    key = f"vid.category.{code}"
    try:
        return t(key, lang)
    except KeyError:
        return code


def advisor_table(sites: pd.DataFrame | Failed | None, lang: str, before: float | None) -> Any:
    """The chosen sites in order with each one's gain and the coverage after it."""
    if sites is None:
        return _none(t("vid.advisor.bad_n", lang))
    if isinstance(sites, Failed):
        return _or_failing(sites, lang, lambda v: v)
    if sites.empty:
        return _none(t("vid.advisor.none", lang))
    head = ["#", t("vid.col.place", lang), t("vid.col.category", lang), t("vid.col.area.town", lang)]
    head += [t("vid.col.gain", lang), t("vid.col.after", lang)]
    body = [
        html.Tr(
            [
                html.Td(str(i), className="num vid-dim"),
                html.Td(str(r.name), className="vid-name"),
                html.Td(_category(str(r.category), lang)),
                html.Td(str(r.town_name), className="vid-dim"),
                html.Td(f"+{int(r.gain)}", className="num vid-gain"),
                html.Td(pct(float(r.coverage_rate)), className="num"),
            ]
        )
        for i, r in enumerate(sites.itertuples(index=False), start=1)
    ]
    summary = t("vid.advisor.result", lang).format(
        k=len(sites),
        gain=int(sites["gain"].sum()),
        before=pct(before),
        after=pct(float(sites["coverage_rate"].iloc[-1])),
    )
    return html.Div(
        [
            html.Div(summary, className="vid-advice-sum"),
            html.Table(
                className="vid-table vid-advisor-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
            ),
        ]
    )


def export_href(scope: Scope, n: int | None) -> str:
    """The CSV of the advisor's sites at ``scope``."""
    return f"/export/camera-sites.csv?{urlencode({'scope': scope.key, 'n': n or DEFAULT_SITES})}"


def sites_geojson(sites: pd.DataFrame | Failed | None, places: pd.DataFrame | None = None) -> dict[str, Any]:
    """The advisor's sites as numbered points (rank, name, gain, coverage after), plus the places each newly
    covers (``places``: place_id, lon, lat) as ``covers`` points; empty when there is nothing to draw."""
    if sites is None or isinstance(sites, Failed) or sites.empty:
        return EMPTY_FC
    features = []
    where = (
        {}
        if places is None
        else dict(zip(places["place_id"], zip(places["lon"], places["lat"], strict=True), strict=True))
    )
    for rank, r in enumerate(sites.itertuples(index=False), start=1):
        for place in r.new_places:
            if place in where and place != r.place_id:
                features.append(_point(where[place], kind="covers", site=rank))
        features.append(
            _point(
                (r.lon, r.lat),
                kind="site",
                rank=rank,
                id=str(r.place_id),
                name=str(r.name),
                gain=int(r.gain),
                after=pct(float(r.coverage_rate)),
            )
        )
    return {"type": "FeatureCollection", "features": features}


def _point(lonlat: tuple[float, float], **props: Any) -> dict[str, Any]:
    lon, lat = lonlat
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
        "properties": props,
    }


# ---- the daily trend --------------------------------------------------------------------------------


#: (rate, i18n key, colour) of the trend's lines; targets from RATE_TARGETS.
_TREND_LINES: tuple[tuple[str, str, str], ...] = (
    ("working_rate", "vid.working", "#35c2ff"),
    ("networking_rate", "vid.networking", "#a3d977"),
)


def trend_figure(panel: TrendPanel | Failed, lang: str) -> dict[str, Any]:
    """Daily working and networking rate (%) with their targets (98 %, 100 %) dashed in the same colours."""
    if isinstance(panel, Failed):
        return _figure([], t("health.failing", lang))
    if not panel.days:
        return _figure([], t("vid.trend.none", lang))
    x = [d.day.isoformat() for d in panel.days]
    data, shapes, values = [], [], []
    for key, label, colour in _TREND_LINES:
        y = [None if getattr(d, key) is None else round(getattr(d, key) * 100, 2) for d in panel.days]
        values += [v for v in y if v is not None]
        name = t(label, lang)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": y,
                "name": name,
                "line": {"width": 2.5, "color": colour},
                "marker": {"size": 4, "color": colour},
                "hovertemplate": f"{name} %{{y:.1f}}%<extra></extra>",
            }
        )
        target = RATE_TARGETS[key] * 100
        values.append(target)
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": target,
                "y1": target,
                "line": {"color": colour, "width": 1, "dash": "dash"},
            }
        )
    low = max(0.0, min(values) - 1.0)
    return _figure(data, shapes=shapes, yaxis={**_layout()["yaxis"], "range": [low, 100.5]})


def _layout(**extra: Any) -> dict[str, Any]:
    return charts.layout(
        x={"tickformat": "%m-%d"},
        y={"ticksuffix": "%"},
        margin={"l": 40, "r": 8, "t": 22, "b": 24},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
        hovermode="x unified",
        **extra,
    )


def _figure(data: list[dict[str, Any]], message: str = "", **extra: Any) -> dict[str, Any]:
    return charts.figure(data, _layout(**extra), message)
