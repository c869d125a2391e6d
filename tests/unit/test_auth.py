"""Roles, sign-in and the server-side checks (issue #9 part 5-7, issue #12 item 4).

One app (trust_localhost off) with an account per role serves the role matrix; the expectations below are
written out by hand (the README's table), and a last test checks that dashboard/access.py grants the same.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashboard import access
from dashboard.access import Principal
from dashboard.accounts import Accounts, Audit
from dashboard.settings import ConfigError, load_settings
from tests.conftest import NOW

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "leader", "transport", "operator", "admin", "screen")
ACCOUNTS = {
    "leader": ("leader", ()),
    "transport": ("department", ("transport",)),
    "operator": ("operator", ()),
    "admin": ("admin", ()),
}
SCREENS = {
    "main": {"name": "主屏", "playlist": [{"scene": "overview"}]},
    "lobby": {"name": "大厅", "playlist": [{"scene": "tourism"}]},
}


@contextmanager
def trusting_nobody(seeded_db: Path, folder: Path) -> Iterator[Any]:
    """An app over a copy of the seeded store in ``folder`` that trusts nobody (no local developer): the screens of
    ``SCREENS``, a login limit out of the tests' way."""
    from dashboard.app import create_app

    shutil.copy(seeded_db, folder / "shanting.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        settings = load_settings(
            None,
            data_dir=folder,
            store_url=f"sqlite:///{folder / 'shanting.db'}",
            screens=SCREENS,
            auth={"trust_localhost": False, "login_limit": "1000 per minute"},
        )
        yield create_app(settings, clock=lambda: NOW)


@pytest.fixture(scope="module")
def secured(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app that trusts nobody, over a copy of the seeded store, with one account per role."""
    with trusting_nobody(seeded_db, tmp_path_factory.mktemp("auth")) as app:
        accounts = Accounts(app.server.extensions["shanting.services"].sources.store)
        for name, (role, domains) in ACCOUNTS.items():
            accounts.create(name, PASSWORD, role, NOW, domains=domains)
        accounts.create("screen-main", "display-token-main", "screen", NOW, screen_id="main")
        yield app


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/login", data={"csrf_token": csrf(client), "username": username, "password": password, **extra})


@pytest.fixture(scope="module")
def clients(secured: Any) -> dict[str, FlaskClient]:
    made: dict[str, FlaskClient] = {"anonymous": secured.server.test_client()}
    for name in ACCOUNTS:
        client = secured.server.test_client()
        assert sign_in(client, name).status_code == 302
        made[name] = client
    screen = secured.server.test_client()
    assert screen.get("/screen/main?token=display-token-main").status_code == 302
    made["screen"] = screen
    return made


# ---- the matrix, written out ------------------------------------------------------------------------------

ALL_SIGNED_IN = {"leader", "transport", "operator", "admin", "screen"}
EVERYONE = ALL_SIGNED_IN | {"anonymous"}
SEE_ALL = {"leader", "operator", "admin"}

#: (method, path, JSON body, roles allowed). Allowed: 200; signed in but not allowed: 403; anonymous: 401.
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/healthz", None, EVERYONE),
    ("GET", "/api/v1/scenes", None, ALL_SIGNED_IN),
    ("GET", "/api/v1/version", None, ALL_SIGNED_IN),
    ("GET", "/api/v1/kpis?scope=district", None, ALL_SIGNED_IN),  # each answered the tiles they may see
    ("GET", "/geo/outline", None, ALL_SIGNED_IN),
    ("GET", "/geo/segments", None, ALL_SIGNED_IN),
    ("GET", "/geo/cameras", None, SEE_ALL | {"screen"}),
    ("GET", "/geo/air", None, SEE_ALL | {"screen"}),
    ("GET", "/geo/towns?kpi=parking", None, ALL_SIGNED_IN),
    ("GET", "/geo/towns?kpi=aqi", None, SEE_ALL | {"screen"}),
    ("GET", "/export/kpis.csv", None, SEE_ALL | {"transport"}),
    ("GET", "/export/kpis.csv?domain=transport", None, SEE_ALL | {"transport"}),
    ("GET", "/export/kpis.csv?domain=video", None, SEE_ALL),
    ("GET", "/export/map.html?domain=transport&kpi=parking", None, SEE_ALL | {"transport"}),
    ("GET", "/export/map.html?kpi=aqi", None, SEE_ALL),
    ("GET", "/export/map.html?layers=segments,cameras", None, SEE_ALL),
    ("GET", "/export/camera-sites.csv?n=5", None, SEE_ALL),
    ("GET", "/export/rating.csv", None, SEE_ALL),
    ("GET", "/api/v1/screens", None, SEE_ALL),
    ("POST", "/api/v1/screens/main/sync", {"scene": "overview", "scope": "district"}, SEE_ALL | {"screen"}),
    ("POST", "/api/v1/screens/lobby/sync", {"scene": "tourism", "scope": "district"}, SEE_ALL),
    ("POST", "/api/v1/screens/lobby/command", {"command": "show", "scene": "tourism"}, {"operator", "admin"}),
    ("GET", "/admin", None, {"admin"}),
]
#: Pages: allowed 200; not allowed 403 (a department head's "/" goes to their scene: 302); anonymous: to /login.
PAGES: list[tuple[str, set[str]]] = [
    ("/transport", SEE_ALL | {"transport"}),
    ("/video", SEE_ALL),
    ("/environment", SEE_ALL),
    ("/tourism", SEE_ALL),
    ("/rating", SEE_ALL),
    ("/events", SEE_ALL),
    ("/data", SEE_ALL | {"transport"}),
    ("/console", SEE_ALL),
    ("/screen/main?scene=overview", SEE_ALL | {"screen"}),
    ("/screen/lobby?scene=tourism", SEE_ALL),
]


def _call(client: FlaskClient, method: str, path: str, body: Any) -> Any:
    if method == "POST":
        return client.post(path, json=body)
    return client.get(path)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_each_role_against_each_endpoint(
    clients: dict[str, FlaskClient], method: str, path: str, body: Any, allowed: set[str]
) -> None:
    for role in ROLES:
        got = _call(clients[role], method, path, body).status_code
        expected = 200 if role in allowed else 401 if role == "anonymous" else 403
        assert got == expected, f"{role} {method} {path}: {got}, expected {expected}"


@pytest.mark.parametrize(("path", "allowed"), PAGES, ids=[p for p, _ in PAGES])
def test_each_role_against_each_page(clients: dict[str, FlaskClient], path: str, allowed: set[str]) -> None:
    for role in ROLES:
        response = clients[role].get(path)
        if role == "anonymous":
            assert response.status_code == 302 and response.location.startswith("/login?next="), role
        else:
            assert response.status_code == (200 if role in allowed else 403), f"{role} {path}: {response.status_code}"


def test_the_home_page_sends_a_department_head_and_a_screen_to_theirs(
    clients: dict[str, FlaskClient],
) -> None:
    assert clients["leader"].get("/").status_code == 200
    home = clients["transport"].get("/")
    assert home.status_code == 302 and home.location == "/transport"
    screen = clients["screen"].get("/")
    assert screen.status_code == 302 and screen.location == "/screen/main"
    assert clients["anonymous"].get("/").status_code == 302


# ---- callbacks ------------------------------------------------------------------------------------------------


def callback_body(app: Any, output_prefix: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Dash callback request for the registered callback whose output key starts with ``output_prefix``
    (plain ids only), every input and state at ``values`` or None."""
    key = next(k for k in app.callback_map if k.lstrip(".").startswith(output_prefix))
    spec = app.callback_map[key]
    values = values or {}
    outputs = [{"id": i, "property": p} for i, p in (o.rsplit(".", 1) for o in key.strip(".").split("..."))]

    def entry(item: dict[str, str]) -> dict[str, Any]:
        return {"id": item["id"], "property": item["property"], "value": values.get(item["id"])}

    inputs = [entry(i) for i in spec["inputs"]]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": [entry(s) for s in spec.get("state", [])],
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


#: A representative callback of each scene (by its first output) and who may run it.
CALLBACKS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("health-strip", {}, ALL_SIGNED_IN),
    ("data-table", {}, ALL_SIGNED_IN),
    ("trn-lines", {"url": "/transport"}, SEE_ALL | {"transport", "screen"}),
    ("vid-health", {"url": "/video"}, SEE_ALL | {"screen"}),
    ("env-air-now", {"url": "/environment"}, SEE_ALL | {"screen"}),
    ("tour-areas", {"url": "/tourism"}, SEE_ALL | {"screen"}),
    ("rat-plan", {}, SEE_ALL | {"screen"}),
    ("evt-list", {}, SEE_ALL | {"screen"}),
    ("ticker", {"url": ""}, SEE_ALL | {"screen"}),
    ("rat-form-msg", {"rat-form-submit": 1}, {"admin"}),
]


@pytest.mark.parametrize(("output", "values", "allowed"), CALLBACKS, ids=[c[0] for c in CALLBACKS])
def test_each_role_against_representative_callbacks(
    secured: Any, clients: dict[str, FlaskClient], output: str, values: dict[str, Any], allowed: set[str]
) -> None:
    body = callback_body(secured, output, values)
    for role in ROLES:
        got = clients[role].post("/_dash-update-component", json=body).status_code
        if role in allowed:
            assert got in (200, 204), f"{role} {output}: {got}"
        else:
            assert got == (401 if role == "anonymous" else 403), f"{role} {output}: {got}"


def test_a_forged_callback_for_another_departments_data_is_refused(
    secured: Any, clients: dict[str, FlaskClient]
) -> None:
    transport = clients["transport"]
    # The video scene's panels, asked for from the transport head's session.
    video = callback_body(secured, "vid-health", {"url": "/video"})
    response = transport.post("/_dash-update-component", json=video)
    assert response.status_code == 403 and b"scene:video" in response.data
    # The shared KPI-tile callback, its state forged to list the video scene's tiles.
    tiles = {
        "output": '{"metric":["ALL"],"type":"kpi"}.children',
        "outputs": [{"id": {"type": "kpi", "metric": "working_rate"}, "property": "children"}],
        "inputs": [
            {"id": "refresh", "property": "n_intervals", "value": 1},
            {"id": "url", "property": "search", "value": ""},
        ],
        "state": [
            [
                {
                    "id": {"type": "kpi", "metric": "working_rate"},
                    "property": "id",
                    "value": {"type": "kpi", "metric": "working_rate"},
                }
            ]
        ],
        "changedPropIds": ["refresh.n_intervals"],
    }
    assert transport.post("/_dash-update-component", json=tiles).status_code == 403
    assert clients["leader"].post("/_dash-update-component", json=tiles).status_code == 200
    # Dash's page callback, asked to render the video page.
    page = {
        "output": "..._pages_content.children...",
        "outputs": [{"id": "_pages_content", "property": "children"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/video"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
    }
    assert transport.post("/_dash-update-component", json=page).status_code == 403
    # A body that is no callback at all, and a form post instead of JSON.
    assert transport.post("/_dash-update-component", json={"hello": 1}).status_code == 403
    assert transport.post("/_dash-update-component", data="x=1").status_code == 415


def test_a_cross_site_post_is_refused(clients: dict[str, FlaskClient]) -> None:
    response = clients["operator"].post(
        "/api/v1/screens/lobby/command", json={"command": "pause"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_an_operator_may_act_on_events_and_a_leader_may_not(secured: Any, clients: dict[str, FlaskClient]) -> None:
    services = secured.server.extensions["shanting.services"]
    from callbacks.events import book_of
    from tests.unit.test_events import raised

    event_id = raised(book_of(services))
    body = {
        "output": '..{"name":["ALL"],"type":"evt-part"}.children...{"name":["ALL"],"type":"evt-field"}.value..',
        "outputs": [
            [{"id": {"type": "evt-part", "name": "message"}, "property": "children"}],
            [{"id": {"type": "evt-field", "name": "note"}, "property": "value"}],
        ],
        "inputs": [
            [{"id": {"type": "evt-action", "action": "note"}, "property": "n_clicks", "value": 1}],
            [],
        ],
        "state": [
            [{"id": {"type": "evt-field", "name": "note"}, "property": "value", "value": "<b>已到场</b>"}],
            [
                {
                    "id": {"type": "evt-field", "name": "note"},
                    "property": "id",
                    "value": {"type": "evt-field", "name": "note"},
                }
            ],
            [
                {
                    "id": {"type": "evt-part", "name": "message"},
                    "property": "id",
                    "value": {"type": "evt-part", "name": "message"},
                }
            ],
            {"id": "url", "property": "search", "value": f"?event={event_id}"},
        ],
        "changedPropIds": ['{"action":"note","type":"evt-action"}.n_clicks'],
    }
    assert clients["leader"].post("/_dash-update-component", json=body).status_code == 403
    assert clients["transport"].post("/_dash-update-component", json=body).status_code == 403
    response = clients["operator"].post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:300]
    entry = Audit(services.sources.store).recent(5, action="event.note")[0]
    assert (entry.who, entry.role, entry.target, entry.remote) == ("operator", "operator", event_id, "127.0.0.1")


# ---- sessions, tokens, audit -----------------------------------------------------------------------------------


def test_unauthenticated_requests_get_401_or_the_login_page(secured: Any) -> None:
    client = secured.server.test_client()
    assert client.get("/api/v1/kpis").status_code == 401
    assert client.get("/geo/outline").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json=callback_body(secured, "health-strip")).status_code == 401
    page = client.get("/video?scope=district")
    assert page.status_code == 302 and page.location == "/login?next=%2Fvideo%3Fscope%3Ddistrict"
    login = client.get("/login")
    assert login.status_code == 200 and "登录" in login.get_data(as_text=True)


def test_the_session_is_new_after_sign_in_and_sign_out_ends_it_everywhere(secured: Any) -> None:
    secured.server.extensions["shanting.accounts"].create("rotating", PASSWORD, "leader", NOW)
    client = secured.server.test_client()
    token = csrf(client)
    before = client.get_cookie("shanting_session")
    assert before is not None
    response = client.post("/login", data={"csrf_token": token, "username": "rotating", "password": PASSWORD})
    after = client.get_cookie("shanting_session")
    assert response.status_code == 302 and after is not None and after.value != before.value
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as sess:
        assert sess.get("sid") and sess.get("_user_id", "").startswith("rotating|")
    stale = secured.server.test_client()
    stale.set_cookie("shanting_session", before.value)  # the cookie from before sign-in is nobody's
    assert stale.get("/api/v1/kpis").status_code == 401
    assert client.get("/api/v1/kpis").status_code == 200
    replay = secured.server.test_client()
    replay.set_cookie("shanting_session", after.value)
    assert replay.get("/api/v1/kpis").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client, "/logout")}).status_code == 302
    assert client.get("/api/v1/kpis").status_code == 401
    # A signed-in cookie sent back after sign-out (a request that was in flight) no longer signs anyone in.
    assert replay.get("/api/v1/kpis").status_code == 401
    assert sign_in(client, "rotating").status_code == 302
    assert client.get("/api/v1/kpis").status_code == 200


def test_sign_in_needs_the_csrf_token_and_a_safe_next(secured: Any) -> None:
    client = secured.server.test_client()
    client.get("/login")
    assert client.post("/login", data={"username": "leader", "password": PASSWORD}).status_code == 400
    bounced = sign_in(client, "leader", next="//evil.example/")
    assert bounced.status_code == 302 and bounced.location == "/"
    wrong = sign_in(secured.server.test_client(), "leader", "wrong password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)


def test_a_password_reset_or_disable_ends_the_users_sessions(secured: Any) -> None:
    accounts = secured.server.extensions["shanting.accounts"]
    accounts.create("temp-head", PASSWORD, "department", NOW, domains=("tourism",))
    client = secured.server.test_client()
    sign_in(client, "temp-head")
    assert client.get("/geo/scenic").status_code == 200
    accounts.set_password("temp-head", "another long password")
    assert client.get("/geo/scenic").status_code == 401
    sign_in(client, "temp-head", "another long password")
    accounts.set_disabled("temp-head")
    assert client.get("/geo/scenic").status_code == 401
    assert sign_in(client, "temp-head", "another long password").status_code == 401


def test_a_screen_token_opens_only_its_own_screen(secured: Any, clients: dict[str, FlaskClient]) -> None:
    assert secured.server.test_client().get("/screen/main?token=wrong").status_code == 401
    assert secured.server.test_client().get("/screen/lobby?token=display-token-main").status_code == 401
    fresh = secured.server.test_client()
    landing = fresh.get("/screen/main?token=display-token-main&scene=overview")
    assert landing.status_code == 302 and landing.location == "/screen/main?scene=overview"  # the token leaves the URL
    screen = clients["screen"]
    assert screen.get("/screen/main?scene=transport").status_code == 200
    assert screen.get("/screen/lobby?scene=tourism").status_code == 403
    assert screen.get("/transport").status_code == 403
    assert screen.get("/export/kpis.csv").status_code == 403


def test_audit_entries_for_screen_commands_and_user_changes(secured: Any, clients: dict[str, FlaskClient]) -> None:
    audit = Audit(secured.server.extensions["shanting.services"].sources.store)
    response = clients["operator"].post("/api/v1/screens/main/command", json={"command": "show", "scene": "video"})
    assert response.status_code == 200
    entry = audit.recent(1, action="screen.command")[0]
    assert (entry.who, entry.role, entry.target, entry.remote) == ("operator", "operator", "main", "127.0.0.1")
    assert entry.detail["command"] == "show" and entry.detail["scene"] == "video"
    admin = clients["admin"]
    token = csrf(admin, "/admin")
    made = admin.post("/admin/users", data={"csrf_token": token, "username": "<b>x</b>", "role": "leader"})
    assert made.status_code == 400  # not a valid user name, and never rendered as markup
    assert "<b>x</b>" not in made.get_data(as_text=True)
    made = admin.post(
        "/admin/users", data={"csrf_token": token, "username": "video-head", "role": "department", "domains": "video"}
    )
    assert made.status_code == 200
    created = audit.recent(1, action="user.create")[0]
    assert (created.who, created.target, created.detail["domains"]) == ("admin", "video-head", ["video"])
    secret = re.search(r'<code id="admin-secret">([^<]+)</code>', made.get_data(as_text=True))
    assert secret and sign_in(secured.server.test_client(), "video-head", secret.group(1)).status_code == 302
    assert admin.post("/admin/users", data={"username": "nocsrf", "role": "leader"}).status_code == 400
    assert clients["operator"].post("/admin/users", data={"csrf_token": token}).status_code == 403


def test_security_headers_on_every_response(secured: Any, clients: dict[str, FlaskClient]) -> None:
    for response in (
        clients["leader"].get("/transport"),
        clients["anonymous"].get("/login"),
        clients["leader"].get("/logout"),  # the sign-out page: a GET signs nobody out
        clients["anonymous"].get("/api/v1/kpis"),
        clients["leader"].get("/api/v1/scenes"),
        clients["anonymous"].get("/assets/theme.css"),
    ):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        assert "'sha256-" in csp["script-src"]
    # The page's inline script is the one the policy's hash allows.
    page = clients["leader"].get("/transport").get_data(as_text=True)
    assert "new DashRenderer" in page


def test_sign_out_is_a_post_with_the_csrf_token(secured: Any) -> None:
    secured.server.extensions["shanting.accounts"].create("leaving", PASSWORD, "leader", NOW)
    client = secured.server.test_client()
    assert sign_in(client, "leaving").status_code == 302
    # A GET (a link, or <img src=/logout> on another site) only offers the button.
    page = client.get("/logout")
    assert page.status_code == 200 and 'id="logout-form"' in page.get_data(as_text=True)
    assert client.get("/api/v1/kpis").status_code == 200
    refused = client.post("/logout")
    assert refused.status_code == 400 and client.get("/api/v1/kpis").status_code == 200
    other = secured.server.test_client()
    foreign = client.post("/logout", data={"csrf_token": csrf(other)})  # another session's token
    assert foreign.status_code == 400 and client.get("/api/v1/kpis").status_code == 200
    # The shell's button carries this session's token.
    button = _component(client.get("/_dash-layout").get_json(), "logout-button")
    assert button["name"] == "csrf_token" and button["type"] == "submit"
    done = client.post("/logout", data={"csrf_token": button["value"]})
    assert done.status_code == 302 and done.location == "/login"
    assert client.get("/api/v1/kpis").status_code == 401
    audit = Audit(secured.server.extensions["shanting.services"].sources.store)
    assert audit.recent(1, action="logout")[0].who == "leaving"
    # Nobody signed in: GET goes to the sign-in page, a POST with a stale token too (nothing to end).
    assert client.get("/logout").location == "/login"
    assert client.post("/logout", data={"csrf_token": "stale"}).location == "/login"


def _component(node: Any, component_id: str) -> Any:
    """The props of the component ``component_id`` in a Dash layout's JSON (None when absent)."""
    if isinstance(node, list):
        return next((f for f in (_component(n, component_id) for n in node) if f is not None), None)
    if not isinstance(node, dict):
        return None
    props = node.get("props", {})
    if props.get("id") == component_id:
        return props
    return _component(props.get("children"), component_id)


# ---- apps of their own ----------------------------------------------------------------------------------------


def test_login_brute_force_hits_the_limit(app_at_now: Any) -> None:
    app = app_at_now(auth={"trust_localhost": False, "login_limit": "3 per minute"})
    Accounts(app.server.extensions["shanting.services"].sources.store).create("leader", PASSWORD, "leader", NOW)
    client = app.server.test_client()
    codes = [sign_in(client, "leader", f"guess {i}").status_code for i in range(3)]
    assert codes == [401, 401, 401]
    assert sign_in(client, "leader", "guess 4").status_code == 429
    assert sign_in(client, "leader").status_code == 429  # even the right password, until the window passes


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_login_limit(app_at_now: Any) -> None:
    app = app_at_now(auth={"trust_localhost": False, "login_limit": "3 per minute"})
    assert app.server.wsgi_app.__class__.__name__ != "ProxyFix"
    Accounts(app.server.extensions["shanting.services"].sources.store).create("leader", PASSWORD, "leader", NOW)
    client = app.server.test_client()
    forged = [f"198.51.100.{i}" for i in range(5)]
    codes = [
        client.post(
            "/login",
            data={"csrf_token": csrf(client), "username": "leader", "password": "guess"},
            headers={"X-Forwarded-For": ip, "Forwarded": f"for={ip}"},
        ).status_code
        for ip in forged
    ]
    assert codes == [401, 401, 401, 429, 429]
    entry = Audit(app.server.extensions["shanting.services"].sources.store).recent(1, action="login.failed")[0]
    assert entry.remote == "127.0.0.1"  # the connection's address, not the header's


def test_behind_one_proxy_each_forwarded_client_has_its_own_limit_and_audit_address(app_at_now: Any) -> None:
    app = app_at_now(auth={"trust_localhost": False, "login_limit": "2 per minute"}, server={"proxy_hops": 1})
    store = app.server.extensions["shanting.services"].sources.store
    Accounts(store).create("leader", PASSWORD, "leader", NOW)
    proxy = {"environ_base": {"REMOTE_ADDR": "10.0.0.5"}}

    def attempt(client: FlaskClient, forwarded: str, password: str = "guess") -> int:
        data = {"csrf_token": csrf(client), "username": "leader", "password": password}
        headers = {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "brain.example"}
        return int(client.post("/login", data=data, headers=headers, **proxy).status_code)

    first, second = app.server.test_client(), app.server.test_client()
    assert [attempt(first, "203.0.113.1") for _ in range(3)] == [401, 401, 429]
    # The proxy appends the address it saw: only the last value counts, whatever the client put before it.
    assert attempt(first, "203.0.113.2, 203.0.113.1") == 429
    assert attempt(second, "203.0.113.2") == 401  # another client, another bucket
    entry = Audit(store).recent(1, action="login.failed")[0]
    assert entry.remote == "203.0.113.2"
    assert attempt(second, "203.0.113.2", PASSWORD) == 302
    entry = Audit(store).recent(1, action="login")[0]
    assert (entry.who, entry.remote) == ("leader", "203.0.113.2")


def test_the_proxy_user_header_needs_both_settings_and_counts_only_from_the_proxy_itself(
    app_at_now: Any, make_settings: Any
) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        make_settings(auth={"proxy_header": "X-Remote-User"})
    app = app_at_now(
        auth={"trust_localhost": False, "proxy_header": "X-Remote-User", "trusted_proxies": ["10.0.0.5"]},
        server={"proxy_hops": 1},
    )
    Accounts(app.server.extensions["shanting.services"].sources.store).create("boss", PASSWORD, "admin", NOW)
    client = app.server.test_client()
    user = {"X-Remote-User": "boss"}
    from_proxy = {"environ_base": {"REMOTE_ADDR": "10.0.0.5"}}
    assert client.get("/admin", headers=user | {"X-Forwarded-For": "203.0.113.7"}, **from_proxy).status_code == 200
    # A client that reaches the server directly cannot borrow the proxy's address through X-Forwarded-For.
    direct = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    assert client.get("/admin", headers=user | {"X-Forwarded-For": "10.0.0.5"}, **direct).status_code == 401
    # Without proxy_header the header means nothing, even from the proxy.
    plain = app_at_now(auth={"trust_localhost": False, "trusted_proxies": ["10.0.0.5"]}, server={"proxy_hops": 1})
    assert plain.server.test_client().get("/admin", headers=user, **from_proxy).status_code == 401


def test_proxy_hops_from_the_environment(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_settings().server.proxy_hops == 0
    monkeypatch.setenv("SHANTING_SERVER__PROXY_HOPS", "2")
    assert make_settings(server={"port": 8061}).server.proxy_hops == 2
    monkeypatch.setenv("SHANTING_SERVER__PROXY_HOPS", "-1")
    with pytest.raises(ConfigError, match=r"server\.proxy_hops"):
        make_settings()


def test_trusted_localhost_and_a_trusted_proxys_user_header(app_at_now: Any) -> None:
    app = app_at_now(auth={"trust_localhost": True, "proxy_header": "X-Remote-User", "trusted_proxies": ["10.0.0.5"]})
    Accounts(app.server.extensions["shanting.services"].sources.store).create(
        "head", PASSWORD, "department", NOW, domains=("video",)
    )
    client = app.server.test_client()
    assert client.get("/api/v1/kpis").status_code == 200  # 127.0.0.1 is the local developer
    # Forwarded by a proxy on this machine: not the developer any more.
    assert client.get("/api/v1/kpis", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    proxied = {"environ_base": {"REMOTE_ADDR": "10.0.0.5"}}
    assert client.get("/geo/cameras", headers={"X-Remote-User": "head"}, **proxied).status_code == 200
    assert client.get("/geo/air", headers={"X-Remote-User": "head"}, **proxied).status_code == 403
    assert client.get("/geo/cameras", headers={"X-Remote-User": "nobody"}, **proxied).status_code == 401
    # The header from anyone else is ignored.
    other = {"environ_base": {"REMOTE_ADDR": "10.0.0.6"}}
    assert client.get("/geo/cameras", headers={"X-Remote-User": "head"}, **other).status_code == 401


def test_production_refuses_a_missing_or_default_secret_and_trust_localhost(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (None, "secret", "short"):
        if key:
            monkeypatch.setenv("SHANTING_SECRET_KEY", key)
        with pytest.raises(ConfigError, match="SHANTING_SECRET_KEY"):
            make_settings(production=True, auth={"trust_localhost": False})
    monkeypatch.setenv("SHANTING_SECRET_KEY", "x" * 48)
    with pytest.raises(ConfigError, match="trust_localhost"):
        make_settings(production=True)
    assert make_settings(production=True, auth={"trust_localhost": False}).production


def test_serve_refuses_production_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from dashboard.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHANTING_PRODUCTION", "true")
    monkeypatch.delenv("SHANTING_SECRET_KEY", raising=False)
    assert main(["serve", "--no-simulator"]) == 2
    assert "SHANTING_SECRET_KEY" in capsys.readouterr().err


def test_demo_accounts_are_made_once_with_random_passwords(make_settings: Any) -> None:
    from dashboard.cli import demo_accounts
    from dashboard.sources import build_sources

    settings = make_settings()
    accounts = Accounts(build_sources(settings).store)
    first = demo_accounts(accounts, settings)
    assert {a.role for a in accounts.all()} == set(access.ROLES)
    passwords = [line.split()[-1] for line in first[1:]]
    assert len(set(passwords)) == len(passwords) and all(len(p) >= 16 for p in passwords)
    assert demo_accounts(accounts, settings) == []  # never again on a store with users
    assert accounts.verify("admin", passwords[3]) is not None


# ---- the matrix as data ----------------------------------------------------------------------------------------


def test_every_callback_component_has_a_permission(secured: Any) -> None:
    secured.server.test_client().get("/_dash-dependencies")  # Dash adds its page callback on first use
    unclassified = []
    for key, spec in secured.callback_map.items():
        names = [o.rsplit(".", 1)[0] for o in key.strip(".").split("...")]
        names += [i["id"] for i in spec["inputs"] + spec.get("state", [])]
        for name in names:
            component = json.loads(name) if name.startswith("{") else name.split("@")[0]
            if isinstance(component, dict):
                component = {k: (v if not isinstance(v, list) else "x") for k, v in component.items()}
            if access.component_permission(component) == access.UNKNOWN:
                unclassified.append(name)
    assert unclassified == []


def test_the_code_grants_what_the_tables_above_say() -> None:
    people = {
        "leader": Principal("l", "leader"),
        "transport": Principal("t", "department", domains=("transport",)),
        "operator": Principal("o", "operator"),
        "admin": Principal("a", "admin"),
        "screen": Principal("s", "screen", screen_id="main"),
    }
    for method, path, _body, allowed in ENDPOINTS:
        route, _, query = path.partition("?")
        args = dict(p.split("=") for p in query.split("&")) if query else {}
        need = access.needs(method, route, args)
        for role, who in people.items():
            assert who.may_all(need.permissions) == (role in allowed or need.kind == "public"), (role, path)


def test_head_needs_what_get_needs_and_unknown_posts_fail_closed() -> None:
    assert access.needs("HEAD", "/export/kpis.csv", {}) == access.needs("GET", "/export/kpis.csv", {})
    assert access.needs("POST", "/api/v1/new-thing", {}).permissions == (access.UNKNOWN,)
    assert not Principal("o", "operator").may(access.UNKNOWN) and Principal("a", "admin").may(access.UNKNOWN)


def test_console_commands_by_callback_only_for_operators_and_audited(
    secured: Any, clients: dict[str, FlaskClient]
) -> None:
    fields = [{"type": "scr-field", "screen": "main", "name": n} for n in ("scene", "scope")]
    button = {"type": "scr-cmd", "screen": "main", "command": "run"}  # valid in any mode
    body = {
        "output": '{"name":["ALL"],"type":"console-part"}.children',
        "outputs": [{"id": {"type": "console-part", "name": "message"}, "property": "children"}],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [
            [{"id": f, "property": "value", "value": None} for f in fields],
            [{"id": f, "property": "id", "value": f} for f in fields],
        ],
        "changedPropIds": ['{"command":"run","screen":"main","type":"scr-cmd"}.n_clicks'],
    }
    for role in ("leader", "transport", "screen"):
        assert clients[role].post("/_dash-update-component", json=body).status_code == 403, role
    assert clients["operator"].post("/_dash-update-component", json=body).status_code == 200
    entry = Audit(secured.server.extensions["shanting.services"].sources.store).recent(1, action="screen.command")[0]
    assert (entry.who, entry.target, entry.detail) == ("operator", "main", {"command": "run"})


def test_names_on_the_admin_page_are_text_not_markup(secured: Any, clients: dict[str, FlaskClient]) -> None:
    accounts = secured.server.extensions["shanting.accounts"]
    accounts.create("xss-test", PASSWORD, "leader", NOW, display_name='<script>alert("x")</script>')
    page = clients["admin"].get("/admin").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_a_department_heads_map_has_no_url_for_other_departments_layers(secured: Any) -> None:
    from flask_login import login_user

    from dashboard.scope import DISTRICT
    from dashboard.views import layer_urls

    live = secured.server.extensions["shanting.services"].live
    with secured.server.test_request_context("/transport"):
        login_user(Principal("t", "department", domains=("transport",)))
        urls = layer_urls(DISTRICT, live, "parking")
        assert urls["segments"].startswith("/geo/segments?") and urls["towns"].startswith("/geo/towns?")
        assert urls["cameras"] == urls["air"] == urls["scenic"] == ""
        assert layer_urls(DISTRICT, live, "aqi")["towns"] == ""  # the towns coloured by another domain's KPI
    with secured.server.test_request_context("/"):
        login_user(Principal("l", "leader"))
        assert all(layer_urls(DISTRICT, live, "aqi").values())


def test_the_view_key_separates_what_users_may_see(secured: Any) -> None:
    from flask_login import login_user

    from dashboard.auth import view_key

    keys = []
    for who in (Principal("a", "leader"), Principal("b", "leader"), Principal("c", "department", domains=("video",))):
        with secured.server.test_request_context("/"):
            login_user(who)
            keys.append(view_key())
    assert keys[0] == keys[1] != keys[2]


def test_a_cached_refresh_answer_is_shared_only_between_callers_with_the_same_view(
    clients: dict[str, FlaskClient],
) -> None:
    """The refresh answer cache (dashboard/callback_cache.py) keys by the caller's view: the leader's map layers
    (every domain's URL) must never be served to a transport head, whose map carries only its own."""
    from dashboard.callback_cache import HEADER

    names = ("cameras", "segments")
    body = {
        "output": '{"name":["ALL"],"type":"layer"}.url',
        "outputs": [{"id": {"type": "layer", "name": n}, "property": "url"} for n in names],
        "inputs": [
            {"id": "refresh", "property": "n_intervals", "value": 7},
            {"id": "choropleth-kpi", "property": "value", "value": "parking"},
        ],
        "state": [
            {"id": "url", "property": "search", "value": ""},
            [{"id": {"type": "layer", "name": n}, "property": "url", "value": ""} for n in names],
            [
                {"id": {"type": "layer", "name": n}, "property": "id", "value": {"type": "layer", "name": n}}
                for n in names
            ],
        ],
        "changedPropIds": ["refresh.n_intervals"],
    }
    leader = [clients["leader"].post("/_dash-update-component", json=body) for _ in range(2)]
    assert [r.status_code for r in leader] == [200, 200] and leader[1].headers[HEADER] == "hit"
    transport = clients["transport"].post("/_dash-update-component", json=body)
    assert transport.status_code == 200 and transport.headers[HEADER] == "miss"

    def cameras_url(response: Any) -> str:
        return str(response.get_json()["response"].get('{"name":"cameras","type":"layer"}', {}).get("url", ""))

    assert cameras_url(leader[0]).startswith("/geo/cameras")
    assert not cameras_url(transport).startswith("/geo/cameras")  # no URL for the video department's layer


def test_production_sends_hsts_and_secure_cookies_and_development_does_not(
    seeded_db: Path, tmp_path: Path, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.app import create_app

    monkeypatch.setenv("SHANTING_SECRET_KEY", "x" * 48)
    for production in (True, False):
        folder = tmp_path / str(production)
        folder.mkdir()
        shutil.copy(seeded_db, folder / "shanting.db")
        settings = make_settings(
            production=production, store_url=f"sqlite:///{folder / 'shanting.db'}", auth={"trust_localhost": False}
        )
        client = create_app(settings, clock=lambda: NOW).server.test_client()
        page = client.get("/login", base_url="https://dashboard.example")
        assert page.status_code == 200
        hsts = page.headers.get("Strict-Transport-Security")
        cookies = page.headers.getlist("Set-Cookie")
        if production:
            assert hsts == "max-age=31536000" and cookies and all("Secure" in c for c in cookies)
        else:
            assert hsts is None
