"""The tourism scene's computations over frames: capacities, scope, hourly curves, alarms as events, rows, the view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from dashboard import tourism_view as tv
from dashboard.scope import DISTRICT, Scope
from dashboard.settings import load_settings
from layouts import tourism as layout

GOLDEN = datetime(2026, 10, 3, 5, 0, tzinfo=UTC)  # 13:00 local, National Day Golden Week
MIDNIGHT = datetime(2026, 10, 2, 16, 0, tzinfo=UTC)  # 2026-10-03 00:00 local


def spots() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "spot_id": ["a", "b", "c"],
            "name": ["甲景区", "乙景区", "丙景区"],
            "lon": [117.50, 117.52, 117.70],
            "lat": [35.10, 35.10, 35.10],
            "capacity_instant": [1000, 2000, 500],
            "capacity_daily": [3000, 8000, 1500],
            "opening": ["08:00–18:00"] * 3,
            "capacity_assumed": [True, True, False],
            "town_code": ["370406001", "370406001", "370406103"],
            "village_code": ["370406001001", "370406001002", "370406103001"],
        }
    )


def counts(spot: str, ratios: list[float], capacity: int, start: datetime = MIDNIGHT + timedelta(hours=9)):
    ts = [start + timedelta(minutes=5 * i) for i in range(len(ratios))]
    return pd.DataFrame(
        {
            "spot_id": spot,
            "ts": pd.to_datetime(ts, utc=True),
            "in_park": [round(r * capacity) for r in ratios],
            "arrivals_today": [round(2 * r * capacity) for r in ratios],
        }
    )


def rules(**tourism: object):  # type: ignore[no-untyped-def]
    return load_settings(None, tourism=tourism).tourism


def test_configured_capacities_replace_the_feed() -> None:
    config = rules(
        capacities={
            "a": {"instant": 1500},
            "b": {"areas_m2": [100_000, 2_000], "per_visitor_m2": [50, 5], "opening_hours": 8, "visit_hours": 2.5},
        }
    )
    got = tv.with_capacities(spots(), config).set_index("spot_id")
    assert (got.at["a", "capacity_instant"], got.at["a", "capacity_daily"]) == (1500, 4500)  # daily keeps 3×
    assert (got.at["b", "capacity_instant"], got.at["b", "capacity_daily"]) == (2400, 7200)  # LB/T 034
    assert list(got["capacity_source"]) == ["config", "lbt034", "feed"]
    assert list(got["capacity_assumed"]) == [True, True, False]


def test_scope_selects_areas() -> None:
    frame = spots()
    assert len(tv.spots_in_scope(frame, DISTRICT)) == 3
    assert list(tv.spots_in_scope(frame, Scope("town", "370406001"))["spot_id"]) == ["a", "b"]
    assert list(tv.spots_in_scope(frame, Scope("village", "370406103001"))["spot_id"]) == ["c"]
    assert list(tv.spots_in_scope(frame, Scope("asset", "b", "scenic_spots"))["spot_id"]) == ["b"]
    assert tv.spots_in_scope(frame, Scope("asset", "cam-1", "cameras")).empty


def test_hourly_points_take_the_newest_count_before_each_hour() -> None:
    frame = counts("a", [0.1, 0.2, 0.3, 0.4], 1000, start=MIDNIGHT + timedelta(hours=9, minutes=50))
    got = tv.hourly_points(frame)  # 09:50, 09:55, 10:00, 10:05 local
    # 10:00 takes its own count; 10:05 is 55 min before 11:00, too far to stand for it.
    assert list(zip(got["hour"], got["count"], strict=True)) == [(10, 300.0)]
    assert set(got["day"]) == {GOLDEN.date()}


def test_a_series_hovering_at_80_percent_raises_one_warning_event() -> None:
    wobble = [0.5, 0.79, 0.81, 0.79, 0.80, 0.78, 0.82, 0.78, 0.81, 0.7, 0.6, 0.85]
    frame = counts("a", wobble, 1000)
    config = rules()
    alarms = tv.today_alarms(frame, "a", 1000, config, GOLDEN)
    assert [(a.level, a.end is None) for a in alarms] == [("warning", False), ("warning", True)]
    events = tv.tourism_events(frame, spots(), config, GOLDEN)
    assert len(events) == 2  # two crossings: the second only after falling below 75 %
    assert list(events["state"]) == ["resolved", "new"]
    assert events["event_id"].str.fullmatch(r"tour-warning-a-2026100309\d\d").all()
    assert set(events["rule_id"]) == {"crowding_warning"} and set(events["severity"]) == {2}
    assert "甲景区" in events["title"].iloc[0] and "80%" in events["title"].iloc[0]
    # A wider margin re-arms later: the dips to 70 % and 60 % no longer end the first warning.
    assert len(tv.tourism_events(frame, spots(), rules(rearm_margin=0.25), GOLDEN)) == 1


def test_limit_events_and_area_rows_with_diversion() -> None:
    frame = pd.concat(
        [counts("a", [0.9, 1.0, 1.02], 1000), counts("b", [0.3, 0.3, 0.3], 2000), counts("c", [0.6] * 3, 500)]
    )
    now = MIDNIGHT + timedelta(hours=9, minutes=10)
    events = tv.tourism_events(frame, spots(), rules(), now)
    assert sorted(events["rule_id"]) == ["crowding_limit", "crowding_warning"]
    rows = tv.area_rows(
        tv.with_capacities(spots(), rules()), frame, tv.hourly_points(frame), {}, rules(), DISTRICT, now
    )
    assert [r.spot_id for r in rows] == ["a", "c", "b"]  # most loaded first
    a = rows[0]
    assert (a.in_park, a.alarm, a.band, a.level) == (1020, "limit", "饱和", 5)
    assert a.daily_ratio == pytest.approx(2040 / 3000)
    assert [(d.spot_id, d.room) for d in a.diversions] == [("b", 800), ("c", 50)]  # nearest first, room to 70 %
    assert rows[1].diversions == () and rows[1].forecast is None  # no history: no forecast, said so


def test_the_view_on_the_synthetic_golden_week(make_settings) -> None:  # type: ignore[no-untyped-def]
    from flask import Flask

    from dashboard.services import Services
    from dashboard.sources import build_sources
    from datasources.contracts import FEEDS

    settings = make_settings(sources={"sim": {"kind": "synthetic"}}, feeds={f: "sim" for f in FEEDS if f != "events"})
    services = Services.create(Flask("t"), settings, build_sources(settings), clock=lambda: GOLDEN)
    view = tv.compute_view(services.live, settings, DISTRICT, GOLDEN)
    assert view.day.kind == "golden"
    assert not isinstance(view.areas, tv.Failed) and len(view.areas) == 7
    top = view.areas[0]
    assert top.spot_id == "spot-01" and top.alarm == "warning" and top.ratio is not None and top.ratio >= 0.8
    assert top.forecast is not None and top.forecast.crossing == GOLDEN  # already above 80 %
    bt = top.forecast.backtest
    assert bt.mape is not None and bt.naive_mape is not None and bt.mape < bt.naive_mape
    assert all(
        lo is not None and lo <= v <= hi
        for lo, v, hi in zip(top.forecast.low, top.forecast.values, top.forecast.high, strict=True)
    )  # type: ignore[operator]
    assert len(top.diversions) == 3 and all(d.ratio < 0.7 for d in top.diversions)
    assert not isinstance(view.nearby, tv.Failed)
    assert {n.kind for n in view.nearby["spot-01"]} == {"entrance", "parking"}
    # The layout builders take every panel of it, in both modes.
    for mode in ("normal", "holiday"):
        for lang in ("zh-CN", "en"):
            out = layout.panel_outputs(view, lang, DISTRICT, mode, settings.tourism)
            assert len(out) == len(layout.OUTPUTS)
    town = tv.compute_view(services.live, settings, Scope("town", "370406103"), GOLDEN)  # 北庄镇
    assert not isinstance(town.areas, tv.Failed) and [r.spot_id for r in town.areas] == ["spot-01"]
    # Diversion looks beyond the scope: the nearest areas with room are in other towns.
    assert town.areas[0].diversions == top.diversions
    figure = layout.forecast_figure(top, top.capacity, "zh-CN", 0.8, 1.0)
    assert len(figure["data"]) == 5
    assert "MAPE" in layout.forecast_note(top, "zh-CN")


def test_layout_helpers() -> None:
    assert layout.mode_of("?mode=holiday&scope=district") == "holiday"
    assert layout.mode_of("?mode=other") == "normal" and layout.mode_of(None) == "normal"
    assert layout.scene_href(DISTRICT, "normal") == "/tourism"
    assert layout.scene_href(Scope("town", "370406001"), "holiday") == "/tourism?scope=town%3A370406001&mode=holiday"
    assert layout.forecast_figure(None, 1, "en", 0.8, 1.0)["data"] == []
    assert layout.forecast_note(None, "en") == "Not enough history to forecast"


@pytest.mark.parametrize(("lang", "mode"), [("zh-CN", "normal"), ("en", "holiday")])
def test_the_frame_holds_every_output(lang: str, mode: str) -> None:
    from dashboard.layers import LAYER_NAMES

    frame = layout.tourism(
        lang, DISTRICT, mode, dict.fromkeys(LAYER_NAMES, ""), [[34.9, 117.2], [35.3, 117.7]], None, [], [], rules()
    )
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(getattr(node, "id", None), str):
            found.add(node.id)  # type: ignore[attr-defined]
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None and not isinstance(child, str):
                walk(child)

    walk(frame)
    assert {component for component, _ in layout.OUTPUTS} <= found
    assert "tour-holiday" in frame.className if mode == "holiday" else "tour-holiday" not in frame.className


def test_the_live_loop_raises_crowding_events_once_per_crossing(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    from dashboard import simulation
    from datasources.kinds.sql import SqlOptions, SqlSource
    from datasources.synthetic import SyntheticDistrict

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'golden.db'}"))
    district = SyntheticDistrict()
    for feed in ("towns", "villages", "scenic_spots"):
        store.write(feed, district.static(feed), now=GOLDEN)
    store.write("visitor_counts", district.series("visitor_counts", MIDNIGHT, GOLDEN), now=GOLDEN)
    rule = simulation.tourism_rules(store, make_settings())
    written = rule(GOLDEN)
    events = store.read("events", start=MIDNIGHT, end=GOLDEN).frame
    assert written == len(events) >= 1
    assert set(events["domain"]) == {"tourism"} and events["town_code"].notna().all()
    assert "熊耳山" in " ".join(events["title"])
    assert rule(GOLDEN) == 0  # no new counts: the rule does not run
    simulation.tourism_rules(store, make_settings())(GOLDEN)  # a fresh process rewrites the same ids
    assert len(store.read("events", start=MIDNIGHT, end=GOLDEN).frame) == len(events)


def test_a_failing_counts_feed_fails_the_panels_not_the_scene(make_settings) -> None:  # type: ignore[no-untyped-def]
    from flask import Flask

    from dashboard.services import Services
    from dashboard.sources import build_sources
    from datasources.contracts import FEEDS

    feeds = {f: "sim" for f in FEEDS if f != "events"} | {"visitor_counts": "bad"}
    settings = make_settings(
        sources={
            "sim": {"kind": "synthetic"},
            "bad": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
        },
        feeds=feeds,
    )
    services = Services.create(Flask("t"), settings, build_sources(settings), clock=lambda: GOLDEN)
    view = tv.compute_view(services.live, settings, DISTRICT, GOLDEN)
    assert isinstance(view.areas, tv.Failed) and view.day.kind == "golden"
    out = layout.panel_outputs(view, "zh-CN", DISTRICT, "holiday", settings.tourism)
    assert [getattr(o, "children", None) for o in out[:4]] == ["数据源异常"] * 4
    assert out[5] == []
