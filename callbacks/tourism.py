"""Tourism scene wiring: one callback refreshes the panels from one view per scope and refresh; one draws the
forecast of the area chosen in the dropdown (default: the most loaded)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Dash, Input, Output, State

from callbacks.overview import scope_of
from dashboard.i18n import request_lang
from dashboard.live import Failed
from dashboard.scope import Scope
from dashboard.services import Services
from dashboard.tourism_view import TourismView, compute_view
from layouts import ids
from layouts import tourism as tour_layout


def view(services: Services, scope: Scope) -> TourismView:
    """The scene's view at ``scope``, computed at most once per refresh interval for all screens."""
    return services._memo(  # type: ignore[no-any-return]
        f"tour:{scope.key}", lambda: compute_view(services.live, services.settings, scope, services.now())
    )


def register(app: Dash, services: Services) -> None:
    rules = services.settings.tourism

    @app.callback(
        [Output(component, prop) for component, prop in tour_layout.OUTPUTS],
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_tourism(_n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * len(tour_layout.OUTPUTS)
        lang = request_lang(services.settings.language)
        mode = tour_layout.mode_of(search)
        return list(tour_layout.panel_outputs(view(services, scope), lang, scope, mode, rules))

    @app.callback(
        Output(ids.TOUR_FORECAST, "figure"),
        Output(ids.TOUR_FORECAST_NOTE, "children"),
        Output(ids.TOUR_SPOT, "value"),
        Input(ids.TOUR_SPOT, "value"),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.URL, "search"),
    )
    def fill_forecast(chosen: str | None, _n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return dash.no_update, dash.no_update, dash.no_update
        lang = request_lang(services.settings.language)
        areas = view(services, scope).areas
        row = None if isinstance(areas, Failed) else tour_layout.default_spot(areas, chosen)
        figure = tour_layout.forecast_figure(row, row.capacity if row else 1, lang, rules.warning_at, rules.limit_at)
        value = row.spot_id if row else None
        return figure, tour_layout.forecast_note(row, lang), value if value != chosen else dash.no_update
