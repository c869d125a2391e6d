"""The shared cache on the real Redis: workers share results; Redis away and back."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
import redis

from dashboard.cache import FallbackRedisCache
from dashboard.scope import DISTRICT
from tests.conftest import REDIS_URL
from tests.proxy import TcpProxy

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def counting(services):  # type: ignore[no-untyped-def]
    """The services' Live, with a count of the reads that reach the sources."""
    reads: Counter[str] = Counter()
    real = services.sources.read

    def read(feed, **kw):  # type: ignore[no-untyped-def]
        reads[feed] += 1
        return real(feed, **kw)

    services.sources.read = read
    return reads


def test_two_workers_share_one_read_and_one_tile_through_redis(services_at_now, redis_prefix) -> None:  # type: ignore[no-untyped-def]
    first = services_at_now(cache_url=REDIS_URL, cache_prefix=redis_prefix)
    second = services_at_now(cache_url=REDIS_URL, cache_prefix=redis_prefix)  # another process, in effect
    assert first.cache_state() == {"kind": "redis", "shared": True}
    reads_1, reads_2 = counting(first), counting(second)
    tiles = {t.spec.id: t for t in first.tiles(DISTRICT)}
    again = {t.spec.id: t for t in second.tiles(DISTRICT)}
    assert again == tiles
    assert sum(reads_1.values()) > 0 and sum(reads_2.values()) == 0  # the second worker read nothing itself
    assert redis.Redis.from_url(REDIS_URL).keys(redis_prefix + "tile:*")


def test_redis_away_falls_back_per_process_and_recovers(redis_prefix, caplog) -> None:  # type: ignore[no-untyped-def]
    proxy = TcpProxy(redis_address()).start()
    clock = Clock()
    cache = FallbackRedisCache(f"redis://127.0.0.1:{proxy.port}/0", key_prefix=redis_prefix, retry_s=5, clock=clock)
    direct = redis.Redis.from_url(REDIS_URL)
    try:
        assert cache.set("k", "shared") and cache.get("k") == "shared" and cache.shared_up
        assert direct.exists(redis_prefix + "k")
        proxy.cut()
        with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
            assert cache.get("k") is None  # not an exception: a miss, served by the local stand-in
            assert cache.set("k", "alone") and cache.get("k") == "alone"
            assert not cache.shared_up
        assert sum("unreachable" in r.message for r in caplog.records) == 1  # said once, not per call
        proxy.restore()
        assert cache.get("k") == "alone"  # not retried before retry_s …
        clock.t += 5
        assert cache.get("k") == "shared"  # … then back on Redis, with what it held
        assert cache.shared_up and any("is back" in r.message for r in caplog.records)
    finally:
        proxy.cut()
        direct.close()


def test_healthz_reports_the_shared_cache_and_its_fallback(app_at_now, redis_prefix) -> None:  # type: ignore[no-untyped-def]
    proxy = TcpProxy(redis_address()).start()
    try:
        app = app_at_now(cache_url=f"redis://127.0.0.1:{proxy.port}/0", cache_prefix=redis_prefix)
        client = app.server.test_client()
        assert client.get("/healthz").get_json()["cache"] == {"kind": "redis", "shared": True}
        proxy.cut()
        body = client.get("/healthz").get_json()  # the page keeps working on the per-process stand-in
        assert body["status"] == "ok" and body["cache"] == {"kind": "redis", "shared": False}
    finally:
        proxy.cut()


def redis_address() -> tuple[str, int]:
    parsed = redis.connection.parse_url(REDIS_URL)
    return parsed.get("host", "127.0.0.1"), int(parsed.get("port", 6379))
