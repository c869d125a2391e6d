"""The big-screen frame (``/screen/<id>``) and its stage: no navigation, no mouse, the whole viewport.

The frame holds what stays while the screen rotates (clock, mode, link state, health strip, ticker); the stage is
the page Dash Pages renders for the URL's ``scene``/``scope``/``alarm``, so what a screen shows is always its URL.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard.i18n import t
from dashboard.timeutil import fmt
from layouts import ids


def frame(lang: str, screen_name: str, refresh_ms: int) -> html.Div:
    """The screen's chrome around the stage; ``shell`` keeps the scenes' own full-viewport rules applying."""
    return html.Div(
        id=ids.screen_part("root"),
        className="shell screen connecting",
        lang=lang,
        children=[
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Interval(id=ids.CLOCK_TICK, interval=1000),
            dcc.Interval(id=ids.screen_part("tick"), interval=1000),
            dcc.Interval(id=ids.REFRESH, interval=refresh_ms),
            html.Header(
                className="screen-header",
                children=[
                    html.Div(
                        className="brand",
                        children=[
                            html.H1(t("app.title", lang), className="brand-name"),
                            html.Span(screen_name, className="screen-name"),
                        ],
                    ),
                    html.Div(id=ids.screen_part("now"), className="screen-now"),
                    html.Div(
                        className="header-right",
                        children=[
                            html.Span(
                                id=ids.screen_part("mode"),
                                className="screen-mode",
                                children=t("screen.connecting", lang),
                            ),
                            html.Time(id=ids.CLOCK, className="clock", children="----"),
                            # The language a screen shows is its browser's cookie; the shell's language
                            # callback keeps this link's return path, as on every page.
                            html.A(
                                t("lang.switch", lang),
                                id=ids.LANG_LINK,
                                className="lang-switch screen-lang",
                                href=f"/lang/{'en' if lang == 'zh-CN' else 'zh-CN'}",
                            ),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="screen-link",
                role="alert",
                children=[
                    html.Span(t("screen.offline", lang), className="screen-link-text"),
                    html.Span(t("screen.since", lang), className="screen-link-since"),
                    html.Span(id=ids.screen_part("since"), className="screen-link-time"),
                ],
            ),
            html.Div(id=ids.HEALTH_STRIP, className="health-strip", role="status"),
            html.Main(dash.page_container, className="scene"),
            html.Div(
                className="ticker shell-ticker",
                children=[
                    html.Span(t("ticker.title", lang), className="ticker-title"),
                    html.Div(id=ids.TICKER, className="ticker-items"),
                ],
            ),
        ],
    )


def stage(body: Any, scene: str, scope: str, banner: Any = None) -> html.Div:
    """What the screen shows now: an alarm banner (while an event holds it) over the scene."""
    return html.Div(
        className="screen-stage" + (" alarmed" if banner is not None else ""),
        **ids.data_attrs(scene=scene, scope=scope),
        children=[banner, body] if banner is not None else [body],
    )


def alarm_banner(lang: str, severity: int, title: str, ts: Any, event_id: str) -> html.Div:
    """The takeover banner: what, how severe, since when, and that it waits for an operator.

    The title is shown as text (it can come from a rule or an operator), never as markup.
    """
    return html.Div(
        className=f"alarm-banner sev-{severity}",
        role="alert",
        **ids.data_attrs(event=event_id),
        children=[
            html.B(t("screen.alarm", lang), className="alarm-tag"),
            html.Span(t("screen.severity", lang).format(n=severity), className="alarm-sev"),
            html.Span(title, className="alarm-title"),
            html.Span(fmt(ts), className="alarm-time"),
            html.Span(t("screen.alarm.wait", lang), className="alarm-wait"),
        ],
    )


def problem(lang: str, title_key: str, message: str) -> html.Section:
    """A screen that cannot show what was asked, saying why (unknown screen or scene)."""
    return html.Section(
        className="placeholder screen-problem",
        children=[
            html.H2(t(title_key, lang), className="placeholder-badge"),
            html.P(message, className="placeholder-body"),
        ],
    )
