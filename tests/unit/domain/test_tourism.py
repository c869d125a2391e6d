"""Crowding bands (assumed, REFERENCE.md §6) and LB/T 034-2014 capacity, hand-computed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.domain.tourism import (
    DEFAULT_BANDS,
    SpotLoad,
    alarm_levels,
    capacity_lbt034,
    crowding,
    crowding_episodes,
    distance_km,
    diversion,
    validate_bands,
)


@pytest.mark.parametrize(
    ("in_park", "band", "band_en", "level", "warning", "limit"),
    [
        (0, "舒适", "Comfortable", 1, False, False),
        (49, "舒适", "Comfortable", 1, False, False),
        (50, "较舒适", "Fairly comfortable", 2, False, False),
        (69, "较舒适", "Fairly comfortable", 2, False, False),
        (70, "一般", "Moderate", 3, False, False),
        (79, "一般", "Moderate", 3, False, False),
        (80, "拥挤", "Crowded", 4, True, False),
        (99, "拥挤", "Crowded", 4, True, False),
        (100, "饱和", "Saturated", 5, True, True),
        (130, "饱和", "Saturated", 5, True, True),
    ],
)
def test_default_bands(in_park: int, band: str, band_en: str, level: int, warning: bool, limit: bool) -> None:
    got = crowding(in_park, 100)
    assert (got.band, got.band_en, got.level, got.warning, got.limit) == (band, band_en, level, warning, limit)
    assert got.ratio == pytest.approx(in_park / 100)


def test_ratio_and_edges_with_other_capacities() -> None:
    assert crowding(4, 5).warning is True  # exactly 80 %
    assert crowding(3, 5).band == "较舒适"  # exactly 60 %
    assert crowding(2_399, 3_000).warning is False  # 79.97 %
    assert crowding(np.int64(7), np.int64(10)).band == "一般"  # type: ignore[arg-type]


def test_custom_bands_with_fewer_than_four_keep_the_80_percent_warning() -> None:
    bands = [(0, "空闲", "Quiet"), (0.6, "繁忙", "Busy")]
    assert (crowding(70, 100, bands).band, crowding(70, 100, bands).level) == ("繁忙", 2)
    assert crowding(79, 100, bands).warning is False
    assert crowding(80, 100, bands).warning is True


def test_custom_fourth_band_moves_the_warning() -> None:
    bands = [(0, "a", "A"), (0.4, "b", "B"), (0.6, "c", "C"), (0.85, "d", "D"), (1.2, "e", "E")]
    assert crowding(84, 100, bands).warning is False
    assert crowding(85, 100, bands).warning is True
    assert crowding(110, 100, bands).band == "d"
    assert crowding(110, 100, bands).limit is True  # ticket sales stop at capacity whatever the bands


def test_warning_at_override() -> None:
    assert crowding(85, 100, warning_at=0.9).warning is False
    assert crowding(90, 100, warning_at=0.9).warning is True


@pytest.mark.parametrize(
    ("in_park", "capacity", "message"),
    [
        (10, 0, "capacity"),
        (10, -5, "capacity"),
        (-1, 100, "in_park"),
        (True, 100, "in_park"),
        (10, True, "capacity"),
        (1.5, 100, "in_park"),
        (10, 100.0, "capacity"),
    ],
)
def test_crowding_rejects_counts(in_park: object, capacity: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crowding(in_park, capacity)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([], "at least one"),
        ([(0.1, "a", "A")], "must be 0"),
        ([(0, "a", "A"), (0.5, "b", "B"), (0.5, "c", "C")], "ascending"),
        ([(0, "a", "A"), (0.7, "b", "B"), (0.6, "c", "C")], "ascending"),
        ([(0, "a")], "expected"),
        (["abc"], "expected"),
        ([(0, "", "A")], "non-empty"),
        ([(0, "a", "A"), (math.nan, "b", "B")], "finite"),
        ([(0, "a", "A"), ("0.5", "b", "B")], "finite"),
    ],
)
def test_bands_validated(bands: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crowding(10, 100, bands)  # type: ignore[arg-type]


def test_validate_bands_returns_tuples() -> None:
    assert validate_bands([list(row) for row in DEFAULT_BANDS]) == DEFAULT_BANDS  # type: ignore[misc]


@pytest.mark.parametrize("bad", [0, -0.5, math.nan, True])
def test_warning_at_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="warning_at"):
        crowding(10, 100, warning_at=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("areas", "per_visitor", "hours", "visit", "expected"),
    [
        ([10_000, 2_000], [50, 5], 8, 3, (600, 1200)),  # 200 + 400; ⌊8/3⌋ = 2
        ([1_000], [300], 8, 2, (3, 12)),  # ⌊3.33⌋ = 3; 8/2 = 4
        ([0.3], [0.1], 8, 8, (3, 3)),  # 0.3/0.1 is 2.9999999999999996 in floats
        ([50_000, 0], [100, 10], 8, 2.5, (500, 1500)),  # ⌊3.2⌋ = 3
    ],
)
def test_capacity_lbt034(
    areas: list[float], per_visitor: list[float], hours: float, visit: float, expected: tuple[int, int]
) -> None:
    assert capacity_lbt034(areas, per_visitor, hours, visit) == expected


@pytest.mark.parametrize(
    ("areas", "per_visitor", "hours", "visit", "message"),
    [
        ([], [], 8, 2, "non-empty"),
        ([100, 200], [10], 8, 2, "same length"),
        ([100], [0], 8, 2, r"per_visitor_m2\[0\]"),
        ([-100], [10], 8, 2, r"areas_m2\[0\]"),
        ([100], [10], 25, 2, "opening_hours"),
        ([100], [10], 0, 2, "opening_hours"),
        ([100], [10], 8, 9, "visit_hours"),
        ([100], [10], 8, math.nan, "visit_hours"),
        ([True], [10], 8, 2, r"areas_m2\[0\]"),
    ],
)
def test_capacity_lbt034_validation(
    areas: list[float], per_visitor: list[float], hours: float, visit: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        capacity_lbt034(areas, per_visitor, hours, visit)


# ---- alarms with hysteresis, diversion ---------------------------------------------------------------------


def test_alarm_levels_and_crowding_episodes() -> None:
    warning, limit = alarm_levels(0.8, 1.0, 0.05)
    assert (warning.on_at, warning.off_below, limit.on_at, limit.off_below) == (0.8, 0.75, 1.0, 0.95)
    ratios = [0.6, 0.79, 0.8, 0.79, 0.81, 1.0, 0.99, 1.01, 0.9, 0.7, 0.8]
    got = [(e.name, e.start, e.end) for e in crowding_episodes(ratios)]
    assert got == [("warning", 2, 9), ("limit", 5, 8), ("warning", 10, None)]


@pytest.mark.parametrize(("w", "lim", "m"), [(1.0, 1.0, 0.05), (0.8, 0.7, 0.05), (0.8, 1.0, -0.1)])
def test_alarm_levels_validated(w: float, lim: float, m: float) -> None:
    with pytest.raises(ValueError):
        alarm_levels(w, lim, m)


def _spot(i: str, lon: float, in_park: int, cap: int = 1000) -> SpotLoad:
    return SpotLoad(i, i, lon, 35.0, in_park, cap)


def test_diversion_nearest_with_room_first() -> None:
    crowded = _spot("a", 117.0, 900)
    others = [crowded, _spot("far", 117.5, 100), _spot("near-full", 117.01, 700), _spot("near", 117.02, 200)]
    got = diversion(crowded, others, room_below=0.7, limit=2)
    assert [(d.spot_id, d.room) for d in got] == [("near", 500), ("far", 600)]
    assert got[0].distance_km == pytest.approx(distance_km(117.0, 35.0, 117.02, 35.0))
    assert distance_km(117.0, 35.0, 117.0, 36.0) == pytest.approx(111.2, abs=0.1)
