"""KPI tiles: definitions as data, values computed per scope from the live feeds.

A tile spec names its feeds; if any fails the tile shows 数据源异常, if the
newest data is older than the feed's limit it carries a stale badge. Every
value comes with the same time yesterday (where history allows), a 24 h
sparkline and its data time. Computation is pure over the frames that
:class:`~dashboard.live.Live` reads once per refresh.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from dashboard.areas import Areas
from dashboard.domain import air, rating, tourism, traffic, video, water
from dashboard.health import freshness_limit
from dashboard.live import Failed, Live, Rows, hourly_latest, latest_per, renewed, spark, spread
from dashboard.scope import Scope
from dashboard.settings import Settings
from dashboard.timeutil import TZ
from datasources.contracts import CONTRACTS

H = timedelta(hours=1)
Format = Literal["pct", "int", "float1", "star", "aqi", "ratio"]


@dataclass(frozen=True)
class TileSpec:
    id: str
    domain: str
    title_zh: str
    title_en: str
    unit: str
    fmt: Format
    feeds: tuple[str, ...]
    #: (good, bad) limits: a value on the good side of ``good`` is ok, past
    #: ``bad`` is bad, between is a warning. ``direction`` says which side is good.
    thresholds: tuple[float, float] | None = None
    direction: Literal["higher", "lower"] | None = None
    drill: str = "/"
    note_zh: str = ""
    note_en: str = ""
    #: A feed that gives the tile its yesterday and sparkline only (e.g. daily snapshots of a state feed):
    #: read when it can be, never failing the tile nor judging its freshness.
    history: str | None = None


@dataclass(frozen=True)
class Tile:
    spec: TileSpec
    value: float | None = None
    previous: float | None = None
    spark: tuple[float | None, ...] = ()
    data_time: datetime | None = None
    label: str = ""  # e.g. the AQI category or crowding band
    stale: bool = False
    failing: str | None = None
    #: A feed of the tile fails now and the value is from its last rows (shown dimmed, marked 数据源异常): why.
    degraded: str | None = None

    @property
    def level(self) -> Literal["ok", "warn", "bad", "none"]:
        """Threshold colour of the value."""
        spec = self.spec
        if self.value is None or spec.thresholds is None or spec.direction is None:
            return "none"
        good, bad = spec.thresholds
        sign = 1 if spec.direction == "higher" else -1
        if sign * self.value >= sign * good:
            return "ok"
        return "bad" if sign * self.value <= sign * bad else "warn"


@dataclass(frozen=True)
class Computed:
    value: float | None
    previous: float | None = None
    spark: tuple[float | None, ...] = ()
    data_time: datetime | None = None
    label: str = ""


Frames = Mapping[str, pd.DataFrame]
Compute = Callable[[Frames, Scope, Areas, datetime], Computed]


@dataclass(frozen=True)
class Catalogue:
    specs: tuple[TileSpec, ...]
    compute: Mapping[str, Compute] = field(hash=False)

    def for_domain(self, domain: str) -> tuple[TileSpec, ...]:
        return tuple(s for s in self.specs if s.domain == domain)


# ---- computations ----------------------------------------------------------------------


def _scoped_series(series: pd.DataFrame, assets: pd.DataFrame, key: str, areas: Areas, scope: Scope) -> pd.DataFrame:
    """Series rows whose asset lies in scope (assets carry town/village codes)."""
    if scope.level == "asset":
        return series.loc[series[key] == scope.code] if key in series else series.iloc[0:0]
    inside = areas.select(assets, scope)[key]
    return series.loc[series[key].isin(inside)]


def _tpi_at(speeds: pd.DataFrame, segments: pd.DataFrame, at: datetime, within: timedelta) -> float | None:
    now = latest_per(speeds, "segment_id", at, within)
    if now.empty:
        return None
    joined = now.merge(segments[["segment_id", "road_class", "length_m"]], on="segment_id")
    return traffic.district_tpi(joined[["length_m", "speed_kmh", "road_class"]])


def tpi(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    speeds = _scoped_series(f["segment_speeds"], f["road_segments"], "segment_id", areas, scope)
    segs = f["road_segments"]
    value = _tpi_at(speeds, segs, now, timedelta(minutes=10))
    hourly = hourly_latest(speeds, "segment_id", now).merge(segs[["segment_id", "road_class", "length_m"]])
    per_hour = pd.Series(dtype=float)
    if len(hourly):  # one vectorised pass over all hours, the same formula as district_tpi
        levels = traffic.segment_levels(hourly["speed_kmh"], hourly["road_class"])
        length = hourly["length_m"].astype(float)
        weighted = length * levels.map(traffic.CONGESTION_WEIGHTS)
        sums = pd.DataFrame({"hour": hourly["hour"], "w": weighted, "l": length}).groupby("hour")[["w", "l"]].sum()
        per_hour = (sums["w"] / sums["l"]).loc[sums["l"] > 0].map(traffic.tpi_from_ratio)
    return Computed(
        value,
        _tpi_at(speeds, segs, now - 24 * H, H),
        spark(per_hour, now),
        speeds["ts"].max() if len(speeds) else None,
        traffic.tpi_level(value)[1] if value is not None else "",
    )


def bus_on_time(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    pings = areas.select(f["bus_positions"], scope) if scope.level != "asset" else f["bus_positions"].iloc[0:0]
    latest = latest_per(pings, "vehicle_id", now, timedelta(minutes=3))
    if latest.empty:
        return Computed(None, data_time=pings["ts"].max() if len(pings) else None)
    # On time: within −1/+3 min of schedule (REFERENCE.md §4, common practice).
    on_time = latest["delay_s"].between(-60, 180).mean()
    return Computed(float(on_time), data_time=latest["ts"].max(), label=f"{len(latest)}")


def _occupancy_at(occ: pd.DataFrame, lots: pd.DataFrame, at: datetime, within: timedelta) -> float | None:
    now = latest_per(occ, "lot_id", at, within).merge(lots[["lot_id", "capacity"]], on="lot_id")
    return float(now["occupied"].sum() / now["capacity"].sum()) if len(now) else None


def parking(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    occ = _scoped_series(f["parking_occupancy"], f["parking_lots"], "lot_id", areas, scope)
    lots = f["parking_lots"]
    hourly = hourly_latest(occ, "lot_id", now).merge(lots[["lot_id", "capacity"]])
    sums = hourly.groupby("hour")[["occupied", "capacity"]].sum()
    return Computed(
        _occupancy_at(occ, lots, now, timedelta(minutes=30)),
        _occupancy_at(occ, lots, now - 24 * H, timedelta(minutes=30)),
        spark(sums["occupied"] / sums["capacity"], now),
        occ["ts"].max() if len(occ) else None,
    )


def accidents_today(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    acc = areas.select(f["accidents"], scope) if scope.level != "asset" else f["accidents"].iloc[0:0]
    midnight = pd.Timestamp(now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0))
    days = [midnight - pd.Timedelta(days=i) for i in range(6, -1, -1)]
    counts = tuple(float(((acc["ts"] >= d) & (acc["ts"] < d + pd.Timedelta(days=1))).sum()) for d in days)
    yesterday = float(((acc["ts"] >= days[-2]) & (acc["ts"] <= pd.Timestamp(now) - pd.Timedelta(days=1))).sum())
    return Computed(counts[-1], yesterday, counts, acc["ts"].max() if len(acc) else None)


def _cameras(f: Frames, scope: Scope, areas: Areas) -> pd.DataFrame:
    cams = f["cameras"]
    if scope.level == "asset":
        return cams.loc[cams["camera_id"] == scope.code] if scope.feed == "cameras" else cams.iloc[0:0]
    return areas.select(cams, scope)


#: Days of daily history a video tile's sparkline shows.
VIDEO_SPARK_DAYS = 30


def _video(rate: str) -> Compute:
    def compute(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
        cams = _cameras(f, scope, areas)
        if cams.empty:
            return Computed(None)
        value = getattr(video.health(cams), rate)
        previous, trend = _video_history(f, scope, areas, now, rate)
        return Computed(value, previous, trend, data_time=cams["status_since"].max(), label=f"{len(cams)}")

    return compute


def _video_history(
    f: Frames, scope: Scope, areas: Areas, now: datetime, rate: str
) -> tuple[float | None, tuple[float | None, ...]]:
    """Yesterday's rate and one value per day (oldest first) from the daily snapshots, where there are any.

    Camera status is a state feed: its past lives only in ``camera_status_daily`` (one sample per 村居 and
    local day), so a video tile's "vs yesterday" is against yesterday's closing sample and its sparkline is daily.
    """
    daily = f.get("camera_status_daily")
    if daily is None or daily.empty or scope.level == "asset":
        return None, ()
    rates = video.daily_rates(areas.select(daily, scope))
    by_day = pd.Series(rates[rate].to_numpy(), index=pd.to_datetime(rates["date"]).dt.date)
    today = now.astimezone(TZ).date()
    days = [today - timedelta(days=n) for n in range(VIDEO_SPARK_DAYS - 1, -1, -1)]
    values = tuple(None if pd.isna(v) else float(v) for v in by_day.reindex(days))
    return values[-2], values


def cameras_down(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    cams = _cameras(f, scope, areas)
    down = cams.loc[cams["status"] != "online"]
    return Computed(float(len(down)), data_time=cams["status_since"].max() if len(cams) else None)


_POLLUTANTS = ("pm25", "pm10", "so2", "no2", "o3", "co")


def _air_scoped(f: Frames, scope: Scope, areas: Areas) -> pd.DataFrame:
    return _scoped_series(f["air_readings"], f["air_stations"], "station_id", areas, scope)


def _hourly_aqi_at(readings: pd.DataFrame, at: datetime) -> air.AqiResult | None:
    """AQI of the mean concentrations over the stations in scope, for the hour ending ``at``."""
    hour = latest_per(readings, "station_id", at, H)
    if hour.empty:
        return None
    means = {p: float(v) for p, v in hour[list(_POLLUTANTS)].mean().items() if not np.isnan(v)}
    return air.aqi(means, averaging="1h", observed_at=hour["ts"].max().to_pydatetime()) if means else None


def aqi_now(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    readings = _air_scoped(f, scope, areas)
    current = _hourly_aqi_at(readings, now)
    before = _hourly_aqi_at(readings, now - 24 * H)
    means = hourly_latest(readings, "station_id", now).groupby("hour")[list(_POLLUTANTS)].mean()
    per_hour = pd.Series({h: _aqi_of(row, h) for h, row in means.iterrows()}, dtype=float)
    return Computed(
        current.aqi if current else None,
        before.aqi if before else None,
        spark(per_hour, now),
        readings["ts"].max() if len(readings) else None,
        current.category if current else "",
    )


def _aqi_of(means: pd.Series, hour: pd.Timestamp) -> float | None:
    conc = {p: float(v) for p, v in means.items() if not np.isnan(v)}
    return air.aqi(conc, averaging="1h", observed_at=hour.to_pydatetime()).aqi if conc else None


def good_days(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    """Share of the last 30 complete days with daily AQI ≤ 100 (优良天数比例),
    by the same daily rule the environment scene shows (HJ 633, GB 3095 validity)."""
    # Imported here: the environment module builds on this one's air helpers.
    from dashboard.environment import scope_daily

    readings = _air_scoped(f, scope, areas)
    if readings.empty:
        return Computed(None)
    _days, values = scope_daily(readings, now, 30)
    rated = [v for v in values if v is not None]
    value = float(np.mean([v <= 100 for v in rated])) if rated else None
    return Computed(value, data_time=readings["ts"].max(), label=f"{len(rated)}")


def _section_grades(f: Frames, scope: Scope, areas: Areas, now: datetime) -> pd.DataFrame:
    """Per section in scope: its latest sample's GB 3838 grade (1–6) and its target class."""
    sections = f["water_sections"]
    samples = _scoped_series(f["water_samples"], sections, "section_id", areas, scope)
    latest = latest_per(samples, "section_id", now, timedelta(days=2))
    merged = latest.merge(sections[["section_id", "waterbody", "target_class"]], on="section_id")
    grades = [
        water.water_class({k: r[k] for k in water.ITEMS if pd.notna(r[k])}, waterbody=r["waterbody"]).grade
        for _, r in merged.iterrows()
    ]
    return merged.assign(grade=pd.Series(grades, index=merged.index, dtype="Int64"))


def water_meeting(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    """Share of sections whose latest sample meets the section's own target class."""
    graded = _section_grades(f, scope, areas, now)
    if graded.empty:
        return Computed(None)
    ok = [water.meets(int(g), int(t)) for g, t in zip(graded["grade"], graded["target_class"], strict=True)]
    return Computed(float(np.mean(ok)), data_time=graded["ts"].max(), label=f"{sum(ok)}/{len(ok)}")


def water_class3(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    """Share of sections at class Ⅲ or better (the usual 达到或优于Ⅲ类 measure)."""
    graded = _section_grades(f, scope, areas, now)
    if graded.empty:
        return Computed(None)
    good = graded["grade"] <= 3
    return Computed(float(good.mean()), data_time=graded["ts"].max(), label=f"{int(good.sum())}/{len(graded)}")


def environment_alerts(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    """Environment events the rules raised that are still open (not resolved or closed)."""
    events = f["events"]
    events = events.loc[(events["domain"] == "environment") & ~events["state"].isin(("resolved", "closed"))]
    if scope.town_code:
        events = events.loc[events["town_code"] == scope.town_code]
    return Computed(float(len(events)), data_time=f["events"]["ts"].max() if len(f["events"]) else None)


def radiation_ratio(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    stations = f["radiation_stations"]
    readings = _scoped_series(f["radiation_readings"], stations, "station_id", areas, scope)
    latest = latest_per(readings, "station_id", now, 3 * H).merge(stations[["station_id", "baseline_ngy_h"]])
    latest = latest.loc[latest["baseline_ngy_h"].notna()]
    if latest.empty:
        return Computed(None)
    return Computed(float((latest["dose_ngy_h"] / latest["baseline_ngy_h"]).max()), data_time=latest["ts"].max())


def _spots_now(f: Frames, scope: Scope, areas: Areas, now: datetime) -> pd.DataFrame:
    counts = _scoped_series(f["visitor_counts"], f["scenic_spots"], "spot_id", areas, scope)
    latest = latest_per(counts, "spot_id", now, timedelta(minutes=30))
    return latest.merge(f["scenic_spots"][["spot_id", "capacity_instant"]], on="spot_id")


def visitors(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    counts = _scoped_series(f["visitor_counts"], f["scenic_spots"], "spot_id", areas, scope)

    def total(at: datetime) -> float | None:
        rows = latest_per(counts, "spot_id", at, timedelta(minutes=30))
        return float(rows["in_park"].sum()) if len(rows) else None

    per_hour = hourly_latest(counts, "spot_id", now).groupby("hour")["in_park"].sum()
    return Computed(total(now), total(now - 24 * H), spark(per_hour, now), counts["ts"].max() if len(counts) else None)


def _crowding(f: Frames) -> Callable[[int, int], tourism.Crowding]:
    """:func:`tourism.crowding` under the configured bands and early-warning share (``tourism_rules``, one row),
    else under the defaults."""
    given = f.get("tourism_rules")
    if given is None or not len(given):
        return tourism.crowding
    bands, warning_at = given["bands"].iloc[0], given["warning_at"].iloc[0]
    bands = bands if isinstance(bands, (list, tuple)) else None  # none configured: REFERENCE.md §6's
    return partial(tourism.crowding, bands=bands, warning_at=float(warning_at))


def peak_load(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    spots = _spots_now(f, scope, areas, now)
    if spots.empty:
        return Computed(None)
    ratios = spots["in_park"] / spots["capacity_instant"]
    worst = spots.loc[ratios.idxmax()]
    band = _crowding(f)(int(worst["in_park"]), int(worst["capacity_instant"]))
    return Computed(float(ratios.max()), data_time=spots["ts"].max(), label=band.band)


def spots_warning(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    spots = _spots_now(f, scope, areas, now)
    if spots.empty:
        return Computed(None)
    crowding = _crowding(f)
    warn = sum(crowding(int(r.in_park), int(r.capacity_instant)).warning for r in spots.itertuples())
    return Computed(float(warn), data_time=spots["ts"].max(), label=f"{len(spots)}")


def star_rating(f: Frames, scope: Scope, areas: Areas, now: datetime) -> Computed:
    """The district's composite (value) and star (label); ``rating_rules`` (one row) carries the configured rules."""
    given = f.get("rating_rules")
    rules = rating.Rules(**given.iloc[0].to_dict()) if given is not None and len(given) else rating.Rules()
    result = rating.evaluate(f["rating_indicators"], f["rating_values"], rules, rating.period_of(now))
    return Computed(round(result.composite, 2), label=f"{result.star}★")


COMPUTE: dict[str, Compute] = {
    "tpi": tpi,
    "bus_on_time": bus_on_time,
    "parking": parking,
    "accidents": accidents_today,
    "working_rate": _video("working_rate"),
    "networking_rate": _video("networking_rate"),
    "hd_share": _video("hd_share"),
    "cameras_down": cameras_down,
    "aqi": aqi_now,
    "good_days": good_days,
    "water_meeting": water_meeting,
    "water_class3": water_class3,
    "env_alerts": environment_alerts,
    "radiation": radiation_ratio,
    "visitors": visitors,
    "peak_load": peak_load,
    "spots_warning": spots_warning,
    "star": star_rating,
}
TILES_FILE = Path(__file__).with_name("kpis.toml")


def load_catalogue(path: Path = TILES_FILE) -> Catalogue:
    """The tile definitions from their data file, checked against the code.

    Raises ValueError naming the tile and the problem (no computation for an
    id, an unknown feed, thresholds without a direction…).
    """
    with path.open("rb") as fh:
        entries = tomllib.load(fh).get("tile", [])
    specs = tuple(_tile_spec(entry, path) for entry in entries)
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate tile ids")
    return Catalogue(specs, {s.id: COMPUTE[s.id] for s in specs})


_SPEC = TypeAdapter(TileSpec)


def _tile_spec(entry: dict[str, Any], path: Path) -> TileSpec:
    tile = entry.get("id")
    unknown = set(entry) - ({f.name for f in fields(TileSpec)} | {"format"}) | ({"fmt"} & set(entry))
    problems = [f"unknown key {k!r}" for k in sorted(unknown)]
    if tile not in COMPUTE:
        problems.append(f"no computation for this id (known: {', '.join(COMPUTE)})")
    problems += [
        f"unknown feed {f!r}" for f in (*entry.get("feeds", ()), *[entry.get("history")]) if f and f not in CONTRACTS
    ]
    if ("thresholds" in entry) != ("direction" in entry):
        problems.append("thresholds and direction go together")
    try:
        spec = _SPEC.validate_python({**{k: v for k, v in entry.items() if k != "format"}, "fmt": entry.get("format")})
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    if problems:
        raise ValueError(f"{path}: tile {tile}: " + "; ".join(problems))
    return spec


CATALOGUE = load_catalogue()
DOMAINS = ("transport", "video", "environment", "tourism", "rating")


#: How long a tile's value computed over unchanged data is shown before it is computed again (a reading
#: ageing out of its window, a new hour in the sparkline): values lag the clock by less than this.
VALUE_BUCKET_S = 60


def compute_tiles(
    live: Live, settings: Settings, scope: Scope, now: datetime, specs: tuple[TileSpec, ...] | None = None
) -> tuple[Tile, ...]:
    """Every tile's value at ``scope``; a failing feed fails only its tiles.

    Each tile is memoised on the versions of its feeds: while they stand still
    it is computed once per ``VALUE_BUCKET_S`` (once per refresh interval when a
    feed has no version), however many screens ask, and in the background (the
    last bucket's value is answered meanwhile, see :func:`~dashboard.live.renewed`).
    When a feed moves, the tile is computed before the answer. Staleness is
    judged against ``now`` on every call.
    """
    return tuple(_memo_tile(spec, live, settings, scope, now) for spec in specs or CATALOGUE.specs)


def _memo_tile(spec: TileSpec, live: Live, settings: Settings, scope: Scope, now: datetime) -> Tile:
    versions = [live.version(f) for f in (*spec.feeds, *_history(spec), "towns", "villages")]
    step = live.ttl if None in versions else VALUE_BUCKET_S
    # Each tile's bucket starts at its own offset, so the tiles do not all recompute in the same refresh.
    bucket = int((now.timestamp() + bucket_offset(spec.id, step)) // step)
    over = f"tile:{spec.id}:{scope.key}:{'/'.join(map(str, versions))}:{step}"
    # A new bucket over the same data answers the last bucket's value while this one's is computed aside; a feed
    # without versions may have changed unseen, so its tiles are computed in the request.
    tile = renewed(
        live.cache,
        live.locks,
        f"{over}:{bucket}",
        None if None in versions else over,
        step,
        lambda: _tile(spec, live, live.areas(), settings, scope, now),
        lambda t: (t.failing is not None or t.degraded is not None) and live.ttl,
        lock=f"tile:{spec.id}:{scope.key}",
    )
    return replace(tile, stale=_stale(spec, tile.data_time, settings, now))


def bucket_offset(tile_id: str, step: int) -> int:
    """Where a tile's value bucket starts within ``step`` seconds: the catalogue's tiles evenly spaced, so that
    while no feed moves each refresh recomputes one or two of them (offsets from a hash put three of the
    dearest, TPI, AQI and radiation, in one 5 s slot while other slots held none)."""
    return spread(tile_id, [spec.id for spec in CATALOGUE.specs], step)


def _history(spec: TileSpec) -> tuple[str, ...]:
    return (spec.history,) if spec.history else ()


def _stale(spec: TileSpec, data_time: datetime | None, settings: Settings, now: datetime) -> bool:
    limits = [lim for lim in (freshness_limit(f, settings) for f in spec.feeds) if lim is not None]
    return bool(limits and data_time is not None and now - data_time > min(limits))


def _tile(spec: TileSpec, live: Live, areas: Areas | Failed, settings: Settings, scope: Scope, now: datetime) -> Tile:
    got = {feed: live.rows(feed) for feed in spec.feeds}
    failed = [g for g in (*got.values(), areas) if isinstance(g, Failed)]
    if failed:
        return Tile(spec, failing=failed[0].error)
    frames = {feed: g.frame for feed, g in got.items() if isinstance(g, Rows)}
    for feed in _history(spec):
        if isinstance(past := live.rows(feed), Rows):
            frames[feed] = past.frame
    if "scenic_spots" in frames:
        from dashboard.tourism_view import with_capacities

        # Configured capacities (entered or LB/T 034) replace the feed's, as in the tourism scene, and its
        # configured crowding bands and early-warning share come as one row: the tiles band as the scene does.
        frames["scenic_spots"] = with_capacities(frames["scenic_spots"], settings.tourism)
        frames["tourism_rules"] = pd.DataFrame(
            {"bands": [settings.tourism.bands], "warning_at": [settings.tourism.warning_at]}, dtype=object
        )
    if "rating_indicators" in frames and "rating_values" in frames:
        from dashboard.rating_view import tile_frames

        # The scene's values (derived ones included) and its configured rules: the badge says what the scene says.
        frames |= tile_frames(live, settings, frames, now)
    try:
        c = CATALOGUE.compute[spec.id](frames, scope, areas, now)  # type: ignore[arg-type]
    except (ValueError, KeyError) as exc:
        return Tile(spec, failing=f"{type(exc).__name__}: {exc}"[:300])
    data_time = c.data_time.to_pydatetime() if isinstance(c.data_time, pd.Timestamp) else c.data_time
    degraded = next((g.failed for g in got.values() if isinstance(g, Rows) and g.failed), None)
    stale = _stale(spec, data_time, settings, now)
    return Tile(spec, c.value, c.previous, c.spark, data_time, c.label, stale, degraded=degraded)
