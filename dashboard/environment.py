"""生态环境: what the environment scene shows, computed from the live feeds per scope.

Air follows HJ 633 (``dashboard.domain.air``), water GB 3838 (``dashboard.domain.water``), radiation the
station's own baseline (REFERENCE.md §8: the alert factor is our assumption and a setting). Every function
below except :func:`compute_view` and :func:`write_environment_events` is pure over frames, scope and "now",
so the unit tests pin each number by hand.

Results are plain frozen dataclasses (no pandas, no mapping proxies) so a whole view pickles into the shared
cache and every screen polling the same scope costs one computation per refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from dashboard.areas import Areas
from dashboard.domain import air, water
from dashboard.kpis import _aqi_of, _hourly_aqi_at
from dashboard.live import Failed, Live, hourly_latest, latest_per, panel, spark
from dashboard.scope import Scope
from dashboard.settings import EnvironmentSettings, Settings
from dashboard.timeutil import TZ
from datasources.base import WritableSource

log = logging.getLogger(__name__)

H = timedelta(hours=1)
#: Pollutants in table order (µg/m³, CO mg/m³).
POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")
_DAILY_MEANS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co")
#: Data validity (GB 3095-2012 Table 4, applied by HJ 663): a 24 h mean needs 20 hourly values, an 8 h mean 6,
#: the daily O₃ 8 h maximum 14 valid 8 h means.
MIN_HOURS_DAY, MIN_HOURS_8H, MIN_WINDOWS_8H = 20, 6, 14
#: How far back the newest reading may be for a station's "current" value (as the map layer does).
STATION_WITHIN = 3 * H
#: Episodes are reported over this window; readings this much older are read too, so that an episode that began
#: before the window keeps its start (and its event id) as the window slides.
EPISODE_WINDOW = 48 * H
EPISODE_LEAD = timedelta(days=5)
#: Operator states an automatic rule never overwrites (only "closed" survives the episode's end).
OPERATOR_STATES = frozenset({"acknowledged", "dispatched", "in_progress"})
#: Water class colours by grade (Ⅰ…劣Ⅴ): the usual convention of Chinese water-quality maps
#: (Ⅰ–Ⅱ blue, Ⅲ green, Ⅳ yellow, Ⅴ orange, 劣Ⅴ red); GB 3838 itself prescribes no colours.
WATER_COLOURS: tuple[str, ...] = ("#5ec8f2", "#1e90ff", "#2ecc71", "#f1c40f", "#f39c12", "#e74c3c")

T = TypeVar("T")


# ---- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AqiReading(air.AqiResult):
    """An AQI with when it holds: ``at`` is the hour end (hourly) or the day's start (daily)."""

    at: datetime

    @classmethod
    def of(cls, result: air.AqiResult, at: datetime) -> AqiReading:
        values = {f.name: getattr(result, f.name) for f in fields(result)}
        return cls(**values | {"iaqi": dict(result.iaqi)}, at=at)  # a plain dict: views are cached pickled


@dataclass(frozen=True)
class StationRow:
    """One air station: its latest hourly AQI, yesterday's daily AQI and a 24 h hourly AQI trend."""

    station_id: str
    name: str
    town_code: str
    hourly: AqiReading | None
    daily: AqiReading | None
    trend: tuple[float | None, ...]


@dataclass(frozen=True)
class TownRank:
    town_code: str
    name: str
    now: AqiReading | None


@dataclass(frozen=True)
class Episode:
    """A run of consecutive hours with AQI above the threshold at one station.

    Hours are stamped at their end (the feed's convention); ``end`` is None while the run reaches the
    station's newest hour (ongoing).
    """

    station_id: str
    start: datetime
    last: datetime
    end: datetime | None
    hours: int
    peak_aqi: int
    primary: tuple[str, ...]

    @property
    def ongoing(self) -> bool:
        return self.end is None

    @property
    def peak(self) -> air.AqiLevel:
        return air.aqi_level(self.peak_aqi)


@dataclass(frozen=True)
class EpisodeRow:
    episode: Episode
    station_name: str


@dataclass(frozen=True)
class AirView:
    """The air panels at one scope."""

    now: AqiReading | None
    hours: tuple[datetime, ...]
    trend: tuple[float | None, ...]
    days: tuple[date, ...]
    daily: tuple[int | None, ...]
    stations: tuple[StationRow, ...]
    ranking: tuple[TownRank, ...]
    episodes: tuple[EpisodeRow, ...]

    @property
    def good_days(self) -> tuple[int, int]:
        """(days with daily AQI ≤ 100, days with a daily AQI) over the daily trend (优良天数)."""
        known = [v for v in self.daily if v is not None]
        return sum(v <= 100 for v in known), len(known)


@dataclass(frozen=True)
class SectionRow:
    """One water section: latest sample's GB 3838 class, deciding items, target, and the grade trend."""

    section_id: str
    name: str
    waterbody: str
    target_class: int
    grade: int | None
    label: str
    deciding: tuple[str, ...]
    meets: bool | None
    at: datetime | None
    trend: tuple[int, ...]

    @property
    def colour(self) -> str:
        return WATER_COLOURS[self.grade - 1] if self.grade else "#5d6d7e"


@dataclass(frozen=True)
class ReservoirRow:
    """Latest level against the characteristic levels known for the reservoir (None where not published)."""

    reservoir_id: str
    name: str
    level_m: float | None
    at: datetime | None
    flood_limit_m: float | None
    design_flood_m: float | None
    check_flood_m: float | None
    normal_pool_m: float | None
    trend: tuple[float | None, ...]

    @property
    def flood_margin_m(self) -> float | None:
        """Metres below the flood-limit level (汛限水位); negative when above it."""
        return _diff(self.flood_limit_m, self.level_m)

    @property
    def pool_margin_m(self) -> float | None:
        """Metres below the normal pool level (正常蓄水位); negative when above it."""
        return _diff(self.normal_pool_m, self.level_m)


@dataclass(frozen=True)
class RadiationRow:
    station_id: str
    name: str
    dose: float | None
    baseline: float | None
    ratio: float | None
    alert: bool
    at: datetime | None
    trend: tuple[float | None, ...]


@dataclass(frozen=True)
class EnvironmentView:
    """Everything the scene shows at one scope; a panel whose feeds fail holds the :class:`Failed`."""

    scope_key: str
    now: datetime
    air: AirView | Failed
    water: tuple[SectionRow, ...] | Failed
    reservoirs: tuple[ReservoirRow, ...] | Failed
    radiation: tuple[RadiationRow, ...] | Failed
    radiation_factor: float


def _diff(ref: float | None, level: float | None) -> float | None:
    return None if ref is None or level is None else round(ref - level, 2)


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _time(value: object) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]


# ---- scope ------------------------------------------------------------------------------------------


def assets_in_scope(frame: pd.DataFrame, scope: Scope, areas: Areas, feed: str, key: str) -> pd.DataFrame:
    """The assets of ``feed`` inside ``scope``: an asset scope of this feed is that one asset, of another feed none."""
    if scope.level == "asset":
        return frame.loc[frame[key] == scope.code] if scope.feed == feed else frame.iloc[0:0]
    return areas.select(frame, scope)


def series_of(series: pd.DataFrame, assets: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of a series feed that belong to ``assets``."""
    return series.loc[series[key].isin(assets[key])]


# ---- air: hourly ------------------------------------------------------------------------------------


def latest_hourly(readings: pd.DataFrame, now: datetime, within: timedelta = STATION_WITHIN) -> dict[str, AqiReading]:
    """Per station, the real-time (1 h) AQI of its newest reading in (now − within, now]."""
    latest = latest_per(readings, "station_id", now, within)
    out = {}
    for row in latest.itertuples(index=False):
        conc = {p: float(getattr(row, p)) for p in POLLUTANTS if pd.notna(getattr(row, p))}
        if conc:
            at = pd.Timestamp(row.ts).to_pydatetime()
            out[str(row.station_id)] = AqiReading.of(air.aqi(conc, averaging="1h", observed_at=at), at)
    return out


def hourly_aqi_frame(readings: pd.DataFrame, since: datetime, until: datetime) -> pd.DataFrame:
    """Real-time AQI per station and hour in (since, until]: columns station_id, hour, aqi, level, primary.

    ``hour`` is the end of the averaging hour (a reading stamped 10:20 counts for the hour ending 11:00); of
    several readings in one hour the newest wins.
    """
    t = readings["ts"]
    sel = readings.loc[(t > pd.Timestamp(since)) & (t <= pd.Timestamp(until))]
    if sel.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("station_id", "hour", "aqi", "level", "primary")})
    sel = sel.assign(hour=sel["ts"].dt.ceil("h")).sort_values("ts").drop_duplicates(["station_id", "hour"], keep="last")
    scored = air.hourly_aqi(sel)
    return pd.concat([sel[["station_id", "hour"]], scored[["aqi", "level", "primary"]]], axis=1).reset_index(drop=True)


def trend_hours(now: datetime, hours: int = 24) -> tuple[datetime, ...]:
    """The hour ends of a trend ending at the last whole hour (oldest first), as :func:`dashboard.live.spark`."""
    top = pd.Timestamp(now).floor("h")
    return tuple(t.to_pydatetime() for t in pd.date_range(top - pd.Timedelta(hours=hours - 1), top, freq="h"))


def station_trends(readings: pd.DataFrame, now: datetime, hours: int = 24) -> dict[str, tuple[float | None, ...]]:
    """Per station, its hourly AQI for each of the last ``hours`` hours (None where it has no reading)."""
    per_hour = hourly_latest(readings, "station_id", now, hours)
    if per_hour.empty:
        return {}
    scored = per_hour.assign(aqi=air.hourly_aqi(per_hour)["aqi"])
    return {str(sid): spark(g.set_index("hour")["aqi"], now, hours) for sid, g in scored.groupby("station_id")}


def scope_trend(readings: pd.DataFrame, now: datetime, hours: int = 24) -> tuple[float | None, ...]:
    """Hourly AQI of the stations' mean concentrations, per hour (the AQI tile's sparkline, over ``hours``)."""
    per_hour = hourly_latest(readings, "station_id", now, hours)
    if per_hour.empty:
        return (None,) * hours
    means = per_hour.groupby("hour")[list(POLLUTANTS)].mean()
    values = pd.Series({h: _aqi_of(row, h) for h, row in means.iterrows()}, dtype=float)
    return spark(values, now, hours)


def scope_now(readings: pd.DataFrame, now: datetime) -> AqiReading | None:
    """The scope's current AQI: AQI of the mean concentrations over its stations (as the overview tile)."""
    result = _hourly_aqi_at(readings, now)
    if result is None:
        return None
    return AqiReading.of(result, latest_per(readings, "station_id", now, H)["ts"].max().to_pydatetime())


# ---- air: daily -------------------------------------------------------------------------------------


def daily_concentrations(readings: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Per station and local day in [first, last]: daily concentrations as HJ 633 rates a day.

    24 h means of PM2.5, PM10, SO₂, NO₂, CO; ``o3`` the day's highest 1 h value; ``o3_8h`` the day's highest
    8 h moving mean (windows ending 08:00…24:00, so within the day). An hour stamped at its end belongs to the
    day it started in (the hour ending 00:00 closes the previous day). Validity (GB 3095-2012 Table 4): NaN where
    a 24 h value has fewer than 20 hours, an 8 h mean fewer than 6, the O₃ 8 h maximum fewer than 14 valid means.
    Index (station_id, day).
    """
    start = (readings["ts"] - H).dt.tz_convert(TZ)
    sel = readings.assign(day=start.dt.date, slot=start.dt.hour)
    sel = sel.loc[(sel["day"] >= first) & (sel["day"] <= last)].sort_values("ts")
    sel = sel.drop_duplicates(["station_id", "day", "slot"], keep="last")
    groups = sel.groupby(["station_id", "day"])
    means = groups[list(_DAILY_MEANS)].mean().where(groups[list(_DAILY_MEANS)].count() >= MIN_HOURS_DAY)
    o3 = sel.pivot_table(index=["station_id", "day"], columns="slot", values="o3", aggfunc="last", dropna=False)
    o3 = o3.reindex(index=means.index, columns=range(24))
    grid = o3.to_numpy(dtype=float)
    enough = (~np.isnan(grid)).sum(axis=1) >= MIN_HOURS_DAY
    means["o3"] = np.where(enough, np.fmax.reduce(grid, axis=1, initial=-np.inf), np.nan) if len(grid) else []
    means["o3_8h"] = _o3_8h_max(grid) if len(grid) else []
    return means


def _o3_8h_max(grid: np.ndarray) -> np.ndarray:
    """Highest valid 8 h moving mean per row of a (days × 24 hourly slots) O₃ grid; NaN where too few."""
    windows = np.lib.stride_tricks.sliding_window_view(grid, 8, axis=1)  # windows ending at slots 7…23
    counts = (~np.isnan(windows)).sum(axis=2)
    sums = np.nansum(windows, axis=2)
    valid = counts >= MIN_HOURS_8H
    mean = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=valid)
    best = np.fmax.reduce(mean, axis=1, initial=-np.inf)
    return np.where(valid.sum(axis=1) >= MIN_WINDOWS_8H, best, np.nan)


def daily_aqi(concentrations: Mapping[str, float], day: date) -> AqiReading | None:
    """Daily AQI (HJ 633, 24 h rows) of one day's concentrations; None when none is valid."""
    conc = {k: float(v) for k, v in concentrations.items() if v is not None and not np.isnan(v)}
    if not conc:
        return None
    start = datetime.combine(day, time(), TZ)
    return AqiReading.of(air.aqi(conc, averaging="24h", observed_at=start), start)


def last_complete_day(now: datetime) -> date:
    """The last local (Asia/Shanghai) day that has ended."""
    return now.astimezone(TZ).date() - timedelta(days=1)


def station_daily(readings: pd.DataFrame, now: datetime) -> dict[str, AqiReading]:
    """Per station, the daily AQI of the last complete local day."""
    day = last_complete_day(now)
    table = daily_concentrations(readings, day, day)
    out = {}
    for (sid, d), row in table.iterrows():
        result = daily_aqi(row.to_dict(), d)
        if result is not None:
            out[str(sid)] = result
    return out


def scope_daily(
    readings: pd.DataFrame, now: datetime, days: int = 30
) -> tuple[tuple[date, ...], tuple[int | None, ...]]:
    """The scope's daily AQI over the last ``days`` complete local days (oldest first).

    Per day, the stations' mean of each daily concentration (as the good-days tile), then HJ 633's daily AQI.
    """
    last = last_complete_day(now)
    span = tuple(last - timedelta(days=i) for i in range(days - 1, -1, -1))
    table = daily_concentrations(readings, span[0], last)
    by_day = table.groupby(level="day").mean() if len(table) else table
    values = []
    for d in span:
        result = daily_aqi(by_day.loc[d].to_dict(), d) if d in by_day.index else None
        values.append(result.aqi if result else None)
    return span, tuple(values)


# ---- air: towns and stations ----------------------------------------------------------------------


def town_ranking(
    readings: pd.DataFrame, stations: pd.DataFrame, towns: pd.DataFrame, now: datetime
) -> tuple[TownRank, ...]:
    """The 镇街 by current hourly AQI of their stations' mean concentrations, best first (no data last)."""
    ranks = []
    for code, name in zip(towns["town_code"], towns["name"], strict=True):
        inside = stations.loc[stations["town_code"] == code]
        ranks.append(TownRank(str(code), str(name), scope_now(series_of(readings, inside, "station_id"), now)))
    return tuple(sorted(ranks, key=lambda r: (r.now is None, r.now.aqi if r.now else 0, r.town_code)))


def station_table(readings: pd.DataFrame, stations: pd.DataFrame, now: datetime) -> tuple[StationRow, ...]:
    """Per station (by id): latest hourly AQI, yesterday's daily AQI, 24 h hourly AQI trend."""
    mine = series_of(readings, stations, "station_id")
    hourly, daily, trends = latest_hourly(mine, now), station_daily(mine, now), station_trends(mine, now)
    return tuple(
        StationRow(
            str(s.station_id),
            str(s.name),
            str(s.town_code),
            hourly.get(s.station_id),
            daily.get(s.station_id),
            trends.get(s.station_id, (None,) * 24),
        )
        for s in stations.sort_values("station_id").itertuples(index=False)
    )


# ---- air: episodes ----------------------------------------------------------------------------------


def find_episodes(hourly: pd.DataFrame, threshold: int, min_hours: int) -> tuple[Episode, ...]:
    """Runs of at least ``min_hours`` consecutive hours with AQI strictly above ``threshold``, per station.

    ``hourly`` has station_id, hour, aqi, primary (:func:`hourly_aqi_frame`). A missing hour breaks a run as
    a clean hour does (continuity cannot be claimed). A run that reaches the station's newest hour is ongoing.
    The primary pollutant is the peak hour's.
    """
    if hourly.empty:
        return ()
    h = hourly.sort_values(["station_id", "hour"]).reset_index(drop=True)
    above = h["aqi"].gt(threshold)
    joined = h["station_id"].eq(h["station_id"].shift()) & h["hour"].diff().eq(pd.Timedelta(hours=1))
    run = (above & ~(above.shift(fill_value=False) & joined)).cumsum()
    newest = ~h["station_id"].eq(h["station_id"].shift(-1))
    found = []
    for _, g in h.loc[above].groupby(run[above]):
        if len(g) < min_hours:
            continue
        peak = g.loc[g["aqi"].idxmax()]
        last = g["hour"].iloc[-1].to_pydatetime()
        found.append(
            Episode(
                station_id=str(g["station_id"].iloc[0]),
                start=g["hour"].iloc[0].to_pydatetime(),
                last=last,
                end=None if newest.loc[g.index[-1]] else last,
                hours=len(g),
                peak_aqi=int(peak["aqi"]),
                primary=tuple(p for p in str(peak["primary"]).split(",") if p),
            )
        )
    return tuple(found)


def recent_episodes(readings: pd.DataFrame, rules: EnvironmentSettings, now: datetime) -> tuple[Episode, ...]:
    """Episodes ongoing or ended within the last 48 h (their start may lie earlier, up to 5 days)."""
    hourly = hourly_aqi_frame(readings, now - EPISODE_WINDOW - EPISODE_LEAD, now)
    found = find_episodes(hourly, rules.episode_aqi, rules.episode_hours)
    return tuple(e for e in found if e.ongoing or e.last > now - EPISODE_WINDOW)


def episode_severity(peak_aqi: int) -> int:
    """Event severity 1–4 from the peak's HJ 633 level: 轻度 → 1, 中度 → 2, 重度 → 3, 严重 → 4 (优/良 → 1)."""
    return min(4, max(1, air.aqi_level(peak_aqi).level - 2))


def episode_id(episode: Episode) -> str:
    """Deterministic event id: ``env-aqi-<station>-<start hour, local YYYYMMDDHH>``."""
    return f"env-aqi-{episode.station_id}-{episode.start.astimezone(TZ):%Y%m%d%H}"


def episode_title(episode: Episode, station_name: str) -> str:
    return f"{station_name} 空气{episode.peak.category}持续 {episode.hours} 小时（峰值 AQI {episode.peak_aqi}）"


def episode_events(episodes: tuple[Episode, ...], stations: pd.DataFrame) -> pd.DataFrame:
    """The episodes as rows of the ``events`` feed (rule ``aqi_episode``, dated at the episode's start)."""
    by_id = stations.set_index("station_id")
    rows = [
        {
            "event_id": episode_id(e),
            "ts": pd.Timestamp(e.start),
            "domain": "environment",
            "rule_id": "aqi_episode",
            "severity": episode_severity(e.peak_aqi),
            "lon": float(by_id.at[e.station_id, "lon"]),
            "lat": float(by_id.at[e.station_id, "lat"]),
            "town_code": str(by_id.at[e.station_id, "town_code"]),
            "state": "new" if e.ongoing else "resolved",
            "title": episode_title(e, str(by_id.at[e.station_id, "name"])),
        }
        for e in episodes
        if e.station_id in by_id.index
    ]
    columns = ("event_id", "ts", "domain", "rule_id", "severity", "lon", "lat", "town_code", "state", "title")
    return pd.DataFrame(rows, columns=list(columns))


def keep_operator_states(events: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Don't undo what an operator did: a closed event stays closed, an acknowledged/dispatched one keeps its
    state while the episode goes on (it becomes "resolved" when the episode ends), and one an operator resolved
    while the episode went on stays resolved (the same episode does not come back as "new")."""
    if events.empty or stored.empty:
        return events
    before = stored.set_index("event_id")["state"]
    old = events["event_id"].map(before)
    keep = old.eq("closed") | (old.isin(OPERATOR_STATES | {"resolved"}) & events["state"].eq("new"))
    return events.assign(state=events["state"].where(~keep, old))


def write_environment_events(
    store: WritableSource, source: Live | Mapping[str, pd.DataFrame], settings: Settings, now: datetime
) -> int:
    """Upsert the AQI episodes of the last 48 h into the store's ``events``; returns the rows written.

    ``source`` is the app's :class:`Live` or frames of ``air_readings`` and ``air_stations``. Ids are
    deterministic, so calling it every tick rewrites the same events (titles and states follow the episode).
    """
    frames = _air_frames(source)
    if frames is None:
        return 0
    readings, stations = frames
    events = episode_events(recent_episodes(readings, settings.environment, now), stations)
    if events.empty:
        return 0
    stored = store.read("events", start=now - EPISODE_WINDOW - EPISODE_LEAD - 24 * H, end=now).frame
    events = keep_operator_states(events, stored)
    return store.write("events", events, now=now, origin="rules:environment").written


def _air_frames(source: Live | Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    if not isinstance(source, Live):
        return source["air_readings"], source["air_stations"]
    got = [source.rows(feed) for feed in ("air_readings", "air_stations")]
    failed = [g for g in got if isinstance(g, Failed)]
    if failed:
        log.warning("environment events skipped: %s failing (%s)", failed[0].feed, failed[0].error)
        return None
    return got[0].frame, got[1].frame  # type: ignore[union-attr]


# ---- water, reservoirs, radiation -------------------------------------------------------------------


def _sample(row: object) -> dict[str, float]:
    return {item: float(getattr(row, item)) for item in water.ITEMS if pd.notna(getattr(row, item, None))}


def water_table(samples: pd.DataFrame, sections: pd.DataFrame, now: datetime) -> tuple[SectionRow, ...]:
    """Per section (by id): the newest sample's class (single factor) with its deciding items, target and whether
    it meets it (within 2 days, as the water tile), and the grades of its samples up to now (oldest first)."""
    mine = series_of(samples, sections, "section_id")
    mine = mine.loc[mine["ts"] <= pd.Timestamp(now)].sort_values("ts")
    recent = mine["ts"] > pd.Timestamp(now - timedelta(days=2))
    return tuple(
        _section_row(s, mine.loc[mine["section_id"] == s.section_id], recent)
        for s in sections.sort_values("section_id").itertuples(index=False)
    )


def _section_row(section: Any, samples: pd.DataFrame, recent: pd.Series) -> SectionRow:
    body, target = str(section.waterbody), int(section.target_class)
    grades = [water.water_class(_sample(r), waterbody=body) for r in samples.itertuples(index=False)]
    latest = grades[-1] if len(grades) and bool(recent.loc[samples.index[-1]]) else None
    return SectionRow(
        section_id=str(section.section_id),
        name=str(section.name),
        waterbody=body,
        target_class=target,
        grade=latest.grade if latest else None,
        label=latest.label if latest else "—",
        deciding=latest.deciding if latest else (),
        meets=water.meets(latest.grade, target) if latest else None,
        at=_time(samples["ts"].iloc[-1]) if latest else None,
        trend=tuple(g.grade for g in grades),
    )


def reservoir_table(levels: pd.DataFrame, reservoirs: pd.DataFrame, now: datetime) -> tuple[ReservoirRow, ...]:
    """Per reservoir (by id): newest level within 3 h, its characteristic levels, and a 24 h hourly trend."""
    mine = series_of(levels, reservoirs, "reservoir_id")
    latest = latest_per(mine, "reservoir_id", now, STATION_WITHIN).set_index("reservoir_id")
    hourly = hourly_latest(mine, "reservoir_id", now)
    rows = []
    for r in reservoirs.sort_values("reservoir_id").itertuples(index=False):
        rid = r.reservoir_id
        found = rid in latest.index
        rows.append(
            ReservoirRow(
                reservoir_id=str(rid),
                name=str(r.name),
                level_m=_num(latest.at[rid, "level_m"]) if found else None,
                at=_time(latest.at[rid, "ts"]) if found else None,
                flood_limit_m=_num(getattr(r, "flood_limit_m", None)),
                design_flood_m=_num(getattr(r, "design_flood_m", None)),
                check_flood_m=_num(getattr(r, "check_flood_m", None)),
                normal_pool_m=_num(getattr(r, "normal_pool_m", None)),
                trend=spark(hourly.loc[hourly["reservoir_id"] == rid].set_index("hour")["level_m"], now),
            )
        )
    return tuple(rows)


def radiation_table(
    readings: pd.DataFrame, stations: pd.DataFrame, now: datetime, factor: float
) -> tuple[RadiationRow, ...]:
    """Per station (by id): newest dose rate within 3 h against its baseline; alert when dose > factor × baseline."""
    mine = series_of(readings, stations, "station_id")
    latest = latest_per(mine, "station_id", now, STATION_WITHIN).set_index("station_id")
    hourly = hourly_latest(mine, "station_id", now)
    rows = []
    for s in stations.sort_values("station_id").itertuples(index=False):
        dose = _num(latest.at[s.station_id, "dose_ngy_h"]) if s.station_id in latest.index else None
        base = _num(s.baseline_ngy_h)
        ratio = dose / base if dose is not None and base else None
        rows.append(
            RadiationRow(
                str(s.station_id),
                str(s.name),
                dose,
                base,
                ratio,
                ratio is not None and ratio > factor,
                _time(latest.at[s.station_id, "ts"]) if dose is not None else None,
                spark(hourly.loc[hourly["station_id"] == s.station_id].set_index("hour")["dose_ngy_h"], now),
            )
        )
    return tuple(rows)


# ---- the scene ----------------------------------------------------------------------------------------

Frames = Mapping[str, pd.DataFrame]


def air_view(f: Frames, scope: Scope, areas: Areas, now: datetime, rules: EnvironmentSettings) -> AirView:
    """The air panels at ``scope``: stations in scope; the town ranking always over all 10 镇街."""
    stations = assets_in_scope(f["air_stations"], scope, areas, "air_stations", "station_id")
    readings = series_of(f["air_readings"], stations, "station_id")
    days, daily = scope_daily(readings, now)
    names = dict(zip(stations["station_id"], stations["name"], strict=True))
    return AirView(
        now=scope_now(readings, now),
        hours=trend_hours(now),
        trend=scope_trend(readings, now),
        days=days,
        daily=daily,
        stations=station_table(readings, stations, now),
        ranking=town_ranking(f["air_readings"], f["air_stations"], f["towns"], now),
        episodes=tuple(
            EpisodeRow(e, str(names[e.station_id]))
            for e in sorted(recent_episodes(readings, rules, now), key=lambda e: (not e.ongoing, -e.start.timestamp()))
        ),
    )


#: Each panel's feeds: if one fails, that panel alone says 数据源异常.
PANEL_FEEDS: Mapping[str, tuple[str, ...]] = {
    "air": ("air_readings", "air_stations", "towns"),
    "water": ("water_samples", "water_sections"),
    "reservoirs": ("reservoir_levels", "reservoirs"),
    "radiation": ("radiation_readings", "radiation_stations"),
}


def compute_view(live: Live, settings: Settings, scope: Scope, now: datetime) -> EnvironmentView:
    """Every panel at ``scope`` from the live feeds; a failing feed fails only its panels."""
    areas = live.areas()
    rules = settings.environment
    factor = rules.radiation_alert_factor

    def water_panel(f: Frames, a: Areas) -> tuple[SectionRow, ...]:
        return water_table(
            f["water_samples"], assets_in_scope(f["water_sections"], scope, a, "water_sections", "section_id"), now
        )

    def reservoir_panel(f: Frames, a: Areas) -> tuple[ReservoirRow, ...]:
        return reservoir_table(
            f["reservoir_levels"], assets_in_scope(f["reservoirs"], scope, a, "reservoirs", "reservoir_id"), now
        )

    def radiation_panel(f: Frames, a: Areas) -> tuple[RadiationRow, ...]:
        inside = assets_in_scope(f["radiation_stations"], scope, a, "radiation_stations", "station_id")
        return radiation_table(f["radiation_readings"], inside, now, factor)

    return EnvironmentView(
        scope_key=scope.key,
        now=now,
        air=_panel(live, areas, PANEL_FEEDS["air"], lambda f, a: air_view(f, scope, a, now, rules)),
        water=_panel(live, areas, PANEL_FEEDS["water"], water_panel),
        reservoirs=_panel(live, areas, PANEL_FEEDS["reservoirs"], reservoir_panel),
        radiation=_panel(live, areas, PANEL_FEEDS["radiation"], radiation_panel),
        radiation_factor=factor,
    )


def _panel(
    live: Live, areas: Areas | Failed, feeds: tuple[str, ...], compute: Callable[[Frames, Areas], T]
) -> T | Failed:
    return panel(live, areas, feeds, compute, "environment")
