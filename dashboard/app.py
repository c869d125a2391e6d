"""The app factory: settings → sources → services → pages → shell → callbacks.

``create_app`` only wires things; every call returns a fresh, independent app
(tests build one per test with their own settings).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dash
from dash import Dash, dcc, html
from flask_wtf.csrf import generate_csrf

from callbacks import data as data_callbacks
from callbacks import environment as environment_callbacks
from callbacks import events as events_callbacks
from callbacks import overview as overview_callbacks
from callbacks import rating as rating_callbacks
from callbacks import screens as screen_callbacks
from callbacks import shell as shell_callbacks
from callbacks import tourism as tourism_callbacks
from callbacks import transport as transport_callbacks
from callbacks import video as video_callbacks
from dashboard import auth, callback_cache, routes, screen_routes
from dashboard.i18n import request_lang, t
from dashboard.layers import LAYER_NAMES, bounds
from dashboard.scenes import SCENES, Scene
from dashboard.scope import DISTRICT, ScopeError, ScopeNotFound
from dashboard.services import Services
from dashboard.settings import Settings, load_settings
from dashboard.sources import build_sources
from dashboard.timeutil import now_utc
from dashboard.views import crumbs, layer_urls, legend_entries, may, resolve
from datasources import Sources
from layouts import console as console_layout
from layouts import ids
from layouts import screen as screen_layout
from layouts.data_page import data_page
from layouts.environment import page as environment_page
from layouts.overview import overview, scope_error
from layouts.placeholder import not_found, under_construction
from layouts.rating import rating as rating_page
from layouts.shell import shell
from layouts.tourism import page as tourism_page
from layouts.transport import page as transport_page
from layouts.video import page as video_page

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    settings: Settings | None = None, *, sources: Sources | None = None, clock: Callable[[], datetime] = now_utc
) -> Dash:
    """A new Dash app serving the scenes from the configured sources.

    ``clock`` is "now" for every computation (tests pin it to their data).
    """
    settings = settings or load_settings()
    sources = sources or build_sources(settings)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title=t("app.title", settings.language),
        update_title="",
        serve_locally=True,
        compress=True,
    )
    services = Services.create(app.server, settings, sources, clock)
    app.server.extensions["shanting.services"] = services  # for tools that hold only the app (benchmarks)
    auth.register(app, services)  # first: its guard runs before every other request hook
    for scene in SCENES:
        _register_scene(scene, services)
    _register_screens(services)
    dash.register_page("not_found_404", path="/404", layout=partial(_not_found, settings))
    refresh_ms = int(settings.refresh_s * 1000)
    app.layout = partial(_layout, settings, refresh_ms)
    app.validation_layout = _validation_layout(settings, refresh_ms)  # type: ignore[assignment]
    shell_callbacks.register(app, services)
    data_callbacks.register(app, services)
    overview_callbacks.register(app, services)
    environment_callbacks.register(app, services)
    video_callbacks.register(app, services)
    tourism_callbacks.register(app, services)
    transport_callbacks.register(app, services)
    rating_callbacks.register(app, services)
    events_callbacks.register(app, services)
    screen_callbacks.register(app, services)
    routes.register(app.server, services)
    screen_routes.register(app.server, services)
    # Last: it answers repeated refreshes before Dash, so every other hook must have seen the request.
    ttl_s = max(1, math.floor(settings.refresh_s))
    callback_cache.register(
        app.server, services.cache, services.live.version_token, ttl_s, settings.language, principal=auth.view_key
    )
    return app


def _register_scene(scene: Scene, services: Services) -> None:
    title = t(f"scene.{scene.id}", "zh-CN")
    dash.register_page(
        f"scene_{scene.id}",
        path=scene.path,
        name=title,
        title=f"{title} · {t('app.title', 'zh-CN')}",
        order=scene.order,
        layout=partial(_scene_layout, scene, services),
    )


def _register_screens(services: Services) -> None:
    """``/screen/<id>`` (a big screen: its frame, the scene its URL names) and ``/console`` (the operators')."""

    def render(scene: Scene, scope: str | None, query: dict[str, Any]) -> Any:
        return _scene_layout(scene, services, scope, **query)

    dash.register_page(
        "screen",
        path_template="/screen/<screen_id>",
        title=t("app.title", "zh-CN"),
        layout=partial(screen_callbacks.screen_page, services, render),
    )
    dash.register_page(
        "console",
        path="/console",
        title=f"{t('console.title', 'zh-CN')} · {t('app.title', 'zh-CN')}",
        layout=partial(screen_callbacks.console_page, services),
    )


def _layout(settings: Settings, refresh_ms: int) -> html.Div:
    from flask import has_request_context, request

    path = request.path if has_request_context() else "/"
    if path.endswith("/_dash-layout") and request.referrer:
        # The layout is fetched by the page at its own URL: that page is the one being framed.
        path = urlparse(request.referrer).path
    lang = request_lang(settings.language)
    if path.startswith("/screen/"):
        screen_id = path.split("/")[2]
        found = settings.screens.get(screen_id)
        return screen_layout.frame(lang, found.name if found else screen_id, refresh_ms)
    who = auth.principal()
    if who is None:  # no request (the validation layout's build)
        return shell(lang, SCENES, refresh_ms, path)
    scenes = [s for s in SCENES if who.may(f"page:{s.id}")]
    # The development shortcut's developer has no session to end; everyone else gets the sign-out button.
    token = "" if who is auth.LOCAL_DEVELOPER else generate_csrf()
    return shell(lang, scenes, refresh_ms, path, ticker=who.may("scene:events"), logout_token=token)


def _scene_layout(scene: Scene, services: Services, scope: str | None = None, **_query: Any) -> html.Section:
    lang = request_lang(services.settings.language)
    if scene.id == "data":
        return data_page(lang)
    if scene.id == "overview":
        return _overview(services, lang, scope)
    if scene.id == "environment":
        return environment_page(services, lang, scope)
    if scene.id == "video":
        return video_page(services, lang, scope)
    if scene.id == "tourism":
        return tourism_page(services, lang, scope, _query.get("mode"))
    if scene.id == "transport":
        return transport_page(services, lang, scope)
    if scene.id == "rating":
        return rating_page(lang, services.settings.rating.target_star, exports=may("export:rating"))
    if scene.id == "events":
        return events_callbacks.page(services, lang, _query.get("event"))
    return under_construction(scene.id, lang)


def _overview(services: Services, lang: str, text: str | None) -> html.Section:
    live, settings = services.live, services.settings
    try:
        scope = resolve(text, live)
    except ScopeError as exc:
        return scope_error(lang, str(exc), not_found=False)
    except ScopeNotFound as exc:
        return scope_error(lang, str(exc), not_found=True)
    return overview(
        lang,
        legend_entries(lang),
        scope,
        layer_urls(scope, live, settings.choropleth_kpi),
        bounds(scope, live),
        settings.tiles,
        settings.choropleth_kpi,
        crumbs(scope, live, lang),
        exports=may("export:overview"),
    )


def _validation_layout(settings: Settings, refresh_ms: int) -> html.Div:
    """Every component any page can hold, so callbacks validate at start-up."""
    lang = settings.language
    urls = {name: f"/geo/{name}" for name in LAYER_NAMES}  # every layer, so every layer's component is known
    page = overview(
        lang, [], DISTRICT, urls, [[34.9, 117.2], [35.3, 117.7]], settings.tiles, settings.choropleth_kpi, []
    )
    # The screen frame repeats the shell's ids (clock, refresh, URL): only its own parts are added here.
    screen_parts: list[Any] = [html.Div(id=ids.screen_part(name)) for name in ids.SCREEN_PARTS if name != "tick"]
    screen_parts.append(dcc.Interval(id=ids.screen_part("tick")))
    console = console_layout.page(lang, [(sid, s.name) for sid, s in settings.screens.items()], [])
    return html.Div([shell(lang, SCENES, refresh_ms), data_page(lang), page, *screen_parts, console])


def _not_found(settings: Settings, **_query: Any) -> html.Section:
    return not_found(request_lang(settings.language))
