"""Shell wiring: clock, navigation and push (client side), health strip (server)."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from dashboard.auth import principal
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

    # Push: once a second the page asks the server for the feeds' data version
    # (a few bytes, from the cache); when it moved, the page refreshes at once
    # instead of at its next periodic refresh.
    app.clientside_callback(
        ClientsideFunction("shanting", "pushVersion"),
        Output(ids.REFRESH, "n_intervals"),
        Input(ids.CLOCK_TICK, "n_intervals"),
        State(ids.REFRESH, "n_intervals"),
        prevent_initial_call=True,
    )

    @app.callback(Output(ids.HEALTH_STRIP, "children"), Input(ids.REFRESH, "n_intervals"))
    def refresh_health(_n: int | None) -> Any:
        who = principal()
        # A department head sees their domains' feeds and the base geography their maps draw, as in the navigation.
        domains = (*who.domains, "geo") if who is not None and who.role == "department" else None
        return strip(services.health(), request_lang(services.settings.language), domains)
