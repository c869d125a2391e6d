"""Road congestion: segment level by mean speed and a district traffic index (TPI), 参照 GB/T 33171-2016.

Speed bands are REFERENCE.md §4. The band edges are shared by two bands; we put an edge speed in the slower band
(v > 65 畅通, 50 < v ≤ 65 基本畅通, …, v ≤ 20 严重拥堵 on a 快速路), the conservative reading for operators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd


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
