"""The events page as functions: filters, statistics, the page of one event and its actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from callbacks.events import book_of, page, perform
from dashboard.domain.lifecycle import Entry, replay
from dashboard.events_view import Filters, filter_events, fmt_duration, statistics
from tests.conftest import NOW

M = timedelta(minutes=1)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": ["a", "b", "c", "d"],
            "ts": pd.to_datetime([NOW - 2 * M, NOW - 60 * M, NOW - 30 * 60 * M, NOW - 10 * 24 * 60 * M], utc=True),
            "domain": ["environment", "tourism", "environment", "video"],
            "rule_id": ["aqi_over_150", "crowding_warning", "aqi_over_150", "camera_working_rate"],
            "severity": [2, 3, 1, 1],
            "town_code": ["370406001", "370406002", "370406001", None],
            "state": ["new", "resolved", "dispatched", "new"],
            "title": ["A", "B", "C", "D"],
        }
    )


def test_filters_combine_and_open_severe_events_come_first() -> None:
    events = frame()
    assert filter_events(events, Filters(), NOW)["event_id"].tolist() == ["a", "c", "b"]  # d is older than 7 days
    assert filter_events(events, Filters(since="24h"), NOW)["event_id"].tolist() == ["a", "b"]
    assert filter_events(events, Filters(domains=("environment",), states=("dispatched",)), NOW)[
        "event_id"
    ].tolist() == ["c"]
    assert filter_events(events, Filters(severities=(3,)), NOW)["event_id"].tolist() == ["b"]
    assert filter_events(events, Filters(town="370406001"), NOW)["event_id"].tolist() == ["a", "c"]


def entry(eid: str, minutes: int, action: str, to: str, **detail: object) -> Entry:
    return Entry(eid, NOW + minutes * M, "x", action, None, to, detail)


def test_statistics_count_and_time_by_department() -> None:
    events = frame().head(3)
    records = {
        "a": replay("a", [entry("a", 0, "raise", "new"), entry("a", 20, "escalate", "new")]),
        "b": replay(
            "b",
            [
                entry("b", 0, "raise", "new"),
                entry("b", 4, "acknowledge", "acknowledged"),
                entry("b", 30, "resolve", "resolved"),
            ],
        ),
        "c": replay(
            "c",
            [
                entry("c", 0, "raise", "new"),
                entry("c", 10, "acknowledge", "acknowledged"),
                entry("c", 11, "dispatch", "dispatched", department="水务局"),
            ],
        ),
    }
    departments = {"aqi_over_150": "生态环境分局", "crowding_warning": "文化和旅游局"}
    s = statistics(events, records, departments)
    assert (s.count, s.open, s.escalated) == (3, 2, 1)
    assert s.mean_acknowledge == 7 * M and s.mean_resolve == 30 * M
    by = {d.department: d for d in s.by_department}
    assert set(by) == {"生态环境分局", "文化和旅游局", "水务局"}  # c went to the department it was dispatched to
    assert (by["文化和旅游局"].resolved, by["文化和旅游局"].mean_resolve) == (1, 30 * M)
    assert fmt_duration(75 * M, "zh-CN") == "1小时15分" and fmt_duration(5 * M, "en") == "5 min"


def test_the_event_page_and_its_actions(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    book = book_of(services)
    when = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    book.raise_event(
        {
            "event_id": "reservoir_over_flood_limit-res-1-202611291100",
            "ts": when,
            "domain": "environment",
            "rule_id": "reservoir_over_flood_limit",
            "severity": 3,
            "lon": 117.375,
            "lat": 35.212,
            "town_code": None,
            "state": "new",
            "title": "岩马水库 水库水位超汛限（0.3m）",
        },
        when,
        subject="res-1",
        condition="reservoir_over_flood_limit > 0",
        samples=[[when.isoformat(), 0.3]],
    )
    eid = "reservoir_over_flood_limit-res-1-202611291100"
    with services.cache.app.test_request_context():
        shown = str(page(services, "zh-CN", eid))
        assert "evt-marker" in shown and "0.3m" in shown and "reservoir_over_flood_limit > 0" in shown
        assert "找不到该事件" in str(page(services, "zh-CN", "nope"))
    message, ok = perform(book, eid, {"type": "evt-action", "action": "resolve"}, "值班员", None, "", "", NOW)
    assert not ok and "cannot resolve" in message
    assert perform(book, eid, {"type": "evt-action", "action": "acknowledge"}, "值班员", None, "", "", NOW)[1]
    assert perform(book, eid, {"type": "evt-action", "action": "dispatch"}, "值班员", "水务局", "王五", "", NOW)[1]
    assert perform(book, eid, {"type": "evt-check", "item": 1}, "王五", None, "", "", NOW)[1]
    assert perform(book, eid, {"type": "evt-check", "item": 1}, "王五", None, "", "", NOW)[1]  # untick
    assert perform(book, eid, {"type": "evt-action", "action": "start"}, "王五", None, "", "", NOW)[1]
    assert perform(book, eid, {"type": "evt-action", "action": "resolve"}, "局长", None, "", "已泄洪", NOW + M)[1]
    rec = book.record(eid)
    assert rec.state == "resolved" and rec.department == "水务局" and rec.person == "王五"
    assert rec.checked == frozenset() and rec.notes[-1][2] == "已泄洪" and rec.who["resolved"] == "局长"
