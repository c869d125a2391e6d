"""Big screens as pure functions: playlists, rotation, commands, heartbeats, alarm preemption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import screens
from dashboard.screens import Alarm, CommandError, Item, ScreenState, Slot

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
TOWNS = ("370406001", "370406002", "370406003")
SLOTS = (Slot("overview", "district", 10), Slot("transport", "district", 20), Slot("video", "town:370406001", 5))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alarm(event_id: str, severity: int, state: str = "new", minutes: int = 0, **kw: object) -> Alarm:
    values = {"domain": "environment", "town_code": "370406002", "title": "AQI", **kw}
    return Alarm(event_id, severity, state, ts=T0 + timedelta(minutes=minutes), **values)  # type: ignore[arg-type]


# ---- playlists ----


def test_each_town_items_become_one_slot_per_town_in_order() -> None:
    items = [Item("overview", 30), Item("environment", 12, each_town=True), Item("video", 8, "town:370406003")]
    slots = screens.expand(items, TOWNS)
    assert [(s.scene, s.scope, s.dwell_s) for s in slots] == [
        ("overview", "district", 30),
        ("environment", "town:370406001", 12),
        ("environment", "town:370406002", 12),
        ("environment", "town:370406003", 12),
        ("video", "town:370406003", 8),
    ]


def test_each_town_without_towns_shows_the_district_so_a_rotation_never_runs_empty() -> None:
    assert screens.expand([Item("environment", 12, each_town=True)], ()) == (Slot("environment", "district", 12),)


# ---- rotation ----


@pytest.mark.parametrize(
    ("elapsed", "index"),
    [(0, 0), (9.99, 0), (10, 1), (29.9, 1), (30, 2), (34.9, 2), (35, 0), (35 * 100 + 31, 2)],
)
def test_position_walks_the_dwell_times_and_wraps(elapsed: float, index: int) -> None:
    assert screens.position(SLOTS, elapsed) == index


def test_position_needs_slots() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        screens.position((), 3)


def test_a_running_playlist_advances_with_time_and_a_paused_one_does_not() -> None:
    running = ScreenState("playlist", started_at=T0)
    assert [screens.target(running, SLOTS, None, at(s)).scene for s in (1, 11, 31, 36)] == [
        "overview",
        "transport",
        "video",
        "overview",
    ]
    paused = screens.command(running, "pause", at(12), SLOTS)
    assert paused.mode == "paused" and paused.offset_s == 12
    assert {screens.target(paused, SLOTS, None, at(s)).scene for s in (12, 40, 500)} == {"transport"}


def test_resume_continues_from_where_the_rotation_was_paused() -> None:
    paused = screens.command(ScreenState("playlist", started_at=T0), "pause", at(12), SLOTS)
    resumed = screens.command(paused, "resume", at(1000), SLOTS)
    assert resumed.mode == "playlist"
    # 12 s into the cycle at the pause: 18 s more of transport (10–30 s) after resuming, then video.
    assert screens.target(resumed, SLOTS, None, at(1017)).scene == "transport"
    assert screens.target(resumed, SLOTS, None, at(1018.5)).scene == "video"


def test_target_reports_the_slot_number_of_a_rotation() -> None:
    goal = screens.target(ScreenState("playlist", started_at=T0), SLOTS, None, at(31))
    assert (goal.mode, goal.index, goal.count, goal.scope) == ("playlist", 2, 3, "town:370406001")
    assert goal.search == "?scene=video&scope=town%3A370406001"


# ---- commands ----


def test_show_pins_the_chosen_scene_and_scope_until_run_restarts_the_playlist() -> None:
    shown = screens.command(ScreenState(started_at=T0), "show", at(5), SLOTS, scene="tourism", scope="town:370406002")
    assert screens.target(shown, SLOTS, None, at(500)) == screens.Target("tourism", "town:370406002", "pinned")
    again = screens.command(shown, "run", at(600), SLOTS)
    assert (again.mode, again.started_at) == ("playlist", at(600))
    assert screens.target(again, SLOTS, None, at(601)).scene == "overview"  # from the first slot


def test_pin_keeps_what_the_screen_reports_it_shows_or_else_its_current_slot() -> None:
    state = ScreenState("playlist", started_at=T0)
    reported = screens.command(state, "pin", at(12), SLOTS, showing=("environment", "town:370406003"))
    assert (reported.mode, reported.scene, reported.scope) == ("pinned", "environment", "town:370406003")
    computed = screens.command(state, "pin", at(12), SLOTS)
    assert (computed.scene, computed.scope) == ("transport", "district")


@pytest.mark.parametrize(
    ("state", "name", "kwargs", "message"),
    [
        (ScreenState("pinned"), "pause", {}, "only a running playlist can be paused"),
        (ScreenState("playlist"), "resume", {}, "only a paused playlist can be resumed"),
        (ScreenState(), "show", {}, "show needs a scene"),
        (ScreenState(), "jump", {}, "unknown command 'jump'; known: show, pin, run, pause, resume"),
    ],
)
def test_commands_that_cannot_apply_say_why(state: ScreenState, name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        screens.command(state, name, at(1), SLOTS, **kwargs)


# ---- heartbeats ----


def test_a_screen_is_online_while_its_heartbeat_is_recent() -> None:
    assert screens.online(at(0), at(10))
    assert not screens.online(at(0), at(10.5))
    assert not screens.online(None, at(0))
    assert screens.online(at(0), at(25), limit_s=30)


# ---- alarm preemption ----


def test_the_most_severe_then_newest_unacknowledged_event_at_the_threshold_preempts() -> None:
    events = [alarm("a", 3, minutes=1), alarm("b", 4, minutes=0), alarm("c", 4, minutes=2), alarm("d", 2)]
    assert screens.preempting(events, 3).event_id == "c"  # type: ignore[union-attr]
    assert screens.preempting(events[:1] + events[3:], 3).event_id == "a"  # type: ignore[union-attr]
    assert screens.preempting(events[3:], 3) is None  # below the threshold
    assert screens.preempting(events, None) is None  # a screen that takes no alarms


def test_acknowledged_events_release_the_screen() -> None:
    assert screens.preempting([alarm("a", 4, state="acknowledged"), alarm("b", 4, state="resolved")], 1) is None


def test_an_alarm_takes_the_screen_to_its_scene_and_town_then_the_rotation_resumes() -> None:
    state = ScreenState("playlist", started_at=T0)
    held = screens.target(state, SLOTS, alarm("e1", 4), at(11))
    assert (held.scene, held.scope, held.mode, held.alarm) == ("environment", "town:370406002", "alarm", "e1")
    assert "alarm=e1" in held.search
    released = screens.target(state, SLOTS, None, at(11))
    assert (released.scene, released.mode) == ("transport", "playlist")


def test_an_alarm_without_a_town_or_scene_of_its_own_shows_the_district_overview() -> None:
    assert screens.alarm_target(alarm("s", 4, domain="system", town_code=None)) == ("overview", "district")
    assert screens.alarm_target(alarm("t", 4, domain="transport")) == ("transport", "town:370406002")


def test_an_alarm_overrides_a_pinned_screen_too() -> None:
    pinned = ScreenState("pinned", "tourism", "district")
    assert screens.target(pinned, SLOTS, alarm("v", 3, domain="video"), at(0)).scene == "video"
