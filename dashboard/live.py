"""Reads for "now", shared by tiles, map layers, the API and exports.

A feed is read once and kept in the shared cache, so a hundred screens and the
API cost one query per feed. Where the source versions its feeds (the store
does, see :class:`~datasources.base.Versioned`) the cached rows are keyed by
that version: they are re-read only when the feed changed, and at least every
``REFERENCE_TTL`` seconds so a series window keeps sliding. A feed without a
version is re-read every refresh interval. A feed that fails is remembered as
failed for the interval: its tiles say 数据源异常, everything else renders.
When an append-only series feed moved only by appends (the store says so, see
:class:`~datasources.base.Appendable`), a process that read it before reads,
checks and tags only the new rows and slides its window (:meth:`Live._tail`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
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
from datasources.base import Appendable
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


def spread(name: str, names: Sequence[str], step: int) -> int:
    """Where ``name``'s ``step``-second periods start: ``names`` evenly spaced over the step (so that values
    renewed once a step do not all renew in the same refresh), any other name by a hash of it."""
    if name in names:
        return list(names).index(name) * step // len(names)
    return zlib.crc32(name.encode()) % step


def renewed(
    cache: Cache,
    locks: dict[str, threading.Lock],
    key: str,
    prior: str | None,
    timeout: int,
    compute: Callable[[], T],
    timeout_for: Callable[[T], int | bool] | None = None,
    lock: str | None = None,
) -> T:
    """:func:`cached` for values that age with the clock over unchanged data (a tile's value bucket).

    ``key`` names this period's value; ``prior`` the same computation over the same data without the period
    (e.g. the tile's key without its bucket). When ``key`` misses only because the period rolled over, the
    value ``prior`` holds is answered at once and this period's value is computed in a background thread,
    one per ``lock`` at a time: no request waits for a once-a-minute recomputation of an expensive value,
    and values lag the clock by at most one period more. When the data moved (no ``prior``), the value is
    computed while the request waits, as :func:`cached` does. Values ``timeout_for`` shortens (failures) are
    never kept as ``prior``. ``prior`` None (data without versions, which may have changed unseen): :func:`cached`.
    """
    if prior is None:
        return cached(cache, locks, key, timeout, compute, timeout_for, lock)
    value = cache.get(key)
    if value is not None:
        return value  # type: ignore[no-any-return]
    held = cache.get(prior)
    if held is None:
        value = cached(cache, locks, key, timeout, compute, timeout_for, lock)
        _keep_prior(cache, prior, timeout, value, timeout_for)
        return value
    guard = locks.setdefault(lock or key, threading.Lock())
    if guard.acquire(blocking=False):  # released by the renewal (a Lock may be released by any thread)
        args = (guard, cache, key, prior, timeout, compute, timeout_for)
        try:
            threading.Thread(target=_renew, args=args, name=f"renew {lock or key}", daemon=True).start()
        except RuntimeError:  # no thread to be had (the interpreter shutting down): the next miss tries again
            guard.release()
    return held  # type: ignore[no-any-return]


def _renew(
    guard: threading.Lock,
    cache: Cache,
    key: str,
    prior: str,
    timeout: int,
    compute: Callable[[], T],
    timeout_for: Callable[[T], int | bool] | None,
) -> None:
    try:
        if cache.get(key) is not None:
            return
        value = compute()
        own = timeout_for(value) if timeout_for else None
        cache.set(key, value, timeout=int(own) if own else timeout)
        _keep_prior(cache, prior, timeout, value, timeout_for)
    except Exception:  # a renewal runs outside any request: log it, the next miss computes in the request
        log.exception("renewing %s failed", key)
    finally:
        guard.release()


def _keep_prior(
    cache: Cache, prior: str, timeout: int, value: T, timeout_for: Callable[[T], int | bool] | None
) -> None:
    if not (timeout_for and timeout_for(value)):
        cache.set(prior, value, timeout=2 * timeout)  # unasked for two periods: recomputed in the request


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

    The shared cache holds a stamp under ``key#`` and the value under ``key#stamp`` (``key`` itself is left
    alone, so a worker of the previous release sharing the cache finds nothing it would misread); ``here``
    keeps, per lock name, this process's last value with its stamp. While the shared stamp stands (same
    key, not expired, not cleared) the value is taken from ``here`` instead of being unpickled again: a
    refresh reads the same feed frames dozens of times, and unpickling them was a quarter of its time. The
    shared cache stays the authority: when its entry expires or is replaced, every process follows.
    """
    name = lock or key

    def look() -> T | None:
        stamp = cache.get(f"{key}#")
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
            cache.set(f"{key}#", stamp, timeout=ttl)
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


@dataclass(frozen=True)
class Base:
    """A series feed's rows as this process last read them: what a tail read appends to."""

    version: str
    #: The read's "now": the rows hold every stored row with time in (until − window, until].
    until: datetime
    #: The towns' and villages' versions the rows were area-tagged with (tags of appended rows must agree).
    areas: tuple[str | None, str | None]
    rows: Rows


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
        #: Per append-only series feed, the rows this process last read (see :meth:`_tail`).
        self.bases: dict[str, Base] = {}
        #: How many reads of each kind this process made ("full", "tail"): for benchmarks and tests.
        self.reads: Counter[str] = Counter()
        #: The towns' and villages' frames last made into :class:`Areas`, and those Areas.
        self._areas: tuple[pd.DataFrame, pd.DataFrame, Areas] | None = None

    def rows(self, feed: str) -> Rows | Failed:
        """The feed's rows for its window (reference feeds: all rows).

        When the source fails after having delivered, the last rows this process read come back marked
        ``failed`` (the screens keep their picture, flagged, and health names the failure); :class:`Failed`
        only when there is nothing to fall back to.
        """
        # The version is looked at before the rows are read, so rows cached
        # under a version are never older than it.
        version = self.version(feed)
        key, ttl = self._key(feed, version)
        # A failure is remembered for one interval only, whatever the version says.
        got: Rows | Failed = cached_here(
            self.cache,
            self.locks,
            self.here,
            key,
            ttl,
            lambda: self._read(feed, version),
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
        return self._key(feed, self.version(feed))

    def _key(self, feed: str, version: str | None) -> tuple[str, int]:
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
        frames = (towns.frame, villages.frame)  # type: ignore[union-attr]
        held = self._areas
        if held is not None and held[0] is frames[0] and held[1] is frames[1]:
            return held[2]  # the same rows: the same Areas, with the index it built (Areas._index)
        areas = Areas(*frames)
        self._areas = (*frames, areas)
        return areas

    def _read(self, feed: str, version: str | None = None) -> Rows | Failed:
        now = self.clock()
        window = WINDOWS.get(feed)
        if (tail := self._tail(feed, version, now)) is not None:
            self.reads["tail"] += 1
            self._keep(feed, version, now, tail)
            return tail
        self.reads["full"] += 1
        try:
            got = self.sources.read(feed, start=now - window if window else None, end=now)
        except SourceError as exc:
            return Failed(feed, str(exc)[:300])
        if got.report.errors:
            return Failed(feed, "; ".join(got.report.errors))
        rows = Rows(feed, self._shaped(feed, got.frame), got.produced_at, got.report)
        self._keep(feed, version, now, rows)
        return rows

    def _shaped(self, feed: str, frame: pd.DataFrame) -> pd.DataFrame:
        """What screens need beside the contract's columns: road midpoints, town and village of each point."""
        if feed == "road_segments" and len(frame):
            mid = shapely.line_interpolate_point(frame["geometry"].to_numpy(), 0.5, normalized=True)
            frame = frame.assign(lon=shapely.get_x(mid), lat=shapely.get_y(mid))
        if self._tagged(feed, frame.columns):
            areas = self.areas()
            if not isinstance(areas, Failed):
                frame = areas.with_areas(frame)
        return frame

    @staticmethod
    def _tagged(feed: str, columns: Collection[str]) -> bool:
        return {"lon", "lat"} <= set(columns) and "village_code" not in columns and feed != "villages"

    def _area_versions(self) -> tuple[str | None, str | None]:
        return self.version("towns"), self.version("villages")

    def _keep(self, feed: str, version: str | None, now: datetime, rows: Rows) -> None:
        """Remember a timed feed's rows as the base of its next tail read."""
        spec = CONTRACTS[feed]
        if version is None or not spec.time:
            return
        if self._tagged(feed, spec.names) and isinstance(self.areas(), Failed):
            self.bases.pop(feed, None)  # rows without their towns: nothing to append tagged rows to
            return
        self.bases[feed] = Base(version, now, self._area_versions(), rows)

    def _tail(self, feed: str, version: str | None, now: datetime) -> Rows | None:
        """The feed's window from the rows this process holds plus the rows stored after them, when the
        feed only grew by appends since (or, where its time is not part of its key, rows that changed came
        back with a later time and replace the ones held); None (read it whole) otherwise.

        Only the new rows are fetched, checked against the contract and area-tagged. They must account
        for every change the store counted (rows written between the two versions) and the window must
        hold as many stored rows as the result: an update of an older row, a delete inside the window or
        a late row stamped before the last read fails one of the two and the window is read whole. A base
        with rejected rows is never appended to, so every rejection keeps being reported.
        """
        base, window, spec = self.bases.get(feed), WINDOWS.get(feed), CONTRACTS[feed]
        source = self.sources.route(feed)
        if base is None or not spec.time or version is None or version == base.version:
            return None
        start = now - window if window else None
        if not isinstance(source, Appendable) or now <= base.until or (start is not None and base.until <= start):
            return None
        if base.rows.report is None or not base.rows.report.ok or base.rows.failed:
            return None
        if base.areas != self._area_versions():
            return None
        written = source.written_between(feed, base.version, version)
        if written is None:
            return None
        try:
            got = self.sources.read(feed, start=base.until, end=now)
            if got.report.errors or got.report.rows_in != written:
                return None
            stored = source.count_between(feed, start, now)
        except SourceError:
            return None
        old = base.rows.frame
        kept = old.loc[old[spec.time] > pd.Timestamp(start)] if start is not None else old
        if spec.time not in spec.key and len(got.frame):
            # A row whose time is not part of its key (a camera and the time its status last changed) comes
            # back with a later time when it changes: the new row replaces the one held.
            keys = list(spec.key)
            kept = kept.loc[~kept.set_index(keys).index.isin(got.frame.set_index(keys).index)]
        if stored != len(kept) + got.report.rows_in:
            return None
        fresh = self._shaped(feed, got.frame)
        frame = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept.reset_index(drop=True)
        report = Report(
            feed,
            rows_in=stored,
            rows_ok=len(frame),
            rejected=got.report.rejected,
            # positions in the window as a whole read would deliver it (ordered by time, the new rows last)
            sample=[replace(r, row=r.row + len(kept)) for r in got.report.sample],
        )
        produced = frame[spec.time].max().to_pydatetime() if len(frame) else None
        return Rows(feed, frame, produced, report)


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
