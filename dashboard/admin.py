"""``/admin``: the admins' page of users (create, reset a password, disable or enable) and the audit log.

Plain server-rendered HTML (autoescaped templates: names and details are text, never markup), forms with CSRF
tokens; the guard lets only admins reach any ``/admin`` path. A new or reset password is shown once, on the page
that made it.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from dashboard.access import DOMAINS, ROLES
from dashboard.accounts import AccountError, Accounts, Audit, new_password
from dashboard.i18n import request_lang, t
from dashboard.services import Services
from dashboard.timeutil import fmt


def register(server: Flask, services: Services, accounts: Accounts, audit: Audit) -> None:
    def page(message: str = "", secret: str = "", status: int = 200) -> Response:
        lang = request_lang(services.settings.language)
        html = render_template_string(
            PAGE,
            lang=lang,
            t=lambda key: t(key, lang),
            users=accounts.all(),
            entries=audit.recent(200),
            roles=ROLES,
            domains=DOMAINS,
            screens=list(services.settings.screens),
            message=message,
            secret=secret,
            csrf=generate_csrf(),
            fmt=fmt,
        )
        response = Response(html, status=status, mimetype="text/html")
        response.cache_control.no_store = True
        return response

    def act(action: str, target: str, **detail: object) -> None:
        from dashboard.auth import record

        record(services, action, target, **detail)

    @server.get("/admin")
    def admin_page() -> ResponseReturnValue:
        return page()

    @server.post("/admin/users")
    def create_user() -> ResponseReturnValue:
        if not _csrf_ok():
            return page("CSRF", status=400)
        form = request.form
        password = new_password()
        try:
            made = accounts.create(
                form.get("username", "").strip(),
                password,
                form.get("role", ""),
                services.now(),
                display_name=form.get("display_name", "").strip(),
                domains=form.getlist("domains"),
                screen_id=form.get("screen_id") or None,
            )
        except AccountError as exc:
            return page(str(exc), status=400)
        act("user.create", made.username, role=made.role, domains=list(made.domains), screen_id=made.screen_id)
        return page(f"{made.username}", secret=password)

    @server.post("/admin/users/<username>/password")
    def reset_password(username: str) -> ResponseReturnValue:
        if not _csrf_ok():
            return page("CSRF", status=400)
        password = new_password()
        try:
            accounts.set_password(username, password)
        except AccountError as exc:
            return page(str(exc), status=404)
        act("user.passwd", username)
        return page(username, secret=password)

    @server.post("/admin/users/<username>/disable")
    def disable_user(username: str) -> ResponseReturnValue:
        if not _csrf_ok():
            return page("CSRF", status=400)
        disabled = request.form.get("disabled", "1") == "1"
        try:
            accounts.set_disabled(username, disabled)
        except AccountError as exc:
            return page(str(exc), status=404)
        act("user.disable" if disabled else "user.enable", username)
        return redirect("/admin")


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ t('admin.title') }}</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body class="admin-page"><main>
<h1>{{ t('admin.title') }}</h1><p><a href="/">{{ t('auth.home') }}</a></p>
{% if message %}<p class="admin-message" id="admin-message">{{ message }}</p>{% endif %}
{% if secret %}<p class="admin-secret">{{ t('admin.secret') }}
<code id="admin-secret">{{ secret }}</code></p>{% endif %}
<h2>{{ t('admin.users') }}</h2>
<table id="admin-users"><tr>
<th>{{ t('auth.username') }}</th>
<th>{{ t('admin.name') }}</th>
<th>{{ t('admin.role') }}</th>
<th>{{ t('admin.domains') }}</th>
<th>{{ t('admin.state') }}</th>
<th></th></tr>
{% for u in users %}<tr><td>{{ u.username }}</td>
<td>{{ u.display_name }}</td>
<td>{{ u.role }}</td>
<td>{{ u.domains|join(', ') }}{{ u.screen_id or '' }}</td>
<td>{{ t('admin.disabled') if u.disabled else '' }}</td>
<td>
<form method="post" action="/admin/users/{{ u.username|urlencode }}/password">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><button>{{ t('admin.reset') }}</button></form>
<form method="post" action="/admin/users/{{ u.username|urlencode }}/disable">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="disabled" value="{{ '0' if u.disabled else '1' }}">
<button>{{ t('admin.enable') if u.disabled else t('admin.disable') }}</button></form></td></tr>{% endfor %}
</table>
<h2>{{ t('admin.create') }}</h2>
<form method="post" action="/admin/users" id="admin-create"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<input name="username" placeholder="{{ t('auth.username') }}" required>
<input name="display_name" placeholder="{{ t('admin.name') }}">
<select name="role">{% for r in roles %}<option value="{{ r }}">{{ t('role.' + r) }}</option>{% endfor %}</select>
{% for d in domains %}<label>
<input type="checkbox" name="domains" value="{{ d }}">{{ t('scene.' + d) }}</label>{% endfor %}
<select name="screen_id"><option value="">—</option>{% for s in screens %}<option>{{ s }}</option>{% endfor %}</select>
<button>{{ t('admin.create') }}</button></form>
<h2>{{ t('admin.audit') }}</h2>
<table id="admin-audit"><tr><th>#</th>
<th>{{ t('admin.when') }}</th>
<th>{{ t('admin.who') }}</th>
<th>{{ t('admin.role') }}</th>
<th>{{ t('admin.action') }}</th>
<th>{{ t('admin.target') }}</th>
<th>{{ t('admin.detail') }}</th>
<th>{{ t('admin.from') }}</th></tr>
{% for e in entries %}<tr><td>{{ e.seq }}</td>
<td>{{ fmt(e.at) }}</td>
<td>{{ e.who }}</td>
<td>{{ e.role }}</td>
<td>{{ e.action }}</td>
<td>{{ e.target }}</td>
<td>{{ e.detail|tojson }}</td>
<td>{{ e.remote or '' }}</td></tr>{% endfor %}
</table></main></body></html>"""
