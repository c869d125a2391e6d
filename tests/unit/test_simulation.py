"""Seeding and the live tick: bounded, idempotent, gap-filling."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd

from dashboard import simulation
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.synthetic import SyntheticDistrict
from tests.conftest import NOW

H = timedelta(hours=1)


def test_gap_never_reaches_past_the_history_policy() -> None:
    # No bus row at all (a night start): fill 2 h of GPS, not 30 days of it.
    start, step = simulation._gap("bus_positions", None, NOW, timedelta(days=30))
    assert NOW - start == 2 * H and step is None
    # Road speeds after a week off: the week, at the hourly history step.
    start, step = simulation._gap("segment_speeds", NOW - 7 * 24 * H, NOW, timedelta(days=30))
    assert NOW - start == 7 * 24 * H and step == H
    # A short pause: native cadence from the newest stored row.
    start, step = simulation._gap("air_readings", NOW - 3 * H, NOW, timedelta(days=30))
    assert start == NOW - 3 * H and step is None


def test_seed_plan_covers_history_without_overlap() -> None:
    plan = simulation.seed_plan(SyntheticDistrict(), NOW, days=3)
    speeds = [c for c in plan if c.feed == "segment_speeds"]
    hourly = [c for c in speeds if c.step == H]
    native = [c for c in speeds if c.step is None]
    assert hourly[0].start == NOW - 3 * 24 * H and hourly[-1].end == NOW - 24 * H
    assert native[0].start == NOW - 24 * H and native[-1].end == NOW
    buses = [c for c in plan if c.feed == "bus_positions"]
    assert buses[0].start == NOW - 2 * H


def test_tick_extends_the_seeded_store_and_is_idempotent(seeded_copy: Path) -> None:
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    district = SyntheticDistrict()
    later = NOW + timedelta(minutes=10)
    before = store.count("bus_positions")
    first = simulation.tick(store, district, later, timedelta(days=3))
    assert first["bus_positions"] > 0 and store.latest("bus_positions") <= later
    assert store.latest("segment_speeds") == later - (later - NOW) % timedelta(minutes=5)
    after = store.count("bus_positions")
    assert after > before
    again = simulation.tick(store, district, later, timedelta(days=3))
    assert again.get("bus_positions", 0) == 0 and store.count("bus_positions") == after


def test_retention_prunes_old_bus_positions(seeded_copy: Path) -> None:
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    simulation.tick(store, SyntheticDistrict(), NOW + 7 * H, timedelta(days=3))
    oldest = store.read("bus_positions").frame["ts"].min()
    assert oldest >= NOW + 7 * H - simulation.RETENTION["bus_positions"]


def test_the_live_loop_raises_aqi_episode_events_once(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    rules = simulation.environment_rules(store, make_settings())
    later = NOW + timedelta(hours=2)
    simulation.tick(store, SyntheticDistrict(), later, timedelta(days=3), rules)
    events = store.read("events").frame
    assert len(events) > 0 and set(events["rule_id"]) == {"aqi_episode"}
    assert events["event_id"].is_unique
    # No new readings: the rule does not run again; rerunning it anyway changes nothing.
    assert simulation.tick(store, SyntheticDistrict(), later, timedelta(days=3), rules)["events"] == 0
    assert len(store.read("events").frame) == len(events)


def test_tick_keeps_today_s_camera_status_current_and_closes_the_day(seeded_copy: Path) -> None:
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    district = SyntheticDistrict()
    assert store.latest("camera_status_daily") == NOW  # the seed wrote today's figures as of NOW
    days = store.read("camera_status_daily", start=NOW - timedelta(days=4), end=NOW).frame
    assert days["date"].nunique() == 4 and len(days) == 4 * 268  # 3 closed days and today
    later = NOW + 2 * H + timedelta(minutes=7)
    simulation.tick(store, district, later, timedelta(days=3))
    assert store.latest("camera_status_daily") == later - timedelta(minutes=7) + timedelta(minutes=5)
    assert store.count("camera_status_daily") == 4 * 268  # today's rows updated, not added
    # Past local midnight (16:00 UTC) yesterday's rows are closed at midnight and today's begin.
    night = NOW + 12 * H + timedelta(minutes=6)
    simulation.tick(store, district, night, timedelta(days=3))
    rows = store.read("camera_status_daily", start=NOW, end=night).frame
    assert sorted(str(d) for d in rows["date"].unique()) == ["2026-11-29", "2026-11-30"]
    closed = rows.loc[rows["date"].astype(str) == "2026-11-29", "ts"]
    assert (closed == pd.Timestamp(NOW + 12 * H)).all() and len(closed) == 268
