"""The shell: header (name, clock, scene navigation, language), health strip, page."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import dash
from dash import dcc, html

from dashboard.i18n import t
from dashboard.scenes import Scene
from layouts import ids


def shell(
    lang: str,
    scenes: Sequence[Scene],
    refresh_ms: int,
    path: str = "/",
    ticker: bool = True,
    logout_token: str = "",
) -> html.Div:
    """The page frame every scene sits in: ``scenes`` are the ones the user may open, ``ticker`` whether they
    may see the events' ticker, ``logout_token`` the session's CSRF token when signing out is offered."""
    ticker_row = html.Div(
        className="ticker shell-ticker",
        children=[
            dcc.Link(t("ticker.title", lang), href="/events", className="ticker-title"),
            html.Div(id=ids.TICKER, className="ticker-items"),
        ],
    )
    return html.Div(
        className="shell",
        lang=lang,
        children=[
            # "callback-nav": a callback that sets the URL (a map click drilling
            # down) navigates like a link, so Dash Pages renders the new scope.
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Interval(id=ids.CLOCK_TICK, interval=1000),
            dcc.Interval(id=ids.REFRESH, interval=refresh_ms),
            header(lang, scenes, path, logout_token),
            html.Div(id=ids.HEALTH_STRIP, className="health-strip", role="status"),
            *([ticker_row] if ticker else []),
            html.Main(dash.page_container, className="scene"),
        ],
    )


def header(lang: str, scenes: Sequence[Scene], path: str, logout_token: str = "") -> html.Header:
    other = "en" if lang == "zh-CN" else "zh-CN"
    return html.Header(
        className="shell-header",
        children=[
            html.Div(
                className="brand",
                children=[
                    html.H1(t("app.title", lang), className="brand-name"),
                    html.Span(t("app.subtitle", lang), className="brand-sub"),
                ],
            ),
            html.Nav(
                className="scene-nav",
                children=[
                    dcc.Link(t(f"scene.{s.id}", lang), href=s.path, id=ids.nav(s.id), className="nav-link")
                    for s in scenes
                ],
            ),
            html.Div(
                className="header-right",
                children=[
                    html.Time(id=ids.CLOCK, className="clock", children="----"),
                    html.A(
                        t("lang.switch", lang),
                        id=ids.LANG_LINK,
                        className="lang-switch",
                        href=f"/lang/{other}?next={quote(path)}",
                    ),
                    *([logout(lang, logout_token)] if logout_token else []),
                ],
            ),
        ],
    )


def logout(lang: str, csrf_token: str) -> html.Form:
    """Signing out: a POST carrying the CSRF token, so no link or image on another site can sign anyone out.

    The token rides on the submit button (a form sends its submitter's name and value), as Dash has no plain
    hidden ``<input>``.
    """
    return html.Form(
        className="logout-form",
        method="post",
        action="/logout",
        children=html.Button(
            t("auth.logout", lang),
            id=ids.LOGOUT,
            className="logout-button",
            type="submit",
            name="csrf_token",
            value=csrf_token,
        ),
    )
