"""Screen state in the store and over HTTP: shared by every worker, bad input named, alarms taken and released."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from dashboard import routes, screen_routes
from dashboard.events import EventBook
from dashboard.services import Services
from dashboard.settings import ConfigError, Settings
from dashboard.sources import build_sources
from dashboard.timeutil import now_utc

SCREENS: dict[str, Any] = {
    "lobby": {
        "name": "大厅",
        "playlist": [{"scene": "overview", "dwell_s": 30}, {"scene": "transport", "dwell_s": 30}],
        "alarm_severity": 3,
    },
    "wall": {"name": "拼接墙", "playlist": [{"scene": "video", "dwell_s": 30}], "alarm_severity": None},
}


def worker(settings: Settings) -> Any:
    """The HTTP routes of one server process: its own Flask app, services and cache; only the store is shared."""
    server = Flask(f"worker-{id(settings)}")
    services = Services.create(server, settings, build_sources(settings))
    routes.register(server, services)
    screen_routes.register(server, services)
    return server.test_client()


@pytest.fixture
def two_workers(make_settings):  # type: ignore[no-untyped-def]
    """Two workers on one store, as two server processes would be: nothing shared but the store."""
    settings = make_settings(screens=SCREENS)
    return worker(settings), worker(settings)


def sync(client: Any, screen: str, scene: str = "overview", scope: str = "district") -> Any:
    return client.post(f"/api/v1/screens/{screen}/sync", json={"scene": scene, "scope": scope})


def listed(client: Any) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in client.get("/api/v1/screens").get_json()["screens"]}


def test_a_command_taken_by_one_worker_is_what_a_screen_polling_another_gets(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workers
    assert sync(b, "lobby").get_json()["search"].startswith("?scene=")
    reply = a.post("/api/v1/screens/lobby/command", json={"command": "show", "scene": "tourism", "scope": "district"})
    assert reply.status_code == 200, reply.get_json()
    got = sync(b, "lobby").get_json()
    assert got["search"] == "?scene=tourism&scope=district"
    assert got["label"] == "固定"
    assert sync(b, "wall").get_json()["search"] == "?scene=video&scope=district"  # the other screen is untouched


def test_heartbeats_say_what_each_screen_shows_and_whether_it_is_online(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workers
    assert listed(a)["lobby"]["online"] is False and listed(a)["lobby"]["last_seen"] is None
    sync(b, "lobby", "transport", "district")
    screen = listed(a)["lobby"]
    assert screen["online"] is True
    assert screen["showing"] == {"scene": "transport", "scope": "district", "mode": "playlist", "alarm": None}


def test_pause_and_resume_over_http(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workers
    assert a.post("/api/v1/screens/lobby/command", json={"command": "pause"}).get_json()["mode"] == "paused"
    assert sync(b, "lobby").get_json()["label"].startswith("轮播暂停")
    again = a.post("/api/v1/screens/lobby/command", json={"command": "pause"})
    assert again.status_code == 400
    assert "only a running playlist can be paused (the screen is paused)" in again.get_json()["error"]
    assert a.post("/api/v1/screens/lobby/command", json={"command": "resume"}).get_json()["mode"] == "playlist"


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/v1/screens/nope/sync", {}, 404, "unknown screen 'nope'; known screens: lobby, wall"),
        ("/api/v1/screens/nope/command", {"command": "run"}, 404, "unknown screen 'nope'"),
        ("/api/v1/screens/lobby/sync", None, 400, "send a JSON object"),
        ("/api/v1/screens/lobby/command", {"command": "fly"}, 400, "unknown command 'fly'; known: show, pin"),
        (
            "/api/v1/screens/lobby/command",
            {"command": "show", "scene": "tv"},
            400,
            "unknown scene 'tv'; known: overview",
        ),
        ("/api/v1/screens/lobby/command", {"command": "show", "scene": "video", "scope": "town:1"}, 400, "bad scope"),
        ("/api/v1/screens/lobby/command", {"scene": "video"}, 400, "send a JSON object with command"),
    ],
)
def test_bad_requests_name_the_problem(two_workers, path: str, body: Any, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    reply = two_workers[0].post(path, json=body) if body is not None else two_workers[0].post(path, data="x")
    assert reply.status_code == status
    assert message in reply.get_json()["error"]


def test_opening_a_screen_without_a_scene_goes_to_what_it_shows_now(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_workers
    a.post("/api/v1/screens/wall/command", json={"command": "show", "scene": "environment", "scope": "district"})
    reply = a.get("/screen/wall")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/screen/wall?scene=environment&scope=district"
    assert a.get("/screen/unknown").status_code == 404  # no redirect: the Dash page says the id is unknown


def test_an_unacknowledged_severe_event_holds_the_screens_that_take_alarms_until_acknowledged(
    two_workers, make_settings
) -> None:  # type: ignore[no-untyped-def]
    _, b = two_workers
    book = EventBook(build_sources(make_settings(screens=SCREENS)).store)
    now = now_utc()
    row = {
        "event_id": "evt-test-1",
        "ts": now - timedelta(minutes=1),
        "domain": "tourism",
        "rule_id": "tourism_crowding",
        "severity": 4,
        "lon": None,
        "lat": None,
        "town_code": "370406104",
        "state": "new",
        "title": "景区客流超限",
    }
    book.raise_event(row, now)
    held = sync(b, "lobby").get_json()
    assert held["search"] == "?scene=tourism&scope=town%3A370406104&alarm=evt-test-1"
    assert held["label"] == "告警接管"
    assert "alarm" not in sync(b, "wall").get_json()["search"]  # alarm_severity none: never taken over
    book.act("evt-test-1", "acknowledge", "tester", now)
    deadline = time.monotonic() + 2  # workers look at the feeds' versions at most once a second
    while "alarm" in (released := sync(b, "lobby").get_json())["search"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "alarm" not in released["search"] and released["label"].startswith("轮播")


def test_playlists_and_screen_ids_are_checked_when_settings_load(make_settings) -> None:  # type: ignore[no-untyped-def]
    bad = {
        "x": {"name": "x", "playlist": [{"scene": "tourizm"}]},
    }
    with pytest.raises(ConfigError, match=r"screens.x.playlist.0: Value error, unknown scene 'tourizm' \(did you mean"):
        make_settings(screens=bad)
    with pytest.raises(ConfigError, match="each_town shows every 镇街 in turn; leave scope at district"):
        make_settings(
            screens={"x": {"name": "x", "playlist": [{"scene": "video", "scope": "town:370406104", "each_town": True}]}}
        )
    with pytest.raises(ConfigError, match="screen id 'Big Screen'"):
        make_settings(screens={"Big Screen": {"name": "x", "playlist": [{"scene": "video"}]}})
    with pytest.raises(ConfigError, match=r"screens\.x\.playlist: List should have at least 1 item"):
        make_settings(screens={"x": {"name": "x", "playlist": []}})
    with pytest.raises(ConfigError, match="dwell_s"):
        make_settings(screens={"x": {"name": "x", "playlist": [{"scene": "video", "dwell_s": 0.5}]}})


def test_the_screen_page_renders_its_scene_and_names_an_unknown_screen_or_scene(make_settings) -> None:  # type: ignore[no-untyped-def]
    from dash import html

    from callbacks.screens import screen_page

    settings = make_settings(screens=SCREENS)
    services = Services.create(Flask("page"), settings, build_sources(settings))
    rendered: list[tuple[str, str | None]] = []

    def render(scene: Any, scope: str | None, _query: dict[str, Any]) -> Any:
        rendered.append((scene.id, scope))
        return html.Div("scene")

    assert "unknown screen 'nope'; known screens: lobby, wall" in str(screen_page(services, render, "nope"))
    assert "unknown scene 'weather'; known scenes: overview" in str(screen_page(services, render, "lobby", "weather"))
    stage = screen_page(services, render, "lobby", "video", "town:370406104")
    assert rendered == [("video", "town:370406104")]
    assert stage.className == "screen-stage" and stage.to_plotly_json()["props"]["data-scene"] == "video"
