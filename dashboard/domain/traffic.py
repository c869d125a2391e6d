"""Road congestion: segment level by mean speed and a district traffic index (TPI), 参照 GB/T 33171-2016.

Speed bands are REFERENCE.md §4. The band edges are shared by two bands; we put an edge speed in the slower band
(v > 65 畅通, 50 < v ≤ 65 基本畅通, …, v ≤ 20 严重拥堵 on a 快速路), the conservative reading for operators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from dashboard.domain.bus import to_metres


class Level(NamedTuple):
    """Display data of one congestion level."""

    zh: str
    en: str
    colour: str


#: Congestion levels 1–5 (畅通 … 严重拥堵).
LEVELS: Mapping[int, Level] = MappingProxyType(
    {
        1: Level("畅通", "Free flow", "#2ECC71"),
        2: Level("基本畅通", "Mostly free", "#A3D977"),
        3: Level("轻度拥堵", "Light congestion", "#F5B041"),
        4: Level("中度拥堵", "Moderate congestion", "#E67E22"),
        5: Level("严重拥堵", "Severe congestion", "#C0392B"),
    }
)

#: Upper speed (km/h, inclusive) of levels 2, 3, 4 and 5 per road class; above the first value is 畅通.
SPEED_BANDS: Mapping[str, tuple[float, float, float, float]] = MappingProxyType(
    {
        "expressway": (65, 50, 35, 20),  # 快速路
        "arterial": (40, 30, 20, 15),  # 主干路
        "secondary": (35, 25, 15, 10),  # 次干路
        "branch": (35, 25, 15, 10),  # 支路 shares the 次干路 row
    }
)

#: Speeds above this are taken as sensor faults, not traffic.
MAX_PLAUSIBLE_KMH = 200.0

#: ASSUMPTION (REFERENCE.md §4 "A"): how much of a segment's length counts as congested, by level.
CONGESTION_WEIGHTS: Mapping[int, float] = MappingProxyType({1: 0.0, 2: 0.0, 3: 0.5, 4: 0.8, 5: 1.0})

#: ASSUMPTION: knots (weighted congested-mileage ratio, TPI) of the piecewise-linear map, mirroring Beijing's
#: published congestion-mileage-ratio → index table; not a figure of GB/T 33171.
TPI_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.04, 2.0),
    (0.08, 4.0),
    (0.11, 6.0),
    (0.14, 8.0),
    (0.24, 10.0),
)

#: TPI band lower bounds for levels 1–5 ([0,2) 畅通 … [8,10] 严重拥堵).
_TPI_LOWER: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0)


def segment_level(speed_kmh: float, road_class: str) -> int:
    """Congestion level 1–5 of a segment from its mean speed and road class (REFERENCE.md §4 speed table).

    An edge speed belongs to the slower band. Negative, NaN or implausible (> 200 km/h) speeds and unknown road
    classes raise ValueError.
    """
    bands = _bands(road_class)
    if isinstance(speed_kmh, bool) or not isinstance(speed_kmh, Real):
        raise ValueError(f"speed must be a number in km/h, got {speed_kmh!r}")
    speed = float(speed_kmh)
    if math.isnan(speed) or not 0 <= speed <= MAX_PLAUSIBLE_KMH:
        raise ValueError(f"speed {speed_kmh!r} km/h is outside 0–{MAX_PLAUSIBLE_KMH:g} km/h")
    return 1 + sum(speed <= upper for upper in bands)


def segment_levels(speeds: pd.Series, classes: pd.Series) -> pd.Series:
    """Vectorised ``segment_level`` over aligned Series (same index); returns int levels on that index."""
    if len(speeds) != len(classes) or not speeds.index.equals(classes.index):
        raise ValueError("speeds and classes must have the same index")
    unknown = sorted(set(classes.astype(object)) - set(SPEED_BANDS), key=repr)
    if unknown:
        raise ValueError(f"unknown road class(es) {unknown}; expected one of {sorted(SPEED_BANDS)}")
    try:
        speed = speeds.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"speeds must be numbers in km/h ({exc})") from exc
    bad = np.isnan(speed) | (speed < 0) | (speed > MAX_PLAUSIBLE_KMH)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} speed(s) missing or outside 0–{MAX_PLAUSIBLE_KMH:g} km/h, "
            f"e.g. {speeds[bad].iloc[0]!r} at {speeds.index[bad][0]!r}"
        )
    uppers = np.array([SPEED_BANDS[c] for c in classes], dtype=float).reshape(len(classes), 4)
    return pd.Series(1 + (speed[:, None] <= uppers).sum(axis=1), index=speeds.index, dtype="int64", name="level")


def district_tpi(segments: pd.DataFrame) -> float:
    """District traffic index 0–10, 参照 GB/T 33171 — the formula is OUR ASSUMPTION (REFERENCE.md §4).

    Weighted congested-mileage ratio r = Σ length·w(level) / Σ length with w = 0 (levels 1–2), 0.5 (轻度), 0.8
    (中度), 1.0 (严重); TPI is r mapped piecewise-linearly through ``TPI_KNOTS`` (0→0, 0.04→2, 0.08→4, 0.11→6,
    0.14→8, 0.24→10), clipped to [0, 10] and rounded half-up to one decimal. Columns: ``length_m`` and ``level``,
    or ``speed_kmh`` and ``road_class`` from which the level is computed.
    """
    if segments.empty:
        raise ValueError("no road segments: the TPI needs at least one")
    lengths = _lengths(segments)
    levels = _levels(segments)
    total = float(lengths.sum())
    if total <= 0:
        raise ValueError("total segment length is 0: the TPI is undefined")
    weights = np.array([CONGESTION_WEIGHTS[int(level)] for level in levels])
    return tpi_from_ratio(float((lengths * weights).sum()) / total)


def tpi_from_ratio(ratio: float) -> float:
    """The TPI of a weighted congested-mileage ratio (the mapping ``district_tpi`` documents).

    Public so a caller that aggregates the ratio itself (e.g. per hour, vectorised) maps it the same way.
    """
    xs, ys = zip(*TPI_KNOTS, strict=True)
    tpi = float(np.clip(np.interp(ratio, xs, ys), 0.0, 10.0))
    return float(Decimal(repr(round(tpi, 9))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def tpi_level(tpi: float) -> tuple[int, str, str]:
    """(level, zh, en) of a TPI per REFERENCE.md §4: [0,2) 畅通, [2,4) 基本畅通, …, [8,10] 严重拥堵."""
    if isinstance(tpi, bool) or not isinstance(tpi, Real) or math.isnan(tpi) or not 0 <= tpi <= 10:
        raise ValueError(f"tpi must be a number within 0–10, got {tpi!r}")
    level = sum(tpi >= lower for lower in _TPI_LOWER)
    return level, LEVELS[level].zh, LEVELS[level].en


def _bands(road_class: str) -> tuple[float, float, float, float]:
    if road_class not in SPEED_BANDS:
        raise ValueError(f"unknown road class {road_class!r}; expected one of {sorted(SPEED_BANDS)}")
    return SPEED_BANDS[road_class]


def _lengths(segments: pd.DataFrame) -> np.ndarray:
    if "length_m" not in segments.columns:
        raise ValueError("segments need a length_m column")
    lengths = pd.to_numeric(segments["length_m"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(lengths).all() or (lengths < 0).any():
        raise ValueError("length_m must be finite, non-negative numbers")
    return lengths


def _levels(segments: pd.DataFrame) -> np.ndarray:
    if "level" in segments.columns:
        levels = pd.to_numeric(segments["level"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.isin(levels, tuple(LEVELS)).all():
            raise ValueError(f"level must be one of {tuple(LEVELS)}")
        return levels.astype(np.int64)
    if {"speed_kmh", "road_class"} <= set(segments.columns):
        return segment_levels(segments["speed_kmh"], segments["road_class"]).to_numpy()
    raise ValueError("segments need a level column, or speed_kmh and road_class columns")


# ---- congestion over time and by segment -------------------------------------------------------------------


def hourly_tpi(speeds: pd.DataFrame, segments: pd.DataFrame, hour_ends: pd.DatetimeIndex) -> pd.Series:
    """The TPI per hour ending at each of ``hour_ends`` (NaN where an hour has no speeds).

    Each hour uses every segment's newest speed within that hour (``segment_id, ts, speed_kmh`` rows joined to
    ``segment_id, road_class, length_m``), the same reading :func:`district_tpi` makes of "now".
    """
    out = pd.Series(np.nan, index=hour_ends, dtype=float)
    if speeds.empty or not len(hour_ends):
        return out
    hour = speeds["ts"].dt.ceil("h")
    sel = speeds.assign(hour=hour).loc[hour.isin(hour_ends)]
    sel = sel.sort_values("ts", kind="stable").drop_duplicates(["segment_id", "hour"], keep="last")
    sel = sel.merge(segments[["segment_id", "road_class", "length_m"]], on="segment_id")
    if sel.empty:
        return out
    sel = sel.assign(level=segment_levels(sel["speed_kmh"], sel["road_class"]))
    for h, group in sel.groupby("hour"):
        out[h] = district_tpi(group[["length_m", "level"]])
    return out


def worst_segments(segments: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` most congested segments now: highest level first, then slowest against their class's free-flow
    speed (``ratio`` = speed / the 畅通 threshold). Needs ``segment_id, speed_kmh, road_class``; keeps every column
    and adds ``level`` and ``ratio``. Segments without a speed are left out.
    """
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    known = segments.loc[segments["speed_kmh"].notna()]
    if known.empty:
        return known.assign(level=pd.Series(dtype="int64"), ratio=pd.Series(dtype=float))
    free = known["road_class"].map(lambda c: SPEED_BANDS[c][0]).astype(float)
    ranked = known.assign(
        level=segment_levels(known["speed_kmh"], known["road_class"]), ratio=known["speed_kmh"] / free
    )
    ranked = ranked.sort_values(["level", "ratio", "segment_id"], ascending=[False, True, True], kind="stable")
    return ranked.head(n).reset_index(drop=True)


# ---- accidents ------------------------------------------------------------------------------------------------

#: ASSUMPTION: accidents within this distance of each other (chained) form one cluster …
HOTSPOT_EPS_M = 300.0
#: … and a cluster of at least this many accidents is a hotspot (事故多发点).
HOTSPOT_MIN = 3


def accident_hotspots(
    accidents: pd.DataFrame, eps_m: float = HOTSPOT_EPS_M, min_count: int = HOTSPOT_MIN
) -> pd.DataFrame:
    """Clusters of repeated accidents, most accidents first.

    Single-linkage clustering: accidents within ``eps_m`` of each other, directly or through a chain, share a
    cluster (DBSCAN with min_samples = 1); clusters of at least ``min_count`` are hotspots. Returns one row per
    hotspot: ``count``, centre ``lon``/``lat``, ``worst`` severity, ``last`` accident time, ``radius_m`` (furthest
    member from the centre) and the most frequent ``segment_id`` where the feed gives one.
    """
    if eps_m <= 0 or min_count < 1:
        raise ValueError("eps_m must be > 0 and min_count ≥ 1")
    columns = ["count", "lon", "lat", "worst", "last", "radius_m", "segment_id"]
    if accidents.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    x, y = to_metres(accidents["lon"].to_numpy(), accidents["lat"].to_numpy())
    points = shapely.points(x, y)
    left, right = shapely.STRtree(points).query(points, predicate="dwithin", distance=eps_m)
    label = _components(len(points), left, right)
    rows = []
    for members in pd.Series(np.arange(len(points))).groupby(label).groups.values():
        idx = np.asarray(members)
        if len(idx) < min_count:
            continue
        cx, cy = x[idx].mean(), y[idx].mean()
        group = accidents.iloc[idx]
        segs = group["segment_id"].dropna() if "segment_id" in group else pd.Series(dtype=object)
        rows.append(
            {
                "count": len(idx),
                "lon": float(group["lon"].mean()),
                "lat": float(group["lat"].mean()),
                "worst": int(group["severity"].max()),
                "last": group["ts"].max(),
                "radius_m": float(np.hypot(x[idx] - cx, y[idx] - cy).max()),
                "segment_id": str(segs.mode().sort_values().iloc[0]) if len(segs) else None,
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["count", "worst", "last"], ascending=False, kind="stable").reset_index(drop=True)


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label per node of an undirected graph given as edge lists (union-find)."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)])


def weekly_counts(accidents: pd.DataFrame, now: pd.Timestamp, weeks: int, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """Accidents per local week (Monday 00:00 start) for the ``weeks`` weeks up to the one holding ``now``, oldest
    first: ``week`` (its Monday, local), ``total`` and ``sev1`` … ``sev4``. Weeks without accidents count 0; the
    current week is partial (up to ``now``)."""
    if weeks < 1:
        raise ValueError(f"weeks must be ≥ 1, got {weeks}")
    local_now = pd.Timestamp(now).tz_convert(tz)
    this_monday = (local_now - pd.Timedelta(days=local_now.weekday())).normalize()
    mondays = pd.DatetimeIndex([this_monday - pd.Timedelta(weeks=k) for k in range(weeks - 1, -1, -1)])
    sev = [f"sev{s}" for s in (1, 2, 3, 4)]
    table = pd.DataFrame(0, index=mondays, columns=["total", *sev], dtype="int64")
    if len(accidents):
        ts = accidents["ts"].dt.tz_convert(tz)
        keep = (ts >= mondays[0]) & (ts <= local_now)
        week = (ts[keep] - pd.to_timedelta(ts[keep].dt.day_of_week, unit="D")).dt.normalize()
        counts = pd.crosstab(week, accidents.loc[keep, "severity"]).reindex(columns=[1, 2, 3, 4], fill_value=0)
        counts.columns = sev
        counts = counts.reindex(mondays, fill_value=0)
        table[sev] = counts.to_numpy()
        table["total"] = counts.sum(axis=1).to_numpy()
    return table.rename_axis("week").reset_index()


# ---- parking ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParkingTotal:
    lots: int
    reporting: int
    capacity: int
    occupied: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.occupied)

    @property
    def rate(self) -> float | None:
        return self.occupied / self.capacity if self.capacity else None


def parking_lots(lots: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Each lot (``lot_id, name, capacity``…) with its latest ``occupied`` (clipped to capacity), ``free`` and
    ``rate``; lots that did not report have NaN occupancy. Fullest first, silent lots last."""
    merged = lots.merge(latest[["lot_id", "occupied", "ts"]], on="lot_id", how="left")
    occupied = merged["occupied"].astype(float).clip(upper=merged["capacity"].astype(float))
    merged = merged.assign(occupied=occupied, free=merged["capacity"] - occupied, rate=occupied / merged["capacity"])
    return merged.sort_values(["rate", "lot_id"], ascending=[False, True], na_position="last", kind="stable")


def parking_total(table: pd.DataFrame) -> ParkingTotal:
    """The district (or scope) total of :func:`parking_lots`: capacity and occupancy of the lots that reported."""
    reporting = table.loc[table["occupied"].notna()]
    return ParkingTotal(
        lots=len(table),
        reporting=len(reporting),
        capacity=int(reporting["capacity"].sum()),
        occupied=int(reporting["occupied"].sum()),
    )
