"""Static reference feeds of the synthetic district, built once per (seed, scale).

Everything here is infrastructure: road segments, cameras, key places, bus
lines and stops, parking lots, monitoring stations, scenic spots and the
sample DB37/T 3890.2 catalogue. ``build`` returns full frames: the contract's
columns plus a few helper columns (metric geometry, kinds) that the series
generators use; ``SyntheticDistrict.static`` strips them.

``scale`` multiplies the dense things (cameras, key places, bus vehicles, road
segments via finer cutting and village feeder roads); geography is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import shapely
from shapely import ops
from shapely.geometry import LineString

from datasources.synthetic import geography as geo
from datasources.synthetic import noise

DATA = Path(__file__).with_name("data")
#: Centre of the seat's built-up area (a little south of the government, towards 山城街道's reference point).
URBAN_CENTRE = (117.452, 35.091)
_ROUND = 6


class Spot(NamedTuple):
    spot_id: str
    name: str
    short: str
    lon: float
    lat: float
    capacity_instant: int
    daily_factor: float
    opening: str


#: Capacities are not published (REFERENCE.md §1): these are our assumptions.
SCENIC: tuple[Spot, ...] = (
    Spot("spot-01", "熊耳山–抱犊崮国家地质公园", "熊耳山", 117.632, 35.018, 12000, 3.4, "07:30–17:30"),
    Spot("spot-02", "翼云石头部落", "石头部落", 117.4975, 35.1085, 6000, 3.3, "08:00–17:30"),
    Spot("spot-03", "翼云湖景区", "翼云湖", 117.491, 35.114, 8000, 3.8, "06:00–21:00"),
    Spot("spot-04", "葫芦套景区", "葫芦套", 117.585, 35.108, 4000, 3.2, "08:00–17:30"),
    Spot("spot-05", "城河国家水利风景区", "城河", 117.327, 35.1385, 9000, 3.6, "07:00–19:00"),
    Spot("spot-06", "岩马湖景区", "岩马湖", 117.3705, 35.2200, 5000, 3.5, "08:00–18:00"),
    Spot("spot-07", "汉诺庄园", "汉诺庄园", 117.415, 34.975, 3000, 3.0, "09:00–17:00"),
)


@dataclass(frozen=True)
class Assets:
    """All reference frames of one (seed, scale); frames hold helper columns too."""

    seed: int
    scale: int
    frames: Mapping[str, pd.DataFrame]

    def __getitem__(self, feed: str) -> pd.DataFrame:
        return self.frames[feed]


@lru_cache(maxsize=4)
def build(seed: int, scale: int) -> Assets:
    """Build every static frame for (seed, scale); cached because it is pure."""
    vil = geo.villages(seed)
    frames: dict[str, pd.DataFrame] = {"towns": _towns(), "villages": vil}
    frames["road_segments"] = road_segments(seed, scale, vil)
    frames["scenic_spots"] = _scenic_spots()
    frames["key_places"] = _key_places(seed, scale, vil)
    frames["cameras"] = _cameras(seed, scale, vil, frames["key_places"], frames["road_segments"])
    frames["bus_lines"] = _bus_lines(seed, scale)
    frames["bus_stops"] = _bus_stops(frames["bus_lines"], vil)
    frames["parking_lots"] = _parking_lots(seed)
    frames["air_stations"] = _air_stations()
    frames["water_sections"] = _water_sections()
    frames["reservoirs"] = _reservoirs()
    frames["radiation_stations"] = _radiation_stations()
    frames["rating_indicators"] = rating_catalogue()
    frames["rating_tasks_plan"] = rating_task_plan()
    return Assets(seed, scale, frames)


# ---- helpers ----------------------------------------------------------------------------


def _lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = geo.xy_to_lonlat(x, y)
    return np.round(lon, _ROUND), np.round(lat, _ROUND)


def _inside(x: np.ndarray, y: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep jittered points inside the district; those that fell outside return to their anchor."""
    inner = geo.outline_metric().buffer(-30.0)
    ok = shapely.contains_xy(inner, x, y)
    return np.where(ok, x, ax), np.where(ok, y, ay)


def _jitter(seed: int, stream: str, ax: Any, ay: Any, sigma: Any) -> tuple[np.ndarray, np.ndarray]:
    ax, ay = np.asarray(ax, float), np.asarray(ay, float)
    k = np.arange(len(ax))
    x = ax + np.asarray(sigma) * noise.normal(seed, stream + "-x", k)
    y = ay + np.asarray(sigma) * noise.normal(seed, stream + "-y", k)
    return _inside(x, y, ax, ay)


def locate(x: np.ndarray, y: np.ndarray, vil: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Town (by area) and village (the nearest 村居 of that town) of each metric point."""
    towns = geo.town_of_xy(x, y)
    villages = np.empty(len(x), dtype=object)
    for code in np.unique(towns):
        mask = towns == code
        vv = vil[vil["town_code"] == code]
        d2 = (x[mask, None] - vv["x"].to_numpy()) ** 2 + (y[mask, None] - vv["y"].to_numpy()) ** 2
        villages[mask] = vv["village_code"].to_numpy()[d2.argmin(axis=1)]
    return towns, villages


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = geo.lonlat_to_xy(lon, lat)
    return float(x), float(y)


# ---- towns and roads --------------------------------------------------------------------------


def _towns() -> pd.DataFrame:
    areas = geo.town_areas()
    return pd.DataFrame(
        {
            "town_code": [t.code for t in geo.TOWNS],
            "name": [t.name_zh for t in geo.TOWNS],
            "geometry": [areas[t.code] for t in geo.TOWNS],
            "approximate": True,
            "name_en": [t.name_en for t in geo.TOWNS],
        }
    )


#: Longest piece per road class at scale 1 (m); at scale 10 roads are cut four times finer.
_PIECE_M = {"expressway": 3000.0, "arterial": 3000.0, "secondary": 3000.0, "branch": 1500.0}
_URBAN_PIECE_M = 800.0
_MIN_PIECE_M = 500.0


def _pieces(line: LineString, max_len: float) -> list[LineString]:
    n = max(1, math.ceil(line.length / max_len))
    step = line.length / n
    return [ops.substring(line, i * step, (i + 1) * step) for i in range(n)]


def _branch_roads(seed: int, scale: int, vil: pd.DataFrame) -> list[geo.Road]:
    """Village feeder roads: a few at scale 1, every remote village at scale 10."""
    network = shapely.union_all([geo.to_metric(r.geometry) for r in geo.main_roads()])
    inner = geo.outline_metric().buffer(-50.0)
    water = shapely.union_all([geo.to_metric(w) for w in geo.reservoir_areas().values()])
    order = np.argsort(noise.uniform(seed, "branch-order", np.arange(len(vil))), kind="stable")
    wanted, threshold = (10, 800.0) if scale == 1 else (len(vil), 400.0)
    roads: list[geo.Road] = []
    for i in order:
        if len(roads) >= wanted:
            break
        v = vil.iloc[i]
        start = shapely.Point(v["x"], v["y"])
        end = ops.nearest_points(network, start)[0]
        line = LineString([start, end])
        if line.length < threshold or not inner.contains(line) or line.intersects(water):
            continue
        roads.append(geo.Road("村道", f"{v['name']}连接线", "branch", geo.to_wgs(line)))
    return roads


def road_segments(seed: int, scale: int, vil: pd.DataFrame) -> pd.DataFrame:
    """Roads cut into 0.5–3 km segments ("seg-0001"), with metric geometry and helper columns."""
    fine = 1.0 if scale == 1 else 4.0
    rows = []
    gx, gy = _xy(*geo.GOVERNMENT)
    for road in (*geo.main_roads(), *_branch_roads(seed, scale, vil)):
        line_m = geo.to_metric(road.geometry)
        limit = _URBAN_PIECE_M if road.urban else _PIECE_M[road.road_class]
        pieces = _pieces(line_m, max(limit / fine, _MIN_PIECE_M))
        for k, piece in enumerate(pieces, start=1):
            suffix = f"（{k}）" if len(pieces) > 1 else ""
            mid = piece.interpolate(0.5, normalized=True)
            rows.append(
                {
                    "name": f"{road.name}{suffix}",
                    "road_class": road.road_class,
                    "geometry": geo.to_wgs(piece),
                    "length_m": round(piece.length, 1),
                    "geometry_m": piece,
                    "road": road.name,
                    "urban": road.urban or math.hypot(mid.x - gx, mid.y - gy) < 3500.0,
                    "seat_m": math.hypot(mid.x - gx, mid.y - gy),
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "segment_id", [f"seg-{i + 1:04d}" for i in range(len(frame))])
    return frame


# ---- key places --------------------------------------------------------------------------------


class _Anchor(NamedTuple):
    name: str
    x: float
    y: float
    sigma: float


_RADIUS = {
    "school": 100.0,
    "hospital": 120.0,
    "market": 80.0,
    "crossroad": 60.0,
    "scenic_entrance": 150.0,
    "bus_station": 80.0,
    "village_entrance": 40.0,
    "government": 80.0,
    "square": 100.0,
}
#: Places per category at scale 1 (about 600 in all).
_PLACE_COUNTS = {
    "government": 11,
    "school": 110,
    "hospital": 30,
    "market": 50,
    "crossroad": 120,
    "scenic_entrance": 14,
    "bus_station": 14,
    "square": 20,
    "village_entrance": 230,
}
_VARIANTS = ("东区", "西区", "南区", "北区", "二部", "三部", "四部", "五部", "六部", "七部", "八部", "九部")
_SEAT_SCHOOLS = (
    "山亭区第一中学",
    "山亭区第二中学",
    "山亭区实验中学",
    "山亭区实验小学",
    "山亭区第一实验小学",
    "山亭区职业中专",
    "山亭区实验幼儿园",
    "府前路小学",
    "北京路小学",
    "翼云小学",
    "新城小学",
    "汇泉小学",
    "人民路小学",
    "山亭区特殊教育学校",
    "山亭区第二实验小学",
    "翼云中学",
    "新城中学",
    "府前幼儿园",
    "翼云幼儿园",
    "新城幼儿园",
    "汇泉幼儿园",
    "山亭区第三中学",
    "山亭区育才学校",
    "北坛小学",
    "东升小学",
)
_SEAT_MARKETS = ("城区农贸市场", "府前综合市场", "新城蔬菜市场", "翼云商贸城", "北坛批发市场", "汇泉早市")
_SEAT_HOSPITALS = ("山亭区人民医院", "山亭区中医院", "山亭区妇幼保健院", "山亭区精神卫生中心")


def _urban(seed: int, names: Iterable[str], stream: str, spread: float = 1100.0) -> list[_Anchor]:
    gx, gy = _xy(*URBAN_CENTRE)
    names = list(names)
    k = np.arange(len(names))
    dx = spread * noise.normal(seed, stream + "-ux", k)
    dy = spread * noise.normal(seed, stream + "-uy", k)
    return [_Anchor(n, gx + float(a), gy + float(b), 30.0) for n, a, b in zip(names, dx, dy, strict=True)]


def _town_anchor(town: geo.Town, name: str, sigma: float = 150.0) -> _Anchor:
    x, y = _xy(town.lon, town.lat)
    return _Anchor(name, x, y, sigma)


def _village_anchors(vil: pd.DataFrame, pattern: str, sigma: float = 120.0) -> list[_Anchor]:
    order = vil.sort_values("population", ascending=False, kind="stable")
    rows = zip(order["name"], order["x"], order["y"], strict=True)
    return [_Anchor(pattern.format(v=n), float(x), float(y), sigma) for n, x, y in rows]


def _town_gov_name(town: geo.Town) -> str:
    return f"{town.name_zh}办事处" if town is geo.SEAT else f"{town.name_zh}人民政府"


def _pools(seed: int, vil: pd.DataFrame) -> dict[str, list[_Anchor]]:
    towns = geo.TOWNS[1:]
    gx, gy = _xy(*geo.GOVERNMENT)
    shuffled = vil.assign(population=noise.uniform(seed, "entrance-order", np.arange(len(vil))))
    return {
        "government": [_Anchor("山亭区人民政府", gx, gy, 0.0), _town_anchor(geo.SEAT, _town_gov_name(geo.SEAT))]
        + [_town_anchor(t, _town_gov_name(t)) for t in towns]
        + _village_anchors(vil, "{v}便民服务站"),
        "school": _urban(seed, _SEAT_SCHOOLS, "school")
        + [_town_anchor(t, f"{t.name_zh}{s}", 500.0) for t in towns for s in ("中学", "中心小学")]
        + _village_anchors(vil, "{v}小学", 250.0)
        + _village_anchors(vil, "{v}幼儿园", 250.0),
        "hospital": _urban(seed, _SEAT_HOSPITALS, "hospital")
        + [_town_anchor(t, f"{t.name_zh}卫生院", 300.0) for t in towns]
        + _village_anchors(vil, "{v}卫生室"),
        "market": [_town_anchor(t, f"{geo.town_short(t)}农贸市场", 400.0) for t in towns]
        + _urban(seed, _SEAT_MARKETS, "market")
        + _village_anchors(vil, "{v}集市", 200.0),
        "crossroad": _crossroads(vil),
        "scenic_entrance": [
            _Anchor(f"{s.name}{g}", *_xy(s.lon + dl, s.lat + dt), 60.0)
            for s in SCENIC
            for g, dl, dt in (("南门", 0.0, -0.004), ("北门", 0.002, 0.004))
        ],
        "bus_station": [_Anchor("山亭汽车站", gx, gy - 150.0, 20.0)]
        + _urban(seed, ("山亭公交总站", "翼云湖公交首末站"), "bus", 900.0)
        + [_town_anchor(t, f"{geo.town_short(t)}汽车站", 200.0) for t in towns]
        + [_town_anchor(t, f"{geo.town_short(t)}公交首末站", 600.0) for t in towns[:2]]
        + _village_anchors(vil, "{v}公交站"),
        "square": _urban(seed, ("府前广场", "翼云广场", "人民广场"), "square", 800.0)
        + [_town_anchor(t, f"{geo.town_short(t)}文化广场", 300.0) for t in towns]
        + _village_anchors(vil, "{v}文化广场"),
        "village_entrance": _village_anchors(shuffled, "{v}出入口", 250.0),
    }


def _crossroads(vil: pd.DataFrame) -> list[_Anchor]:
    """Road intersections (urban grid, arterials meeting in towns), then village road junctions."""
    roads = [(r.label if r.urban else r.ref or "新台高速", geo.to_metric(r.geometry)) for r in geo.main_roads()]
    anchors: list[_Anchor] = []
    seen: list[tuple[float, float]] = []
    for i, (name_a, a) in enumerate(roads):
        for name_b, b in roads[i + 1 :]:
            for p in shapely.get_parts(a.intersection(b)):
                if p.geom_type != "Point" or any(math.hypot(p.x - sx, p.y - sy) < 80 for sx, sy in seen):
                    continue
                seen.append((p.x, p.y))
                anchors.append(_Anchor(f"{name_a}与{name_b}交叉口", p.x, p.y, 5.0))
    network = shapely.union_all([line for _, line in roads])
    for name, x, y in zip(vil["name"], vil["x"], vil["y"], strict=True):
        p = ops.nearest_points(network, shapely.Point(x, y))[0]
        anchors.append(_Anchor(f"{name}路口", p.x, p.y, 5.0))
    return anchors


def _expand(pool: list[_Anchor], n: int) -> list[_Anchor]:
    """The first n anchors of a pool, cycling with variant names once it is exhausted."""
    out = []
    for i in range(n):
        a = pool[i % len(pool)]
        r = i // len(pool)
        if r:
            tag = _VARIANTS[(r - 1) % len(_VARIANTS)] + (str(r) if r > len(_VARIANTS) else "")
            a = _Anchor(f"{a.name}{tag}", a.x, a.y, max(a.sigma, 150.0))
        out.append(a)
    return out


def _key_places(seed: int, scale: int, vil: pd.DataFrame) -> pd.DataFrame:
    pools = _pools(seed, vil)
    rows = [(cat, a) for cat, count in _PLACE_COUNTS.items() for a in _expand(pools[cat], count * scale)]
    ax = np.array([a.x for _, a in rows])
    ay = np.array([a.y for _, a in rows])
    x, y = _jitter(seed, "place", ax, ay, np.array([a.sigma for _, a in rows]))
    towns, villages = locate(x, y, vil)
    lon, lat = _lonlat(x, y)
    return pd.DataFrame(
        {
            "place_id": [f"kp-{i + 1:05d}" for i in range(len(rows))],
            "name": [a.name for _, a in rows],
            "category": [c for c, _ in rows],
            "lon": lon,
            "lat": lat,
            "town_code": towns,
            "village_code": villages,
            "radius_m": [_RADIUS[c] for c, _ in rows],
            "x": x,
            "y": y,
        }
    )


# ---- cameras -------------------------------------------------------------------------------------

_TIANWANG_PLACES = ("crossroad", "bus_station", "government", "square", "scenic_entrance", "hospital", "market")


def _camera_groups(
    seed: int, scale: int, vil: pd.DataFrame, places: pd.DataFrame, segments: pd.DataFrame
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """(anchor x, anchor y, sigma, system) per group of cameras, before jitter."""
    gx, gy = _xy(*URBAN_CENTRE)
    n_urban = 420 * scale
    urban = (np.full(n_urban, gx), np.full(n_urban, gy), np.full(n_urban, 1300.0), "tianwang")
    towns = geo.TOWNS[1:]
    tx = np.repeat([_xy(t.lon, t.lat)[0] for t in towns], 30 * scale)
    ty = np.repeat([_xy(t.lon, t.lat)[1] for t in towns], 30 * scale)
    centres = (tx, ty, np.full(len(tx), 500.0), "tianwang")
    weight = np.sqrt(vil["population"].to_numpy(float))
    pick = noise.choice(weight, noise.uniform(seed, "cam-village", np.arange(1150 * scale)))
    village = (vil["x"].to_numpy()[pick], vil["y"].to_numpy()[pick], np.full(len(pick), 250.0), "xueliang")
    return [urban, centres, village, *_place_cameras(places), _road_cameras(seed, scale, segments)]


def _place_cameras(places: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    double = places["category"].isin(("school", "hospital", "crossroad", "scenic_entrance", "bus_station")).to_numpy()
    idx = np.concatenate([np.arange(len(places)), np.flatnonzero(double)])
    cat = places["category"].to_numpy()[idx]
    tian = np.isin(cat, _TIANWANG_PLACES)
    x, y = places["x"].to_numpy()[idx], places["y"].to_numpy()[idx]
    return [
        (x[tian], y[tian], np.full(tian.sum(), 40.0), "tianwang"),
        (x[~tian], y[~tian], np.full((~tian).sum(), 40.0), "xueliang"),
    ]


def _road_cameras(seed: int, scale: int, segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    weight = (
        segments["length_m"].to_numpy()
        * segments["road_class"].map({"expressway": 1.0, "arterial": 2.0, "secondary": 1.0, "branch": 0.3}).to_numpy()
    )
    n = 330 * scale
    seg = noise.choice(weight, noise.uniform(seed, "cam-road", np.arange(n)))
    frac = noise.uniform(seed, "cam-road-frac", np.arange(n))
    pts = shapely.line_interpolate_point(segments["geometry_m"].to_numpy()[seg], frac, normalized=True)
    return shapely.get_x(pts), shapely.get_y(pts), np.full(n, 15.0), "tianwang"


def _cameras(seed: int, scale: int, vil: pd.DataFrame, places: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    groups = _camera_groups(seed, scale, vil, places, segments)
    ax = np.concatenate([g[0] for g in groups])
    ay = np.concatenate([g[1] for g in groups])
    sigma = np.concatenate([g[2] for g in groups])
    system = np.concatenate([np.full(len(g[0]), g[3], dtype=object) for g in groups])
    x, y = _jitter(seed, "camera", ax, ay, sigma)
    towns, villages = locate(x, y, vil)
    lon, lat = _lonlat(x, y)
    k = np.arange(len(x))
    hd_rate = np.where(system == "tianwang", 0.93, 0.80)
    return pd.DataFrame(
        {
            "camera_id": [f"cam-{i + 1:06d}" for i in k],
            "lon": lon,
            "lat": lat,
            "system": system,
            "hd": noise.uniform(seed, "cam-hd", k) < hd_rate,
            "networked": noise.uniform(seed, "cam-net", k) < 0.95,
            "town_code": towns,
            "village_code": villages,
        }
    )


# ---- transport ----------------------------------------------------------------------------------------


def _bus_lines(seed: int, scale: int) -> pd.DataFrame:
    """About 20 lines: 3 urban, one from the seat to each town, and some between towns."""
    roads = geo.main_roads()
    gx, gy = _xy(*geo.GOVERNMENT)
    rows = []
    urban = {r.label: r for r in roads if r.urban}
    for i, label in enumerate(("府前路", "北京路", "翼云路")):
        rows.append((f"{i + 1}路", urban[label].geometry, "urban", 60, 25.0, 6 + i))
    for i, road in enumerate(r for r in roads if r.road_class == "arterial" and not r.urban):
        coords = [(gx, gy), *geo.to_metric(road.geometry).coords]
        rows.append((f"K20{i + 1}路", geo.to_wgs(LineString(coords)), "town", 80, 40.0, 4 + i % 5))
    for i, road in enumerate(r for r in roads if r.road_class == "secondary"):
        if i < 8:
            rows.append((f"K30{i + 1}路", road.geometry, "intertown", 70, 38.0, 3 + i % 3))
    frame = pd.DataFrame(rows, columns=["name", "geometry", "kind", "capacity", "speed_kmh", "vehicles"])
    frame.insert(0, "line_id", [f"L{i + 1:02d}" for i in range(len(frame))])
    frame["scheduled_vehicles"] = frame["vehicles"] * scale
    frame["geometry_m"] = geo.to_metric(frame["geometry"].to_numpy())
    frame["length_m"] = shapely.length(frame["geometry_m"].to_numpy())
    frame["stops"] = np.maximum(1, np.round(frame["length_m"] / 900.0)).astype(int) + 1
    return frame


def _bus_stops(lines: pd.DataFrame, vil: pd.DataFrame) -> pd.DataFrame:
    """Stops evenly spaced (600–1200 m) along each line, named after the nearest 村居."""
    rows = []
    vx, vy, vn = vil["x"].to_numpy(), vil["y"].to_numpy(), vil["name"].to_numpy()
    for line in lines.itertuples():
        dist = np.linspace(0.0, line.length_m, line.stops)
        pts = shapely.line_interpolate_point(line.geometry_m, dist)
        px, py = shapely.get_x(pts), shapely.get_y(pts)
        near = ((px[:, None] - vx) ** 2 + (py[:, None] - vy) ** 2).argmin(axis=1)
        used: set[str] = set()
        lon, lat = _lonlat(px, py)
        for seq in range(line.stops):
            name = f"{vn[near[seq]]}站"
            name = name if name not in used else f"{vn[near[seq]]}{seq}号站"
            if line.kind != "intertown" and seq == 0:
                name = "山亭汽车站" if line.kind == "town" else f"{line.name}首末站"
            used.add(name)
            rows.append((f"{line.line_id}-S{seq + 1:02d}", line.line_id, seq + 1, name, lon[seq], lat[seq], dist[seq]))
    return pd.DataFrame(rows, columns=["stop_id", "line_id", "seq", "name", "lon", "lat", "along_m"])


_SEAT_LOTS = (
    ("府前广场停车场", "public", 420),
    ("区政务服务中心停车场", "office", 260),
    ("区人民医院停车场", "hospital", 380),
    ("山亭汽车站停车场", "hub", 220),
    ("翼云商厦地下停车场", "commercial", 600),
    ("区中医院停车场", "hospital", 180),
    ("北京路公共停车场", "public", 150),
    ("汇泉路公共停车场", "public", 120),
    ("新城农贸市场停车场", "commercial", 140),
    ("区体育中心停车场", "public", 300),
    ("人民路公共停车场", "public", 90),
    ("区实验学校停车场", "office", 80),
    ("翼云路公共停车场", "public", 110),
    ("区文化中心停车场", "public", 200),
    ("府前路地下停车场", "commercial", 520),
    ("城东商业街停车场", "commercial", 260),
    ("城西公共停车场", "public", 160),
    ("区行政中心东停车场", "office", 180),
)


def _parking_lots(seed: int) -> pd.DataFrame:
    anchors = _urban(seed, [n for n, _, _ in _SEAT_LOTS], "lot", 1000.0)
    xs = [a.x for a in anchors] + [_xy(s.lon, s.lat - 0.003)[0] for s in SCENIC]
    ys = [a.y for a in anchors] + [_xy(s.lon, s.lat - 0.003)[1] for s in SCENIC]
    lon, lat = _lonlat(np.array(xs), np.array(ys))
    scenic_cap = [800, 300, 500, 200, 600, 300, 150]
    return pd.DataFrame(
        {
            "lot_id": [f"P{i + 1:02d}" for i in range(len(xs))],
            "name": [n for n, _, _ in _SEAT_LOTS] + [f"{s.short}游客中心停车场" for s in SCENIC],
            "lon": lon,
            "lat": lat,
            "capacity": [c for _, _, c in _SEAT_LOTS] + scenic_cap,
            "kind": [k for _, k, _ in _SEAT_LOTS] + ["scenic"] * len(SCENIC),
            "spot_id": [None] * len(_SEAT_LOTS) + [s.spot_id for s in SCENIC],
        }
    )


# ---- environment --------------------------------------------------------------------------------------

#: Town stations sit near (not on) the reference points: (dlon, dlat).
_STATION_OFFSETS = (
    (0.003, 0.002),
    (-0.002, 0.003),
    (0.004, -0.002),
    (-0.003, -0.003),
    (0.002, 0.004),
    (0.003, -0.004),
    (-0.004, 0.002),
    (0.002, -0.003),
    (-0.006, -0.008),
    (0.004, 0.003),
)


def _air_stations() -> pd.DataFrame:
    rows = [("air-00", "山亭区站", 117.4556, 35.0951)]
    for i, (town, (dl, dt)) in enumerate(zip(geo.TOWNS, _STATION_OFFSETS, strict=True)):
        rows.append((f"air-{i + 1:02d}", f"{town.name_zh}站", town.lon + dl, town.lat + dt))
    frame = pd.DataFrame(rows, columns=["station_id", "name", "lon", "lat"])
    x, y = geo.lonlat_to_xy(frame["lon"], frame["lat"])
    frame["town_code"] = geo.town_of_xy(x, y)
    return frame


def _on_river(name: str, fraction: float) -> tuple[float, float]:
    line = geo.to_metric(geo.rivers()[name])
    p = line.interpolate(fraction, normalized=True)
    lon, lat = _lonlat([p.x], [p.y])
    return float(lon[0]), float(lat[0])


def _reservoir_point(name: str) -> tuple[float, float]:
    p = geo.reservoir_areas()[name].representative_point()
    return round(p.x, _ROUND), round(p.y, _ROUND)


def _water_sections() -> pd.DataFrame:
    """城河 from its entry to its exit, 十字河, and one section in each reservoir."""
    rows = [
        ("wq-01", "城河店子入境断面", *_on_river("城河", 0.04), "river", 3),
        ("wq-02", "城河岩马水库入库断面", *_on_river("城河", 0.24), "river", 3),
        ("wq-03", "岩马水库库心", *_reservoir_point("岩马水库"), "reservoir", 2),
        ("wq-04", "城河岩马水库出库断面", *_on_river("城河", 0.45), "river", 3),
        ("wq-05", "城河城头断面", *_on_river("城河", 0.74), "river", 3),
        ("wq-06", "城河出境断面（滕州方向）", *_on_river("城河", 0.97), "river", 3),
        ("wq-07", "十字河断面", *_on_river("十字河", 0.30), "river", 3),
        ("wq-08", "庄里水库库心", *_reservoir_point("庄里水库"), "reservoir", 2),
    ]
    return pd.DataFrame(rows, columns=["section_id", "name", "lon", "lat", "waterbody", "target_class"])


def _reservoirs() -> pd.DataFrame:
    """Characteristic levels as published (REFERENCE.md §1); unpublished ones stay blank."""
    ylon, ylat = _reservoir_point("岩马水库")
    zlon, zlat = _reservoir_point("庄里水库")
    return pd.DataFrame(
        {
            "reservoir_id": ["yanma", "zhuangli"],
            "name": ["岩马水库", "庄里水库"],
            "lon": [ylon, zlon],
            "lat": [ylat, zlat],
            "total_capacity_m3": [2.03e8, 1.33e8],
            "flood_limit_m": [125.0, None],
            "design_flood_m": [129.75, None],
            "check_flood_m": [132.91, None],
            "normal_pool_m": [None, 114.56],
        }
    ).astype({c: "float64" for c in ("flood_limit_m", "design_flood_m", "check_flood_m", "normal_pool_m")})


def _radiation_stations() -> pd.DataFrame:
    rows = [
        ("rad-01", "山亭区辐射自动站（城区）", 117.4512, 35.0983, 66.0),
        ("rad-02", "岩马水库辐射自动站", 117.3720, 35.2105, 61.0),
        ("rad-03", "东部山区辐射自动站（北庄）", 117.6350, 35.0290, 84.0),
    ]
    frame = pd.DataFrame(rows, columns=["station_id", "name", "lon", "lat", "baseline_ngy_h"])
    x, y = geo.lonlat_to_xy(frame["lon"], frame["lat"])
    frame.insert(4, "town_code", geo.town_of_xy(x, y))
    return frame


# ---- tourism and rating ----------------------------------------------------------------------------------


def _scenic_spots() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "spot_id": [s.spot_id for s in SCENIC],
            "name": [s.name for s in SCENIC],
            "lon": [s.lon for s in SCENIC],
            "lat": [s.lat for s in SCENIC],
            "capacity_instant": [s.capacity_instant for s in SCENIC],
            "capacity_daily": [int(round(s.capacity_instant * s.daily_factor, -2)) for s in SCENIC],
            "opening": [s.opening for s in SCENIC],
            "capacity_assumed": True,
        }
    )


@lru_cache(maxsize=1)
def rating_catalogue() -> pd.DataFrame:
    """The sample (示例) DB37/T 3890.2 county catalogue shipped as data/rating_catalogue.csv."""
    frame = pd.read_csv(DATA / "rating_catalogue.csv", encoding="utf-8", dtype={"indicator_id": str, "unit": str})
    frame["weight"] = frame["weight"].astype(float)
    for col in ("mandatory", "sample"):
        frame[col] = frame[col].astype(str).str.lower().eq("true")
    return frame


@lru_cache(maxsize=1)
def rating_task_plan() -> pd.DataFrame:
    """The sample work plan (data/rating_tasks.csv): task, department, indicator, start and due dates."""
    frame = pd.read_csv(DATA / "rating_tasks.csv", encoding="utf-8", dtype=str)
    frame["start"] = frame["start"].map(date.fromisoformat)
    frame["due"] = frame["due"].map(date.fromisoformat)
    return frame
