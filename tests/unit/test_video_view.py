"""The video scene's computations: placement advisor, offline list, per-area tables, the CSV route."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from dashboard.domain import video
from dashboard.scope import DISTRICT, Scope
from dashboard.video_view import (
    CoveragePanel,
    HealthPanel,
    OfflinePanel,
    clamp_sites,
    compute_view,
    human_duration,
    neighbours,
    offline_panel,
    place_cameras,
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

# ---- placement advisor --------------------------------------------------------------------------------

#: Three clusters: {0, 100, 200}, {1000, 1100} and {5000}; at 150 m the best single site is x=100 (3 places).
LAYOUT = [0.0, 100.0, 200.0, 1000.0, 1100.0, 5000.0]


def test_greedy_picks_the_biggest_clusters_in_order() -> None:
    places = line(LAYOUT)
    sites = place_cameras(places, places, NONE, 2, radius_m=150)
    assert list(sites["place_id"]) == ["p1", "p3"]  # x=100 covers 3; x=1000 (first of the tie with 1100) covers 2
    assert list(sites["gain"]) == [3, 2]
    assert list(sites["covered"]) == [3, 5]
    assert sites["coverage_rate"].tolist() == pytest.approx([3 / 6, 5 / 6])


def test_greedy_stops_when_nothing_is_left_to_cover() -> None:
    places = line(LAYOUT)
    sites = place_cameras(places, places, NONE, 10, radius_m=150)
    assert list(sites["gain"]) == [3, 2, 1]
    assert sites["coverage_rate"].iloc[-1] == pytest.approx(1.0)


def test_places_already_covered_by_a_working_camera_add_nothing() -> None:
    places = line(LAYOUT)
    sites = place_cameras(places, places, cameras_at([5000.0]), 10, radius_m=150)
    assert list(sites["gain"]) == [3, 2]
    assert list(sites["covered"]) == [4, 6]  # the camera at 5000 already covers one place


def test_a_broken_camera_covers_nothing() -> None:
    places = line(LAYOUT)
    sites = place_cameras(places, places, cameras_at([5000.0], status="fault"), 10, radius_m=150)
    assert list(sites["gain"]) == [3, 2, 1]


def test_per_place_radius_wins_over_the_default() -> None:
    places = line([0.0, 120.0]).assign(radius_m=[50.0, 200.0])
    # From x=0 the place at 120 is within its own 200 m; from x=120 the place at 0 is outside its own 50 m.
    assert [list(n) for n in neighbours(places, places, 100.0)] == [[0, 1], [1]]
    assert list(place_cameras(places, places, NONE, 5)["place_id"]) == ["p0"]


def test_zero_sites_and_no_candidates() -> None:
    places = line(LAYOUT)
    assert place_cameras(places, places, NONE, 0, radius_m=150).empty
    assert place_cameras(places.iloc[0:0], places, NONE, 5, radius_m=150).empty
    with pytest.raises(ValueError):
        place_cameras(places, places, NONE, -1)


def _best(lists: list[set[int]], n: int) -> int:
    return max(len(set().union(*combo)) for combo in itertools.combinations(lists, min(n, len(lists))))


@pytest.mark.parametrize("seed", range(12))
def test_greedy_against_exhaustive_search(seed: int) -> None:
    """Gains never grow, no site twice, and the total is within (1 − 1/e) of the best possible."""
    rng = np.random.default_rng(seed)
    places = line(sorted(rng.uniform(0, 2000, 14).tolist()))
    n = int(rng.integers(1, 5))
    sites = place_cameras(places, places, NONE, n, radius_m=250)
    gains = sites["gain"].tolist()
    assert gains == sorted(gains, reverse=True)
    assert sites["place_id"].is_unique
    reach = [set(map(int, members)) for members in neighbours(places, places, 250.0)]
    best = _best(reach, n)
    assert sum(gains) >= (1 - 1 / math.e) * best
    assert sum(gains) == len(set().union(*(reach[int(p[1:])] for p in sites["place_id"])))


def test_neighbours_agree_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    places = line(rng.uniform(0, 3000, 60).tolist())
    sites = line(rng.uniform(0, 3000, 25).tolist(), "s")
    xs = X0 + np.asarray(_TO_LONLAT.transform(places["lon"], places["lat"], direction="INVERSE")[0])
    sx = X0 + np.asarray(_TO_LONLAT.transform(sites["lon"], sites["lat"], direction="INVERSE")[0])
    expected = [sorted(np.flatnonzero(np.abs(xs - x) <= 180.0).tolist()) for x in sx]
    assert [sorted(n.tolist()) for n in neighbours(sites, places, 180.0)] == expected


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
