"""The data page: the feed contracts' live status, for operators and departments."""

from __future__ import annotations

from dash import html

from dashboard.i18n import t
from layouts import ids


def data_page(lang: str) -> html.Section:
    return html.Section(
        className="data-page",
        children=[
            html.H2(t("data.title", lang), className="scene-title"),
            html.P(t("data.note", lang), className="data-note"),
            html.Div(id=ids.DATA_TABLE, className="table-wrap"),
        ],
    )
