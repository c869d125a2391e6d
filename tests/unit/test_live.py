"""Cached live reads: one computation per expiry, even under a stampede."""

from __future__ import annotations

import threading
import time

from flask import Flask
from flask_caching import Cache

from dashboard.live import cached


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
