"""HJ 633 AQI: expected values are computed by hand from REFERENCE.md §2, not copied from the code."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.air import aqi, aqi_level, breakpoint_table, hourly_aqi

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE_2026 = datetime(2025, 6, 1, 10, tzinfo=SHANGHAI)
AFTER_2026 = datetime(2026, 6, 1, 10, tzinfo=SHANGHAI)


def hourly_iaqi(pollutant: str, value: float, when: datetime = BEFORE_2026) -> int:
    return aqi({pollutant: value}, averaging="1h", observed_at=when).iaqi[pollutant]


def daily_iaqi(pollutant: str, value: float, when: datetime = BEFORE_2026) -> int:
    return aqi({pollutant: value}, averaging="24h", observed_at=when).iaqi[pollutant]


# ---- single pollutants, hourly (real-time) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (4.9, 7),  # 50/35·4.9 = 7 exactly; naive float gives 7.000000000000001
        (32.2, 46),  # 50/35·32.2 = 46 exactly
        (35, 50),
        (35.1, 51),  # 50 + 50/40·0.1 = 50.125
        (61, 83),  # 50 + 50/40·26 = 82.5
        (75, 100),
        (75.1, 101),
        (80, 107),  # 100 + 50/40·5 = 106.25
        (115, 150),
        (150, 200),
        (250, 300),
        (350, 400),
        (500, 500),
        (501, 500),  # beyond the table: capped
        (5000, 500),
    ],
)
def test_pm25_2012_rows(value: float, expected: int) -> None:
    assert hourly_iaqi("pm25", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35, 50),
        (59, 98),  # 50 + 50/25·24
        (60, 100),
        (61, 101),  # 100 + 50/55·1 = 100.9
        (75, 114),  # 100 + 50/55·15 = 113.6
        (115, 150),
        (150, 200),
        (500, 500),
    ],
)
def test_pm25_2026_rows(value: float, expected: int) -> None:
    assert hourly_iaqi("pm25", value, AFTER_2026) == expected


@pytest.mark.parametrize(
    ("value", "expected_2012", "expected_2026"),
    [
        (50, 50, 50),
        (120, 85, 100),  # 2012: 50 + 50/100·70; 2026: breakpoint
        (121, 86, 101),  # 85.5; 100 + 50/130 = 100.4
        (150, 100, 112),  # 2026: 100 + 50/130·30 = 111.5
        (250, 150, 150),
        (350, 200, 200),
        (600, 500, 500),
        (700, 500, 500),
    ],
)
def test_pm10_rows_by_era(value: float, expected_2012: int, expected_2026: int) -> None:
    assert hourly_iaqi("pm10", value, BEFORE_2026) == expected_2012
    assert hourly_iaqi("pm10", value, AFTER_2026) == expected_2026


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (150, 50),
        (151, 51),  # 50 + 50/350
        (500, 100),
        (650, 150),
        (800, 200),
        (801, 201),  # SO2 1h above 800 → 24h row: 200 + 100/800
        (1600, 300),
        (2100, 400),
        (2620, 500),
        (3000, 500),
    ],
)
def test_so2_hourly_with_24h_fallback(value: float, expected: int) -> None:
    assert hourly_iaqi("so2", value) == expected


@pytest.mark.parametrize(
    ("pollutant", "value", "expected"),
    [
        ("no2", 100, 50),
        ("no2", 110, 55),
        ("no2", 200, 100),
        ("no2", 201, 101),  # 100 + 50/500
        ("no2", 1200, 200),
        ("no2", 3840, 500),
        ("co", 5, 50),
        ("co", 5.2, 52),  # float noise would give 52.000000000000004 → 53
        ("co", 10, 100),
        ("co", 35, 150),
        ("co", 150, 500),
        ("co", 200, 500),
        ("o3", 160, 50),
        ("o3", 160.8, 51),  # 50 + 50/40·0.8 = 51 exactly
        ("o3", 200, 100),
        ("o3", 250, 125),
        ("o3", 300, 150),
        ("o3", 1200, 500),
    ],
)
def test_hourly_gaseous_rows(pollutant: str, value: float, expected: int) -> None:
    assert hourly_iaqi(pollutant, value) == expected


# ---- single pollutants, daily ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pollutant", "value", "expected"),
    [
        ("so2", 50, 50),
        ("so2", 150, 100),
        ("so2", 151, 101),  # 100 + 50/325
        ("so2", 801, 201),
        ("no2", 40, 50),
        ("no2", 80, 100),
        ("no2", 81, 101),  # 100.5
        ("co", 2, 50),
        ("co", 2.2, 55),
        ("co", 4, 100),
        ("o3_8h", 100, 50),
        ("o3_8h", 160, 100),
        ("o3_8h", 161, 101),  # 100 + 50/55
        ("o3_8h", 265, 200),
        ("o3_8h", 266, 201),  # 200 + 100/535
        ("o3_8h", 800, 300),
        ("o3_8h", 900, 350),  # above 800 → O3 1h row: 300 + 100/200·100
        ("o3_8h", 1300, 500),
        ("pm25", 75, 100),
    ],
)
def test_daily_rows(pollutant: str, value: float, expected: int) -> None:
    assert daily_iaqi(pollutant, value) == expected


def test_daily_takes_o3_one_hour_and_eight_hour() -> None:
    # O3 1h 300 → 150; O3 8h 170 → 100 + 50/55·10 = 109.1 → 110
    result = aqi({"o3": 300, "o3_8h": 170, "pm25": 20}, averaging="24h", observed_at=BEFORE_2026)
    assert dict(result.iaqi) == {"pm25": 29, "o3": 150, "o3_8h": 110}  # pm25: 50/35·20 = 28.6
    assert result.aqi == 150
    assert result.level == 3
    assert result.primary == ("o3",)
    assert result.exceeding == ("o3", "o3_8h")


# ---- AQI, level, primary ------------------------------------------------------------------------------------------


def test_aqi_is_max_with_primary_and_exceeding() -> None:
    result = aqi({"pm25": 80, "pm10": 100, "no2": 50}, averaging="1h", observed_at=BEFORE_2026)
    assert dict(result.iaqi) == {"pm25": 107, "pm10": 75, "no2": 25}
    assert (result.aqi, result.level, result.category, result.category_en) == (107, 3, "轻度污染", "Lightly polluted")
    assert result.colour == "#FF7E00"
    assert result.primary == ("pm25",)
    assert result.exceeding == ("pm25",)


def test_tied_primary_pollutants_and_100_is_not_exceeding() -> None:
    result = aqi({"pm25": 75, "pm10": 150}, averaging="1h", observed_at=BEFORE_2026)
    assert result.aqi == 100
    assert result.category == "良"
    assert result.primary == ("pm25", "pm10")
    assert result.exceeding == ()


def test_no_primary_pollutant_at_50() -> None:
    result = aqi({"pm25": 35, "no2": 100}, averaging="1h", observed_at=BEFORE_2026)
    assert (result.aqi, result.level, result.category, result.primary) == (50, 1, "优", ())
    above = aqi({"pm25": 35.1, "no2": 100}, averaging="1h", observed_at=BEFORE_2026)
    assert (above.aqi, above.level, above.primary) == (51, 2, ("pm25",))


def test_missing_pollutants_are_skipped() -> None:
    result = aqi({"pm25": None, "so2": 151}, averaging="1h", observed_at=BEFORE_2026)
    assert dict(result.iaqi) == {"so2": 51}
    assert result.aqi == 51


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 2, 28, 23, 59, 59, tzinfo=SHANGHAI), 83),
        (datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI), 101),
        (datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC), 83),
        (datetime(2026, 2, 28, 16, 0, tzinfo=UTC), 101),
    ],
)
def test_table_switches_at_2026_03_01_shanghai(when: datetime, expected: int) -> None:
    assert hourly_iaqi("pm25", 61, when) == expected


def test_breakpoint_table_rows() -> None:
    assert breakpoint_table(BEFORE_2026)["pm25_24h"] == (0, 35, 75, 115, 150, 250, 350, 500)
    assert breakpoint_table(AFTER_2026)["pm10_24h"] == (0, 50, 120, 250, 350, 420, 500, 600)
    assert breakpoint_table(AFTER_2026)["so2_1h"] == breakpoint_table(BEFORE_2026)["so2_1h"]


@pytest.mark.parametrize(
    ("value", "level", "category", "colour"),
    [
        (0, 1, "优", "#00E400"),
        (50, 1, "优", "#00E400"),
        (51, 2, "良", "#FFFF00"),
        (100, 2, "良", "#FFFF00"),
        (101, 3, "轻度污染", "#FF7E00"),
        (150, 3, "轻度污染", "#FF7E00"),
        (151, 4, "中度污染", "#FF0000"),
        (200, 4, "中度污染", "#FF0000"),
        (201, 5, "重度污染", "#99004C"),
        (300, 5, "重度污染", "#99004C"),
        (301, 6, "严重污染", "#7E0023"),
        (500, 6, "严重污染", "#7E0023"),
    ],
)
def test_aqi_level_table(value: int, level: int, category: str, colour: str) -> None:
    got = aqi_level(value)
    assert (got[0], got[1], got[3]) == (level, category, colour)


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, True, "50"])
def test_aqi_level_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="aqi"):
        aqi_level(bad)  # type: ignore[arg-type]


def test_result_is_frozen_and_hashable() -> None:
    result = aqi({"pm25": 10}, averaging="1h", observed_at=BEFORE_2026)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.aqi = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.iaqi["pm25"] = 3  # type: ignore[index]
    assert hash(result) == hash(aqi({"pm25": 10}, averaging="1h", observed_at=BEFORE_2026))


# ---- validation ---------------------------------------------------------------------------------------------------


def test_naive_time_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        aqi({"pm25": 10}, averaging="1h", observed_at=datetime(2025, 1, 1))


def test_unknown_averaging_rejected() -> None:
    with pytest.raises(ValueError, match="averaging"):
        aqi({"pm25": 10}, averaging="8h", observed_at=BEFORE_2026)


@pytest.mark.parametrize(("averaging", "key"), [("1h", "pm1"), ("1h", "o3_8h"), ("24h", "PM25")])
def test_unknown_pollutant_named(averaging: str, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        aqi({"pm25": 10, key: 5}, averaging=averaging, observed_at=BEFORE_2026)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1, "12", True, [1]])
def test_bad_value_names_pollutant(bad: object) -> None:
    with pytest.raises(ValueError, match="no2"):
        aqi({"pm25": 10, "no2": bad}, averaging="1h", observed_at=BEFORE_2026)  # type: ignore[dict-item]


@pytest.mark.parametrize("given", [{}, {"pm25": None, "co": None}])
def test_at_least_one_pollutant(given: dict[str, float | None]) -> None:
    with pytest.raises(ValueError, match="at least one"):
        aqi(given, averaging="1h", observed_at=BEFORE_2026)


def test_numpy_numbers_accepted() -> None:
    given = {"pm25": np.float64(75), "co": np.int64(10)}
    assert aqi(given, averaging="1h", observed_at=BEFORE_2026).aqi == 100  # type: ignore[arg-type]


# ---- vectorised hourly_aqi ------------------------------------------------------------------------------------------

POLLUTANTS = ("pm25", "pm10", "so2", "no2", "o3", "co")


def readings(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for name in POLLUTANTS:
        if name not in frame:
            frame[name] = np.nan
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["station_id"] = "S1"
    return frame


def test_hourly_frame_known_rows() -> None:
    frame = readings(
        [
            {"ts": "2026-02-28T15:00:00Z", "pm25": 61},  # 2012 rows → 83
            {"ts": "2026-02-28T16:00:00Z", "pm25": 61},  # 2026 rows → 101
            {"ts": "2026-02-28T16:00:00Z"},  # nothing measured
            {"ts": "2025-01-01T00:00:00Z", "pm25": 75, "pm10": 150, "co": 1},  # tie at 100
            {"ts": "2025-01-01T00:00:00Z", "pm25": 35, "so2": 801},  # SO2 fallback → 201
            {"ts": "2025-01-01T00:00:00Z", "pm25": 20},  # 29 → no primary
        ]
    )
    out = hourly_aqi(frame)
    assert list(out.columns) == ["aqi", "level", "category", "primary"]
    assert out["aqi"].iloc[[0, 1, 3, 4, 5]].tolist() == [83, 101, 100, 201, 29]
    assert math.isnan(out["aqi"].iloc[2])
    assert out["level"].tolist() == [2, 3, 0, 2, 5, 1]
    assert out["category"].iloc[[0, 1, 3, 4, 5]].tolist() == ["良", "轻度污染", "良", "重度污染", "优"]
    assert pd.isna(out["category"].iloc[2])
    assert out["primary"].tolist() == ["pm25", "pm25", "", "pm25,pm10", "so2", ""]


def test_hourly_frame_naive_ts_is_utc_and_missing_column_allowed() -> None:
    frame = pd.DataFrame({"station_id": ["S1", "S1"], "ts": pd.to_datetime(["2026-02-28 15:00", "2026-02-28 16:00"])})
    frame["pm25"] = [61.0, 61.0]
    out = hourly_aqi(frame)
    assert out["aqi"].tolist() == [83, 101]


def test_hourly_frame_keeps_index_and_handles_empty() -> None:
    frame = readings([{"ts": "2025-01-01T00:00:00Z", "no2": 201}])
    frame.index = pd.Index([42])
    assert hourly_aqi(frame).loc[42, "aqi"] == 101
    empty = hourly_aqi(frame.iloc[0:0])
    assert empty.empty
    assert list(empty.columns) == ["aqi", "level", "category", "primary"]


@pytest.mark.parametrize("bad", [-1.0, math.inf])
def test_hourly_frame_rejects_bad_values(bad: float) -> None:
    frame = readings([{"ts": "2025-01-01T00:00:00Z", "pm25": 10, "o3": bad}])
    with pytest.raises(ValueError, match="o3"):
        hourly_aqi(frame)


def test_hourly_frame_agrees_with_scalar_row_by_row() -> None:
    rng = np.random.default_rng(20260301)
    n = 400
    tops = {"pm25": 600, "pm10": 700, "so2": 3000, "no2": 4000, "o3": 1400, "co": 170}
    start = datetime(2026, 2, 20, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "station_id": "S1",
            "ts": [start + timedelta(hours=int(h)) for h in rng.integers(0, 24 * 18, n)],
        }
    )
    for name, top in tops.items():
        values = np.round(rng.uniform(0, top, n) ** rng.choice([1.0, 0.7], n) % top, 1)
        breakpoints = np.array(sorted({v for row, bps in breakpoint_table(AFTER_2026).items() for v in bps}))
        at_breakpoint = rng.random(n) < 0.15
        values[at_breakpoint] = rng.choice(breakpoints[breakpoints <= top], at_breakpoint.sum())
        values[rng.random(n) < 0.2] = np.nan
        frame[name] = values
    frame.loc[:3, list(tops)] = np.nan  # some rows with nothing at all
    out = hourly_aqi(frame)
    for i, row in frame.iterrows():
        given = {name: float(row[name]) for name in tops if not math.isnan(row[name])}
        if not given:
            assert math.isnan(out.at[i, "aqi"])
            assert out.at[i, "level"] == 0
            continue
        expected = aqi(given, averaging="1h", observed_at=row["ts"].to_pydatetime())
        assert out.at[i, "aqi"] == expected.aqi, (i, given)
        assert out.at[i, "level"] == expected.level
        assert out.at[i, "category"] == expected.category
        assert out.at[i, "primary"] == ",".join(expected.primary)
