"""智慧交通: what the transport scene shows, computed from the live feeds per scope.

Bus KPIs come from :mod:`dashboard.domain.bus` (REFERENCE.md §4, assumptions named there), congestion and
accidents from :mod:`dashboard.domain.traffic` (参照 GB/T 33171). Every function here except the ones taking a
:class:`~dashboard.live.Live` is pure over frames, scope and "now", so the unit tests pin each number by hand.

Results are frozen dataclasses of plain values so a whole view pickles into the shared cache: every screen
polling the same scope costs one computation per refresh.

Scope: a 镇街 or 村居 shows the bus lines with a stop in it (each line whole: its KPIs are the line's), the road
segments, accidents and parking lots inside it; a line, segment or lot asset shows that one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import partial
from typing import Generic, TypeVar, cast

import numpy as np
import pandas as pd
import shapely

from dashboard.areas import Areas
from dashboard.domain import bus, traffic
from dashboard.health import off_hours
from dashboard.live import Failed, Live, Rows, cached, cached_here, latest_per, panel, renewed, spread
from dashboard.scope import Scope
from dashboard.timeutil import TZ
from datasources import SourceError
from datasources.contracts import CONTRACTS

log = logging.getLogger(__name__)

H = timedelta(hours=1)
#: A vehicle is in service when it pinged within this long (the buses layer uses the same).
IN_SERVICE = timedelta(minutes=3)
#: Segment speeds older than this are not "now" (the feed's freshness limit).
SPEED_WITHIN = timedelta(minutes=20)
#: Accident periods the scene offers (days); 84 days are the 12 weeks of the trend.
PERIODS: tuple[int, ...] = (7, 30, 84)
TREND_WEEKS = 12
MAX_WORST = 10
MAX_VEHICLES = 12
MAX_HOTSPOTS = 8
MAX_ARRIVALS = 6
#: Closed hours of today's pings are read once and kept this long (they no longer change).
CLOSED_TTL = 6 * 3600
#: How long a panel's value computed over unchanged data is shown before it is computed again (as a tile's).
PANEL_BUCKET_S = 60
#: A screening is keyed by everything it was computed from, so this only bounds how long an unused one is kept.
SCREEN_TTL = 60

T = TypeVar("T")
Frames = Mapping[str, pd.DataFrame]
#: How pings become a :class:`Fleet`: :func:`fleet_of` itself, or a memo of it (see :func:`screener`).
Screen = Callable[[pd.DataFrame, pd.DataFrame, shapely.Geometry], "Fleet"]


# ---- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    line_id: str
    name: str
    scheduled: int
    in_service: int
    on_time: float | None
    regularity: float | None
    load: float | None
    crowded: int
    coverage: float | None


@dataclass(frozen=True)
class VehicleRow:
    vehicle_id: str
    line_id: str
    delay_s: int
    load: float
    crowded: bool
    on_time: bool
    speed_kmh: float
    age_s: float


@dataclass(frozen=True)
class BusPanel:
    lines: tuple[LineRow, ...]
    #: The drilled line's vehicles; else the most crowded and latest vehicles in scope.
    vehicles: tuple[VehicleRow, ...]
    total: LineRow
    #: Pings set aside by reason (screening) and rows the feed contract rejected in this read.
    flagged: tuple[tuple[str, int], ...]
    rejected: int
    data_time: datetime | None
    #: Outside the bus service day (the feed contract's active hours).
    idle: bool = False


@dataclass(frozen=True)
class TpiPanel:
    value: float | None
    level: int | None
    #: TPI per hour for the 24 hours ending now (oldest first), and the same hours a week earlier.
    hours: tuple[datetime, ...]
    today: tuple[float | None, ...]
    last_week: tuple[float | None, ...]
    segments: int
    data_time: datetime | None


@dataclass(frozen=True)
class SegmentRow:
    segment_id: str
    name: str
    road_class: str
    speed_kmh: float
    level: int


@dataclass(frozen=True)
class Hotspot:
    count: int
    lon: float
    lat: float
    worst: int
    last: datetime
    place: str


@dataclass(frozen=True)
class AccidentPanel:
    days: int
    total: int
    by_severity: tuple[int, int, int, int]
    hotspots: tuple[Hotspot, ...]
    weeks: tuple[datetime, ...]
    weekly: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True)
class LotRow:
    lot_id: str
    name: str
    capacity: int
    occupied: int | None
    free: int | None
    rate: float | None


@dataclass(frozen=True)
class ParkingPanel:
    lots: tuple[LotRow, ...]
    total: traffic.ParkingTotal
    data_time: datetime | None


@dataclass(frozen=True)
class StopChoice:
    stop_id: str
    label: str


@dataclass(frozen=True)
class TransportView:
    """Everything the scene shows at one scope; a panel whose feeds fail holds the :class:`Failed`."""

    scope_key: str
    now: datetime
    buses: BusPanel | Failed
    stops: tuple[StopChoice, ...] | Failed
    tpi: TpiPanel | Failed
    worst: tuple[SegmentRow, ...] | Failed
    parking: ParkingPanel | Failed


@dataclass(frozen=True)
class Arrival:
    vehicle_id: str
    eta_s: float
    distance_m: float
    load: float


@dataclass(frozen=True)
class ArrivalPanel:
    stop_id: str
    stop_name: str
    line_id: str
    line_name: str
    arrivals: tuple[Arrival, ...]


@dataclass(frozen=True)
class TripPoint:
    at: datetime
    delay_s: int
    load: float


@dataclass(frozen=True)
class Trip:
    vehicle_id: str
    line_id: str
    points: tuple[TripPoint, ...]
    on_time: float | None
    mean_delay_s: float | None
    max_load: float | None


# ---- scope ------------------------------------------------------------------------------------------


def lines_in_scope(lines: pd.DataFrame, stops: pd.DataFrame, scope: Scope, areas: Areas) -> pd.DataFrame:
    """The bus lines a scope shows: all, those with a stop in the area, or the line asset."""
    if scope.level == "asset":
        return lines.loc[lines["line_id"] == scope.code] if scope.feed == "bus_lines" else lines.iloc[0:0]
    if scope.level == "district":
        return lines
    return lines.loc[lines["line_id"].isin(areas.select(stops, scope)["line_id"])]


def assets_in_scope(frame: pd.DataFrame, scope: Scope, areas: Areas, feed: str, key: str) -> pd.DataFrame:
    """Area-tagged assets inside the scope; at an asset scope the asset itself, if it is one of ``feed``'s."""
    if scope.level == "asset":
        return frame.loc[frame[key] == scope.code] if scope.feed == feed else frame.iloc[0:0]
    return areas.select(frame, scope)


def accidents_in_scope(accidents: pd.DataFrame, scope: Scope, areas: Areas) -> pd.DataFrame:
    """Accidents in the area; at a segment asset those on that segment; other assets have none."""
    if scope.level == "asset":
        if scope.feed == "road_segments" and "segment_id" in accidents:
            return accidents.loc[accidents["segment_id"] == scope.code]
        return accidents.iloc[0:0]
    return areas.select(accidents, scope)


# ---- buses ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fleet:
    """What the pings say whatever the scope: their screening, and every vehicle's state from its kept pings."""

    screened: bus.Screened
    #: :func:`bus.vehicle_states` of every kept ping; ``age_s`` as of the newest ping (:func:`scope_states`
    #: measures it again from the "now" asked).
    states: pd.DataFrame
    #: Each (vehicle, line) with a kept ping, as two aligned arrays: which vehicles a scope's lines hold.
    vehicle_lines: tuple[np.ndarray, np.ndarray]
    newest: pd.Timestamp | None


def fleet_of(
    pings: pd.DataFrame, lines: pd.DataFrame, district: shapely.Geometry, placed: bus.Placement | None = None
) -> Fleet:
    """Screen ``pings`` against every line and the district, and take each vehicle's state from the kept ones
    (``placed``: the pings' :func:`bus.placement`, when the caller has it)."""
    screened = bus.screen_pings(pings, lines, district, placed=placed)
    kept = screened.kept
    newest = kept["ts"].max() if len(kept) else None
    states = bus.vehicle_states(kept, (newest if newest is not None else pd.Timestamp(0, tz="UTC")).to_pydatetime())
    pairs = kept[["vehicle_id", "line_id"]].drop_duplicates()
    vehicle_lines = (pairs["vehicle_id"].to_numpy(dtype=object), pairs["line_id"].to_numpy(dtype=object))
    return Fleet(screened, states, vehicle_lines, newest)


def scope_states(fleet: Fleet, line_ids: Collection[str], now: datetime) -> pd.DataFrame:
    """``bus.vehicle_states`` of the kept pings on ``line_ids`` up to ``now``, from the fleet's states.

    A vehicle's state depends on its own pings only, so a vehicle whose kept pings all lie on ``line_ids`` (the
    usual case) has the fleet's state, its age measured from ``now``; one that also pinged on another line in the
    window is computed again from its pings on ``line_ids``. Pings after ``now`` (a "now" in the past) are left
    out by computing everything again.
    """
    kept, at = fleet.screened.kept, pd.Timestamp(now)
    if fleet.newest is None or fleet.newest > at:
        mine = kept.loc[(kept["ts"] <= at) & kept["line_id"].isin(line_ids)]
        return bus.vehicle_states(mine, now)
    # over the (vehicle, line) pairs, some hundred, not the pings: sets, as pandas' isin over arrow strings
    # converts each value it is given, one by one
    vehicles, lines = fleet.vehicle_lines
    on = np.fromiter((line in line_ids for line in lines), dtype=bool, count=len(lines))
    if not on.any():
        return bus.vehicle_states(kept.iloc[0:0], now)
    mine = set(vehicles[on])
    mixed = sorted(mine.intersection(vehicles[~on]))
    pure = fleet.states.loc[fleet.states["vehicle_id"].isin(sorted(mine.difference(mixed)))]
    pure = pure.assign(age_s=(at - pure["ts"]).dt.total_seconds())
    if mixed:
        again = kept.loc[kept["line_id"].isin(line_ids) & kept["vehicle_id"].isin(mixed)]
        pure = pd.concat([pure, bus.vehicle_states(again, now)]).sort_values("vehicle_id", kind="stable")
    return pure.reset_index(drop=True)


def screening_key(pings: pd.DataFrame, lines: pd.DataFrame, district: shapely.Geometry) -> str:
    """A digest of everything :func:`fleet_of` reads: every ping's values in delivery order, each line's id and
    geometry, the district outline and the thresholds. Equal digests give equal fleets, so a fleet kept under it
    is the one a full screening would give now: a ping appended, rewritten or removed, or a line or the outline
    redrawn, is a new digest."""
    return _screening_key(pings, _geography_digest(lines, district))


def _screening_key(pings: pd.DataFrame, geography: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(repr([(str(c), str(t)) for c, t in pings.dtypes.items()]).encode())
    h.update(row_hashes(pings).tobytes())
    h.update(geography)
    return h.hexdigest()


def _geography_digest(lines: pd.DataFrame, district: shapely.Geometry) -> bytes:
    """A digest of what screening checks each ping against: the lines, the outline and the thresholds."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(lines["line_id"].tolist()).encode())
    for wkb in shapely.to_wkb(lines["geometry"].to_numpy()):
        h.update(b"\0" if wkb is None else len(wkb).to_bytes(4, "big") + wkb)
    h.update(shapely.to_wkb(district))
    h.update(f"{bus.MAX_OFF_ROUTE_M}|{bus.MAX_JUMP_KMH}|{bus.MIN_MOVE_M}".encode())
    return h.digest()


class FrameMemo(Generic[T]):
    """``compute(*frames)`` kept per tuple of frame objects, in this process.

    Frames read from the feeds are never modified in place (they are shared by every caller), so objects seen
    before give what they gave; an entry goes when one of its frames is collected. A refresh hands the same
    frames to the bus panel, the arrivals and the badge, and the same reference frames to every refresh while
    their versions stand.
    """

    def __init__(self, compute: Callable[..., T]) -> None:
        self._compute = compute
        self._held: dict[tuple[int, ...], tuple[tuple[weakref.ref[pd.DataFrame], ...], T]] = {}
        self._lock = threading.Lock()

    def __call__(self, *frames: pd.DataFrame) -> T:
        key = tuple(map(id, frames))
        with self._lock:
            hit = self._held.get(key)
        if hit is not None and all(ref() is frame for ref, frame in zip(hit[0], frames, strict=True)):
            return hit[1]
        value = self._compute(*frames)
        with self._lock:
            for gone in [k for k, (refs, _) in self._held.items() if any(ref() is None for ref in refs)]:
                del self._held[gone]
            self._held[key] = (tuple(map(weakref.ref, frames)), value)
        return value


#: A 64-bit hash of each of a frame's rows (its values, not its index), computed once per frame object.
row_hashes: FrameMemo[np.ndarray] = FrameMemo(lambda frame: pd.util.hash_pandas_object(frame, index=False).to_numpy())


def screener(live: Live, name: str) -> Screen:
    """:func:`fleet_of`, computed once per distinct input for every scope, callback and worker.

    The fleet is kept in the shared cache under :func:`screening_key` (a refresh screens the same pings for the
    scene at each scope, the arrival panel and the rating's coverage badge); ``name`` is the slot this process
    keeps its last one in (one per kind of caller, so that they do not evict each other). A new fleet places
    only the pings the last one's did not (:func:`placed`).
    """

    def screen(pings: pd.DataFrame, lines: pd.DataFrame, district: shapely.Geometry) -> Fleet:
        geography = _geography_digest(lines, district)
        return cached_here(
            live.cache,
            live.locks,
            live.here,
            f"trn:fleet:{_screening_key(pings, geography)}",
            SCREEN_TTL,
            lambda: fleet_of(
                pings, lines, district, placed(live.here, f"trn:placed:{name}", pings, lines, district, geography)
            ),
            lock=f"trn:fleet:{name}",
        )

    return screen


def placed(
    here: dict[str, tuple[str, object]],
    slot: str,
    pings: pd.DataFrame,
    lines: pd.DataFrame,
    district: shapely.Geometry,
    geography: bytes,
) -> bus.Placement:
    """:func:`bus.placement` of ``pings``, from the placement this process last made in ``slot`` where the pings
    are its pings less some of the oldest, plus new ones (a window that slid): only the new ones are placed.

    Rows are matched by their hashes (:func:`row_hashes`) over the whole overlap, against the same lines and
    outline (``geography``: their :func:`_geography_digest`); anything else (a ping rewritten, removed from the
    middle, or delivered in another order) is placed whole.
    """
    hashes = row_hashes(pings)
    held = here.get(slot)
    got: bus.Placement | None = None
    if held is not None and held[0] == geography.hex():
        old, s_m, off_m, inside = cast(tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], held[1])
        start = _overlap(old, hashes)
        if start is not None:
            new_s, new_off, new_inside = bus.placement(pings.iloc[len(old) - start :], lines, district)
            got = (
                np.concatenate([s_m[start:], new_s]),
                np.concatenate([off_m[start:], new_off]),
                np.concatenate([inside[start:], new_inside]),
            )
    if got is None:
        got = bus.placement(pings, lines, district)
    here[slot] = (geography.hex(), (hashes, *got))
    return got


def _overlap(old: np.ndarray, new: np.ndarray) -> int | None:
    """Where in ``old`` the rows begin that ``new`` starts with (``old[start:] == new[:len(old) - start]``), or
    None when ``new`` does not continue ``old`` that way."""
    if not len(old) or not len(new):
        return None
    for start in np.flatnonzero(old == new[0]):
        if len(old) - start <= len(new) and np.array_equal(old[start:], new[: len(old) - start]):
            return int(start)
    return None


def bus_states(
    pings: pd.DataFrame,
    all_lines: pd.DataFrame,
    line_ids: Collection[str],
    district: shapely.Geometry,
    now: datetime,
    screen: Screen = fleet_of,
) -> tuple[pd.DataFrame, bus.Screened]:
    """(state now of each in-service vehicle of ``line_ids``, the screening of every ping against all lines)."""
    fleet = screen(pings, all_lines, district)
    states = scope_states(fleet, line_ids, now)
    return states.loc[states["age_s"] <= IN_SERVICE.total_seconds()].reset_index(drop=True), fleet.screened


#: Stops with ``s_m``, their distance along their line (kept while the stops and lines stand).
stop_positions: FrameMemo[pd.DataFrame] = FrameMemo(bus.locate)


@dataclass(frozen=True)
class Vehicles:
    """The vehicle-state columns a line's KPIs read, as arrays: a line's vehicles are a mask away (slicing a
    frame per line cost more than the KPIs themselves)."""

    line_id: np.ndarray
    s_m: np.ndarray
    direction: np.ndarray
    delay_s: np.ndarray
    load: np.ndarray
    crowded: np.ndarray
    age_s: np.ndarray

    @classmethod
    def of(cls, states: pd.DataFrame) -> Vehicles:
        return cls(
            states["line_id"].to_numpy(dtype=object),
            states["s_m"].to_numpy(dtype=float),
            states["direction"].to_numpy(dtype=int),
            states["delay_s"].to_numpy(dtype=float),
            states["load"].to_numpy(dtype=float),
            states["crowded"].to_numpy(dtype=bool),
            states["age_s"].to_numpy(dtype=float),
        )

    def on(self, line_id: str) -> Vehicles:
        mask = self.line_id == line_id
        return Vehicles(*(getattr(self, f.name)[mask] for f in fields(self)))


def line_row(
    line_id: str, name: str, scheduled: int, vehicles: Vehicles, stops_s: np.ndarray, idle: bool = False
) -> LineRow:
    """One line's KPIs from its vehicles' states and its stops' positions along it. ``idle``: outside the bus
    service day, when a line without vehicles has no coverage to measure (in it, no vehicle is 0 % covered)."""
    s, d = vehicles.s_m, vehicles.direction
    gaps = np.concatenate([bus.headway_gaps(s[d == way]) for way in (1, -1)])
    loads = vehicles.load
    return LineRow(
        line_id=line_id,
        name=name,
        scheduled=scheduled,
        in_service=len(s),
        on_time=bus.on_time_rate(vehicles.delay_s.tolist()),
        regularity=bus.headway_regularity(gaps),
        load=float(loads.mean()) if len(loads) else None,
        crowded=int(vehicles.crowded.sum()),
        coverage=bus.covered_share(stops_s, s, d, vehicles.age_s) if len(stops_s) and (len(s) or not idle) else None,
    )


def _weighted(rows: list[LineRow], attr: str, weight: Callable[[LineRow], float]) -> float | None:
    pairs = [(getattr(r, attr), weight(r)) for r in rows if getattr(r, attr) is not None and weight(r) > 0]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def total_row(rows: list[LineRow], states: pd.DataFrame, coverage: float | None) -> LineRow:
    """The scope's totals: vehicle-weighted on-time and load, line-mean regularity, stop-weighted coverage."""
    regular = [r.regularity for r in rows if r.regularity is not None]
    return LineRow(
        line_id="",
        name="",
        scheduled=sum(r.scheduled for r in rows),
        in_service=sum(r.in_service for r in rows),
        on_time=bus.on_time_rate(states["delay_s"].tolist()),
        regularity=float(np.mean(regular)) if regular else None,
        load=float(states["load"].mean()) if len(states) else None,
        crowded=int(states["crowded"].sum()),
        coverage=coverage,
    )


def _vehicle_rows(states: pd.DataFrame, drilled: bool, limit: int = MAX_VEHICLES) -> tuple[VehicleRow, ...]:
    ordered = (
        states.sort_values("vehicle_id")
        if drilled
        else states.sort_values(["crowded", "load", "delay_s"], ascending=False, kind="stable").head(limit)
    )
    return tuple(
        VehicleRow(
            str(r.vehicle_id),
            str(r.line_id),
            int(r.delay_s),
            float(r.load),
            bool(r.crowded),
            bool(r.on_time),
            float(r.speed_kmh),
            float(r.age_s),
        )
        for r in ordered.itertuples(index=False)
    )


def bus_panel(
    pings: pd.DataFrame,
    all_lines: pd.DataFrame,
    lines: pd.DataFrame,
    stops: pd.DataFrame,
    district: shapely.Geometry,
    scope: Scope,
    now: datetime,
    rejected: int = 0,
    screen: Screen = fleet_of,
) -> BusPanel:
    """Per-line and scope-wide bus KPIs of ``lines`` (those in scope) from the recent pings of every line."""
    states, screened = bus_states(pings, all_lines, set(lines["line_id"]), district, now, screen)
    located = stop_positions(stops, all_lines)
    located = located.loc[located["line_id"].isin(lines["line_id"])]
    rows, covered, n_stops = [], 0, 0
    idle = off_hours(CONTRACTS["bus_positions"].active_hours, now)
    vehicles = Vehicles.of(states)
    stop_line, stop_s = located["line_id"].to_numpy(dtype=object), located["s_m"].to_numpy(dtype=float)
    ordered = lines.sort_values("line_id")
    for line_id, name, scheduled in zip(
        ordered["line_id"].tolist(), ordered["name"].tolist(), ordered["scheduled_vehicles"].tolist(), strict=True
    ):
        stops_s = stop_s[stop_line == line_id]
        row = line_row(str(line_id), str(name), int(scheduled), vehicles.on(line_id), stops_s, idle)
        rows.append(row)
        if row.coverage is not None:
            covered += round(row.coverage * len(stops_s))
            n_stops += len(stops_s)
    drilled = scope.level == "asset" and scope.feed == "bus_lines"
    return BusPanel(
        lines=tuple(rows),
        vehicles=_vehicle_rows(states, drilled),
        total=total_row(rows, states, covered / n_stops if n_stops else None),
        flagged=tuple(sorted(screened.counts().items())),
        rejected=rejected,
        data_time=states["ts"].max().to_pydatetime() if len(states) else None,
        idle=idle,
    )


def stop_choices(stops: pd.DataFrame, lines: pd.DataFrame) -> tuple[StopChoice, ...]:
    """Stops of the lines in scope, by line and sequence: "1路 · 和平社区站"."""
    names = dict(zip(lines["line_id"], lines["name"], strict=True))
    mine = stops.loc[stops["line_id"].isin(names)].sort_values(["line_id", "seq"])
    return tuple(StopChoice(str(r.stop_id), f"{names[r.line_id]} · {r.name}") for r in mine.itertuples(index=False))


def arrival_panel(
    stop_id: str,
    pings: pd.DataFrame,
    lines: pd.DataFrame,
    stops: pd.DataFrame,
    district: shapely.Geometry,
    now: datetime,
    screen: Screen = fleet_of,
) -> ArrivalPanel | None:
    """The next vehicles at a stop (soonest first), or None when the stop is unknown."""
    stop_table, line_names = stop_index(stops, lines)
    if stop_id not in stop_table:
        return None
    line_id, stop_name, stop_s = stop_table[stop_id]
    # The screening of every ping (shared with the bus panels of every scope), the states of this line's vehicles:
    # the vehicles the line's own panel shows, predicted from the same states.
    states, _ = bus_states(pings, lines, {line_id}, district, now, screen)
    predicted = bus.predict_arrivals(stop_s, states, bus.operating_speed(states)) if len(states) else None
    load = dict(zip(states["vehicle_id"], states["load"], strict=True))
    arrivals = (
        ()
        if predicted is None
        else tuple(
            Arrival(str(r.vehicle_id), float(r.eta_s), float(r.distance_m), float(load[r.vehicle_id]))
            for r in predicted.head(MAX_ARRIVALS).itertuples(index=False)
        )
    )
    return ArrivalPanel(stop_id, stop_name, line_id, line_names.get(line_id, line_id), arrivals)


def _stop_index(stops: pd.DataFrame, lines: pd.DataFrame) -> tuple[dict[str, tuple[str, str, float]], dict[str, str]]:
    table: dict[str, tuple[str, str, float]] = {}
    for r in stop_positions(stops, lines).itertuples(index=False):
        table.setdefault(str(r.stop_id), (str(r.line_id), str(r.name), float(r.s_m)))
    return table, {str(k): str(v) for k, v in zip(lines["line_id"], lines["name"], strict=True)}


#: Each stop's (line, name, metres along its line) by stop id, and each line's name by line id.
stop_index: FrameMemo[tuple[dict[str, tuple[str, str, float]], dict[str, str]]] = FrameMemo(_stop_index)


def trip_of(pings: pd.DataFrame, vehicle_id: str) -> Trip | None:
    """A vehicle's pings today as a delay/load series with its day's summary, or None without pings."""
    mine = pings.loc[pings["vehicle_id"] == vehicle_id].sort_values("ts")
    if mine.empty:
        return None
    load = mine["on_board"] / mine["capacity"]
    return Trip(
        vehicle_id=vehicle_id,
        line_id=str(mine["line_id"].iloc[-1]),
        points=tuple(
            TripPoint(ts.to_pydatetime(), int(d), float(lf))
            for ts, d, lf in zip(mine["ts"], mine["delay_s"], load, strict=True)
        ),
        on_time=bus.on_time_rate(mine["delay_s"].tolist()),
        mean_delay_s=float(mine["delay_s"].mean()),
        max_load=float(load.max()),
    )


# ---- congestion -------------------------------------------------------------------------------------


def segments_now(segments: pd.DataFrame, speeds: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``segments`` with their newest speed (≤ 20 min old; NaN otherwise)."""
    latest = latest_per(speeds, "segment_id", now, SPEED_WITHIN)
    return segments.merge(latest[["segment_id", "speed_kmh", "ts"]], on="segment_id", how="left")


def hour_ends(now: datetime, hours: int = 24) -> pd.DatetimeIndex:
    """The ends of the last ``hours`` whole hours, oldest first (the newest is the hour now is in)."""
    top = pd.Timestamp(now).ceil("h")
    return pd.date_range(top - pd.Timedelta(hours=hours - 1), top, freq="h")


def tpi_panel(
    segments: pd.DataFrame,
    speeds: pd.DataFrame,
    now: datetime,
    closed: pd.Series | None = None,
    last_week: pd.Series | None = None,
    current: pd.DataFrame | None = None,
) -> TpiPanel:
    """The scope's TPI now and per hour over the last 24 h, against the same hours 7 days earlier.

    ``closed`` may carry the TPI of the 23 closed hours already (they do not change within the hour);
    ``last_week`` the curve of the same 24 hours a week earlier, indexed by this week's hours; ``current``
    :func:`segments_now` of the same segments, speeds and "now".
    """
    current = segments_now(segments, speeds, now) if current is None else current
    known = current.loc[current["speed_kmh"].notna()]
    value = traffic.district_tpi(known[["length_m", "speed_kmh", "road_class"]]) if len(known) else None
    ends = hour_ends(now)
    if closed is None:
        mine = speeds.loc[speeds["segment_id"].isin(segments["segment_id"])]
        today = traffic.hourly_tpi(mine, segments, ends)
    else:
        # the current hour first: a few hundred of the day's rows to match against the scope's segments
        recent = speeds.loc[speeds["ts"] > ends[-2]]
        recent = recent.loc[recent["segment_id"].isin(segments["segment_id"])]
        today = pd.concat([closed.reindex(ends[:-1]), traffic.hourly_tpi(recent, segments, ends[-1:])])
    week = last_week.reindex(ends) if last_week is not None else pd.Series(np.nan, index=ends)
    return TpiPanel(
        value=value,
        level=traffic.tpi_level(value)[0] if value is not None else None,
        hours=tuple(t.to_pydatetime() for t in ends),
        today=tuple(None if pd.isna(v) else float(v) for v in today),
        last_week=tuple(None if pd.isna(v) else float(v) for v in week),
        segments=len(known),
        data_time=known["ts"].max().to_pydatetime() if len(known) else None,
    )


def week_before(speeds: pd.DataFrame, segments: pd.DataFrame, ends: pd.DatetimeIndex) -> pd.Series:
    """The TPI of the hours 7 days before ``ends``, indexed by ``ends``."""
    mine = speeds.loc[speeds["segment_id"].isin(segments["segment_id"])]
    before = traffic.hourly_tpi(mine, segments, ends - pd.Timedelta(days=7))
    return pd.Series(before.to_numpy(), index=ends)


def worst_rows(
    segments: pd.DataFrame,
    speeds: pd.DataFrame,
    now: datetime,
    n: int = MAX_WORST,
    current: pd.DataFrame | None = None,
) -> tuple[SegmentRow, ...]:
    """The most congested segments in scope now (``current``: :func:`segments_now` of the same, if at hand)."""
    worst = traffic.worst_segments(segments_now(segments, speeds, now) if current is None else current, n)
    return tuple(
        SegmentRow(str(r.segment_id), str(r.name), str(r.road_class), float(r.speed_kmh), int(r.level))
        for r in worst.itertuples(index=False)
    )


# ---- accidents and parking --------------------------------------------------------------------------


def accident_panel(accidents: pd.DataFrame, segments: pd.DataFrame, now: datetime, days: int) -> AccidentPanel:
    """Accidents of the last ``days`` days (total, by severity, hotspots) and the 12-week trend."""
    end = pd.Timestamp(now)
    period = accidents.loc[(accidents["ts"] > end - pd.Timedelta(days=days)) & (accidents["ts"] <= end)]
    names = dict(zip(segments["segment_id"], segments["name"], strict=True))
    spots = traffic.accident_hotspots(period).head(MAX_HOTSPOTS)
    weekly = traffic.weekly_counts(accidents, end, TREND_WEEKS)
    sev = tuple(int((period["severity"] == s).sum()) for s in (1, 2, 3, 4))
    return AccidentPanel(
        days=days,
        total=len(period),
        by_severity=sev,  # type: ignore[arg-type]
        hotspots=tuple(
            Hotspot(
                int(r.count),
                float(r.lon),
                float(r.lat),
                int(r.worst),
                r.last.to_pydatetime(),
                names.get(r.segment_id, "") if r.segment_id else "",
            )
            for r in spots.itertuples(index=False)
        ),
        weeks=tuple(w.to_pydatetime() for w in weekly["week"]),
        weekly=tuple(
            (int(a), int(b), int(c), int(d))
            for a, b, c, d in weekly[["sev1", "sev2", "sev3", "sev4"]].itertuples(index=False)
        ),
    )


def parking_panel(lots: pd.DataFrame, occupancy: pd.DataFrame, now: datetime) -> ParkingPanel:
    """Each lot in scope with occupancy and free spaces, and their total."""
    latest = latest_per(occupancy, "lot_id", now, timedelta(minutes=30))
    table = traffic.parking_lots(lots[["lot_id", "name", "capacity"]], latest)  # the columns shown: a lighter merge
    return ParkingPanel(
        lots=tuple(
            LotRow(
                str(r.lot_id),
                str(r.name),
                int(r.capacity),
                None if pd.isna(r.occupied) else int(r.occupied),
                None if pd.isna(r.free) else int(r.free),
                None if pd.isna(r.rate) else float(r.rate),
            )
            for r in table.itertuples(index=False)
        ),
        total=traffic.parking_total(table),
        data_time=latest["ts"].max().to_pydatetime() if len(latest) else None,
    )


# ---- from the live feeds ----------------------------------------------------------------------------


def read_window(live: Live, feed: str, start: datetime, end: datetime) -> pd.DataFrame | Failed:
    """A feed's rows in (start, end], beyond the live window (callers cache what they compute from it)."""
    try:
        got = live.sources.read(feed, start=start, end=end)
    except SourceError as exc:
        return Failed(feed, str(exc)[:300])
    if got.report.errors:
        return Failed(feed, "; ".join(got.report.errors))
    return got.frame


def tpi_curves(
    live: Live, scope: Scope, segments: pd.DataFrame, speeds: pd.DataFrame, now: datetime
) -> tuple[pd.Series, pd.Series | None]:
    """(TPI of the 23 closed hours, the same 24 hours last week), each computed once per hour and scope."""
    ends = hour_ends(now)
    hour = ends[-2].isoformat()

    def closed() -> pd.Series:
        return traffic.hourly_tpi(speeds.loc[speeds["segment_id"].isin(segments["segment_id"])], segments, ends[:-1])

    def week() -> pd.Series | Failed:
        start = (ends[0] - pd.Timedelta(days=7, hours=1)).to_pydatetime()
        rows = read_window(live, "segment_speeds", start, (ends[-1] - pd.Timedelta(days=7)).to_pydatetime())
        return rows if isinstance(rows, Failed) else week_before(rows, segments, ends)

    got_closed = cached(live.cache, live.locks, f"trn:tpi:{scope.key}:{hour}", 3600, closed)
    got_week = cached(live.cache, live.locks, f"trn:tpi-week:{scope.key}:{hour}", 3600, week)
    return got_closed, None if isinstance(got_week, Failed) else got_week


def _minutely(frame: pd.DataFrame) -> pd.DataFrame:
    """One ping per vehicle and minute (the last delivered), in delivery order: enough for a day's delay curve,
    4× fewer rows. A minute runs from just after its start to its end, (m − 1 min, m], as the spans a day is read
    in do: a ping at 09:00:00 closes the 08:xx hour, and a minute never straddles two spans (two points for it)."""
    cols = ["vehicle_id", "ts", "line_id", "on_board", "capacity", "delay_s"]
    if frame.empty:
        return frame.reindex(columns=cols)
    minute = -(-bus.epoch_ns(frame["ts"]) // 60_000_000_000)  # the minute a ping ends, (m − 1 min, m]
    vehicle = pd.factorize(frame["vehicle_id"])[0]
    key = vehicle * (int(minute.max() - minute.min()) + 1) + (minute - minute.min())
    _, first_from_end = np.unique(key[::-1], return_index=True)
    return frame.iloc[np.sort(len(key) - 1 - first_from_end)][cols]


#: Each vehicle's row positions in a frame of pings (a day's closed pings: kept while that frame is).
_vehicle_rows_of: FrameMemo[dict[str, np.ndarray]] = FrameMemo(
    lambda frame: {str(k): v for k, v in frame.groupby("vehicle_id", sort=False).indices.items()}
)


def pings_today(live: Live, now: datetime, vehicle_id: str | None = None) -> pd.DataFrame | Failed:
    """Today's (local) bus pings, a minute apart: closed hours read once and kept, the current hour from
    closed ten-minute blocks, the last minutes from the live read (``vehicle_id``: that vehicle's only)."""
    at = pd.Timestamp(now).tz_convert("UTC")  # one zone for every bound (and cache key), whatever "now" came in
    midnight = at.tz_convert(TZ).normalize().tz_convert("UTC").to_pydatetime()
    hour = at.floor("h").to_pydatetime()
    block = at.floor("10min").to_pydatetime()
    spans = [(t, t + H, CLOSED_TTL) for t in pd.date_range(midnight, hour, freq="h", inclusive="left").to_pydatetime()]
    spans += [
        (t, t + timedelta(minutes=10), 600)
        for t in pd.date_range(hour, block, freq="10min", inclusive="left").to_pydatetime()
    ]
    # The closed spans joined once per ten-minute block and kept in this process (see cached_here): a trip
    # refreshing every few seconds no longer unpickles and joins a dozen hours of pings each time.
    closed: pd.DataFrame | Failed = cached_here(
        live.cache,
        live.locks,
        live.here,
        f"trn:day-closed:{midnight.isoformat()}:{block.isoformat()}",
        600,
        partial(_closed_today, live, spans),
        lambda got: isinstance(got, Failed) and live.ttl,
        lock="trn:day-closed",
    )
    if isinstance(closed, Failed):
        return closed
    tail = live.rows("bus_positions")
    if isinstance(tail, Failed):
        return tail
    pings = tail.frame
    recent = bus.epoch_ns(pings["ts"]) > pd.Timestamp(block).value
    if vehicle_id is not None:  # one vehicle's day: chosen before joining (the day's pings are 10,000s of rows)
        closed = closed.iloc[_vehicle_rows_of(closed).get(vehicle_id, np.zeros(0, dtype=np.intp))]
        recent &= pings["vehicle_id"].to_numpy() == vehicle_id
    last = _minutely(pings.loc[recent])
    return pd.concat([p for p in (closed, last) if len(p)] or [last], ignore_index=True)


def _closed_today(live: Live, spans: list[tuple[datetime, datetime, int]]) -> pd.DataFrame | Failed:
    """The closed spans' pings a minute apart, joined (an empty frame when there are none)."""
    parts = []
    for start, end, ttl in spans:
        # keyed by start and end: the hour from 03:00 and the ten minutes from 03:00 are different spans (under
        # one key, a trip just after 04:00 took the block kept at 03:5x for the whole hour)
        got: pd.DataFrame | Failed = cached(
            live.cache,
            live.locks,
            f"trn:day:{start.isoformat()}/{end.isoformat()}",
            ttl,
            partial(_read_minutely, live, start, end),
        )
        if isinstance(got, Failed):
            return got
        parts.append(got)
    full = [p for p in parts if len(p)]
    return pd.concat(full, ignore_index=True) if full else _minutely(pd.DataFrame())


def _read_minutely(live: Live, start: datetime, end: datetime) -> pd.DataFrame | Failed:
    rows = read_window(live, "bus_positions", start, end)
    return rows if isinstance(rows, Failed) else _minutely(rows)


PANEL_FEEDS: Mapping[str, tuple[str, ...]] = {
    "buses": ("bus_positions", "bus_lines", "bus_stops"),
    "stops": ("bus_lines", "bus_stops"),
    "tpi": ("segment_speeds", "road_segments"),
    "parking": ("parking_occupancy", "parking_lots"),
    "accidents": ("accidents", "road_segments"),
}


#: The panels in the order their buckets start within ``PANEL_BUCKET_S``: evenly spaced, so that over unchanged
#: data a refresh renews one of them at most (all at once, they took the GIL from the refresh that carried new
#: bus pings at the top of each minute).
PANEL_KINDS: tuple[str, ...] = ("buses", "stops", "tpi", "arrivals", "tpi-worst", "parking", "accidents")


def panel_bucket(name: str, now: datetime, step: int) -> int:
    """Which ``step``-second bucket ``now`` falls in for the panel ``name`` (``kind:scope…``): each kind of
    panel's buckets start at its own offset (see :data:`PANEL_KINDS`)."""
    return int((now.timestamp() + spread(name.partition(":")[0], PANEL_KINDS, step)) // step)


def compute_view(live: Live, scope: Scope, now: datetime) -> TransportView:
    """Every panel at ``scope`` from the live feeds; a failing feed fails only the panels that read it."""
    areas = live.areas()

    def buses(f: Frames, a: Areas) -> BusPanel:
        lines = lines_in_scope(f["bus_lines"], f["bus_stops"], scope, a)
        got = live.rows("bus_positions")
        rejected = got.report.rejected if isinstance(got, Rows) and got.report else 0
        return bus_panel(
            f["bus_positions"],
            f["bus_lines"],
            lines,
            f["bus_stops"],
            a.outline,
            scope,
            now,
            rejected,
            screener(live, "all"),
        )

    def stops(f: Frames, a: Areas) -> tuple[StopChoice, ...]:
        return stop_choices(f["bus_stops"], lines_in_scope(f["bus_lines"], f["bus_stops"], scope, a))

    congestion: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []

    def road(f: Frames, a: Areas) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The scope's segments and their speeds now, once for the TPI and the worst segments (unless the feeds
        were read again between the two panels)."""
        if not congestion or congestion[0][0] is not f["road_segments"] or congestion[0][1] is not f["segment_speeds"]:
            segs = assets_in_scope(f["road_segments"], scope, a, "road_segments", "segment_id")
            congestion[:] = [
                (f["road_segments"], f["segment_speeds"], segs, segments_now(segs, f["segment_speeds"], now))
            ]
        return congestion[0][2], congestion[0][3]

    def tpi(f: Frames, a: Areas) -> TpiPanel:
        segs, current = road(f, a)
        closed, week = tpi_curves(live, scope, segs, f["segment_speeds"], now)
        return tpi_panel(segs, f["segment_speeds"], now, closed, week, current)

    def worst(f: Frames, a: Areas) -> tuple[SegmentRow, ...]:
        segs, current = road(f, a)
        return worst_rows(segs, f["segment_speeds"], now, current=current)

    def parking(f: Frames, a: Areas) -> ParkingPanel:
        lots = assets_in_scope(f["parking_lots"], scope, a, "parking_lots", "lot_id")
        return parking_panel(lots, f["parking_occupancy"], now)

    def memo(name: str, compute: Callable[[Frames, Areas], T]) -> T | Failed:
        return _panel(live, areas, PANEL_FEEDS[name.partition("-")[0]], compute, f"{name}:{scope.key}", now)

    return TransportView(
        scope_key=scope.key,
        now=now,
        buses=memo("buses", buses),
        stops=memo("stops", stops),
        tpi=memo("tpi", tpi),
        worst=memo("tpi-worst", worst),
        parking=memo("parking", parking),
    )


def accidents_view(live: Live, scope: Scope, now: datetime, days: int) -> AccidentPanel | Failed:
    """The accident panel for the chosen period."""
    if days not in PERIODS:
        raise ValueError(f"days must be one of {PERIODS}")
    return _panel(
        live,
        live.areas(),
        PANEL_FEEDS["accidents"],
        lambda f, a: accident_panel(accidents_in_scope(f["accidents"], scope, a), f["road_segments"], now, days),
        f"accidents:{scope.key}:{days}",
        now,
    )


def arrivals_view(live: Live, stop_id: str, now: datetime) -> ArrivalPanel | Failed | None:
    """The arrival prediction at one stop."""

    def arrivals(f: Frames, a: Areas) -> ArrivalPanel | None:
        pings, lines, stops = f["bus_positions"], f["bus_lines"], f["bus_stops"]
        return arrival_panel(stop_id, pings, lines, stops, a.outline, now, screener(live, "all"))

    return _panel(live, live.areas(), PANEL_FEEDS["buses"], arrivals, f"arrivals:{stop_id}", now)


def trip_view(live: Live, vehicle_id: str, now: datetime) -> Trip | Failed | None:
    """A vehicle's trip today."""
    pings = pings_today(live, now, vehicle_id)
    if isinstance(pings, Failed):
        return pings
    return trip_of(pings, vehicle_id)


def _panel(
    live: Live,
    areas: Areas | Failed,
    feeds: tuple[str, ...],
    compute: Callable[[Frames, Areas], T],
    name: str,
    now: datetime,
) -> T | Failed:
    """A panel of the scene, kept under its feeds' versions as a tile is (see :func:`dashboard.kpis.compute_tiles`):
    computed when one of them moves, and over unchanged data once per ``PANEL_BUCKET_S`` in the background
    while the last value is answered. A failed panel is kept one refresh interval only."""
    versions = [live.version(f) for f in (*feeds, "towns", "villages")]
    step = live.ttl if None in versions else PANEL_BUCKET_S
    over = f"trn:panel:{name}:{'/'.join(map(str, versions))}:{step}"
    return renewed(
        live.cache,
        live.locks,
        f"{over}:{panel_bucket(name, now, step)}",
        None if None in versions else over,  # unversioned data may have changed unseen: computed in the request
        step,
        lambda: panel(live, areas, feeds, compute, "transport"),
        lambda got: isinstance(got, Failed) and live.ttl,
        lock=f"trn:panel:{name}",
    )
