"""Cached live reads: one computation per expiry, even under a stampede."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pandas as pd
from flask import Flask
from flask_caching import Cache

from dashboard.live import REFERENCE_TTL, Failed, Live, Rows, cached
from datasources import SourceError
from tests.conftest import NOW


def test_parallel_misses_compute_once() -> None:
    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})
    locks: dict[str, threading.Lock] = {}
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "snapshot"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cached(cache, locks, "k", 5, slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["snapshot"] * 8 and len(calls) == 1


def test_tile_refresh_is_compressed(app_at_now) -> None:  # type: ignore[no-untyped-def]
    client = app_at_now().server.test_client()
    resp = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers.get("Content-Encoding") in ("gzip", "br", "zstd")


class CountingReads:
    """Wraps the app's Sources and counts the reads per feed."""

    def __init__(self, sources):  # type: ignore[no-untyped-def]
        self.inner, self.reads = sources, Counter()

    def read(self, feed, **kw):  # type: ignore[no-untyped-def]
        self.reads[feed] += 1
        return self.inner.read(feed, **kw)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def _counting(services):  # type: ignore[no-untyped-def]
    counting = CountingReads(services.sources)
    live = Live(counting, services.settings, services.cache, services.live.clock)  # type: ignore[arg-type]
    return counting, live


def test_an_unchanged_feed_is_read_once_across_intervals(services_at_now) -> None:  # type: ignore[no-untyped-def]
    counting, live = _counting(services_at_now())
    first = live.rows("air_readings")
    live.cache.delete("live-versions")  # the next interval looks at the versions again …
    again = live.rows("air_readings")
    assert counting.reads["air_readings"] == 1  # … and finds nothing changed
    assert isinstance(first, Rows) and isinstance(again, Rows) and first.frame.equals(again.frame)


def test_a_write_is_seen_at_the_next_look_at_the_versions(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    counting, live = _counting(services)
    before = live.rows("air_readings")
    assert isinstance(before, Rows)
    newest = before.frame.sort_values("ts").iloc[-1]
    services.sources.store.write(
        "air_readings",
        pd.DataFrame([{"station_id": newest["station_id"], "ts": newest["ts"], "pm25": 499.0, "averaging": "1h"}]),
        now=NOW,
    )
    live.cache.delete("live-versions")
    after = live.rows("air_readings")
    assert counting.reads["air_readings"] == 2
    assert isinstance(after, Rows) and 499.0 in after.frame["pm25"].tolist()


def test_a_feed_without_versions_is_read_again_every_interval(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now(sources={"store": {"kind": "sql", "track_versions": False}})
    counting, live = _counting(services)
    live.rows("air_readings")
    assert live.key("air_readings") == ("live:air_readings", live.ttl)
    live.cache.clear()  # what one refresh interval's expiry does
    live.rows("air_readings")
    assert counting.reads["air_readings"] == 2


def test_a_failed_read_is_retried_after_one_interval_even_under_a_version(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    live = services.live
    key, ttl = live.key("air_readings")
    assert ttl == REFERENCE_TTL and "@" in key
    recorded: list[int] = []
    real_set = live.cache.set
    live.cache.set = lambda k, v, timeout=None: recorded.append(timeout) or real_set(k, v, timeout=timeout)  # type: ignore[method-assign]
    try:
        services.sources.read = lambda feed, **kw: (_ for _ in ()).throw(SourceError("down"))  # type: ignore[method-assign]
        got = live.rows("air_readings")
    finally:
        del live.cache.set
    assert isinstance(got, Failed) and recorded[-1] == live.ttl


def test_a_source_that_fails_after_delivering_keeps_its_last_rows_marked(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dashboard.scope import DISTRICT

    services = services_at_now()
    live = services.live
    before = live.rows("air_readings")
    tile = {t.spec.id: t for t in services.tiles(DISTRICT)}["aqi"]
    assert isinstance(before, Rows) and before.failed is None and tile.value is not None

    def down(feed, **kw):  # type: ignore[no-untyped-def]
        raise SourceError("store: database unreachable: connection refused")

    monkeypatch.setattr(live.sources, "read", down)
    services.cache.clear()  # the next interval: every read is tried again
    got = live.rows("air_readings")
    assert isinstance(got, Rows) and "connection refused" in (got.failed or "")
    pd.testing.assert_frame_equal(got.frame, before.frame)
    kept = {t.spec.id: t for t in services.tiles(DISTRICT)}["aqi"]
    assert kept.value == tile.value and "connection refused" in (kept.degraded or "") and kept.failing is None
    air = {f.feed: f for f in services.health().feeds}["air_readings"]
    assert air.state == "failing" and "connection refused" in (air.problem or "")
    # A process that never read the feed has nothing to fall back to: the tile says 数据源异常 alone.
    services.cache.clear()
    assert isinstance(Live(live.sources, live.settings, live.cache, live.clock).rows("air_readings"), Failed)
    # The source comes back: fresh rows, unmarked, with no restart.
    monkeypatch.undo()
    services.cache.clear()
    back = live.rows("air_readings")
    assert isinstance(back, Rows) and back.failed is None
    assert {t.spec.id: t for t in services.tiles(DISTRICT)}["aqi"].degraded is None


def test_a_hit_takes_this_processs_rows_without_unpickling_and_follows_the_shared_cache() -> None:
    from dashboard.live import cached_here

    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})  # pickles values, as Redis does
    locks: dict[str, threading.Lock] = {}
    here: dict[str, tuple[str, object]] = {}
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [len(calls)]})

    first = cached_here(cache, locks, here, "live:f@1", 60, compute, lock="live:f")
    assert cached_here(cache, locks, here, "live:f@1", 60, compute, lock="live:f") is first  # no copy
    # Another process (an empty ``here``) finds the same rows in the shared cache, computed once.
    other = cached_here(cache, locks, {}, "live:f@1", 60, compute, lock="live:f")
    assert other is not first and other.equals(first) and len(calls) == 1
    # The shared entry goes (expiry, a cleared cache): this process recomputes too, however fresh its copy.
    cache.clear()
    again = cached_here(cache, locks, here, "live:f@1", 60, compute, lock="live:f")
    assert len(calls) == 2 and again["x"].tolist() == [2]
    # Another process replaced the entry: this one takes the new value, not its own older one.
    cached_here(cache, locks, {}, "live:f@2", 60, compute, lock="live:f")
    assert cached_here(cache, locks, here, "live:f@2", 60, compute, lock="live:f")["x"].tolist() == [3]


def test_a_rolled_over_period_answers_the_last_value_and_renews_it_aside() -> None:
    from dashboard.live import renewed

    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})
    locks: dict[str, threading.Lock] = {}
    release = threading.Event()
    calls: list[str] = []

    def compute(value: str, wait: bool = False):  # type: ignore[no-untyped-def]
        def run() -> str:
            calls.append(value)
            if wait:
                release.wait(5)
            return value

        return run

    # No prior value over this data: the request waits for the computation.
    assert renewed(cache, locks, "t:v1:1", "t:v1", 60, compute("bucket 1"), lock="t") == "bucket 1"
    # The next period over the same data: the last value at once, the new one computed in the background …
    started = time.monotonic()
    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, compute("bucket 2", wait=True), lock="t") == "bucket 1"
    assert time.monotonic() - started < 1
    # … once only, however many ask meanwhile …
    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, compute("again"), lock="t") == "bucket 1"
    release.set()
    poll = time.monotonic() + 5
    while cache.get("t:v1:2") is None and time.monotonic() < poll:
        time.sleep(0.01)
    assert calls == ["bucket 1", "bucket 2"]
    # … and then answered from the cache.
    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, compute("never"), lock="t") == "bucket 2"
    # New data (another prior key): computed while the request waits, never the old data's value.
    assert renewed(cache, locks, "t:v2:2", "t:v2", 60, compute("new data"), lock="t") == "new data"


def test_a_failed_value_is_never_answered_as_the_last_value() -> None:
    from dashboard.live import renewed

    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})
    locks: dict[str, threading.Lock] = {}

    def short(value: str) -> int | bool:
        return value == "failed" and 5

    assert renewed(cache, locks, "t:v1:1", "t:v1", 60, lambda: "failed", short, lock="t") == "failed"
    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, lambda: "ok", short, lock="t") == "ok"  # not "failed"


def test_a_renewal_that_raises_is_logged_and_tried_again_at_the_next_miss(caplog) -> None:  # type: ignore[no-untyped-def]
    from dashboard.live import renewed

    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})
    locks: dict[str, threading.Lock] = {}
    renewed(cache, locks, "t:v1:1", "t:v1", 60, lambda: "one", lock="t")

    def boom() -> str:
        raise RuntimeError("broken")

    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, boom, lock="t") == "one"
    poll = time.monotonic() + 5
    while locks["t"].locked() and time.monotonic() < poll:
        time.sleep(0.01)
    assert not locks["t"].locked(), "the renewal let go of its lock"
    assert "renewing t:v1:2 failed" in caplog.text
    assert renewed(cache, locks, "t:v1:2", "t:v1", 60, lambda: "two", lock="t") == "one"
    poll = time.monotonic() + 5
    while cache.get("t:v1:2") is None and time.monotonic() < poll:
        time.sleep(0.01)
    assert cache.get("t:v1:2") == "two"


def test_without_a_prior_key_every_period_is_computed_in_the_request() -> None:
    from dashboard.live import renewed

    cache = Cache(Flask("t"), config={"CACHE_TYPE": "SimpleCache"})
    locks: dict[str, threading.Lock] = {}
    # Data without versions: an unchanged key says nothing about the data, so no older value is ever answered.
    assert renewed(cache, locks, "t:None:1", None, 60, lambda: "one", lock="t") == "one"
    assert renewed(cache, locks, "t:None:2", None, 60, lambda: "two", lock="t") == "two"
    assert renewed(cache, locks, "t:None:2", None, 60, lambda: "never", lock="t") == "two"


def test_areas_tag_points_with_their_town_and_nearest_village_and_keep_their_index(services_at_now) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import shapely

    from dashboard.areas import Areas

    towns = pd.DataFrame(
        {
            "town_code": ["A", "B"],
            "name": ["甲", "乙"],
            "geometry": [shapely.box(117.0, 35.0, 117.1, 35.1), shapely.box(117.1, 35.0, 117.2, 35.1)],
        }
    )
    villages = pd.DataFrame(
        {
            "village_code": ["A1", "A2", "B1"],
            "town_code": ["A", "A", "B"],
            "name": ["a1", "a2", "b1"],
            "lon": [117.02, 117.08, 117.15],
            "lat": [35.05, 35.05, 35.05],
            "population": [1, 1, 1],
        }
    )
    areas = Areas(towns, villages)
    lon = np.array([117.01, 117.07, 117.19, 117.5, 117.05])
    lat = np.array([35.02, 35.09, 35.01, 35.05, 35.1])  # the last on town A's edge: inside none
    got_towns, got_villages = areas.assign(lon, lat)
    assert got_towns.tolist() == ["A", "A", "B", "", ""]
    assert got_villages.tolist() == ["A1", "A2", "B1", "", ""]
    assert shapely.is_prepared(towns["geometry"]).tolist() == [False, False]  # the shared frame's own are untouched

    live = services_at_now().live
    first = live.areas()
    assert live.areas() is first  # the same rows: the same Areas, its index built once
