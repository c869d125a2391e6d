"""Tail reads of append-only series feeds: after any change, exactly the rows and report of a whole read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from flask import Flask
from flask_caching import Cache
from sqlalchemy import text

from dashboard.live import Live, Rows
from tests.conftest import NOW

FEED = "air_readings"  # window 31 days, key (station_id, ts): append-only
H = timedelta(hours=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def district(services_at_now):  # type: ignore[no-untyped-def]
    """(store, live with a movable clock) over a private copy of the seeded district."""
    services = services_at_now()
    clock = Clock(NOW)
    return services.sources.store, Live(services.sources, services.settings, services.cache, clock), clock


def look(live: Live) -> Rows:
    """The feed as a screen reads it at the next look at the versions."""
    live.cache.delete("live-versions")
    got = live.rows(FEED)
    assert isinstance(got, Rows)
    return got


def whole(live: Live) -> Rows:
    """The same feed read whole, by a process that holds nothing (its own cache, no base)."""
    fresh = Cache(Flask("whole"), config={"CACHE_TYPE": "SimpleCache"})
    got = Live(live.sources, live.settings, fresh, live.clock).rows(FEED)
    assert isinstance(got, Rows)
    return got


def same(live: Live) -> Rows:
    got, full = look(live), whole(live)
    pd.testing.assert_frame_equal(got.frame, full.frame)
    assert got.report is not None and full.report is not None
    assert got.report.as_dict() == full.report.as_dict() and got.produced_at == full.produced_at
    return got


def readings(at: datetime, stations: list[str], pm25: float = 30.0) -> pd.DataFrame:
    return pd.DataFrame([{"station_id": s, "ts": at, "pm25": pm25, "averaging": "1h"} for s in stations])


def stations(live: Live) -> list[str]:
    return sorted(look(live).frame["station_id"].unique())


def test_appended_rows_are_read_alone_and_give_the_whole_window(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    assert live.reads["full"] >= 1 and live.reads["tail"] == 0
    for hour in (1, 2, 3):
        clock.now = NOW + hour * H
        store.write(FEED, readings(clock.now, ids), now=clock.now)
        got = same(live)
        assert got.frame["ts"].max() == pd.Timestamp(clock.now)
    assert live.reads["tail"] == 3  # the three appends were tail reads …
    assert live.reads["full"] == 1  # … after the one whole read


def test_the_window_slides_on_a_tail_read(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    clock.now = NOW + 30 * H  # more than a day later: the oldest day leaves the 31-day window
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    got = same(live)
    assert live.reads["tail"] == 1 and got.frame["ts"].min() > pd.Timestamp(clock.now - timedelta(days=31))


def test_an_update_of_an_older_row_is_read_whole(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    clock.now = NOW + H
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    store.write(FEED, readings(NOW - 5 * H, ids[:1], pm25=499.0), now=clock.now)  # a corrected reading
    got = same(live)
    assert live.reads["tail"] == 0 and 499.0 in got.frame["pm25"].tolist()


def test_a_delete_inside_the_window_is_read_whole(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    clock.now = NOW + H
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    look(live)
    assert live.reads["tail"] == 1
    store.prune(FEED, NOW - 2 * H)  # retention reaching into the window: rows go, nothing is written
    got = same(live)
    assert live.reads["tail"] == 1 and got.frame["ts"].min() >= pd.Timestamp(NOW - 2 * H)


def test_a_late_row_stamped_before_the_last_read_is_read_whole(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    late = NOW - timedelta(minutes=30)  # between two hourly readings, already inside what was read
    clock.now = NOW + H
    store.write(FEED, pd.concat([readings(clock.now, ids), readings(late, ids[:1])]), now=clock.now)
    got = same(live)
    assert live.reads["tail"] == 0 and pd.Timestamp(late) in set(got.frame["ts"])


def test_rows_written_behind_the_stores_back_are_read_whole(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    clock.now = NOW + H
    with store.engine.begin() as conn:  # a department writing straight into the table, uncounted …
        conn.execute(
            text("INSERT INTO air_readings (station_id, ts, pm25, averaging) VALUES (:s, :ts, 41.0, '1h')"),
            {"s": ids[0], "ts": (clock.now - timedelta(minutes=10)).replace(tzinfo=None)},
        )
    store.write(FEED, readings(clock.now, ids), now=clock.now)  # … then the store appending as usual
    got = same(live)
    assert live.reads["tail"] == 0 and 41.0 in got.frame["pm25"].tolist()


def test_a_rejected_row_in_an_appended_batch_is_reported_as_a_whole_read_reports_it(district, services_at_now) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    ids = stations(live)
    clock.now = NOW + H
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    with store.engine.begin() as conn:  # a bad row beside the batch, counted as written (as a trigger would)
        conn.execute(
            text("INSERT INTO air_readings (station_id, ts, pm25, averaging) VALUES (:s, :ts, 1e9, '1h')"),
            {"s": ids[0], "ts": (clock.now - timedelta(minutes=5)).replace(tzinfo=None)},
        )
        conn.execute(text("UPDATE feed_status SET rows_written = rows_written + 1 WHERE feed = 'air_readings'"))
    got = same(live)
    assert live.reads["tail"] == 1
    assert got.report is not None and got.report.rejected == 1
    assert "above the allowed maximum" in got.report.sample[0].reason
    # The base now holds a rejection: the next change is read whole, so the rejection stays reported.
    clock.now = NOW + 2 * H
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    again = same(live)
    assert live.reads["tail"] == 1 and again.report is not None and again.report.rejected == 1


def test_health_reports_a_rejection_found_by_a_tail_read(district) -> None:  # type: ignore[no-untyped-def]
    from dashboard.services import Services

    store, live, clock = district
    services = Services(live.settings, live.sources, live.cache, live)
    ids = stations(live)
    clock.now = NOW + H
    store.write(FEED, readings(clock.now, ids), now=clock.now)
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO air_readings (station_id, ts, pm25, averaging) VALUES (:s, :ts, 1e9, '1h')"),
            {"s": ids[0], "ts": (clock.now - timedelta(minutes=5)).replace(tzinfo=None)},
        )
        conn.execute(text("UPDATE feed_status SET rows_written = rows_written + 1 WHERE feed = 'air_readings'"))
    services.cache.clear()  # the next interval
    air = {f.feed: f for f in services.health().feeds}[FEED]
    assert live.reads["tail"] == 1 and air.rejected == 1
    assert air.report is not None and "above the allowed maximum" in air.report["sample"][0]["reason"]


def cameras(live: Live) -> Rows:
    live.cache.delete("live-versions")
    got = live.rows("cameras")
    assert isinstance(got, Rows)
    fresh = Cache(Flask("whole"), config={"CACHE_TYPE": "SimpleCache"})
    full = Live(live.sources, live.settings, fresh, live.clock).rows("cameras")
    assert isinstance(full, Rows) and got.report is not None and full.report is not None
    pd.testing.assert_frame_equal(got.frame, full.frame)
    assert got.report.as_dict() == full.report.as_dict() and got.produced_at == full.produced_at
    return got


def test_changed_cameras_replace_their_rows_on_a_tail_read(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    held = cameras(live).frame
    clock.now = NOW + H
    changed = held.head(5)[list(store_columns("cameras"))].assign(
        status="offline", status_since=pd.Timestamp(NOW + H / 2)
    )
    store.write("cameras", changed, now=clock.now)
    got = cameras(live)
    assert live.reads["tail"] == 1 and len(got.frame) == len(held)
    assert (got.frame.set_index("camera_id").loc[changed["camera_id"], "status"] == "offline").all()


def test_a_camera_whose_time_went_back_is_read_whole(district) -> None:  # type: ignore[no-untyped-def]
    store, live, clock = district
    held = cameras(live).frame
    clock.now = NOW + H
    newest = held.sort_values("status_since").iloc[[-1]][list(store_columns("cameras"))]
    store.write("cameras", newest.assign(status="fault", status_since=pd.Timestamp(NOW - 48 * H)), now=clock.now)
    got = cameras(live)
    assert live.reads["tail"] == 0 and "fault" in set(got.frame["status"])


def store_columns(feed: str) -> tuple[str, ...]:
    from datasources.contracts import contract

    return contract(feed).names
