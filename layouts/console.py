"""The operator console (``/console``): every screen with what it shows, and the commands that steer it.

The controls are rendered once (a refresh must not reset a chooser the operator is using); only the status cells
and the alarm list are refreshed, by the console's own one-second interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard.i18n import t
from dashboard.scenes import SCENES
from dashboard.timeutil import fmt
from layouts import ids


@dataclass(frozen=True)
class Status:
    """A screen as the console shows it: online or not, when last seen, what it shows and why."""

    online: bool
    seen_at: datetime | None
    showing: str
    mode: str


def page(lang: str, screens: Sequence[tuple[str, str]], towns: Sequence[tuple[str, str]]) -> html.Section:
    """The console: one card per configured screen (id, name), the alarms holding screens, a message line."""
    scopes = [{"label": t("console.district", lang), "value": "district"}] + [
        {"label": name, "value": f"town:{code}"} for code, name in towns
    ]
    scenes = [{"label": t(f"scene.{s.id}", lang), "value": s.id} for s in SCENES]
    return html.Section(
        className="console",
        children=[
            dcc.Interval(id=ids.CONSOLE_TICK, interval=1000),
            # what the alarm list was filled from; not a dcc.Store, whose memory outlives a new rendering of the
            # page (the console shown again kept the old record, and its alarm list stayed empty)
            html.Div(id=ids.CONSOLE_HELD, hidden=True),
            html.H2(t("console.title", lang), className="scene-title"),
            html.P(t("console.note", lang), className="data-note"),
            html.Div(id=ids.console_part("message"), className="console-msg", role="status"),
            html.Div([card(lang, sid, name, scenes, scopes) for sid, name in screens], className="console-screens"),
            html.H3(t("console.alarms", lang), className="console-subtitle"),
            html.Div(id=ids.CONSOLE_ALARMS, className="console-alarms"),
        ],
    )


def card(lang: str, screen_id: str, name: str, scenes: list[dict], scopes: list[dict]) -> html.Div:
    return html.Div(
        className="console-card",
        **ids.data_attrs(screen=screen_id),
        children=[
            html.Div(
                [html.B(name, className="console-name"), html.Code(screen_id, className="console-id")],
                className="console-head",
            ),
            html.Div(id=ids.scr_status(screen_id), className="console-status"),
            html.Div(
                className="console-controls",
                children=[
                    *_select(screen_id, "scene", scenes, "overview", lang),
                    *_select(screen_id, "scope", scopes, "district", lang),
                ],
            ),
            html.Div(
                [
                    html.Button(
                        t(f"console.cmd.{c}", lang),
                        id=ids.scr_cmd(screen_id, c),
                        className=f"evt-button cmd-{c}",
                        n_clicks=0,
                    )
                    for c in ids.SCREEN_COMMANDS
                ],
                className="evt-buttons",
            ),
        ],
    )


def status(lang: str, state: Status, now: datetime) -> list[Any]:
    """A screen's status cell: online dot, last seen, what it shows now and in which mode."""
    if state.seen_at is None:
        seen = t("console.never", lang)
    else:
        seen = f"{t('console.seen', lang)} {fmt(state.seen_at, seconds=True)}"
    word = t("console.online" if state.online else "console.offline", lang)
    return [
        html.Span(
            [html.Span(className="dot"), word],
            className=f"chip state-{'fresh' if state.online else 'failing'} console-online",
            **ids.data_attrs(online="yes" if state.online else "no"),
        ),
        html.Span(seen, className="console-seen"),
        html.Div(
            [html.Span(t("console.showing", lang), className="console-label"), html.B(state.showing)],
            className="console-showing",
        ),
        html.Span(state.mode, className="console-mode"),
    ]


def alarm_rows(lang: str, held: Sequence[tuple[str, int, str, list[str]]]) -> list[Any]:
    """Events holding screens (id, severity, title, screen names), each with its acknowledge button."""
    if not held:
        return [html.P(t("console.alarms.none", lang), className="env-none")]
    return [
        html.Div(
            className=f"console-alarm sev-{severity}",
            **ids.data_attrs(event=event_id),
            children=[
                html.Span(t("screen.severity", lang).format(n=severity), className="alarm-sev"),
                html.Span(title, className="alarm-title"),
                html.Span(f"{t('console.screens', lang)}: {', '.join(names)}", className="console-held"),
                html.Button(t("console.ack", lang), id=ids.scr_ack(event_id), className="evt-button", n_clicks=0),
            ],
        )
        for event_id, severity, title, names in held
    ]


def _select(screen_id: str, field: str, options: Any, value: str, lang: str) -> tuple[html.Label, dcc.Dropdown]:
    """A labelled choice of the screen's ``field`` (scene or scope) for the switch command."""
    dropdown = dcc.Dropdown(
        id=ids.scr_field(screen_id, field), options=options, value=value, clearable=False, className="console-select"
    )
    return html.Label(t(f"console.{field}", lang)), dropdown
