"""Segment levels (REFERENCE.md §4 speed table) and the assumed district TPI, with hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.domain.traffic import LEVELS, district_tpi, segment_level, segment_levels, tpi_level

SPEED_CASES = [
    ("expressway", 200, 1),
    ("expressway", 65.1, 1),
    ("expressway", 65, 2),
    ("expressway", 50.1, 2),
    ("expressway", 50, 3),
    ("expressway", 35.1, 3),
    ("expressway", 35, 4),
    ("expressway", 20.1, 4),
    ("expressway", 20, 5),
    ("expressway", 0, 5),
    ("arterial", 40.1, 1),
    ("arterial", 40, 2),
    ("arterial", 30.1, 2),
    ("arterial", 30, 3),
    ("arterial", 20.1, 3),
    ("arterial", 20, 4),
    ("arterial", 15.1, 4),
    ("arterial", 15, 5),
    ("arterial", 0, 5),
    ("secondary", 35.1, 1),
    ("secondary", 35, 2),
    ("secondary", 25.1, 2),
    ("secondary", 25, 3),
    ("secondary", 15.1, 3),
    ("secondary", 15, 4),
    ("secondary", 10.1, 4),
    ("secondary", 10, 5),
    ("secondary", 0, 5),
    ("branch", 200, 1),
    ("branch", 35.1, 1),
    ("branch", 35, 2),
    ("branch", 36, 1),
    ("branch", 25.5, 2),
    ("branch", 25, 3),
    ("branch", 15.1, 3),
    ("branch", 15, 4),
    ("branch", 10.1, 4),
    ("branch", 10, 5),
    ("branch", 0, 5),
]


@pytest.mark.parametrize(("road_class", "speed", "expected"), SPEED_CASES)
def test_segment_level_edges_go_to_the_slower_band(road_class: str, speed: float, expected: int) -> None:
    assert segment_level(speed, road_class) == expected


@pytest.mark.parametrize("bad", [-0.1, math.nan, 200.1, math.inf, "30", True])
def test_segment_level_rejects_bad_speed(bad: object) -> None:
    with pytest.raises(ValueError, match="speed"):
        segment_level(bad, "arterial")  # type: ignore[arg-type]


def test_segment_level_rejects_unknown_class() -> None:
    with pytest.raises(ValueError, match="highway"):
        segment_level(50, "highway")


def test_levels_table() -> None:
    assert [(k, v.zh, v.colour) for k, v in LEVELS.items()] == [
        (1, "畅通", "#2ECC71"),
        (2, "基本畅通", "#A3D977"),
        (3, "轻度拥堵", "#F5B041"),
        (4, "中度拥堵", "#E67E22"),
        (5, "严重拥堵", "#C0392B"),
    ]


def test_segment_levels_vectorised_matches_table() -> None:
    classes = pd.Series([c for c, _, _ in SPEED_CASES], index=range(10, 10 + len(SPEED_CASES)))
    speeds = pd.Series([s for _, s, _ in SPEED_CASES], index=classes.index, dtype=float)
    got = segment_levels(speeds, classes)
    assert got.index.equals(classes.index)
    assert got.tolist() == [e for _, _, e in SPEED_CASES]


def test_segment_levels_validation() -> None:
    classes = pd.Series(["arterial", "ring_road"])
    with pytest.raises(ValueError, match="ring_road"):
        segment_levels(pd.Series([30.0, 30.0]), classes)
    with pytest.raises(ValueError, match="speed"):
        segment_levels(pd.Series([30.0, math.nan]), pd.Series(["arterial", "arterial"]))
    with pytest.raises(ValueError, match="speed"):
        segment_levels(pd.Series([30.0, 250.0]), pd.Series(["arterial", "arterial"]))
    with pytest.raises(ValueError, match="index"):
        segment_levels(pd.Series([30.0]), pd.Series(["arterial"], index=[5]))


def segments(*parts: tuple[float, int]) -> pd.DataFrame:
    return pd.DataFrame({"length_m": [p[0] for p in parts], "level": [p[1] for p in parts]})


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (((1000, 1),), 0.0),
        (((500, 1), (500, 2)), 0.0),  # 基本畅通 is not congested
        (((20, 5), (980, 1)), 1.0),  # r = 0.02 → 1.0
        (((5, 5), (995, 1)), 0.3),  # r = 0.005 → 0.25, rounded half up
        (((40, 5), (960, 1)), 2.0),  # knot
        (((100, 3), (900, 2)), 2.5),  # r = 0.05 → 2 + 0.01/0.04·2
        (((100, 4), (900, 1)), 4.0),  # r = 0.08 (knot)
        (((100, 5), (900, 1)), 5.3),  # r = 0.10 → 4 + 0.02/0.03·2 = 5.33
        (((110, 5), (890, 2)), 6.0),  # knot
        (((200, 3), (100, 4), (50, 5), (1650, 1)), 6.3),  # r = 230/2000 = 0.115 → 6.33
        (((140, 5), (860, 1)), 8.0),  # knot
        (((190, 5), (810, 1)), 9.0),  # r = 0.19 → 8 + 0.05/0.10·2
        (((240, 5), (760, 1)), 10.0),
        (((500, 5), (500, 1)), 10.0),  # clipped
    ],
)
def test_district_tpi(parts: tuple[tuple[float, int], ...], expected: float) -> None:
    assert district_tpi(segments(*parts)) == expected


def test_district_tpi_from_speeds() -> None:
    frame = pd.DataFrame(
        {"length_m": [100.0, 900.0], "speed_kmh": [18.0, 45.0], "road_class": ["expressway", "arterial"]}
    )
    assert district_tpi(frame) == 5.3


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"length_m": [], "level": []}), "at least one"),
        (segments((0, 5)), "length is 0"),
        (segments((100, 6)), "level"),
        (segments((-1, 5), (10, 1)), "length_m"),
        (pd.DataFrame({"length_m": [1.0], "speed_kmh": [10.0]}), "road_class"),
        (pd.DataFrame({"level": [1]}), "length_m"),
    ],
)
def test_district_tpi_rejects(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        district_tpi(frame)


@pytest.mark.parametrize(
    ("tpi", "expected"),
    [
        (0, (1, "畅通", "Free flow")),
        (1.99, (1, "畅通", "Free flow")),
        (2, (2, "基本畅通", "Mostly free")),
        (3.99, (2, "基本畅通", "Mostly free")),
        (4, (3, "轻度拥堵", "Light congestion")),
        (5.99, (3, "轻度拥堵", "Light congestion")),
        (6, (4, "中度拥堵", "Moderate congestion")),
        (7.99, (4, "中度拥堵", "Moderate congestion")),
        (8, (5, "严重拥堵", "Severe congestion")),
        (9.99, (5, "严重拥堵", "Severe congestion")),
        (10, (5, "严重拥堵", "Severe congestion")),
    ],
)
def test_tpi_level(tpi: float, expected: tuple[int, str, str]) -> None:
    assert tpi_level(tpi) == expected


@pytest.mark.parametrize("bad", [-0.1, 10.1, math.nan, "5"])
def test_tpi_level_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="tpi"):
        tpi_level(bad)  # type: ignore[arg-type]
