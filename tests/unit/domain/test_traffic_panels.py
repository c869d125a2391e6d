"""The transport scene's traffic computations by hand: TPI per hour, worst segments, accident hotspots and weekly
trend, parking totals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.traffic import (
    accident_hotspots,
    hourly_tpi,
    parking_lots,
    parking_total,
    weekly_counts,
    worst_segments,
)

SEGMENTS = pd.DataFrame(
    {
        "segment_id": ["a", "b"],
        "name": ["A路", "B路"],
        "road_class": ["arterial", "arterial"],
        "length_m": [100.0, 900.0],
    }
)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_hourly_tpi_uses_each_segments_newest_speed_of_the_hour() -> None:
    speeds = pd.DataFrame(
        {
            "segment_id": ["a", "a", "b", "a", "b"],
            "ts": [
                ts(t)
                for t in (
                    "2026-11-29T09:10+08:00",
                    "2026-11-29T09:50+08:00",
                    "2026-11-29T09:30+08:00",
                    "2026-11-29T10:20+08:00",
                    "2026-11-29T10:20+08:00",
                )
            ],
            "speed_kmh": [50.0, 10.0, 50.0, 50.0, 50.0],
        }
    )
    hours = pd.DatetimeIndex(
        [ts(t) for t in ("2026-11-29T10:00+08:00", "2026-11-29T11:00+08:00", "2026-11-29T12:00+08:00")]
    )
    got = hourly_tpi(speeds, SEGMENTS, hours)
    # 09–10: a at 10 km/h (严重, w = 1) over 100 of 1000 m → r = 0.1 → 5.3; 10–11: all free → 0; 11–12: no data
    assert got.iloc[0] == 5.3 and got.iloc[1] == 0.0 and math.isnan(got.iloc[2])
    assert got.index.equals(hours)
    assert hourly_tpi(speeds.iloc[0:0], SEGMENTS, hours).isna().all()


def test_worst_segments_by_level_then_against_free_flow() -> None:
    frame = pd.DataFrame(
        {
            "segment_id": ["fast", "slow-art", "slow-exp", "slower-art", "none"],
            "road_class": ["arterial", "arterial", "expressway", "arterial", "arterial"],
            "speed_kmh": [60.0, 14.0, 19.0, 12.0, np.nan],
        }
    )
    got = worst_segments(frame, n=3)
    # all three 严重拥堵, then by speed / free-flow threshold: 19/65 = 0.292 < 12/40 = 0.30 < 14/40 = 0.35
    assert got["segment_id"].tolist() == ["slow-exp", "slower-art", "slow-art"]
    assert got["level"].tolist() == [5, 5, 5]
    assert got["ratio"].iloc[0] == pytest.approx(19 / 65)
    assert worst_segments(frame, n=10)["segment_id"].tolist()[-1] == "fast"
    assert len(worst_segments(frame, n=10)) == 4  # the segment without a speed is left out
    with pytest.raises(ValueError):
        worst_segments(frame, n=-1)


def _accidents(points: list[tuple[float, float, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "accident_id": [f"x{i}" for i in range(len(points))],
            "ts": [ts(t) for *_, t in points],
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "severity": [p[2] for p in points],
            "segment_id": ["s1"] * len(points),
        }
    )


def test_hotspots_chain_within_eps_and_need_min_count() -> None:
    step = 0.002  # ≈ 182 m of longitude: neighbours link, the ends (364 m apart) only through the middle one
    acc = _accidents(
        [
            (117.40, 35.10, 1, "2026-11-20T08:00+08:00"),
            (117.40 + step, 35.10, 3, "2026-11-21T08:00+08:00"),
            (117.40 + 2 * step, 35.10, 2, "2026-11-22T08:00+08:00"),
            (117.50, 35.00, 4, "2026-11-23T08:00+08:00"),  # alone
            (117.60, 35.20, 1, "2026-11-23T08:00+08:00"),  # a pair: below min_count
            (117.6005, 35.2001, 1, "2026-11-24T08:00+08:00"),
        ]
    )
    got = accident_hotspots(acc)
    assert len(got) == 1
    row = got.iloc[0]
    assert row["count"] == 3 and row["worst"] == 3 and row["segment_id"] == "s1"
    assert row["lon"] == pytest.approx(117.402) and row["radius_m"] == pytest.approx(182.2, abs=0.5)
    assert row["last"] == ts("2026-11-22T08:00+08:00")
    assert accident_hotspots(acc, eps_m=100).empty  # 182 m apart no longer chain
    assert accident_hotspots(acc, min_count=2)["count"].tolist() == [3, 2]
    assert accident_hotspots(acc.iloc[0:0]).empty
    with pytest.raises(ValueError):
        accident_hotspots(acc, eps_m=0)


def test_weekly_counts_local_mondays_with_zero_weeks() -> None:
    now = ts("2026-11-29T12:00+08:00")  # a Sunday; its week began Monday 2026-11-23
    acc = _accidents(
        [
            (117.4, 35.1, 1, "2026-11-23T00:30+08:00"),  # Monday 00:30 local = Sunday 16:30 UTC
            (117.4, 35.1, 4, "2026-11-29T11:00+08:00"),
            (117.4, 35.1, 2, "2026-11-15T23:59+08:00"),  # Sunday: the week of 11-09
            (117.4, 35.1, 2, "2026-11-01T10:00+08:00"),  # before the first week shown
            (117.4, 35.1, 3, "2026-11-29T12:30+08:00"),  # after now
        ]
    )
    got = weekly_counts(acc, now, weeks=3)
    assert [d.strftime("%m-%d") for d in got["week"]] == ["11-09", "11-16", "11-23"]
    assert got["total"].tolist() == [1, 0, 2]
    assert got["sev4"].tolist() == [0, 0, 1] and got["sev1"].tolist() == [0, 0, 1] and got["sev2"].tolist() == [1, 0, 0]
    assert weekly_counts(acc.iloc[0:0], now, weeks=2)["total"].tolist() == [0, 0]
    with pytest.raises(ValueError):
        weekly_counts(acc, now, weeks=0)


def test_parking_lots_and_total() -> None:
    lots = pd.DataFrame({"lot_id": ["P1", "P2", "P3"], "name": ["一", "二", "三"], "capacity": [100, 50, 80]})
    latest = pd.DataFrame({"lot_id": ["P1", "P2"], "occupied": [40, 60], "ts": [ts("2026-11-29T12:00+08:00")] * 2})
    table = parking_lots(lots, latest)
    assert table["lot_id"].tolist() == ["P2", "P1", "P3"]  # fullest first, silent last
    p2 = table.iloc[0]
    assert p2["occupied"] == 50 and p2["free"] == 0 and p2["rate"] == 1.0  # over-count clipped to capacity
    total = parking_total(table)
    assert (total.lots, total.reporting, total.capacity, total.occupied, total.free) == (3, 2, 150, 90, 60)
    assert total.rate == pytest.approx(0.6)
    assert parking_total(parking_lots(lots, latest.iloc[0:0])).rate is None
