"""Bus KPIs by hand: on-time edges, load factor, headway regularity, direction, arrival prediction, coverage,
and the screening of pings the contract cannot judge."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from dashboard.domain import bus
from dashboard.domain.bus import (
    CROWDED_LOAD,
    headway_gaps,
    headway_regularity,
    is_crowded,
    is_on_time,
    load_factor,
    locate,
    on_time_rate,
    operating_speed,
    predict_arrivals,
    prediction_coverage,
    screen_pings,
    vehicle_states,
)

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
#: 0.01° of longitude at 35.1°N in metres (the module's projection).
DEG = 111_320.0 * math.cos(math.radians(35.1)) * 0.01
LINE = LineString([(117.40, 35.10), (117.43, 35.10)])  # west → east, ≈ 2.73 km
LINES = pd.DataFrame({"line_id": ["L01"], "geometry": [LINE]})
DISTRICT = box(117.2, 34.9, 117.8, 35.4)


@pytest.mark.parametrize(
    ("delay", "expected"),
    [(-61, False), (-60, True), (-59.9, True), (0, True), (179.9, True), (180, True), (180.1, False), (181, False)],
)
def test_on_time_edges_are_inclusive(delay: float, expected: bool) -> None:
    assert is_on_time(delay) is expected


@pytest.mark.parametrize("bad", [math.nan, "30", None, True])
def test_on_time_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="delay_s"):
        is_on_time(bad)  # type: ignore[arg-type]


def test_on_time_rate() -> None:
    assert on_time_rate([-60, 180, 181, -61]) == 0.5
    assert on_time_rate([0, 0, 0]) == 1.0
    assert on_time_rate([]) is None


def test_load_factor_and_crowding_threshold() -> None:
    assert load_factor(45, 60) == 0.75
    assert load_factor(0, 60) == 0.0
    assert load_factor(66, 60) == pytest.approx(1.1)
    assert is_crowded(CROWDED_LOAD) and is_crowded(1.2)
    assert not is_crowded(0.8999)


@pytest.mark.parametrize(("on_board", "capacity"), [(-1, 60), (10, 0), (10, -5), (math.nan, 60)])
def test_load_factor_rejects_impossible_values(on_board: float, capacity: float) -> None:
    with pytest.raises(ValueError):
        load_factor(on_board, capacity)


def test_headway_regularity() -> None:
    assert headway_gaps([900, 0, 300]).tolist() == [300, 600]
    assert headway_regularity([500, 500, 500]) == 1.0
    # mean 2, population std 1 → CV 0.5
    assert headway_regularity([1, 3]) == pytest.approx(0.5)
    # bunching: CV above 1 clips to 0
    assert headway_regularity([0, 0, 0, 10]) == 0.0
    assert headway_regularity([400]) is None  # two vehicles: one gap says nothing about regularity
    assert headway_regularity([]) is None
    assert headway_regularity([0, 0]) is None
    assert headway_regularity([-1, 3]) is None


def _pings(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    """(vehicle, seconds before NOW, lon, lat) → bus_positions rows on L01."""
    return pd.DataFrame(
        {
            "vehicle_id": [r[0] for r in rows],
            "ts": [pd.Timestamp(NOW - timedelta(seconds=r[1])) for r in rows],
            "line_id": "L01",
            "lon": [r[2] for r in rows],
            "lat": [r[3] for r in rows],
            "speed_kmh": 20.0,
            "on_board": 30,
            "capacity": 60,
            "delay_s": 0,
        }
    )


def test_locate_gives_distance_along_and_off_the_line() -> None:
    got = locate(_pings([("a", 0, 117.41, 35.10), ("b", 0, 117.42, 35.101)]), LINES)
    assert got["s_m"].iloc[0] == pytest.approx(DEG, rel=1e-9)
    assert got["off_m"].iloc[0] == pytest.approx(0, abs=1e-6)
    assert got["off_m"].iloc[1] == pytest.approx(110.574, rel=1e-6)


def test_vehicle_states_direction_speed_and_age() -> None:
    pings = _pings(
        [
            ("east", 60, 117.410, 35.10),
            ("east", 0, 117.411, 35.10),  # moved 0.001° east in 60 s
            ("west", 60, 117.420, 35.10),
            ("west", 15, 117.419, 35.10),
            ("west", 0, 117.419, 35.10),  # standing at a stop: the latest real move was westward
            ("still", 30, 117.415, 35.10),
            ("still", 0, 117.415, 35.10),
        ]
    )
    states = vehicle_states(locate(pings, LINES), NOW).set_index("vehicle_id")
    assert states.loc["east", "direction"] == 1
    assert states.loc["west", "direction"] == -1
    assert states.loc["still", "direction"] == 0
    assert states.loc["east", "speed_mps"] == pytest.approx(DEG / 10 / 60, rel=1e-9)
    assert states.loc["west", "age_s"] == 0
    assert states.loc["east", "load"] == 0.5 and not states.loc["east", "crowded"]


def _states(rows: list[tuple[str, float, int, float]]) -> pd.DataFrame:
    """(vehicle, s_m, direction, age_s)."""
    return pd.DataFrame(
        {
            "vehicle_id": [r[0] for r in rows],
            "s_m": [r[1] for r in rows],
            "direction": [r[2] for r in rows],
            "age_s": [r[3] for r in rows],
            "speed_mps": np.nan,
        }
    )


def test_predict_arrivals_only_approaching_fresh_vehicles_soonest_first() -> None:
    states = _states(
        [
            ("behind-east", 400.0, 1, 0.0),  # 600 m away heading to the stop
            ("passed-east", 1200.0, 1, 0.0),  # already past it
            ("coming-west", 1300.0, -1, 30.0),  # 300 m away, ping 30 s old
            ("stale", 900.0, 1, 121.0),  # heading there, but the ping is older than 2 min
            ("at-stop", 1000.0, 1, 0.0),  # at the stop: arriving now
            ("unknown", 800.0, 0, 0.0),  # direction unknown: no prediction
        ]
    )
    got = predict_arrivals(1000.0, states, speed_mps=5.0)
    assert got["vehicle_id"].tolist() == ["at-stop", "coming-west", "behind-east"]
    assert got["distance_m"].tolist() == [0.0, 300.0, 600.0]
    assert got["eta_s"].tolist() == [0.0, 30.0, 120.0]  # 300/5 − 30 s of age; 600/5
    with pytest.raises(ValueError, match="speed"):
        predict_arrivals(1000.0, states, speed_mps=0)


def test_predict_arrivals_never_negative() -> None:
    got = predict_arrivals(100.0, _states([("v", 90.0, 1, 100.0)]), speed_mps=5.0)
    assert got["eta_s"].tolist() == [0.0]


def test_prediction_coverage() -> None:
    states = _states([("a", 500.0, 1, 0.0), ("b", 2000.0, 1, 0.0), ("stale", 0.0, 1, 500.0)])
    # stops at 0 (only the stale one is at/behind it), 1000 (a), 3000 (a, b): 2 of 3 covered
    assert prediction_coverage([0.0, 1000.0, 3000.0], states) == pytest.approx(2 / 3)
    assert prediction_coverage([], states) is None
    assert prediction_coverage([1000.0], states.iloc[0:0]) == 0.0


def test_operating_speed_is_the_median_of_moving_vehicles() -> None:
    states = _states([("a", 0, 1, 0), ("b", 0, 1, 0), ("c", 0, 1, 0), ("d", 0, 0, 0)])
    states["speed_mps"] = [4.0, 6.0, 5.0, 0.0]
    assert operating_speed(states) == 5.0
    states["speed_mps"] = [np.nan, 0.0, 0.0, 0.0]
    assert operating_speed(states) == pytest.approx(bus.DEFAULT_SPEED_KMH / 3.6)


def test_screen_pings_flags_each_kind_of_bad_ping_with_its_row() -> None:
    pings = _pings(
        [
            ("ok", 30, 117.410, 35.10),
            ("ok", 15, 117.411, 35.10),
            ("far", 0, 117.410, 35.11),  # ≈ 1.1 km north of the line
            ("out", 0, 117.85, 35.10),  # east of the district
            ("late", 15, 117.412, 35.10),
            ("late", 45, 117.411, 35.10),  # delivered after a newer ping
            ("jumpy", 20, 117.400, 35.10),
            ("jumpy", 10, 117.425, 35.10),  # 2.3 km in 10 s
        ]
    )
    pings.loc[len(pings)] = pings.iloc[0].to_dict() | {"vehicle_id": "ghost", "line_id": "L99"}
    got = screen_pings(pings, LINES, DISTRICT)
    reasons = dict(zip(got.flagged["row"], got.flagged["reason"], strict=True))
    assert reasons == {2: "off_route", 3: "outside_district", 5: "out_of_order", 7: "jump", 8: "unknown_line"}
    assert sorted(got.kept["vehicle_id"]) == ["jumpy", "late", "ok", "ok"]
    assert got.counts() == {"off_route": 1, "outside_district": 1, "out_of_order": 1, "jump": 1, "unknown_line": 1}
    assert set(got.flagged.columns) >= {"row", "vehicle_id", "ts", "reason"}


def test_screen_pings_keeps_a_clean_delivery() -> None:
    pings = _pings([("a", 30, 117.41, 35.10), ("a", 15, 117.4101, 35.1001), ("b", 0, 117.42, 35.0995)])
    got = screen_pings(pings, LINES, DISTRICT)
    assert got.flagged.empty and len(got.kept) == 3
    empty = screen_pings(pings.iloc[0:0], LINES, DISTRICT)
    assert empty.kept.empty and empty.flagged.empty
