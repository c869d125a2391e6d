"""KPI tiles over the seeded district at a fixed time, at every scope."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pandas as pd
import pytest

from dashboard.domain import video
from dashboard.health import freshness_limit
from dashboard.kpis import (
    CATALOGUE,
    DOMAINS,
    VALUE_BUCKET_S,
    VIDEO_SPARK_DAYS,
    Tile,
    TileSpec,
    bucket_offset,
    compute_tiles,
)
from dashboard.live import Rows
from dashboard.scope import DISTRICT, Scope, parse
from dashboard.timeutil import TZ
from tests.conftest import NOW

BEIZHUANG = Scope("town", "370406103")


def by_id(tiles: tuple[Tile, ...]) -> dict[str, Tile]:
    return {t.spec.id: t for t in tiles}


def test_every_domain_has_tiles_and_every_tile_a_computation() -> None:
    assert {s.domain for s in CATALOGUE.specs} == set(DOMAINS)
    assert set(CATALOGUE.compute) == {s.id for s in CATALOGUE.specs}


def test_district_tiles_have_real_values(services_at_now) -> None:  # type: ignore[no-untyped-def]
    tiles = by_id(services_at_now().tiles(DISTRICT))
    for tile in tiles.values():
        assert tile.failing is None, (tile.spec.id, tile.failing)
        assert tile.value is not None, tile.spec.id
        assert not tile.stale, tile.spec.id
    assert 0 <= tiles["tpi"].value <= 10 and len(tiles["tpi"].spark) == 24
    assert tiles["aqi"].label in ("优", "良", "轻度污染", "中度污染", "重度污染", "严重污染")
    assert tiles["aqi"].previous is not None
    assert tiles["star"].label.endswith("★")


def test_working_rate_matches_the_domain_function_on_the_scoped_cameras(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    cams = services.live.rows("cameras")
    assert isinstance(cams, Rows)
    town = cams.frame.loc[cams.frame["town_code"] == BEIZHUANG.code]
    expected = video.health(town).working_rate
    tile = by_id(services.tiles(BEIZHUANG))["working_rate"]
    assert tile.value == pytest.approx(expected)
    assert tile.label == str(len(town)) and len(town) < len(cams.frame)


def test_village_and_asset_scopes_narrow_further(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    cams = services.live.rows("cameras").frame
    village = cams["village_code"].iloc[0]
    tiles = by_id(services.tiles(parse(f"village:{village}")))
    assert tiles["working_rate"].label == str(int((cams["village_code"] == village).sum()))
    one = by_id(services.tiles(parse(f"asset:cameras:{cams['camera_id'].iloc[0]}")))
    assert one["working_rate"].label == "1"


def test_tiles_go_stale_when_the_data_stops(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    later = NOW + timedelta(hours=4)
    tiles = by_id(compute_tiles(services.live, services.settings, DISTRICT, later))
    assert tiles["visitors"].stale and tiles["parking"].stale
    assert not tiles["star"].stale


def test_a_failing_feed_fails_only_its_tiles(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env"},
    )
    tiles = by_id(services.tiles(DISTRICT))
    assert tiles["aqi"].failing and "database unreachable" in tiles["aqi"].failing
    assert tiles["good_days"].failing
    assert tiles["working_rate"].failing is None and tiles["working_rate"].value is not None


@pytest.mark.parametrize(
    ("value", "direction", "level"),
    [
        (0.99, "higher", "ok"),
        (0.96, "higher", "warn"),
        (0.90, "higher", "bad"),
        (90, "lower", "ok"),
        (120, "lower", "warn"),
        (200, "lower", "bad"),
        (None, "lower", "none"),
    ],
)
def test_threshold_colour(value: float | None, direction: str, level: str) -> None:
    limits = (0.98, 0.95) if direction == "higher" else (100, 150)
    spec = TileSpec("x", "video", "x", "x", "", "pct", (), thresholds=limits, direction=direction)  # type: ignore[arg-type]
    assert Tile(spec, value).level == level


def test_tile_definitions_are_data_checked_against_the_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dashboard.kpis import load_catalogue

    path = tmp_path / "kpis.toml"
    path.write_text(
        '[[tile]]\nid = "aqi"\ndomain = "environment"\ntitle_zh = "空气"\ntitle_en = "Air"\nunit = ""\nformat = "aqi"\n'
        'feeds = ["air_readings", "air_stations"]\nthresholds = [100, 150]\ndirection = "lower"\n'
        'drill = "/environment"\n',
        encoding="utf-8",
    )
    (spec,) = load_catalogue(path).specs
    assert spec.thresholds == (100.0, 150.0) and spec.fmt == "aqi"
    path.write_text(
        '[[tile]]\nid = "weather"\ndomain = "environment"\ntitle_zh = "x"\ntitle_en = "x"\nformat = "percent"\n'
        'feeds = ["air_reading"]\nthresholds = [1, 2]\ncolour = "red"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        load_catalogue(path)
    message = str(err.value)
    for words in (
        "tile weather",
        "unknown key 'colour'",
        "no computation for this id",
        "unknown feed 'air_reading'",
        "thresholds and direction go together",
        "fmt: Input should be",
    ):
        assert words in message, words


def test_water_class3_and_the_open_environment_alerts(services_at_now, seeded_copy) -> None:  # type: ignore[no-untyped-def]
    from dashboard.domain import water
    from datasources.kinds.sql import SqlOptions, SqlSource

    services = services_at_now()
    tiles = by_id(services.tiles(DISTRICT))
    samples = services.live.rows("water_samples").frame
    sections = services.live.rows("water_sections").frame.set_index("section_id")
    latest = samples.sort_values("ts").groupby("section_id").tail(1)
    grades = [
        water.water_class(
            {k: r[k] for k in water.ITEMS if r[k] == r[k]}, waterbody=sections.at[r["section_id"], "waterbody"]
        ).grade
        for _, r in latest.iterrows()
    ]
    assert tiles["water_class3"].value == pytest.approx(sum(g <= 3 for g in grades) / len(grades))
    assert tiles["env_alerts"].value == 0  # the seed raises no events; the live loop does
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    store.write(
        "events",
        pd.DataFrame(
            [
                {
                    "event_id": "e1",
                    "ts": NOW,
                    "domain": "environment",
                    "rule_id": "aqi_episode",
                    "severity": 3,
                    "town_code": "370406103",
                    "state": "new",
                    "title": "北庄镇站 重度污染",
                },
                {
                    "event_id": "e2",
                    "ts": NOW,
                    "domain": "environment",
                    "rule_id": "aqi_episode",
                    "severity": 2,
                    "town_code": "370406001",
                    "state": "resolved",
                    "title": "已结束",
                },
            ]
        ),
        now=NOW,
    )
    fresh = services_at_now()
    assert by_id(fresh.tiles(DISTRICT))["env_alerts"].value == 1
    assert by_id(fresh.tiles(BEIZHUANG))["env_alerts"].value == 1
    assert by_id(fresh.tiles(Scope("town", "370406001")))["env_alerts"].value == 0


def test_a_tile_follows_its_feed_at_the_next_version_and_is_not_recomputed_otherwise(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    before = by_id(services.tiles(DISTRICT))
    cams = services.live.rows("cameras").frame
    working = cams.loc[cams["status"] == "online"].head(40)
    services.sources.store.write(
        "cameras", working.assign(status="offline", status_since=pd.Timestamp(NOW)), now=NOW, origin="test"
    )
    services.cache.delete("live-versions")
    after = by_id(services.tiles(DISTRICT))
    assert after["working_rate"].value < before["working_rate"].value  # same minute, new data: recomputed
    assert after["aqi"] == before["aqi"]  # its feeds did not move


def test_a_new_value_bucket_over_unchanged_data_answers_at_once_and_recomputes_aside(  # type: ignore[no-untyped-def]
    services_at_now, monkeypatch, caplog
) -> None:
    import threading

    import dashboard.kpis as kpis

    services = services_at_now()
    spec = by_id(services.tiles(DISTRICT))["star"].spec  # the dearest tile: the once-a-minute recompute
    first = by_id(compute_tiles(services.live, services.settings, DISTRICT, NOW, (spec,)))["star"]
    gate, done, real = threading.Event(), threading.Event(), kpis._tile

    def held(*args, **kwargs) -> Tile:  # type: ignore[no-untyped-def]
        gate.wait(5)
        try:
            return real(*args, **kwargs)
        finally:
            done.set()

    monkeypatch.setattr(kpis, "_tile", held)
    later = NOW + timedelta(seconds=VALUE_BUCKET_S)
    # The next bucket: the last value comes back without waiting for the (held) computation …
    assert compute_tiles(services.live, services.settings, DISTRICT, later, (spec,))[0].value == first.value
    assert not done.is_set()
    gate.set()
    assert done.wait(10), "the tile was recomputed in the background"
    lock = services.live.locks[f"tile:star:{DISTRICT.key}"]
    poll = time.monotonic() + 10
    while lock.locked() and time.monotonic() < poll:
        time.sleep(0.01)
    assert not lock.locked() and "renewing" not in caplog.text  # it ran outside any request, without failing
    # … and the data moving makes the request wait for the new value (the existing test below checks values).


def test_staleness_is_judged_at_every_call_not_when_the_value_was_computed(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    fresh = by_id(compute_tiles(services.live, services.settings, DISTRICT, NOW))["visitors"]
    limit = min(lim for f in fresh.spec.feeds if (lim := freshness_limit(f, services.settings)))
    assert fresh.data_time is not None and not fresh.stale
    # Two moments in the same value bucket, either side of the freshness limit:
    # the first computes and memoises the tile, the second reuses it.
    offset = bucket_offset("visitors", VALUE_BUCKET_S)
    later = fresh.data_time + limit + timedelta(seconds=1)
    while (later.timestamp() + offset) % VALUE_BUCKET_S < 2:
        later += timedelta(seconds=1)
    start = later - timedelta(seconds=(later.timestamp() + offset) % VALUE_BUCKET_S)
    assert not by_id(compute_tiles(services.live, services.settings, DISTRICT, start))["visitors"].stale
    assert by_id(compute_tiles(services.live, services.settings, DISTRICT, later))["visitors"].stale


def test_video_tiles_compare_with_yesterdays_daily_sample_and_draw_30_days(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    tile = by_id(services.tiles(DISTRICT))["working_rate"]
    daily = services.live.rows("camera_status_daily").frame
    rates = video.daily_rates(daily).set_index("date")["working_rate"]
    yesterday = (NOW.astimezone(TZ) - timedelta(days=1)).date()
    assert tile.previous == pytest.approx(rates.loc[rates.index.map(str) == str(yesterday)].iloc[0])
    assert len(tile.spark) == VIDEO_SPARK_DAYS and tile.spark[-2] == tile.previous
    assert sum(v is not None for v in tile.spark) >= 3  # the seeded days


def test_a_failing_history_feed_leaves_the_tile_its_value(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now(
        sources={"old": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"camera_status_daily": "old"},
    )
    tile = by_id(services.tiles(DISTRICT))["working_rate"]
    assert tile.failing is None and tile.value is not None and tile.previous is None and tile.spark == ()


def test_tiles_recompute_evenly_spread_over_the_value_bucket() -> None:
    slots = Counter(bucket_offset(spec.id, VALUE_BUCKET_S) // 5 for spec in CATALOGUE.specs)  # 5 s refreshes
    assert max(slots.values()) <= -(-len(CATALOGUE.specs) // (VALUE_BUCKET_S // 5))


def test_the_tourism_tiles_band_and_warn_by_the_configured_rules(services_at_now) -> None:  # type: ignore[no-untyped-def]
    default = by_id(services_at_now().tiles(DISTRICT))
    assert default["spots_warning"].value is not None and default["peak_load"].value is not None
    low = services_at_now(tourism={"warning_at": 0.01})  # every open spot above 1 % of its capacity warns
    warned = by_id(low.tiles(DISTRICT))
    assert warned["spots_warning"].value == float(warned["spots_warning"].label) > default["spots_warning"].value
    bands = [[0.0, "空", "empty"], [0.001, "有人", "some"], [0.5, "很多", "many"], [0.9, "满", "full"]]
    relabelled = by_id(services_at_now(tourism={"bands": bands}).tiles(DISTRICT))
    assert relabelled["peak_load"].label in {"有人", "很多", "满"}
    assert relabelled["peak_load"].value == default["peak_load"].value
