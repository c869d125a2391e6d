"""治安视频: what the public-safety video scene shows, computed from the live feeds per scope.

Rates and coverage come from :mod:`dashboard.domain.video` (targets: 发改高技〔2015〕996号, REFERENCE.md §5). This
module adds the scope selection, the per-area tables, the offline list, the placement advisor at a scope
(:func:`advise`, over :func:`dashboard.domain.video.place_cameras`), the blind-spot cells and the daily trend.
Everything except :func:`compute_view`, :func:`advice` and :func:`blind_spots` is pure over frames, scope and
"now", so the unit tests pin each number by hand.

Results are plain frozen dataclasses so a whole view pickles into the shared cache: every screen polling the same
scope costs one computation per refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import numpy as np
import pandas as pd
import shapely

from dashboard.areas import Areas
from dashboard.domain import video
from dashboard.domain.video import TARGETS, VideoHealth
from dashboard.live import Failed, Live, panel
from dashboard.scope import Scope
from dashboard.settings import VideoSettings

log = logging.getLogger(__name__)

#: A place's view radius when the feed gives none (metres).
DEFAULT_RADIUS_M = 100.0
#: Offline cameras listed by name; the rest are counted.
MAX_OFFLINE = 15
#: Uncovered places listed by name; the rest are counted.
MAX_UNCOVERED = 40
#: The advisor's N: how many new cameras it may place.
MIN_SITES, MAX_SITES, DEFAULT_SITES = 1, 200, 10
#: Targets shown against each rate (working rate: key public areas).
RATE_TARGETS: Mapping[str, float] = {
    "working_rate": TARGETS["working_key_areas"],
    "networking_rate": TARGETS["networking"],
    "hd_share": TARGETS["hd"],
}
SYSTEMS: tuple[str, ...] = ("xueliang", "tianwang")
DOWN: tuple[str, ...] = ("offline", "fault")

T = TypeVar("T")
Frames = Mapping[str, pd.DataFrame]
PANEL_FEEDS: tuple[str, ...] = ("cameras", "key_places")
#: The daily status snapshots (per 村居) the trend is drawn from.
DAILY_FEED = "camera_status_daily"


# ---- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaHealth:
    """One 镇街 or 村居: camera count and the three rates (None without cameras)."""

    level: str
    code: str
    name: str
    total: int
    working_rate: float | None
    networking_rate: float | None
    hd_share: float | None


@dataclass(frozen=True)
class SystemCount:
    system: str
    total: int
    online: int
    offline: int
    fault: int


@dataclass(frozen=True)
class HealthPanel:
    summary: VideoHealth
    systems: tuple[SystemCount, ...]
    areas: tuple[AreaHealth, ...]


@dataclass(frozen=True)
class OfflineRow:
    camera_id: str
    system: str
    status: str
    town_name: str
    since: datetime | None
    down_s: float | None


@dataclass(frozen=True)
class OfflinePanel:
    rows: tuple[OfflineRow, ...]
    total: int


@dataclass(frozen=True)
class AreaCoverage:
    level: str
    code: str
    name: str
    places: int
    covered: int
    rate: float | None


@dataclass(frozen=True)
class UncoveredPlace:
    place_id: str
    name: str
    category: str
    town_name: str


@dataclass(frozen=True)
class CoveragePanel:
    places: int
    covered: int
    rate: float | None
    areas: tuple[AreaCoverage, ...]
    uncovered: tuple[UncoveredPlace, ...]
    uncovered_total: int


@dataclass(frozen=True)
class VideoView:
    """Everything the scene shows at one scope; a panel whose feeds fail holds the :class:`Failed`."""

    scope_key: str
    now: datetime
    health: HealthPanel | Failed
    offline: OfflinePanel | Failed
    coverage: CoveragePanel | Failed
    trend: TrendPanel | Failed


# ---- scope ------------------------------------------------------------------------------------------


def scope_frames(
    cameras: pd.DataFrame, places: pd.DataFrame, scope: Scope, areas: Areas
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cameras, key places) inside ``scope``.

    A camera asset shows that camera and the key places of its 村居; a key-place asset that place and the cameras
    of its 村居; an asset of another feed shows nothing.
    """
    if scope.level != "asset":
        return areas.select(cameras, scope), areas.select(places, scope)
    if scope.feed == "cameras":
        one = cameras.loc[cameras["camera_id"] == scope.code]
        return one, places.loc[places["village_code"].isin(one["village_code"])]
    if scope.feed == "key_places":
        one = places.loc[places["place_id"] == scope.code]
        return cameras.loc[cameras["village_code"].isin(one["village_code"])], one
    return cameras.iloc[0:0], places.iloc[0:0]


def area_level(scope: Scope) -> tuple[str, str]:
    """(level, key column) the per-area tables break ``scope`` down by: 镇街 at the district, else 村居."""
    return ("town", "town_code") if scope.level == "district" else ("village", "village_code")


def _names(areas: Areas, level: str) -> dict[str, str]:
    frame = areas.towns if level == "town" else areas.villages
    return dict(zip(frame[f"{level}_code"], frame["name"], strict=True))


def _codes(areas: Areas, scope: Scope, level: str, present: pd.Series) -> list[str]:
    """The areas a table lists: every 镇街 at the district, every 村居 of a town, else the 村居 present."""
    if scope.level == "district":
        return [str(c) for c in areas.towns["town_code"]]
    if scope.level == "town":
        return [str(c) for c in areas.villages.loc[areas.villages["town_code"] == scope.code, "village_code"]]
    return sorted({str(c) for c in present.dropna() if c})


def _rate(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


# ---- health -----------------------------------------------------------------------------------------


def system_counts(cameras: pd.DataFrame) -> tuple[SystemCount, ...]:
    """Counts by system (雪亮 / 天网) and status."""
    out = []
    for system in SYSTEMS:
        status = cameras.loc[cameras["system"] == system, "status"]
        out.append(
            SystemCount(
                system,
                len(status),
                int((status == "online").sum()),
                int((status == "offline").sum()),
                int((status == "fault").sum()),
            )
        )
    return tuple(out)


def _worst_first(rates: tuple[float | None, ...]) -> tuple[float, ...]:
    """Sort key: the largest shortfall against target first; areas without cameras last."""
    shortfalls = [RATE_TARGETS[k] - r for k, r in zip(RATE_TARGETS, rates, strict=True) if r is not None]
    return (-max(shortfalls), -sum(shortfalls)) if shortfalls else (np.inf, np.inf)


def area_health(cameras: pd.DataFrame, scope: Scope, areas: Areas) -> tuple[AreaHealth, ...]:
    """The three rates per 镇街 (district) or 村居 (otherwise), worst against target first."""
    level, key = area_level(scope)
    by = video.health_by(cameras, key).set_index(key) if len(cameras) else pd.DataFrame()
    names = _names(areas, level)
    rows = []
    for code in _codes(areas, scope, level, cameras.get(key, pd.Series(dtype=object))):
        hit = by.loc[code] if code in by.index else None
        rows.append(
            AreaHealth(
                level,
                code,
                names.get(code, code),
                int(hit["total"]) if hit is not None else 0,
                *(_rate(hit[k]) if hit is not None else None for k in RATE_TARGETS),
            )
        )
    return tuple(sorted(rows, key=lambda r: _worst_first((r.working_rate, r.networking_rate, r.hd_share))))


def health_panel(cameras: pd.DataFrame, scope: Scope, areas: Areas) -> HealthPanel:
    return HealthPanel(video.health(cameras), system_counts(cameras), area_health(cameras, scope, areas))


# ---- offline ------------------------------------------------------------------------------------------


def offline_panel(cameras: pd.DataFrame, areas: Areas, now: datetime, limit: int = MAX_OFFLINE) -> OfflinePanel:
    """Cameras offline or at fault, down longest first (unknown since-times last), the first ``limit`` of them."""
    down = cameras.loc[cameras["status"].isin(DOWN)]
    since = pd.to_datetime(down["status_since"], utc=True)
    order = down.assign(down_since=since).sort_values("down_since", na_position="last", kind="stable").head(limit)
    towns = _names(areas, "town")
    rows = tuple(
        OfflineRow(
            str(r.camera_id),
            str(r.system),
            str(r.status),
            towns.get(str(r.town_code), ""),
            None if pd.isna(r.down_since) else r.down_since.to_pydatetime(),
            None if pd.isna(r.down_since) else max(0.0, (pd.Timestamp(now) - r.down_since).total_seconds()),
        )
        for r in order.itertuples(index=False)
    )
    return OfflinePanel(rows, len(down))


def human_duration(seconds: float | None, lang: str) -> str:
    """How long, coarsely: 45分钟 / 3小时 / 2天 (English: 45 min / 3 h / 2 d)."""
    if seconds is None:
        return "—"
    zh = lang != "en"
    if seconds < 3600:
        return f"{int(seconds // 60)}{'分钟' if zh else ' min'}"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)}{'小时' if zh else ' h'}"
    return f"{int(seconds // 86400)}{'天' if zh else ' d'}"


# ---- coverage -----------------------------------------------------------------------------------------


def place_coverage(places: pd.DataFrame, cameras: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M) -> pd.DataFrame:
    """``places`` with the :func:`video.coverage` columns (covered, nearest camera, distance, radius)."""
    cov = video.coverage(places, cameras, radius_m)
    return places.assign(**{c: cov[c] for c in ("covered", "nearest_camera_id", "distance_m")}, radius=cov["radius_m"])


def coverage_by(covered: pd.DataFrame, scope: Scope, areas: Areas) -> tuple[AreaCoverage, ...]:
    """Places and covered places per 镇街 / 村居, lowest rate first (areas without places last)."""
    level, key = area_level(scope)
    counts = covered.groupby(key)["covered"].agg(["size", "sum"]) if len(covered) else pd.DataFrame()
    names = _names(areas, level)
    rows = []
    for code in _codes(areas, scope, level, covered.get(key, pd.Series(dtype=object))):
        n, hit = (int(counts.at[code, "size"]), int(counts.at[code, "sum"])) if code in counts.index else (0, 0)
        rows.append(AreaCoverage(level, code, names.get(code, code), n, hit, hit / n if n else None))
    return tuple(sorted(rows, key=lambda r: (r.rate is None, r.rate if r.rate is not None else 0.0)))


def coverage_panel(
    places: pd.DataFrame,
    all_cameras: pd.DataFrame,
    scope: Scope,
    areas: Areas,
    limit: int = MAX_UNCOVERED,
    radius_m: float = DEFAULT_RADIUS_M,
) -> CoveragePanel:
    """Coverage of the key places in scope by any working camera (one across a boundary counts too)."""
    covered = place_coverage(places, all_cameras, radius_m)
    towns = _names(areas, "town")
    missing = covered.loc[~covered["covered"]]
    n, hit = len(covered), int(covered["covered"].sum())
    return CoveragePanel(
        places=n,
        covered=hit,
        rate=hit / n if n else None,
        areas=coverage_by(covered, scope, areas),
        uncovered=tuple(
            UncoveredPlace(str(r.place_id), str(r.name), str(r.category), towns.get(str(r.town_code), ""))
            for r in missing.head(limit).itertuples(index=False)
        ),
        uncovered_total=len(missing),
    )


# ---- placement advisor ------------------------------------------------------------------------------


def advise(places: pd.DataFrame, all_cameras: pd.DataFrame, n: int, radius_m: float = DEFAULT_RADIUS_M) -> pd.DataFrame:
    """The advisor at a scope: candidates are the uncovered places' own locations."""
    covered = place_coverage(places, all_cameras, radius_m)
    candidates = covered.loc[~covered["covered"], ["place_id", "name", "category", "town_code", "lon", "lat"]]
    return video.place_cameras(candidates, places, all_cameras, n, radius_m)


def clamp_sites(value: object) -> int | None:
    """The advisor's N from an input value, or None when it is not a whole number in 1–200."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not MIN_SITES <= number <= MAX_SITES:
        return None
    return int(number)


# ---- blind spots ----------------------------------------------------------------------------------------


def scope_cells(
    cells: pd.DataFrame, scope: Scope, areas: Areas, cameras: pd.DataFrame, places: pd.DataFrame
) -> pd.DataFrame:
    """The grid cells inside ``scope`` (cells carry the town_code / village_code of their centre).

    An asset shows the cells of its 村居, as :func:`scope_frames` shows that 村居's places and cameras.
    """
    if scope.level != "asset":
        return areas.select(cells, scope)
    if scope.feed not in PANEL_FEEDS:
        return cells.iloc[0:0]
    frame, key = (cameras, "camera_id") if scope.feed == "cameras" else (places, "place_id")
    return cells.loc[cells["village_code"].isin(frame.loc[frame[key] == scope.code, "village_code"])]


def blind_spots(
    cells: pd.DataFrame, cameras: pd.DataFrame, places: pd.DataFrame, scope: Scope, areas: Areas, rules: VideoSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(uncovered key places, blind populated cells) in ``scope``; any working camera counts, wherever it is.

    ``cells`` is the district's :func:`dashboard.domain.video.population_grid`, area-tagged.
    """
    in_scope = scope_frames(cameras, places, scope, areas)[1]
    covered = place_coverage(in_scope, cameras, rules.radius_m)
    flagged = video.blind_cells(
        scope_cells(cells, scope, areas, cameras, places), cameras, rules.radius_m, rules.min_population
    )
    return covered.loc[~covered["covered"]], flagged.loc[flagged["blind"]]


def district_grid(areas: Areas, rules: VideoSettings) -> pd.DataFrame:
    """The population grid over every 镇街, each cell tagged with the 镇街 and 村居 of its centre."""
    area = shapely.union_all(areas.towns["geometry"].to_numpy())
    cells = video.population_grid(area, areas.villages, rules.grid_m, rules.spread_m)
    return areas.with_areas(cells)


# ---- daily trend ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRates:
    day: date
    cameras: int
    working_rate: float | None
    networking_rate: float | None


@dataclass(frozen=True)
class TrendPanel:
    days: tuple[DayRates, ...]


def trend_panel(daily: pd.DataFrame, scope: Scope, areas: Areas, frames: Frames) -> TrendPanel:
    """The daily working and networking rates of the cameras in ``scope`` (an asset: its 村居), oldest first."""
    if scope.level == "asset":
        frame = frames.get(scope.feed)
        key = "camera_id" if scope.feed == "cameras" else "place_id"
        villages = set() if frame is None else set(frame.loc[frame[key] == scope.code, "village_code"])
        rows = daily.loc[daily["village_code"].isin(villages)]
    else:
        rows = areas.select(daily, scope)
    rates = video.daily_rates(rows)
    return TrendPanel(
        tuple(
            DayRates(r.date, int(r.cameras), _rate(r.working_rate), _rate(r.networking_rate))
            for r in rates.itertuples(index=False)
        )
    )


# ---- the scene ----------------------------------------------------------------------------------------


def compute_view(live: Live, scope: Scope, now: datetime) -> VideoView:
    """Every panel at ``scope`` from the live feeds; a failing feed fails only the panels that read it."""
    areas = live.areas()

    def health(f: Frames, a: Areas) -> HealthPanel:
        return health_panel(scope_frames(f["cameras"], f["cameras"].iloc[0:0], scope, a)[0], scope, a)

    def offline(f: Frames, a: Areas) -> OfflinePanel:
        return offline_panel(scope_frames(f["cameras"], f["cameras"].iloc[0:0], scope, a)[0], a, now)

    def coverage(f: Frames, a: Areas) -> CoveragePanel:
        places = scope_frames(f["cameras"], f["key_places"], scope, a)[1]
        return coverage_panel(places, f["cameras"], scope, a, radius_m=radius)

    def trend(f: Frames, a: Areas) -> TrendPanel:
        return trend_panel(f[DAILY_FEED], scope, a, f)

    radius = live.settings.video.radius_m
    asset_feeds = (scope.feed,) if scope.level == "asset" and scope.feed in PANEL_FEEDS else ()
    return VideoView(
        scope_key=scope.key,
        now=now,
        health=_panel(live, areas, ("cameras",), health),
        offline=_panel(live, areas, ("cameras",), offline),
        coverage=_panel(live, areas, PANEL_FEEDS, coverage),
        trend=_panel(live, areas, (DAILY_FEED, *asset_feeds), trend),
    )


def advice(live: Live, scope: Scope, n: int) -> pd.DataFrame | Failed:
    """The advisor's sites at ``scope`` from the live feeds, or why it cannot run."""
    radius = live.settings.video.radius_m
    return _panel(
        live,
        live.areas(),
        PANEL_FEEDS,
        lambda f, a: _named(
            advise(scope_frames(f["cameras"], f["key_places"], scope, a)[1], f["cameras"], n, radius), a
        ),
    )


def _named(sites: pd.DataFrame, areas: Areas) -> pd.DataFrame:
    return sites.assign(town_name=sites["town_code"].map(_names(areas, "town")).fillna(""))


def _panel(
    live: Live, areas: Areas | Failed, feeds: tuple[str, ...], compute: Callable[[Frames, Areas], T]
) -> T | Failed:
    return panel(live, areas, feeds, compute, "video")
