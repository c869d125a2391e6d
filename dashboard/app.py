"""The app factory: settings → sources → Dash pages → shell → callbacks.

``create_app`` only wires things; every call returns a fresh, independent app
(tests build one per test with their own settings).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import dash
from dash import Dash, html

from callbacks import data as data_callbacks
from callbacks import shell as shell_callbacks
from dashboard import routes
from dashboard.i18n import request_lang, t
from dashboard.scenes import SCENES, Scene
from dashboard.services import Services
from dashboard.settings import Settings, load_settings
from dashboard.sources import build_sources
from datasources import Sources
from layouts.data_page import data_page
from layouts.placeholder import not_found, under_construction
from layouts.shell import shell

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, *, sources: Sources | None = None) -> Dash:
    """A new Dash app serving the scenes from the configured sources."""
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
    )
    for scene in SCENES:
        _register_scene(scene, settings)
    dash.register_page("not_found_404", path="/404", layout=partial(_not_found, settings))
    refresh_ms = int(settings.refresh_s * 1000)
    app.layout = partial(_layout, settings, refresh_ms)
    validation = html.Div([shell(settings.language, SCENES, refresh_ms), data_page(settings.language)])
    app.validation_layout = validation  # type: ignore[assignment]
    services = Services.create(app.server, settings, sources)
    shell_callbacks.register(app, services)
    data_callbacks.register(app, services)
    routes.register(app.server, services)
    return app


def _register_scene(scene: Scene, settings: Settings) -> None:
    dash.register_page(
        f"scene_{scene.id}",
        path=scene.path,
        name=t(f"scene.{scene.id}", "zh-CN"),
        title=f"{t(f'scene.{scene.id}', 'zh-CN')} · {t('app.title', 'zh-CN')}",
        order=scene.order,
        layout=partial(_scene_layout, scene, settings),
    )


def _layout(settings: Settings, refresh_ms: int) -> html.Div:
    from flask import has_request_context, request

    path = request.path if has_request_context() else "/"
    return shell(request_lang(settings.language), SCENES, refresh_ms, path)


def _scene_layout(scene: Scene, settings: Settings, **_query: Any) -> html.Section:
    lang = request_lang(settings.language)
    if scene.id == "data":
        return data_page(lang)
    return under_construction(scene.id, lang)


def _not_found(settings: Settings, **_query: Any) -> html.Section:
    return not_found(request_lang(settings.language))
