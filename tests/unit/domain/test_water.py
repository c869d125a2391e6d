"""GB 3838-2002 single-factor class: expected classes read by hand off REFERENCE.md §3."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.domain.water import item_grade, meets, water_class


def one(item: str, value: float, waterbody: str = "river") -> int:
    return water_class({item: value}, waterbody=waterbody).grade


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10, 1), (7.5, 1), (7.49, 2), (6, 2), (5.99, 3), (5, 3), (4.9, 4), (3, 4), (2.5, 5), (2, 5), (1.99, 6), (0, 6)],
)
def test_dissolved_oxygen_higher_is_better(value: float, expected: int) -> None:
    assert one("do", value) == expected


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        ("codmn", 0, 1),
        ("codmn", 2, 1),
        ("codmn", 2.01, 2),
        ("codmn", 4, 2),
        ("codmn", 6, 3),
        ("codmn", 10, 4),
        ("codmn", 15, 5),
        ("codmn", 15.1, 6),
        ("cod", 15, 1),  # Ⅰ and Ⅱ share 15: the better class wins
        ("cod", 15.1, 3),
        ("cod", 20, 3),
        ("cod", 30, 4),
        ("cod", 40, 5),
        ("cod", 40.5, 6),
        ("bod5", 3, 1),
        ("bod5", 3.1, 3),
        ("bod5", 4, 3),
        ("bod5", 6, 4),
        ("bod5", 10, 5),
        ("bod5", 10.1, 6),
        ("nh3n", 0.15, 1),
        ("nh3n", 0.16, 2),
        ("nh3n", 0.5, 2),
        ("nh3n", 1.0, 3),
        ("nh3n", 1.01, 4),
        ("nh3n", 1.5, 4),
        ("nh3n", 2.0, 5),
        ("nh3n", 2.01, 6),
    ],
)
def test_upper_limit_items(item: str, value: float, expected: int) -> None:
    assert one(item, value, "river") == expected
    assert one(item, value, "reservoir") == expected


@pytest.mark.parametrize(
    ("value", "river", "reservoir"),
    [
        (0.01, 1, 1),
        (0.011, 1, 2),
        (0.02, 1, 2),
        (0.021, 2, 2),
        (0.025, 2, 2),
        (0.026, 2, 3),
        (0.05, 2, 3),
        (0.1, 2, 4),
        (0.2, 3, 5),
        (0.21, 4, 6),
        (0.3, 4, 6),
        (0.4, 5, 6),
        (0.41, 6, 6),
    ],
)
def test_total_phosphorus_columns(value: float, river: int, reservoir: int) -> None:
    assert one("tp", value, "river") == river
    assert one("tp", value, "reservoir") == reservoir


@pytest.mark.parametrize(("value", "expected"), [(0.2, 1), (0.21, 2), (0.5, 2), (1.0, 3), (1.5, 4), (2.0, 5), (2.1, 6)])
def test_total_nitrogen_for_reservoirs(value: float, expected: int) -> None:
    assert one("tn", value, "reservoir") == expected


@pytest.mark.parametrize(("value", "expected"), [(6, 1), (7, 1), (9, 1), (5.99, 6), (9.01, 6), (0, 6), (14, 6)])
def test_ph_outside_6_to_9_is_worse_than_v(value: float, expected: int) -> None:
    assert one("ph", value) == expected


def test_river_sample_worst_item_decides_and_tn_is_ignored() -> None:
    sample = {"do": 6.5, "codmn": 5, "cod": 18, "bod5": 3.5, "nh3n": 0.4, "tp": 0.15, "tn": 3.0, "ph": 7.5}
    result = water_class(sample, waterbody="river")
    assert (result.grade, result.label) == (3, "Ⅲ")
    assert result.deciding == ("codmn", "cod", "bod5", "tp")
    assert dict(result.item_grades) == {"do": 2, "codmn": 3, "cod": 3, "bod5": 3, "nh3n": 2, "tp": 3, "ph": 1}


def test_same_sample_in_a_reservoir_is_worse_than_v() -> None:
    sample = {"do": 6.5, "codmn": 5, "cod": 18, "bod5": 3.5, "nh3n": 0.4, "tp": 0.15, "tn": 3.0, "ph": 7.5}
    result = water_class(sample, waterbody="reservoir")
    assert (result.grade, result.label) == (6, "劣Ⅴ")
    assert result.deciding == ("tn",)
    assert result.item_grades["tp"] == 5


def test_class_one_lists_every_item() -> None:
    result = water_class({"do": 8, "codmn": 1, "ph": 7, "nh3n": None}, waterbody="river")
    assert (result.grade, result.label, result.deciding) == (1, "Ⅰ", ("do", "codmn", "ph"))


def test_ph_alone_can_make_a_sample_worse_than_v() -> None:
    result = water_class({"do": 8, "ph": 9.5}, waterbody="river")
    assert (result.grade, result.deciding) == (6, ("ph",))


def test_numpy_values_accepted() -> None:
    assert water_class({"nh3n": np.float64(1.0)}, waterbody="river").grade == 3


def test_river_needs_a_graded_item() -> None:
    with pytest.raises(ValueError, match="no graded item"):
        water_class({"tn": 1.0}, waterbody="river")
    with pytest.raises(ValueError, match="no graded item"):
        water_class({}, waterbody="reservoir")


def test_unknown_item_and_waterbody() -> None:
    with pytest.raises(ValueError, match="cod_mn"):
        water_class({"cod_mn": 3}, waterbody="river")
    with pytest.raises(ValueError, match="waterbody"):
        water_class({"cod": 3}, waterbody="lake")
    with pytest.raises(ValueError, match="tn"):
        item_grade("tn", 1.0, waterbody="river")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1, "3", True, None])
def test_bad_values_name_the_item(bad: object) -> None:
    with pytest.raises(ValueError, match="nh3n"):
        item_grade("nh3n", bad, waterbody="river")  # type: ignore[arg-type]
    if bad is not None:
        with pytest.raises(ValueError, match="nh3n"):
            water_class({"do": 8, "nh3n": bad}, waterbody="river")  # type: ignore[dict-item]


def test_impossible_ph_rejected() -> None:
    with pytest.raises(ValueError, match="ph"):
        water_class({"ph": 15}, waterbody="river")


@pytest.mark.parametrize(
    ("grade", "target", "expected"),
    [(1, 3, True), (3, 3, True), (4, 3, False), (5, 5, True), (6, 5, False), (2, 1, False)],
)
def test_meets(grade: int, target: int, expected: bool) -> None:
    assert meets(grade, target) is expected


@pytest.mark.parametrize(("grade", "target"), [(0, 3), (7, 3), (3, 0), (3, 6), (True, 3), (3.0, 3)])
def test_meets_rejects(grade: object, target: object) -> None:
    with pytest.raises(ValueError):
        meets(grade, target)  # type: ignore[arg-type]
