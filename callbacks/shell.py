"""Shell wiring: clock and navigation (client side), health strip (server)."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from dashboard.i18n import request_lang
from dashboard.services import Services
from layouts import ids
from layouts.health import strip


def register(app: Dash, services: Services) -> None:
    app.clientside_callback(
        ClientsideFunction("shanting", "clock"),
        Output(ids.CLOCK, "children"),
        Input(ids.CLOCK_TICK, "n_intervals"),
    )
    app.clientside_callback(
        ClientsideFunction("shanting", "activeNav"),
        Output(ids.nav(ALL), "className"),
        Input(ids.URL, "pathname"),
        State(ids.nav(ALL), "href"),
    )
    app.clientside_callback(
        ClientsideFunction("shanting", "langHref"),
        Output(ids.LANG_LINK, "href"),
        Input(ids.URL, "pathname"),
        State(ids.LANG_LINK, "href"),
    )

    @app.callback(Output(ids.HEALTH_STRIP, "children"), Input(ids.REFRESH, "n_intervals"))
    def refresh_health(_n: int | None) -> Any:
        return strip(services.health(), request_lang(services.settings.language))
