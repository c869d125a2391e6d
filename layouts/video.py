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
    VideoView,
    human_duration,
)
from layouts import ids
from layouts.map import choropleth_select, district_map, legend
from layouts.overview import breadcrumb, scope_error

if TYPE_CHECKING:
    from dashboard.services import Services

PATH = "/video"
#: The 镇街 areas of this scene are coloured by working rate at first.
CHOROPLETH = "working_rate"
#: Overlays that start switched on here; the others stay one click away in the layer control.
VID_LAYERS = frozenset({"towns", "cameras"})
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
    from dashboard.views import crumbs, layer_urls, legend_entries, resolve

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
        camera_legend,
    )


def video(
    lang: str,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    crumbs: Sequence[tuple[str, str]],
    legend_items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
) -> html.Section:
    """The scene's frame: every panel with an empty body the scene callbacks fill."""
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
                    html.Div(className="ov-bar", children=[breadcrumb(crumbs), _choropleth(lang)]),
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
                    _panel(t("vid.panel.offline", lang), ids.VID_OFFLINE, "vid-offline"),
                    _panel(
                        t("vid.panel.coverage", lang), ids.VID_COVERAGE, "vid-coverage", t("vid.coverage.rule", lang)
                    ),
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


def _choropleth(lang: str) -> html.Div:
    """The town colouring, as on the overview; working rate here."""
    return html.Div(className="ov-tools", children=choropleth_select(lang, CHOROPLETH))


def _video_map(lang: str, urls: Mapping[str, str], bounds: list[list[float]], tiles: TileLayerSettings | None) -> Any:
    """The overview's map with only the towns and cameras switched on."""
    return district_map(lang, urls, bounds, tiles, shown=VID_LAYERS)


# ---- what the callbacks fill ------------------------------------------------------------------------

#: (component id, property) of everything the scene callback returns, in order.
OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.VID_HEALTH, "children"),
    (ids.VID_AREAS, "children"),
    (ids.VID_OFFLINE, "children"),
    (ids.VID_COVERAGE, "children"),
    (ids.VID_UNCOVERED, "children"),
)


def panel_outputs(view: VideoView, lang: str, scope: Scope) -> tuple[Any, ...]:
    """Every panel body of the scene, in :data:`OUTPUTS` order."""
    return (
        _or_failing(view.health, lang, lambda v: health_summary(v, lang)),
        _or_failing(view.health, lang, lambda v: area_table(v.areas, lang, scope)),
        _or_failing(view.offline, lang, lambda v: offline_list(v, lang)),
        _or_failing(view.coverage, lang, lambda v: coverage_summary(v, lang)),
        _or_failing(view.coverage, lang, lambda v: uncovered_list(v, lang)),
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
