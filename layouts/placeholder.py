"""An honest placeholder for scenes a later issue fills: no figures, ever."""

from __future__ import annotations

from dash import html

from dashboard.i18n import t
from layouts import ids


def under_construction(scene: str, lang: str) -> html.Section:
    return html.Section(
        className="placeholder",
        **ids.data_attrs(scene=scene),
        children=[
            html.H2(t(f"scene.{scene}", lang), className="scene-title"),
            html.Div(t("building.title", lang), className="placeholder-badge"),
            html.P(t("building.body", lang), className="placeholder-body"),
        ],
    )


def not_found(lang: str) -> html.Section:
    return html.Section(className="placeholder", children=[html.H2(t("notfound.title", lang), className="scene-title")])
