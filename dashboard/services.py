"""What callbacks and routes share: settings, sources, the cache and the live reads.

Computed snapshots (health, tiles per scope) are memoised in the cache for one
refresh interval, so many screens polling at once cost one computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask_caching import Cache

from dashboard import health
from dashboard.cache import FallbackRedisCache, cache_config
from dashboard.kpis import Tile, compute_tiles
from dashboard.live import Failed, Live, Rows, cached
from dashboard.scope import Scope
from dashboard.settings import Settings
from dashboard.timeutil import now_utc
from datasources import SourceError, Sources


@dataclass(frozen=True)
class Services:
    settings: Settings
    sources: Sources
    cache: Cache
    live: Live

    @classmethod
    def create(
        cls, server: Flask, settings: Settings, sources: Sources, clock: Callable[[], datetime] = now_utc
    ) -> Services:
        config = cache_config(settings.cache_url, _ttl(settings))
        if settings.cache_url:
            config["CACHE_OPTIONS"] = {"key_prefix": settings.cache_prefix}
        cache = Cache(server, config=config)
        return cls(settings, sources, cache, Live(sources, settings, cache, clock))

    def cache_state(self) -> dict[str, object]:
        """Which cache serves now: shared (Redis) or this process alone."""
        backend = self.cache.cache
        if isinstance(backend, FallbackRedisCache):
            return {"kind": "redis", "shared": backend.shared_up}
        return {"kind": "process", "shared": False}

    def now(self) -> datetime:
        return self.live.clock()

    def health(self) -> health.Snapshot:
        """The health snapshot, computed at most once per refresh interval."""
        return self._memo("health", lambda: health.collect(self.sources, self.settings, self.now(), self._probe))

    def _probe(self, feed: str, start: datetime | None, end: datetime) -> Rows:
        """Health reads a feed through the same cached read the tiles and layers use."""
        got = self.live.rows(feed)
        if isinstance(got, Failed):
            raise SourceError(got.error)
        if got.failed:  # the screens show the last rows; health says the feed fails
            raise SourceError(got.failed)
        return got

    def tiles(self, scope: Scope) -> tuple[Tile, ...]:
        """Every KPI tile at ``scope``; each is recomputed only when its feeds changed (see ``compute_tiles``)."""
        return compute_tiles(self.live, self.settings, scope, self.now())

    def _memo(self, key: str, compute):  # type: ignore[no-untyped-def]
        """The cached value of ``key``, computing it once even when a screen's
        parallel callbacks all miss at the same moment (one lock per key)."""
        return cached(self.cache, self.live.locks, key, _ttl(self.settings), compute)


def _ttl(settings: Settings) -> int:
    # cachelib takes whole seconds; never cache longer than one refresh.
    return max(1, math.floor(settings.refresh_s))
