"""Shell wiring: clock, navigation and push (client side), health strip (server)."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from dashboard.i18n import request_lang
from dashboard.services import Services
from dashboard.views import may
from layouts import ids
from layouts.health import DOMAINS as HEALTH_DOMAINS
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
        # The domains whose scenes the user may open, as the navigation lists them (the geography is everyone's).
        shown = [d for d in HEALTH_DOMAINS if d == "geo" or may(f"scene:{d}")]
        return strip(services.health(), request_lang(services.settings.language), shown)
