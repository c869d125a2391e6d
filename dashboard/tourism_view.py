"""文旅客流: what the tourism scene shows, computed from the live feeds per scope.

Crowding, alarms and diversion come from :mod:`dashboard.domain.tourism`, the forecast and its back-test from
:mod:`dashboard.domain.visitor_forecast`, the kind of day from :mod:`dashboard.domain.holiday_calendar`. This module
picks the rows (scope, configured capacities), turns feeds into hourly curves, and replays today's series through the
hysteresis alarms, which also gives the events the live loop raises (:func:`tourism_events`). Everything except
:func:`compute_view` and :func:`write_tourism_events` is pure over frames, settings and "now".

Results are frozen dataclasses so a whole view pickles into the shared cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from dashboard.domain import tourism, visitor_forecast
from dashboard.domain.holiday_calendar import DayKind, day_kind
from dashboard.domain.tourism import Diversion, SpotLoad
from dashboard.domain.visitor_forecast import Backtest, DayCurves
from dashboard.live import Failed, Live, Rows, cached, latest_per
from dashboard.scope import Scope
from dashboard.settings import Settings, TourismSettings
from dashboard.timeutil import TZ
from datasources.base import WritableSource

log = logging.getLogger(__name__)
H = timedelta(hours=1)
#: A count older than this is not "now" (the feed's cadence is 5 min, its staleness limit 30 min).
NOW_WITHIN = timedelta(minutes=30)
#: An hourly value is the newest count within this long before the hour.
HOUR_WITHIN = timedelta(minutes=15)
#: The history (days before today) changes once a day; it is re-read at most this often.
HISTORY_TTL = 3600
Alarm = Literal["warning", "limit"]
CapacitySource = Literal["feed", "config", "lbt034"]


# ---- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaForecast:
    """The next hours of one area: forecast counts with the back-tested band, and today's curve so far."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]
    observed_times: tuple[datetime, ...]
    observed: tuple[float, ...]
    backtest: Backtest
    #: When the load is expected to reach the warning level (now if it has; None: not within the forecast).
    crossing: datetime | None


@dataclass(frozen=True)
class AlarmEpisode:
    level: Alarm
    start: datetime
    end: datetime | None
    peak: float


@dataclass(frozen=True)
class AreaRow:
    spot_id: str
    name: str
    town_code: str
    lon: float
    lat: float
    opening: str
    in_park: int | None
    arrivals: int | None
    capacity: int
    capacity_daily: int
    capacity_source: CapacitySource
    capacity_assumed: bool
    ratio: float | None
    daily_ratio: float | None
    band: str
    band_en: str
    level: int
    #: The alarm active now after hysteresis (a warning stays until the load falls below its re-arm level).
    alarm: Alarm | None
    episodes: tuple[AlarmEpisode, ...]
    data_time: datetime | None
    forecast: AreaForecast | None
    diversions: tuple[Diversion, ...]


@dataclass(frozen=True)
class Nearby:
    """An entrance or a parking lot near an area."""

    kind: Literal["entrance", "parking"]
    ident: str
    name: str
    distance_m: float
    occupied: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class TourismView:
    scope_key: str
    now: datetime
    day: DayKind
    areas: tuple[AreaRow, ...] | Failed
    nearby: Mapping[str, tuple[Nearby, ...]] | Failed


# ---- capacities and scope -----------------------------------------------------------------------------


def with_capacities(spots: pd.DataFrame, rules: TourismSettings) -> pd.DataFrame:
    """The spots with configured capacities applied and a ``capacity_source`` column (feed, config, lbt034).

    A configured instantaneous capacity without a daily one keeps the feed's ratio of daily to instantaneous.
    """
    out = spots.copy()
    if "capacity_assumed" not in out.columns:
        out["capacity_assumed"] = False
    out["capacity_assumed"] = out["capacity_assumed"].fillna(False).astype(bool)
    out["capacity_source"] = "feed"
    for spot_id, cap in rules.capacities.items():
        hit = out["spot_id"] == spot_id
        if not hit.any():
            continue
        instant, daily = cap.capacities()
        if daily is None:
            old = out.loc[hit, ["capacity_instant", "capacity_daily"]].iloc[0]
            daily = round(int(instant) * old["capacity_daily"] / old["capacity_instant"])  # type: ignore[arg-type]
        out.loc[hit, ["capacity_instant", "capacity_daily"]] = [int(instant), int(daily)]  # type: ignore[arg-type]
        out.loc[hit, "capacity_source"] = "lbt034" if cap.areas_m2 is not None else "config"
        out.loc[hit, "capacity_assumed"] = True  # configured values are the operator's assumption until published
    return out


def spots_in_scope(spots: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The areas a scope shows: all, a 镇街's or 村居's, one area; other assets show none."""
    if scope.level == "town":
        return spots.loc[spots["town_code"] == scope.code]
    if scope.level == "village":
        return spots.loc[spots["village_code"] == scope.code]
    if scope.level == "asset":
        return spots.loc[spots["spot_id"] == scope.code] if scope.feed == "scenic_spots" else spots.iloc[0:0]
    return spots


# ---- curves -------------------------------------------------------------------------------------------


def local_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(TZ).date(), time(0), tzinfo=TZ)


def hourly_points(counts: pd.DataFrame) -> pd.DataFrame:
    """Per spot and local whole hour: the newest in-park count within 15 min before it (spot_id, day, hour, count)."""
    if counts.empty:
        return pd.DataFrame(columns=["spot_id", "day", "hour", "count"])
    mark = counts["ts"].dt.ceil("h")
    near = counts.assign(mark=mark).loc[counts["ts"] > mark - pd.Timedelta(HOUR_WITHIN)]
    last = near.sort_values("ts").drop_duplicates(["spot_id", "mark"], keep="last")
    local = last["mark"].dt.tz_convert(TZ)
    return pd.DataFrame(
        {
            "spot_id": last["spot_id"].to_numpy(),
            "day": [d.date() for d in local],
            "hour": local.dt.hour.to_numpy(),
            "count": last["in_park"].astype(float).to_numpy(),
        }
    )


def curves_for(points: pd.DataFrame, spot_id: str, first: date, last: date) -> DayCurves:
    mine = points.loc[points["spot_id"] == spot_id]
    return visitor_forecast.day_curves(
        first, last, list(zip(mine["day"], mine["hour"].astype(int), mine["count"], strict=True))
    )


def history_backtests(
    points: pd.DataFrame, spot_ids: Sequence[str], capacities: Mapping[str, int], rules: TourismSettings, today: date
) -> dict[str, Backtest]:
    """Each area's back-test over the history before ``today`` (points: :func:`hourly_points`)."""
    first = today - timedelta(days=rules.history_days)
    out = {}
    for spot_id in spot_ids:
        curves = curves_for(points, spot_id, first, today - timedelta(days=1))
        out[spot_id] = visitor_forecast.backtest(
            curves, rules.forecast_hours, min_actual=0.05 * capacities[spot_id], uplift=rules.uplift
        )
    return out


def area_forecast(
    points: pd.DataFrame,
    spot_id: str,
    capacity: int,
    current: int | None,
    backtest: Backtest,
    rules: TourismSettings,
    now: datetime,
) -> AreaForecast | None:
    """The forecast from the hour ``now`` is in, with its band and expected warning crossing (None: no history)."""
    local = now.astimezone(TZ)
    today = local.date()
    curves = curves_for(points, spot_id, today - timedelta(days=rules.history_days), today)
    target = len(curves.days) - 1
    curves.values[target, local.hour + 1 :] = np.nan
    predicted = visitor_forecast.forecast(curves, target, local.hour, rules.forecast_hours, uplift=rules.uplift)
    if predicted is None or not len(predicted):
        return None
    midnight = local_midnight(now)
    times = tuple(midnight + (local.hour + 1 + k) * H for k in range(len(predicted)))
    band = [backtest.band[k] if k < len(backtest.band) else None for k in range(len(predicted))]
    seen = ~np.isnan(curves.values[target])
    observed_times = [midnight + int(h) * H for h in np.flatnonzero(seen)]
    observed = [float(v) for v in curves.values[target][seen]]
    if current is not None and (not observed_times or now > observed_times[-1]):
        observed_times.append(now)
        observed.append(float(current))
    start = observed[-1] / capacity if observed else 0.0
    crossing = visitor_forecast.crossing_time(now, start, times, [v / capacity for v in predicted], rules.warning_at)
    return AreaForecast(
        times=times,
        values=tuple(float(v) for v in predicted),
        low=tuple(None if b is None else float(v * b[0]) for v, b in zip(predicted, band, strict=True)),
        high=tuple(None if b is None else float(v * b[1]) for v, b in zip(predicted, band, strict=True)),
        observed_times=tuple(observed_times),
        observed=tuple(observed),
        backtest=backtest,
        crossing=crossing,
    )


# ---- alarms -------------------------------------------------------------------------------------------


def today_alarms(
    counts: pd.DataFrame, spot_id: str, capacity: int, rules: TourismSettings, now: datetime
) -> tuple[AlarmEpisode, ...]:
    """Today's warning and limit crossings of one area (hysteresis replayed from local midnight)."""
    mine = counts.loc[
        (counts["spot_id"] == spot_id)
        & (counts["ts"] >= pd.Timestamp(local_midnight(now)))
        & (counts["ts"] <= pd.Timestamp(now))
    ].sort_values("ts")
    ratios = (mine["in_park"] / capacity).tolist()
    times = mine["ts"].tolist()
    levels = tourism.alarm_levels(rules.warning_at, rules.limit_at, rules.rearm_margin)
    return tuple(
        AlarmEpisode(
            e.name,  # type: ignore[arg-type]
            times[e.start].to_pydatetime(),
            None if e.end is None else times[e.end].to_pydatetime(),
            e.peak,
        )
        for e in tourism.crowding_episodes(ratios, levels)
    )


def active_alarm(episodes: Sequence[AlarmEpisode]) -> Alarm | None:
    active = {e.level for e in episodes if e.end is None}
    return "limit" if "limit" in active else "warning" if "warning" in active else None


ALARM_SEVERITY: Mapping[str, int] = {"warning": 2, "limit": 3}


def tourism_events(counts: pd.DataFrame, spots: pd.DataFrame, rules: TourismSettings, now: datetime) -> pd.DataFrame:
    """Today's crossings as rows of the ``events`` feed: one per crossing, deterministic ids, so writing them every
    tick rewrites the same rows (state follows the crossing: new while active, resolved after)."""
    spots = with_capacities(spots, rules)
    rows = []
    for s in spots.itertuples(index=False):
        for e in today_alarms(counts, str(s.spot_id), int(s.capacity_instant), rules, now):
            pct = round(100 * (rules.warning_at if e.level == "warning" else rules.limit_at))
            what = "预警" if e.level == "warning" else "限流"
            rows.append(
                {
                    "event_id": f"tour-{e.level}-{s.spot_id}-{e.start.astimezone(TZ):%Y%m%d%H%M}",
                    "ts": pd.Timestamp(e.start),
                    "domain": "tourism",
                    "rule_id": f"crowding_{e.level}",
                    "severity": ALARM_SEVERITY[e.level],
                    "lon": float(s.lon),
                    "lat": float(s.lat),
                    "town_code": str(getattr(s, "town_code", "") or "") or None,
                    "state": "new" if e.end is None else "resolved",
                    "title": f"{s.name} 在园游客达最大承载量 {pct}%（{what}，峰值 {round(100 * e.peak)}%）",
                }
            )
    columns = ("event_id", "ts", "domain", "rule_id", "severity", "lon", "lat", "town_code", "state", "title")
    return pd.DataFrame(rows, columns=list(columns))


def write_tourism_events(
    store: WritableSource,
    frames: Mapping[str, pd.DataFrame],
    settings: Settings,
    now: datetime,
    rule_ids: Collection[str] = ("crowding_warning", "crowding_limit"),
) -> int:
    """Upsert today's crowding crossings of the rules ``rule_ids`` into the store's ``events``; an operator's
    state is kept."""
    from dashboard.environment import keep_operator_states

    events = tourism_events(frames["visitor_counts"], frames["scenic_spots"], settings.tourism, now)
    events = events.loc[events["rule_id"].isin(list(rule_ids))] if len(events) else events
    if events.empty:
        return 0
    stored = store.read("events", start=local_midnight(now) - H, end=now).frame
    events = keep_operator_states(events, stored)
    return store.write("events", events, now=now, origin="rules:tourism").written


# ---- rows ---------------------------------------------------------------------------------------------


def loads(spots: pd.DataFrame, latest: pd.DataFrame) -> list[SpotLoad]:
    """Every area's load now (areas without a recent count are left out: no room can be promised there)."""
    merged = spots.merge(latest[["spot_id", "in_park"]], on="spot_id")
    return [
        SpotLoad(str(r.spot_id), str(r.name), float(r.lon), float(r.lat), int(r.in_park), int(r.capacity_instant))
        for r in merged.itertuples(index=False)
    ]


def area_rows(
    spots: pd.DataFrame,
    counts: pd.DataFrame,
    points: pd.DataFrame,
    backtests: Mapping[str, Backtest],
    rules: TourismSettings,
    scope: Scope,
    now: datetime,
) -> tuple[AreaRow, ...]:
    """One row per area in scope, most loaded first. ``spots`` carry configured capacities already."""
    latest = latest_per(counts, "spot_id", now, NOW_WITHIN)
    by_id = latest.set_index("spot_id") if len(latest) else pd.DataFrame()
    everyone = loads(spots, latest)
    bands = tourism.validate_bands(rules.bands) if rules.bands else None
    rows = []
    for s in spots_in_scope(spots, scope).itertuples(index=False):
        spot_id, cap = str(s.spot_id), int(s.capacity_instant)
        hit = by_id.loc[spot_id] if spot_id in by_id.index else None
        in_park = None if hit is None else int(hit["in_park"])
        arrivals = None if hit is None else int(hit["arrivals_today"])
        c = tourism.crowding(in_park or 0, cap, bands, warning_at=rules.warning_at)
        episodes = today_alarms(counts, spot_id, cap, rules, now)
        alarm = active_alarm(episodes)
        crowded = next((x for x in everyone if x.spot_id == spot_id), None)
        rows.append(
            AreaRow(
                spot_id=spot_id,
                name=str(s.name),
                town_code=str(getattr(s, "town_code", "") or ""),
                lon=float(s.lon),
                lat=float(s.lat),
                opening=str(s.opening),
                in_park=in_park,
                arrivals=arrivals,
                capacity=cap,
                capacity_daily=int(s.capacity_daily),
                capacity_source=s.capacity_source,
                capacity_assumed=bool(s.capacity_assumed),
                ratio=None if in_park is None else c.ratio,
                daily_ratio=None if arrivals is None else arrivals / int(s.capacity_daily),
                band=c.band,
                band_en=c.band_en,
                level=c.level,
                alarm=alarm,
                episodes=episodes,
                data_time=None if hit is None else hit["ts"].to_pydatetime(),
                forecast=area_forecast(points, spot_id, cap, in_park, backtests[spot_id], rules, now)
                if spot_id in backtests
                else None,
                diversions=tourism.diversion(
                    crowded, everyone, room_below=rules.diversion_below, limit=rules.diversion_count
                )
                if crowded is not None and (alarm or c.warning)
                else (),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.ratio is None, -(r.ratio or 0.0), r.spot_id)))


def nearby(
    spots: pd.DataFrame,
    places: pd.DataFrame,
    lots: pd.DataFrame,
    occupancy: pd.DataFrame,
    near_m: float,
    now: datetime,
) -> dict[str, tuple[Nearby, ...]]:
    """Per area: scenic entrances and parking lots within ``near_m``, nearest first, lots with their occupancy."""
    entrances = places.loc[places["category"] == "scenic_entrance"] if len(places) else places
    latest = latest_per(occupancy, "lot_id", now, NOW_WITHIN)
    occupied = dict(zip(latest["lot_id"], latest["occupied"], strict=True)) if len(latest) else {}
    out: dict[str, tuple[Nearby, ...]] = {}
    for s in spots.itertuples(index=False):
        found = [
            Nearby("entrance", str(p.place_id), str(p.name), d)
            for p in entrances.itertuples(index=False)
            if (d := 1000 * tourism.distance_km(s.lon, s.lat, p.lon, p.lat)) <= near_m
        ]
        found += [
            Nearby("parking", str(lot.lot_id), str(lot.name), d, _int(occupied.get(lot.lot_id)), int(lot.capacity))
            for lot in lots.itertuples(index=False)
            if (d := 1000 * tourism.distance_km(s.lon, s.lat, lot.lon, lot.lat)) <= near_m
        ]
        out[str(s.spot_id)] = tuple(sorted(found, key=lambda n: (n.kind, n.distance_m)))
    return out


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


# ---- the scene ----------------------------------------------------------------------------------------


def _frames(live: Live, feeds: Sequence[str]) -> dict[str, pd.DataFrame] | Failed:
    got = {feed: live.rows(feed) for feed in feeds}
    for g in got.values():
        if isinstance(g, Failed):
            return g
    return {feed: g.frame for feed, g in got.items() if isinstance(g, Rows)}


def history_points(live: Live, rules: TourismSettings, now: datetime) -> pd.DataFrame | Failed:
    """Hourly points of the ``history_days`` before today, read once per hour for every screen."""
    midnight = local_midnight(now)

    def read() -> pd.DataFrame | Failed:
        try:
            got = live.sources.read(
                "visitor_counts", start=midnight - timedelta(days=rules.history_days) - H, end=midnight
            )
        except Exception as exc:  # a failing history fails the forecast, not the scene
            return Failed("visitor_counts", str(exc)[:300])
        if got.report.errors:
            return Failed("visitor_counts", "; ".join(got.report.errors))
        return hourly_points(got.frame)

    key = f"tour:history:{midnight:%Y%m%d}:{rules.history_days}"
    got = live.cache.get(key)
    if got is None:
        with live.locks.setdefault(key, threading.Lock()):
            got = live.cache.get(key)
            if got is None:
                got = read()
                # A failure is retried next refresh, not kept for an hour.
                live.cache.set(key, got, timeout=live.ttl if isinstance(got, Failed) else HISTORY_TTL)
    return got  # type: ignore[no-any-return]


def _backtests(live: Live, points: pd.DataFrame, spots: pd.DataFrame, rules: TourismSettings, now: datetime):  # type: ignore[no-untyped-def]
    today = now.astimezone(TZ).date()
    caps = dict(zip(spots["spot_id"], spots["capacity_instant"].astype(int), strict=True))
    # A stable key (not hash(): it differs between worker processes) of everything the back-test depends on.
    digest = hashlib.sha1(
        f"{sorted(caps.items())}{rules.model_dump_json()}".encode(), usedforsecurity=False
    ).hexdigest()[:16]
    key = f"tour:backtest:{today:%Y%m%d}:{digest}"
    return cached(
        live.cache, live.locks, key, HISTORY_TTL, lambda: history_backtests(points, list(caps), caps, rules, today)
    )


def compute_view(live: Live, settings: Settings, scope: Scope, now: datetime) -> TourismView:
    """Every panel at ``scope`` from the live feeds; a failing feed fails only the panels that read it."""
    rules = settings.tourism
    day = day_kind(now.astimezone(TZ).date())
    areas: tuple[AreaRow, ...] | Failed
    frames = _frames(live, ("scenic_spots", "visitor_counts"))
    if isinstance(frames, Failed):
        areas = frames
        spots = None
    else:
        spots = with_capacities(frames["scenic_spots"], rules)
        history = history_points(live, rules, now)
        today = hourly_points(frames["visitor_counts"])
        today = today.loc[today["day"] == now.astimezone(TZ).date()]
        if isinstance(history, Failed):
            points, backtests = today, {}
        else:
            points = pd.concat([history, today], ignore_index=True) if len(history) else today
            backtests = _backtests(live, history, spots, rules, now)
        try:
            areas = area_rows(spots, frames["visitor_counts"], points, backtests, rules, scope, now)
        except (ValueError, KeyError) as exc:
            log.warning("tourism areas failed: %s", exc)
            areas = Failed("visitor_counts", f"{type(exc).__name__}: {exc}"[:300])
    near: Mapping[str, tuple[Nearby, ...]] | Failed
    more = _frames(live, ("key_places", "parking_lots", "parking_occupancy"))
    if spots is None:
        near = areas  # type: ignore[assignment]
    elif isinstance(more, Failed):
        near = more
    else:
        near = nearby(
            spots_in_scope(spots, scope),
            more["key_places"],
            more["parking_lots"],
            more["parking_occupancy"],
            rules.near_m,
            now,
        )
    return TourismView(scope.key, now, day, areas, near)
