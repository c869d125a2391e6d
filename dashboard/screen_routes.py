"""HTTP for the big screens: each screen's poll (heartbeat in, target out), the screen list, operator commands.

A screen polls ``POST /api/v1/screens/<id>/sync`` every second with what it shows; the answer is what it should
show (it navigates when the two differ). Unknown screens are a 404 naming the known ones; a bad command or body a
400 naming the problem.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from dashboard import screens
from dashboard.auth import record, who_label
from dashboard.i18n import request_lang, t
from dashboard.scope import ScopeError, ScopeNotFound, parse
from dashboard.screen_board import SCENE_IDS, Beat, ScreenBoard, UnknownScreen, alarms, towns
from dashboard.screens import CommandError, Target
from dashboard.services import Services
from dashboard.views import crumbs, resolve
from datasources import SourceError

log = logging.getLogger(__name__)


def board_of(services: Services) -> ScreenBoard:
    return ScreenBoard(services.sources.store, services.settings)


def register(server: Flask, services: Services) -> None:
    from dashboard.routes import _problem

    board = board_of(services)
    server.register_error_handler(UnknownScreen, lambda e: _problem(404, str(e)))
    server.register_error_handler(CommandError, lambda e: _problem(400, str(e)))

    @server.before_request
    def screen_without_target() -> ResponseReturnValue | None:
        """``/screen/<id>`` with no scene: straight to what the screen shows now, so its URL always says it."""
        parts = request.path.strip("/").split("/")
        if request.method != "GET" or len(parts) != 2 or parts[0] != "screen" or "scene" in request.args:
            return None
        if parts[1] not in services.settings.screens:
            return None  # the page itself says the id is unknown
        now = services.now()
        goal = board.target(parts[1], now, towns(services.live), alarms(services.live))
        return redirect(f"/screen/{parts[1]}{goal.search}")

    @server.post("/api/v1/screens/<screen_id>/sync")
    def sync(screen_id: str) -> ResponseReturnValue:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _problem(400, "send a JSON object: {scene, scope} the screen shows now")
        now = services.now()
        goal = board.target(screen_id, now, towns(services.live), alarms(services.live))
        scene, scope = str(body.get("scene") or "")[:32], str(body.get("scope") or "district")[:100]
        try:
            board.beat(screen_id, now, scene or "-", scope, goal.mode, goal.alarm, request.remote_addr)
        except SourceError as exc:  # a heartbeat not kept (the store cannot write) must not blank the screen
            log.warning("heartbeat of screen %s not stored: %s", screen_id, exc)
        lang = request_lang(services.settings.language)
        now_text = showing(services, goal.scene, goal.scope, lang)
        response = jsonify({"screen": screen_id, "search": goal.search, "label": label(goal, lang), "now": now_text})
        response.cache_control.no_store = True
        return response

    @server.get("/api/v1/screens")
    def screen_list() -> ResponseReturnValue:
        now = services.now()
        beats = board.heartbeats()
        known_towns, open_alarms = towns(services.live), alarms(services.live)
        listed = [
            describe(sid, board.target(sid, now, known_towns, open_alarms), beats.get(sid), now)
            for sid in services.settings.screens
        ]
        return jsonify({"screens": listed, "generated_at": now.isoformat()})

    @server.post("/api/v1/screens/<screen_id>/command")
    def screen_command(screen_id: str) -> ResponseReturnValue:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("command"), str):
            return _problem(400, f"send a JSON object with command (one of {', '.join(screens.COMMANDS)})")
        board.screen(screen_id)
        if body.get("scope") is not None:
            resolve(str(body["scope"]), services.live)  # a malformed scope is a 400, an unknown town a 404
        state = board.command(
            screen_id,
            body["command"],
            who_label(),
            services.now(),
            towns(services.live),
            scene=body.get("scene"),
            scope=body.get("scope"),
        )
        chosen = {k: body.get(k) for k in ("scene", "scope") if body.get(k) is not None}
        record(services, "screen.command", screen_id, command=body["command"], via="api", **chosen)
        return jsonify({"screen": screen_id, "mode": state.mode, "scene": state.scene, "scope": state.scope})


def label(goal: Target, lang: str) -> str:
    """The screen's mode as its header shows it: 轮播 2/5, 暂停 2/5, 固定, 告警接管."""
    text = t(f"screen.mode.{goal.mode}", lang)
    if goal.index is not None and goal.count:
        return f"{text} {goal.index + 1}/{goal.count}"
    return text


def showing(services: Services, scene: str, scope: str, lang: str) -> str:
    """ "交通 · 城头镇": a scene and scope in words (the scope's own text when it names nothing known)."""
    title = t(f"scene.{scene}", lang) if scene in SCENE_IDS else scene
    try:
        place = crumbs(parse(scope), services.live, lang)[-1][0]
    except (ScopeError, ScopeNotFound):
        place = scope
    return f"{title} · {place}"


def describe(screen_id: str, goal: Target, beat: Beat | None, now: Any) -> dict[str, Any]:
    """One screen for the list: what it should show, what it last reported, whether it is online."""
    return {
        "id": screen_id,
        "target": {"scene": goal.scene, "scope": goal.scope, "mode": goal.mode, "alarm": goal.alarm},
        "showing": None
        if beat is None
        else {"scene": beat.scene, "scope": beat.scope, "mode": beat.mode, "alarm": beat.alarm},
        "last_seen": beat.seen_at.isoformat() if beat else None,
        "online": screens.online(beat.seen_at if beat else None, now),
        "url": f"/screen/{screen_id}?{urlencode({'scene': goal.scene, 'scope': goal.scope})}",
    }
