"""The video scene's computations: placement advisor, offline list, per-area tables, the CSV route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from dashboard.domain import video
from dashboard.live import Failed
from dashboard.scope import DISTRICT, Scope
from dashboard.video_view import (
    CoveragePanel,
    HealthPanel,
    OfflinePanel,
    TrendPanel,
    clamp_sites,
    compute_view,
    district_grid,
    human_duration,
    offline_panel,
    scope_frames,
)

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
_TO_LONLAT = Transformer.from_crs(video.METRIC_CRS, video.GEOGRAPHIC_CRS, always_xy=True)
#: A point inside the district (EPSG:4548 metres) the 1-D layouts are laid out east of.
X0, Y0 = 500_000.0, 3_880_000.0


def line(xs: list[float], prefix: str = "p") -> pd.DataFrame:
    """Places at ground offsets ``xs`` (metres, west→east) on one parallel."""
    lon, lat = _TO_LONLAT.transform(np.asarray(xs) + X0, np.full(len(xs), Y0))
    return pd.DataFrame(
        {
            "place_id": [f"{prefix}{i}" for i in range(len(xs))],
            "lon": lon,
            "lat": lat,
            "town_code": "370406001",
            "village_code": "370406001001",
        }
    )


def cameras_at(xs: list[float], status: str = "online") -> pd.DataFrame:
    frame = line(xs, "c").rename(columns={"place_id": "camera_id"})
    return frame.assign(status=status, system="xueliang", hd=True, networked=True, status_since=pd.NaT)


NONE = cameras_at([])

# ---- offline list and small helpers -------------------------------------------------------------------


def test_offline_list_longest_down_first_with_the_rest_counted() -> None:
    cams = cameras_at([0, 10, 20, 30, 40])
    cams["status"] = ["online", "offline", "fault", "offline", "offline"]
    cams["status_since"] = [NOW - timedelta(days=9), NOW - timedelta(hours=3), NOW - timedelta(days=2), pd.NaT, NOW]
    cams["status_since"] = pd.to_datetime(cams["status_since"], utc=True)

    class NoAreas:
        towns = pd.DataFrame({"town_code": ["370406001"], "name": ["山城街道"]})

    panel = offline_panel(cams, NoAreas(), NOW, limit=3)  # type: ignore[arg-type]
    assert panel.total == 4
    assert [r.camera_id for r in panel.rows] == ["c2", "c1", "c4"]
    assert [human_duration(r.down_s, "zh-CN") for r in panel.rows] == ["2天", "3小时", "0分钟"]
    assert panel.rows[0].town_name == "山城街道"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [(None, "—", "—"), (59 * 60, "59分钟", "59 min"), (3 * 3600, "3小时", "3 h"), (47 * 3600, "47小时", "47 h"),
     (2 * 86400, "2天", "2 d")],
)  # fmt: skip
def test_human_duration(seconds: float | None, zh: str, en: str) -> None:
    assert human_duration(seconds, "zh-CN") == zh
    assert human_duration(seconds, "en") == en


@pytest.mark.parametrize(("value", "n"), [(10, 10), ("7", 7), (1, 1), (200, 200), (0, None), (201, None),
                                          (2.5, None), (None, None), ("x", None)])  # fmt: skip
def test_clamp_sites(value: object, n: int | None) -> None:
    assert clamp_sites(value) == n


# ---- the whole view over the seeded district ----------------------------------------------------------


def test_view_tables_add_up_at_the_district(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    view = compute_view(services.live, DISTRICT, NOW)
    assert isinstance(view.health, HealthPanel) and isinstance(view.coverage, CoveragePanel)
    assert isinstance(view.offline, OfflinePanel)
    assert len(view.health.areas) == 10 and len(view.coverage.areas) == 10
    assert sum(a.total for a in view.health.areas) == view.health.summary.total
    assert sum(a.places for a in view.coverage.areas) == view.coverage.places
    assert sum(a.covered for a in view.coverage.areas) == view.coverage.covered
    assert view.coverage.uncovered_total == view.coverage.places - view.coverage.covered
    assert sum(s.total for s in view.health.systems) == view.health.summary.total
    assert view.offline.total == view.health.summary.offline + view.health.summary.fault
    # Worst first: by the largest shortfall of any of the three rates against its target (98 %, 100 %, 100 %).
    shortfall = [
        max(0.98 - (a.working_rate or 0), 1 - (a.networking_rate or 0), 1 - (a.hd_share or 0))
        for a in view.health.areas
    ]
    assert shortfall == sorted(shortfall, reverse=True)
    rates = [a.rate or 0 for a in view.coverage.areas]
    assert rates == sorted(rates)


def test_view_at_a_town_lists_its_villages(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    town = Scope("town", "370406001")
    view = compute_view(services.live, town, NOW)
    assert isinstance(view.health, HealthPanel) and isinstance(view.coverage, CoveragePanel)
    assert {a.level for a in view.health.areas} == {"village"}
    assert all(a.code.startswith("370406001") for a in view.coverage.areas)
    assert sum(a.places for a in view.coverage.areas) == view.coverage.places


def test_a_camera_scope_shows_that_camera(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    cameras = services.live.rows("cameras").frame
    places = services.live.rows("key_places").frame
    cam = str(cameras["camera_id"].iloc[0])
    one, near = scope_frames(cameras, places, Scope("asset", cam, "cameras"), services.live.areas())
    assert list(one["camera_id"]) == [cam]
    assert set(near["village_code"]) <= set(one["village_code"])
    view = compute_view(services.live, Scope("asset", cam, "cameras"), NOW)
    assert isinstance(view.health, HealthPanel) and view.health.summary.total == 1


# ---- the CSV route ------------------------------------------------------------------------------------


def test_camera_sites_csv(app_at_now) -> None:  # type: ignore[no-untyped-def]
    client = app_at_now().server.test_client()
    got = client.get("/export/camera-sites.csv?scope=district&n=5")
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].endswith('camera-sites-district.csv"')
    lines = got.data.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("rank,place_id,name,category")
    assert 1 <= len(lines) - 1 <= 5


@pytest.mark.parametrize("n", ["0", "501", "x", "-3", "2.5"])
def test_camera_sites_csv_rejects_bad_n(app_at_now, n: str) -> None:  # type: ignore[no-untyped-def]
    assert app_at_now().server.test_client().get(f"/export/camera-sites.csv?n={n}").status_code == 400


def test_camera_sites_csv_rejects_bad_scope(app_at_now) -> None:  # type: ignore[no-untyped-def]
    assert app_at_now().server.test_client().get("/export/camera-sites.csv?scope=town:1").status_code == 400


# ---- blind spots, the trend and the advisor's map features --------------------------------------------------------


def test_blind_spots_at_district_and_town(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dashboard import layers
    from dashboard.domain.video import blind_cells

    services = services_at_now()
    live, settings = services.live, services.settings
    everywhere = layers.build("blindspots", live, settings, DISTRICT, NOW)["features"]
    town = layers.build("blindspots", live, settings, Scope("town", "370406001"), NOW)["features"]
    kinds = {f["properties"]["kind"] for f in everywhere}
    assert kinds == {"cell", "place"}
    cells = [f for f in everywhere if f["properties"]["kind"] == "cell"]
    assert all(f["properties"]["population"] >= settings.video.min_population - 0.5 for f in cells)
    assert all("id" not in f["properties"] for f in cells)  # a click on a cell drills nowhere
    assert {f["properties"].get("cell") or f["properties"]["id"] for f in town} < {
        f["properties"].get("cell") or f["properties"]["id"] for f in everywhere
    }
    # The layer's places are exactly the coverage panel's uncovered ones; its cells the blind cells of the grid.
    view = compute_view(live, DISTRICT, NOW)
    assert isinstance(view.coverage, CoveragePanel)
    assert sum(f["properties"]["kind"] == "place" for f in everywhere) == view.coverage.uncovered_total
    grid = district_grid(live.areas(), settings.video)
    cameras = live.rows("cameras").frame
    flagged = blind_cells(grid, cameras, settings.video.radius_m, settings.video.min_population)
    assert len(cells) == int(flagged["blind"].sum()) > 0


def test_blind_spot_rules_are_settings(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dashboard import layers

    def cells(**video: float) -> int:
        s = services_at_now(video=video)
        fc = layers.build("blindspots", s.live, s.settings, DISTRICT, NOW)["features"]
        return sum(f["properties"]["kind"] == "cell" for f in fc)

    base = cells()
    assert cells(min_population=400) < base  # fewer cells count as populated
    assert cells(radius_m=400) < base  # cameras watch further


def test_daily_trend_ends_with_today_s_health(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    for scope in (DISTRICT, Scope("town", "370406103")):
        view = compute_view(services.live, scope, NOW)
        assert isinstance(view.trend, TrendPanel) and isinstance(view.health, HealthPanel)
        assert [d.day.isoformat() for d in view.trend.days] == ["2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"]
        today = view.trend.days[-1]
        # Today's row was sampled at NOW, the same instant the camera feed shows.
        assert today.cameras == view.health.summary.total
        assert today.working_rate == pytest.approx(view.health.summary.working_rate)
        assert today.networking_rate == pytest.approx(view.health.summary.networking_rate)


def test_daily_trend_of_a_camera_is_its_village_s(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    cameras = services.live.rows("cameras").frame
    cam = cameras.iloc[5]
    asset = compute_view(services.live, Scope("asset", str(cam["camera_id"]), "cameras"), NOW).trend
    village = compute_view(services.live, Scope("village", str(cam["village_code"])), NOW).trend
    assert isinstance(asset, TrendPanel) and asset == village and asset.days


def test_trend_panel_of_a_failing_feed_fails_alone(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now(
        sources={"daily": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"camera_status_daily": "daily"},
    )
    view = compute_view(services.live, DISTRICT, NOW)
    assert isinstance(view.trend, Failed) and isinstance(view.health, HealthPanel)


def test_sites_geojson_numbers_sites_and_rings_what_they_cover() -> None:
    from layouts.video import EMPTY_FC, sites_geojson

    places = line([0.0, 100.0, 200.0, 1000.0, 1100.0])
    sites = video.place_cameras(places, places, NONE, 2, 150).assign(name=["甲", "乙"])
    fc = sites_geojson(sites, places)
    marks = [f["properties"] for f in fc["features"] if f["properties"]["kind"] == "site"]
    rings = [f["properties"] for f in fc["features"] if f["properties"]["kind"] == "covers"]
    got = [(m["rank"], m["id"], m["gain"], m["after"]) for m in marks]
    assert got == [(1, "p1", 3, "60.0%"), (2, "p3", 2, "100.0%")]
    assert sorted(r["site"] for r in rings) == [1, 1, 2]  # the other places each site newly covers
    assert sites_geojson(None) == EMPTY_FC and sites_geojson(Failed("key_places", "x")) == EMPTY_FC


def test_the_video_frame_has_the_blind_spots_sites_and_trend_and_only_there() -> None:
    import dash_leaflet as dl

    from dashboard.layers import LAYER_NAMES
    from layouts import ids
    from layouts.map import district_map
    from layouts.video import OUTPUTS, video

    urls = {name: f"/geo/{name}" for name in LAYER_NAMES}
    bounds = [[34.9, 117.2], [35.3, 117.7]]
    page = video("zh-CN", urls, bounds, None, [("山亭区", "/video")], [], radius_m=80)
    found: dict[str, object] = {}
    for c in page._traverse():
        if isinstance(getattr(c, "id", None), str):
            found[c.id] = c
        if isinstance(c, dl.LayersControl):
            found["control"] = c
    assert {component for component, _ in OUTPUTS} | {ids.VID_SITES, ids.VID_TREND, ids.MAP} <= set(found)
    control = found["control"]
    checked = {  # type: ignore[attr-defined]
        o.children.id["name"] if isinstance(o.children.id, dict) else o.children.id: o.checked for o in control.children
    }
    assert {name for name, on in checked.items() if on} == {"towns", "cameras", "blindspots", ids.VID_SITES}
    notes = [str(c.children) for c in page._traverse() if getattr(c, "className", None) == "vid-note"]
    assert "半径内有在线摄像机（缺省 80 m）" in notes  # the configured radius, not a hard-coded one
    # The overview's map (every layer, shown=None) does not carry the video scene's own layer.
    overview = district_map("zh-CN", urls, bounds, None)
    names = [o.children.id["name"] for c in overview._traverse() if isinstance(c, dl.LayersControl) for o in c.children]
    assert "blindspots" not in names and "cameras" in names
