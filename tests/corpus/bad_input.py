"""The bad-input corpus (issue #12): what departments' feeds, brokers and browsers can send that must not hurt.

Each :class:`Case` changes one good row of a feed (the synthetic district's, so everything else in it is valid)
and says what must happen: ``reject`` with a reason naming the problem, or ``keep`` (the value is legitimate text,
however hostile it looks: stored exactly as given, and only ever shown escaped). Payload cases feed the MQTT
decoder and the files kind raw bytes; URL cases hit the HTTP endpoints with hostile parameters.

Used by ``tests/unit/test_bad_input.py`` (the store and the endpoints) and ``tests/browser/test_bad_input.py``
(hostile text rendered in Chromium executes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Script that would set ``window.__pwned`` if it ever ran: the browser test looks for it.
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
SVG = "<svg onload=window.__pwned=1>"
SQL = "x'; DROP TABLE events;--"
HUGE = "山" * 100_000


@dataclass(frozen=True)
class Case:
    id: str
    feed: str
    change: dict[str, Any]
    #: "reject" (with ``reason`` in the report) or "keep" (stored exactly, shown escaped).
    expect: str
    reason: str = ""
    why: str = ""


def reject(id: str, feed: str, reason: str, why: str = "", **change: Any) -> Case:
    return Case(id, feed, change, "reject", reason, why)


def keep(id: str, feed: str, why: str = "", **change: Any) -> Case:
    return Case(id, feed, change, "keep", "", why)


NAN, INF = float("nan"), float("inf")

ROWS: list[Case] = [
    # ---- numbers: NaN, infinities, strings, units, magnitudes, signs ------------------------------------------
    reject("pm25-string", "air_readings", "not a number", pm25="abc"),
    reject("pm25-inf", "air_readings", "not a finite number", pm25=INF),
    reject("pm25-neg-inf", "air_readings", "not a finite number", pm25=-INF),
    reject("pm25-negative", "air_readings", "below the allowed minimum", pm25=-1.0),
    reject("pm25-ng-not-ug", "air_readings", "above the allowed maximum", "ng/m³ delivered as µg/m³", pm25=35_000.0),
    reject("pm25-comma-decimal", "air_readings", "not a number", pm25="35,5"),
    keep("pm25-nan-is-no-value", "air_readings", "an optional pollutant not measured this hour", pm25=NAN),
    reject("speed-negative", "bus_positions", "below the allowed minimum", speed_kmh=-5.0),
    reject("speed-absurd", "bus_positions", "above the allowed maximum", speed_kmh=250.0),
    reject("speed-mph-string", "bus_positions", "not a number", speed_kmh="30 mph"),
    reject("on-board-negative", "bus_positions", "below the allowed minimum", on_board=-3),
    reject("on-board-fraction", "bus_positions", "not a whole number", on_board=12.5),
    reject("capacity-zero", "bus_positions", "below the allowed minimum", capacity=0),
    reject("delay-a-day", "bus_positions", "above the allowed maximum", delay_s=86_400),
    reject("segment-speed-absurd", "segment_speeds", "above the allowed maximum", speed_kmh=900.0),
    reject("occupied-negative", "parking_occupancy", "below the allowed minimum", occupied=-1),
    reject("in-park-negative", "visitor_counts", "below the allowed minimum", in_park=-10),
    reject("in-park-absurd", "visitor_counts", "above the allowed maximum", in_park=10**12),
    reject("arrivals-string", "visitor_counts", "not a number", arrivals_today="many"),
    reject("ph-out-of-scale", "water_samples", "above the allowed maximum", ph=15.0),
    reject("level-negative", "reservoir_levels", "below the allowed minimum", level_m=-3.0),
    reject(
        "level-mm-not-m",
        "reservoir_levels",
        "above the allowed maximum",
        "millimetres delivered as metres",
        level_m=180_500.0,
    ),
    reject("dose-negative", "radiation_readings", "below the allowed minimum", dose_ngy_h=-0.1),
    reject("dose-absurd", "radiation_readings", "above the allowed maximum", dose_ngy_h=1e9),
    reject("capacity-instant-zero", "scenic_spots", "below the allowed minimum", capacity_instant=0),
    reject("lot-capacity-negative", "parking_lots", "below the allowed minimum", capacity=-20),
    reject("cameras-count-negative", "camera_status_daily", "below the allowed minimum", cameras=-1),
    # ---- coordinates: outside the district, swapped, projected, missing ---------------------------------------
    reject(
        "lon-lat-swapped",
        "bus_positions",
        "below the allowed minimum",
        "lat/lon given the wrong way round",
        lon=35.1,
        lat=117.4,
    ),
    reject("outside-district", "cameras", "below the allowed minimum", "a camera in Beijing", lon=116.4, lat=39.9),
    reject(
        "projected-metres",
        "air_stations",
        "above the allowed maximum",
        "UTM metres, not degrees",
        lon=540_000.0,
        lat=3_880_000.0,
    ),
    reject("lat-missing", "key_places", "required value is missing", lat=None),
    reject("lon-string", "parking_lots", "not a number", lon="117.4E"),
    reject("null-island", "radiation_stations", "below the allowed minimum", lon=0.0, lat=0.0),
    # ---- times: future, naive, out of format -----------------------------------------------------------------
    reject("ts-future", "air_readings", "time is in the future", ts="2030-01-01T00:00:00+08:00"),
    reject("ts-naive", "bus_positions", "time without timezone", ts="2026-11-29T11:00:00"),
    reject("ts-words", "segment_speeds", "not an ISO 8601 time", ts="yesterday noon"),
    reject("ts-missing", "visitor_counts", "required value is missing", ts=None),
    reject("ts-garbage-date", "water_samples", "not an ISO 8601 time", ts="2026-13-45T99:00:00+08:00"),
    reject("date-bad", "camera_status_daily", "not a date", date="29/11/2026"),
    # ---- categories, flags, identifiers ------------------------------------------------------------------
    reject("status-unknown", "cameras", "not one of", status="broken"),
    reject("system-unknown", "cameras", "not one of", system="skynet"),
    reject("hd-maybe", "cameras", "not a boolean", hd="maybe"),
    reject("road-class-unknown", "road_segments", "not one of", road_class="motorway"),
    reject("averaging-24h", "air_readings", "not one of", averaging="24h"),
    reject("target-class-7", "water_sections", "above the allowed maximum", target_class=7),
    reject("town-code-other-county", "villages", "does not match", town_code="370402001"),
    reject("id-sql", "air_readings", "does not match", "SQL in a key is refused, not escaped", station_id=SQL),
    reject("id-html", "cameras", "does not match", camera_id=SCRIPT),
    reject("id-spaces", "parking_lots", "does not match", lot_id="lot 01"),
    reject("vehicle-without-line", "bus_positions", "required value is missing", line_id=None),
    reject("line-id-empty", "bus_positions", "required value is missing", line_id=""),
    # ---- strings: control characters, lengths, unicode, markup ------------------------------------------------
    reject("name-nul", "scenic_spots", "control characters", name="熊耳山\x00"),
    reject("name-escape-seq", "air_stations", "control characters", name="站\x1b[31m"),
    reject("name-enormous", "key_places", "longer than", name=HUGE),
    reject("name-too-long", "parking_lots", "longer than", name="停车场" * 30),
    keep("name-script", "scenic_spots", "text, shown escaped", name=SCRIPT),
    keep("name-img-onerror", "key_places", "text, shown escaped", name=IMG),
    keep("name-svg-onload", "parking_lots", "text, shown escaped", name=SVG),
    keep("name-sql", "air_stations", "text, never spliced into SQL", name=SQL),
    keep("name-rtl-override", "water_sections", "bidi override is text", name="断面\u202eevil"),
    keep("name-emoji-zwj", "scenic_spots", "emoji and joiners are text", name="翼云🏞️\u200d湖"),
    keep("name-fullwidth", "parking_lots", "full-width forms are text", name="ＰＡＲＫ１号"),
    # ---- geometry -------------------------------------------------------------------------------------------
    reject("geom-garbage", "towns", "not a geometry", geometry="POLYGON((garbage"),
    reject("geom-wrong-kind", "towns", "not a", geometry="POINT (117.4 35.1)"),
    reject(
        "geom-self-intersecting",
        "towns",
        "self-intersecting",
        geometry="POLYGON ((117.3 35.0, 117.5 35.2, 117.5 35.0, 117.3 35.2, 117.3 35.0))",
    ),
    reject("geom-outside", "road_segments", "outside the district", geometry="LINESTRING (116.3 39.9, 116.4 39.95)"),
    reject("geom-geojson-broken", "bus_lines", "not a geometry", geometry='{"type": "LineString", "coordinates": [[1'),
    reject("geom-empty", "road_segments", "empty or self-intersecting", geometry="LINESTRING EMPTY"),
]

#: Raw MQTT payloads: each goes to the dead letters with this reason.
PAYLOADS: list[tuple[str, bytes, str]] = [
    ("json-truncated", b'{"station_id": "air-01", "ts": "2026-11-29T11:00', "payload is not JSON"),
    ("json-single-quotes", b"{'station_id': 'air-01'}", "payload is not JSON"),
    ("json-not-utf8", '{"name": "东山"}'.encode("gbk"), "payload is not UTF-8"),
    ("json-null", b"null", "payload must be a JSON object"),
    ("json-number", b"42", "payload must be a JSON object"),
    ("json-empty-array", b"[]", "payload must be a JSON object or a non-empty array"),
    ("json-array-of-strings", b'["a", "b"]', "payload must be a JSON object"),
    ("json-empty", b"", "payload is not JSON"),
    (
        "json-nan-literal",
        b'{"station_id": "air-01", "ts": "2026-11-29T11:00:00+08:00", "pm25": NaN, "averaging": "1h", '
        b'"pm10": Infinity}',
        "pm10: not a finite number",
    ),
]

#: Files a department drops into the files kind's directory: (file name, content, what the error says).
FILES: list[tuple[str, str, bytes, str]] = [
    ("geojson-truncated", "towns.geojson", b'{"type": "FeatureCollection", "features": [', "towns.geojson"),
    ("geojson-not-collection", "towns.geojson", b'{"type": "Feature", "properties": {}}', "FeatureCollection"),
    (
        "csv-strings-in-numbers",
        "air_readings.csv",
        b"station_id,ts,pm25,averaging\nair-01,2026-11-29T11:00:00+08:00,high,1h\n",
        "not a number",
    ),
    ("csv-missing-columns", "air_readings.csv", b"station,when\nair-01,now\n", "missing required columns"),
]

#: Hostile URL parameters: (path, status, words in the error).
URLS: list[tuple[str, int, str]] = [
    ("/geo/cameras?scope=town:370406001'%20OR%20'1'='1", 400, "bad scope"),
    ("/geo/cameras?scope=town:370406001;DROP%20TABLE%20cameras", 400, "bad scope"),
    ("/api/v1/kpis?scope=asset:cameras:%27%20OR%201=1--", 400, "bad asset scope"),
    ("/api/v1/kpis?scope=" + "x" * 5000, 400, "bad scope"),
    ("/geo/accidents?days=7%20OR%201=1", 400, "days must be one of"),
    ("/geo/towns?kpi=%3Cscript%3E", 400, "kpi must be one of"),
    ("/export/camera-sites.csv?n=1;DROP", 400, "n must be a whole number"),
    ("/export/camera-sites.csv?n=-1", 400, "n must be a whole number"),
    ("/geo/cameras%00", 404, "unknown layer"),
]

#: Paths that try to climb out of the served directories: whatever answers, it is never the file.
TRAVERSALS: list[str] = [
    "/geo/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/assets/../../../../etc/passwd",
    "/_dash-component-suites/dash/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/export/..%2f..%2fetc%2fpasswd",
]

ALL_CASES: list[Any] = [*ROWS, *PAYLOADS, *FILES, *URLS]
