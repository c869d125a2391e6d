"""Video scene wiring: one callback refreshes the panels (and the daily trend) from one view per scope and refresh;
one runs the placement advisor for the N on screen and draws its sites on the map."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Dash, Input, Output

from callbacks.overview import scope_of
from dashboard.i18n import request_lang
from dashboard.live import Failed
from dashboard.scope import Scope
from dashboard.services import Services
from dashboard.video_view import VideoView, advice, clamp_sites, compute_view
from layouts import ids
from layouts import video as vid_layout


def view(services: Services, scope: Scope) -> VideoView:
    """The scene's view at ``scope``, computed at most once per refresh interval for all screens."""
    return services._memo(  # type: ignore[no-any-return]
        f"vid:{scope.key}", lambda: compute_view(services.live, scope, services.now())
    )


def sites(services: Services, scope: Scope, n: int) -> pd.DataFrame | Failed:
    """The advisor's ``n`` sites at ``scope``, computed at most once per refresh interval."""
    return services._memo(  # type: ignore[no-any-return]
        f"vid:sites:{scope.key}:{n}", lambda: advice(services.live, scope, n)
    )


def register(app: Dash, services: Services) -> None:
    @app.callback(
        [Output(component, prop) for component, prop in vid_layout.OUTPUTS],
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_video(_n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * len(vid_layout.OUTPUTS)
        lang = request_lang(services.settings.language)
        return list(vid_layout.panel_outputs(view(services, scope), lang, scope))

    @app.callback(
        Output(ids.VID_ADVISOR, "children"),
        Output(ids.VID_EXPORT, "href"),
        Output(ids.VID_SITES, "data"),
        Input(ids.VID_N, "value"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
    )
    def fill_advisor(value: Any, _n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services)
        if scope is None:
            return dash.no_update, dash.no_update, dash.no_update
        lang = request_lang(services.settings.language)
        n = clamp_sites(value)
        if n is None:
            return vid_layout.advisor_table(None, lang, None), dash.no_update, vid_layout.EMPTY_FC
        coverage = view(services, scope).coverage
        before = None if isinstance(coverage, Failed) else coverage.rate
        chosen = sites(services, scope, n)
        places = services.live.rows("key_places")
        return (
            vid_layout.advisor_table(chosen, lang, before),
            vid_layout.export_href(scope, n),
            vid_layout.sites_geojson(chosen, None if isinstance(places, Failed) else places.frame),
        )
