"""The contract check: clean rows pass typed, each bad row is named with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon

from datasources.contracts import CONTRACTS, FEEDS, contract
from datasources.validation import empty_frame, validate

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
GOOD_READING = {
    "station_id": "air-01",
    "ts": "2026-11-29T11:00:00+08:00",
    "pm25": 35.0,
    "pm10": 60.0,
    "so2": 8.0,
    "no2": 30.0,
    "o3": 50.0,
    "co": 0.6,
    "averaging": "1h",
}


def readings(*overrides: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [{**GOOD_READING, "ts": f"2026-11-29T{i:02d}:00:00+08:00", **o} for i, o in enumerate(overrides)]
    )


def reasons(result) -> list[tuple[int, str, str]]:
    return [(r.row, r.column, r.reason) for r in result.report.sample]


def test_clean_rows_pass_with_normalised_types() -> None:
    result = validate("air_readings", readings({}, {}), now=NOW)
    assert result.report.ok and result.report.rows_ok == 2
    assert str(result.frame["ts"].dtype) == "datetime64[ns, UTC]"
    assert result.frame["ts"].iloc[0] == pd.Timestamp("2026-11-28T16:00:00Z")
    assert list(result.frame.columns) == list(contract("air_readings").names)


@pytest.mark.parametrize(
    ("override", "column", "reason"),
    [
        ({"pm25": "abc"}, "pm25", "not a number"),
        ({"pm25": float("inf")}, "pm25", "not a finite number"),
        ({"pm25": -1}, "pm25", "below the allowed minimum"),
        ({"pm25": 35000.0}, "pm25", "above the allowed maximum"),  # µg given as ng
        ({"ts": "2026-11-29T01:00:00"}, "ts", "time without timezone"),
        ({"ts": "yesterday"}, "ts", "not an ISO 8601 time"),
        ({"ts": "2027-01-01T00:00:00+08:00"}, "ts", "time is in the future"),
        ({"averaging": "24h"}, "averaging", "not one of"),
        ({"station_id": "a\x00b"}, "station_id", "control characters"),
        ({"station_id": None}, "station_id", "required value is missing"),
        ({"station_id": "x" * 300}, "station_id", "longer than"),
        ({"station_id": "'; DROP TABLE air_readings;--"}, "station_id", "does not match"),
    ],
)
def test_each_bad_value_is_rejected_with_its_row_and_reason(override: dict, column: str, reason: str) -> None:
    result = validate("air_readings", readings({}, override, {}), now=NOW)
    assert result.report.rejected == 1 and result.report.rows_ok == 2
    ((row, col, why),) = reasons(result)
    assert (row, col) == (1, column) and reason in why


def test_missing_optional_pollutant_is_allowed_but_nan_in_required_is_not() -> None:
    frame = readings({}).drop(columns=["o3"])
    assert validate("air_readings", frame, now=NOW).report.ok
    bad = validate(
        "bus_positions",
        pd.DataFrame(
            [
                {
                    "vehicle_id": "v1",
                    "ts": "2026-11-29T10:00:00+08:00",
                    "line_id": "L1",
                    "lon": 117.45,
                    "lat": 35.07,
                    "speed_kmh": np.nan,
                    "on_board": 10,
                    "capacity": 60,
                    "delay_s": 0,
                }
            ]
        ),
        now=NOW,
    )
    assert reasons(bad) == [(0, "speed_kmh", "required value is missing")]


def test_missing_required_column_fails_the_feed_naming_the_columns() -> None:
    result = validate("air_readings", readings({}).drop(columns=["ts", "station_id"]), now=NOW)
    assert result.frame.empty and result.report.rejected == 1
    assert result.report.errors == ["missing required columns: station_id, ts"]


def test_extra_columns_are_ignored() -> None:
    result = validate("air_readings", readings({"vendor_field": 1}), now=NOW)
    assert result.report.ok and "vendor_field" not in result.frame.columns


def test_duplicate_keys_keep_the_last_delivery() -> None:
    frame = readings({}, {})
    frame.loc[1, "ts"] = frame.loc[0, "ts"]
    frame.loc[1, "pm25"] = 99.0
    result = validate("air_readings", frame, now=NOW)
    assert reasons(result) == [(0, "station_id,ts", "duplicate key: a later row supersedes it")]
    assert result.frame["pm25"].tolist() == [99.0]


@pytest.mark.parametrize(("lon", "lat"), [(35.07, 117.45), (0.0, 0.0), (116.0, 35.0)])
def test_coordinates_outside_the_district_are_rejected(lon: float, lat: float) -> None:
    frame = pd.DataFrame([{"station_id": "a1", "name": "站", "lon": lon, "lat": lat, "town_code": "370406001"}])
    result = validate("air_stations", frame, now=NOW)
    assert result.report.rejected == 1


def test_times_from_other_offsets_and_datetime_objects_are_normalised_to_utc() -> None:
    frame = readings(
        {"ts": datetime(2026, 11, 29, 1, tzinfo=timezone(timedelta(hours=8)))}, {"ts": "2026-11-28T18:00Z"}
    )
    result = validate("air_readings", frame, now=NOW)
    assert result.report.ok
    assert result.frame["ts"].tolist() == [pd.Timestamp("2026-11-28T17:00Z"), pd.Timestamp("2026-11-28T18:00Z")]
    naive = validate("air_readings", readings({"ts": datetime(2026, 11, 29, 1)}), now=NOW)
    assert reasons(naive) == [(0, "ts", "time without timezone offset (naive times are rejected)")]


def test_integers_and_booleans_are_strict() -> None:
    base = {"lot_id": "p1", "ts": "2026-11-29T10:00:00+08:00"}
    frame = pd.DataFrame(
        [
            {**base, "occupied": 1.5},
            {**base, "lot_id": "p2", "occupied": True},
            {**base, "lot_id": "p3", "occupied": "7"},
        ]
    )
    result = validate("parking_occupancy", frame, now=NOW)
    assert [(r, why) for r, _, why in reasons(result)] == [(0, "not a whole number"), (1, "not a number")]
    assert result.frame["occupied"].tolist() == [7]
    cams = pd.DataFrame(
        [
            {
                "camera_id": "c1",
                "lon": 117.45,
                "lat": 35.07,
                "system": "xueliang",
                "hd": "maybe",
                "networked": "yes",
                "status": "online",
                "town_code": "370406001",
                "village_code": "370406001001",
                "status_since": "2026-11-29T08:00+08:00",
            }
        ]
    )
    assert reasons(validate("cameras", cams, now=NOW)) == [(0, "hd", "not a boolean (true/false)")]


def test_geometries_accept_geojson_and_wkt_and_reject_garbage() -> None:
    square = Polygon([(117.40, 35.05), (117.45, 35.05), (117.45, 35.10), (117.40, 35.10)])
    rows = [
        {"town_code": "370406001", "name": "甲", "geometry": square.wkt, "approximate": True},
        {
            "town_code": "370406002",
            "name": "乙",
            "geometry": '{"type": "Polygon", "coordinates": '
            "[[[117.4, 35.0], [117.5, 35.0], [117.5, 35.1], [117.4, 35.0]]]}",
            "approximate": "false",
        },
        {"town_code": "370406003", "name": "丙", "geometry": "{not json", "approximate": True},
        {
            "town_code": "370406004",
            "name": "丁",
            "geometry": LineString([(117.4, 35.0), (117.5, 35.1)]),
            "approximate": True,
        },
        {"town_code": "370406005", "name": "戊", "geometry": Polygon([(0, 0), (1, 0), (1, 1)]), "approximate": True},
        {
            "town_code": "370406006",
            "name": "己",
            "geometry": Polygon([(117.4, 35.0), (117.5, 35.1), (117.5, 35.0), (117.4, 35.1)]),
            "approximate": True,
        },
    ]
    result = validate("towns", pd.DataFrame(rows), now=NOW)
    assert result.report.rows_ok == 2
    assert [(r, why.split(" (")[0]) for r, _, why in reasons(result)] == [
        (2, "not a geometry"),
        (3, "not a Polygon/MultiPolygon"),
        (4, "geometry outside the district"),
        (5, "empty or self-intersecting geometry"),
    ]
    assert isinstance(result.frame["geometry"].iloc[0], Polygon)


def test_html_in_names_is_kept_as_text_for_the_page_to_escape() -> None:
    frame = pd.DataFrame(
        [
            {
                "station_id": "a1",
                "name": "<script>alert(1)</script>",
                "lon": 117.45,
                "lat": 35.07,
                "town_code": "370406001",
            }
        ]
    )
    result = validate("air_stations", frame, now=NOW)
    assert result.report.ok and result.frame["name"].iloc[0] == "<script>alert(1)</script>"


def test_empty_feed_is_valid_and_typed() -> None:
    result = validate("air_readings", empty_frame(contract("air_readings")), now=NOW)
    assert result.report.ok and result.frame.empty
    assert str(result.frame["ts"].dtype) == "datetime64[ns, UTC]"


def test_report_sample_is_capped_but_count_is_exact() -> None:
    frame = pd.DataFrame([{**GOOD_READING, "ts": "bad"}] * 500)
    result = validate("air_readings", frame, now=NOW)
    assert result.report.rejected == 500 and len(result.report.sample) == 200


def test_every_feed_has_a_contract_with_key_columns() -> None:
    assert len(FEEDS) == 27
    for spec in CONTRACTS.values():
        assert spec.key and all(k in spec.column_index for k in spec.key)
        assert not spec.is_series or spec.time is not None


def test_unknown_feed_names_the_nearest_and_the_known_ones() -> None:
    with pytest.raises(KeyError, match="did you mean 'air_readings'"):
        contract("air_reading")


def test_points_are_not_polygons() -> None:
    rows = [{"town_code": "370406001", "name": "甲", "geometry": Point(117.45, 35.07), "approximate": True}]
    assert validate("towns", pd.DataFrame(rows), now=NOW).report.rejected == 1


def test_repeated_text_values_checked_once_each_give_what_a_row_by_row_check_gives(monkeypatch) -> None:
    import datasources.validation as validation

    rows = []
    for i in range(300):
        station = ["air-01", "air-02", " air-03 ", "air-0\x01", "", None, "x" * 70][i % 7]
        when = ["2026-11-29T10:00:00+08:00", "2026-11-29 10:00:00", "not a time", "2026-12-29T10:00:00+08:00"][i % 4]
        rows.append({**GOOD_READING, "station_id": station, "ts": when, "averaging": ["1h", "1h", "8h"][i % 3]})
    frame = pd.DataFrame(rows)
    frame["pm25"] = pd.Series([35.0, "35", True, 1, "abc", None] * 50, dtype=object)  # 1 and True must stay apart
    distinct = validate("air_readings", frame, now=NOW)
    monkeypatch.setattr(validation, "DISTINCT_FROM", 10**9)
    by_row = validate("air_readings", frame, now=NOW)
    pd.testing.assert_frame_equal(distinct.frame, by_row.frame)
    assert distinct.report.as_dict() == by_row.report.as_dict() and distinct.reasons == by_row.reasons
    assert distinct.report.rejected > 0 and distinct.report.rows_ok > 0


TRICKY_IDS = ["air-01", " air-01 ", "air-0\x01", "", None, np.nan, "x" * 70, "空 格", "air-01\t", "AIR-02", "air/03"]


@pytest.fixture
def fresh_verdicts(monkeypatch):
    """Text verdicts kept by earlier tests forgotten, and put back after."""
    import datasources.validation as validation

    monkeypatch.setattr(validation, "_VERDICTS", {})
    monkeypatch.setattr(validation, "_TEXT_CHECK", {})
    return validation


@pytest.mark.parametrize("dtype", [object, "str"])
def test_kept_text_verdicts_give_what_a_check_of_every_value_gives(fresh_verdicts, monkeypatch, dtype) -> None:
    validation = fresh_verdicts
    frame = pd.DataFrame([{**GOOD_READING, "ts": f"2026-11-29T{i % 12:02d}:00:00+08:00"} for i in range(44)])
    frame["station_id"] = pd.Series([TRICKY_IDS[i % len(TRICKY_IDS)] for i in range(44)], dtype=dtype)
    frame["averaging"] = pd.Series(["1h", "8h", "2h", " 1h", None][i % 5] for i in range(44))
    first = validate("air_readings", frame.iloc[:20], now=NOW)  # some values seen, some not yet
    kept = validate("air_readings", frame, now=NOW)
    monkeypatch.setattr(validation, "_check_known_text", validation._check_values)
    every = validate("air_readings", frame, now=NOW)
    pd.testing.assert_frame_equal(kept.frame, every.frame)
    assert kept.report.as_dict() == every.report.as_dict() and kept.reasons == every.reasons
    assert first.report.rejected > 0 and kept.report.rows_ok > 0
    assert {r.reason for r in kept.report.sample if r.column == "station_id"} >= {
        "required value is missing",
        "contains control characters",
    }


def test_text_values_seen_before_are_not_checked_again(fresh_verdicts, monkeypatch) -> None:
    validation = fresh_verdicts
    checked: list[list] = []
    check = validation._check_values

    def counting(col, raw, now):
        if col.type == "str":
            checked.append(list(raw))
        return check(col, raw, now)

    monkeypatch.setattr(validation, "_check_values", counting)
    frame = readings({}, {"station_id": "air-02"}, {"station_id": "air-0\x01"})
    validate("air_readings", frame, now=NOW)
    assert ["air-01", "air-02", "air-0\x01"] in checked
    checked.clear()
    again = validate("air_readings", readings({"station_id": "air-02"}, {"station_id": "air-0\x01"}), now=NOW)
    assert checked == []  # every value's verdict was kept
    assert reasons(again) == [(1, "station_id", "contains control characters")]
    validate("air_readings", readings({"station_id": "air-03"}, {"station_id": "air-02"}), now=NOW)
    assert ["air-03"] in checked and not any("air-02" in values for values in checked)


def test_kept_text_verdicts_are_bounded(fresh_verdicts, monkeypatch) -> None:
    validation = fresh_verdicts
    monkeypatch.setattr(validation, "VERDICTS_KEPT", 5)
    for start in range(0, 40, 4):
        got = validate("air_readings", readings(*({"station_id": f"air-{start + i:02d}"} for i in range(4))), now=NOW)
        assert got.report.ok
        assert all(len(kept) <= 5 for kept in validation._VERDICTS.values())
    bad = validate("air_readings", readings({"station_id": "air-0\x01"}, {"station_id": "air-39"}), now=NOW)
    assert reasons(bad) == [(0, "station_id", "contains control characters")]


def test_typed_numbers_are_checked_as_any_numbers_are() -> None:
    values = [35.0, -1.0, np.inf, -np.inf, np.nan, 1e9, 0.0]
    typed = readings(*({"pm25": v} for v in values))
    loose = typed.assign(pm25=typed["pm25"].astype(object).map(lambda v: str(v) if v == v else None))
    a, b = validate("air_readings", typed, now=NOW), validate("air_readings", loose, now=NOW)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert reasons(a) == reasons(b) and a.report.rejected == 4  # NaN: pm25 may be missing
    assert [r.value for r in a.report.sample] == ["-1.0", "inf", "-inf", "1000000000.0"]
