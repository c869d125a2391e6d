"""Reads for "now", shared by tiles, map layers, the API and exports.

A feed is read once and kept in the shared cache, so a hundred screens and the
API cost one query per feed. Where the source versions its feeds (the store
does, see :class:`~datasources.base.Versioned`) the cached rows are keyed by
that version: they are re-read only when the feed changed, and at least every
``REFERENCE_TTL`` seconds so a series window keeps sliding. A feed without a
version is re-read every refresh interval. A feed that fails is remembered as
failed for the interval: its tiles say 数据源异常, everything else renders.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

import pandas as pd
import shapely
from flask_caching import Cache

from dashboard.areas import Areas
from dashboard.settings import Settings
from dashboard.timeutil import now_utc
from datasources import SourceError, Sources
from datasources.contracts import CONTRACTS
from datasources.validation import Report

#: How much history each series feed is read with: enough for "now", the
#: same time yesterday and a 24 h sparkline, and no more.
WINDOWS: dict[str, timedelta] = {
    "segment_speeds": timedelta(hours=25),
    "parking_occupancy": timedelta(hours=25),
    "visitor_counts": timedelta(hours=25),
    "air_readings": timedelta(days=31),
    "water_samples": timedelta(days=3),
    "reservoir_levels": timedelta(hours=25),
    "radiation_readings": timedelta(hours=25),
    "bus_positions": timedelta(minutes=10),
    "accidents": timedelta(days=8),
    "events": timedelta(days=7),
    # the video scene's 30-day working-rate trend (today included)
    "camera_status_daily": timedelta(days=31),
}
T = TypeVar("T")
log = logging.getLogger(__name__)
#: Unversioned reference data is re-read at most this often; versioned rows at least this often.
REFERENCE_TTL = 60
#: How long a look at the feeds' versions is trusted: a change reaches readers within this.
VERSION_TTL = 1


def cached(
    cache: Cache,
    locks: dict[str, threading.Lock],
    key: str,
    timeout: int,
    compute: Callable[[], T],
    timeout_for: Callable[[T], int | bool] | None = None,
    lock: str | None = None,
) -> T:
    """``key``'s value from the cache, computed once per expiry even when many
    requests miss at the same moment (a screen sends its callbacks in parallel).

    ``timeout_for`` may shorten the expiry for a particular value (e.g. a failure).
    Keys that carry a version name a stable ``lock``, so the per-process locks do
    not grow with every version seen.
    """
    value = cache.get(key)
    if value is not None:
        return value  # type: ignore[no-any-return]
    with locks.setdefault(lock or key, threading.Lock()):
        value = cache.get(key)
        if value is None:
            value = compute()
            own = timeout_for(value) if timeout_for else None
            cache.set(key, value, timeout=int(own) if own else timeout)
    return value  # type: ignore[no-any-return]


def cached_here(
    cache: Cache,
    locks: dict[str, threading.Lock],
    here: dict[str, tuple[str, object]],
    key: str,
    timeout: int,
    compute: Callable[[], T],
    timeout_for: Callable[[T], int | bool] | None = None,
    lock: str | None = None,
) -> T:
    """:func:`cached` for big values (a feed's rows): what a hit costs is a small stamp, not the value.

    The shared cache holds a stamp under ``key`` and the value under ``key#stamp``; ``here`` keeps, per lock
    name, this process's last value with its stamp. While the shared stamp stands (same key, not expired,
    not cleared) the value is taken from ``here`` instead of being unpickled again: a refresh reads the same
    feed frames dozens of times, and unpickling them was a quarter of its time. The shared cache stays the
    authority: when its entry expires or is replaced, every process follows.
    """
    name = lock or key

    def look() -> T | None:
        stamp = cache.get(key)
        if stamp is None:
            return None
        mine = here.get(name)
        if mine is not None and mine[0] == f"{key}#{stamp}":
            return mine[1]  # type: ignore[return-value]
        value = cache.get(f"{key}#{stamp}")
        if value is not None:
            here[name] = (f"{key}#{stamp}", value)
        return value  # type: ignore[no-any-return]

    value = look()
    if value is not None:
        return value
    with locks.setdefault(name, threading.Lock()):
        value = look()
        if value is None:
            value = compute()
            own = timeout_for(value) if timeout_for else None
            ttl = int(own) if own else timeout
            stamp = uuid.uuid4().hex[:12]
            cache.set(f"{key}#{stamp}", value, timeout=ttl)  # the value first: a stamp never names a missing value
            cache.set(key, stamp, timeout=ttl)
            here[name] = (f"{key}#{stamp}", value)
    return value


@dataclass(frozen=True)
class Failed:
    """A feed that could not be read this interval, and why."""

    feed: str
    error: str


@dataclass(frozen=True)
class Rows:
    """A feed's validated rows (area-tagged where they have coordinates)."""

    feed: str
    frame: pd.DataFrame
    produced_at: datetime | None
    report: Report | None = None
    #: Set when the source fails now and these are the last rows it gave (kept so screens go on showing them,
    #: marked, instead of going blank): why it fails.
    failed: str | None = None


class Live:
    """Cached access to the feeds as of now."""

    def __init__(
        self, sources: Sources, settings: Settings, cache: Cache, clock: Callable[[], datetime] = now_utc
    ) -> None:
        self.sources = sources
        self.settings = settings
        self.cache = cache
        self.clock = clock
        self.ttl = max(1, math.floor(settings.refresh_s))
        #: Per-key locks of this process; the values live in the shared cache.
        self.locks: dict[str, threading.Lock] = {}
        #: Per feed, the last rows read successfully in this process: what a failing source falls back to.
        #: A reference to what the cache holds (no copy); one per feed, replaced on each fresh read.
        self.last_good: dict[str, Rows] = {}
        #: Per feed, the rows this process last took from the shared cache, with their stamp (see
        #: :func:`cached_here`): shared by reference, so callers treat frames as read-only (they do: pandas
        #: copy-on-write, and every derived frame is a new one).
        self.here: dict[str, tuple[str, object]] = {}

    def rows(self, feed: str) -> Rows | Failed:
        """The feed's rows for its window (reference feeds: all rows).

        When the source fails after having delivered, the last rows this process read come back marked
        ``failed`` (the screens keep their picture, flagged, and health names the failure); :class:`Failed`
        only when there is nothing to fall back to.
        """
        # The version is looked at before the rows are read, so rows cached
        # under a version are never older than it.
        key, ttl = self.key(feed)
        # A failure is remembered for one interval only, whatever the version says.
        got: Rows | Failed = cached_here(
            self.cache,
            self.locks,
            self.here,
            key,
            ttl,
            lambda: self._read(feed),
            lambda got: isinstance(got, Failed) and self.ttl,
            lock=f"live:{feed}",
        )
        if isinstance(got, Rows):
            self.last_good[feed] = got
            return got
        last = self.last_good.get(feed)
        return replace(last, failed=got.error) if last is not None else got

    def key(self, feed: str) -> tuple[str, int]:
        """Where ``feed``'s rows are cached now, and for how long."""
        version = self.version(feed)
        if version is not None:
            return f"live:{feed}@{version}", REFERENCE_TTL
        return f"live:{feed}", self.ttl if CONTRACTS[feed].time else REFERENCE_TTL

    def versions(self) -> dict[str, str]:
        """Every versioned feed's current token, looked up at most once per ``VERSION_TTL``."""
        return cached(self.cache, self.locks, "live-versions", VERSION_TTL, self.sources.versions)

    def version_token(self) -> str:
        """One short token for all versioned feeds; changes when any of them does."""
        versions = self.versions()
        text = "|".join(f"{feed}={versions[feed]}" for feed in sorted(versions))
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    def version(self, feed: str) -> str | None:
        """``feed``'s version token, or None when its source keeps none."""
        return self.versions().get(feed)

    def areas(self) -> Areas | Failed:
        towns, villages = self.rows("towns"), self.rows("villages")
        for got in (towns, villages):
            if isinstance(got, Failed):
                return got
        return Areas(towns.frame, villages.frame)  # type: ignore[union-attr]

    def _read(self, feed: str) -> Rows | Failed:
        now = self.clock()
        window = WINDOWS.get(feed)
        try:
            got = self.sources.read(feed, start=now - window if window else None, end=now)
        except SourceError as exc:
            return Failed(feed, str(exc)[:300])
        if got.report.errors:
            return Failed(feed, "; ".join(got.report.errors))
        frame = got.frame
        if feed == "road_segments" and len(frame):
            mid = shapely.line_interpolate_point(frame["geometry"].to_numpy(), 0.5, normalized=True)
            frame = frame.assign(lon=shapely.get_x(mid), lat=shapely.get_y(mid))
        if {"lon", "lat"} <= set(frame.columns) and "village_code" not in frame.columns and feed != "villages":
            areas = self.areas()
            if not isinstance(areas, Failed):
                frame = areas.with_areas(frame)
        return Rows(feed, frame, got.produced_at, got.report)


def latest_per(frame: pd.DataFrame, key: str, at: datetime, within: timedelta, time: str = "ts") -> pd.DataFrame:
    """Per ``key``, the newest row with time in (at − within, at]."""
    if frame.empty:
        return frame
    t = frame[time]
    sel = frame.loc[(t > pd.Timestamp(at - within)) & (t <= pd.Timestamp(at))]
    return sel.sort_values(time).groupby(key, sort=False).tail(1)


def hourly_latest(frame: pd.DataFrame, key: str, now: datetime, hours: int = 24, time: str = "ts") -> pd.DataFrame:
    """Per hour ending at each of the last ``hours`` whole hours, the newest row
    per ``key`` within that hour, with the hour end in column ``hour``.

    The same rows ``latest_per(frame, key, h, 1 h)`` gives for each hour h, in
    one vectorised pass (a sparkline needs 24 of them).
    """
    if frame.empty:
        return frame.assign(hour=pd.Series(dtype="datetime64[ns, UTC]"))
    top = pd.Timestamp(now).floor("h")
    first = top - pd.Timedelta(hours=hours - 1)
    hour = frame[time].dt.ceil("h")
    sel = frame.assign(hour=hour).loc[(hour >= first) & (hour <= top)]
    return sel.sort_values(time).drop_duplicates([key, "hour"], keep="last")


def spark(per_hour: pd.Series, now: datetime, hours: int = 24) -> tuple[float | None, ...]:
    """A value per hour (oldest first), None where an hour has no data."""
    top = pd.Timestamp(now).floor("h")
    index = pd.date_range(top - pd.Timedelta(hours=hours - 1), top, freq="h")
    return tuple(None if pd.isna(v) else float(v) for v in per_hour.reindex(index))


Frames = Mapping[str, pd.DataFrame]


def panel(
    live: Live, areas: Areas | Failed, feeds: tuple[str, ...], compute: Callable[[Frames, Areas], T], scene: str
) -> T | Failed:
    """A scene panel: ``compute`` over the feeds' frames, or the first failure (a feed, the areas, or a value
    the standards reject), so that the panel shows 数据源异常 and the rest of the scene renders."""
    got = {feed: live.rows(feed) for feed in feeds}
    failed = [g for g in (*got.values(), areas) if isinstance(g, Failed)]
    if failed:
        return failed[0]
    frames = {feed: g.frame for feed, g in got.items() if isinstance(g, Rows)}
    try:
        return compute(frames, areas)  # type: ignore[arg-type]
    except (ValueError, KeyError) as exc:
        log.warning("%s panel over %s failed: %s", scene, ", ".join(feeds), exc)
        return Failed(feeds[0], f"{type(exc).__name__}: {exc}"[:300])
