"""Big screens and the console: their pages, the screen's poll (client side) and the console's commands.

A screen's poll runs in the browser (``shanting.screenSync`` in ``assets/shell.js``): it reports what the screen
shows, navigates when the answer differs, and marks the screen stale while the server does not answer. The
console's adapters parse the clicked button and call :class:`~dashboard.screen_board.ScreenBoard`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html
from flask import has_request_context

from callbacks.events import book_of
from dashboard import screens
from dashboard.auth import record, who_label
from dashboard.domain.lifecycle import InvalidTransition
from dashboard.i18n import request_lang, t
from dashboard.live import Failed
from dashboard.scenes import SCENES, Scene
from dashboard.scope import ScopeError, ScopeNotFound
from dashboard.screen_board import ScreenBoard, UnknownScreen, alarms, towns
from dashboard.screen_routes import board_of, label, showing
from dashboard.screens import Alarm, CommandError
from dashboard.services import Services
from dashboard.views import resolve
from layouts import console as console_layout
from layouts import ids
from layouts import screen as screen_layout

SceneRenderer = Callable[[Scene, str | None, dict[str, Any]], Any]
BY_ID = {s.id: s for s in SCENES}


# ---- pages ------------------------------------------------------------------------------------------------


def screen_page(
    services: Services,
    render: SceneRenderer,
    screen_id: str = "",
    scene: str | None = None,
    scope: str | None = None,
    alarm: str | None = None,
    **query: Any,
) -> Any:
    """``/screen/<id>?scene=…&scope=…[&alarm=…]``: the scene on the stage, an alarm banner over it."""
    lang = request_lang(services.settings.language)
    try:
        board_of(services).screen(screen_id)
    except UnknownScreen as exc:
        return screen_layout.problem(lang, "screen.unknown", str(exc))
    shown = BY_ID.get(scene or "overview")
    if shown is None:
        known = ", ".join(BY_ID)
        return screen_layout.problem(lang, "screen.badscene", f"unknown scene {scene!r}; known scenes: {known}")
    banner = alarm_banner(services, lang, alarm) if alarm else None
    return screen_layout.stage(render(shown, scope, query), shown.id, scope or "district", banner)


def alarm_banner(services: Services, lang: str, event_id: str) -> Any:
    """The banner of the event holding the screen (none when the event is not in the live window)."""
    rows = services.live.rows("events")
    if isinstance(rows, Failed):
        return None
    match = rows.frame.loc[rows.frame["event_id"] == event_id]
    if match.empty:
        return None
    e = match.iloc[0]
    return screen_layout.alarm_banner(lang, int(e["severity"]), str(e["title"]), e["ts"], event_id)


def console_page(services: Services, **_query: Any) -> Any:
    """``/console``: every configured screen with its controls."""
    lang = request_lang(services.settings.language)
    rows = services.live.rows("towns")
    pairs = [] if isinstance(rows, Failed) else list(zip(rows.frame["town_code"], rows.frame["name"], strict=True))
    listed = [(sid, s.name) for sid, s in services.settings.screens.items()]
    return console_layout.page(lang, listed, sorted(pairs))


# ---- wiring -------------------------------------------------------------------------------------------------


def register(app: Dash, services: Services) -> None:
    board = board_of(services)

    # The screen's poll: heartbeat out, target back; navigate on a difference, mark stale while offline.
    app.clientside_callback(
        ClientsideFunction("shanting", "screenSync"),
        Output(ids.URL, "search", allow_duplicate=True),
        Output(ids.screen_part("root", ALL), "className"),
        Output(ids.screen_part("mode", ALL), "children"),
        Output(ids.screen_part("now", ALL), "children"),
        Output(ids.screen_part("since", ALL), "children"),
        Output(ids.REFRESH, "disabled"),
        Output(ids.REFRESH, "n_intervals", allow_duplicate=True),
        Input(ids.screen_part("tick", ALL), "n_intervals"),
        State(ids.URL, "pathname"),
        State(ids.URL, "search"),
        State(ids.REFRESH, "n_intervals"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.scr_status(ALL), "children"),
        Output(ids.CONSOLE_ALARMS, "children"),
        Output(ids.CONSOLE_HELD, "children"),
        Input(ids.CONSOLE_TICK, "n_intervals"),
        State(ids.scr_status(ALL), "id"),
        State(ids.CONSOLE_HELD, "children"),
    )
    def fill_console(_n: Any, status_ids: list[dict], listed: Any) -> Any:
        lang = request_lang(services.settings.language)
        cells, held = console_view(services, board, [str(i["screen"]) for i in status_ids], lang)
        # The alarm list holds buttons: re-rendered only when it changes, so a click never lands on a
        # button that the next refresh replaces.
        signature = json.dumps({"lang": lang, "held": [[event_id, names] for event_id, _sev, _title, names in held]})
        if signature == listed:
            return cells, dash.no_update, dash.no_update
        return cells, console_layout.alarm_rows(lang, held), signature

    @app.callback(
        Output(ids.console_part(ALL), "children"),
        Input(ids.scr_cmd(ALL, ALL), "n_clicks"),
        State(ids.scr_field(ALL, ALL), "value"),
        State(ids.scr_field(ALL, ALL), "id"),
        prevent_initial_call=True,
    )
    def send(_clicks: Any, values: list[Any], field_ids: list[dict]) -> Any:
        trigger, clicked = ctx.triggered_id, ctx.triggered[0]["value"] if ctx.triggered else None
        if not trigger or not clicked:
            return [dash.no_update] * len(ctx.outputs_list)
        fields = {(f["screen"], f["name"]): v for f, v in zip(field_ids, values, strict=True)}
        lang = request_lang(services.settings.language)
        message, ok = run_command(services, board, dict(trigger), fields, operator())
        if ok:
            screen_id, command = str(trigger["screen"]), str(trigger["command"])
            chosen = {n: fields.get((screen_id, n)) for n in ("scene", "scope")} if command == "show" else {}
            record(services, "screen.command", screen_id, command=command, **chosen)
        return [reply(lang, message, ok)] * len(ctx.outputs_list)

    @app.callback(
        Output(ids.console_part(ALL), "children", allow_duplicate=True),
        Input(ids.scr_ack(ALL), "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(_clicks: Any) -> Any:
        trigger, clicked = ctx.triggered_id, ctx.triggered[0]["value"] if ctx.triggered else None
        if not trigger or not clicked:
            return [dash.no_update] * len(ctx.outputs_list)
        lang = request_lang(services.settings.language)
        try:
            book_of(services).act(str(trigger["event"]), "acknowledge", operator(), services.now())
        except (InvalidTransition, KeyError) as exc:
            return [reply(lang, str(exc).strip("'\""), False)] * len(ctx.outputs_list)
        record(services, "event.acknowledge", str(trigger["event"]), where="console")
        return [reply(lang, "", True)] * len(ctx.outputs_list)


def operator() -> str:
    """Who sent a command, for the screen's and the event's record: the signed-in user."""
    return who_label() if has_request_context() else "console"


def reply(lang: str, message: str, ok: bool) -> html.Span:
    return html.Span(t("console.done", lang) if ok else message, className="ok" if ok else "error")


def run_command(
    services: Services, board: ScreenBoard, trigger: dict[str, Any], fields: dict[tuple[str, str], Any], who: str
) -> tuple[str, bool]:
    """Send the clicked command to its screen; (the reason, False) when it cannot apply."""
    screen_id, name = str(trigger["screen"]), str(trigger["command"])
    scene = fields.get((screen_id, "scene")) if name == "show" else None
    scope = fields.get((screen_id, "scope")) if name == "show" else None
    try:
        if scope is not None:
            resolve(scope, services.live)
        board.command(screen_id, name, who, services.now(), towns(services.live), scene=scene, scope=scope)
    except (CommandError, UnknownScreen, ScopeError, ScopeNotFound) as exc:
        return str(exc), False
    return "", True


def console_view(
    services: Services, board: ScreenBoard, screen_ids: Sequence[str], lang: str
) -> tuple[list[Any], list[tuple[str, int, str, list[str]]]]:
    """Each screen's status cell, and the events holding screens with the names of the screens they hold."""
    now = services.now()
    beats = board.heartbeats()
    known_towns, open_alarms = towns(services.live), alarms(services.live)
    cells: list[Any] = []
    held: dict[str, tuple[Alarm, list[str]]] = {}
    for sid in screen_ids:
        goal = board.target(sid, now, known_towns, open_alarms)
        beat = beats.get(sid)
        seen_at = beat.seen_at if beat else None
        text = showing(services, beat.scene, beat.scope, lang) if beat else "—"
        state = console_layout.Status(screens.online(seen_at, now), seen_at, text, label(goal, lang))
        cells.append(console_layout.status(lang, state, now))
        if goal.alarm:
            alarm = next(a for a in open_alarms if a.event_id == goal.alarm)
            held.setdefault(alarm.event_id, (alarm, []))[1].append(services.settings.screens[sid].name)
    rows = [(a.event_id, a.severity, a.title, names) for a, names in held.values()]
    return cells, rows
