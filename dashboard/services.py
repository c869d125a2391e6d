"""What callbacks and routes share: settings, sources, and a cache of snapshots.

Computed snapshots (health now; KPIs later) are memoised in the cache for one
refresh interval, so many screens polling at once cost one computation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Flask
from flask_caching import Cache

from dashboard import health
from dashboard.settings import Settings
from datasources import Sources


@dataclass(frozen=True)
class Services:
    settings: Settings
    sources: Sources
    cache: Cache

    @classmethod
    def create(cls, server: Flask, settings: Settings, sources: Sources) -> Services:
        cache = Cache(server, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": _ttl(settings)})
        return cls(settings, sources, cache)

    def health(self) -> health.Snapshot:
        """The health snapshot, computed at most once per refresh interval."""
        snapshot = self.cache.get("health")
        if snapshot is None:
            snapshot = health.collect(self.sources, self.settings)
            self.cache.set("health", snapshot, timeout=_ttl(self.settings))
        return snapshot


def _ttl(settings: Settings) -> int:
    # cachelib takes whole seconds; never cache longer than one refresh.
    return max(1, math.floor(settings.refresh_s))
