"""The cache every worker shares: Redis when ``cache_url`` is set, per-process otherwise.

Computed results (feed reads, tiles, health, layer bodies) are keyed so that any
worker may use any other's: by feed version where there is one (see
:mod:`dashboard.live`). When Redis goes away the app keeps serving from a
per-process cache, says so once in the log and on ``/healthz``, and goes back
to Redis by itself when it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import redis
from cachelib import RedisCache, SimpleCache
from flask import Flask
from flask_caching.backends.base import BaseCache

log = logging.getLogger(__name__)
T = TypeVar("T")
#: While Redis is down, it is tried again at most this often (seconds).
RETRY_S = 5.0
#: A cache that does not answer within this is treated as down: a screen must not hang on it.
SOCKET_TIMEOUT_S = 0.5


class FallbackRedisCache(BaseCache):
    """Redis, with a per-process :class:`SimpleCache` standing in while Redis is unreachable."""

    def __init__(
        self,
        url: str,
        default_timeout: int = 300,
        key_prefix: str = "shanting:",
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(default_timeout)
        client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S)
        self.url = redis.connection.parse_url(url).get("host", "?")
        self.shared = RedisCache(client, default_timeout=default_timeout, key_prefix=key_prefix)
        self.local = SimpleCache(default_timeout=default_timeout)
        self.retry_s, self.clock = retry_s, clock
        self._retry_at: float | None = None  # set while Redis is down
        self._lock = threading.Lock()

    @classmethod
    def factory(cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> FallbackRedisCache:
        """What Flask-Caching calls for ``CACHE_TYPE = "dashboard.cache.FallbackRedisCache"``."""
        options = {k: v for k, v in kwargs.items() if k in ("default_timeout", "key_prefix")}
        return cls(config["CACHE_REDIS_URL"], *args, **options)

    @property
    def shared_up(self) -> bool:
        """Whether results are shared through Redis right now."""
        return self._retry_at is None

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._retry_at is not None and self.clock() < self._retry_at:
            return getattr(self.local, name)(*args, **kwargs)
        try:
            result = getattr(self.shared, name)(*args, **kwargs)
        except redis.RedisError as exc:
            with self._lock:
                if self._retry_at is None:
                    log.warning("shared cache (Redis at %s) unreachable, caching per process: %s", self.url, exc)
                self._retry_at = self.clock() + self.retry_s
            return getattr(self.local, name)(*args, **kwargs)
        if self._retry_at is not None:
            with self._lock:
                if self._retry_at is not None:
                    log.warning("shared cache (Redis at %s) is back", self.url)
                    self._retry_at = None
                    self.local.clear()  # what was cached alone while Redis was away is not shared: drop it
        return result

    def get(self, key: str) -> Any:
        return self._call("get", key)

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        return bool(self._call("set", key, value, timeout))

    def add(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        return bool(self._call("add", key, value, timeout))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key))

    def has(self, key: str) -> bool:
        return bool(self._call("has", key))

    def clear(self) -> bool:
        """Drop this app's keys (only those under its prefix) in Redis, and the local stand-in."""
        self.local.clear()
        return bool(self._call("clear"))


def cache_config(cache_url: str | None, default_timeout: int) -> dict[str, Any]:
    """Flask-Caching configuration for the settings' ``cache_url`` (None: per-process)."""
    if not cache_url:
        return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": default_timeout}
    return {
        "CACHE_TYPE": "dashboard.cache.FallbackRedisCache",
        "CACHE_REDIS_URL": cache_url,
        "CACHE_DEFAULT_TIMEOUT": default_timeout,
    }
