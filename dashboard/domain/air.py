"""Air quality index per HJ 633 (环境空气质量指数 AQI 技术规定): IAQI, AQI, level, primary pollutant.

The breakpoint rows are REFERENCE.md §2. HJ 633-2026 (in force 2026-03-01, Asia/Shanghai) changes only the
PM2.5 and PM10 rows, so the table is chosen by the observation time, never by the day the dashboard runs.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from numbers import Real
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

#: IAQI values at the breakpoints; a row shorter than this ends at the IAQI of its last breakpoint.
IAQI_STEPS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)

#: First instant at which the HJ 633-2026 particulate rows apply.
HJ633_2026_FROM = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))

#: HJ 633-2012 Table 1 (µg/m³; CO mg/m³), keyed "<pollutant>_<averaging period>".
TABLE_2012: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
        "so2_1h": (0, 150, 500, 650, 800),
        "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
        "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
        "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
        "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
        "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
        "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
        "o3_8h": (0, 100, 160, 215, 265, 800),
        "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
    }
)

#: HJ 633-2026: the 2012 table with new PM2.5 and PM10 rows.
TABLE_2026: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        **TABLE_2012,
        "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
        "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
    }
)

#: Rows that stop short of IAQI 500 and the row that takes over above their top breakpoint (HJ 633 Table 1
#: notes: SO2 1h above 800 is reported with the 24h row, O3 8h above 800 with the O3 1h row). Both pairs agree
#: at 800 (IAQI 200 and 300), so the IAQI stays continuous.
OVERFLOW_ROW: Mapping[str, str] = MappingProxyType({"so2_1h": "so2_24h", "o3_8h": "o3_1h"})

#: Which row each input key uses. Real-time (hourly) AQI applies the 24h particulate rows to hourly values.
ROWS_BY_AVERAGING: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "1h": MappingProxyType(
            {"pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_1h", "no2": "no2_1h", "co": "co_1h", "o3": "o3_1h"}
        ),
        "24h": MappingProxyType(
            {
                "pm25": "pm25_24h",
                "pm10": "pm10_24h",
                "so2": "so2_24h",
                "no2": "no2_24h",
                "co": "co_24h",
                "o3": "o3_1h",
                "o3_8h": "o3_8h",
            }
        ),
    }
)

#: Order in which pollutants are listed in ``primary`` and ``exceeding``.
POLLUTANT_ORDER: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h")

_HOURLY_POLLUTANTS: tuple[str, ...] = tuple(p for p in POLLUTANT_ORDER if p in ROWS_BY_AVERAGING["1h"])
_PARTICULATE_ROWS = frozenset({"pm25_24h", "pm10_24h"})


class AqiLevel(NamedTuple):
    """One row of the HJ 633 AQI level table."""

    level: int
    category: str
    category_en: str
    colour: str


#: AQI levels (HJ 633 Table 2); ``_LEVEL_UPPER[i]`` is the highest AQI of ``AQI_LEVELS[i]``, level 6 is open.
AQI_LEVELS: tuple[AqiLevel, ...] = (
    AqiLevel(1, "优", "Excellent", "#00E400"),
    AqiLevel(2, "良", "Good", "#FFFF00"),
    AqiLevel(3, "轻度污染", "Lightly polluted", "#FF7E00"),
    AqiLevel(4, "中度污染", "Moderately polluted", "#FF0000"),
    AqiLevel(5, "重度污染", "Heavily polluted", "#99004C"),
    AqiLevel(6, "严重污染", "Severely polluted", "#7E0023"),
)
_LEVEL_UPPER: tuple[int, ...] = (50, 100, 150, 200, 300)


@dataclass(frozen=True)
class AqiResult:
    """AQI of one observation with the per-pollutant IAQI it was taken from."""

    aqi: int
    level: int
    category: str
    category_en: str
    colour: str
    primary: tuple[str, ...]
    iaqi: Mapping[str, int] = field(hash=False)
    exceeding: tuple[str, ...]


def breakpoint_table(observed_at: datetime) -> Mapping[str, tuple[float, ...]]:
    """The HJ 633 breakpoint table in force at ``observed_at``: 2012 rows before 2026-03-01 (Asia/Shanghai)."""
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise ValueError("observed_at is naive: pass a timezone-aware datetime (the table depends on the instant)")
    return TABLE_2026 if observed_at >= HJ633_2026_FROM else TABLE_2012


def aqi_level(aqi: float) -> AqiLevel:
    """(level, category, category_en, colour) of an AQI value per HJ 633 Table 2 (0–50 优 … >300 严重污染)."""
    if isinstance(aqi, bool) or not isinstance(aqi, Real) or not math.isfinite(aqi) or aqi < 0:
        raise ValueError(f"aqi must be a finite number ≥ 0, got {aqi!r}")
    return AQI_LEVELS[bisect_left(_LEVEL_UPPER, aqi)]


def aqi(concentrations: Mapping[str, float | None], *, averaging: str, observed_at: datetime) -> AqiResult:
    """AQI per HJ 633 from one set of concentrations (µg/m³, CO mg/m³).

    ``averaging="1h"`` is the real-time (hourly) AQI: 1h rows for SO2, NO2, CO, O3 and the 24h particulate rows
    applied to hourly values. ``averaging="24h"`` is the daily AQI: 24h rows, ``o3_8h`` on the O3 8h row and, when
    ``o3`` (the daily maximum 1h value) is given too, the O3 1h row as well. Each IAQI is interpolated linearly
    between breakpoints and rounded up; the AQI is their maximum. Missing pollutants (absent or None) are skipped,
    but at least one is needed. Above a row's top breakpoint the IAQI is capped at 500, except SO2 1h and O3 8h
    above 800, which HJ 633 sends to the SO2 24h and O3 1h rows.
    """
    rows = _rows_for(averaging)
    table = breakpoint_table(observed_at)
    values = _validated(concentrations, rows, averaging)
    iaqi = {name: int(_round_up(_iaqi_raw(np.array([c]), rows[name], table))[0]) for name, c in values.items()}
    return _result(iaqi)


def hourly_aqi(frame: pd.DataFrame) -> pd.DataFrame:
    """Real-time AQI for each ``air_readings`` row, vectorised; agrees with ``aqi(..., averaging="1h")``.

    NaN (or an absent pollutant column) means missing. The particulate table is chosen per row from ``ts``
    (timezone-naive stamps are taken as UTC, the store's convention). Returns ``aqi`` (float, NaN when the row has
    no value), ``level`` (0 for such rows), ``category`` and ``primary`` (comma-joined, "" when AQI ≤ 50), on the
    frame's index.
    """
    new_rows = _uses_2026_rows(frame["ts"])
    iaqi = np.column_stack([_column_iaqi(frame, name, new_rows) for name in _HOURLY_POLLUTANTS])
    present = ~np.isnan(iaqi)
    has_value = present.any(axis=1)
    aqi_values = np.where(has_value, np.where(present, iaqi, -1.0).max(axis=1, initial=-1.0), np.nan)
    level = np.where(has_value, np.searchsorted(_LEVEL_UPPER, aqi_values, side="left") + 1, 0)
    categories = np.array([None, *(lv.category for lv in AQI_LEVELS)], dtype=object)
    is_primary = (iaqi == aqi_values[:, None]) & (aqi_values > 50)[:, None]
    code = is_primary.astype(np.int64) @ (1 << np.arange(len(_HOURLY_POLLUTANTS), dtype=np.int64))
    labels = np.array([_joined(mask) for mask in range(1 << len(_HOURLY_POLLUTANTS))], dtype=object)
    return pd.DataFrame(
        {"aqi": aqi_values, "level": level.astype(np.int64), "category": categories[level], "primary": labels[code]},
        index=frame.index,
    )


def _rows_for(averaging: str) -> Mapping[str, str]:
    if averaging not in ROWS_BY_AVERAGING:
        raise ValueError(f"averaging must be one of {sorted(ROWS_BY_AVERAGING)}, got {averaging!r}")
    return ROWS_BY_AVERAGING[averaging]


def _validated(concentrations: Mapping[str, float | None], rows: Mapping[str, str], averaging: str) -> dict[str, float]:
    unknown = [key for key in concentrations if key not in rows]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise ValueError(f"unknown pollutant(s) {names} for averaging {averaging!r}; expected {', '.join(rows)}")
    values = {
        name: _concentration(name, concentrations[name])
        for name in POLLUTANT_ORDER
        if concentrations.get(name) is not None
    }
    if not values:
        raise ValueError("no concentration given: at least one pollutant is needed")
    return values


def _concentration(name: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, Real):
        raise ValueError(f"{name}: concentration must be a number, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: concentration must be finite and ≥ 0, got {raw!r}")
    return value


def _iaqi_raw(conc: np.ndarray, row: str, table: Mapping[str, tuple[float, ...]]) -> np.ndarray:
    """IAQI before rounding: (IAQIhi−IAQIlo)/(BPhi−BPlo)·(C−BPlo)+IAQIlo; NaN stays NaN."""
    bps = np.asarray(table[row], dtype=float)
    steps = np.asarray(IAQI_STEPS[: len(bps)], dtype=float)
    hi = np.clip(np.searchsorted(bps, conc, side="left"), 1, len(bps) - 1)
    lo = hi - 1
    value = (steps[hi] - steps[lo]) / (bps[hi] - bps[lo]) * (conc - bps[lo]) + steps[lo]
    above = conc > bps[-1]
    if row in OVERFLOW_ROW:
        return np.where(above, _iaqi_raw(conc, OVERFLOW_ROW[row], table), value)
    # Beyond the last breakpoint HJ 633 gives no IAQI; we cap at 500 so that extreme readings still rank highest.
    return np.where(above, steps[-1], value)


def _round_up(raw: np.ndarray) -> np.ndarray:
    # Round to 1e-9 first so that floating-point noise (52.000000000000004) does not round up to the next integer.
    return np.ceil(np.round(raw, 9))


def _result(iaqi: Mapping[str, int]) -> AqiResult:
    top = max(iaqi.values())
    info = aqi_level(top)
    return AqiResult(
        aqi=top,
        level=info.level,
        category=info.category,
        category_en=info.category_en,
        colour=info.colour,
        primary=tuple(name for name in iaqi if iaqi[name] == top) if top > 50 else (),
        iaqi=MappingProxyType(dict(iaqi)),
        exceeding=tuple(name for name in iaqi if iaqi[name] > 100),
    )


def _uses_2026_rows(ts: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(ts)
    if stamps.isna().any():
        raise ValueError("air readings: ts has missing values; the AQI table depends on the observation time")
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return (stamps >= pd.Timestamp(HJ633_2026_FROM)).to_numpy(dtype=bool)


def _column_iaqi(frame: pd.DataFrame, name: str, new_rows: np.ndarray) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    try:
        conc = frame[name].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: concentrations must be numbers ({exc})") from exc
    bad = np.isinf(conc) | (conc < 0)
    if bad.any():
        raise ValueError(f"{name}: {int(bad.sum())} value(s) negative or infinite, e.g. row {frame.index[bad][0]!r}")
    row = ROWS_BY_AVERAGING["1h"][name]
    if row not in _PARTICULATE_ROWS:
        return _round_up(_iaqi_raw(conc, row, TABLE_2012))
    return _round_up(np.where(new_rows, _iaqi_raw(conc, row, TABLE_2026), _iaqi_raw(conc, row, TABLE_2012)))


def _joined(mask: int) -> str:
    return ",".join(name for bit, name in enumerate(_HOURLY_POLLUTANTS) if mask & (1 << bit))
