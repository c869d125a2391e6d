"""生态环境: air on the left, the map and the station table in the centre, water, reservoirs, radiation and
pollution episodes on the right.

:func:`environment` builds the frame (pure); the scene callback fills each panel's body with the builders
below from one :class:`~dashboard.environment.EnvironmentView`. A panel whose feed fails says 数据源异常 and
nothing else; the rest of the scene keeps working. Colours come from the standards' tables (HJ 633 levels, the
water-class convention) and are data, hence inline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dash import dcc, html

from dashboard.domain import air
from dashboard.domain.water import LABELS
from dashboard.environment import (
    POLLUTANTS,
    WATER_COLOURS,
    AirView,
    AqiReading,
    EnvironmentView,
    RadiationRow,
    ReservoirRow,
    SectionRow,
    StationRow,
)
from dashboard.i18n import t
from dashboard.live import Failed
from dashboard.scope import Scope, href
from dashboard.settings import EnvironmentSettings, TileLayerSettings
from dashboard.timeutil import local
from layouts import charts, ids
from layouts.map import choropleth_select, district_map, legend
from layouts.overview import breadcrumb, export_links, scope_error

if TYPE_CHECKING:
    from dashboard.services import Services

PATH = "/environment"
#: The 镇街 areas of this scene are coloured by AQI at first.
CHOROPLETH = "aqi"
#: Overlays that start switched on here; the others (traffic, cameras…) stay one click away.
ENV_LAYERS = frozenset({"towns", "air", "water"})
#: Pollutant labels as printed in HJ 633.
POLLUTANT_LABELS: Mapping[str, str] = {
    "pm25": "PM2.5",
    "pm10": "PM10",
    "so2": "SO₂",
    "no2": "NO₂",
    "co": "CO",
    "o3": "O₃",
    "o3_8h": "O₃-8h",
}
MAX_EPISODES = 12


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
    aqi_legend = [entry for entry in legend_entries(lang) if entry[0] == t("legend.aqi", lang)]
    return environment(
        lang,
        scope,
        layer_urls(scope, live, CHOROPLETH),
        bounds(scope, live),
        settings.tiles,
        crumbs(scope, live, lang, PATH),
        aqi_legend,
        settings.environment,
        export_links(lang, scope, "environment", CHOROPLETH) if may("export:environment") else (),
    )


def environment(
    lang: str,
    scope: Scope,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    crumbs: Sequence[tuple[str, str]],
    legend_items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    rules: EnvironmentSettings,
    exports: Sequence[Any] = (),
) -> html.Section:
    """The scene's frame: every panel with an empty body the scene callback fills; ``exports`` are the
    briefing export links (for those who may export)."""
    return html.Section(
        className="env",
        children=[
            html.Div(
                className="env-side env-left",
                children=[
                    _panel(t("env.panel.aqi", lang), ids.ENV_AIR_NOW, "env-now"),
                    _chart_panel(t("env.panel.trend24", lang), ids.ENV_TREND_24H, "env-trend"),
                    _chart_panel(t("env.panel.trend30", lang), ids.ENV_TREND_30D, "env-trend"),
                    _panel(t("env.panel.ranking", lang), ids.ENV_RANKING, "env-ranking"),
                ],
            ),
            html.Div(
                className="env-centre",
                children=[
                    html.Div(className="ov-bar", children=[breadcrumb(crumbs), _choropleth(lang, exports)]),
                    html.Div(
                        className="map-wrap",
                        children=[
                            _env_map(lang, urls, bounds, tiles),
                            legend(legend_items),
                            html.Div(t("map.approximate", lang), className="map-credit"),
                        ],
                    ),
                    # A fixed height (by scope, not by content) so the map keeps the size it fitted its bounds to.
                    _panel(
                        t("env.panel.stations", lang),
                        ids.ENV_STATIONS,
                        "env-stations" + ("" if scope.level == "district" else " compact"),
                        t("env.iaqi", lang) + " · HJ 633",
                    ),
                ],
            ),
            html.Div(
                className="env-side env-right",
                children=[
                    _panel(t("env.panel.water", lang), ids.ENV_WATER, "env-water", t("env.water.note", lang)),
                    _panel(t("env.panel.reservoirs", lang), ids.ENV_RESERVOIRS, "env-reservoirs"),
                    _panel(t("env.panel.radiation", lang), ids.ENV_RADIATION, "env-radiation"),
                    _panel(
                        t("env.panel.episodes", lang),
                        ids.ENV_EPISODES,
                        "env-episodes",
                        t("env.episode.rule", lang).format(aqi=rules.episode_aqi, hours=rules.episode_hours),
                    ),
                ],
            ),
        ],
    )


def _panel(title: str, body_id: str, cls: str, note: str = "") -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3([title, html.Span(note, className="env-note") if note else None], className="panel-title"),
            html.Div(id=body_id, className="env-body", children=html.Span("…", className="env-wait")),
        ],
    )


def _chart_panel(title: str, graph_id: str, cls: str) -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3(title, className="panel-title"),
            dcc.Graph(id=graph_id, className="env-chart", figure=_figure([]), config=charts.CONFIG, responsive=True),
        ],
    )


def _choropleth(lang: str, exports: Sequence[Any] = ()) -> html.Div:
    """The town colouring, as on the overview; AQI here. Then the export links."""
    return html.Div(className="ov-tools", children=[*choropleth_select(lang, CHOROPLETH), *exports])


def _env_map(lang: str, urls: Mapping[str, str], bounds: list[list[float]], tiles: TileLayerSettings | None) -> Any:
    """The overview's map (same layers, same URLs, same drill on click) with the environment's overlays on."""
    return district_map(lang, urls, bounds, tiles, shown=ENV_LAYERS)


# ---- what the callback fills ------------------------------------------------------------------------

#: (component id, property) of everything the scene callback returns, in order.
OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.ENV_AIR_NOW, "children"),
    (ids.ENV_TREND_24H, "figure"),
    (ids.ENV_TREND_30D, "figure"),
    (ids.ENV_RANKING, "children"),
    (ids.ENV_STATIONS, "children"),
    (ids.ENV_WATER, "children"),
    (ids.ENV_RESERVOIRS, "children"),
    (ids.ENV_RADIATION, "children"),
    (ids.ENV_EPISODES, "children"),
)


def panel_outputs(view: EnvironmentView, lang: str, scope: Scope) -> tuple[Any, ...]:
    """Every panel body of the scene, in :data:`OUTPUTS` order."""
    a = view.air
    return (
        _or_failing(a, lang, lambda v: air_now(v, lang)),
        trend_figure(a, lang),
        daily_figure(a, lang),
        _or_failing(a, lang, lambda v: ranking(v, scope, lang)),
        _or_failing(a, lang, lambda v: station_table(v.stations, lang)),
        _or_failing(view.water, lang, lambda v: water_list(v, lang)),
        _or_failing(view.reservoirs, lang, lambda v: reservoir_list(v, lang)),
        _or_failing(view.radiation, lang, lambda v: radiation_list(v, lang, view.radiation_factor)),
        _or_failing(a, lang, lambda v: episode_list(v, lang)),
    )


def _or_failing(value: Any, lang: str, build: Callable[[Any], Any]) -> Any:
    if isinstance(value, Failed):
        return html.Div(t("health.failing", lang), className="env-failing", title=value.error)
    return build(value)


def _none(text: str) -> html.Div:
    return html.Div(text, className="env-none")


def _hm(at: datetime | None) -> str:
    return local(at).strftime("%H:%M") if at else "—"


def _mdhm(at: datetime | None) -> str:
    return local(at).strftime("%m-%d %H:%M") if at else "—"


def _primary(names: Sequence[str], lang: str) -> str:
    return _join((POLLUTANT_LABELS.get(p, p) for p in names), lang) if names else t("env.primary.none", lang)


def _join(parts: Iterable[str], lang: str) -> str:
    return ("、" if lang == "zh-CN" else ", ").join(parts)


def aqi_badge(value: float | None, extra: str = "") -> html.Span:
    """An AQI value on its HJ 633 category colour (grey when unknown)."""
    if value is None:
        return html.Span("—", className=f"aqi-badge aqi-none {extra}".strip())
    level = air.aqi_level(value)
    return html.Span(
        str(round(value)),
        className=f"aqi-badge aqi-lv{level.level} {extra}".strip(),
        style={"background": level.colour},
    )


def _category(reading: AqiReading | None, lang: str) -> str:
    if reading is None:
        return t("env.none.data", lang)
    return reading.category_en if lang == "en" else reading.category


# ---- air -------------------------------------------------------------------------------------------


def air_now(view: AirView, lang: str) -> html.Div:
    """The scope's AQI in its category colour, primary pollutant, yesterday's AQI, good days."""
    now = view.now
    good, known = view.good_days
    yesterday = view.daily[-1] if view.daily else None
    colour = now.colour if now else charts.MUTED
    return html.Div(
        className="env-aqi",
        children=[
            html.Div(
                className="env-aqi-main",
                children=[
                    html.Span(
                        str(now.aqi) if now else "—",
                        className=f"env-aqi-value aqi-lv{now.level if now else 0}",
                        style={"color": colour},
                    ),
                    html.Div(
                        className="env-aqi-side",
                        children=[
                            html.Span(
                                _category(now, lang),
                                className=f"env-aqi-cat aqi-lv{now.level if now else 0}",
                                style={"background": colour},
                            ),
                            html.Span(
                                [t("env.primary", lang), " ", html.B(_primary(now.primary if now else (), lang))]
                            ),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="env-aqi-foot",
                children=[
                    html.Span([t("env.aqi.yesterday", lang), " ", aqi_badge(yesterday)]),
                    html.Span(
                        [t("env.aqi.good_days", lang), " ", html.B(f"{good}/{known}"), " ", t("env.aqi.days", lang)]
                    ),
                    html.Span(f"{t('env.aqi.hourly', lang)} · {_mdhm(now.at if now else None)}", className="env-time"),
                ],
            ),
        ],
    )


def _bands(top: float) -> list[dict[str, Any]]:
    """HJ 633 category colour bands behind an AQI chart, up to ``top``."""
    edges = (0, 50, 100, 150, 200, 300, 500)
    return [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": lo,
            "y1": min(hi, top),
            "fillcolor": level.colour,
            "opacity": 0.09,
            "line": {"width": 0},
            "layer": "below",
        }
        for lo, hi, level in zip(edges, edges[1:], air.AQI_LEVELS, strict=False)
        if lo < top
    ]


def trend_figure(view: AirView | Failed, lang: str) -> dict[str, Any]:
    """24 h hourly AQI: each station faint, the scope (station mean) bold, on HJ 633 colour bands."""
    if isinstance(view, Failed):
        return _figure([], t("health.failing", lang))
    x = [local(h).strftime("%Y-%m-%d %H:%M") for h in view.hours]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": list(s.trend),
            "name": s.name,
            "line": {"width": 1, "color": "rgba(143,166,193,0.45)"},
            "hovertemplate": f"{s.name} %{{y}}<extra></extra>",
        }
        for s in view.stations
    ]
    colours = [air.aqi_level(v).colour if v is not None else charts.MUTED for v in view.trend]
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": list(view.trend),
            "name": t("env.scope.stations", lang),
            "line": {"width": 3, "color": "#35c2ff"},
            "marker": {"size": 6, "color": colours},
            "hovertemplate": f"{t('env.scope.stations', lang)} %{{y}}<extra></extra>",
        }
    )
    values = [v for s in view.stations for v in s.trend if v is not None] + [v for v in view.trend if v is not None]
    top = max([150.0, *values]) * 1.08
    return _figure(
        data,
        shapes=_bands(top),
        yaxis={**_layout()["yaxis"], "range": [0, top]},
        xaxis={**_layout()["xaxis"], "tickformat": "%H:%M"},
    )


def daily_figure(view: AirView | Failed, lang: str) -> dict[str, Any]:
    """30 days of daily AQI as bars in their category colours, with the 良/轻度 boundary (100) dashed."""
    if isinstance(view, Failed):
        return _figure([], t("health.failing", lang))
    x = [d.isoformat() for d in view.days]
    colours = [air.aqi_level(v).colour if v is not None else charts.MUTED for v in view.daily]
    data = [
        {
            "type": "bar",
            "x": x,
            "y": [v for v in view.daily],
            "marker": {"color": colours, "line": {"width": 0}},
            "hovertemplate": "%{x} AQI %{y}<extra></extra>",
        }
    ]
    limit = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": 100,
        "y1": 100,
        "line": {"color": "rgba(230,238,248,0.5)", "width": 1, "dash": "dash"},
    }
    return _figure(data, shapes=[limit], bargap=0.25, xaxis={**_layout()["xaxis"], "tickformat": "%m-%d"})


def ranking(view: AirView, scope: Scope, lang: str) -> html.Ol:
    """The 10 镇街 best first; each links to its scope, the one in scope is highlighted."""
    here = scope.town_code or (view.stations[0].town_code if scope.level == "asset" and view.stations else None)
    return html.Ol(
        className="env-rank",
        children=[
            html.Li(
                className="env-rank-row" + (" current" if r.town_code == here else ""),
                children=[
                    html.Span(str(i), className="env-rank-no"),
                    dcc.Link(r.name, href=href(PATH, Scope("town", r.town_code)), className="env-rank-name"),
                    aqi_badge(r.now.aqi if r.now else None),
                    html.Span(_category(r.now, lang), className="env-rank-cat"),
                    html.Span(_primary(r.now.primary, lang) if r.now and r.now.primary else "", className="env-dim"),
                ],
            )
            for i, r in enumerate(view.ranking, start=1)
        ],
    )


def station_table(stations: Sequence[StationRow], lang: str) -> Any:
    """One row per station: name (drills to it), AQI, category, primary, each pollutant's IAQI, daily AQI, time."""
    if not stations:
        return _none(t("env.none.stations", lang))
    head = [
        t("env.col.station", lang),
        "AQI",
        t("env.col.category", lang),
        t("env.primary", lang),
        *(POLLUTANT_LABELS[p] for p in POLLUTANTS),
        t("env.col.daily", lang),
        t("env.col.time", lang),
    ]
    return html.Table(
        className="env-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody([_station_row(s, lang) for s in stations]),
        ],
    )


def _station_row(s: StationRow, lang: str) -> html.Tr:
    h = s.hourly
    link = href(PATH, Scope("asset", s.station_id, "air_stations"))
    iaqi = [
        html.Td(
            str(h.iaqi[p]) if h and p in h.iaqi else "—",
            className="num" + (" exceed" if h and h.iaqi.get(p, 0) > 100 else ""),
        )
        for p in POLLUTANTS
    ]
    return html.Tr(
        className="env-station",
        children=[
            html.Td(dcc.Link(s.name, href=link, className="env-link")),
            html.Td(aqi_badge(h.aqi if h else None)),
            html.Td(_category(h, lang)),
            html.Td(_primary(h.primary, lang) if h else "—"),
            *iaqi,
            html.Td(aqi_badge(s.daily.aqi if s.daily else None, "small")),
            html.Td(_hm(h.at if h else None), className="env-dim"),
        ],
    )


def episode_list(view: AirView, lang: str) -> Any:
    """Ongoing episodes first, then those ended in the last 48 h (newest first)."""
    if not view.episodes:
        return _none(t("env.none.episodes", lang))
    ongoing = sum(row.episode.ongoing for row in view.episodes)
    summary = t("env.episode.summary", lang).format(ongoing=ongoing, ended=len(view.episodes) - ongoing)
    items = html.Ul(
        className="env-episodes-list",
        children=[
            html.Li(
                className="env-episode" + (" ongoing" if row.episode.ongoing else ""),
                children=[
                    html.Span(row.station_name, className="env-episode-name"),
                    aqi_badge(row.episode.peak_aqi),
                    html.Span(_primary(row.episode.primary, lang), className="env-dim"),
                    html.Span(t("env.episode.hours", lang).format(n=row.episode.hours), className="env-episode-hours"),
                    html.Span(
                        f"{_mdhm(row.episode.start)} → "
                        + (t("env.episode.ongoing", lang) if row.episode.ongoing else _hm(row.episode.end)),
                        className="env-episode-time",
                    ),
                ],
            )
            for row in view.episodes[:MAX_EPISODES]
        ],
    )
    return html.Div([html.Div(summary, className="env-episode-sum"), items])


# ---- water, reservoirs, radiation -----------------------------------------------------------------


def water_badge(row: SectionRow) -> html.Span:
    return html.Span(row.label, className=f"wq-badge wq-g{row.grade or 0}", style={"background": row.colour})


def water_list(rows: Sequence[SectionRow], lang: str) -> Any:
    """Per section: class badge, the item(s) deciding it, the target and whether it is met, the class trend."""
    if not rows:
        return _none(t("env.none.water", lang))
    return html.Ul(className="env-list", children=[_water_row(r, lang) for r in rows])


def _water_row(r: SectionRow, lang: str) -> html.Li:
    meets = r.meets
    verdict = "" if meets is None else t("env.water.meets" if meets else "env.water.misses", lang)
    cells = [
        html.I(className="wq-cell", style={"background": WATER_COLOURS[g - 1]}, title=LABELS[g - 1]) for g in r.trend
    ]
    return html.Li(
        className="env-water-row",
        title=f"{r.name} · {_mdhm(r.at)}",
        children=[
            dcc.Link(
                r.name, href=href(PATH, Scope("asset", r.section_id, "water_sections")), className="env-link env-name"
            ),
            water_badge(r),
            html.Span(
                # A class-Ⅰ sample is decided by every item: naming them all says nothing.
                _join((t(f"env.item.{i}", lang) for i in r.deciding), lang) if r.grade and r.grade > 1 else "",
                className="env-dim env-deciding",
            ),
            html.Span(
                [
                    f"{t('env.water.target', lang)}{' ' if lang == 'en' else ''}{LABELS[r.target_class - 1]} ",
                    html.B(verdict),
                ],
                className="env-target " + ("ok" if meets else "bad" if meets is False else ""),
            ),
            html.Span(cells, className="wq-trend", title=t("env.water.trend", lang)) if r.trend else None,
        ],
    )


def reservoir_list(rows: Sequence[ReservoirRow], lang: str) -> Any:
    if not rows:
        return _none(t("env.none.reservoirs", lang))
    return html.Ul(className="env-list", children=[_reservoir_row(r, lang) for r in rows])


def gauge(r: ReservoirRow) -> tuple[float, list[tuple[str, float]]]:
    """The level's position on a gauge from 5 m below the reference level (flood limit, else normal pool) to the
    check flood level (else 1 m above the reference), and the known characteristic levels' positions (0–1)."""
    ref = r.flood_limit_m if r.flood_limit_m is not None else r.normal_pool_m
    if ref is None or r.level_m is None:
        return 0.0, []
    low, high = ref - 5.0, r.check_flood_m if r.check_flood_m is not None else ref + 1.0

    def pos(v: float) -> float:
        return min(1.0, max(0.0, (v - low) / (high - low)))

    marks = [
        (key, pos(v))
        for key, v in (
            ("flood_limit", r.flood_limit_m),
            ("design_flood", r.design_flood_m),
            ("check_flood", r.check_flood_m),
            ("normal_pool", r.normal_pool_m),
        )
        if v is not None
    ]
    return pos(r.level_m), marks


def _reservoir_margin(r: ReservoirRow, lang: str) -> tuple[str, str]:
    for margin, below, above in (
        (r.flood_margin_m, "env.res.below_flood", "env.res.above_flood"),
        (r.pool_margin_m, "env.res.below_pool", "env.res.above_pool"),
    ):
        if margin is not None:
            key, cls = (below, "ok") if margin >= 0 else (above, "bad")
            return t(key, lang).format(m=f"{abs(margin):.2f}"), cls
    return t("env.res.unknown", lang), ""


def _reservoir_row(r: ReservoirRow, lang: str) -> html.Li:
    fill, marks = gauge(r)
    margin, cls = _reservoir_margin(r, lang)
    known = [
        f"{t(f'env.res.{key}', lang)} {value:.2f}"
        for key, value in (
            ("flood_limit", r.flood_limit_m),
            ("design_flood", r.design_flood_m),
            ("check_flood", r.check_flood_m),
            ("normal_pool", r.normal_pool_m),
        )
        if value is not None
    ]
    return html.Li(
        className="env-res-row",
        title=_mdhm(r.at),
        children=[
            html.Div(
                className="env-res-head",
                children=[
                    dcc.Link(
                        r.name,
                        href=href(PATH, Scope("asset", r.reservoir_id, "reservoirs")),
                        className="env-link env-name",
                    ),
                    html.B(f"{r.level_m:.2f} m" if r.level_m is not None else "—", className="env-res-level"),
                    html.Span(margin, className=f"env-res-margin {cls}"),
                ],
            ),
            html.Div(
                className="env-gauge",
                children=[
                    html.Div(className="env-gauge-fill " + cls, style={"width": f"{fill * 100:.1f}%"}),
                    *[
                        html.I(
                            className=f"env-gauge-mark {k}",
                            style={"left": f"{p * 100:.1f}%"},
                            title=t(f"env.res.{k}", lang),
                        )
                        for k, p in marks
                    ],
                ],
            ),
            html.Div(" · ".join(known) + " m" if known else "", className="env-dim env-res-known"),
        ],
    )


def radiation_list(rows: Sequence[RadiationRow], lang: str, factor: float) -> Any:
    if not rows:
        return _none(t("env.none.radiation", lang))
    return html.Div(
        [
            html.Ul(className="env-list", children=[_radiation_row(r, lang) for r in rows]),
            html.Div(t("env.rad.rule", lang).format(factor=f"{factor:g}"), className="env-note env-assumed"),
        ]
    )


def _radiation_row(r: RadiationRow, lang: str) -> html.Li:
    state = "env.rad.alert" if r.alert else "env.rad.normal"
    return html.Li(
        className="env-rad-row" + (" alert" if r.alert else ""),
        title=_mdhm(r.at),
        children=[
            dcc.Link(
                r.name,
                href=href(PATH, Scope("asset", r.station_id, "radiation_stations")),
                className="env-link env-name",
            ),
            html.Span([html.B(f"{r.dose:.1f}" if r.dose is not None else "—"), " nGy/h"], className="env-rad-dose"),
            html.Span(
                f"{t('env.rad.baseline', lang)} {r.baseline:.0f}" if r.baseline is not None else "", className="env-dim"
            ),
            html.Span(f"{r.ratio:.2f}×" if r.ratio is not None else "—", className="env-rad-ratio"),
            html.Span(t(state, lang), className="env-rad-badge " + ("alert" if r.alert else "ok")),
        ],
    )


def _layout(**extra: Any) -> dict[str, Any]:
    return charts.layout(y={"rangemode": "tozero"}, **extra)


def _figure(data: list[dict[str, Any]], message: str = "", **extra: Any) -> dict[str, Any]:
    return charts.figure(data, _layout(**extra), message)
