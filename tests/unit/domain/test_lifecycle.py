"""The lifecycle: allowed transitions, clear refusals, and a record replayed from the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.lifecycle import Entry, InvalidTransition, check, replay

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("state", "action", "to"),
    [
        ("new", "acknowledge", "acknowledged"),
        ("acknowledged", "dispatch", "dispatched"),
        ("dispatched", "dispatch", "dispatched"),
        ("dispatched", "start", "in_progress"),
        ("in_progress", "resolve", "resolved"),
        ("resolved", "close", "closed"),
        ("resolved", "reopen", "acknowledged"),
        ("new", "auto_resolve", "resolved"),
        ("in_progress", "note", "in_progress"),
    ],
)
def test_the_allowed_steps(state: str, action: str, to: str) -> None:
    detail = {"department": "水务局", "note": "到场"}
    assert check("e1", state, action, detail) == to


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        ("new", "dispatch", "cannot dispatch event e1: it is new"),
        ("new", "resolve", "cannot resolve event e1: it is new"),
        ("acknowledged", "start", "start needs dispatched"),
        ("closed", "acknowledge", "it is closed"),
        ("closed", "reopen", "reopen needs resolved"),
        ("acknowledged", "escalate", "escalate needs new"),
        ("new", "fly", "unknown action 'fly'"),
    ],
)
def test_invalid_transitions_say_why(state: str, action: str, message: str) -> None:
    with pytest.raises(InvalidTransition, match=message):
        check("e1", state, action, {"department": "x", "note": "x"})


def test_arguments_are_checked_too() -> None:
    with pytest.raises(InvalidTransition, match="needs a department"):
        check("e1", "acknowledged", "dispatch", {"department": "  "})
    with pytest.raises(InvalidTransition, match="needs some text"):
        check("e1", "new", "note", {})
    with pytest.raises(InvalidTransition, match="items 0–2"):
        check("e1", "new", "check", {"item": 3}, steps=3)
    assert check("e1", "new", "check", {"item": 2}, steps=3) == "new"


def entry(minutes: int, action: str, frm: str | None, to: str | None, who: str = "operator", **detail: object) -> Entry:
    return Entry("e1", T0 + minutes * M, who, action, frm, to, detail)


def test_the_record_is_the_replay_of_the_log() -> None:
    log = [
        entry(0, "raise", None, "new", "rules", value=160),
        entry(3, "escalate", "new", "new", "rules"),
        entry(5, "acknowledge", "new", "acknowledged", "值班员张三"),
        entry(6, "dispatch", "acknowledged", "dispatched", "值班员张三", department="生态环境分局", person="李四"),
        entry(7, "check", "dispatched", "dispatched", "李四", item=0, done=True),
        entry(8, "check", "dispatched", "dispatched", "李四", item=1, done=True),
        entry(9, "check", "dispatched", "dispatched", "李四", item=1, done=False),
        entry(10, "start", "dispatched", "in_progress", "李四"),
        entry(12, "note", "in_progress", "in_progress", "李四", note="已到场"),
        entry(40, "resolve", "in_progress", "resolved", "局长"),
    ]
    rec = replay("e1", log)
    assert rec.state == "resolved"
    assert rec.raised_at == T0 and rec.escalations == 1
    assert (rec.department, rec.person) == ("生态环境分局", "李四")
    assert rec.checked == frozenset({0})
    assert rec.notes == ((T0 + 12 * M, "李四", "已到场"),)
    assert rec.time_to("acknowledged") == 5 * M and rec.time_to("resolved") == 40 * M
    assert rec.time_to("closed") is None
    assert rec.who["resolved"] == "局长" and rec.who["acknowledged"] == "值班员张三"
    assert len(rec.entries) == len(log)


def test_an_untouched_event_is_new() -> None:
    rec = replay("e9", [])
    assert rec.state == "new" and rec.raised_at is None and rec.time_to("acknowledged") is None
