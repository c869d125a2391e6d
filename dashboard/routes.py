"""Plain HTTP routes beside the Dash app: health JSON and the language switch."""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from dashboard.i18n import COOKIE, LANGUAGES
from dashboard.services import Services

ONE_YEAR = 365 * 24 * 3600


def register(server: Flask, services: Services) -> None:
    @server.get("/healthz")
    def healthz() -> tuple[Response, int]:
        snapshot = services.health()
        return jsonify(snapshot.as_json()), 200 if snapshot.store_ok else 503

    @server.get("/lang/<code>")
    def set_language(code: str) -> ResponseReturnValue:
        if code not in LANGUAGES:
            return Response(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}", 400)
        target = request.args.get("next", "/")
        # Only same-site paths: never an open redirect.
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        response = redirect(target)
        response.set_cookie(COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        return response
