"""文旅客流: tourism KPI tiles and the area table on the left, the map and the forecast in the centre, warnings with
diversion suggestions, expected warning times and (in holiday mode) entrances and parking on the right.

:func:`tourism` builds the frame (pure); the scene callbacks fill each panel's body with the builders below from one
:class:`~dashboard.tourism_view.TourismView`. Holiday mode (``?mode=holiday``) is the variant for peak days: the
area table adds each area's expected warning time, and the entrances and parking panel opens. A panel whose feed
fails says 数据源异常 and nothing else; the rest of the scene keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from dash import dcc, html

from dashboard.domain.holiday_calendar import DayKind
from dashboard.i18n import t
from dashboard.live import Failed
from dashboard.numbers import fmt_value
from dashboard.scope import Scope
from dashboard.settings import TileLayerSettings, TourismSettings
from dashboard.timeutil import local
from dashboard.tourism_view import AreaForecast, AreaRow, Nearby, TourismView
from layouts import charts, ids
from layouts.map import choropleth_select, district_map, legend
from layouts.overview import breadcrumb, domain_panel, export_links, scope_error

if TYPE_CHECKING:
    from dashboard.services import Services

PATH = "/tourism"
HOLIDAY = "holiday"
#: The 镇街 areas of this scene are coloured by visitors at first.
CHOROPLETH = "visitors"
#: Overlays that start switched on here.
TOUR_LAYERS = frozenset({"towns", "scenic"})
_LINE, _FORECAST, _WARN, _LIMIT = "#35c2ff", "#f5b041", "#e67e22", "#c0392b"


def mode_of(search: str | None) -> str:
    """``holiday`` when the URL asks for the holiday variant, else ``normal``."""
    values = parse_qs((search or "").lstrip("?")).get("mode")
    return HOLIDAY if values and values[0] == HOLIDAY else "normal"


def scene_href(scope: Scope, mode: str) -> str:
    """A link to the scene at ``scope`` in ``mode``."""
    query = {} if scope.level == "district" else {"scope": scope.key}
    if mode == HOLIDAY:
        query["mode"] = HOLIDAY
    return f"{PATH}?{urlencode(query)}" if query else PATH


# ---- the page --------------------------------------------------------------------------------------


def page(services: Services, lang: str, text: str | None, mode: str | None = None) -> html.Section:
    """The scene at the scope in the URL (or why that scope is wrong)."""
    from dashboard.layers import bounds
    from dashboard.scope import ScopeError, ScopeNotFound
    from dashboard.views import crumbs, layer_urls, legend_entries, may, resolve

    live, settings = services.live, services.settings
    try:
        scope = resolve(text, live)
    except (ScopeError, ScopeNotFound) as exc:
        return scope_error(lang, str(exc), not_found=isinstance(exc, ScopeNotFound))
    crowding_legend = [entry for entry in legend_entries(lang) if entry[0] == t("legend.crowding", lang)]
    return tourism(
        lang,
        scope,
        HOLIDAY if mode == HOLIDAY else "normal",
        layer_urls(scope, live, CHOROPLETH),
        bounds(scope, live),
        settings.tiles,
        crumbs(scope, live, lang, PATH),
        crowding_legend,
        settings.tourism,
        export_links(lang, scope, "tourism", CHOROPLETH) if may("export:tourism") else (),
    )


def tourism(
    lang: str,
    scope: Scope,
    mode: str,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    crumbs: Sequence[tuple[str, str]],
    legend_items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    rules: TourismSettings,
    exports: Sequence[Any] = (),
) -> html.Section:
    """The scene's frame: every panel with an empty body the scene callbacks fill; ``exports`` are the
    briefing export links (for those who may export)."""
    holiday = mode == HOLIDAY
    other = "normal" if holiday else HOLIDAY
    return html.Section(
        className="tour" + (" tour-holiday" if holiday else ""),
        children=[
            html.Div(
                className="tour-side tour-left",
                children=[
                    domain_panel("tourism", lang, scope),
                    _panel(t("tour.panel.areas", lang), ids.TOUR_AREAS, "tour-areas", t("tour.assumed", lang)),
                ],
            ),
            html.Div(
                className="tour-centre",
                children=[
                    html.Div(
                        className="ov-bar",
                        children=[
                            breadcrumb(crumbs),
                            html.Div(
                                className="ov-tools",
                                children=[
                                    html.Span(id=ids.TOUR_DAY, className="tour-day"),
                                    dcc.Link(
                                        t(f"tour.mode.{other}", lang),
                                        href=scene_href(scope, other),
                                        className="export tour-mode",
                                    ),
                                    *choropleth_select(lang, CHOROPLETH),
                                    *exports,
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="map-wrap",
                        children=[
                            district_map(lang, urls, bounds, tiles, shown=TOUR_LAYERS),
                            legend(legend_items),
                            html.Div(t("map.approximate", lang), className="map-credit"),
                        ],
                    ),
                    _forecast_panel(lang),
                ],
            ),
            html.Div(
                className="tour-side tour-right",
                children=[
                    _panel(
                        t("tour.panel.warnings", lang),
                        ids.TOUR_WARNINGS,
                        "tour-warnings",
                        t("tour.alarm.rule", lang).format(
                            warn=_pct0(rules.warning_at),
                            limit=_pct0(rules.limit_at),
                            rearm=_pct0(rules.warning_at - rules.rearm_margin),
                        ),
                    ),
                    _panel(t("tour.panel.crossings", lang), ids.TOUR_CROSSINGS, "tour-crossings"),
                    _panel(
                        t("tour.panel.nearby", lang),
                        ids.TOUR_NEARBY,
                        "tour-nearby" + ("" if holiday else " is-hidden"),
                    ),
                ],
            ),
        ],
    )


def _panel(title: str, body_id: str, cls: str, note: str = "", tools: Any = None) -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3([title, html.Span(note, className="tour-note") if note else None, tools], className="panel-title"),
            html.Div(id=body_id, className="tour-body", children=html.Span("…", className="tour-wait")),
        ],
    )


def _forecast_panel(lang: str) -> html.Section:
    return html.Section(
        className="panel tour-forecast",
        children=[
            html.H3(
                [
                    t("tour.panel.forecast", lang),
                    dcc.Dropdown(
                        id=ids.TOUR_SPOT, options=[], clearable=False, searchable=False, className="tour-spot"
                    ),
                    html.Span(id=ids.TOUR_FORECAST_NOTE, className="tour-note"),
                ],
                className="panel-title",
            ),
            dcc.Graph(
                id=ids.TOUR_FORECAST,
                className="tour-chart",
                figure=forecast_figure(None, 1, lang, 0.8, 1.0),
                config=charts.CONFIG,
                responsive=True,
            ),
        ],
    )


# ---- what the callbacks fill ------------------------------------------------------------------------

#: (component id, property) of everything the scene callback returns, in order.
OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.TOUR_AREAS, "children"),
    (ids.TOUR_WARNINGS, "children"),
    (ids.TOUR_CROSSINGS, "children"),
    (ids.TOUR_NEARBY, "children"),
    (ids.TOUR_DAY, "children"),
    (ids.TOUR_SPOT, "options"),
)


def panel_outputs(view: TourismView, lang: str, scope: Scope, mode: str, rules: TourismSettings) -> tuple[Any, ...]:
    """Every panel body of the scene, in :data:`OUTPUTS` order."""
    a = view.areas
    holiday = mode == HOLIDAY
    return (
        _or_failing(a, lang, lambda v: area_table(v, lang, mode, rules, view.now, view.nearby if holiday else None)),
        _or_failing(a, lang, lambda v: warning_list(v, lang)),
        _or_failing(a, lang, lambda v: crossing_list(v, lang, view.now)),
        _or_failing(view.nearby, lang, lambda v: nearby_list(v, a, lang, rules)) if holiday else None,
        day_badge(view.day, lang),
        [] if isinstance(a, Failed) else [{"label": r.name, "value": r.spot_id} for r in a],
    )


def default_spot(areas: Sequence[AreaRow], chosen: str | None) -> AreaRow | None:
    """The area the chart shows: the one chosen, else the one with the highest load."""
    by_id = {r.spot_id: r for r in areas}
    if chosen in by_id:
        return by_id[chosen]  # type: ignore[index]
    return areas[0] if areas else None


def _or_failing(value: Any, lang: str, build: Callable[[Any], Any]) -> Any:
    if isinstance(value, Failed):
        return html.Div(t("health.failing", lang), className="tour-failing", title=value.error)
    return build(value)


def _none(text: str) -> html.Div:
    return html.Div(text, className="tour-none")


def _pct0(ratio: float) -> str:
    return f"{round(100 * ratio)}"


def _pct(ratio: float | None) -> str:
    return "—" if ratio is None else f"{100 * ratio:.0f}%"


def _hm(at: datetime | None) -> str:
    return local(at).strftime("%H:%M") if at else "—"


def _num(value: int | None, lang: str) -> str:
    return "—" if value is None else fmt_value(value, "int", lang)


def _band(row: AreaRow, lang: str) -> html.Span:
    text = row.band_en if lang == "en" else row.band
    return html.Span(text, className=f"crowd-badge crowd-lv{row.level if row.ratio is not None else 0}")


def _alarm(row: AreaRow, lang: str) -> html.Span:
    key = row.alarm or "none"
    return html.Span(t(f"tour.alarm.{key}", lang), className=f"tour-alarm alarm-{key}")


def _crossing(forecast: AreaForecast | None, lang: str, now: datetime) -> str:
    if forecast is None:
        return t("tour.crossing.unknown", lang)
    if forecast.crossing is None:
        return t("tour.crossing.never", lang)
    if forecast.crossing <= now:
        return t("tour.crossing.now", lang)
    return _hm(forecast.crossing)


def _source(row: AreaRow, lang: str) -> str:
    note = t(f"tour.source.{row.capacity_source}", lang)
    return f"{note} · {t('tour.assumed', lang)}" if row.capacity_assumed else note


def area_table(
    rows: Sequence[AreaRow],
    lang: str,
    mode: str,
    rules: TourismSettings,
    now: datetime,
    nearby: Mapping[str, tuple[Nearby, ...]] | Failed | None = None,
) -> Any:
    """One row per area: in park vs capacity, load band, today's arrivals vs daily capacity, alarm, expected
    warning time; the name links to the area (drill-down keeps the mode)."""
    if not rows:
        return _none(t("tour.none", lang))
    head = [
        t("tour.col.area", lang),
        t("tour.col.in_park", lang),
        t("tour.col.load", lang),
        t("tour.col.arrivals", lang),
        t("tour.col.alarm", lang),
        t("tour.col.crossing", lang).format(pct=_pct0(rules.warning_at)),
    ]
    if nearby is not None:
        head.append(t("tour.col.parking", lang))
    body = []
    for r in rows:
        cells = [
            html.Td(
                dcc.Link(
                    r.name, href=scene_href(Scope("asset", r.spot_id, "scenic_spots"), mode), className="tour-link"
                ),
                className="tour-name",
                title=f"{r.opening} · {_source(r, lang)}",
            ),
            html.Td(f"{_num(r.in_park, lang)}/{_num(r.capacity, lang)}", className="num"),
            html.Td([html.B(_pct(r.ratio), className="tour-ratio"), " ", _band(r, lang)]),
            html.Td(f"{_num(r.arrivals, lang)}/{_num(r.capacity_daily, lang)}", className="num"),
            html.Td(_alarm(r, lang)),
            html.Td(_crossing(r.forecast, lang, now), className="num tour-cross"),
        ]
        if nearby is not None:
            cells.append(html.Td(_parking_summary(nearby, r.spot_id), className="num"))
        body.append(html.Tr(cells, className=f"alarm-row-{r.alarm or 'none'}"))
    return html.Table(
        className="tour-table",
        children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
    )


def _parking_summary(nearby: Mapping[str, tuple[Nearby, ...]] | Failed, spot_id: str) -> str:
    if isinstance(nearby, Failed):
        return "—"
    lots = [n for n in nearby.get(spot_id, ()) if n.kind == "parking" and n.capacity]
    if not lots:
        return "—"
    used = sum(n.occupied or 0 for n in lots)
    total = sum(n.capacity or 0 for n in lots)
    return f"{used}/{total}"


def warning_list(rows: Sequence[AreaRow], lang: str) -> Any:
    """Areas on warning or limit now, each with its suggested diversions (nearest areas with room)."""
    on = [r for r in rows if r.alarm]
    resolved = sum(1 for r in rows for e in r.episodes if e.end is not None)
    if not on:
        children: list[Any] = [_none(t("tour.alarm.nothing", lang))]
        if resolved:
            children.append(html.Div(t("tour.alarm.today", lang).format(n=resolved), className="tour-dim"))
        return html.Div(children)
    items = []
    for r in on:
        current = [e for e in r.episodes if e.end is None and e.level == r.alarm]
        since = current[-1] if current else None
        items.append(
            html.Li(
                className=f"tour-warning alarm-{r.alarm}",
                children=[
                    html.Div(
                        className="tour-warning-head",
                        children=[
                            _alarm(r, lang),
                            html.B(r.name, className="tour-warning-name"),
                            html.Span(_pct(r.ratio), className="tour-ratio"),
                        ],
                    ),
                    html.Div(
                        t("tour.alarm.since", lang).format(at=_hm(since.start), peak=_pct(since.peak)),
                        className="tour-dim",
                    )
                    if since
                    else None,
                    _diversions(r, lang),
                ],
            )
        )
    return html.Ul(items, className="tour-warning-list")


def _diversions(row: AreaRow, lang: str) -> html.Div:
    if not row.diversions:
        return html.Div(t("tour.divert.none", lang), className="tour-divert none")
    return html.Div(
        className="tour-divert",
        children=[
            html.Span(t("tour.divert", lang), className="tour-divert-title"),
            html.Ul(
                [
                    html.Li(
                        [
                            html.B(d.name),
                            f" {d.distance_km:.1f} km · {_pct(d.ratio)} · ",
                            t("tour.divert.room", lang).format(room=d.room),
                        ],
                        className="tour-divert-item",
                    )
                    for d in row.diversions
                ]
            ),
        ],
    )


def crossing_list(rows: Sequence[AreaRow], lang: str, now: datetime) -> Any:
    """Every area's expected time to reach the warning level, soonest first."""
    if not rows:
        return _none(t("tour.none", lang))

    def key(r: AreaRow) -> tuple[int, str]:
        c = r.forecast.crossing if r.forecast else None
        return (0, c.isoformat()) if c else (1, r.spot_id)

    items = []
    for r in sorted(rows, key=key):
        when = _crossing(r.forecast, lang, now)
        soon = r.forecast is not None and r.forecast.crossing is not None
        items.append(
            html.Li(
                [html.Span(r.name, className="tour-cross-name"), html.B(when, className="tour-cross-time")],
                className="tour-cross-row" + (" soon" if soon else ""),
            )
        )
    return html.Ul(items, className="tour-cross-list")


def nearby_list(
    near: Mapping[str, tuple[Nearby, ...]], areas: Sequence[AreaRow] | Failed, lang: str, rules: TourismSettings
) -> Any:
    """Holiday mode: per area, its entrances and the parking lots near it with their occupancy."""
    names = {} if isinstance(areas, Failed) else {r.spot_id: r.name for r in areas}
    if not near:
        return _none(t("tour.none", lang))
    blocks = []
    for spot_id, found in near.items():
        entrances = [n for n in found if n.kind == "entrance"]
        lots = [n for n in found if n.kind == "parking"]
        blocks.append(
            html.Div(
                className="tour-near",
                children=[
                    html.B(names.get(spot_id, spot_id), className="tour-near-name"),
                    html.Div(
                        [t("tour.col.entrances", lang), ": ", "、".join(n.name for n in entrances) or "—"],
                        className="tour-dim",
                    ),
                    html.Ul(
                        [
                            html.Li(
                                [
                                    n.name,
                                    html.Span(
                                        f" {round(n.distance_m)} m · {_num(n.occupied, lang)}/{_num(n.capacity, lang)}",
                                        className="tour-dim",
                                    ),
                                ],
                                className="tour-lot",
                            )
                            for n in lots
                        ]
                    )
                    if lots
                    else html.Div(t("tour.nearby.none", lang).format(m=round(rules.near_m)), className="tour-dim"),
                ],
            )
        )
    return html.Div(blocks, className="tour-near-list")


def day_badge(day: DayKind, lang: str) -> list[Any]:
    """Today's kind of day (Golden Week, holiday, weekend, make-up workday, workday) by the holiday calendar."""
    label = t(f"tour.day.{day.kind}", lang)
    return [
        html.Span(t("tour.day.title", lang), className="tour-dim"),
        " ",
        html.Span(label, className=f"tour-day-kind day-{day.kind}", title=day.name),
    ]


# ---- the forecast chart -------------------------------------------------------------------------------


def _x(times: Sequence[datetime]) -> list[str]:
    """Local wall-clock times: plotly.js does not honour UTC offsets in date strings."""
    return [local(at).strftime("%Y-%m-%d %H:%M:%S") for at in times]


def forecast_figure(
    row: AreaRow | None, capacity: int, lang: str, warning_at: float, limit_at: float
) -> dict[str, Any]:
    """Today's curve, the forecast (dashed) with its back-tested band, and the warning and capacity lines."""
    layout = _layout()
    if row is None or row.forecast is None:
        return {"data": [], "layout": layout}
    f = row.forecast
    data: list[dict[str, Any]] = []
    if all(v is not None for v in f.low + f.high):
        data.append(
            {
                "type": "scatter",
                "x": _x([*f.times, *reversed(f.times)]),
                "y": [*f.high, *reversed(f.low)],
                "fill": "toself",
                "mode": "lines",
                "fillcolor": "rgba(245,176,65,0.18)",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": t("tour.forecast.band", lang),
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": _x(f.observed_times),
            "y": list(f.observed),
            "mode": "lines",
            "line": {"color": _LINE, "width": 2},
            "name": t("tour.forecast.observed", lang),
        }
    )
    start_x = [f.observed_times[-1]] if f.observed_times else []
    start_y = [f.observed[-1]] if f.observed else []
    data.append(
        {
            "type": "scatter",
            "x": _x(start_x + list(f.times)),
            "y": start_y + list(f.values),
            "mode": "lines+markers",
            "line": {"color": _FORECAST, "width": 2, "dash": "dash"},
            "marker": {"size": 5},
            "name": t("tour.forecast.predicted", lang),
        }
    )
    for ratio, colour, key in ((warning_at, _WARN, "warning"), (limit_at, _LIMIT, "limit")):
        data.append(
            {
                "type": "scatter",
                "x": _x([f.observed_times[0] if f.observed_times else f.times[0], f.times[-1]]),
                "y": [ratio * capacity] * 2,
                "mode": "lines",
                "line": {"color": colour, "width": 1, "dash": "dot"},
                "name": t(f"tour.forecast.{key}", lang),
                "hoverinfo": "name+y",
            }
        )
    return {"data": data, "layout": layout}


def forecast_note(row: AreaRow | None, lang: str) -> str:
    """The back-tested accuracy the chart is shown with (or why there is no band)."""
    if row is None or row.forecast is None:
        return t("tour.forecast.none", lang)
    b = row.forecast.backtest
    if b.mape is None:
        return t("tour.forecast.nobacktest", lang)
    return t("tour.forecast.mape", lang).format(
        mape=_pct1(b.mape), days=b.days, points=b.points, naive=_pct1(b.naive_mape)
    )


def _pct1(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _layout() -> dict[str, Any]:
    return charts.layout(
        x={"tickformat": "%H:%M"},
        y={"rangemode": "tozero"},
        margin={"l": 44, "r": 8, "t": 6, "b": 24},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.08, "font": {"size": 11}},
        hovermode="x",
    )
