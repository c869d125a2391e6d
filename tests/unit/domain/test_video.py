"""Video KPIs (REFERENCE.md §5) and key-place coverage; distances are checked against geodesics (pyproj.Geod)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer

from dashboard.domain.video import (
    GEOGRAPHIC_CRS,
    METRIC_CRS,
    TARGETS,
    coverage,
    health,
    health_by,
    neighbours,
    place_cameras,
)

GEOD = Geod(ellps="GRS80")  # CGCS2000 uses the GRS80-equivalent ellipsoid


def cameras_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "camera_id": ["c1", "c2", "c3", "c4", "c5"],
            "lon": [117.45, 117.46, 117.47, 117.48, 117.49],
            "lat": [35.07] * 5,
            "system": ["xueliang", "tianwang", "xueliang", "xueliang", "tianwang"],
            "hd": [True, False, False, False, True],
            "networked": [True, True, True, True, False],
            "status": ["online", "online", "offline", "fault", "online"],
            "town_code": ["T1", "T1", "T2", "T2", None],
            "village_code": ["V1", "V2", "V3", "V3", "V4"],
        }
    )


def test_targets() -> None:
    assert dict(TARGETS) == {
        "coverage": 1.0,
        "hd": 1.0,
        "networking": 1.0,
        "working_key_areas": 0.98,
        "working_key_industries": 0.95,
    }


def test_health_counts_and_rates() -> None:
    got = health(cameras_frame())
    assert (got.total, got.online, got.offline, got.fault, got.networked, got.hd) == (5, 3, 1, 1, 4, 2)
    assert got.working_rate == pytest.approx(0.6)
    assert got.networking_rate == pytest.approx(0.8)
    assert got.hd_share == pytest.approx(0.4)


def test_health_of_no_cameras_has_no_rates() -> None:
    got = health(cameras_frame().iloc[0:0])
    assert got.total == 0
    assert (got.working_rate, got.networking_rate, got.hd_share) == (None, None, None)


def test_health_missing_flag_is_false() -> None:
    frame = cameras_frame().astype({"hd": object})
    frame.loc[0, "hd"] = None
    assert health(frame).hd == 1


def test_health_requires_columns() -> None:
    with pytest.raises(ValueError, match="networked"):
        health(cameras_frame().drop(columns="networked"))


def test_health_by_town() -> None:
    got = health_by(cameras_frame(), "town_code")
    assert list(got.columns) == [
        "town_code",
        "total",
        "online",
        "offline",
        "fault",
        "networked",
        "hd",
        "working_rate",
        "networking_rate",
        "hd_share",
    ]
    assert got["town_code"].iloc[:2].tolist() == ["T1", "T2"]
    assert pd.isna(got["town_code"].iloc[2])  # the camera without a town keeps its own row
    assert got["total"].tolist() == [2, 2, 1]
    assert got["online"].tolist() == [2, 0, 1]
    assert got["working_rate"].tolist() == [1.0, 0.0, 1.0]
    assert got["networking_rate"].tolist() == [1.0, 1.0, 0.0]
    assert got["hd_share"].tolist() == [0.5, 0.0, 1.0]


def test_health_by_village_and_bad_key() -> None:
    got = health_by(cameras_frame(), "village_code")
    assert got.set_index("village_code")["total"].to_dict() == {"V1": 1, "V2": 1, "V3": 2, "V4": 1}
    with pytest.raises(ValueError, match="key"):
        health_by(cameras_frame(), "system")
    assert health_by(cameras_frame().iloc[0:0], "town_code").empty


# ---- coverage -----------------------------------------------------------------------------------------------------


def at(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    end_lon, end_lat, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return end_lon, end_lat


def camera_rows(rows: list[tuple[str, tuple[float, float], str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "camera_id": [r[0] for r in rows],
            "lon": [r[1][0] for r in rows],
            "lat": [r[1][1] for r in rows],
            "status": [r[2] for r in rows],
        }
    )


P1, P2, P3 = (117.45, 35.07), (117.50, 35.00), (117.60, 35.20)
PLACES = pd.DataFrame(
    {
        "place_id": ["p1", "p2", "p3"],
        "lon": [P1[0], P2[0], P3[0]],
        "lat": [P1[1], P2[1], P3[1]],
        "radius_m": [math.nan, 50.0, math.nan],
    },
    index=[7, 8, 9],
)
CAMERAS = camera_rows(
    [
        ("c0", at(*P1, 0, 10), "offline"),  # closest to p1 but not working
        ("c1", at(*P1, 90, 80), "online"),
        ("c2", at(*P2, 200, 60), "online"),
        ("c3", at(*P3, 45, 5), "fault"),
        ("c4", at(*P3, 300, 150), "online"),
        ("c5", (math.nan, math.nan), "online"),  # no position: cannot cover anything
    ]
)


def test_coverage_nearest_working_camera_and_radius_precedence() -> None:
    got = coverage(PLACES, CAMERAS, radius_m=100)
    assert list(got.columns) == ["place_id", "covered", "nearest_camera_id", "distance_m", "radius_m"]
    assert got.index.tolist() == [7, 8, 9]
    assert got["nearest_camera_id"].tolist() == ["c1", "c2", "c4"]
    assert got["distance_m"].to_numpy() == pytest.approx([80, 60, 150], rel=1e-4)
    assert got["radius_m"].tolist() == [100, 50, 100]  # p2's own 50 m wins over the argument
    assert got["covered"].tolist() == [True, False, False]


def test_coverage_radius_is_inclusive() -> None:
    d = coverage(PLACES.iloc[[0]], CAMERAS, radius_m=1)["distance_m"].iloc[0]
    assert bool(coverage(PLACES.iloc[[0]], CAMERAS, radius_m=d)["covered"].iloc[0]) is True
    assert bool(coverage(PLACES.iloc[[0]], CAMERAS, radius_m=d - 0.01)["covered"].iloc[0]) is False


def test_coverage_without_radius_column_uses_argument() -> None:
    got = coverage(PLACES.drop(columns="radius_m"), CAMERAS, radius_m=200)
    assert got["covered"].tolist() == [True, True, True]


def test_coverage_without_working_cameras() -> None:
    got = coverage(PLACES, CAMERAS.assign(status="offline"), radius_m=100)
    assert got["covered"].tolist() == [False, False, False]
    assert got["nearest_camera_id"].tolist() == [None, None, None]
    assert got["distance_m"].isna().all()
    assert coverage(PLACES, CAMERAS.iloc[0:0], radius_m=100)["distance_m"].isna().all()


def test_coverage_of_no_places() -> None:
    assert coverage(PLACES.iloc[0:0], CAMERAS, radius_m=100).empty


@pytest.mark.parametrize(
    ("places", "radius", "message"),
    [
        (PLACES, -1, "radius_m"),
        (PLACES, math.nan, "radius_m"),
        (PLACES.assign(radius_m=[-5.0, 50.0, math.nan]), 100, "radius_m"),
        (PLACES.assign(lon=[P1[0], math.nan, P3[0]]), 100, "lon/lat"),
        (PLACES.assign(lat=[P1[1], 95.0, P3[1]]), 100, "out of range"),
        (PLACES.drop(columns="place_id"), 100, "place_id"),
    ],
)
def test_coverage_validation(places: pd.DataFrame, radius: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coverage(places, CAMERAS, radius_m=radius)


def test_coverage_matches_brute_force_geodesics() -> None:
    rng = np.random.default_rng(996)
    n_cam, n_place = 1500, 200
    cams = pd.DataFrame(
        {
            "camera_id": [f"c{i}" for i in range(n_cam)],
            "lon": rng.uniform(117.23, 117.74, n_cam),
            "lat": rng.uniform(34.90, 35.32, n_cam),
            "status": rng.choice(["online", "offline", "fault"], n_cam, p=[0.8, 0.15, 0.05]),
        }
    )
    places = pd.DataFrame(
        {
            "place_id": [f"p{i}" for i in range(n_place)],
            "lon": rng.uniform(117.23, 117.74, n_place),
            "lat": rng.uniform(34.90, 35.32, n_place),
        }
    )
    got = coverage(places, cams, radius_m=500)
    working = cams[cams["status"] == "online"]
    for i, place in places.iterrows():
        _, _, dist = GEOD.inv(
            np.full(len(working), place["lon"]), np.full(len(working), place["lat"]), working["lon"], working["lat"]
        )
        best = int(np.argmin(dist))
        assert got.at[i, "nearest_camera_id"] == working["camera_id"].iloc[best]
        assert got.at[i, "distance_m"] == pytest.approx(dist[best], rel=2e-4)
        assert bool(got.at[i, "covered"]) is bool(dist[best] <= 500)


# ---- placement advisor (sites laid out on one parallel, at ground offsets in metres) ------------------------------

_TO_LONLAT = Transformer.from_crs(METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
#: A point inside the district (EPSG:4548 metres) the 1-D layouts are laid out east of.
X0, Y0 = 500_000.0, 3_880_000.0


def line(xs: list[float], prefix: str = "p") -> pd.DataFrame:
    """Places at ground offsets ``xs`` (metres, west→east) on one parallel."""
    lon, lat = _TO_LONLAT.transform(np.asarray(xs) + X0, np.full(len(xs), Y0))
    return pd.DataFrame({"place_id": [f"{prefix}{i}" for i in range(len(xs))], "lon": lon, "lat": lat})


def cameras_at(xs: list[float], status: str = "online") -> pd.DataFrame:
    return line(xs, "c").rename(columns={"place_id": "camera_id"}).assign(status=status)


NONE = cameras_at([])

#: Three clusters: {0, 100, 200}, {1000, 1100} and {5000}; at 150 m the best single site is x=100 (3 places).
LAYOUT = [0.0, 100.0, 200.0, 1000.0, 1100.0, 5000.0]


def test_greedy_picks_the_biggest_clusters_in_order() -> None:
    places = line(LAYOUT)
    sites = place_cameras(places, places, NONE, 2, radius_m=150)
    assert list(sites["place_id"]) == ["p1", "p3"]  # x=100 covers 3; x=1000 (first of the tie with 1100) covers 2
    assert list(sites["gain"]) == [3, 2]
    assert list(sites["new_places"]) == [("p0", "p1", "p2"), ("p3", "p4")]
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
    assert list(place_cameras(places, places, NONE, 5, radius_m=100)["place_id"]) == ["p0"]


def test_zero_sites_and_no_candidates() -> None:
    places = line(LAYOUT)
    assert place_cameras(places, places, NONE, 0, radius_m=150).empty
    assert place_cameras(places.iloc[0:0], places, NONE, 5, radius_m=150).empty
    with pytest.raises(ValueError):
        place_cameras(places, places, NONE, -1, radius_m=150)


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


# ---- blind spots: the population grid and cells without a working camera --------------------------------------------

from shapely.geometry import box as _box  # noqa: E402

from dashboard.domain.video import blind_cells, daily_rates, population_grid  # noqa: E402


def _area(x0: float, y0: float, x1: float, y1: float):  # type: ignore[no-untyped-def]
    """A lon/lat polygon of the metric rectangle (x0..x1, y0..y1) east/north of (X0, Y0)."""
    lon, lat = _TO_LONLAT.transform(np.array([x0, x1, x1, x0]) + X0, np.array([y0, y0, y1, y1]) + Y0)
    from shapely.geometry import Polygon

    return Polygon(zip(lon, lat, strict=True))


def _at(xy: np.ndarray, **columns: object) -> pd.DataFrame:
    lon, lat = _TO_LONLAT.transform(xy[:, 0] + X0, xy[:, 1] + Y0)
    return pd.DataFrame({"lon": lon, "lat": lat, **columns})


def test_grid_cells_are_aligned_squares_covering_the_area() -> None:
    grid = population_grid(_area(0, 0, 2000, 1000), _at(np.array([[500.0, 500.0]]), population=[10]), 500, 300)
    width = grid["x1"] - grid["x0"]
    assert (width == 500).all() and ((grid["y1"] - grid["y0"]) == 500).all()
    assert (grid["x0"] % 500 == 0).all() and (grid["y0"] % 500 == 0).all()
    # The area is a 2 km × 1 km rectangle not aligned to the grid: every cell touching it, and no other.
    area_m = _box(X0, Y0, X0 + 2000, Y0 + 1000)
    cells = [_box(*r) for r in grid[["x0", "y0", "x1", "y1"]].itertuples(index=False)]
    assert all(c.intersects(area_m) for c in cells)
    assert shapely_area(cells) >= area_m.area - 1  # the union covers the area (projection round-trip: < 1 m²)
    assert grid["cell_id"].is_unique


def shapely_area(cells: list) -> float:  # type: ignore[type-arg]
    import shapely

    return float(shapely.union_all(cells).area)


@pytest.mark.parametrize("seed", range(4))
def test_population_is_conserved_and_matches_a_brute_force_kernel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, (8, 2))
    people = rng.integers(100, 3000, 8)
    sigma = float(rng.uniform(200, 600))
    grid = population_grid(_area(0, 0, 3000, 3000), _at(xy, population=people), 400, sigma)
    assert grid["population"].sum() == pytest.approx(people.sum())
    centres = np.column_stack([(grid["x0"] + grid["x1"]) / 2 - X0, (grid["y0"] + grid["y1"]) / 2 - Y0])
    expected = np.zeros(len(grid))
    for (vx, vy), p in zip(xy, people, strict=True):
        d2 = ((centres - [vx, vy]) ** 2).sum(axis=1)
        w = np.where(d2 <= (3 * sigma) ** 2, np.exp(-d2 / (2 * sigma**2)), 0.0)
        expected += p * w / w.sum()
    assert grid["population"].to_numpy() == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_a_village_far_from_every_cell_gives_its_people_to_the_nearest() -> None:
    grid = population_grid(_area(100, 100, 900, 900), _at(np.array([[5000.0, 300.0]]), population=[70]), 500, 100)
    assert len(grid) == 4
    assert grid["population"].sum() == pytest.approx(70)
    assert grid.loc[grid["population"] > 0, ["x0", "y0"]].values.tolist() == [[X0 + 500, Y0]]


def _brute_watched(grid: pd.DataFrame, cams_xy: np.ndarray, radius: float) -> np.ndarray:
    """A cell is watched when some camera's distance to the rectangle is ≤ radius (all pairs, plain numpy)."""
    watched = np.zeros(len(grid), dtype=bool)
    for i, r in enumerate(grid.itertuples(index=False)):
        dx = np.maximum.reduce([r.x0 - X0 - cams_xy[:, 0], np.zeros(len(cams_xy)), cams_xy[:, 0] - (r.x1 - X0)])
        dy = np.maximum.reduce([r.y0 - Y0 - cams_xy[:, 1], np.zeros(len(cams_xy)), cams_xy[:, 1] - (r.y1 - Y0)])
        watched[i] = bool((np.hypot(dx, dy) <= radius).any())
    return watched


@pytest.mark.parametrize("seed", range(6))
def test_blind_cells_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    villages = _at(rng.uniform(0, 4000, (10, 2)), population=rng.integers(50, 2000, 10))
    grid = population_grid(_area(0, 0, 4000, 4000), villages, 500, 400)
    cams_xy = rng.uniform(-200, 4200, (40, 2))
    status = rng.choice(["online", "offline", "fault"], 40, p=[0.6, 0.2, 0.2])
    cams = _at(cams_xy, status=status)
    radius, floor = float(rng.uniform(50, 300)), float(rng.uniform(10, 120))
    got = blind_cells(grid, cams, radius, floor)
    watched = _brute_watched(grid, cams_xy[status == "online"], radius)
    assert got["watched"].tolist() == watched.tolist()
    assert got["populated"].tolist() == (grid["population"] >= floor).tolist()
    assert got["blind"].tolist() == ((grid["population"] >= floor) & ~watched).tolist()
    assert 0 < got["blind"].sum() < len(grid)  # the random case exercises both outcomes


def test_blind_cells_without_cameras_and_bad_arguments() -> None:
    grid = population_grid(_area(0, 0, 1000, 1000), _at(np.array([[500.0, 500.0]]), population=[400]), 500, 300)
    got = blind_cells(grid, _at(np.empty((0, 2)), status=[]), 100, 50)
    assert got["blind"].tolist() == got["populated"].tolist() and got["blind"].any()
    with pytest.raises(ValueError, match="radius_m"):
        blind_cells(grid, _at(np.empty((0, 2)), status=[]), -1, 50)
    with pytest.raises(ValueError, match="cell_m"):
        population_grid(_area(0, 0, 1000, 1000), _at(np.array([[1.0, 1.0]]), population=[1]), 0, 300)


# ---- daily trend -------------------------------------------------------------------------------------------------


def test_daily_rates_weigh_every_camera_equally() -> None:
    from datetime import date

    d1, d2, d3 = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)
    daily = pd.DataFrame(
        {
            "date": [d2, d1, d1, d2, d3],
            "village_code": ["V1", "V1", "V2", "V2", "V1"],
            "cameras": [10, 10, 90, 90, 0],
            "online": [10, 5, 90, 81, 0],
            "networked": [9, 10, 90, 90, 0],
            "hd": [10, 10, 45, 45, 0],
        }
    )
    got = daily_rates(daily)
    assert got["date"].tolist() == [d1, d2, d3]
    assert got["cameras"].tolist() == [100, 100, 0]
    # Day 1: 95 of 100 online (not the mean of 50 % and 100 %).
    assert got["working_rate"].iloc[:2].tolist() == pytest.approx([0.95, 0.91])
    assert got["networking_rate"].iloc[:2].tolist() == pytest.approx([1.0, 0.99])
    assert got["hd_share"].iloc[0] == pytest.approx(0.55)
    assert got.iloc[2][["working_rate", "networking_rate", "hd_share"]].isna().all()  # no cameras, no rate
    assert daily_rates(daily.iloc[0:0]).empty
    with pytest.raises(ValueError, match="online"):
        daily_rates(daily.drop(columns="online"))
