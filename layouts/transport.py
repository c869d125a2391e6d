"""智慧交通: bus lines, vehicles and a vehicle's day on the left; KPI tiles, the map, the TPI curve and the worst
segments in the centre; arrival prediction, accidents and parking on the right.

:func:`transport` builds the frame (pure); the scene callbacks fill each panel's body with the builders below from
one :class:`~dashboard.transport_view.TransportView` (plus the accident, arrival and trip panels, which depend on a
choice on screen). A panel whose feed fails says 数据源异常 and nothing else; the rest of the scene keeps working.
Colours of congestion levels and accident severities are the standards' / the map's tables: data, hence inline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from dash import dcc, html, no_update

from dashboard.domain import bus
from dashboard.domain.traffic import LEVELS
from dashboard.i18n import t
from dashboard.kpis import CATALOGUE
from dashboard.live import Failed
from dashboard.scope import Scope, href
from dashboard.settings import TileLayerSettings
from dashboard.timeutil import local
from dashboard.transport_view import (
    PERIODS,
    AccidentPanel,
    ArrivalPanel,
    BusPanel,
    LineRow,
    ParkingPanel,
    SegmentRow,
    TpiPanel,
    TransportView,
    Trip,
)
from datasources.contracts import CONTRACTS
from layouts import charts, ids
from layouts.kpi import tile_frame
from layouts.map import choropleth_select, district_map, legend
from layouts.overview import breadcrumb, export_links, scope_error

if TYPE_CHECKING:
    from dashboard.services import Services

PATH = "/transport"
CHOROPLETH = "parking"
#: Overlays of this scene and those switched on at first.
TRN_LAYERS = frozenset({"towns", "segments", "buses", "bus_lines", "parking", "accidents", "accident_points"})
TRN_SHOWN = frozenset({"segments", "buses", "bus_lines", "parking", "accident_points"})
#: Layers whose URL carries the accident period: the scene sets them, not the shared refresh.
PERIOD_LAYERS: tuple[str, ...] = ("accidents", "accident_points")
DEFAULT_PERIOD = PERIODS[0]
SEVERITY_COLOURS: tuple[str, ...] = ("#f1c40f", "#e67e22", "#e74c3c", "#b03cff")


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
    congestion = [entry for entry in legend_entries(lang) if entry[0] == t("legend.congestion", lang)]
    return transport(
        lang,
        scope,
        layer_urls(scope, live, CHOROPLETH),
        bounds(scope, live),
        settings.tiles,
        crumbs(scope, live, lang, PATH),
        [*congestion, *legend_items(lang)],
        export_links(lang, scope, "transport", CHOROPLETH) if may("export:transport") else (),
    )


def legend_items(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Bus load and accident severity, beside the congestion levels."""
    load = [
        (t("trn.legend.load.low", lang), "#35c2ff"),
        (t("trn.legend.load.mid", lang), "#f5b041"),
        (t("trn.legend.load.high", lang), "#ff4d4f"),
    ]
    severity = [(t(f"trn.severity.{i}", lang), c) for i, c in enumerate(SEVERITY_COLOURS, start=1)]
    return [(t("trn.legend.load", lang), load), (t("trn.legend.severity", lang), severity)]


def transport(
    lang: str,
    scope: Scope,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    crumbs: Sequence[tuple[str, str]],
    legend_entries: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    exports: Sequence[Any] = (),
) -> html.Section:
    """The scene's frame: every panel with an empty body the scene callbacks fill; ``exports`` are the
    briefing export links (for those who may export)."""
    drilled = scope.level == "asset" and scope.feed == "bus_lines"
    return html.Section(
        className="trn",
        children=[
            html.Div(
                className="trn-side trn-left",
                children=[
                    _panel(t("trn.panel.lines", lang), ids.TRN_LINES, "trn-lines", t("trn.rule.bus", lang)),
                    _panel(
                        t("trn.panel.vehicles.line" if drilled else "trn.panel.vehicles", lang),
                        ids.TRN_VEHICLES,
                        "trn-vehicles",
                    ),
                    _panel(
                        t("trn.panel.trip", lang),
                        ids.TRN_TRIP_SUM,
                        "trn-trip",
                        extra=_graph(ids.TRN_TRIP),
                    ),
                ],
            ),
            html.Div(
                className="trn-centre",
                children=[
                    html.Div(className="ov-bar", children=[breadcrumb(crumbs), _choropleth(lang, exports)]),
                    html.Div(
                        className="tiles tiles-4 trn-tiles",
                        children=[tile_frame(s, lang, href(s.drill, scope)) for s in CATALOGUE.for_domain("transport")],
                    ),
                    html.Div(
                        className="map-wrap",
                        children=[
                            transport_map(lang, urls, bounds, tiles),
                            legend(legend_entries),
                            html.Div(t("map.approximate", lang), className="map-credit"),
                        ],
                    ),
                    html.Div(
                        className="trn-row",
                        children=[
                            _panel(
                                t("trn.panel.tpi", lang),
                                ids.TRN_TPI,
                                "trn-tpi",
                                t("trn.rule.tpi", lang),
                                extra=_graph(ids.TRN_TPI_CHART),
                            ),
                            _panel(t("trn.panel.worst", lang), ids.TRN_WORST, "trn-worst"),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="trn-side trn-right",
                children=[
                    _panel(
                        t("trn.panel.arrivals", lang),
                        ids.TRN_ARRIVALS,
                        "trn-arrivals",
                        tools=dcc.Dropdown(
                            id=ids.TRN_STOP,
                            options=[],
                            clearable=False,
                            placeholder=t("trn.stop.choose", lang),
                            className="trn-stop",
                        ),
                    ),
                    _panel(
                        t("trn.panel.accidents", lang),
                        ids.TRN_ACCIDENTS,
                        "trn-accidents",
                        tools=dcc.RadioItems(
                            id=ids.TRN_PERIOD,
                            options=[{"label": t(f"trn.period.{d}", lang), "value": d} for d in PERIODS],
                            value=DEFAULT_PERIOD,
                            inline=True,
                            className="trn-period",
                        ),
                        extra=_graph(ids.TRN_ACC_CHART),
                    ),
                    _panel(t("trn.panel.parking", lang), ids.TRN_PARKING, "trn-parking"),
                ],
            ),
            # not a dcc.Store: a store keeps its data across a new rendering of the page (its memory outlives the
            # component), and a page rendered anew must be filled whole
            html.Div(id=ids.TRN_SHOWN, hidden=True),
        ],
    )


def _panel(title: str, body_id: str, cls: str, note: str = "", tools: Any = None, extra: Any = None) -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3(
                [title, html.Span(note, className="trn-note") if note else None, tools],
                className="panel-title",
            ),
            html.Div(id=body_id, className="trn-body", children=html.Span("…", className="trn-wait")),
            extra,
        ],
    )


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, className="trn-chart", figure=_figure([]), config=charts.CONFIG, responsive=True)


def _choropleth(lang: str, exports: Sequence[Any] = ()) -> html.Div:
    """The town colouring, as on the overview; the traffic index here. Then the export links."""
    return html.Div(className="ov-tools", children=[*choropleth_select(lang, CHOROPLETH), *exports])


def transport_map(
    lang: str, urls: Mapping[str, str], bounds: list[list[float]], tiles: TileLayerSettings | None
) -> Any:
    """The district map with the transport overlays; the accident layers follow the period on screen."""
    return district_map(
        lang,
        {**urls, **{name: period_url(urls[name], DEFAULT_PERIOD) for name in PERIOD_LAYERS}},
        bounds,
        tiles,
        shown=TRN_SHOWN,
        layers=TRN_LAYERS,
        own_ids={name: ids.trn_layer(name) for name in PERIOD_LAYERS},
    )


def period_url(url: str, days: int) -> str:
    """A layer URL with the accident period added (no URL, a layer the user may not see, stays none)."""
    return f"{url}&{urlencode({'days': days})}" if url else url


# ---- what the callbacks fill ------------------------------------------------------------------------

#: (component id, property) of everything the scene callback returns, in order.
OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.TRN_LINES, "children"),
    (ids.TRN_VEHICLES, "children"),
    (ids.TRN_TPI, "children"),
    (ids.TRN_TPI_CHART, "figure"),
    (ids.TRN_WORST, "children"),
    (ids.TRN_PARKING, "children"),
)


def _panels(
    view: TransportView, lang: str, scope: Scope, vehicle: str | None
) -> tuple[tuple[object, Callable[[], Any]], ...]:
    """In :data:`OUTPUTS` order, each output's panel value and how its body is built from it."""
    return (
        (view.buses, lambda: _or_failing(view.buses, lang, lambda v: lines_table(v, lang, scope))),
        (view.buses, lambda: _or_failing(view.buses, lang, lambda v: vehicle_table(v, lang, scope, vehicle))),
        (view.tpi, lambda: _or_failing(view.tpi, lang, lambda v: tpi_summary(v, lang))),
        (view.tpi, lambda: tpi_figure(view.tpi, lang)),
        (view.worst, lambda: _or_failing(view.worst, lang, lambda v: worst_table(v, lang))),
        (view.parking, lambda: _or_failing(view.parking, lang, lambda v: parking_table(v, lang))),
    )


def panel_outputs(view: TransportView, lang: str, scope: Scope, vehicle: str | None) -> tuple[Any, ...]:
    """Every panel body of the scene, in :data:`OUTPUTS` order."""
    return tuple(build() for _, build in _panels(view, lang, scope, vehicle))


def panel_update(
    view: TransportView, lang: str, scope: Scope, vehicle: str | None, shown: object
) -> tuple[list[Any], Any]:
    """:func:`panel_outputs` for a page whose panels ``shown`` says were filled from what (the record this
    returned last time): an output whose panel, language, scope and vehicle are unchanged is ``no_update``.
    With the page's new record (``no_update`` when nothing changed).

    Most refreshes move one panel (new bus pings) or none; building and sending the others again cost more
    than the panels themselves. A page rendered anew has no record (nor one forged: anything but a string)
    and has every output filled.
    """
    parts = _panels(view, lang, scope, vehicle)
    keys = [
        hashlib.blake2b(repr((i, lang, scope.key, vehicle, panel)).encode(), digest_size=8).hexdigest()
        for i, (panel, _) in enumerate(parts)
    ]
    before = shown.split() if isinstance(shown, str) else []
    stale = [i >= len(before) or before[i] != key for i, key in enumerate(keys)]
    if not any(stale):
        return [no_update] * len(OUTPUTS), no_update
    return [build() if redo else no_update for redo, (_, build) in zip(stale, parts, strict=True)], " ".join(keys)


def stop_options(view: TransportView) -> list[dict[str, str]]:
    """The stop dropdown's options: the stops of the lines in scope."""
    return [] if isinstance(view.stops, Failed) else [{"label": s.label, "value": s.stop_id} for s in view.stops]


def chosen_stop(options: Sequence[Mapping[str, str]], value: str | None) -> str | None:
    """The stop on screen if it is still offered, else the first one offered (None without stops)."""
    values = [o["value"] for o in options]
    if value in values:
        return value
    return values[0] if values else None


def _or_failing(value: Any, lang: str, build: Callable[[Any], Any]) -> Any:
    if isinstance(value, Failed):
        return html.Div(t("health.failing", lang), className="trn-failing", title=value.error)
    return build(value)


def _none(text: str) -> html.Div:
    return html.Div(text, className="trn-none")


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _hm(at: datetime | None) -> str:
    return local(at).strftime("%H:%M") if at else "—"


def _minutes(seconds: float) -> str:
    sign = "+" if seconds > 0 else ("−" if seconds < 0 else "")
    return f"{sign}{abs(seconds) / 60:.1f}"


def _judge(rate: float | None, good: float, bad: float) -> str:
    if rate is None:
        return "none"
    return "ok" if rate >= good else ("bad" if rate < bad else "warn")


def _line_cells(r: LineRow) -> list[html.Td]:
    return [
        html.Td(f"{r.in_service}/{r.scheduled}", className="num"),
        html.Td(pct(r.on_time), className=f"num rate-{_judge(r.on_time, 0.9, 0.8)}"),
        html.Td(pct(r.regularity), className=f"num rate-{_judge(r.regularity, 0.7, 0.5)}"),
        html.Td(pct(r.load), className="num"),
        html.Td(str(r.crowded) if r.crowded else "", className="num trn-crowded"),
        html.Td(pct(r.coverage), className=f"num rate-{_judge(r.coverage, 0.9, 0.7)}"),
    ]


def lines_table(panel: BusPanel, lang: str, scope: Scope) -> Any:
    """Each line in scope with its KPIs, the scope's total first; names drill to the line."""
    head = ["", *(t(f"trn.col.{k}", lang) for k in ("service", "on_time", "regularity", "load", "crowded", "coverage"))]
    total = html.Tr(className="trn-total", children=[html.Td(t("trn.total", lang)), *_line_cells(panel.total)])
    rows = [
        html.Tr(
            className="current" if scope.level == "asset" and scope.code == r.line_id else None,
            children=[
                html.Td(
                    dcc.Link(r.name, href=href(PATH, Scope("asset", r.line_id, "bus_lines")), className="trn-link"),
                    className="trn-name",
                ),
                *_line_cells(r),
            ],
        )
        for r in panel.lines
    ]
    if not rows:
        return _none(t("trn.no_lines", lang))
    flagged = sum(n for _, n in panel.flagged)
    quality = (
        html.Div(
            t("trn.quality", lang).format(
                flagged=flagged,
                rejected=panel.rejected,
                reasons="、".join(f"{t(f'trn.reason.{k}', lang)} {n}" for k, n in panel.flagged) or "—",
            ),
            className="trn-quality" + (" warn" if flagged or panel.rejected else ""),
        )
        if flagged or panel.rejected
        else None
    )
    start, end = CONTRACTS["bus_positions"].active_hours or ("", "")
    idle = html.Div(t("trn.idle", lang).format(start=start, end=end), className="trn-idle") if panel.idle else None
    return html.Div(
        [
            idle,  # above the table: its lines scroll, and the note says why every line reads "—"
            html.Table(
                className="trn-table trn-line-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody([total, *rows])],
            ),
            quality,
        ]
    )


def vehicle_href(scope: Scope, vehicle_id: str) -> str:
    """The scene at ``scope`` with a vehicle's trip shown."""
    query = {"vehicle": vehicle_id} if scope.level == "district" else {"scope": scope.key, "vehicle": vehicle_id}
    return f"{PATH}?{urlencode(query)}"


def vehicle_table(panel: BusPanel, lang: str, scope: Scope, chosen: str | None) -> Any:
    """The drilled line's vehicles (or the fullest in scope): delay, load, crowding; ids open the day's trip."""
    if not panel.vehicles:
        return _none(t("trn.no_vehicles", lang))
    head = [t(f"trn.col.{k}", lang) for k in ("vehicle", "line", "delay", "load", "speed")]
    body = [
        html.Tr(
            className=" ".join(
                c for c in ("crowded" if v.crowded else "", "current" if v.vehicle_id == chosen else "") if c
            )
            or None,
            children=[
                html.Td(dcc.Link(v.vehicle_id, href=vehicle_href(scope, v.vehicle_id), className="trn-link trn-veh")),
                html.Td(v.line_id, className="trn-dim"),
                html.Td(_minutes(v.delay_s), className="num " + ("rate-ok" if v.on_time else "rate-bad")),
                html.Td(pct(v.load), className="num" + (" trn-crowded" if v.crowded else "")),
                html.Td(f"{v.speed_kmh:.0f}", className="num"),
            ],
        )
        for v in panel.vehicles
    ]
    return html.Table(
        className="trn-table trn-vehicle-table",
        children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
    )


def trip_summary(trip: Trip | Failed | None, lang: str, vehicle: str | None) -> Any:
    """The chosen vehicle's day: on-time share, mean delay, fullest load."""
    if vehicle is None:
        return _none(t("trn.trip.choose", lang))
    if isinstance(trip, Failed):
        return _or_failing(trip, lang, lambda v: v)
    if trip is None:
        return _none(t("trn.trip.none", lang).format(vehicle=vehicle))
    facts = [
        (t("trn.trip.vehicle", lang), f"{trip.vehicle_id} · {trip.line_id}"),
        (t("trn.col.on_time", lang), pct(trip.on_time)),
        (t("trn.trip.mean_delay", lang), f"{_minutes(trip.mean_delay_s or 0)} {t('trn.minutes', lang)}"),
        (t("trn.trip.max_load", lang), pct(trip.max_load)),
        (t("trn.trip.span", lang), f"{_hm(trip.points[0].at)}–{_hm(trip.points[-1].at)}"),
    ]
    return html.Div(
        className="trn-facts",
        children=[html.Span([html.Span(k, className="trn-dim"), html.B(v)], className="trn-fact") for k, v in facts],
    )


def trip_figure(trip: Trip | Failed | None, lang: str) -> dict[str, Any]:
    """Delay (minutes, + late) over the day, with the on-time band shaded."""
    if isinstance(trip, Failed):
        return _figure([], t("health.failing", lang))
    if trip is None:
        return _figure([])
    x = [local(p.at).strftime("%Y-%m-%d %H:%M:%S") for p in trip.points]
    y = [round(p.delay_s / 60, 2) for p in trip.points]
    band = {
        "type": "rect",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": bus.ON_TIME_EARLY_S / 60,
        "y1": bus.ON_TIME_LATE_S / 60,
        "fillcolor": "#2ecc71",
        "opacity": 0.1,
        "line": {"width": 0},
        "layer": "below",
    }
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": y,
            "name": t("trn.trip.delay", lang),
            "line": {"width": 2, "color": "#35c2ff"},
            "hovertemplate": f"%{{x|%H:%M}} {t('trn.trip.delay', lang)} %{{y}} {t('trn.minutes', lang)}<extra></extra>",
        }
    ]
    return _figure(data, shapes=[band], xaxis={**_layout()["xaxis"], "tickformat": "%H:%M"})


def tpi_summary(panel: TpiPanel, lang: str) -> Any:
    """The TPI now with its level, and the legend of the two curves."""
    if panel.value is None:
        return _none(t("trn.tpi.none", lang))
    level = LEVELS[panel.level or 1]
    return html.Div(
        className="trn-tpi-now",
        children=[
            html.Span(f"{panel.value:.1f}", className=f"trn-tpi-value lv{panel.level}"),
            html.Span(
                level.en if lang == "en" else level.zh,
                className="trn-tpi-level",
                style={"background": level.colour},
            ),
            html.Span(
                [
                    html.I(className="trn-key today"),
                    t("trn.tpi.today", lang),
                    html.I(className="trn-key week"),
                    t("trn.tpi.last_week", lang),
                ],
                className="trn-tpi-keys",
            ),
            html.Span(f"{t('trn.segments', lang)} {panel.segments} · {_hm(panel.data_time)}", className="trn-dim"),
        ],
    )


def tpi_figure(panel: TpiPanel | Failed, lang: str) -> dict[str, Any]:
    """24 h TPI (bold) against the same hours a week earlier (dashed), on the level bands."""
    if isinstance(panel, Failed):
        return _figure([], t("health.failing", lang))
    x = [local(h).strftime("%Y-%m-%d %H:%M") for h in panel.hours]
    bands = [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": lo,
            "y1": lo + 2,
            "fillcolor": LEVELS[i].colour,
            "opacity": 0.08,
            "line": {"width": 0},
            "layer": "below",
        }
        for i, lo in zip(LEVELS, (0, 2, 4, 6, 8), strict=True)
    ]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": list(panel.last_week),
            "name": t("trn.tpi.last_week", lang),
            "line": {"width": 1.5, "color": charts.MUTED, "dash": "dash"},
            "hovertemplate": f"{t('trn.tpi.last_week', lang)} %{{y}}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": list(panel.today),
            "name": t("trn.tpi.today", lang),
            "line": {"width": 3, "color": "#35c2ff"},
            "marker": {"size": 4},
            "hovertemplate": f"{t('trn.tpi.today', lang)} %{{y}}<extra></extra>",
        },
    ]
    values = [v for v in (*panel.today, *panel.last_week) if v is not None]
    top = min(10.0, max([4.0, *values]) + 1)
    return _figure(
        data,
        shapes=bands,
        yaxis={**_layout()["yaxis"], "range": [0, top]},
        xaxis={**_layout()["xaxis"], "tickformat": "%H:%M"},
    )


def worst_table(rows: Sequence[SegmentRow], lang: str) -> Any:
    """The most congested segments now, worst first; names drill to the segment."""
    if not rows:
        return _none(t("trn.no_segments", lang))
    head = [t(f"trn.col.{k}", lang) for k in ("segment", "class", "speed", "level")]
    body = [
        html.Tr(
            [
                html.Td(
                    dcc.Link(
                        r.name, href=href(PATH, Scope("asset", r.segment_id, "road_segments")), className="trn-link"
                    ),
                    className="trn-name",
                ),
                html.Td(t(f"trn.class.{r.road_class}", lang), className="trn-dim"),
                html.Td(f"{r.speed_kmh:.0f}", className="num"),
                html.Td(
                    LEVELS[r.level].en if lang == "en" else LEVELS[r.level].zh,
                    className="trn-level",
                    style={"color": LEVELS[r.level].colour},
                ),
            ]
        )
        for r in rows
    ]
    return html.Table(
        className="trn-table trn-worst-table",
        children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
    )


def arrivals_list(panel: ArrivalPanel | Failed | None, lang: str, stop: str | None) -> Any:
    """The next vehicles at the chosen stop, soonest first."""
    if stop is None:
        return _none(t("trn.stop.choose", lang))
    if isinstance(panel, Failed):
        return _or_failing(panel, lang, lambda v: v)
    if panel is None:
        return _none(t("trn.stop.unknown", lang))
    title = html.Div(f"{panel.line_name} · {panel.stop_name}", className="trn-stop-name")
    if not panel.arrivals:
        return html.Div([title, _none(t("trn.arrivals.none", lang))])
    body = [
        html.Tr(
            [
                html.Td(a.vehicle_id, className="trn-dim"),
                html.Td(
                    t("trn.arrivals.now", lang) if a.eta_s < 60 else f"{a.eta_s / 60:.0f} {t('trn.minutes', lang)}",
                    className="num trn-eta",
                ),
                html.Td(f"{a.distance_m / 1000:.1f} km", className="num"),
                html.Td(pct(a.load), className="num" + (" trn-crowded" if bus.is_crowded(a.load) else "")),
            ]
        )
        for a in panel.arrivals
    ]
    head = [t(f"trn.col.{k}", lang) for k in ("vehicle", "eta", "distance", "load")]
    return html.Div(
        [
            title,
            html.Table(
                className="trn-table trn-arrival-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
            ),
        ]
    )


def accident_summary(panel: AccidentPanel | Failed, lang: str) -> Any:
    """The period's accidents by severity, then the hotspots (clusters of repeated accidents)."""
    if isinstance(panel, Failed):
        return _or_failing(panel, lang, lambda v: v)
    counts = html.Div(
        className="trn-acc-counts",
        children=[
            html.Span([html.B(str(panel.total)), t("trn.acc.total", lang)], className="trn-acc-total"),
            html.Span(t(f"trn.period.{panel.days}", lang), className="trn-acc-period"),
            *(
                html.Span(
                    [
                        html.I(className="sw", style={"background": colour}),
                        t(f"trn.severity.{i}", lang),
                        html.B(str(n)),
                    ],
                    className="trn-acc-sev",
                )
                for i, (colour, n) in enumerate(zip(SEVERITY_COLOURS, panel.by_severity, strict=True), start=1)
            ),
        ],
    )
    if not panel.hotspots:
        spots: Any = _none(t("trn.hotspots.none", lang))
    else:
        spots = html.Table(
            className="trn-table trn-hotspot-table",
            children=[
                html.Thead(html.Tr([html.Th(t(f"trn.col.{k}", lang)) for k in ("hotspot", "count", "worst", "last")])),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(h.place or f"{h.lon:.4f}, {h.lat:.4f}", className="trn-name"),
                                html.Td(str(h.count), className="num"),
                                html.Td(t(f"trn.severity.{h.worst}", lang)),
                                html.Td(local(h.last).strftime("%m-%d"), className="num trn-dim"),
                            ]
                        )
                        for h in panel.hotspots
                    ]
                ),
            ],
        )
    return html.Div([counts, html.Div(t("trn.hotspots.rule", lang), className="trn-sub"), spots])


def weekly_figure(panel: AccidentPanel | Failed, lang: str) -> dict[str, Any]:
    """Accidents per week (12 weeks), stacked by severity."""
    if isinstance(panel, Failed):
        return _figure([], t("health.failing", lang))
    x = [local(w).strftime("%Y-%m-%d") for w in panel.weeks]
    data = [
        {
            "type": "bar",
            "x": x,
            "y": [week[i] for week in panel.weekly],
            "name": t(f"trn.severity.{i + 1}", lang),
            "marker": {"color": colour, "line": {"width": 0}},
            "hovertemplate": f"%{{x}} {t(f'trn.severity.{i + 1}', lang)} %{{y}}<extra></extra>",
        }
        for i, colour in enumerate(SEVERITY_COLOURS)
    ]
    most = max((sum(week) for week in panel.weekly), default=0)
    # counts: from zero, whole numbers while they are few (a scope without accidents is 0–1, not −1–1)
    y = {"range": [0, max(most, 1) * 1.05], "dtick": 1} if most <= 5 else {"rangemode": "tozero"}
    return _figure(data, barmode="stack", x={"tickformat": "%m-%d"}, y=y)


def parking_table(panel: ParkingPanel, lang: str) -> Any:
    """The scope's total, then each lot fullest first with free spaces."""
    total = panel.total
    summary = html.Div(
        className="trn-park-total",
        children=[
            html.Span([html.B(pct(total.rate)), t("trn.park.rate", lang)]),
            html.Span([html.B(f"{total.free:,}"), t("trn.park.free", lang)]),
            html.Span([html.B(f"{total.capacity:,}"), t("trn.park.capacity", lang)]),
            html.Span(t("trn.park.reporting", lang).format(n=total.reporting, lots=total.lots), className="trn-dim"),
        ],
    )
    if not panel.lots:
        return html.Div([summary, _none(t("trn.no_lots", lang))])
    head = [t(f"trn.col.{k}", lang) for k in ("lot", "free", "capacity", "rate")]
    body = [
        html.Tr(
            [
                html.Td(
                    dcc.Link(r.name, href=href(PATH, Scope("asset", r.lot_id, "parking_lots")), className="trn-link"),
                    className="trn-name",
                ),
                html.Td("—" if r.free is None else str(r.free), className="num"),
                html.Td(str(r.capacity), className="num trn-dim"),
                html.Td(pct(r.rate), className=f"num rate-{_judge(None if r.rate is None else 1 - r.rate, 0.3, 0.1)}"),
            ]
        )
        for r in panel.lots
    ]
    return html.Div(
        [
            summary,
            html.Table(
                className="trn-table trn-parking-table",
                children=[html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
            ),
        ]
    )


# ---- charts ------------------------------------------------------------------------------------------


def _layout(**extra: Any) -> dict[str, Any]:
    return charts.layout(**extra)


def _figure(data: list[dict[str, Any]], message: str = "", **extra: Any) -> dict[str, Any]:
    return charts.figure(data, _layout(**extra), message)
