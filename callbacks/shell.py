"""Shell wiring: clock (client side), active navigation, health strip."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from datasources import Sources
from dashboard import health
from dashboard.i18n import request_lang
from dashboard.settings import Settings
from layouts import ids
from layouts.health import strip


def register(app: Dash, sources: Sources, settings: Settings) -> None:
    app.clientside_callback(
        ClientsideFunction("shanting", "clock"),
        Output(ids.CLOCK, "children"),
        Input(ids.CLOCK_TICK, "n_intervals"),
    )
    app.clientside_callback(
        ClientsideFunction("shanting", "activeNav"),
        Output(ids.nav(ALL), "className"),  # type: ignore[arg-type]
        Input(ids.URL, "pathname"),
        State(ids.nav(ALL), "href"),  # type: ignore[arg-type]
    )

    app.clientside_callback(
        ClientsideFunction("shanting", "langHref"),
        Output(ids.LANG_LINK, "href"),
        Input(ids.URL, "pathname"),
        State(ids.LANG_LINK, "href"),
    )

    @app.callback(Output(ids.HEALTH_STRIP, "children"), Input(ids.REFRESH, "n_intervals"))
    def refresh_health(_n: int | None) -> Any:
        return strip(health.collect(sources, settings), request_lang(settings.language))
