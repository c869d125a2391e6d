"""Freshness classification and the health snapshot over real sources."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dashboard import health
from dashboard.scope import DISTRICT as DISTRICT_SCOPE
from dashboard.settings import Settings
from dashboard.sources import build_sources
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("age", "limit", "rows", "state"),
    [
        (timedelta(minutes=1), timedelta(minutes=2), True, "fresh"),
        (timedelta(minutes=3), timedelta(minutes=2), True, "stale"),
        (None, timedelta(minutes=2), False, "empty"),
        (None, None, True, "static"),
        (timedelta(days=2), None, True, "event"),  # a quiet day has no accidents
        (None, None, False, "empty"),
    ],
)
def test_classify(age, limit, rows, state) -> None:  # type: ignore[no-untyped-def]
    last = NOW - age if age is not None else None
    assert health.classify(last, limit, NOW, rows) == state


def test_worst_state_wins() -> None:
    assert health.worst(["fresh", "stale", "static"]) == "stale"
    assert health.worst(["fresh", "failing", "stale"]) == "failing"


def settings_on(db: Path, make_settings, **extra) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(store_url=f"sqlite:///{db}", **extra)


def test_seeded_store_is_fresh_at_its_time(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = settings_on(seeded_copy, make_settings)
    snap = health.collect(build_sources(settings), settings, now=NOW)
    states = {f.feed: f.state for f in snap.feeds}
    assert snap.store_ok
    assert states["air_readings"] == "fresh" and states["towns"] == "static"
    assert states["accidents"] == "event" and states["cameras"] == "event"
    assert states["events"] == "empty"
    assert {s for f, s in states.items() if f != "events"} <= {"fresh", "static", "event"}


def test_later_the_same_store_is_stale(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = settings_on(seeded_copy, make_settings)
    snap = health.collect(build_sources(settings), settings, now=NOW + timedelta(hours=3))
    assert {f.feed: f.state for f in snap.feeds}["bus_positions"] == "stale"


def test_freshness_override_from_settings(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = settings_on(seeded_copy, make_settings, freshness_s={"bus_positions": 4 * 3600})
    snap = health.collect(build_sources(settings), settings, now=NOW + timedelta(hours=3))
    assert {f.feed: f.state for f in snap.feeds}["bus_positions"] == "fresh"


def test_a_failing_source_fails_only_its_feeds(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = settings_on(
        seeded_copy,
        make_settings,
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env", "air_stations": "env"},
    )
    snap = health.collect(build_sources(settings), settings, now=NOW)
    states = {f.feed: f for f in snap.feeds}
    assert states["air_readings"].state == "failing" and "database unreachable" in states["air_readings"].problem
    assert states["water_samples"].state == "fresh"
    assert snap.store_ok
    env = {s.name: s for s in snap.sources}["env"]
    assert not env.ok


def test_store_unreachable_is_reported(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(store_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    snap = health.collect(build_sources(settings), settings, now=NOW)
    assert not snap.store_ok and snap.as_json()["status"] == "store_unreachable"
    assert all(f.state == "failing" for f in snap.feeds)


@pytest.mark.parametrize(
    ("local_time", "age_min", "state"),
    [
        ("2026-11-29T03:00:00+08:00", 300, "idle"),  # buses do not run at night
        ("2026-11-29T03:00:00+08:00", None, "idle"),
        ("2026-11-29T12:00:00+08:00", 300, "stale"),  # by day silence is a fault
        ("2026-11-29T12:00:00+08:00", 1, "fresh"),
        ("2026-11-29T22:00:00+08:00", 1, "fresh"),  # late data is still fresh data
    ],
)
def test_silence_outside_active_hours_is_idle_not_stale(local_time: str, age_min: int | None, state: str) -> None:
    from datetime import datetime

    now = datetime.fromisoformat(local_time)
    last = now - timedelta(minutes=age_min) if age_min is not None else None
    assert health.classify(last, timedelta(minutes=2), now, last is not None, ("05:30", "21:30")) == state


def test_bad_rows_a_department_wrote_show_in_health(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    with sqlite3.connect(seeded_copy) as conn:
        conn.execute(
            "INSERT INTO air_readings (station_id, ts, pm25, averaging) VALUES ('air-01', ?, -40, '1h')",
            ((NOW - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S.000000"),),
        )
    settings = settings_on(seeded_copy, make_settings)
    sources = build_sources(settings)
    snap = health.collect(sources, settings, now=NOW)
    air = {f.feed: f for f in snap.feeds}["air_readings"]
    assert air.rejected == 1 and air.state == "fresh"
    assert air.report["sample"][0]["column"] == "pm25"
    assert "below the allowed minimum" in air.report["sample"][0]["reason"]
    as_json = snap.as_json()["feeds"]["air_readings"]
    assert as_json["rejected"] == 1
    # … and the report is kept in the store for every worker to see.
    assert sources.store.feed_status()["air_readings"]["rejected"] == 1


def test_the_apps_health_shares_the_cached_reads_and_still_reports_bad_rows(seeded_copy: Path, services_at_now) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    with sqlite3.connect(seeded_copy) as conn:
        conn.execute(
            "INSERT INTO air_readings (station_id, ts, pm25, averaging) VALUES ('air-02', ?, -1, '1h')",
            ((NOW - timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S.000000"),),
        )
    services = services_at_now()
    services.tiles(DISTRICT_SCOPE)  # the tiles read every feed once …
    reads: list[str] = []
    original = services.sources.read
    services.sources.read = lambda feed, **kw: reads.append(feed) or original(feed, **kw)  # type: ignore[method-assign]
    snap = services.health()  # … and health reads none again
    air = {f.feed: f for f in snap.feeds}["air_readings"]
    assert air.rejected == 1 and air.state == "fresh"
    assert not {"air_readings", "segment_speeds", "cameras"} & set(reads), reads
