"""Feed contracts: the product's public data interface (FEEDS.md).

A contract names a feed's columns, their types, units and allowed values, the
key, and the time column that says when a row's data was produced. Contracts
are data: the SQL schema, the validator, the health strip and the docs are all
derived from this one table.

Units follow the standards: concentrations in µg/m³ (CO in mg/m³), water items
in mg/L, speeds in km/h, dose rate in nGy/h, lengths in metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

ColumnType = Literal["str", "int", "float", "bool", "time", "date", "geometry"]

#: The district's extent (REFERENCE.md §1) plus a margin; coordinates outside
#: it are rejected as swapped, mistyped or in another datum's offset.
DISTRICT_BBOX = (117.2333, 34.9000, 117.7389, 35.3222)
BBOX_MARGIN_DEG = 0.05
LON_RANGE = (DISTRICT_BBOX[0] - BBOX_MARGIN_DEG, DISTRICT_BBOX[2] + BBOX_MARGIN_DEG)
LAT_RANGE = (DISTRICT_BBOX[1] - BBOX_MARGIN_DEG, DISTRICT_BBOX[3] + BBOX_MARGIN_DEG)


@dataclass(frozen=True)
class Column:
    """One column of a feed.

    ``choices`` restricts a string column to a closed set; ``pattern`` to a
    regular expression; ``low``/``high`` bound numbers (inclusive).
    ``geometry`` names the allowed shapely geometry types.
    """

    name: str
    type: ColumnType
    unit: str = ""
    required: bool = True
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    geometry: tuple[str, ...] = ()
    max_length: int = 200
    doc: str = ""


@dataclass(frozen=True)
class Contract:
    """A feed's contract.

    ``time`` is the column that dates a row's data; ``max_age`` is how old the
    newest row may be before the feed shows as stale (None: the feed is
    reference data and never goes stale by age).
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    domain: str
    title_zh: str
    title_en: str
    time: str | None = None
    max_age: timedelta | None = None
    doc: str = ""
    #: Local hours (Asia/Shanghai, "HH:MM") when the feed is expected to flow;
    #: outside them silence is normal (buses do not run at night).
    active_hours: tuple[str, str] | None = None
    column_index: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {c.name: c for c in self.columns}
        missing = [k for k in self.key if k not in index]
        if missing or (self.time and self.time not in index):
            raise ValueError(f"contract {self.name}: key/time names unknown columns")
        object.__setattr__(self, "column_index", index)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def is_series(self) -> bool:
        """True for time series (readings); False for reference data (assets)."""
        return self.max_age is not None


def _lon(required: bool = True) -> Column:
    return Column("lon", "float", "°E (WGS84)", required, *LON_RANGE)


def _lat(required: bool = True) -> Column:
    return Column("lat", "float", "°N (WGS84)", required, *LAT_RANGE)


def _code(name: str, digits: int, required: bool = True) -> Column:
    return Column(name, "str", required=required, pattern=rf"^370406\d{{{digits - 6}}}$")


TOWN_CODE = _code("town_code", 9)
VILLAGE_CODE = _code("village_code", 12)
TS = Column("ts", "time")
_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


def _id(name: str) -> Column:
    return Column(name, "str", pattern=_ID)


def _conc(name: str, high: float, unit: str = "µg/m³") -> Column:
    # ``high`` is far above any real reading; it catches unit mistakes
    # (mg vs µg) and sensor garbage, not pollution.
    return Column(name, "float", unit, required=False, low=0, high=high)


def _count(name: str, high: float = 1e6, required: bool = True) -> Column:
    return Column(name, "int", "", required, low=0, high=high)


def _m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        # ---- geography -------------------------------------------------------
        Contract(
            "towns",
            ("town_code",),
            (
                TOWN_CODE,
                Column("name", "str", max_length=40),
                Column("geometry", "geometry", "WGS84", geometry=("Polygon", "MultiPolygon")),
                Column("approximate", "bool"),
            ),
            "geo",
            "镇街",
            "Towns",
            doc="镇街 areas; approximate=true where the boundary is not official.",
        ),
        Contract(
            "villages",
            ("village_code",),
            (
                VILLAGE_CODE,
                TOWN_CODE,
                Column("name", "str", max_length=40),
                _lon(),
                _lat(),
                _count("population", 200_000),
            ),
            "geo",
            "村居",
            "Villages",
        ),
        # ---- public-safety video ---------------------------------------------
        Contract(
            "cameras",
            ("camera_id",),
            (
                _id("camera_id"),
                _lon(),
                _lat(),
                Column("system", "str", choices=("xueliang", "tianwang")),
                Column("hd", "bool"),
                Column("networked", "bool"),
                Column("status", "str", choices=("online", "offline", "fault")),
                TOWN_CODE,
                VILLAGE_CODE,
                Column("status_since", "time"),
            ),
            "video",
            "视频监控点位",
            "Cameras",
            time="status_since",
            doc="State feed: one row per camera with its current status.",
        ),
        Contract(
            "key_places",
            ("place_id",),
            (
                _id("place_id"),
                Column("name", "str", max_length=80),
                Column(
                    "category",
                    "str",
                    choices=(
                        "school",
                        "hospital",
                        "market",
                        "crossroad",
                        "scenic_entrance",
                        "bus_station",
                        "village_entrance",
                        "government",
                        "square",
                    ),
                ),
                _lon(),
                _lat(),
                TOWN_CODE,
                VILLAGE_CODE,
                Column("radius_m", "float", "m", required=False, low=5, high=500),
            ),
            "video",
            "重点公共区域",
            "Key public places",
        ),
        Contract(
            "camera_status_daily",
            ("date", "village_code"),
            (
                Column("date", "date", doc="local (Asia/Shanghai) calendar day"),
                TOWN_CODE,
                VILLAGE_CODE,
                _count("cameras", 100_000),
                _count("online", 100_000),
                _count("networked", 100_000),
                _count("hd", 100_000),
                Column(
                    "ts", "time", doc="when the counts were taken: the day's end (24:00), or the latest sample today"
                ),
            ),
            "video",
            "视频点位日运行统计",
            "Daily camera status",
            time="ts",
            max_age=_m(30),
            doc=(
                "Per 村居 and day: cameras, how many were online (working), networked and HD when sampled. "
                "A closed day is sampled at its end; today's row is re-sampled as the day goes on (an upsert "
                "on date + village_code), so the newest row is today's figure so far."
            ),
        ),
        # ---- transport -------------------------------------------------------
        Contract(
            "bus_lines",
            ("line_id",),
            (
                _id("line_id"),
                Column("name", "str", max_length=40),
                Column("geometry", "geometry", "WGS84", geometry=("LineString", "MultiLineString")),
                _count("scheduled_vehicles", 200),
            ),
            "transport",
            "公交线路",
            "Bus lines",
        ),
        Contract(
            "bus_stops",
            ("stop_id",),
            (
                _id("stop_id"),
                _id("line_id"),
                _count("seq", 500),
                Column("name", "str", max_length=40),
                _lon(),
                _lat(),
            ),
            "transport",
            "公交站点",
            "Bus stops",
        ),
        Contract(
            "bus_positions",
            ("vehicle_id", "ts"),
            (
                _id("vehicle_id"),
                TS,
                _id("line_id"),
                _lon(),
                _lat(),
                Column("speed_kmh", "float", "km/h", low=0, high=120),
                _count("on_board", 300),
                Column("capacity", "int", low=1, high=300),
                Column("delay_s", "int", "s", low=-3600, high=7200, doc="+ late, - early"),
            ),
            "transport",
            "公交车辆位置",
            "Bus positions",
            time="ts",
            max_age=_m(2),
            # The district timetable's service day (ASSUMPTION: first departure 06:00, last arrival 21:00);
            # outside it an empty feed is idle, not failing.
            active_hours=("06:00", "21:00"),
        ),
        Contract(
            "road_segments",
            ("segment_id",),
            (
                _id("segment_id"),
                Column("name", "str", max_length=60),
                Column("road_class", "str", choices=("expressway", "arterial", "secondary", "branch")),
                Column("geometry", "geometry", "WGS84", geometry=("LineString", "MultiLineString")),
                Column("length_m", "float", "m", low=1, high=50_000),
            ),
            "transport",
            "道路路段",
            "Road segments",
        ),
        Contract(
            "segment_speeds",
            ("segment_id", "ts"),
            (
                _id("segment_id"),
                TS,
                Column("speed_kmh", "float", "km/h", low=0, high=160),
            ),
            "transport",
            "路段车速",
            "Segment speeds",
            time="ts",
            max_age=_m(20),
        ),
        Contract(
            "accidents",
            ("accident_id",),
            (
                _id("accident_id"),
                TS,
                _lon(),
                _lat(),
                Column("severity", "int", low=1, high=4),
                Column("segment_id", "str", required=False, pattern=_ID),
            ),
            "transport",
            "交通事故",
            "Accidents",
            time="ts",
            doc="Event feed: no age limit (a quiet day has no accidents).",
        ),
        Contract(
            "parking_lots",
            ("lot_id",),
            (
                _id("lot_id"),
                Column("name", "str", max_length=60),
                _lon(),
                _lat(),
                Column("capacity", "int", low=1, high=20_000),
            ),
            "transport",
            "停车场",
            "Parking lots",
        ),
        Contract(
            "parking_occupancy",
            ("lot_id", "ts"),
            (
                _id("lot_id"),
                TS,
                _count("occupied", 20_000),
            ),
            "transport",
            "停车占用",
            "Parking occupancy",
            time="ts",
            max_age=_m(30),
        ),
        # ---- environment -----------------------------------------------------
        Contract(
            "air_stations",
            ("station_id",),
            (
                _id("station_id"),
                Column("name", "str", max_length=40),
                _lon(),
                _lat(),
                TOWN_CODE,
            ),
            "environment",
            "空气监测站",
            "Air stations",
        ),
        Contract(
            "air_readings",
            ("station_id", "ts"),
            (
                _id("station_id"),
                TS,
                _conc("pm25", 1500),
                _conc("pm10", 3000),
                _conc("so2", 3000),
                _conc("no2", 4000),
                _conc("o3", 1500),
                _conc("co", 150, "mg/m³"),
                Column("averaging", "str", choices=("1h",)),
            ),
            "environment",
            "空气质量小时值",
            "Air readings",
            time="ts",
            max_age=_m(150),
            doc="Hourly means; ts is the end of the averaging hour.",
        ),
        Contract(
            "water_sections",
            ("section_id",),
            (
                _id("section_id"),
                Column("name", "str", max_length=60),
                _lon(),
                _lat(),
                Column("waterbody", "str", choices=("river", "reservoir")),
                Column("target_class", "int", low=1, high=5),
            ),
            "environment",
            "水质断面",
            "Water sections",
        ),
        Contract(
            "water_samples",
            ("section_id", "ts"),
            (
                _id("section_id"),
                TS,
                _conc("do", 20, "mg/L"),
                _conc("codmn", 100, "mg/L"),
                _conc("cod", 500, "mg/L"),
                _conc("bod5", 200, "mg/L"),
                _conc("nh3n", 50, "mg/L"),
                _conc("tp", 10, "mg/L"),
                _conc("tn", 50, "mg/L"),
                Column("ph", "float", required=False, low=0, high=14),
            ),
            "environment",
            "水质监测",
            "Water samples",
            time="ts",
            max_age=timedelta(hours=12),
        ),
        Contract(
            "reservoirs",
            ("reservoir_id",),
            (
                _id("reservoir_id"),
                Column("name", "str", max_length=40),
                _lon(),
                _lat(),
                Column("total_capacity_m3", "float", "m³", required=False, low=0, high=1e10),
                Column("flood_limit_m", "float", "m", required=False, low=0, high=2000),
                Column("design_flood_m", "float", "m", required=False, low=0, high=2000),
                Column("check_flood_m", "float", "m", required=False, low=0, high=2000),
                Column("normal_pool_m", "float", "m", required=False, low=0, high=2000),
            ),
            "environment",
            "水库",
            "Reservoirs",
            doc="Characteristic levels where published (REFERENCE.md §1); blank where not.",
        ),
        Contract(
            "reservoir_levels",
            ("reservoir_id", "ts"),
            (
                _id("reservoir_id"),
                TS,
                Column("level_m", "float", "m", low=0, high=2000),
            ),
            "environment",
            "水库水位",
            "Reservoir levels",
            time="ts",
            max_age=_m(150),
        ),
        Contract(
            "radiation_stations",
            ("station_id",),
            (
                _id("station_id"),
                Column("name", "str", max_length=40),
                _lon(),
                _lat(),
                TOWN_CODE,
                Column("baseline_ngy_h", "float", "nGy/h", required=False, low=1, high=1000),
            ),
            "environment",
            "辐射监测站",
            "Radiation stations",
        ),
        Contract(
            "radiation_readings",
            ("station_id", "ts"),
            (
                _id("station_id"),
                TS,
                Column("dose_ngy_h", "float", "nGy/h", low=0, high=1e6),
            ),
            "environment",
            "辐射剂量率",
            "Radiation readings",
            time="ts",
            max_age=_m(150),
        ),
        # ---- tourism ---------------------------------------------------------
        Contract(
            "scenic_spots",
            ("spot_id",),
            (
                _id("spot_id"),
                Column("name", "str", max_length=60),
                _lon(),
                _lat(),
                Column("capacity_instant", "int", low=1, high=1_000_000),
                Column("capacity_daily", "int", low=1, high=10_000_000),
                Column("opening", "str", pattern=r"^([01]\d|2[0-3]):[0-5]\d[–-]([01]\d|2[0-4]):[0-5]\d$"),
                Column(
                    "capacity_assumed",
                    "bool",
                    required=False,
                    doc="true where the capacity is our assumption, not published",
                ),
            ),
            "tourism",
            "景区",
            "Scenic areas",
        ),
        Contract(
            "visitor_counts",
            ("spot_id", "ts"),
            (
                _id("spot_id"),
                TS,
                _count("in_park", 1_000_000),
                _count("arrivals_today", 10_000_000),
            ),
            "tourism",
            "景区客流",
            "Visitor counts",
            time="ts",
            max_age=_m(30),
        ),
        # ---- star rating -----------------------------------------------------
        Contract(
            "rating_indicators",
            ("indicator_id",),
            (
                _id("indicator_id"),
                Column(
                    "domain", "str", choices=("数字惠民", "数字政府", "数字经济", "基础设施", "保障措施", "地方特色")
                ),
                Column("name", "str", max_length=80),
                Column("unit", "str", required=False, max_length=20),
                Column("direction", "str", choices=("higher", "lower")),
                *(Column(f"star{i}", "float", required=False) for i in range(1, 6)),
                Column("weight", "float", low=0, high=100),
                Column("mandatory", "bool"),
                Column("department", "str", max_length=40),
                Column("evidence", "str", required=False, max_length=400),
                Column("sample", "bool", required=False, doc="示例: not the official figure"),
            ),
            "rating",
            "星级指标",
            "Rating indicators",
        ),
        Contract(
            "rating_values",
            ("indicator_id", "period"),
            (
                _id("indicator_id"),
                Column("period", "str", pattern=r"^\d{4}Q[1-4]$"),
                Column("value", "float"),
                Column("evidence", "str", required=False, max_length=400),
                Column("reported_by", "str", max_length=40),
            ),
            "rating",
            "指标取值",
            "Rating values",
        ),
        Contract(
            "rating_tasks",
            ("task_id", "reported_at"),
            (
                _id("task_id"),
                Column("reported_at", "time"),
                Column("department", "str", max_length=40),
                Column("title", "str", max_length=200),
                Column("due", "date"),
                Column("status", "str", choices=("not_started", "in_progress", "done", "blocked")),
                Column("percent", "float", "%", low=0, high=100),
                Column("note", "str", required=False, max_length=1000),
                Column("evidence", "str", required=False, max_length=400),
            ),
            "rating",
            "工作任务",
            "Rating tasks",
            time="reported_at",
        ),
        # ---- events ----------------------------------------------------------
        Contract(
            "events",
            ("event_id",),
            (
                _id("event_id"),
                TS,
                Column("domain", "str", choices=("transport", "video", "environment", "tourism", "rating", "system")),
                Column("rule_id", "str", pattern=_ID),
                Column("severity", "int", low=1, high=4),
                _lon(required=False),
                _lat(required=False),
                Column("town_code", "str", required=False, pattern=r"^370406\d{3}$"),
                Column(
                    "state", "str", choices=("new", "acknowledged", "dispatched", "in_progress", "resolved", "closed")
                ),
                Column("title", "str", max_length=200),
            ),
            "events",
            "事件",
            "Events",
            time="ts",
        ),
    )
}

FEEDS: tuple[str, ...] = tuple(CONTRACTS)


def contract(feed: str) -> Contract:
    """The contract of ``feed``; an unknown name fails with the known ones."""
    try:
        return CONTRACTS[feed]
    except KeyError:
        from difflib import get_close_matches

        hint = get_close_matches(feed, FEEDS, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise KeyError(f"unknown feed {feed!r}{did}; known feeds: {', '.join(FEEDS)}") from None
