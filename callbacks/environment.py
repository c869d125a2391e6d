"""Environment scene wiring: one callback refreshes every panel from one view per scope and refresh."""

from __future__ import annotations

from typing import Any

import dash
from dash import Dash, Input, Output

from callbacks.overview import scope_of
from dashboard.environment import EnvironmentView, compute_view
from dashboard.i18n import request_lang
from dashboard.scope import Scope
from dashboard.services import Services
from layouts import environment as env_layout
from layouts import ids


def view(services: Services, scope: Scope) -> EnvironmentView:
    """The scene's view at ``scope``, computed at most once per refresh interval for all screens."""
    return services._memo(  # type: ignore[no-any-return]
        f"env:{scope.key}", lambda: compute_view(services.live, services.settings, scope, services.now())
    )


def register(app: Dash, services: Services) -> None:
    @app.callback(
        [Output(component, prop) for component, prop in env_layout.OUTPUTS],
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_environment(_n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * len(env_layout.OUTPUTS)
        lang = request_lang(services.settings.language)
        return list(env_layout.panel_outputs(view(services, scope), lang, scope))
