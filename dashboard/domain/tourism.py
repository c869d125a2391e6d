"""Scenic-area crowding and LB/T 034-2014 capacity (REFERENCE.md §6).

The crowding bands are OUR ASSUMPTION (REFERENCE.md §6 "A") and can be replaced by configuration; the 80 % early
warning and 100 % stop-selling points are published practice (旅游法: capacity must not be exceeded).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real

from dashboard.domain.hysteresis import Episode, Threshold, episodes

#: ASSUMPTION: (lower bound of in-park / capacity, zh, en), ascending; a band runs up to the next lower bound.
DEFAULT_BANDS: tuple[tuple[float, str, str], ...] = (
    (0.0, "舒适", "Comfortable"),
    (0.5, "较舒适", "Fairly comfortable"),
    (0.7, "一般", "Moderate"),
    (0.8, "拥挤", "Crowded"),
    (1.0, "饱和", "Saturated"),
)

#: Early warning when no band set says otherwise (80 % of maximum capacity).
DEFAULT_WARNING_AT = 0.8

#: Ticket sales stop (限流) at the published maximum capacity.
LIMIT_AT = 1.0


@dataclass(frozen=True)
class Crowding:
    """Crowding of one scenic spot at one moment."""

    ratio: float
    band: str
    band_en: str
    level: int
    warning: bool
    limit: bool


def crowding(
    in_park: int,
    capacity: int,
    bands: Sequence[tuple[float, str, str]] | None = None,
    *,
    warning_at: float | None = None,
) -> Crowding:
    """Crowding of a spot: ratio in-park / instantaneous capacity, band, level (1 = the first band) and alerts.

    ``bands`` overrides ``DEFAULT_BANDS`` (ascending lower ratios, the first 0). ``warning`` is ratio ≥
    ``warning_at``, which defaults to the lower bound of the 4th band (0.8 with the default bands; 0.8 when fewer
    than four bands are given); ``limit`` is ratio ≥ 1.0, the point where ticket sales stop.
    """
    _check_count("in_park", in_park, minimum=0)
    _check_count("capacity", capacity, minimum=1)
    table = DEFAULT_BANDS if bands is None else validate_bands(bands)
    threshold = _warning_threshold(table, warning_at)
    ratio = in_park / capacity
    index = max(i for i, (lower, _, _) in enumerate(table) if ratio >= lower)
    _, zh, en = table[index]
    return Crowding(
        ratio=ratio,
        band=zh,
        band_en=en,
        level=index + 1,
        warning=ratio >= threshold,
        limit=ratio >= LIMIT_AT,
    )


def validate_bands(bands: Sequence[tuple[float, str, str]]) -> tuple[tuple[float, str, str], ...]:
    """Check a crowding band table (non-empty, (lower, zh, en) rows, lowers ascending from 0); return it as tuples."""
    rows = tuple(bands)
    if not rows:
        raise ValueError("bands: at least one band is needed")
    checked: list[tuple[float, str, str]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) != 3:
            raise ValueError(f"bands[{i}]: expected (lower_ratio, zh, en), got {row!r}")
        lower, zh, en = row
        if isinstance(lower, bool) or not isinstance(lower, Real) or not math.isfinite(lower):
            raise ValueError(f"bands[{i}]: lower ratio must be a finite number, got {lower!r}")
        if not (isinstance(zh, str) and zh and isinstance(en, str) and en):
            raise ValueError(f"bands[{i}]: zh and en names must be non-empty strings")
        if i == 0 and lower != 0:
            raise ValueError(f"bands[0]: the first lower ratio must be 0, got {lower!r}")
        if i > 0 and lower <= checked[-1][0]:
            raise ValueError(f"bands[{i}]: lower ratios must be strictly ascending ({lower!r} ≤ {checked[-1][0]!r})")
        checked.append((float(lower), zh, en))
    return tuple(checked)


def capacity_lbt034(
    areas_m2: Sequence[float], per_visitor_m2: Sequence[float], opening_hours: float, visit_hours: float
) -> tuple[int, int]:
    """LB/T 034-2014 capacities (C1, C2): C1 = ⌊Σ Xi/Yi⌋ instantaneous, C2 = C1 × ⌊T/t⌋ daily.

    Xi is a visitable area (m²), Yi the area per visitor there (m², GB/T 50298-2018 guides 5–400), T the opening
    hours and t the mean visit length. A visit longer than the opening day is rejected: ⌊T/t⌋ would be 0.
    """
    areas, per_visitor = list(areas_m2), list(per_visitor_m2)
    if not areas or len(areas) != len(per_visitor):
        raise ValueError("areas_m2 and per_visitor_m2 must be non-empty and of the same length")
    for i, (area, per) in enumerate(zip(areas, per_visitor, strict=True)):
        _check_real(f"areas_m2[{i}]", area, positive=False)
        _check_real(f"per_visitor_m2[{i}]", per, positive=True)
    _check_real("opening_hours", opening_hours, positive=True)
    _check_real("visit_hours", visit_hours, positive=True)
    if opening_hours > 24:
        raise ValueError(f"opening_hours must be at most 24, got {opening_hours!r}")
    if visit_hours > opening_hours:
        raise ValueError(f"visit_hours ({visit_hours!r}) must not exceed opening_hours ({opening_hours!r})")
    # Round away float noise (e.g. 0.3/0.1 = 2.9999999999999996) before flooring.
    c1 = math.floor(round(sum(a / p for a, p in zip(areas, per_visitor, strict=True)), 9))
    return c1, c1 * math.floor(round(opening_hours / visit_hours, 9))


#: An alarm re-arms only once the load falls this far (as a share of capacity) below its level (assumption).
DEFAULT_REARM_MARGIN = 0.05
#: Diversion targets must stay below this load after taking visitors in (the top of 较舒适, assumption).
DEFAULT_ROOM_BELOW = 0.7


def alarm_levels(
    warning_at: float = DEFAULT_WARNING_AT, limit_at: float = LIMIT_AT, margin: float = DEFAULT_REARM_MARGIN
) -> tuple[Threshold, Threshold]:
    """The early-warning and limit alarms on the in-park ratio, each re-armed ``margin`` below its level."""
    _check_real("warning_at", warning_at, positive=True)
    _check_real("limit_at", limit_at, positive=True)
    _check_real("margin", margin, positive=False)
    if warning_at >= limit_at:
        raise ValueError(f"warning_at ({warning_at}) must be below limit_at ({limit_at})")
    return Threshold("warning", warning_at, warning_at - margin), Threshold("limit", limit_at, limit_at - margin)


def crowding_episodes(ratios: Sequence[float], levels: Sequence[Threshold] | None = None) -> tuple[Episode, ...]:
    """Every warning and limit crossing in a spot's ratio series (oldest first), once per crossing.

    A series hovering around 80 % raises one warning; a new warning needs the load to fall below the re-arm level
    first. Positions index ``ratios``; the caller maps them to times.
    """
    found = [e for level in (levels or alarm_levels()) for e in episodes(ratios, level)]
    return tuple(sorted(found, key=lambda e: (e.start, e.name != "warning")))


@dataclass(frozen=True)
class SpotLoad:
    """One scenic area now: where it is, who is in and how many it holds."""

    spot_id: str
    name: str
    lon: float
    lat: float
    in_park: int
    capacity: int

    @property
    def ratio(self) -> float:
        return self.in_park / self.capacity


@dataclass(frozen=True)
class Diversion:
    """A suggested alternative: how far, how loaded now, and how many visitors it can take in."""

    spot_id: str
    name: str
    distance_km: float
    ratio: float
    room: int


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius): close enough for "which area is nearest"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def diversion(
    crowded: SpotLoad, others: Sequence[SpotLoad], *, room_below: float = DEFAULT_ROOM_BELOW, limit: int = 3
) -> tuple[Diversion, ...]:
    """The nearest areas with room for visitors turned away from ``crowded``, nearest first.

    Room is how many visitors an area can take before reaching ``room_below`` of its capacity; areas without room
    (or the crowded area itself) are never suggested.
    """
    _check_real("room_below", room_below, positive=True)
    out = []
    for o in others:
        room = math.floor(room_below * o.capacity) - o.in_park
        if o.spot_id == crowded.spot_id or room <= 0:
            continue
        out.append(
            Diversion(o.spot_id, o.name, distance_km(crowded.lon, crowded.lat, o.lon, o.lat), o.ratio, int(room))
        )
    return tuple(sorted(out, key=lambda d: (d.distance_km, d.spot_id))[:limit])


def _warning_threshold(table: tuple[tuple[float, str, str], ...], warning_at: float | None) -> float:
    if warning_at is None:
        return table[3][0] if len(table) >= 4 else DEFAULT_WARNING_AT
    _check_real("warning_at", warning_at, positive=True)
    return float(warning_at)


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value!r}")


def _check_real(name: str, value: object, *, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '≥ 0'}, got {value!r}")
