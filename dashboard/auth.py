"""Sign-in and the server-side checks: every page, callback and API request passes :func:`guard` first.

- Sessions are Flask-Login's, in a signed cookie (HttpOnly, SameSite=Lax, Secure in production); a password reset or
  a disable invalidates the account's sessions (the session names a fingerprint of the password hash).
- A request's needs come from :func:`dashboard.access.needs` (the matrix as data). Not signed in: a page goes to
  ``/login``, anything else is a 401. Not allowed: 403 (``/`` sends a department head to their first scene).
- The login form carries a CSRF token (Flask-WTF) and is rate-limited per client address (Flask-Limiter; Redis when
  ``cache_url`` is set). Signing out is a POST with the token too (a GET could be an ``<img>`` on another site).
  Dash's callbacks are JSON posts: they need ``Content-Type: application/json`` (a cross-site form cannot send it
  without a CORS preflight, which this server never grants) and a same-origin ``Origin``, and the session cookie is
  SameSite, so no CSRF token is needed there.
- The client address (login limit, audit log) is the connection's, unless ``server.proxy_hops`` trusts that many
  reverse proxies' ``X-Forwarded-For`` (:func:`trust_proxies`); a client never picks its own address.
- Every response carries the security headers (:func:`partial_headers`).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from dash import Dash
from flask import Flask, Response, current_app, g, redirect, render_template_string, request, session
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.validators import ValidationError

from dashboard.access import PUBLIC, Principal, needs
from dashboard.accounts import Accounts, Audit
from dashboard.i18n import request_lang, t
from dashboard.services import Services
from dashboard.settings import Settings
from dashboard.timeutil import now_utc

log = logging.getLogger(__name__)

LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1"})
#: The developer on this machine when ``auth.trust_localhost`` is on.
LOCAL_DEVELOPER = Principal("local", "admin", "本机开发者 local developer", fingerprint="local")
SESSION_COOKIE = "shanting_session"


def register(app: Dash, services: Services) -> None:
    """Sessions, the login and logout pages, the guard before every request and the headers after it."""
    server, settings = app.server, services.settings
    trust_proxies(server, settings.server.proxy_hops)
    server.secret_key = secret_key(settings)
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.auth.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    accounts, audit = Accounts(services.sources.store), Audit(services.sources.store)
    server.extensions["shanting.accounts"] = accounts
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = "basic"

    @manager.user_loader
    def load(user_id: str) -> Principal | None:
        username, _, fingerprint = user_id.partition("|")
        account = accounts.get(username)
        if account is None or account.disabled or not account.session_valid(session.get("iat")):
            return None
        principal = account.principal()
        return principal if secrets.compare_digest(principal.fingerprint, fingerprint) else None

    @manager.request_loader
    def from_request(req: Any) -> Principal | None:
        return request_principal(settings, accounts)

    limiter = Limiter(
        get_remote_address,
        app=server,
        storage_uri=settings.cache_url or "memory://",
        storage_options={"socket_timeout": 1} if settings.cache_url else {},
        key_prefix=f"{settings.cache_prefix}limits",
        swallow_errors=True,  # Redis down: the limit is skipped rather than every login failing
        in_memory_fallback_enabled=True,
    )
    server.before_request(partial_guard(services, accounts, audit))
    server.after_request(partial_headers(app, settings))
    server.register_error_handler(CSRFError, lambda e: (str(e), 400))
    _routes(server, services, accounts, audit, limiter)


def trust_proxies(server: Flask, hops: int) -> None:
    """Believe ``hops`` reverse proxies' ``X-Forwarded-For``/``-Proto``/``-Host`` (the client's address, scheme and
    host), taking the ``hops``-th value from the right: the ones those proxies appended, not what a client sent.

    Behind a proxy every connection comes from the proxy: without this the login limit would be one bucket for
    everyone and the audit log would name the proxy. With 0 the headers are ignored.
    """
    if hops > 0:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def peer_address() -> str:
    """The address of whoever opened the connection (the proxy itself, behind one), whatever the headers say."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.remote_addr or ""


def secret_key(settings: Settings) -> str:
    """The session key: the environment's; in development a random one kept in ``data_dir`` (so every worker
    and restart agrees). Production without a real key never gets here (settings refuse it)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    try:
        return path.read_text().strip() or _write_key(path)
    except FileNotFoundError:
        return _write_key(path)
    except OSError:
        return secrets.token_urlsafe(48)


def _write_key(path: Path) -> str:
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    except FileExistsError:
        return path.read_text().strip()
    except OSError:
        pass
    return key


def request_principal(settings: Settings, accounts: Accounts) -> Principal | None:
    """Who a request without a session is: a trusted proxy's user, or the local developer (trust_localhost).

    Both are judged on the connection's own address (:func:`peer_address`), never on ``X-Forwarded-For``: the
    user header counts only when ``proxy_header`` is set and the connection is from one of ``trusted_proxies``.
    """
    remote = peer_address()
    header = settings.auth.proxy_header
    if header and remote in settings.auth.trusted_proxies:
        name = request.headers.get(header, "").strip()
        account = accounts.get(name) if name else None
        return account.principal() if account is not None and not account.disabled else None
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if settings.auth.trust_localhost and remote in LOCAL_ADDRESSES and not forwarded:
        return LOCAL_DEVELOPER
    return None


def principal() -> Principal | None:
    """The signed-in user of this request (None outside a request or when nobody is)."""
    if not _in_request() or not hasattr(current_app, "login_manager"):  # no request, or routes without sign-in
        return None
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, Principal) else None


def view_key() -> str:
    """What the signed-in user may see, as a cache-key part: answers shared between users (main's callback
    cache) must be shared only between users with the same view (a department head's maps have fewer layers)."""
    who = principal()
    return "" if who is None else f"{who.role}:{','.join(sorted(who.domains))}:{who.screen_id or ''}"


def record(services: Services, action: str, target: str, **detail: Any) -> None:
    """Append an audit entry for the current user's action (called where the action happens)."""
    who = principal()
    Audit(services.sources.store).record(
        who.username if who else "anonymous",
        who.role if who else "-",
        action,
        target,
        services.now(),
        request.remote_addr if _in_request() else None,
        detail,
    )


def who_label() -> str:
    """How the event and screen logs name the current user."""
    who = principal()
    return f"{who.display_name or who.username} ({who.username})"[:80] if who else "anonymous"


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


# ---- the guard ------------------------------------------------------------------------------------------------


def partial_guard(services: Services, accounts: Accounts, audit: Audit) -> Callable[[], ResponseReturnValue | None]:
    def guard() -> ResponseReturnValue | None:
        body = request.get_json(silent=True) if request.path == "/_dash-update-component" else None
        need = needs(request.method, request.path, request.args, body)
        if need.kind == PUBLIC:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
            return _problem(403, "cross-site request refused")
        if need.kind == "callback" and not request.is_json:
            return _problem(415, "callbacks are JSON posts")
        if request.path.startswith("/screen/") and "token" in request.args:
            return _screen_sign_in(services, accounts, audit)
        who = principal()
        if who is None:
            if need.kind == "page":
                return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
            return _problem(401, "sign in first (POST /login)")
        missing = [p for p in need.permissions if not who.may(p)]
        if not missing:
            g.principal = who
            return None
        if need.kind == "page":
            first = who.first_page()
            if request.path == "/" and first and first != "/":
                return redirect(first)
            return _forbidden_page(services, who)
        log.info("403 %s %s for %s (%s): needs %s", request.method, request.path, who.username, who.role, missing)
        return _problem(403, f"your role ({who.role}) may not: {', '.join(missing)}")

    return guard


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    return origin is None or urlparse(origin).netloc == request.host


def _screen_sign_in(services: Services, accounts: Accounts, audit: Audit) -> ResponseReturnValue:
    """``/screen/<id>?token=…``: the display token signs the screen in; the token then leaves the URL."""
    screen_id = request.path.strip("/").split("/")[1]
    account = accounts.screen_account(screen_id, request.args.get("token", ""))
    if account is None:
        return _problem(401, "invalid display token for this screen")
    session.clear()
    login_user(account.principal())
    session.permanent = True
    session["sid"], session["iat"] = secrets.token_urlsafe(16), time.time()
    audit.record(account.username, "screen", "screen.signin", screen_id, services.now(), request.remote_addr)
    rest = {k: v for k, v in request.args.items() if k != "token"}
    return redirect(request.path + ("?" + urlencode(rest) if rest else ""))


def _problem(status: int, message: str) -> Response:
    from dashboard.routes import _problem as problem

    return problem(status, message)[0]


def _forbidden_page(services: Services, who: Principal) -> Response:
    lang = request_lang(services.settings.language)
    return _page(
        FORBIDDEN,
        403,
        lang=lang,
        title=t("auth.forbidden", lang),
        body=t("auth.forbidden.body", lang).format(role=t(f"role.{who.role}", lang)),
        first=who.first_page() or "",
        home=t("auth.home", lang),
        logout=t("auth.logout", lang),
    )


# ---- headers --------------------------------------------------------------------------------------------------


def partial_headers(app: Dash, settings: Settings) -> Callable[[Response], Response]:
    hashes: list[str] = []

    def headers(response: Response) -> Response:
        if not hashes:  # computed at the first response: every inline callback is registered by then
            hashes.extend(app.csp_hashes())
        response.headers.setdefault("Content-Security-Policy", content_security_policy(settings, hashes))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if settings.production:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    return headers


def content_security_policy(settings: Settings, script_hashes: list[str]) -> str:
    """Scripts only from this server plus the hashes of Dash's inline scripts (no 'unsafe-inline' scripts).

    Styles allow 'unsafe-inline': Plotly and Leaflet write ``<style>`` elements and style attributes at run time.
    Images may come from the configured tile server.
    """
    # A tile URL's {s} subdomains become a wildcard host.
    tiles = f" {urlparse(settings.tiles.url).scheme}://{urlparse(settings.tiles.url).netloc}" if settings.tiles else ""
    tiles = tiles.replace("{s}", "*")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{tiles}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


# ---- login, logout, admin -------------------------------------------------------------------------------------


def _routes(server: Flask, services: Services, accounts: Accounts, audit: Audit, limiter: Limiter) -> None:
    from dashboard import admin

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(services.settings.auth.login_limit, methods=["POST"])
    def login() -> ResponseReturnValue:
        lang = request_lang(services.settings.language)
        target = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return _login_page(lang, target, "")
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return _login_page(lang, target, t("auth.csrf", lang), 400)
        username = request.form.get("username", "").strip()[:64]
        account = accounts.verify(username, request.form.get("password", "")[:200])
        if account is None:
            audit.record(username or "-", "-", "login.failed", username or "-", services.now(), request.remote_addr)
            return _login_page(lang, target, t("auth.failed", lang), 401)
        session.clear()  # a new session: nothing set before sign-in carries over (session fixation)
        who = account.principal()
        login_user(who)
        session.permanent = True
        session["sid"], session["iat"] = secrets.token_urlsafe(16), time.time()
        audit.record(who.username, who.role, "login", who.username, services.now(), request.remote_addr)
        return redirect(target or who.first_page() or "/")

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> ResponseReturnValue:
        # Only a POST with the session's CSRF token signs out: a GET (a link, or an <img> on another site) just
        # offers the button.
        who, lang = principal(), request_lang(services.settings.language)
        if request.method == "GET":
            return _logout_page(lang) if who else redirect("/login")
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            if who is None:  # the session had ended already (its token with it): nothing to sign out
                return redirect("/login")
            return _logout_page(lang, 400)  # still signed in; the page's button carries a good token
        if who is not None and who is not LOCAL_DEVELOPER:
            # The cookie is signed, not stored: a request still in flight could send the old one back. Every
            # session of the user issued before now ends instead (signing out signs out everywhere).
            accounts.sign_out(who.username, now_utc())
            audit.record(who.username, who.role, "logout", who.username, services.now(), request.remote_addr)
        logout_user()
        session.clear()
        return redirect("/login")

    admin.register(server, services, accounts, audit)


def _safe_next(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _login_page(lang: str, target: str | None, error: str, status: int = 200) -> Response:
    return _page(
        LOGIN,
        status,
        lang=lang,
        title=t("app.title", lang),
        heading=t("auth.title", lang),
        user=t("auth.username", lang),
        password=t("auth.password", lang),
        submit=t("auth.submit", lang),
        switch=t("lang.switch", lang),
        other="en" if lang == "zh-CN" else "zh-CN",
        error=error,
        target=target or "",
    )


def _logout_page(lang: str, status: int = 200) -> Response:
    return _page(
        LOGOUT,
        status,
        lang=lang,
        title=t("app.title", lang),
        heading=t("auth.logout", lang),
        body=t("auth.logout.body", lang),
        logout=t("auth.logout", lang),
        home=t("auth.home", lang),
    )


def _page(template: str, status: int, **values: str) -> Response:
    """A page of the sign-in flow with a fresh CSRF token, never cached (it carries the token)."""
    response = Response(render_template_string(template, csrf=generate_csrf(), **values), status, mimetype="text/html")
    response.cache_control.no_store = True
    return response


LOGIN = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ heading }} · {{ title }}</title><link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page"><main class="login-box">
<h1>{{ title }}</h1><h2>{{ heading }}</h2>
{% if error %}<p class="login-error" id="login-error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="next" value="{{ target }}">
<label for="username">{{ user }}</label><input id="username" name="username" autocomplete="username" required>
<label for="password">{{ password }}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="login-submit">{{ submit }}</button></form>
<p><a href="/lang/{{ other }}?next=/login" id="login-lang">{{ switch }}</a></p>
</main></body></html>"""

FORBIDDEN = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page"><main class="login-box"><h1>403 · {{ title }}</h1><p id="forbidden">{{ body }}</p>
{% if first %}<p><a href="{{ first }}">{{ home }}</a></p>{% endif %}
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit">{{ logout }}</button></form></main></body></html>"""

LOGOUT = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ heading }} · {{ title }}</title><link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page"><main class="login-box"><h1>{{ title }}</h1><h2>{{ heading }}</h2><p>{{ body }}</p>
<form method="post" action="/logout" id="logout-form"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" id="logout-submit">{{ logout }}</button></form>
<p><a href="/">{{ home }}</a></p></main></body></html>"""
