"""The transport scene's view over the seeded store at NOW (Sunday 12:00): every panel at every scope, bad pings
set aside with a report, a failing feed failing only its panels."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from dashboard import transport_view as tv
from dashboard.live import Failed
from dashboard.scope import DISTRICT, Scope
from dashboard.timeutil import TZ
from datasources.kinds.sql import SqlOptions, SqlSource
from layouts import ids
from layouts import transport as trn_layout
from tests.conftest import NOW

SHANCHENG = Scope("town", "370406001")
L01 = Scope("asset", "L01", "bus_lines")


def panels(view: tv.TransportView) -> tuple[object, ...]:
    return (view.buses, view.stops, view.tpi, view.worst, view.parking)


def test_district_view(services_at_now) -> None:  # type: ignore[no-untyped-def]
    view = tv.compute_view(services_at_now().live, DISTRICT, NOW)
    assert not any(isinstance(p, Failed) for p in panels(view))
    buses = view.buses
    assert isinstance(buses, tv.BusPanel)
    assert len(buses.lines) == 20 and buses.total.scheduled == sum(r.scheduled for r in buses.lines)
    assert 0 < buses.total.in_service <= buses.total.scheduled
    assert buses.total.on_time is not None and 0 <= buses.total.on_time <= 1
    assert buses.total.coverage is not None and 0 < buses.total.coverage <= 1
    assert buses.flagged == () and buses.rejected == 0
    assert len(buses.vehicles) == tv.MAX_VEHICLES
    loads = [v.load for v in buses.vehicles]
    assert loads == sorted(loads, reverse=True) or any(v.crowded for v in buses.vehicles)
    tpi = view.tpi
    assert isinstance(tpi, tv.TpiPanel) and tpi.value is not None and tpi.level is not None
    assert len(tpi.today) == len(tpi.last_week) == len(tpi.hours) == 24
    assert tpi.today[-1] is not None and all(v is None for v in tpi.last_week)  # the store holds 3 days
    assert isinstance(view.worst, tuple) and len(view.worst) == tv.MAX_WORST
    assert [w.level for w in view.worst] == sorted((w.level for w in view.worst), reverse=True)
    parking = view.parking
    assert isinstance(parking, tv.ParkingPanel) and parking.total.lots == 25 == parking.total.reporting
    assert parking.total.free + parking.total.occupied == parking.total.capacity
    assert isinstance(view.stops, tuple) and len(view.stops) == 271


def test_town_and_asset_scopes(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    district = tv.compute_view(live, DISTRICT, NOW)
    town = tv.compute_view(live, SHANCHENG, NOW)
    assert isinstance(town.buses, tv.BusPanel) and isinstance(district.buses, tv.BusPanel)
    assert 0 < len(town.buses.lines) < len(district.buses.lines)
    assert isinstance(town.parking, tv.ParkingPanel) and 0 < town.parking.total.lots < 25
    line = tv.compute_view(live, L01, NOW)
    assert isinstance(line.buses, tv.BusPanel) and [r.line_id for r in line.buses.lines] == ["L01"]
    ids = [v.vehicle_id for v in line.buses.vehicles]
    assert ids == sorted(ids) and all(i.startswith("L01-") for i in ids) and len(ids) == 6
    assert isinstance(line.stops, tuple) and all(s.label.startswith("1路 · ") for s in line.stops)
    segment = tv.compute_view(live, Scope("asset", "seg-0001", "road_segments"), NOW)
    assert isinstance(segment.worst, tuple) and [w.segment_id for w in segment.worst] == ["seg-0001"]
    assert isinstance(segment.buses, tv.BusPanel) and segment.buses.lines == ()
    lot = tv.compute_view(live, Scope("asset", "P01", "parking_lots"), NOW)
    assert isinstance(lot.parking, tv.ParkingPanel) and [r.lot_id for r in lot.parking.lots] == ["P01"]


def test_tpi_from_cached_closed_hours_equals_the_full_computation(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    segs, speeds = live.rows("road_segments").frame, live.rows("segment_speeds").frame  # type: ignore[union-attr]
    full = tv.tpi_panel(segs, speeds, NOW)
    closed, _ = tv.tpi_curves(live, DISTRICT, segs, speeds, NOW)
    assert tv.tpi_panel(segs, speeds, NOW, closed) == full


def test_accidents_arrivals_and_a_trip(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    week = tv.accidents_view(live, DISTRICT, NOW, 7)
    assert isinstance(week, tv.AccidentPanel) and week.total == sum(week.by_severity)
    assert len(week.weeks) == len(week.weekly) == tv.TREND_WEEKS
    assert sum(map(sum, week.weekly)) >= week.total - sum(week.weekly[-1]) >= 0
    with pytest.raises(ValueError):
        tv.accidents_view(live, DISTRICT, NOW, 5)
    arrivals = tv.arrivals_view(live, "L01-S04", NOW)
    assert isinstance(arrivals, tv.ArrivalPanel) and arrivals.line_name == "1路"
    etas = [a.eta_s for a in arrivals.arrivals]
    assert etas and etas == sorted(etas)
    assert tv.arrivals_view(live, "nowhere", NOW) is None
    trip = tv.trip_view(live, "L01-V002", NOW)
    assert isinstance(trip, tv.Trip) and trip.line_id == "L01"
    times = [p.at for p in trip.points]
    assert times == sorted(times) and len(times) > 60  # a point a minute since 06:00
    assert min(times) >= pd.Timestamp(NOW).tz_convert("Asia/Shanghai").normalize()
    assert tv.trip_view(live, "nobody", NOW) is None


def test_bad_pings_are_rejected_or_set_aside_and_the_scene_renders(services_at_now, seeded_copy) -> None:  # type: ignore[no-untyped-def]
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    at = pd.Timestamp(NOW - timedelta(seconds=5))
    good = {"line_id": "L01", "speed_kmh": 20.0, "on_board": 10, "capacity": 60, "delay_s": 0, "ts": at}
    rows = pd.DataFrame(
        [
            good | {"vehicle_id": "X-FAST", "lon": 117.45, "lat": 35.096, "speed_kmh": 250.0},  # contract: > 120
            good | {"vehicle_id": "X-NEG", "lon": 117.45, "lat": 35.096, "speed_kmh": -3.0},  # contract: < 0
            good | {"vehicle_id": "X-FAR", "lon": 118.5, "lat": 35.096},  # contract: outside the district's box
            good | {"vehicle_id": "X-DUP", "lon": 117.45, "lat": 35.0965},  # contract: a later row supersedes it
            good | {"vehicle_id": "X-DUP", "lon": 117.45, "lat": 35.0965},
            good | {"vehicle_id": "X-OFF", "lon": 117.45, "lat": 35.12},  # ≈ 2.6 km off line L01
            good | {"vehicle_id": "X-GHOST", "lon": 117.45, "lat": 35.0965, "line_id": "L99"},  # no such line
            good | {"vehicle_id": "X-EAST", "lon": 117.25, "lat": 35.30},  # in the box, outside the outline
        ]
    )
    report = store.write("bus_positions", rows, now=NOW).report
    reasons = {r.row: r.reason for r in report.sample}
    assert report.rejected == 4 and set(reasons) == {0, 1, 2, 3}
    assert "above the allowed maximum" in reasons[0] and "below the allowed minimum" in reasons[1]
    assert "duplicate key" in reasons[3]
    store.engine.dispose()
    view = tv.compute_view(services_at_now().live, DISTRICT, NOW)
    assert not any(isinstance(p, Failed) for p in panels(view))
    assert isinstance(view.buses, tv.BusPanel)
    assert dict(view.buses.flagged) == {"off_route": 1, "unknown_line": 1, "outside_district": 1}
    l01 = next(r for r in view.buses.lines if r.line_id == "L01")
    assert l01.in_service == 7  # its 6 vehicles and X-DUP's one surviving ping


def test_a_failing_bus_feed_fails_only_the_bus_panels(services_at_now) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now(
        sources={"gps": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"bus_positions": "gps"},
    )
    view = tv.compute_view(s.live, DISTRICT, NOW)
    assert isinstance(view.buses, Failed) and view.buses.feed == "bus_positions"
    assert not isinstance(view.stops, Failed)  # stops come from the store: the dropdown still fills
    for panel in (view.tpi, view.worst, view.parking):
        assert not isinstance(panel, Failed)
    assert isinstance(tv.arrivals_view(s.live, "L01-S04", NOW), Failed)
    assert isinstance(tv.trip_view(s.live, "L01-V002", NOW), Failed)


def test_a_trip_is_the_same_whatever_zone_now_is_given_in(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    utc = tv.trip_view(live, "L01-V003", NOW)
    local = tv.trip_view(live, "L01-V003", NOW.astimezone(TZ))
    assert isinstance(utc, tv.Trip) and utc == local


# ---- the fleet (screening and vehicle states) kept across scopes and refreshes -------------------------


def _frames(live):  # type: ignore[no-untyped-def]
    return {feed: live.rows(feed).frame for feed in ("bus_positions", "bus_lines", "bus_stops")}


def assert_same_fleet(got: tv.Fleet, want: tv.Fleet) -> None:
    pd.testing.assert_frame_equal(got.screened.kept, want.screened.kept, check_exact=True)
    pd.testing.assert_frame_equal(got.screened.flagged, want.screened.flagged, check_exact=True)
    pd.testing.assert_frame_equal(got.states, want.states, check_exact=True)


def test_a_kept_fleet_is_what_a_full_screening_of_the_pings_gives_now(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f = _frames(live)
    pings, lines, district = f["bus_positions"], f["bus_lines"], live.areas().outline
    full, computed = tv.fleet_of, []
    monkeypatch.setattr(tv, "fleet_of", lambda *args: computed.append(1) or full(*args))
    screen = tv.screener(live, "all")
    first = screen(pings, lines, district)
    assert_same_fleet(first, full(pings, lines, district))
    assert screen(pings, lines, district) is first and len(computed) == 1  # kept: not screened again
    assert_same_fleet(tv.screener(live, "another")(pings.copy(), lines.copy(), district), first)
    assert len(computed) == 1  # another caller, the same pings: the shared cache answers

    last = pings.sort_values("ts").groupby("vehicle_id").tail(1).iloc[:2]
    appended = pd.concat(
        [
            pings,
            last.assign(ts=last["ts"] + pd.Timedelta(seconds=10), lon=last["lon"] + 0.05),  # 4.5 km in 10 s
            last.iloc[:1].assign(vehicle_id="NEW-1", lat=last["lat"].iloc[0] + 0.02),  # 2.2 km off its line
        ],
        ignore_index=True,
    )
    rewritten = pings.copy()
    rewritten.loc[rewritten.index[5], "lat"] += 0.01  # the same ping (vehicle, time), 1.1 km off its line
    one = pings.index[pings["vehicle_id"] == pings["vehicle_id"].iloc[0]]
    reordered = pings.loc[[*one[1:], one[0], *pings.index.difference(one)]]  # its first ping delivered last
    fuller = pings.assign(on_board=pings["on_board"] + 1)  # no ping moves: only the loads change
    redrawn = lines.assign(
        geometry=[
            shapely.affinity.translate(g, yoff=0.01) if i == "L01" else g
            for i, g in lines[["line_id", "geometry"]].itertuples(index=False)
        ]
    )
    town = shapely.union_all(live.areas().towns["geometry"].to_numpy()[:3])
    for variant in (
        (appended, lines, district),
        (rewritten, lines, district),
        (reordered, lines, district),
        (fuller, lines, district),
        (pings, redrawn, district),
        (pings, lines, town),
    ):
        got = screen(*variant)
        assert_same_fleet(got, full(*variant))
        assert got.screened.counts() != first.screened.counts() or not got.states.equals(first.states)
    assert len(computed) == 7


def test_scope_states_are_the_vehicle_states_of_the_scopes_pings(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f = _frames(live)
    pings = f["bus_positions"].copy()
    switched = pings.index[pings["vehicle_id"] == "L01-V002"][:8]
    pings.loc[switched, "vehicle_id"] = "L02-V001"  # a vehicle on two lines within the window
    fleet = tv.fleet_of(pings, f["bus_lines"], live.areas().outline)
    kept = fleet.screened.kept
    assert kept.loc[kept["vehicle_id"] == "L02-V001", "line_id"].nunique() == 2
    for line_ids in ({"L01"}, {"L02"}, {"L01", "L02"}, set(f["bus_lines"]["line_id"]), {"L99"}):
        for now in (NOW, NOW - timedelta(minutes=4), NOW + timedelta(minutes=1)):
            mine = kept.loc[(kept["ts"] <= pd.Timestamp(now)) & kept["line_id"].isin(line_ids)]
            want = tv.bus.vehicle_states(mine, now)
            pd.testing.assert_frame_equal(tv.scope_states(fleet, line_ids, now), want, check_exact=True)


def test_every_scope_and_stop_shows_what_a_full_screening_gives(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f = _frames(live)
    areas = live.areas()
    district = areas.outline
    for scope in (DISTRICT, SHANCHENG, L01):
        view = tv.compute_view(live, scope, NOW)  # the town after the district: from the kept fleet
        lines = tv.lines_in_scope(f["bus_lines"], f["bus_stops"], scope, areas)
        full = tv.bus_panel(f["bus_positions"], f["bus_lines"], lines, f["bus_stops"], district, scope, NOW)
        assert view.buses == full
    for stop in ("L01-S04", "L01-S01", "L02-S03", "L05-S07"):
        want = tv.arrival_panel(stop, f["bus_positions"], f["bus_lines"], f["bus_stops"], district, NOW)
        assert want is not None and tv.arrivals_view(live, stop, NOW) == want


def test_todays_pings_from_the_kept_closed_join_are_the_spans_read_one_by_one(services_at_now) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    for now in (NOW, NOW - timedelta(minutes=23), NOW - timedelta(minutes=3)):
        at = pd.Timestamp(now)
        midnight, hour, block = at.tz_convert(TZ).normalize().tz_convert("UTC"), at.floor("h"), at.floor("10min")
        starts = [*pd.date_range(midnight, hour, freq="h", inclusive="left")]
        ends = [*starts[1:], hour] if starts else []
        blocks = [*pd.date_range(hour, block, freq="10min", inclusive="left")]
        spans = [*zip(starts, ends, strict=True), *((b, b + pd.Timedelta(minutes=10)) for b in blocks)]
        parts = [tv._read_minutely(live, s.to_pydatetime(), e.to_pydatetime()) for s, e in spans]
        tail = live.rows("bus_positions").frame  # type: ignore[union-attr]
        parts.append(tv._minutely(tail.loc[tail["ts"] > block]))
        want = pd.concat([p for p in parts if len(p)] or [parts[-1]], ignore_index=True)
        assert len(want) > 60
        pd.testing.assert_frame_equal(tv.pings_today(live, now), want, check_exact=True)
        pd.testing.assert_frame_equal(tv.pings_today(live, now), want, check_exact=True)  # from the kept join
        mine = want.loc[want["vehicle_id"] == "L01-V002"].reset_index(drop=True)
        assert len(mine) > 10
        pd.testing.assert_frame_equal(tv.pings_today(live, now, "L01-V002"), mine, check_exact=True)
        # one point a minute, also where the day's spans meet (a ping at 09:00:00 ends the 08:xx hour)
        minutes = want["ts"].dt.ceil("min")
        assert not want.assign(minute=minutes).duplicated(["vehicle_id", "minute"]).any()
        assert (want["ts"] == want["ts"].dt.floor("h")).any()  # pings on the hour are there to meet


def test_a_panel_is_recomputed_when_its_feeds_move_and_not_otherwise(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    live = services.live
    first = tv.compute_view(live, DISTRICT, NOW)
    computed: list[str] = []
    real = tv.panel
    monkeypatch.setattr(tv, "panel", lambda lv, a, feeds, *rest: computed.append(feeds[0]) or real(lv, a, feeds, *rest))
    # Another refresh over the same data in the same minute: every panel as it was, none computed.
    again = tv.compute_view(live, DISTRICT, NOW + timedelta(seconds=5))
    assert computed == [] and panels(again) == panels(first)
    # New pings: the bus panel follows them at once; TPI, worst segments and parking are kept.
    pings = live.rows("bus_positions").frame
    latest = pings.loc[pings["ts"] == pings["ts"].max()].drop(columns=["town_code", "village_code"], errors="ignore")
    moved = latest.assign(ts=pd.Timestamp(NOW + timedelta(seconds=6)), on_board=latest["on_board"].clip(upper=1))
    services.sources.store.write("bus_positions", moved, now=NOW + timedelta(seconds=6), origin="test")
    services.cache.delete("live-versions")
    later = tv.compute_view(live, DISTRICT, NOW + timedelta(seconds=10))
    assert computed == ["bus_positions"]
    assert later.buses != first.buses and (later.tpi, later.worst, later.parking) == (
        first.tpi,
        first.worst,
        first.parking,
    )


def test_a_frame_is_hashed_once_while_it_lives(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f = _frames(live)
    pings, lines, district = f["bus_positions"], f["bus_lines"], live.areas().outline
    hashed, full = [], pd.util.hash_pandas_object
    monkeypatch.setattr(pd.util, "hash_pandas_object", lambda *a, **k: hashed.append(1) or full(*a, **k))
    key = tv.screening_key(pings, lines, district)
    assert tv.screening_key(pings, lines, district) == key and len(hashed) == 1  # the same object: not again
    assert tv.screening_key(pings.copy(), lines, district) == key and len(hashed) == 2  # a copy is hashed
    moved = pings.assign(lat=pings["lat"] + 1e-6)
    assert tv.screening_key(moved, lines, district) != key


def test_each_kind_of_panel_is_renewed_at_its_own_moment_of_the_minute() -> None:
    start = NOW.replace(second=0, microsecond=0)

    def rollovers(name: str) -> list[int]:
        seconds = [start + timedelta(seconds=s) for s in range(61)]
        buckets = [tv.panel_bucket(name, t, tv.PANEL_BUCKET_S) for t in seconds]
        return [s for s in range(1, 61) if buckets[s] != buckets[s - 1]]

    moments = {kind: rollovers(f"{kind}:district") for kind in tv.PANEL_KINDS}
    assert all(len(m) == 1 for m in moments.values()), moments  # once a minute
    assert len({m[0] for m in moments.values()}) == len(tv.PANEL_KINDS)  # never two kinds in the same second
    assert rollovers("accidents:town:370406001:7") == moments["accidents"]  # by kind, whatever the scope


# ---- a page is sent only the panels that changed -------------------------------------------------------


def test_a_page_is_sent_only_the_panels_whose_values_changed(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dash import no_update

    from layouts import transport as trn_layout

    view = tv.compute_view(services_at_now().live, DISTRICT, NOW)
    first, shown = trn_layout.panel_update(view, "zh", DISTRICT, None, None)
    assert no_update not in first and len(first) == len(trn_layout.OUTPUTS)  # a new page: every panel
    again, same = trn_layout.panel_update(view, "zh", DISTRICT, None, shown)
    assert again == [no_update] * len(trn_layout.OUTPUTS) and same is no_update
    busier = replace(view, buses=replace(view.buses, rejected=view.buses.rejected + 1))
    moved, now_shown = trn_layout.panel_update(busier, "zh", DISTRICT, None, shown)
    assert [o is not no_update for o in moved] == [True, True, False, False, False, False]  # the bus tables only
    assert now_shown != shown and now_shown.split()[2:] == shown.split()[2:]
    assert no_update not in trn_layout.panel_update(view, "en", DISTRICT, None, shown)[0]  # another language
    vehicle = trn_layout.panel_update(view, "zh", DISTRICT, "L01-V002", shown)[0]
    assert [o is not no_update for o in vehicle][:2] == [True, True]


def test_the_scene_callback_sends_a_page_what_it_does_not_show_yet(app_at_now) -> None:  # type: ignore[no-untyped-def]
    from layouts import transport as trn_layout

    client = app_at_now().server.test_client()
    outputs = [{"id": c, "property": p} for c, p in trn_layout.OUTPUTS]
    outputs.append({"id": ids.TRN_SHOWN, "property": "children"})

    def refresh(shown: object) -> tuple[int, dict]:  # type: ignore[type-arg]
        body = {
            "output": ".." + "...".join(f"{o['id']}.{o['property']}" for o in outputs) + "..",
            "outputs": outputs,
            "inputs": [
                {"id": ids.REFRESH, "property": "n_intervals", "value": 1},
                {"id": ids.URL, "property": "search", "value": ""},
            ],
            "state": [{"id": ids.TRN_SHOWN, "property": "children", "value": shown}],
            "changedPropIds": [f"{ids.REFRESH}.n_intervals"],
        }
        resp = client.post("/_dash-update-component", json=body)
        return resp.status_code, (resp.get_json() or {}).get("response", {}) if resp.status_code == 200 else {}

    status, answer = refresh(None)
    assert status == 200 and set(answer) == {c for c, _ in trn_layout.OUTPUTS} | {ids.TRN_SHOWN}
    record = answer[ids.TRN_SHOWN]["children"]
    assert refresh(record)[1] == {}  # the page shows all of it already: nothing sent
    status, partial = refresh(" ".join([*record.split()[:5], "something-else"]))
    assert status == 200 and set(partial) == {ids.TRN_PARKING, ids.TRN_SHOWN}
    assert refresh({"not": "a record"})[1].keys() == answer.keys()  # anything else: filled whole


def test_a_slid_window_places_only_its_new_pings_and_screens_as_a_full_screening(services_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f = _frames(live)
    pings, lines, district = f["bus_positions"], f["bus_lines"], live.areas().outline
    screen = tv.screener(live, "slide")
    placed_rows, full_placement = [], tv.bus.placement

    def screened(frame: pd.DataFrame, outline: shapely.Geometry = district) -> list[int]:
        """The rows placed to screen ``frame``; and the fleet is what a full screening gives."""
        placed_rows.clear()
        with monkeypatch.context() as m:
            m.setattr(tv.bus, "placement", lambda p, *a: placed_rows.append(len(p)) or full_placement(p, *a))
            got = screen(frame, lines, outline)
        assert_same_fleet(got, tv.fleet_of(frame, lines, outline))
        return list(placed_rows)

    assert screened(pings.iloc[:-40]) == [len(pings) - 40]
    last = pings.iloc[-40:]
    slid = pd.concat(  # the oldest 30 pings gone, the next 40 arrived, one of them 1.1 km off its line
        [pings.iloc[30:-40], last.assign(lat=last["lat"].where(last.index != last.index[3], last["lat"] + 0.01))],
        ignore_index=True,
    )
    assert screened(slid) == [40]  # only the new pings
    assert tv.fleet_of(slid, lines, district).screened.counts().get("off_route", 0) >= 1
    rewritten = slid.assign(lon=slid["lon"].where(slid.index != 5, slid["lon"] + 0.02))  # an old ping changed
    assert screened(rewritten) == [len(rewritten)]  # placed whole
    assert screened(slid, district.buffer(-0.05)) == [len(slid)]  # another outline: placed whole


def test_a_minutely_trip_keeps_each_vehicles_last_ping_of_each_minute_in_delivery_order() -> None:
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-11-30T04:00:00Z")
    frame = pd.DataFrame(
        {
            "vehicle_id": rng.choice(["L01-V001", "L01-V002", "L02-V001"], 400),
            "ts": start + pd.to_timedelta(rng.integers(0, 1800, 400), unit="s"),
            "line_id": "L01",
            "on_board": rng.integers(0, 60, 400),
            "capacity": 60,
            "delay_s": rng.integers(-60, 300, 400),
            "speed_kmh": 20.0,
        }
    )
    want = frame.assign(minute=frame["ts"].dt.ceil("min")).drop_duplicates(["vehicle_id", "minute"], keep="last")
    got = tv._minutely(frame)
    pd.testing.assert_frame_equal(got, want[list(got.columns)], check_exact=True)
    assert 60 < len(got) < 400 and tv._minutely(frame.iloc[0:0]).empty


def test_a_frame_memo_computes_once_per_frame_object_and_forgets_collected_ones() -> None:
    calls: list[int] = []
    memo = tv.FrameMemo(lambda a, b: calls.append(1) or len(a) + len(b))
    a, b = pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]})
    assert memo(a, b) == 3 and memo(a, b) == 3 and len(calls) == 1
    assert memo(a.copy(), b) == 3 and len(calls) == 2  # equal values, another object: computed again
    del a
    gc.collect()
    memo(pd.DataFrame({"x": [0]}), b)
    assert len(memo._held) == 1  # the collected frames' entries went with them


def test_lines_without_vehicles_show_no_coverage_outside_the_service_day_and_none_covered_in_it(
    services_at_now,
) -> None:  # type: ignore[no-untyped-def]
    live = services_at_now().live
    f, areas = _frames(live), live.areas()
    lines, stops = f["bus_lines"], f["bus_stops"]
    none = f["bus_positions"].iloc[0:0]
    night = datetime(2026, 11, 29, 21, 30, tzinfo=TZ)  # after the assumed timetable's 21:00
    day = datetime(2026, 11, 29, 14, 0, tzinfo=TZ)
    idle = tv.bus_panel(none, lines, lines, stops, areas.outline, DISTRICT, night)
    assert idle.idle and {r.coverage for r in idle.lines} == {None} and idle.total.coverage is None
    assert [r.scheduled for r in idle.lines] == lines.sort_values("line_id")["scheduled_vehicles"].tolist()
    served = tv.bus_panel(none, lines, lines, stops, areas.outline, DISTRICT, day)
    assert not served.idle and {r.coverage for r in served.lines} == {0.0} and served.total.coverage == 0.0
    html = str(trn_layout.lines_table(idle, "zh-CN", DISTRICT))
    assert "非运营时段（运营 06:00–21:00，假设时刻表）" in html and "非运营时段" not in str(
        trn_layout.lines_table(served, "zh-CN", DISTRICT)
    )
    with_vehicles = tv.bus_panel(f["bus_positions"], lines, lines, stops, areas.outline, DISTRICT, NOW)
    assert all(r.coverage is not None for r in with_vehicles.lines if r.in_service)


def test_the_weekly_accident_chart_counts_from_zero_in_whole_numbers(services_at_now) -> None:  # type: ignore[no-untyped-def]
    panel = tv.accidents_view(services_at_now().live, DISTRICT, NOW, 7)
    assert isinstance(panel, tv.AccidentPanel) and any(sum(w) for w in panel.weekly)
    none = replace(panel, weekly=tuple(tuple(0 for _ in w) for w in panel.weekly))
    axis = trn_layout.weekly_figure(none, "zh-CN")["layout"]["yaxis"]
    assert axis["range"] == [0, 1.05] and axis["dtick"] == 1
    many = replace(panel, weekly=tuple(tuple(10 for _ in w) for w in panel.weekly))
    axis = trn_layout.weekly_figure(many, "zh-CN")["layout"]["yaxis"]
    assert axis["rangemode"] == "tozero" and "dtick" not in axis and "range" not in axis
