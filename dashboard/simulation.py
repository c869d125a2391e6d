"""Seeding and live simulation: the synthetic district written into the store.

``seed`` writes the reference data and ``history_days`` of history, keeping
fine-grained feeds short and aggregating the rest (bus GPS: 2 h at 15 s;
road speeds: hourly, plus the last day at 5 min). ``simulate`` then keeps
writing each feed on its own cadence, as sensors would. After a pause (the
server was stopped) it first backfills the gap, so a restarted district has
no hole in its curves. Everything is a function of (seed, time): rewriting a
window writes the same rows, and upserts make it idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from tqdm import tqdm

from dashboard.settings import Settings
from dashboard.timeutil import now_utc
from datasources.base import WritableSource
from datasources.kinds.synthetic import RATING_SINCE
from datasources.synthetic import SyntheticDistrict

log = logging.getLogger(__name__)
H = timedelta(hours=1)
D = timedelta(days=1)

#: History policy per series feed: (span, step) pieces; span None = the whole
#: history. Steps are coarser than the live cadence so seeding stays fast.
HISTORY: dict[str, tuple[tuple[timedelta | None, timedelta | None], ...]] = {
    "bus_positions": ((2 * H, None),),
    "segment_speeds": ((None, H), (D, None)),
    "parking_occupancy": ((None, timedelta(minutes=15)), (D, None)),
    "visitor_counts": ((None, timedelta(minutes=15)), (D, None)),
    "air_readings": ((None, None),),
    "reservoir_levels": ((None, None),),
    "radiation_readings": ((None, None),),
    "water_samples": ((None, None),),
    "accidents": ((None, None),),
    "rating_tasks": ((None, None),),
    "camera_status_daily": ((None, None),),
}
#: Feeds seeded in one piece rather than day by day: a daily snapshot would
#: otherwise also sample each piece's open day, only to be overwritten.
ONE_PIECE: frozenset[str] = frozenset({"camera_status_daily"})
#: High-rate feeds are pruned so the embedded store stays small.
RETENTION: dict[str, timedelta] = {"bus_positions": 6 * H}


@dataclass(frozen=True)
class Chunk:
    feed: str
    start: datetime | None
    end: datetime
    step: timedelta | None = None


def seed_plan(district: SyntheticDistrict, end: datetime, days: int) -> list[Chunk]:
    """What ``seed`` writes: reference feeds, then series, day by day."""
    chunks = [Chunk(feed, None, end) for feed in district.STATIC_FEEDS]
    chunks.append(Chunk("cameras", None, end))
    chunks.append(Chunk("rating_values", RATING_SINCE, end))
    begin = end - days * D
    for feed, pieces in HISTORY.items():
        if feed in ONE_PIECE:
            chunks.append(Chunk(feed, begin, end))
            continue
        for span, step in pieces:
            start = begin if span is None else max(begin, end - span)
            stop = end if span is not None or len(pieces) == 1 else end - pieces[1][0]  # type: ignore[operator]
            chunks.extend(Chunk(feed, a, b, step) for a, b in _days(start, stop))
    return chunks


def _days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    while start < end:
        stop = min(start + D, end)
        yield start, stop
        start = stop


def is_seeded(store: WritableSource) -> bool:
    return store.count("towns") > 0  # type: ignore[attr-defined, no-any-return]


def seed(
    store: WritableSource,
    district: SyntheticDistrict,
    *,
    days: int,
    end: datetime | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Write the district and its history; returns rows written per feed."""
    end = end or now_utc()
    written: dict[str, int] = {}
    plan = seed_plan(district, end, days)
    for chunk in tqdm(plan, desc="seeding 山亭", unit="chunk", disable=not progress, ncols=90):
        result = store.write(chunk.feed, _rows(district, chunk), now=end)
        written[chunk.feed] = written.get(chunk.feed, 0) + result.written
        if not result.report.ok:
            log.warning("seed: %s", result.report.summary())
    return written


def _rows(district: SyntheticDistrict, chunk: Chunk):  # type: ignore[no-untyped-def]
    if chunk.feed == "cameras":
        return district.cameras_at(chunk.end)
    if chunk.start is None:
        return district.static(chunk.feed)
    return district.series(chunk.feed, chunk.start, chunk.end, step=chunk.step)


def tick(
    store: WritableSource,
    district: SyntheticDistrict,
    now: datetime,
    backfill: timedelta,
    rules: Callable[[datetime], int] | None = None,
) -> dict[str, int]:
    """Write every series feed's rows from its newest stored row up to ``now``.

    A gap longer than a day (the server was off) is backfilled at the history
    step; at most ``backfill`` is filled. ``rules`` then raises the events the
    new data calls for (AQI episodes) and returns how many it wrote.
    """
    written: dict[str, int] = {}
    for feed in district.SERIES_FEEDS:
        start, step = _gap(feed, store.latest(feed), now, backfill)
        if start >= now:
            continue
        result = store.write(feed, district.series(feed, start, now, step=step), now=now, origin="simulator")
        written[feed] = result.written
    written["cameras"] = _camera_changes(store, district, now)
    for feed, keep in RETENTION.items():
        store.prune(feed, now - keep)  # type: ignore[attr-defined]
    if rules is not None:
        written["events"] = rules(now)
    return written


def _gap(feed: str, latest: datetime | None, now: datetime, backfill: timedelta) -> tuple[datetime, timedelta | None]:
    """Where a feed's next write starts, and at what step.

    Never reaches further back than the feed's history policy (bus GPS: 2 h,
    however long the server was off or however empty the night was), and
    fills a gap longer than a day at the history step, not the live cadence.
    """
    span, coarse_step = HISTORY.get(feed, ((None, None),))[0]
    floor = now - min(backfill, span) if span else now - backfill
    start = max(latest, floor) if latest else floor
    return start, coarse_step if now - start > D else None


def _camera_changes(store: WritableSource, district: SyntheticDistrict, now: datetime) -> int:
    """Write only cameras whose status changed since the last write."""
    current = district.cameras_at(now)
    stored = store.latest("cameras")
    if stored is not None:
        current = current[current["status_since"] > stored]
    if current.empty:
        return 0
    return store.write("cameras", current, now=now, origin="simulator").written


def run(
    store: WritableSource,
    district: SyntheticDistrict,
    *,
    interval_s: float,
    backfill: timedelta,
    stop: threading.Event,
    clock: Callable[[], datetime] = now_utc,
    rules: Callable[[datetime], int] | None = None,
) -> None:
    """The live loop: one tick every ``interval_s`` until ``stop`` is set.

    A failing tick (the store is briefly unreachable) is logged and retried on
    the next one; rows are never lost because the next tick starts from the
    newest stored row.
    """
    while not stop.is_set():
        try:
            counts = tick(store, district, clock(), backfill, rules)
            log.debug("simulator tick: %s", counts)
        except Exception:
            log.exception("simulator tick failed; retrying in %.0f s", interval_s)
        stop.wait(interval_s)


def environment_rules(store: WritableSource, settings: Settings) -> Callable[[datetime], int]:
    """The AQI-episode rule over the store, run when new air readings arrive.

    Episodes only change when an hourly reading lands, so the rule skips ticks
    that brought none; it is idempotent, so running it again is harmless.
    """
    from dashboard.environment import EPISODE_LEAD, EPISODE_WINDOW, write_environment_events

    seen: dict[str, datetime | None] = {"latest": None}

    def run_rules(now: datetime) -> int:
        latest = store.latest("air_readings")
        if latest is None or latest == seen["latest"]:
            return 0
        frames = {
            "air_readings": store.read("air_readings", start=now - EPISODE_WINDOW - EPISODE_LEAD, end=now).frame,
            "air_stations": store.read("air_stations").frame,
        }
        written = write_environment_events(store, frames, settings, now)
        seen["latest"] = latest
        return written

    return run_rules


def tourism_rules(
    store: WritableSource, settings: Settings, rule_ids: Collection[str] = ("crowding_warning", "crowding_limit")
) -> Callable[[datetime], int]:
    """The scenic crowding alarms over the store (warning and limit, once per crossing), run when counts arrive.

    Today's counts are replayed through the hysteresis each time, so the events are rebuilt from the data rather
    than from remembered state: idempotent, and any process computes the same ones.
    """
    from dashboard.areas import Areas
    from dashboard.tourism_view import local_midnight, write_tourism_events

    seen: dict[str, datetime | None] = {"latest": None}

    def run_rules(now: datetime) -> int:
        latest = store.latest("visitor_counts")
        if latest is None or latest == seen["latest"]:
            return 0
        spots = store.read("scenic_spots").frame
        areas = Areas(store.read("towns").frame, store.read("villages").frame)
        frames = {
            "visitor_counts": store.read("visitor_counts", start=local_midnight(now), end=now).frame,
            "scenic_spots": areas.with_areas(spots) if len(spots) else spots,
        }
        written = write_tourism_events(store, frames, settings, now, rule_ids)
        seen["latest"] = latest
        return written

    return run_rules


def rules(store: WritableSource, settings: Settings) -> Callable[[datetime], int]:
    """Every rule the live loop runs after a tick; returns the events written.

    The scenes' own rules (AQI episodes, scenic crowding) first, each only while the catalogue of
    ``dashboard/rules.toml`` has it enabled, then the rules engine (:func:`dashboard.events.engine_rules`), which also
    logs the scenes' events and escalates unacknowledged ones.
    """
    from dashboard.event_rules import load_catalogue
    from dashboard.events import engine_rules

    catalogue = load_catalogue(settings)
    each = [engine_rules(store, settings)]
    if catalogue.enabled("aqi_episode"):
        each.insert(0, environment_rules(store, settings))
    crowding = {r for r in ("crowding_warning", "crowding_limit") if catalogue.enabled(r)}
    if crowding:
        each.insert(0, tourism_rules(store, settings, crowding))
    return lambda now: sum(rule(now) for rule in each)
