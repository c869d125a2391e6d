"""Time series of the synthetic district: every value is a function of (seed, scale, t).

Each generator takes the grid of tick times (epoch seconds) and returns one
row per (tick, entity), vectorised over the whole grid. Values depend on the
absolute time only, never on the window or step, so adjacent windows join
seamlessly and an hourly history is a subset of the 5-minute feed.

Rhythms: local time is Asia/Shanghai; weekends and public holidays
(``holidays.China``, in-lieu working weekends counted as workdays) are
leisure days; rain, pollution episodes and accidents are deterministic
events drawn per day or per fortnight from the counter-based noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
import shapely

from datasources.contracts import contract
from datasources.synthetic import geography as geo
from datasources.synthetic import noise
from datasources.synthetic.assets import Assets

LOCAL = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_S = 86_400
HOUR_S = 3_600
_US = timedelta(microseconds=1)


# ---- time grid and calendar -------------------------------------------------------------------


def micros(at: datetime) -> int:
    """Microseconds since the Unix epoch of a tz-aware datetime (ValueError if naive)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware time")
    return (at - EPOCH) // _US


def grid(start: datetime, end: datetime, step: timedelta) -> np.ndarray:
    """Epoch seconds of the multiples of ``step`` in the half-open interval (start, end]."""
    step_us = step // _US
    if step_us <= 0 or step_us % 1_000_000:
        raise ValueError(f"step must be a positive whole number of seconds, not {step}")
    first = micros(start) // step_us + 1
    last = micros(end) // step_us
    return np.arange(first, last + 1, dtype=np.int64) * (step_us // 1_000_000)


def to_times(t: np.ndarray) -> pd.Series:
    """Epoch seconds as a tz-aware (UTC) datetime column."""
    return pd.Series(pd.to_datetime(np.asarray(t, dtype=np.int64), unit="s", utc=True).as_unit("ns"))


def wall_seconds(t: np.ndarray) -> np.ndarray:
    """Local (Asia/Shanghai) wall-clock seconds since the local epoch."""
    utc = pd.DatetimeIndex(np.asarray(t, dtype="datetime64[s]")).tz_localize("UTC")
    return np.asarray(utc.tz_convert(LOCAL).tz_localize(None).as_unit("s").asi8, dtype=np.int64)


def local_to_epoch(wall: np.ndarray) -> np.ndarray:
    """Local wall-clock seconds back to epoch seconds."""
    naive = pd.DatetimeIndex(np.asarray(wall, dtype="datetime64[s]"))
    return np.asarray(
        naive.tz_localize(LOCAL, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC").as_unit("s").asi8,
        dtype=np.int64,
    )


def day_date(day: int) -> date:
    """The local calendar date of a local day index."""
    return date(1970, 1, 1) + timedelta(days=int(day))


@lru_cache(maxsize=32)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


@lru_cache(maxsize=4096)
def day_kind(day: int) -> tuple[bool, bool, bool]:
    """(workday, public holiday, golden week) for a local day index."""
    d = day_date(day)
    cal = _calendar(d.year)
    holiday = d in cal
    spring = [h for h, name in cal.items() if "Spring Festival" in name]
    near_spring = bool(spring) and abs((d - min(spring)).days) <= 7
    workday = bool(cal.is_working_day(d))
    golden = not workday and ((d.month == 10 and d.day <= 8) or (d.month == 5 and d.day <= 5) or near_spring)
    return workday, holiday, golden


@dataclass(frozen=True)
class Clock:
    """Per-tick local time features."""

    t: np.ndarray
    sod: np.ndarray
    day: np.ndarray
    workday: np.ndarray
    holiday: np.ndarray
    golden: np.ndarray
    doy: np.ndarray
    month: np.ndarray

    @property
    def hod(self) -> np.ndarray:
        """Local hour of day as a float."""
        return self.sod / HOUR_S

    @property
    def leisure(self) -> np.ndarray:
        """Weekends and holidays (in-lieu working weekends excluded)."""
        return ~self.workday


def clock(t: np.ndarray) -> Clock:
    """Local time of day, day index, calendar flags, day of year and month of each tick."""
    wall = wall_seconds(t)
    day = wall // DAY_S
    uniq, inv = np.unique(day, return_inverse=True)
    kinds = np.array([day_kind(int(d)) for d in uniq], dtype=bool).reshape(-1, 3)
    dates = uniq.astype("datetime64[D]")
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return Clock(t, wall - day * DAY_S, day, kinds[inv, 0], kinds[inv, 1], kinds[inv, 2], doy[inv], month[inv])


def month_of_day(day: np.ndarray) -> np.ndarray:
    """Calendar month (1–12) of local day indices."""
    return np.asarray(day, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def rush(hod: np.ndarray, workday: np.ndarray) -> np.ndarray:
    """Traffic demand 0–1: commuter peaks 07:00–09:00 and 17:00–19:00 on workdays, flatter on leisure days."""
    am = window(hod, 7.1, 8.9, 0.3)
    pm = window(hod, 17.1, 18.9, 0.35)
    work = np.maximum(am, pm) + 0.3 * np.exp(-0.5 * ((hod - 12.3) / 0.8) ** 2)
    rest = 0.4 * np.exp(-0.5 * ((hod - 10.5) / 1.8) ** 2) + 0.4 * np.exp(-0.5 * ((hod - 17.0) / 1.6) ** 2)
    return np.clip(np.where(workday, work, rest), 0.0, 1.0)


def window(hod: np.ndarray, a: float, b: float, edge: float = 0.5) -> np.ndarray:
    """A soft 0–1 window from hour a to hour b."""
    return 1.0 / (1.0 + np.exp(-(hod - a) / edge)) / (1.0 + np.exp(-(b - hod) / edge))


def season(doy: np.ndarray) -> np.ndarray:
    """+1 in mid-January, −1 in mid-July."""
    return np.cos(2 * np.pi * (np.asarray(doy, float) - 15.0) / 365.25)


def heating(doy: np.ndarray) -> np.ndarray:
    """True in the heating season (Nov 15 – Mar 15)."""
    doy = np.asarray(doy)
    return (doy >= 319) | (doy <= 74)


def frame(t: np.ndarray, ids: np.ndarray, id_col: str, columns: dict[str, Any]) -> pd.DataFrame:
    """Rows of a (tick × entity) grid, ordered by time then entity."""
    n_t, n_e = len(t), len(ids)
    data: dict[str, Any] = {id_col: np.tile(np.asarray(ids, dtype=object), n_t), "ts": to_times(np.repeat(t, n_e))}
    for name, values in columns.items():
        data[name] = np.broadcast_to(values, (n_t, n_e)).ravel() if np.ndim(values) else values
    return pd.DataFrame(data)


# ---- weather -----------------------------------------------------------------------------------

_RAIN_P = np.array([0.08, 0.10, 0.14, 0.18, 0.22, 0.30, 0.45, 0.42, 0.28, 0.18, 0.12, 0.08])
#: Monthly totals (mm) summing to ~875 mm/yr (REFERENCE.md §1), most in July–August.
_RAIN_MM = np.array([12, 18, 25, 40, 62, 100, 255, 195, 80, 42, 28, 14], dtype=float)


def rain_mm(seed: int, day: Any) -> np.ndarray:
    """Daily rain (mm) of local day indices."""
    day = np.asarray(day, dtype=np.int64)
    m = month_of_day(day) - 1
    p = _RAIN_P[m]
    mean = _RAIN_MM[m] / (p * 30.4)
    wet = noise.uniform(seed, "rain-wet", day) < p
    return np.where(wet, -mean * np.log(noise.uniform(seed, "rain-mm", day)), 0.0)


def rain_hour(seed: int, day: Any) -> np.ndarray:
    """Local hour (0–23) at which the day's rain falls."""
    return np.floor(24 * noise.uniform(seed, "rain-hour", day))


def recent_rain(seed: int, c: Clock, days: int, half_life_days: float) -> np.ndarray:
    """Rain of the last ``days`` days, decayed by age; today's counts once it has fallen."""
    total = np.zeros(len(c.t))
    for j in range(days):
        d = c.day - j
        amount = rain_mm(seed, d)
        if j == 0:
            amount = np.where(c.hod >= rain_hour(seed, d), amount, 0.0)
        total += amount * 0.5 ** (j / half_life_days)
    return total


def episode(seed: int, c: Clock) -> tuple[np.ndarray, np.ndarray]:
    """Regional pollution episodes: (shape 0–1, peak PM2.5) per tick.

    Time is cut into 14-day blocks; a block holds at most one episode of 2–4
    days at 150–250 µg/m³, certain in Nov–Feb, likely in Oct and Mar, rare in
    summer. Episodes sit wholly inside their block, so any 30-day window of
    the cold season holds at least one.
    """
    block = c.day // 14
    month = month_of_day(block * 14 + 7)
    p = np.select([np.isin(month, (11, 12, 1, 2)), np.isin(month, (10, 3))], [1.0, 0.6], 0.1)
    active = noise.uniform(seed, "ep-on", block) < p
    dur = 2 + np.floor(3 * noise.uniform(seed, "ep-dur", block))
    start_day = 1 + np.floor(noise.uniform(seed, "ep-start", block) * (12 - dur))
    start_h = start_day * 24 + 6 + 12 * noise.uniform(seed, "ep-hour", block)
    end_h = start_h + dur * 24
    h = (c.day - block * 14) * 24 + c.hod
    shape = np.clip(np.minimum((h - start_h + 12) / 12, (end_h + 12 - h) / 12), 0.0, 1.0)
    peak = 150 + 100 * noise.uniform(seed, "ep-peak", block)
    return np.where(active, shape, 0.0), peak


# ---- transport: accidents ---------------------------------------------------------------------

#: Accident weight by local hour: low at night, highest at the commuter peaks.
_ACC_HOURS = np.array(
    [
        0.3,
        0.2,
        0.2,
        0.2,
        0.3,
        0.5,
        0.9,
        2.2,
        2.4,
        1.4,
        1.1,
        1.2,
        1.3,
        1.1,
        1.0,
        1.1,
        1.4,
        2.3,
        2.5,
        1.6,
        1.2,
        0.9,
        0.6,
        0.4,
    ]
)
_ACC_CLASS = {"expressway": 1.5, "arterial": 3.0, "secondary": 1.5, "branch": 0.5}
_MAX_PER_DAY = 8


def hotspots(a: Assets) -> np.ndarray:
    """Indices of five accident-prone segments (urban arterials and arterials near the seat)."""
    seg = a["road_segments"]
    cand = np.flatnonzero((seg["road_class"] == "arterial").to_numpy() & (seg["seat_m"] < 8000).to_numpy())
    order = np.argsort(noise.uniform(a.seed, "hotspot", cand), kind="stable")
    return cand[order[:5]]


def accidents(a: Assets, start_s: float, end_s: float) -> pd.DataFrame:
    """Accidents with start_s < ts <= end_s (epoch seconds), ~1–3 a day, ids acc-YYYYMMDD-NN."""
    days = np.arange(int(start_s // DAY_S) - 1, int(end_s // DAY_S) + 2, dtype=np.int64)
    seed = a.seed
    kinds = np.array([day_kind(int(d)) for d in days], dtype=bool).reshape(-1, 3)
    lam = np.where(kinds[:, 0], 1.7, 2.2) * np.where(rain_mm(seed, days) > 10, 1.4, 1.0)
    count = np.minimum(noise.poisson(lam, noise.uniform(seed, "acc-n", days)), _MAX_PER_DAY)
    day, slot = np.meshgrid(days, np.arange(_MAX_PER_DAY), indexing="ij")
    keep = slot < count[:, None]
    day, slot = day[keep], slot[keep]
    hour = noise.choice(_ACC_HOURS, noise.uniform(seed, "acc-hour", day, slot))
    sec = hour * HOUR_S + np.floor(HOUR_S * noise.uniform(seed, "acc-sec", day, slot)).astype(np.int64)
    ts = local_to_epoch(day * DAY_S + sec)
    # Place (and number) the whole days first, then cut the window: the placed
    # frame is re-sorted, so a mask computed before it would pick wrong rows.
    placed = _place_accidents(a, day, slot, ts)
    return placed.loc[(placed["t"] > start_s) & (placed["t"] <= end_s)].reset_index(drop=True)


def _place_accidents(a: Assets, day: np.ndarray, slot: np.ndarray, ts: np.ndarray) -> pd.DataFrame:
    seed = a.seed
    seg = a["road_segments"]
    weight = seg["length_m"].to_numpy() * seg["road_class"].map(_ACC_CLASS).to_numpy()
    idx = noise.choice(weight, noise.uniform(seed, "acc-seg", day, slot))
    hot = hotspots(a)
    at_hot = noise.uniform(seed, "acc-hot", day, slot) < 0.3
    idx = np.where(at_hot, hot[np.minimum((5 * noise.uniform(seed, "acc-hot-i", day, slot)).astype(int), 4)], idx)
    pts = shapely.line_interpolate_point(
        seg["geometry_m"].to_numpy()[idx], noise.uniform(seed, "acc-pos", day, slot), normalized=True
    )
    lon, lat = geo.xy_to_lonlat(shapely.get_x(pts), shapely.get_y(pts))
    severity = 1 + np.searchsorted([0.55, 0.85, 0.96], noise.uniform(seed, "acc-sev", day, slot), side="right")
    out = pd.DataFrame(
        {
            "day": day,
            "t": ts,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "severity": severity.astype(np.int64),
            "segment_id": seg["segment_id"].to_numpy()[idx],
            "seg_index": idx,
        }
    )
    out = out.sort_values(["day", "t"], kind="stable").reset_index(drop=True)
    seq = out.groupby("day").cumcount() + 1
    stamp = [day_date(d).strftime("%Y%m%d") for d in out["day"]]
    out.insert(0, "accident_id", [f"acc-{s}-{n:02d}" for s, n in zip(stamp, seq, strict=True)])
    out.insert(1, "ts", to_times(out["t"].to_numpy()))
    return out


def accident_rows(a: Assets, start: datetime, end: datetime) -> pd.DataFrame:
    """The accidents feed for (start, end]."""
    acc = accidents(a, micros(start) / 1e6, micros(end) / 1e6)
    return acc[["accident_id", "ts", "lon", "lat", "severity", "segment_id"]]


# ---- transport: segment speeds -------------------------------------------------------------------

_FREE_FLOW = {"expressway": 90.0, "arterial": 50.0, "secondary": 40.0, "branch": 30.0}
_INCIDENT = {2: 0.5, 3: 0.3, 4: 0.2}


def _sensitivity(a: Assets) -> np.ndarray:
    """How much each segment slows at full rush: urban roads most, a few regular bottlenecks."""
    seg = a["road_segments"]
    cls = seg["road_class"].to_numpy()
    urban = seg["urban"].to_numpy(bool)
    near = seg["seat_m"].to_numpy() < 6000
    kinds = [cls == "expressway", cls == "branch", urban, near & (cls == "arterial")]
    base = np.select(kinds, [0.08, 0.06, 0.48, 0.32], 0.12)
    u = noise.uniform(a.seed, "bottleneck", np.arange(len(seg)))
    bottleneck = (urban | near) & (cls != "expressway") & (u < 0.35)
    return np.where(bottleneck, 0.62 + 0.12 * u, base + 0.06 * (u - 0.5))


def segment_speeds(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Speeds (km/h) per segment: free flow by class, slowed at rush hours and by accidents."""
    seg = a["road_segments"]
    n = len(seg)
    c = clock(t)
    k = np.arange(n)
    free = seg["road_class"].map(_FREE_FLOW).to_numpy() * (0.92 + 0.16 * noise.uniform(a.seed, "free", k))
    free = np.where(seg["urban"].to_numpy(bool) & (seg["road_class"] != "expressway").to_numpy(), free * 0.9, free)
    demand = rush(c.hod, c.workday)[:, None] * (1 + 0.1 * noise.smooth(a.seed, "rush-day", 0, t, DAY_S))[:, None]
    wander = 0.05 * noise.smooth(a.seed, "speed", k[None, :], t[:, None], 1800.0)
    jitter = 0.025 * noise.normal(a.seed, "speed-tick", k[None, :], t[:, None])
    speed = free * (1 - np.clip(_sensitivity(a) * demand, 0, 0.9)) * (1 + wander + jitter)
    speed = speed * _incidents(a, t, n)
    return frame(t, seg["segment_id"].to_numpy(), "segment_id", {"speed_kmh": np.round(np.clip(speed, 2.0, 130.0), 1)})


def _incidents(a: Assets, t: np.ndarray, n: int) -> np.ndarray:
    """Speed factors from accidents of severity ≥ 2: an hour of heavy congestion on their segment."""
    factor = np.ones((len(t), n))
    if not len(t):
        return factor
    acc = accidents(a, float(t[0]) - HOUR_S, float(t[-1]))
    for row in acc[acc["severity"] >= 2].itertuples():
        hit = (t >= row.t) & (t < row.t + HOUR_S)
        factor[hit, row.seg_index] = np.minimum(factor[hit, row.seg_index], _INCIDENT[row.severity])
    return factor


# ---- transport: buses ----------------------------------------------------------------------------

_LAYOVER_S = 240.0
_SERVICE = (6 * HOUR_S, 21 * HOUR_S)


@dataclass(frozen=True)
class _Fleet:
    """One row per vehicle: its line's geometry and timetable parameters."""

    line: np.ndarray
    k: np.ndarray
    length: np.ndarray
    spacing: np.ndarray
    leg: np.ndarray
    dwell: np.ndarray
    speed: np.ndarray
    cycle: np.ndarray
    offset: np.ndarray
    capacity: np.ndarray


def _fleet(a: Assets) -> _Fleet:
    lines = a["bus_lines"]
    n = lines["scheduled_vehicles"].to_numpy()
    line = np.repeat(np.arange(len(lines)), n)
    k = np.concatenate([np.arange(m) for m in n])
    length = lines["length_m"].to_numpy()[line]
    spacing = length / (lines["stops"].to_numpy()[line] - 1)
    speed = lines["speed_kmh"].to_numpy()[line] / 3.6
    dwell = np.where(lines["kind"].to_numpy()[line] == "urban", 25.0, 18.0)
    leg = spacing / speed + dwell
    cycle = 2 * (length / spacing * leg + _LAYOVER_S)
    return _Fleet(
        line, k, length, spacing, leg, dwell, speed, cycle, k * cycle / n[line], lines["capacity"].to_numpy()[line]
    )


def _along(f: _Fleet, tau: np.ndarray) -> np.ndarray:
    """Distance along the line at schedule time ``tau``: layover, outbound, layover, inbound."""
    phase = np.mod(tau, f.cycle)
    one_way = f.cycle / 2 - _LAYOVER_S
    out = phase - _LAYOVER_S
    back = phase - 2 * _LAYOVER_S - one_way
    going = np.where(out < 0, 0.0, np.where(out < one_way, _trip(f, out), f.length))
    coming = f.length - _trip(f, np.clip(back, 0, None))
    return np.where(phase < _LAYOVER_S + one_way + _LAYOVER_S, going, coming)


def _trip(f: _Fleet, u: np.ndarray) -> np.ndarray:
    i = np.floor(u / f.leg)
    within = u - i * f.leg
    return np.minimum(i * f.spacing + np.clip(within - f.dwell, 0, None) * f.speed, f.length)


def bus_positions(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Vehicle positions every tick of the 06:00–21:00 service, moving back and forth along their line."""
    c = clock(t)
    on = (c.sod >= _SERVICE[0]) & (c.sod < _SERVICE[1])
    t, c = t[on], clock(t[on])
    f = _fleet(a)
    v = np.arange(len(f.line))
    demand = rush(c.hod, c.workday)[:, None]
    delay = _delay(a.seed, v, t, demand)
    base = (c.sod - _SERVICE[0])[:, None].astype(float) + f.offset
    s_now = _along(f, base - delay)
    s_before = _along(f, base - 15.0 - _delay(a.seed, v, t - 15, demand))
    speed = np.abs(s_now - s_before) / 15.0 * 3.6 * (1 + 0.05 * noise.normal(a.seed, "bus-v", v, t[:, None]))
    crowd = 0.6 + 0.75 * noise.uniform(a.seed, "bus-crowd", v)
    load = 0.12 + 0.8 * demand * crowd + 0.06 * noise.smooth(a.seed, "bus-load", v, t[:, None], 1200.0)
    on_board = np.round(f.capacity * np.clip(load, 0.02, 1.12)).astype(np.int64)
    lines = a["bus_lines"]
    geoms = lines["geometry_m"].to_numpy()[np.broadcast_to(f.line, s_now.shape).ravel()]
    pts = shapely.line_interpolate_point(geoms, s_now.ravel())
    lon, lat = (v.reshape(s_now.shape) for v in geo.xy_to_lonlat(shapely.get_x(pts), shapely.get_y(pts)))
    ids = [f"{lid}-V{k + 1:03d}" for lid, k in zip(lines["line_id"].to_numpy()[f.line], f.k, strict=True)]
    return frame(
        t,
        np.array(ids, dtype=object),
        "vehicle_id",
        {
            "line_id": lines["line_id"].to_numpy()[f.line],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "speed_kmh": np.round(np.clip(speed, 0, 110), 1),
            "on_board": on_board,
            "capacity": f.capacity.astype(np.int64),
            "delay_s": np.round(delay).astype(np.int64),
        },
    )


def _delay(seed: int, v: np.ndarray, t: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Seconds behind schedule: mostly −60…+240, later at rush hours."""
    late = 0.6 + 0.8 * noise.uniform(seed, "bus-late", v)
    return 30 + 55 * noise.smooth(seed, "bus-delay", v, t[:, None], 1800.0) + 160 * demand * late


# ---- transport: parking -----------------------------------------------------------------------------


def _lot_profile(kind: str, c: Clock) -> np.ndarray:
    h, work = c.hod, c.workday
    if kind == "office":
        return np.where(work, 0.12 + 0.8 * window(h, 8.0, 17.8), 0.12 + 0.15 * window(h, 9, 17))
    if kind == "hospital":
        return 0.25 + np.where(work, 0.7, 0.45) * window(h, 7.5, 12.0) + 0.35 * window(h, 13.5, 17.0)
    if kind == "commercial":
        return 0.15 + np.where(work, 0.35, 0.6) * window(h, 10.0, 21.5) + 0.3 * window(h, 18.0, 21.5)
    if kind == "hub":
        return 0.25 + 0.55 * window(h, 6.5, 18.5) + np.where(work, 0.0, 0.1)
    return 0.3 + np.where(work, 0.45, 0.35) * window(h, 8.0, 20.0)


def parking_occupancy(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Occupied spaces: the seat peaks on workday daytime, scenic lots with their spot's visitors."""
    lots = a["parking_lots"]
    c = clock(t)
    cap = lots["capacity"].to_numpy()
    frac = np.empty((len(t), len(lots)))
    spots = a["scenic_spots"]["spot_id"].tolist()
    park = _visitor_grid(a, c)[0] / a["scenic_spots"]["capacity_instant"].to_numpy()
    for j, (kind, spot) in enumerate(zip(lots["kind"], lots["spot_id"], strict=True)):
        frac[:, j] = 0.03 + 1.1 * park[:, spots.index(spot)] if kind == "scenic" else _lot_profile(kind, c)
    k = np.arange(len(lots))
    frac *= 1 + 0.08 * noise.smooth(a.seed, "lot", k, t[:, None], 3600.0)
    occupied = np.round(cap * np.clip(frac, 0.0, 1.0)).astype(np.int64)
    return frame(t, lots["lot_id"].to_numpy(), "lot_id", {"occupied": occupied})


# ---- environment ---------------------------------------------------------------------------------------


def _station_factors(a: Assets) -> dict[str, np.ndarray]:
    st = a["air_stations"]
    k = np.arange(len(st))
    seat = (st["town_code"] == geo.SEAT.code).to_numpy()
    east = st["lon"].to_numpy() > 117.55
    u = noise.uniform(a.seed, "air-station", k)
    return {
        "pm": np.where(seat, 1.08, np.where(east, 0.86, 1.0)) * (0.95 + 0.1 * u),
        "no2": np.where(seat, 1.5, np.where(east, 0.7, 1.0)),
        "o3": np.where(east, 1.12, 1.0),
    }


def air_readings(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Hourly pollutants with diurnal and seasonal cycles and regional pollution episodes."""
    st = a["air_stations"]
    c = clock(t)
    seed, k = a.seed, np.arange(len(st))[None, :]
    fac = _station_factors(a)
    s, hod, heat = season(c.doy)[:, None], c.hod[:, None], heating(c.doy)[:, None]
    shape, peak = (x[:, None] for x in episode(seed, c))
    regional = noise.smooth(seed, "pm-wander", 0, t, 12 * HOUR_S)[:, None]
    wander = regional + 0.4 * noise.smooth(seed, "pm-st", k, t[:, None], 6 * HOUR_S)
    base = (38 + 18 * s + 8 * heat) * (1 + 0.18 * np.cos(2 * np.pi * (hod - 8) / 24)) * np.exp(0.28 * wander)
    wiggle = 1 + 0.07 * noise.smooth(seed, "ep-wiggle", k, t[:, None], 3 * HOUR_S)
    pm25 = (base * (1 - shape) + peak * shape * wiggle) * fac["pm"]
    pm10 = pm25 * (1.55 + 0.25 * noise.uniform(seed, "pm10", k, t[:, None])) + 12 * (1 - shape) * (1 - s) / 2
    traffic = rush(c.hod, c.workday)[:, None]
    no2 = (16 + 8 * s + 22 * traffic) * fac["no2"] * (1 + 0.4 * shape) * np.exp(0.15 * wander)
    summer = (1 - s) / 2
    sun = np.clip(np.sin(np.pi * (hod - 7) / 12), 0, None) ** 1.5
    o3 = ((18 + 15 * summer) + (30 + 88 * summer) * sun * (1 - 0.6 * shape)) * fac["o3"] * np.exp(0.12 * wander)
    so2 = (7 + 5 * s + 6 * heat) * (1 + 0.3 * shape) * np.exp(0.2 * wander)
    co = (0.55 + 0.25 * s + 0.2 * heat + 0.9 * shape) * np.exp(0.12 * wander)
    cols = {"pm25": pm25, "pm10": pm10, "so2": so2, "no2": no2, "o3": o3}
    out = {name: np.round(np.clip(v, 1.0, None), 1) for name, v in cols.items()}
    out["co"] = np.round(np.clip(co, 0.1, None), 2)
    out["averaging"] = "1h"
    return frame(t, st["station_id"].to_numpy(), "station_id", out)


def water_samples(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Water quality every 4 h: rivers mostly class Ⅲ with exceedances after rain, reservoirs Ⅱ–Ⅲ."""
    sec = a["water_sections"]
    c = clock(t)
    seed = a.seed
    k = np.arange(len(sec))[None, :]
    res = (sec["waterbody"] == "reservoir").to_numpy()[None, :]
    run = np.minimum(recent_rain(seed, c, 7, 1.5) / 25.0, 3.0)[:, None]
    summer = ((1 - season(c.doy)) / 2)[:, None]
    down = 0.95 + 0.04 * np.arange(len(sec))[None, :] / len(sec)

    def z(name: str) -> np.ndarray:
        return noise.smooth(seed, "wq-" + name, k, t[:, None], DAY_S)

    river = {
        "do": 7.9 - 1.8 * summer + 0.35 * z("do") - 0.3 * run,
        "codmn": (4.0 + 0.5 * z("codmn") + 1.4 * run) * down,
        "bod5": (2.7 + 0.3 * z("bod5") + 0.6 * run) * down,
        "nh3n": (0.5 + 0.12 * z("nh3n") + 0.3 * run) * down,
        "tp": (0.11 + 0.025 * z("tp") + 0.05 * run) * down,
        "tn": 2.0 + 0.35 * z("tn") + 0.5 * run,
    }
    lake = {
        "do": 8.4 - 1.3 * summer + 0.3 * z("do"),
        "codmn": 3.3 + 0.35 * z("codmn") + 0.4 * run,
        "bod5": 2.2 + 0.2 * z("bod5") + 0.2 * run,
        "nh3n": 0.25 + 0.07 * z("nh3n") + 0.08 * run,
        "tp": 0.024 + 0.005 * z("tp") + 0.008 * run,
        "tn": 0.52 + 0.1 * z("tn") + 0.12 * run,
    }
    out = {name: np.round(np.clip(np.where(res, lake[name], river[name]), 0.01, None), 3) for name in river}
    out["cod"] = np.round(out["codmn"] * (3.4 + 0.3 * z("cod")), 1)
    out["ph"] = np.round(np.where(res, 8.0, 7.7) + 0.2 * z("ph"), 2)
    order = ("do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "ph")
    return frame(t, sec["section_id"].to_numpy(), "section_id", {name: out[name] for name in order})


#: (base level m, seasonal amplitude m, metres per mm of effective rain, ceiling m)
_RESERVOIR = {"yanma": (121.3, 0.8, 0.012, 124.6), "zhuangli": (113.1, 0.5, 0.008, 114.45)}


def reservoir_levels(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Water levels: slow seasonal swing (lowest after spring irrigation) plus rain-driven rises."""
    res = a["reservoirs"]
    c = clock(t)
    storage = _rain_storage(a.seed, c)
    cols = []
    for j, rid in enumerate(res["reservoir_id"]):
        base, amp, gain, ceiling = _RESERVOIR[rid]
        level = base + amp * np.cos(2 * np.pi * (c.doy - 300) / 365.25) + gain * storage
        level += 0.01 * noise.smooth(a.seed, "res-level", j, t, 6 * HOUR_S)
        cols.append(_soft_ceiling(level, ceiling))
    return frame(t, res["reservoir_id"].to_numpy(), "reservoir_id", {"level_m": np.round(np.column_stack(cols), 2)})


def _soft_ceiling(level: np.ndarray, ceiling: float, knee: float = 0.6) -> np.ndarray:
    """Levels approach the ceiling smoothly (operators release water) instead of flattening at it."""
    over = level - (ceiling - knee)
    return np.where(over > 0, ceiling - knee * np.exp(-np.clip(over, 0, None) / knee), level)


def _rain_storage(seed: int, c: Clock) -> np.ndarray:
    """Rain of the last 90 days as it fills the reservoir: rises over hours, drains over weeks."""
    total = np.zeros(len(c.t))
    for j in range(90):
        d = c.day - j
        age_h = j * 24 + c.hod - rain_hour(seed, d)
        response = np.where(age_h > 0, (1 - np.exp(-np.clip(age_h, 0, None) / 8.0)) * np.exp(-age_h / 600.0), 0.0)
        total += rain_mm(seed, d) * response
    return total


def radiation_readings(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Dose rate: each station's baseline ± a few %, with short rain-washout rises (< 2× baseline)."""
    st = a["radiation_stations"]
    c = clock(t)
    base = st["baseline_ngy_h"].to_numpy()[None, :]
    k = np.arange(len(st))[None, :]
    dose = base * (1 + 0.025 * noise.smooth(a.seed, "rad", k, t[:, None], 6 * HOUR_S))
    washout = np.zeros(len(t))
    for j in (0, 1):
        d = c.day - j
        age = j * 24 + c.hod - rain_hour(a.seed, d)
        amp = np.clip(rain_mm(a.seed, d) / 50.0, 0, 0.6) * (rain_mm(a.seed, d) >= 5)
        washout = np.maximum(washout, np.where(age >= 0, amp * np.exp(-np.clip(age, 0, None) / 1.5), 0.0))
    dose = dose * (1 + washout[:, None] * (0.8 + 0.2 * noise.uniform(a.seed, "rad-st", k)))
    return frame(t, st["station_id"].to_numpy(), "station_id", {"dose_ngy_h": np.round(dose, 1)})


# ---- tourism -----------------------------------------------------------------------------------------

#: Mean visit length (h) per spot, and the share of daily capacity that comes on a plain workday.
_STAY_H = np.array([3.0, 2.0, 1.5, 2.5, 2.0, 2.0, 2.5])
_POPULAR = np.array([0.95, 0.9, 1.15, 0.9, 1.0, 0.9, 0.85])


def _opening(a: Assets) -> tuple[np.ndarray, np.ndarray]:
    text = a["scenic_spots"]["opening"].str.split("[–-]", regex=True)
    to_s = np.vectorize(lambda s: int(s[:2]) * HOUR_S + int(s[3:5]) * 60)
    return to_s(np.array([p[0] for p in text])), to_s(np.array([p[1] for p in text]))


def _arrivals_cdf(x: np.ndarray) -> np.ndarray:
    """Share of the day's arrivals by day fraction x (Kumaraswamy: brisk morning, long tail)."""
    x = np.clip(x, 0.0, 1.0)
    return 1 - (1 - x**1.5) ** 3.2


def _daily_arrivals(a: Assets, c: Clock) -> np.ndarray:
    spots = a["scenic_spots"]
    k = np.arange(len(spots))
    demand = np.select([c.golden, c.holiday, c.leisure], [0.52, 0.4, 0.24], 0.07)
    # Spring and autumn are the seasons; deep winter is quiet.
    seasonal = 0.75 + 0.25 * np.abs(np.cos(2 * np.pi * (c.doy - 110) / 365.25)) ** 0.5
    demand = demand * seasonal * np.where(c.doy > 330, 0.7, 1.0)
    wet = np.where(rain_mm(a.seed, c.day) > 10, 0.45, 1.0)
    day_noise = np.exp(0.15 * noise.normal(a.seed, "visit-day", k[None, :], c.day[:, None]))
    return spots["capacity_daily"].to_numpy() * _POPULAR * (demand * wet)[:, None] * day_noise


def _visitor_grid(a: Assets, c: Clock) -> tuple[np.ndarray, np.ndarray]:
    """(in_park, arrivals_today) as floats on the (tick × spot) grid."""
    open_s, close_s = _opening(a)
    span = np.maximum(close_s - open_s - HOUR_S, HOUR_S)
    sod = c.sod[:, None].astype(float)
    total = _daily_arrivals(a, c)
    arrived = total * _arrivals_cdf((sod - open_s) / span)
    left = total * _arrivals_cdf((sod - _STAY_H * HOUR_S - open_s) / span)
    is_open = (sod >= open_s) & (sod < close_s)
    return np.where(is_open, arrived - left, 0.0), np.where(sod >= open_s, arrived, 0.0)


def visitor_counts(a: Assets, t: np.ndarray) -> pd.DataFrame:
    """Visitors in each scenic spot during opening hours and cumulative arrivals since local midnight."""
    in_park, arrived = _visitor_grid(a, clock(t))
    return frame(
        t,
        a["scenic_spots"]["spot_id"].to_numpy(),
        "spot_id",
        {"in_park": np.round(in_park).astype(np.int64), "arrivals_today": np.round(arrived).astype(np.int64)},
    )


# ---- star rating ----------------------------------------------------------------------------------------

_RATING_FROM = 2021 * 4  # 2021Q1


def quarter_end(q: int) -> datetime:
    """Local midnight starting the quarter after quarter index q (year*4 + quarter-1)."""
    year, idx = divmod(q + 1, 4)
    return datetime(year, 3 * idx + 1, 1, tzinfo=LOCAL)


def rating_values(a: Assets, start: datetime, end: datetime) -> pd.DataFrame:
    """One value per indicator for each quarter whose end lies in (start, end], improving over time."""
    s, e = micros(start), micros(end)
    lo = max(_RATING_FROM, start.astimezone(LOCAL).year * 4 - 4)
    hi = end.astimezone(LOCAL).year * 4 + 4
    quarters = [q for q in range(lo, hi + 1) if s < micros(quarter_end(q)) <= e]
    cat = a["rating_indicators"]
    rows = [_rating_rows(a.seed, cat, q) for q in quarters]
    if not rows:
        return pd.DataFrame(columns=["indicator_id", "period", "value", "evidence", "reported_by"])
    return pd.concat(rows, ignore_index=True)


def _rating_rows(seed: int, cat: pd.DataFrame, q: int) -> pd.DataFrame:
    k = np.arange(len(cat))
    progress = np.clip((q - _RATING_FROM) / 23.0, 0, 1.6)
    start_level = 2.5 + 1.0 * noise.uniform(seed, "rate-0", k)
    gain = 0.7 + 0.6 * noise.uniform(seed, "rate-gain", k)
    level = start_level + gain * progress + 0.12 * noise.normal(seed, "rate-q", k, q)
    level = np.clip(level, 1.0, 5.6)
    thresholds = cat[[f"star{i}" for i in range(1, 6)]].to_numpy(float)
    value = np.array([_level_value(th, lv) for th, lv in zip(thresholds, level, strict=True)])
    whole = cat["unit"].isin(["个", "项", "级", "篇", "人次/年", "分"]).to_numpy()
    value = np.where(whole, np.round(value), np.round(value, 2))
    value = np.where(cat["unit"].eq("%").to_numpy(), np.minimum(value, 100.0), value)
    period = f"{q // 4}Q{q % 4 + 1}"
    return pd.DataFrame(
        {
            "indicator_id": cat["indicator_id"].to_numpy(),
            "period": period,
            "value": value,
            "evidence": [
                f"{period} {d}报送：{ev}（示例数据）" for d, ev in zip(cat["department"], cat["evidence"], strict=True)
            ],
            "reported_by": cat["department"].to_numpy(),
        }
    )


def _level_value(th: np.ndarray, level: float) -> float:
    """The indicator value that sits at a fractional star level, interpolating the thresholds."""
    i = int(np.clip(np.floor(level), 1, 4))
    lo, hi = th[i - 1], th[i]
    return float(lo + (level - i) * (hi - lo))


def rating_tasks(a: Assets, start: datetime, end: datetime) -> pd.DataFrame:
    """Weekly progress reports of the sample work plan, with reported_at in (start, end].

    Each task reports on its own weekday and hour (owners update the platform
    whenever they get to it), so any couple of days holds some reports.
    """
    plan = a["rating_tasks_plan"]
    s, e = micros(start) / 1e6, micros(end) / 1e6
    rows = []
    for j, task in enumerate(plan.itertuples()):
        reports = _task_reports(a.seed, j, task.start, task.due)
        for t_s, percent, status, note in reports:
            if s < t_s <= e:
                rows.append(
                    (
                        task.task_id,
                        t_s,
                        task.department,
                        task.title,
                        task.due,
                        status,
                        percent,
                        note,
                        f"{task.indicator_id} 周报 {datetime.fromtimestamp(t_s, LOCAL):%Y-%m-%d}",
                    )
                )
    cols = ["task_id", "t", "department", "title", "due", "status", "percent", "note", "evidence"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(1, "reported_at", to_times(out["t"].to_numpy(np.int64)))
    return out.drop(columns="t")


@lru_cache(maxsize=256)
def _task_reports(seed: int, j: int, start: date, due: date) -> tuple[tuple[int, float, str, str], ...]:
    """Monotone weekly progress; some tasks run late, some stall (blocked) for a few weeks."""
    weekday = int(7 * float(noise.uniform(seed, "task-day", j)))
    hour = 9 + 9 * float(noise.uniform(seed, "task-hour", j))
    first = start + timedelta(days=(weekday - start.weekday()) % 7)
    weeks = max((due - first).days // 7, 1)
    pace = 0.75 + 0.5 * float(noise.uniform(seed, "task-pace", j))
    stall = float(noise.uniform(seed, "task-stall", j)) < 0.3
    stall_at = int(weeks * (0.3 + 0.4 * float(noise.uniform(seed, "task-stall-at", j))))
    stall_len = 2 + int(4 * float(noise.uniform(seed, "task-stall-len", j)))
    out, w, done_for = [], 0, 0
    while done_for < 2 and w < weeks * 3:
        blocked = stall and stall_at <= w < stall_at + stall_len
        effective = w - (min(max(w - stall_at, 0), stall_len) if stall else 0)
        percent = float(min(100.0, 5 * round(20 * min(1.0, pace * effective / weeks) ** 0.9)))
        day = first + timedelta(weeks=w)
        when = datetime.combine(day, datetime.min.time(), LOCAL) + timedelta(hours=round(hour, 2))
        status, note = _task_status(percent, blocked, first + timedelta(weeks=w) > due)
        out.append((int(when.timestamp()), percent, status, note))
        done_for += percent >= 100
        w += 1
    return tuple(out)


def _task_status(percent: float, blocked: bool, overdue: bool) -> tuple[str, str]:
    if percent >= 100:
        return "done", "已完成，待验收归档"
    if blocked:
        return "blocked", "受资金拨付/跨部门协调影响暂停，已报区大数据局协调"
    if percent == 0:
        return "not_started", "已立项，正在开展前期调研"
    return "in_progress", "进度滞后，已超期，需加快推进" if overdue else "按计划推进"


# ---- cameras ---------------------------------------------------------------------------------------------

_OUTAGE_WINDOW_S = 8 * DAY_S
_LOOKBACK = 40
_CUT_DAYS = 90


def camera_states(a: Assets, at: datetime) -> pd.DataFrame:
    """Cameras with their status at ``at`` and the start of that status period.

    Each camera has at most one outage (2 h – 3 days) per 8-day window of its
    own phase, so 2–4 % are down at any time; a town now and then loses power
    for a few hours (every camera there offline).
    """
    cams = a["cameras"].copy()
    now = micros(at) // 1_000_000
    n = len(cams)
    k = np.arange(n)
    own_on, own_start, own_end_last = _own_outages(a.seed, k, now)
    towns = [t.code for t in geo.TOWNS]
    town_idx = np.searchsorted(towns, cams["town_code"].to_numpy())
    cut_on, cut_start, cut_end_last = (x[town_idx] for x in _power_cuts(a.seed, len(towns), now))
    fault = noise.uniform(a.seed, "cam-fault", k, own_start) < 0.35
    status = np.where(own_on, np.where(fault, "fault", "offline"), np.where(cut_on, "offline", "online"))
    since = np.where(own_on, own_start, np.where(cut_on, cut_start, np.maximum(own_end_last, cut_end_last)))
    cams["status"] = status.astype(object)
    cams["status_since"] = to_times(np.minimum(since, now)).to_numpy()
    return cams[list(contract("cameras").names)]


def _outage(seed: int, k: np.ndarray, w: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has outage, start, end) of camera k's outage in its window w."""
    has = noise.uniform(seed, "cam-out", k, w) < 0.28
    dur = np.exp(np.log(2 * HOUR_S) + np.log(36.0) * noise.uniform(seed, "cam-dur", k, w))
    w0 = w * _OUTAGE_WINDOW_S + phase
    start = w0 + np.floor((_OUTAGE_WINDOW_S - dur) * noise.uniform(seed, "cam-at", k, w))
    return has, start.astype(np.int64), (start + dur).astype(np.int64)


def _own_outages(seed: int, k: np.ndarray, now: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    phase = np.floor(_OUTAGE_WINDOW_S * noise.uniform(seed, "cam-phase", k)).astype(np.int64)
    w = (now - phase) // _OUTAGE_WINDOW_S
    on = np.zeros(len(k), dtype=bool)
    start = np.zeros(len(k), dtype=np.int64)
    last_end = (w - _LOOKBACK) * _OUTAGE_WINDOW_S + phase
    found = np.zeros(len(k), dtype=bool)
    for back in range(_LOOKBACK):
        has, s, e = _outage(seed, k, w - back, phase)
        active = has & (s <= now) & (now < e) & (back == 0)
        on |= active
        start = np.where(active, s, start)
        ended = has & (e <= now) & ~found
        last_end = np.where(ended, e, last_end)
        found |= ended
    return on, start, last_end


def _power_cuts(seed: int, n_towns: int, now: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Town-wide power cuts (2–5 h between 07:00 and 21:00 local, about one per town every six weeks)."""
    town = np.arange(n_towns)[:, None]
    today = int(wall_seconds(np.array([now]))[0] // DAY_S)
    day = today - np.arange(_CUT_DAYS)[None, :]
    has = noise.uniform(seed, "cut", town, day) < 1 / 45
    wall = day * DAY_S + ((7 + 14 * noise.uniform(seed, "cut-h", town, day)) * HOUR_S).astype(np.int64)
    start = local_to_epoch(wall.ravel()).reshape(wall.shape)
    end = start + ((2 + 3 * noise.uniform(seed, "cut-d", town, day)) * HOUR_S).astype(np.int64)
    active = has & (start <= now) & (now < end)
    horizon = int(start.min())
    last_end = np.where(has & (end <= now), end, horizon).max(axis=1)
    return np.asarray(active.any(axis=1)), np.where(active, start, 0).max(axis=1), last_end


# ---- daily camera status -----------------------------------------------------------------------------------

#: Today's (still open) day is re-sampled on this grid, so a sample time is a function of time alone.
_DAILY_SAMPLE_S = 300


def camera_status_daily(a: Assets, start: datetime, end: datetime) -> pd.DataFrame:
    """Per 村居 and local day: cameras, and how many were online, networked and HD when sampled.

    A day closes at local 24:00 and is sampled then; the day still open is sampled at the last 5-minute mark.
    Returns the samples whose time lies in (start, end] (``camera_status_daily`` columns).
    """
    s, e = micros(start) // 1_000_000, micros(end) // 1_000_000
    first, last = (int(d) for d in wall_seconds(np.array([s, e])) // DAY_S)
    closes = local_to_epoch((np.arange(first, last + 1, dtype=np.int64) + 1) * DAY_S)
    samples = [(int(c), int(d)) for c, d in zip(closes, range(first, last + 1), strict=True) if s < c <= e]
    mark = e - e % _DAILY_SAMPLE_S
    if mark > s and mark not in {c for c, _ in samples}:
        samples.append((mark, int(wall_seconds(np.array([mark]))[0] // DAY_S)))
    names = list(contract("camera_status_daily").names)
    frames = [_status_counts(a, at, day) for at, day in samples]
    return pd.concat(frames, ignore_index=True)[names] if frames else pd.DataFrame(columns=names)


def _status_counts(a: Assets, at: int, day: int) -> pd.DataFrame:
    cams = camera_states(a, datetime.fromtimestamp(at, UTC))
    counts = (
        cams.assign(cameras=1, online=(cams["status"] == "online").astype(np.int64))
        .groupby(["town_code", "village_code"], sort=True)[["cameras", "online", "networked", "hd"]]
        .sum()
        .astype(np.int64)
        .reset_index()
    )
    return counts.assign(date=day_date(day), ts=to_times(np.full(len(counts), at)).to_numpy())
