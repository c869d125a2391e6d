"""The synthetic district: contracts, determinism, geography facts and rhythms."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from datasources.contracts import contract
from datasources.synthetic import SyntheticDistrict
from datasources.synthetic import assets as assets_mod
from datasources.synthetic import geography as geo
from datasources.validation import validate

END = datetime.fromisoformat("2026-11-29T12:00:00+08:00")  # a Sunday
WINDOW = (END - timedelta(days=2), END)
RATING_SINCE = datetime.fromisoformat("2021-01-01T00:00:00+08:00")
ROOT = Path(__file__).resolve().parents[2]
PROCESS_FEEDS = ("segment_speeds", "air_readings", "bus_positions", "accidents")


@pytest.fixture(scope="module")
def district() -> SyntheticDistrict:
    return SyntheticDistrict()


def _window(feed: str) -> tuple[datetime, datetime]:
    if feed == "rating_values":
        return RATING_SINCE, END
    return (END - timedelta(hours=3), END) if feed == "bus_positions" else WINDOW


def _rows(d: SyntheticDistrict, feed: str, start: datetime, end: datetime) -> pd.DataFrame:
    return d.series(feed, start, end).reset_index(drop=True)


# ---- contracts --------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", SyntheticDistrict.STATIC_FEEDS)
def test_static_feed_validates_with_exact_columns(district: SyntheticDistrict, feed: str) -> None:
    frame = district.static(feed)
    report = validate(feed, frame, now=END).report
    assert report.ok and report.rejected == 0, (report.summary(), report.sample[:3])
    assert list(frame.columns) == list(contract(feed).names)
    assert len(frame) > 0


def test_camera_state_validates(district: SyntheticDistrict) -> None:
    frame = district.cameras_at(END)
    report = validate("cameras", frame, now=END).report
    assert report.ok, report.summary()
    assert (frame["status_since"] <= pd.Timestamp(END)).all()
    pd.testing.assert_frame_equal(frame, district.static("cameras", at=END))


@pytest.mark.parametrize("feed", SyntheticDistrict.SERIES_FEEDS)
def test_series_feed_validates_with_exact_columns(district: SyntheticDistrict, feed: str) -> None:
    start, end = _window(feed)
    frame = district.series(feed, start, end)
    report = validate(feed, frame, now=end).report
    assert report.ok and report.rejected == 0, (report.summary(), report.sample[:3])
    assert list(frame.columns) == list(contract(feed).names)
    assert len(frame) > 0


def test_series_rows_lie_in_the_half_open_window(district: SyntheticDistrict) -> None:
    frame = district.series("segment_speeds", WINDOW[0], WINDOW[1])
    assert frame["ts"].min() > pd.Timestamp(WINDOW[0]) and frame["ts"].max() == pd.Timestamp(WINDOW[1])
    assert str(frame["ts"].dtype) == "datetime64[ns, UTC]"


def test_naive_times_are_refused(district: SyntheticDistrict) -> None:
    with pytest.raises(ValueError, match="naive"):
        district.series("air_readings", datetime(2026, 11, 1), END)
    with pytest.raises(ValueError, match="naive"):
        district.series("rating_values", datetime(2026, 11, 1), END)
    with pytest.raises(ValueError, match="naive"):
        district.cameras_at(datetime(2026, 11, 1))


def test_cadences(district: SyntheticDistrict) -> None:
    expected = {
        "bus_positions": 15,
        "segment_speeds": 300,
        "parking_occupancy": 300,
        "visitor_counts": 300,
        "air_readings": 3600,
        "reservoir_levels": 3600,
        "radiation_readings": 3600,
        "water_samples": 14400,
    }
    assert {f: district.cadence(f).total_seconds() for f in expected} == expected
    with pytest.raises(KeyError):
        district.cadence("towns")


# ---- determinism ------------------------------------------------------------------------------------


def test_two_instances_compute_identical_frames() -> None:
    first = {f: _rows(SyntheticDistrict(), f, *_window(f)) for f in SyntheticDistrict.SERIES_FEEDS}
    cameras = SyntheticDistrict().cameras_at(END)
    assets_mod.build.cache_clear()
    geo.villages.cache_clear()
    second = SyntheticDistrict(seed=3704, scale=1)
    for feed, frame in first.items():
        pd.testing.assert_frame_equal(frame, _rows(second, feed, *_window(feed)))
    pd.testing.assert_frame_equal(cameras, second.cameras_at(END))


def _digest(frame: pd.DataFrame) -> str:
    plain = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    return str(int(pd.util.hash_pandas_object(plain.astype(str), index=False).sum()))


def _digests(d: SyntheticDistrict, end: datetime) -> dict[str, str]:
    """Fingerprints of a few frames, computed the same way in this and another process."""
    start = end - timedelta(hours=6)
    out = {f: _digest(d.series(f, start, end)) for f in PROCESS_FEEDS}
    out["villages"] = _digest(d.static("villages"))
    out["cameras"] = _digest(d.cameras_at(end))
    return out


def test_another_process_computes_the_same_district(district: SyntheticDistrict) -> None:
    script = (
        "import json, sys; from datetime import datetime;"
        "from datasources.synthetic import SyntheticDistrict; from tests.unit.test_synthetic import _digests;"
        "print(json.dumps(_digests(SyntheticDistrict(), datetime.fromisoformat(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, END.isoformat()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == _digests(district, END)


@pytest.mark.parametrize("feed", SyntheticDistrict.SERIES_FEEDS)
def test_adjacent_windows_join_without_gaps_or_overlaps(district: SyntheticDistrict, feed: str) -> None:
    starts = {"rating_values": RATING_SINCE, "bus_positions": END - timedelta(hours=4)}
    start = starts.get(feed, END - timedelta(days=3))
    mid = start + (END - start) / 2 + timedelta(seconds=7)
    whole = _rows(district, feed, start, END)
    parts = [_rows(district, feed, start, mid), _rows(district, feed, mid, END)]
    joined = pd.concat([p for p in parts if len(p)], ignore_index=True)
    key = list(contract(feed).key)
    assert not joined.duplicated(subset=key).any()
    order = key if feed != "accidents" else ["ts", *key]
    pd.testing.assert_frame_equal(
        whole.sort_values(order).reset_index(drop=True),
        joined.sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )


def test_a_coarse_step_is_a_subset_of_the_native_grid(district: SyntheticDistrict) -> None:
    fine = district.series("segment_speeds", WINDOW[0], END)
    coarse = district.series("segment_speeds", WINDOW[0], END, step=timedelta(hours=1))
    assert len(coarse) * 12 == len(fine)
    merged = coarse.merge(fine, on=["segment_id", "ts"], suffixes=("", "_fine"))
    assert len(merged) == len(coarse) and (merged["speed_kmh"] == merged["speed_kmh_fine"]).all()
    assert (coarse["ts"].astype("int64") // 10**9 % 3600 == 0).all()


def test_another_seed_is_another_district() -> None:
    a, b = SyntheticDistrict(seed=1), SyntheticDistrict(seed=2)
    assert not a.static("villages")["name"].equals(b.static("villages")["name"])
    assert not a.series("air_readings", *WINDOW)["pm25"].equals(b.series("air_readings", *WINDOW)["pm25"])


# ---- geography --------------------------------------------------------------------------------------


def test_ten_towns_tile_the_outline_and_hold_their_reference_points(district: SyntheticDistrict) -> None:
    towns = district.static("towns")
    assert len(towns) == 10 and towns["town_code"].is_unique
    assert towns["town_code"].str.fullmatch(r"370406\d{3}").all() and towns["approximate"].all()
    assert towns.iloc[0]["town_code"] == "370406001" and towns.iloc[0]["name"] == "山城街道"
    for town, area in zip(geo.TOWNS, towns["geometry"], strict=True):
        assert area.contains(Point(town.lon, town.lat)), town.name_zh
    union = geo.to_metric(shapely.union_all(list(towns["geometry"]))).area
    outline = geo.outline_metric().area
    assert abs(union - outline) / outline < 0.01
    assert len(shapely.get_coordinates(geo.district_outline())) == 109


def test_villages_sit_in_their_towns_and_add_up_to_the_census(district: SyntheticDistrict) -> None:
    villages = district.static("villages")
    areas = geo.town_areas()
    assert len(villages) == 268 and villages["village_code"].is_unique
    assert (villages["village_code"].str[:9] == villages["town_code"]).all()
    assert int(villages["population"].sum()) == 406_722
    for code, group in villages.groupby("town_code"):
        assert shapely.contains_xy(areas[code], group["lon"], group["lat"]).all()
    assert villages["town_code"].value_counts().idxmax() == geo.SEAT.code


def test_water_and_roads_lie_inside_the_district() -> None:
    outline = geo.district_outline()
    for geom in (*geo.rivers().values(), *geo.reservoir_areas().values(), *(r.geometry for r in geo.main_roads())):
        assert outline.contains(geom)
    yanma = geo.reservoir_areas()["岩马水库"]
    assert geo.town_areas()["370406107"].contains(yanma.centroid)


def test_stations_and_reservoirs(district: SyntheticDistrict) -> None:
    air = district.static("air_stations")
    assert len(air) == 11 and set(air["town_code"]) == {t.code for t in geo.TOWNS}
    main = air[air["name"] == "山亭区站"].iloc[0]
    assert abs(main["lon"] - 117.4529) * 91 < 1 and abs(main["lat"] - 35.0965) * 111 < 1
    res = district.static("reservoirs").set_index("reservoir_id")
    yanma = res.loc["yanma", ["total_capacity_m3", "check_flood_m", "design_flood_m", "flood_limit_m"]]
    assert yanma.tolist() == [2.03e8, 132.91, 129.75, 125.0]
    assert res.loc["zhuangli", "total_capacity_m3"] == 1.33e8 and res.loc["zhuangli", "normal_pool_m"] == 114.56
    assert res.loc["zhuangli", ["flood_limit_m", "design_flood_m", "check_flood_m"]].isna().all()
    scenic = district.static("scenic_spots")
    assert scenic["capacity_assumed"].all() and (scenic["capacity_daily"] >= 3 * scenic["capacity_instant"]).all()


def test_assets_are_plausible(district: SyntheticDistrict) -> None:
    cams = district.static("cameras")
    assert 2700 <= len(cams) <= 3300 and cams["camera_id"].is_unique
    assert 0.8 < cams["hd"].mean() < 0.9 and 0.92 < cams["networked"].mean() < 0.98
    assert (cams["system"] == "xueliang").mean() > 0.5
    assert cams["town_code"].value_counts().idxmax() == geo.SEAT.code
    assert 550 <= len(district.static("key_places")) <= 650
    seg = district.static("road_segments")
    assert 130 <= len(seg) <= 180 and seg["length_m"].between(500, 3000).all()
    assert {"expressway", "arterial", "secondary", "branch"} == set(seg["road_class"])
    lines = district.static("bus_lines")
    assert 18 <= len(lines) <= 22 and lines["scheduled_vehicles"].between(3, 10).all()
    stops = district.static("bus_stops").merge(district.assets["bus_stops"][["stop_id", "along_m"]])
    gaps = stops.groupby("line_id")["along_m"].diff().dropna()
    assert gaps.between(600, 1200).all()


def test_scale_ten_multiplies_the_dense_assets() -> None:
    one, ten = SyntheticDistrict(scale=1), SyntheticDistrict(scale=10)
    ratio = len(ten.static("cameras")) / len(one.static("cameras"))
    assert 9.0 <= ratio <= 11.0
    assert 9.0 <= len(ten.static("key_places")) / len(one.static("key_places")) <= 11.0
    vehicles = one.static("bus_lines")["scheduled_vehicles"].sum()
    assert ten.static("bus_lines")["scheduled_vehicles"].sum() == 10 * vehicles
    assert len(ten.static("road_segments")) > 5 * len(one.static("road_segments"))
    assert ten.static("towns")["geometry"].equals(one.static("towns")["geometry"])
    with pytest.raises(ValueError):
        SyntheticDistrict(scale=0)


def test_rating_catalogue_is_a_sample_with_monotone_stars(district: SyntheticDistrict) -> None:
    cat = district.static("rating_indicators")
    assert len(cat) == 44 and cat["sample"].all() and cat["indicator_id"].is_unique
    assert set(cat["domain"]) == {"数字惠民", "数字政府", "数字经济", "基础设施", "保障措施", "地方特色"}
    stars = cat[[f"star{i}" for i in range(1, 6)]].to_numpy(float)
    steps = np.diff(stars, axis=1)
    higher = (cat["direction"] == "higher").to_numpy()
    assert (steps[higher] > 0).all() and (steps[~higher] < 0).all()
    for name in ("公共交通来车实时预报率", "电子证照使用率", "5G网络覆盖", "IPv6部署", "公共安全视频资源采集和覆盖"):
        assert name in set(cat["name"])
    assert cat.loc[cat["domain"] != "地方特色", "weight"].sum() == pytest.approx(100.0)


# ---- rhythms ------------------------------------------------------------------------------------------


def _local_hour(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert("Asia/Shanghai").dt.hour


def test_rush_hour_is_slower_than_the_night_on_arterials(district: SyntheticDistrict) -> None:
    day = datetime.fromisoformat("2026-11-26T00:00:00+08:00")  # a Thursday
    speeds = district.series("segment_speeds", day, day + timedelta(days=1))
    arterial = set(district.static("road_segments").query("road_class == 'arterial'")["segment_id"])
    speeds = speeds[speeds["segment_id"].isin(arterial)]
    hour = _local_hour(speeds["ts"])
    assert speeds.loc[hour == 8, "speed_kmh"].mean() < 0.9 * speeds.loc[hour == 3, "speed_kmh"].mean()
    assert speeds.loc[hour == 8, "speed_kmh"].min() <= 25


def _arrivals(district: SyntheticDistrict, day: datetime) -> int:
    counts = district.series("visitor_counts", day, day + timedelta(days=1) - timedelta(minutes=5))
    return int(counts.groupby("spot_id")["arrivals_today"].max().sum())


def test_weekend_brings_more_visitors_than_a_workday(district: SyntheticDistrict) -> None:
    saturday = datetime.fromisoformat("2026-11-21T00:00:00+08:00")
    tuesday = datetime.fromisoformat("2026-11-24T00:00:00+08:00")
    assert _arrivals(district, saturday) > 2 * _arrivals(district, tuesday)


def test_visitors_only_during_opening_hours_and_crowds_in_golden_week(district: SyntheticDistrict) -> None:
    start = datetime.fromisoformat("2026-10-01T00:00:00+08:00")
    counts = district.series("visitor_counts", start, start + timedelta(days=7))
    spots = district.static("scenic_spots").set_index("spot_id")
    opening = spots["opening"].str[:5].map(lambda s: int(s[:2]) * 60 + int(s[3:]))
    local = counts["ts"].dt.tz_convert("Asia/Shanghai")
    minute = local.dt.hour * 60 + local.dt.minute
    assert (counts.loc[minute < counts["spot_id"].map(opening), "in_park"] == 0).all()
    assert (counts["in_park"] <= counts["arrivals_today"]).all()
    share = counts["in_park"] / counts["spot_id"].map(spots["capacity_instant"])
    peaks = share.groupby(counts["spot_id"]).max()
    assert (peaks > 0.8).sum() >= 3 and peaks.max() >= 1.0


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def test_a_pollution_episode_in_november_2026(district: SyntheticDistrict) -> None:
    air = district.series("air_readings", END - timedelta(days=30), END).sort_values("ts")
    longest = max(_longest_run(group["pm25"].to_numpy() > 115) for _, group in air.groupby("station_id"))
    assert longest >= 2


def test_reservoirs_stay_below_the_flood_limit(district: SyntheticDistrict) -> None:
    year = datetime.fromisoformat("2026-01-01T00:00:00+08:00")
    levels = district.series("reservoir_levels", year, year + timedelta(days=365))
    yanma = levels.loc[levels["reservoir_id"] == "yanma", "level_m"]
    zhuangli = levels.loc[levels["reservoir_id"] == "zhuangli", "level_m"]
    assert yanma.min() > 119.5 and yanma.max() < 125.0 and yanma.max() - yanma.min() > 1.5
    assert zhuangli.min() > 111.5 and zhuangli.max() < 114.56


def test_buses_run_only_in_service_hours_and_crowd_at_rush(district: SyntheticDistrict) -> None:
    day = datetime.fromisoformat("2026-11-26T00:00:00+08:00")
    buses = district.series("bus_positions", day, day + timedelta(days=1), step=timedelta(minutes=1))
    hour = _local_hour(buses["ts"])
    assert hour.between(6, 20).all()
    load = buses["on_board"] / buses["capacity"]
    assert (load[hour == 8] > 0.9).mean() > 0.03 and (load[hour == 14] > 0.9).mean() == 0
    assert buses["delay_s"].quantile(0.05) >= -90 and buses["delay_s"].quantile(0.95) <= 260


def test_camera_outages(district: SyntheticDistrict) -> None:
    shares = [(district.cameras_at(END - timedelta(hours=11 * k))["status"] != "online").mean() for k in range(9)]
    assert 0.01 <= float(np.median(shares)) <= 0.08
    cams = district.cameras_at(END)
    assert set(cams["status"]) == {"online", "offline", "fault"}
    assert (cams["status_since"] <= pd.Timestamp(END)).all()


def test_accidents_are_daily_events_with_stable_ids(district: SyntheticDistrict) -> None:
    acc = district.series("accidents", END - timedelta(days=60), END)
    assert 60 <= len(acc) <= 180
    assert acc["accident_id"].str.fullmatch(r"acc-\d{8}-\d{2}").all() and acc["accident_id"].is_unique
    assert acc["severity"].isin([1, 2]).mean() > 0.7
    assert acc["segment_id"].isin(set(district.static("road_segments")["segment_id"])).all()


def test_rating_values_improve_and_tasks_progress(district: SyntheticDistrict) -> None:
    values = district.series("rating_values", RATING_SINCE - timedelta(days=1), END)
    assert set(values["period"]) >= {"2021Q1", "2026Q3"} and "2026Q4" not in set(values["period"])
    cat = district.static("rating_indicators").set_index("indicator_id")
    signed = np.where(values["indicator_id"].map(cat["direction"]) == "higher", 1.0, -1.0) * values["value"]
    first = signed[values["period"] == "2021Q1"].to_numpy()
    last = signed[values["period"] == "2026Q3"].to_numpy()
    assert (last >= first).mean() > 0.85
    tasks = district.series("rating_tasks", END - timedelta(days=400), END)
    assert tasks["task_id"].nunique() >= 25
    assert {"done", "in_progress", "not_started"} <= set(tasks["status"])
    for _, task in tasks.sort_values("reported_at").groupby("task_id"):
        assert task["percent"].is_monotonic_increasing


@pytest.mark.parametrize(
    "end_iso", ["2026-11-27T00:30:00+00:00", "2026-11-29T04:00:00+00:00", "2026-06-01T15:00:00+08:00"]
)
def test_accidents_stay_inside_the_requested_window(end_iso: str) -> None:
    end = datetime.fromisoformat(end_iso)
    district = SyntheticDistrict()
    rows = district.series("accidents", end - timedelta(days=3), end)
    assert (rows["ts"] <= pd.Timestamp(end)).all() and (rows["ts"] > pd.Timestamp(end - timedelta(days=3))).all()
    # The same accident keeps its id whatever window it is read through.
    wide = district.series("accidents", end - timedelta(days=10), end + timedelta(days=2))
    assert set(rows["accident_id"]) <= set(wide["accident_id"])
    merged = rows.merge(wide, on="accident_id", suffixes=("", "_w"))
    assert (merged["ts"] == merged["ts_w"]).all()


# ---- daily camera status ----------------------------------------------------------------------------------------


def test_daily_camera_status_closes_days_at_local_midnight_and_samples_today(district: SyntheticDistrict) -> None:
    rows = district.series("camera_status_daily", END - timedelta(days=2, hours=1), END)
    by_day = rows.groupby("date")["ts"].agg(["min", "max", "size"])
    local = [t.tz_convert("Asia/Shanghai") for t in by_day["max"]]
    assert [str(d) for d in by_day.index] == ["2026-11-27", "2026-11-28", "2026-11-29"]
    assert [t.strftime("%d %H:%M") for t in local] == ["28 00:00", "29 00:00", "29 12:00"]  # today: as of now
    assert (by_day["min"] == by_day["max"]).all() and (by_day["size"] == 268).all()
    # The counts are the cameras' state at the sample time, per 村居.
    cams = district.cameras_at(END)
    today = rows.loc[rows["ts"] == pd.Timestamp(END)].set_index("village_code")
    expected = cams.groupby("village_code").agg(
        cameras=("camera_id", "size"), online=("status", lambda s: int((s == "online").sum())), hd=("hd", "sum")
    )
    assert today[["cameras", "online", "hd"]].astype(int).sort_index().equals(expected.astype(int).sort_index())
    assert (today["online"] <= today["cameras"]).all() and (today["networked"] <= today["cameras"]).all()


def test_daily_camera_status_windows_upsert_to_the_whole(district: SyntheticDistrict) -> None:
    """Today's row is re-sampled as time passes, so adjacent windows agree once upserted on (date, 村居)."""
    start = END - timedelta(days=3)
    whole = district.series("camera_status_daily", start, END)
    cuts = [start, END - timedelta(days=1, hours=3, minutes=17), END - timedelta(hours=5, seconds=3), END]
    parts = [district.series("camera_status_daily", a, b) for a, b in itertools.pairwise(cuts)]
    joined = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable")
    assert joined.duplicated(subset=["date", "village_code"]).any()  # the open days were sampled early, then again
    upserted = joined.drop_duplicates(subset=["date", "village_code"], keep="last")
    order = ["date", "village_code"]
    pd.testing.assert_frame_equal(
        whole.sort_values(order).reset_index(drop=True),
        upserted.sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )
