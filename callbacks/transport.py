"""Transport scene wiring: one callback refreshes the panels from one view per scope and refresh; the others
follow a choice on screen (the stop, the accident period, the vehicle in the URL)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Dash, Input, Output, State, ctx

from callbacks.overview import scope_of
from dashboard.i18n import request_lang
from dashboard.live import Failed
from dashboard.scope import Scope
from dashboard.services import Services
from dashboard.transport_view import (
    PERIODS,
    AccidentPanel,
    ArrivalPanel,
    TransportView,
    Trip,
    accidents_view,
    arrivals_view,
    compute_view,
    trip_view,
)
from dashboard.views import layer_url
from layouts import ids
from layouts import transport as trn_layout


def view(services: Services, scope: Scope) -> TransportView:
    """The scene's view at ``scope``, computed at most once per refresh interval for all screens."""
    return services._memo(  # type: ignore[no-any-return]
        f"trn:{scope.key}", lambda: compute_view(services.live, scope, services.now())
    )


def accidents(services: Services, scope: Scope, days: int) -> AccidentPanel | Failed:
    return services._memo(  # type: ignore[no-any-return]
        f"trn:acc:{scope.key}:{days}", lambda: accidents_view(services.live, scope, services.now(), days)
    )


def arrivals(services: Services, stop_id: str) -> ArrivalPanel | Failed | None:
    return services._memo(  # type: ignore[no-any-return]
        f"trn:arr:{stop_id}", lambda: arrivals_view(services.live, stop_id, services.now())
    )


def trip(services: Services, vehicle_id: str) -> Trip | Failed | None:
    return services._memo(  # type: ignore[no-any-return]
        f"trn:trip:{vehicle_id}", lambda: trip_view(services.live, vehicle_id, services.now())
    )


def vehicle_of(search: str | None) -> str | None:
    """The vehicle named in the URL (``?vehicle=…``), if any."""
    values = parse_qs((search or "").lstrip("?")).get("vehicle")
    return values[0][:64] if values and values[0] else None


def period_of(value: Any) -> int:
    """The accident period on screen, or the default when it is not one offered."""
    return value if value in PERIODS else trn_layout.DEFAULT_PERIOD


def register(app: Dash, services: Services) -> None:
    @app.callback(
        [Output(component, prop) for component, prop in trn_layout.OUTPUTS],
        Output(ids.TRN_SHOWN, "children"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
        State(ids.TRN_SHOWN, "children"),
    )
    def fill_transport(_n: int | None, search: str | None, shown: Any) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * (len(trn_layout.OUTPUTS) + 1)
        lang = request_lang(services.settings.language)
        outputs, now_shown = trn_layout.panel_update(view(services, scope), lang, scope, vehicle_of(search), shown)
        return [*outputs, now_shown]

    @app.callback(
        Output(ids.TRN_STOP, "options"),
        Output(ids.TRN_STOP, "value"),
        Output(ids.TRN_ARRIVALS, "children"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
        Input(ids.TRN_STOP, "value"),
    )
    def fill_arrivals(_n: int | None, search: str | None, value: str | None) -> Any:
        # One callback owns the stop: a separate "keep the choice valid" callback chained before this one
        # left it waiting behind every refresh, and it never ran.
        scope = scope_of(search, services)
        if scope is None:
            return dash.no_update, dash.no_update, dash.no_update
        lang = request_lang(services.settings.language)
        options = trn_layout.stop_options(view(services, scope))
        stop = trn_layout.chosen_stop(options, value)
        return (
            options if ctx.triggered_id in (None, ids.URL) else dash.no_update,
            stop if stop != value else dash.no_update,
            trn_layout.arrivals_list(arrivals(services, stop) if stop else None, lang, stop),
        )

    @app.callback(
        Output(ids.TRN_ACCIDENTS, "children"),
        Output(ids.TRN_ACC_CHART, "figure"),
        [Output(ids.trn_layer(name), "url") for name in trn_layout.PERIOD_LAYERS],
        Input(ids.TRN_PERIOD, "value"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_accidents(value: Any, _n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * (2 + len(trn_layout.PERIOD_LAYERS))
        lang = request_lang(services.settings.language)
        days = period_of(value)
        panel = accidents(services, scope, days)
        return [
            trn_layout.accident_summary(panel, lang),
            trn_layout.weekly_figure(panel, lang),
            *(trn_layout.period_url(layer_url(name, scope, services.live), days) for name in trn_layout.PERIOD_LAYERS),
        ]

    @app.callback(
        Output(ids.TRN_TRIP_SUM, "children"),
        Output(ids.TRN_TRIP, "figure"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_trip(_n: int | None, search: str | None) -> Any:
        lang = request_lang(services.settings.language)
        vehicle = vehicle_of(search)
        got = trip(services, vehicle) if vehicle else None
        return trn_layout.trip_summary(got, lang, vehicle), trn_layout.trip_figure(got, lang)
