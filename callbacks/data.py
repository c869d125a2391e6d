"""Data page wiring: the live feed table."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from dashboard.i18n import request_lang
from dashboard.services import Services
from layouts import ids
from layouts.health import feed_table


def register(app: Dash, services: Services) -> None:
    @app.callback(Output(ids.DATA_TABLE, "children"), Input(ids.REFRESH, "n_intervals"))
    def refresh_table(_n: int | None) -> Any:
        return feed_table(services.health(), request_lang(services.settings.language))
