"""The environment scene's computations, with hand-computed expectations (REFERENCE.md §1–3, §8).

Times are UTC unless named local; NOW is 12:00 Asia/Shanghai on 2026-11-29, so the HJ 633-2026 particulate
rows apply: PM2.5 breakpoints 0, 35, 60, 115, 150, 250 … µg/m³ for IAQI 0, 50, 100, 150, 200, 300.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard import environment as env
from dashboard.areas import Areas
from dashboard.live import Failed, Rows
from dashboard.scope import DISTRICT, Scope, parse
from dashboard.settings import EnvironmentSettings, load_settings
from datasources.validation import validate
from tests.conftest import NOW

H = timedelta(hours=1)
RULES = EnvironmentSettings()
POLLUTANTS = ("pm25", "pm10", "so2", "no2", "o3", "co")


def readings(station: str, first: datetime, pm25: list[float | None], **others: list[float | None]) -> pd.DataFrame:
    """Hourly air readings of one station from ``first`` (hour-end stamps); absent pollutants are NaN."""
    ts = pd.date_range(first, periods=len(pm25), freq="h")
    cols = {p: others.get(p, [None] * len(pm25)) for p in POLLUTANTS if p != "pm25"}
    frame = pd.DataFrame({"station_id": station, "ts": ts, "pm25": pm25, **cols, "averaging": "1h"})
    return frame.astype({p: float for p in POLLUTANTS})


def hourly(station: str, first: datetime, aqi: list[float | None], primary: str = "pm25") -> pd.DataFrame:
    """An hourly-AQI frame as :func:`env.hourly_aqi_frame` returns it."""
    hours = pd.date_range(first, periods=len(aqi), freq="h")
    return pd.DataFrame({"station_id": station, "hour": hours, "aqi": aqi, "level": 0, "primary": primary})


STATIONS = pd.DataFrame(
    {
        "station_id": ["air-01", "air-02"],
        "name": ["山城街道站", "西集镇站"],
        "lon": [117.45, 117.433],
        "lat": [35.076, 34.949],
        "town_code": ["370406001", "370406101"],
    }
)
T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


# ---- episodes: the rule at its boundaries ---------------------------------------------------------


def test_exactly_episode_hours_above_the_threshold_is_an_episode() -> None:
    found = env.find_episodes(hourly("air-01", T0, [90, 101, 130, 80]), threshold=100, min_hours=2)
    assert len(found) == 1
    (e,) = found
    assert (e.start, e.last, e.end, e.hours, e.peak_aqi) == (T0 + H, T0 + 2 * H, T0 + 2 * H, 2, 130)
    assert not e.ongoing


def test_one_hour_fewer_is_not_an_episode() -> None:
    assert env.find_episodes(hourly("air-01", T0, [90, 180, 80]), threshold=100, min_hours=2) == ()


def test_aqi_equal_to_the_threshold_does_not_count() -> None:
    assert env.find_episodes(hourly("air-01", T0, [100, 101, 100, 101]), threshold=100, min_hours=2) == ()
    (e,) = env.find_episodes(hourly("air-01", T0, [101, 100, 101, 101, 50]), threshold=100, min_hours=2)
    assert e.start == T0 + 2 * H and e.hours == 2


def test_a_clean_hour_between_splits_the_run() -> None:
    found = env.find_episodes(hourly("air-01", T0, [120, 130, 90, 140, 150, 60]), threshold=100, min_hours=2)
    assert [(e.start, e.hours, e.peak_aqi) for e in found] == [(T0, 2, 130), (T0 + 3 * H, 2, 150)]


def test_a_missing_hour_splits_the_run_too() -> None:
    frame = hourly("air-01", T0, [120, 130, 140, 150, 60]).drop(index=2)  # no reading for the hour ending T0+2h
    found = env.find_episodes(frame, threshold=100, min_hours=2)
    assert [(e.start, e.hours) for e in found] == [(T0, 2)]  # the second piece is a single hour


def test_a_run_reaching_the_newest_hour_is_ongoing_and_stations_never_merge() -> None:
    frame = pd.concat([hourly("air-01", T0, [90, 120, 160]), hourly("air-02", T0 + 3 * H, [170, 90])])
    found = env.find_episodes(frame, threshold=100, min_hours=1)
    assert [(e.station_id, e.ongoing, e.end) for e in found] == [("air-01", True, None), ("air-02", False, T0 + 3 * H)]


def test_the_primary_pollutant_is_the_peak_hours() -> None:
    frame = hourly("air-01", T0, [120, 180, 130])
    frame.loc[1, "primary"] = "pm10,o3"
    (e,) = env.find_episodes(frame, threshold=100, min_hours=2)
    assert e.primary == ("pm10", "o3") and e.peak.category == "中度污染"


def test_recent_episodes_come_from_readings_and_keep_their_start() -> None:
    # PM2.5 115 µg/m³ → IAQI 150 (2026 rows); 60 → exactly 100, which does not count.
    old = readings("air-01", NOW - 80 * H, [115.0] * 3 + [60.0] * 77 + [115.0])  # ended 78 h ago; one hour now
    long = readings("air-02", NOW - 59 * H, [115.0] * 60)  # began 59 h ago, still going
    found = env.recent_episodes(pd.concat([old, long]), RULES, NOW)
    assert [(e.station_id, e.start, e.hours, e.ongoing, e.peak_aqi) for e in found] == [
        ("air-02", NOW - 59 * H, 60, True, 150)
    ]


def test_an_episode_that_ended_within_48_hours_is_reported() -> None:
    frame = readings("air-01", NOW - 49 * H, [150.0, 150.0, 150.0, 20.0] + [20.0] * 46)  # last above: NOW − 47 h
    (e,) = env.recent_episodes(frame, RULES, NOW)
    assert e.end == NOW - 47 * H and e.peak_aqi == 200
    late = readings("air-01", NOW - 52 * H, [150.0, 150.0, 20.0] + [20.0] * 50)  # last above: NOW − 51 h
    assert env.recent_episodes(late, RULES, NOW) == ()


@pytest.mark.parametrize(("peak", "severity"), [(50, 1), (101, 1), (150, 1), (151, 2), (201, 3), (300, 3), (301, 4)])
def test_severity_follows_the_peak_level(peak: int, severity: int) -> None:
    assert env.episode_severity(peak) == severity


def episodes_for_events() -> tuple[env.Episode, ...]:
    ongoing = env.Episode("air-02", NOW - 4 * H, NOW, None, 5, 262, ("pm25",))
    ended = env.Episode("air-01", NOW - 30 * H, NOW - 29 * H, NOW - 29 * H, 2, 150, ("pm25",))
    return ongoing, ended


def test_episode_events_match_the_events_contract() -> None:
    frame = env.episode_events(episodes_for_events(), STATIONS)
    checked = validate("events", frame, now=NOW)
    assert checked.report.rejected == 0 and not checked.report.errors and len(checked.frame) == 2
    first, second = frame.to_dict("records")
    assert first["event_id"] == "env-aqi-air-02-2026112908"  # local start hour (08:00 Asia/Shanghai)
    assert first["title"] == "西集镇站 空气重度污染持续 5 小时（峰值 AQI 262）"
    assert (first["state"], first["severity"], first["town_code"], first["rule_id"]) == (
        "new",
        3,
        "370406101",
        "aqi_episode",
    )
    assert first["ts"] == pd.Timestamp(NOW - 4 * H) and first["domain"] == "environment"
    assert (second["state"], second["severity"], second["lon"]) == ("resolved", 1, 117.45)
    assert second["title"] == "山城街道站 空气轻度污染持续 2 小时（峰值 AQI 150）"


def test_operator_states_survive_a_rewrite() -> None:
    events = pd.DataFrame({"event_id": ["a", "b", "c", "d"], "state": ["new", "resolved", "new", "resolved"]})
    stored = pd.DataFrame({"event_id": ["a", "b", "c", "d"], "state": ["acknowledged", "dispatched", "closed", "new"]})
    assert list(env.keep_operator_states(events, stored)["state"]) == ["acknowledged", "resolved", "closed", "resolved"]


def test_write_environment_events_is_idempotent(seeded_copy, make_settings) -> None:  # type: ignore[no-untyped-def]
    from datasources.kinds.sql import SqlOptions, SqlSource

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    settings = make_settings(store_url=f"sqlite:///{seeded_copy}")
    frames = {f: store.read(f, start=NOW - 6 * 24 * H, end=NOW).frame for f in ("air_readings", "air_stations")}
    written = env.write_environment_events(store, frames, settings, NOW)
    events = store.read("events", start=NOW - 10 * 24 * H, end=NOW).frame
    ours = events.loc[events["rule_id"] == "aqi_episode"]
    assert written > 0 and len(ours) == written
    assert ours["event_id"].str.fullmatch(r"env-aqi-air-\d\d-\d{10}").all()
    assert env.write_environment_events(store, frames, settings, NOW) == written
    assert store.count("events") == len(events)  # same ids: rewritten, not added
    first = ours["event_id"].iloc[0]
    store.write("events", ours.loc[ours["event_id"] == first].assign(state="closed"), now=NOW)
    env.write_environment_events(store, frames, settings, NOW)
    again = store.read("events", start=NOW - 10 * 24 * H, end=NOW).frame.set_index("event_id")
    assert again.at[first, "state"] == "closed"


def test_write_environment_events_reads_through_live_too(services_at_now, seeded_copy) -> None:  # type: ignore[no-untyped-def]
    from datasources.kinds.sql import SqlOptions, SqlSource

    services = services_at_now()
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    assert env.write_environment_events(store, services.live, services.settings, NOW) > 0


# ---- daily AQI ------------------------------------------------------------------------------------


def one_local_day(station: str = "air-01", pm25: float = 40.0) -> pd.DataFrame:
    """2026-11-28 local: hours ending 01:00 … 24:00 local, O₃ = 10 × the hour it starts (0 … 230)."""
    first = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 01:00 local on the 28th
    return readings(station, first, [pm25] * 24, o3=[10.0 * k for k in range(24)])


def test_daily_concentrations_follow_hj_633() -> None:
    table = env.daily_concentrations(one_local_day(), date(2026, 11, 28), date(2026, 11, 28))
    row = table.loc[("air-01", date(2026, 11, 28))]
    assert row["pm25"] == 40.0
    assert row["o3"] == 230.0  # highest 1 h
    assert row["o3_8h"] == pytest.approx(195.0)  # mean of 160 … 230, the window ending 24:00
    assert np.isnan(row["so2"])  # never measured


def test_the_hour_ending_at_midnight_closes_the_previous_day() -> None:
    before = readings("air-01", datetime(2026, 11, 27, 16, 0, tzinfo=UTC), [999.0])  # ends 00:00 local on the 28th
    table = env.daily_concentrations(pd.concat([before, one_local_day()]), date(2026, 11, 27), date(2026, 11, 29))
    assert list(table.index) == [("air-01", date(2026, 11, 27)), ("air-01", date(2026, 11, 28))]
    assert np.isnan(table.iloc[0]["pm25"])  # one hour of the 27th: not a valid day
    assert table.iloc[1]["pm25"] == 40.0  # the 28th: 01:00 … 24:00, untouched by the 999


def test_too_few_hours_make_no_daily_value() -> None:
    frame = one_local_day().iloc[5:]  # 19 hours
    row = env.daily_concentrations(frame, date(2026, 11, 28), date(2026, 11, 28)).iloc[0]
    assert np.isnan(row["pm25"]) and np.isnan(row["o3"])
    assert row["o3_8h"] == pytest.approx(195.0)  # 14 valid 8 h means (ending 11:00 … 24:00): still valid
    shorter = one_local_day().iloc[11:]  # only 8 valid 8 h means
    assert np.isnan(env.daily_concentrations(shorter, date(2026, 11, 28), date(2026, 11, 28)).iloc[0]["o3_8h"])


def test_daily_aqi_of_one_day_by_hand() -> None:
    table = env.daily_concentrations(one_local_day(), date(2026, 11, 28), date(2026, 11, 28))
    result = env.daily_aqi(table.iloc[0].to_dict(), date(2026, 11, 28))
    assert result is not None
    # PM2.5 40 → 50 + 50·5/25 = 60; O₃ 1 h 230 → 100 + 50·30/100 = 115; O₃ 8 h 195 → 100 + 50·35/55 = 131.8 → 132.
    assert result.iaqi == {"pm25": 60, "o3": 115, "o3_8h": 132}
    assert (result.aqi, result.category, result.primary) == (132, "轻度污染", ("o3_8h",))


def test_daily_aqi_uses_the_table_of_the_day() -> None:
    # PM2.5 70: 2012 rows 75 → 100 give 93.75 → 94; 2026 rows 60/115 → 100/150 give 109.1 → 110.
    assert env.daily_aqi({"pm25": 70.0}, date(2026, 2, 28)).aqi == 94  # type: ignore[union-attr]
    assert env.daily_aqi({"pm25": 70.0}, date(2026, 3, 1)).aqi == 110  # type: ignore[union-attr]
    assert env.daily_aqi({"pm25": float("nan")}, date(2026, 3, 1)) is None


def test_scope_daily_is_the_aqi_of_the_station_means() -> None:
    frame = pd.concat([one_local_day("air-01", 40.0), one_local_day("air-02", 80.0)])
    days, values = env.scope_daily(frame, NOW, days=3)
    assert days == (date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28))
    assert values[:2] == (None, None)
    assert values[2] == 132  # PM2.5 mean 60 → 100; O₃ 8 h 195 → 132 decides


def test_station_daily_is_yesterday() -> None:
    daily = env.station_daily(one_local_day(), NOW)
    assert daily["air-01"].aqi == 132 and daily["air-01"].at.date() == date(2026, 11, 28)


# ---- hourly AQI, stations, towns -------------------------------------------------------------------


def two_stations_now() -> pd.DataFrame:
    # air-01: 40 → 60 (良); air-02: 80 → 100 + 50·20/55 = 118.2 → 119 (轻度). Mean 60 → exactly 100.
    return pd.concat(
        [readings("air-01", NOW - 23 * H, [40.0] * 24), readings("air-02", NOW - 23 * H, [80.0] * 24)]
    ).reset_index(drop=True)


def test_station_table_rows_by_hand() -> None:
    rows = env.station_table(two_stations_now(), STATIONS, NOW)
    assert [r.station_id for r in rows] == ["air-01", "air-02"]
    first, second = rows
    assert first.hourly is not None and second.hourly is not None
    assert (first.hourly.aqi, first.hourly.category, first.hourly.primary) == (60, "良", ("pm25",))
    assert (second.hourly.aqi, second.hourly.colour, second.hourly.iaqi) == (119, "#FF7E00", {"pm25": 119})
    assert second.hourly.at == NOW
    assert first.trend == (60.0,) * 24 and first.daily is None  # no complete day in the data


def test_a_station_without_recent_data_has_no_hourly_aqi() -> None:
    rows = env.station_table(readings("air-01", NOW - 30 * H, [40.0] * 26), STATIONS, NOW)  # newest: NOW − 5 h
    assert rows[0].hourly is None and rows[1].hourly is None
    assert rows[0].trend[:19] == (60.0,) * 19 and rows[0].trend[19:] == (None,) * 5
    assert rows[1].trend == (None,) * 24


def test_scope_aqi_is_the_aqi_of_mean_concentrations() -> None:
    now = env.scope_now(two_stations_now(), NOW)
    assert now is not None and (now.aqi, now.category, now.primary) == (100, "良", ("pm25",))
    assert env.scope_trend(two_stations_now(), NOW) == (100.0,) * 24
    assert env.scope_now(two_stations_now().iloc[0:0], NOW) is None


def test_town_ranking_best_first_and_no_data_last() -> None:
    towns = pd.DataFrame(
        {"town_code": ["370406001", "370406100", "370406101"], "name": ["山城街道", "店子镇", "西集镇"]}
    )
    ranks = env.town_ranking(two_stations_now(), STATIONS, towns, NOW)
    assert [(r.name, r.now.aqi if r.now else None) for r in ranks] == [
        ("山城街道", 60),
        ("西集镇", 119),
        ("店子镇", None),
    ]


def test_assets_in_scope() -> None:
    areas = Areas(pd.DataFrame(columns=["town_code", "name", "geometry"]), pd.DataFrame())
    frame = STATIONS.assign(village_code=["370406001001", "370406101001"])
    assert list(
        env.assets_in_scope(frame, parse("asset:air_stations:air-02"), areas, "air_stations", "station_id")["name"]
    ) == ["西集镇站"]
    assert env.assets_in_scope(frame, parse("asset:water_sections:air-02"), areas, "air_stations", "station_id").empty
    assert len(env.assets_in_scope(frame, Scope("town", "370406101"), areas, "air_stations", "station_id")) == 1
    assert len(env.assets_in_scope(frame, DISTRICT, areas, "air_stations", "station_id")) == 2


# ---- water, reservoirs, radiation --------------------------------------------------------------------

SECTIONS = pd.DataFrame(
    {
        "section_id": ["wq-01", "wq-03"],
        "name": ["城河入境断面", "岩马水库库心"],
        "waterbody": ["river", "reservoir"],
        "target_class": [3, 2],
    }
)


def sample(section: str, at: datetime, **items: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(("do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "ph"))
    return {"section_id": section, "ts": pd.Timestamp(at), **row, **items}


def test_water_table_by_hand() -> None:
    samples = pd.DataFrame(
        [
            # river: DO 6.5 Ⅱ, CODMn 5 Ⅲ, NH3-N 0.4 Ⅱ, TP 0.15 Ⅲ (river column), TN not graded → Ⅲ by CODMn and TP
            sample("wq-01", NOW - 8 * H, do=8.0, codmn=3.0),
            sample("wq-01", NOW, do=6.5, codmn=5.0, nh3n=0.4, tp=0.15, tn=9.0),
            # reservoir: TP 0.04 Ⅲ (lake column), TN 1.2 Ⅳ → Ⅳ by TN; target Ⅱ missed
            sample("wq-03", NOW - 4 * H, tp=0.04, tn=1.2),
        ]
    )
    river, lake = env.water_table(samples, SECTIONS, NOW)
    assert (river.grade, river.label, river.deciding, river.meets, river.trend) == (
        3,
        "Ⅲ",
        ("codmn", "tp"),
        True,
        (2, 3),
    )
    assert river.at == NOW and river.colour == env.WATER_COLOURS[2]
    assert (lake.grade, lake.label, lake.deciding, lake.meets, lake.target_class) == (4, "Ⅳ", ("tn",), False, 2)


def test_an_old_sample_gives_a_trend_but_no_current_class() -> None:
    samples = pd.DataFrame([sample("wq-01", NOW - 3 * 24 * H, do=8.0)])
    river, lake = env.water_table(samples, SECTIONS, NOW)
    assert river.grade is None and river.label == "—" and river.meets is None and river.trend == (1,)
    assert lake.trend == ()


RESERVOIRS = pd.DataFrame(
    {
        "reservoir_id": ["yanma", "zhuangli"],
        "name": ["岩马水库", "庄里水库"],
        "flood_limit_m": [125.0, np.nan],
        "design_flood_m": [129.75, np.nan],
        "check_flood_m": [132.91, np.nan],
        "normal_pool_m": [np.nan, 114.56],
    }
)


def test_reservoir_levels_against_their_characteristic_levels() -> None:
    ts = pd.date_range(NOW - 23 * H, NOW, freq="h")
    levels = pd.concat(
        [
            pd.DataFrame({"reservoir_id": "yanma", "ts": ts, "level_m": 123.0 + 0.02 * np.arange(24)}),
            pd.DataFrame({"reservoir_id": "zhuangli", "ts": ts[:10], "level_m": 114.8}),  # newest 14 h old
        ]
    )
    yanma, zhuangli = env.reservoir_table(levels, RESERVOIRS, NOW)
    assert yanma.level_m == pytest.approx(123.46) and yanma.flood_margin_m == pytest.approx(1.54)
    assert (yanma.design_flood_m, yanma.check_flood_m, yanma.normal_pool_m, yanma.pool_margin_m) == (
        129.75,
        132.91,
        None,
        None,
    )
    assert yanma.trend[0] == pytest.approx(123.0) and len(yanma.trend) == 24
    assert zhuangli.level_m is None and zhuangli.flood_margin_m is None and zhuangli.flood_limit_m is None
    assert zhuangli.trend[9] == pytest.approx(114.8) and zhuangli.trend[10] is None
    above = env.ReservoirRow("zhuangli", "庄里水库", 114.8, NOW, None, None, None, 114.56, ())
    assert above.pool_margin_m == pytest.approx(-0.24)


def test_radiation_alert_is_strictly_above_factor_times_baseline() -> None:
    stations = pd.DataFrame(
        {
            "station_id": ["rad-01", "rad-02", "rad-03"],
            "name": ["城区", "岩马", "北庄"],
            "baseline_ngy_h": [60.0, 60.0, np.nan],
        }
    )
    doses = pd.DataFrame(
        {
            "station_id": ["rad-01", "rad-02", "rad-03"],
            "ts": pd.Timestamp(NOW - timedelta(minutes=30)),
            "dose_ngy_h": [121.0, 120.0, 500.0],
        }
    )
    one, two, three = env.radiation_table(doses, stations, NOW, factor=2.0)
    assert (one.ratio, one.alert) == (pytest.approx(121 / 60), True)
    assert (two.ratio, two.alert) == (2.0, False)
    assert (three.dose, three.ratio, three.alert) == (500.0, None, False)
    assert not env.radiation_table(doses, stations, NOW, factor=2.1)[0].alert


# ---- the whole view over the seeded district ---------------------------------------------------------


def test_view_at_every_scope(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    district = env.compute_view(services.live, services.settings, DISTRICT, NOW)
    assert isinstance(district.air, env.AirView)
    assert len(district.air.stations) == 11 and len(district.air.ranking) == 10
    assert all(s.hourly is not None and s.daily is not None for s in district.air.stations)
    assert district.air.now is not None and len(district.air.trend) == 24 and len(district.air.daily) == 30
    assert len(district.water) == 8 and len(district.reservoirs) == 2 and len(district.radiation) == 3  # type: ignore[arg-type]
    pickle.loads(pickle.dumps(district))  # the shared cache pickles it

    station = env.compute_view(services.live, services.settings, parse("asset:air_stations:air-03"), NOW)
    assert isinstance(station.air, env.AirView) and [s.station_id for s in station.air.stations] == ["air-03"]
    assert station.water == () and station.radiation == ()
    assert {e.episode.station_id for e in station.air.episodes} <= {"air-03"}

    lake = env.compute_view(services.live, services.settings, parse("asset:reservoirs:yanma"), NOW)
    assert isinstance(lake.air, env.AirView) and lake.air.stations == () and lake.air.now is None
    assert lake.air.daily == (None,) * 30 and lake.air.trend == (None,) * 24 and len(lake.air.ranking) == 10
    assert [r.reservoir_id for r in lake.reservoirs] == ["yanma"]  # type: ignore[union-attr]

    town = env.compute_view(services.live, services.settings, Scope("town", "370406107"), NOW)  # 冯卯镇: 岩马
    assert isinstance(town.air, env.AirView) and [s.station_id for s in town.air.stations] == ["air-09"]
    res = services.live.rows("reservoirs").frame
    inside = sorted(res.loc[res["town_code"] == "370406107", "reservoir_id"])  # the approximate town areas decide
    assert "yanma" in inside and [r.reservoir_id for r in town.reservoirs] == inside  # type: ignore[union-attr]
    assert len(town.air.ranking) == 10


def test_view_agrees_with_the_overview_tiles(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    view = env.compute_view(services.live, services.settings, DISTRICT, NOW)
    tiles = {t.spec.id: t for t in services.tiles(DISTRICT)}
    assert isinstance(view.air, env.AirView) and view.air.now is not None
    assert view.air.now.aqi == tiles["aqi"].value
    assert view.air.trend == tiles["aqi"].spark
    meeting = [r.meets for r in view.water]  # type: ignore[union-attr]
    assert tiles["water_meeting"].value == pytest.approx(sum(meeting) / len(meeting))
    assert tiles["radiation"].value == pytest.approx(max(r.ratio for r in view.radiation))  # type: ignore[union-attr]


def test_a_failing_feed_fails_only_its_panel(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"water_samples": "env"},
    )
    view = env.compute_view(services.live, services.settings, DISTRICT, NOW)
    assert isinstance(view.water, Failed) and "database unreachable" in view.water.error
    assert isinstance(view.air, env.AirView) and isinstance(view.reservoirs, tuple)


def test_a_value_the_standard_rejects_fails_its_panel_not_the_page(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    live = services.live
    got = live.rows("water_sections")
    assert isinstance(got, Rows)
    bad = Rows("water_sections", got.frame.assign(waterbody="lake"), None)
    read = live.rows
    monkeypatch.setattr(live, "rows", lambda feed: bad if feed == "water_sections" else read(feed))
    view = env.compute_view(live, services.settings, DISTRICT, NOW)
    assert isinstance(view.water, Failed) and "waterbody" in view.water.error
    assert isinstance(view.air, env.AirView)


def test_environment_settings_are_typed_and_configurable(make_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert make_settings().environment == EnvironmentSettings(
        episode_aqi=100, episode_hours=2, radiation_alert_factor=2.0
    )
    monkeypatch.setenv("SHANTING_ENVIRONMENT__EPISODE_HOURS", "3")
    assert load_settings(None).environment.episode_hours == 3
    with pytest.raises(ValueError, match="episode_hour"):
        load_settings(None, environment={"episode_hour": 3})


# ---- layout and callback ---------------------------------------------------------------------------------


def _text(component: object) -> str:
    """All text inside a Dash component tree."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""


def test_every_panel_body_is_filled_and_a_failing_panel_says_so(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from layouts import environment as layout

    services = services_at_now()
    view = env.compute_view(services.live, services.settings, DISTRICT, NOW)
    out = layout.panel_outputs(view, "zh-CN", DISTRICT)
    assert len(out) == len(layout.OUTPUTS) == 9
    stations = out[4]
    assert len(stations.children[1].children) == 11 and "山亭区站" in _text(stations)
    assert len(out[1]["data"]) == 12 and out[2]["data"][0]["type"] == "bar"  # 11 stations + the scope; 30 bars
    broken = env.EnvironmentView("district", NOW, Failed("air_readings", "down"), view.water, (), (), 2.0)
    out = layout.panel_outputs(broken, "zh-CN", DISTRICT)
    assert [_text(out[i]) for i in (0, 3, 4, 8)] == ["数据源异常"] * 4
    assert out[1]["layout"]["annotations"][0]["text"] == "数据源异常"
    assert "城河" in _text(out[5]) and _text(out[6]) == "本范围内无水库"


def test_reservoir_gauge_positions() -> None:
    from layouts.environment import gauge

    yanma = env.ReservoirRow("yanma", "岩马水库", 123.4, NOW, 125.0, 129.75, 132.91, None, ())
    fill, marks = gauge(yanma)  # from 120.0 (5 m below the flood limit) to 132.91 (check flood level)
    assert fill == pytest.approx(3.4 / 12.91)
    assert dict(marks) == pytest.approx({"flood_limit": 5 / 12.91, "design_flood": 9.75 / 12.91, "check_flood": 1.0})
    zhuangli = env.ReservoirRow("zhuangli", "庄里水库", 114.8, NOW, None, None, None, 114.56, ())
    assert gauge(zhuangli) == (pytest.approx(5.24 / 6), [("normal_pool", pytest.approx(5 / 6))])
    assert gauge(env.ReservoirRow("x", "x", 100.0, NOW, None, None, None, None, ())) == (0.0, [])


def test_the_scene_frame_holds_every_panel_and_only_environment_overlays_on() -> None:
    import dash_leaflet as dl

    from dashboard.layers import LAYER_NAMES
    from layouts import ids
    from layouts.environment import OUTPUTS, environment

    urls = {name: f"/geo/{name}" for name in LAYER_NAMES}
    page = environment(
        "zh-CN", DISTRICT, urls, [[34.9, 117.2], [35.3, 117.7]], None, [("山亭区", "/environment")], [], RULES
    )
    found: dict[str, object] = {}
    for c in page._traverse():
        if isinstance(getattr(c, "id", None), str):
            found[c.id] = c
        if isinstance(c, dl.LayersControl):
            found["control"] = c
    assert {component for component, _ in OUTPUTS} | {ids.BREADCRUMB, ids.MAP, ids.CHOROPLETH_KPI} <= set(found)
    control = found["control"]
    checked = {o.children.id["name"]: o.checked for o in control.children}  # type: ignore[attr-defined]
    assert {name for name, on in checked.items() if on} == {"towns", "air", "water"}
    assert control.overlays == [o.name for o in control.children if o.checked]  # type: ignore[attr-defined]
    assert found[ids.CHOROPLETH_KPI].value == "aqi"  # type: ignore[attr-defined]


def test_the_view_is_computed_once_per_refresh_and_scope(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from callbacks import environment as callbacks

    services = services_at_now()
    calls: list[str] = []
    real = callbacks.compute_view

    def counting(live, settings, scope, now):  # type: ignore[no-untyped-def]
        calls.append(scope.key)
        return real(live, settings, scope, now)

    monkeypatch.setattr(callbacks, "compute_view", counting)
    first = callbacks.view(services, DISTRICT)
    assert callbacks.view(services, DISTRICT) == first
    callbacks.view(services, Scope("town", "370406103"))
    assert calls == ["district", "town:370406103"]
