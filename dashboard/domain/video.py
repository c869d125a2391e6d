"""Public-safety video (雪亮工程 / 天网工程): working, networking and HD rates, key-place coverage, the placement
advisor, blind-spot cells and the daily trend. Pure functions over frames; distances are ground metres.

Targets are 发改高技〔2015〕996号 (REFERENCE.md §5). Rates follow its definitions: working rate = channels online
and usable / all channels; networking rate = channels on the platform / all channels.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

#: National targets (发改高技〔2015〕996号) as shares of 1.
TARGETS: Mapping[str, float] = MappingProxyType(
    {
        "coverage": 1.0,
        "hd": 1.0,
        "networking": 1.0,
        "working_key_areas": 0.98,
        "working_key_industries": 0.95,
    }
)

#: Distances are measured in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548), whose central meridian runs
#: through the district (117.2–117.7°E): scale error there is below 1e-4. Feed coordinates are WGS84, which we treat
#: as CGCS2000 (they agree to well under a metre), hence the CGCS2000 geographic source EPSG:4490.
GEOGRAPHIC_CRS = "EPSG:4490"
METRIC_CRS = "EPSG:4548"

GROUP_KEYS: tuple[str, ...] = ("town_code", "village_code")
_COUNTS: tuple[str, ...] = ("total", "online", "offline", "fault", "networked", "hd")
_RATES: tuple[tuple[str, str], ...] = (("working_rate", "online"), ("networking_rate", "networked"), ("hd_share", "hd"))


@dataclass(frozen=True)
class VideoHealth:
    """Camera counts and rates; a rate is None when there are no cameras."""

    total: int
    online: int
    offline: int
    fault: int
    networked: int
    hd: int
    working_rate: float | None
    networking_rate: float | None
    hd_share: float | None


def health(cameras: pd.DataFrame) -> VideoHealth:
    """Counts and rates over a ``cameras`` frame: working rate (status "online" / all), networking rate, HD share.

    Any status other than "online" counts as not working (the feed contract limits it to online/offline/fault).
    A missing ``hd`` or ``networked`` flag counts as False.
    """
    counts = {str(name): int(value) for name, value in status_flags(cameras).sum().items()}
    total = counts["total"]

    def share(count: str) -> float | None:
        return counts[count] / total if total else None

    return VideoHealth(
        total=total,
        online=counts["online"],
        offline=counts["offline"],
        fault=counts["fault"],
        networked=counts["networked"],
        hd=counts["hd"],
        working_rate=share("online"),
        networking_rate=share("networked"),
        hd_share=share("hd"),
    )


def health_by(cameras: pd.DataFrame, key: str) -> pd.DataFrame:
    """``health`` per ``town_code`` or ``village_code``: one row per code (cameras without a code form a NaN row).

    Columns: the key, total, online, offline, fault, networked, hd, working_rate, networking_rate, hd_share.
    """
    if key not in GROUP_KEYS:
        raise ValueError(f"key must be one of {GROUP_KEYS}, got {key!r}")
    require_columns(cameras, (key,), "cameras")
    flags = status_flags(cameras)
    flags.insert(0, key, cameras[key].to_numpy())
    grouped = flags.groupby(key, dropna=False, sort=True).sum().reset_index()
    for rate, count in _RATES:
        grouped[rate] = grouped[count] / grouped["total"]
    return grouped[[key, *_COUNTS, *(rate for rate, _ in _RATES)]]


def coverage(places: pd.DataFrame, cameras: pd.DataFrame, radius_m: float) -> pd.DataFrame:
    """Whether each key place has a working (status "online") camera within its radius, and the nearest one.

    The radius is the place's own ``radius_m`` when that column exists and the value is not NaN, else the
    ``radius_m`` argument (per-place radius wins). Distances are ground metres in EPSG:4548, found with a shapely
    STRtree nearest-neighbour query rather than all pairs. Cameras without coordinates cannot cover anything and
    are left out. Places with no working camera at all get covered False, nearest None, distance NaN.
    Returns place_id, covered, nearest_camera_id, distance_m, radius_m on the places' index.
    """
    require_columns(places, ("place_id", "lon", "lat"), "places")
    require_columns(cameras, ("camera_id", "lon", "lat", "status"), "cameras")
    radii = place_radii(places, check_radius("radius_m", radius_m))
    place_xy = to_metric(places, "places", allow_missing=False)
    online = working(cameras)
    camera_xy = to_metric(online, "cameras", allow_missing=True)
    located = ~np.isnan(camera_xy).any(axis=1)
    camera_ids = online["camera_id"].to_numpy(dtype=object)[located]
    distance = np.full(len(places), np.nan)
    nearest = np.full(len(places), None, dtype=object)
    if camera_ids.size and len(places):
        tree = shapely.STRtree(shapely.points(camera_xy[located]))
        (hit, camera), found = tree.query_nearest(shapely.points(place_xy), return_distance=True, all_matches=False)
        distance[hit] = found
        nearest[hit] = camera_ids[camera]
    return pd.DataFrame(
        {
            "place_id": places["place_id"].to_numpy(),
            "covered": distance <= radii,
            "nearest_camera_id": nearest,
            "distance_m": distance,
            "radius_m": radii,
        },
        index=places.index,
    )


# ---- placement advisor ----------------------------------------------------------------------------------------------


def neighbours(candidates: pd.DataFrame, targets: pd.DataFrame, radius_m: float) -> list[np.ndarray]:
    """Per candidate, the positions in ``targets`` within each target's own radius (``radius_m`` by default).

    One STRtree query for all pairs within the largest radius, then each pair checked against its target's radius.
    """
    radii = place_radii(targets, check_radius("radius_m", radius_m))
    if not len(candidates) or not len(targets):
        return [np.empty(0, dtype=np.int64) for _ in range(len(candidates))]
    site_xy = to_metric(candidates, "candidates", allow_missing=False)
    target_xy = to_metric(targets, "places", allow_missing=False)
    tree = shapely.STRtree(shapely.points(target_xy))
    site, target = tree.query(shapely.points(site_xy), predicate="dwithin", distance=float(radii.max()))
    gap = np.hypot(*(site_xy[site] - target_xy[target]).T)
    keep = gap <= radii[target]
    site, target = site[keep], target[keep]
    order = np.argsort(site, kind="stable")
    site, target = site[order], target[order]
    cuts = np.searchsorted(site, np.arange(len(candidates) + 1))
    return [target[cuts[i] : cuts[i + 1]] for i in range(len(candidates))]


def place_cameras(
    candidates: pd.DataFrame, places: pd.DataFrame, cameras: pd.DataFrame, n: int, radius_m: float
) -> pd.DataFrame:
    """Up to ``n`` sites from ``candidates`` (lon/lat) that together cover the most key places no working camera
    covers yet.

    Greedy maximum coverage: each step takes the site adding the most still-uncovered places, which achieves at
    least (1 − 1/e) of the optimum; lazy evaluation keeps it fast since gains only shrink. A site covers a place
    within the place's own ``radius_m`` (else the argument). Stops early when no site adds anything.
    Returns one row per chosen site, in order: the candidate's columns, ``gain`` (places it adds), ``new_places``
    (their place_ids, a tuple), ``covered`` (places covered after it, existing cameras included) and
    ``coverage_rate``.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a whole number ≥ 0, got {n!r}")
    already = coverage(places, cameras, radius_m)["covered"].to_numpy(dtype=bool)
    open_places = places.loc[~already]
    lists = neighbours(candidates, open_places, radius_m)
    done = np.zeros(len(open_places), dtype=bool)
    heap = [(-len(members), i) for i, members in enumerate(lists) if len(members)]
    heapq.heapify(heap)
    chosen: list[int] = []
    added: list[np.ndarray] = []
    while heap and len(chosen) < n:
        _, i = heapq.heappop(heap)
        fresh = lists[i][~done[lists[i]]]
        if len(fresh) and (not heap or len(fresh) >= -heap[0][0]):
            chosen.append(i)
            added.append(fresh)
            done[fresh] = True
        elif len(fresh):
            heapq.heappush(heap, (-len(fresh), i))
    gains = np.asarray([len(a) for a in added], dtype=np.int64)
    ids = open_places["place_id"].to_numpy(dtype=object)
    covered = int(already.sum()) + np.cumsum(gains)
    out = candidates.iloc[chosen].reset_index(drop=True)
    return out.assign(
        gain=gains,
        new_places=pd.Series([tuple(ids[np.sort(a)]) for a in added], dtype=object),
        covered=covered,
        coverage_rate=covered / len(places) if len(places) else np.full(len(chosen), np.nan),
    )


# ---- blind spots: populated grid cells without a working camera ---------------------------------------------------


def population_grid(area: BaseGeometry, villages: pd.DataFrame, cell_m: float, spread_m: float) -> pd.DataFrame:
    """Square cells of ``cell_m`` metres (aligned to multiples of ``cell_m`` in :data:`METRIC_CRS`, so a cell keeps
    its id at every scope) over ``area`` (lon/lat), each with an estimated population.

    The feeds only give each 村居 as a point with its population, so people are spread around that point with a
    Gaussian kernel (σ = ``spread_m``, cut at 3σ) over the cells of ``area``, normalised per village: the cells'
    populations add up to the villages' (a village with no cell within 3σ gives all to its nearest cell).
    Returns cell_id, x0, y0, x1, y1 (metres), lon, lat (centre), population (float), geometry (lon/lat polygon).
    """
    cell = check_radius("cell_m", cell_m)
    spread = check_radius("spread_m", spread_m)
    if cell <= 0 or spread <= 0:
        raise ValueError("cell_m and spread_m must be > 0")
    require_columns(villages, ("lon", "lat", "population"), "villages")
    to_xy = Transformer.from_crs(GEOGRAPHIC_CRS, METRIC_CRS, always_xy=True)
    metric = shapely.transform(area, lambda xy: np.column_stack(to_xy.transform(xy[:, 0], xy[:, 1])))
    bx0, by0, bx1, by1 = shapely.bounds(metric)
    columns = np.arange(math.floor(bx0 / cell), math.ceil(bx1 / cell))
    mesh = np.meshgrid(columns, np.arange(math.floor(by0 / cell), math.ceil(by1 / cell)))
    ix, iy = mesh[0].ravel(), mesh[1].ravel()
    boxes = shapely.box(ix * cell, iy * cell, (ix + 1) * cell, (iy + 1) * cell)
    keep = shapely.intersects(boxes, metric) & ~shapely.touches(boxes, metric)  # overlapping, not just touching
    ix, iy, boxes = ix[keep], iy[keep], boxes[keep]
    cx, cy = (ix + 0.5) * cell, (iy + 0.5) * cell
    population = _spread(np.column_stack([cx, cy]), villages, spread)
    to_lonlat = Transformer.from_crs(METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
    lon, lat = to_lonlat.transform(cx, cy)
    geometry = shapely.transform(boxes, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    return pd.DataFrame(
        {
            "cell_id": [f"{a}_{b}" for a, b in zip(ix, iy, strict=True)],
            "x0": ix * cell,
            "y0": iy * cell,
            "x1": (ix + 1) * cell,
            "y1": (iy + 1) * cell,
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
            "population": population,
            "geometry": geometry,
        }
    )


def _spread(centres: np.ndarray, villages: pd.DataFrame, sigma: float) -> np.ndarray:
    """Each village's population over the cell centres by a Gaussian kernel, normalised per village."""
    out = np.zeros(len(centres))
    people = pd.to_numeric(villages["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    if not len(centres) or not len(villages):
        return out
    vxy = to_metric(villages, "villages", allow_missing=False)
    tree = shapely.STRtree(shapely.points(centres))
    village, cell = tree.query(shapely.points(vxy), predicate="dwithin", distance=3 * sigma)
    d2 = ((centres[cell] - vxy[village]) ** 2).sum(axis=1)
    weight = np.exp(-d2 / (2 * sigma * sigma))
    total = np.bincount(village, weights=weight, minlength=len(villages))
    np.add.at(out, cell, people[village] * weight / total[village])
    alone = np.flatnonzero(total == 0)
    if alone.size:
        nearest = tree.query_nearest(shapely.points(vxy[alone]), all_matches=False)[1]
        np.add.at(out, nearest, people[alone])
    return out


def blind_cells(cells: pd.DataFrame, cameras: pd.DataFrame, radius_m: float, min_population: float) -> pd.DataFrame:
    """``cells`` (from :func:`population_grid`) with ``populated`` (population ≥ ``min_population``), ``watched``
    (a working camera inside the cell or within ``radius_m`` of its edge, ground metres) and ``blind``
    (populated and not watched). Cameras without coordinates watch nothing.
    """
    radius = check_radius("radius_m", radius_m)
    require_columns(cells, ("x0", "y0", "x1", "y1", "population"), "cells")
    require_columns(cameras, ("lon", "lat", "status"), "cameras")
    xy = to_metric(working(cameras), "cameras", allow_missing=True)
    xy = xy[~np.isnan(xy).any(axis=1)]
    watched = np.zeros(len(cells), dtype=bool)
    if len(xy) and len(cells):
        boxes = shapely.box(cells["x0"], cells["y0"], cells["x1"], cells["y1"])
        hit, _ = shapely.STRtree(shapely.points(xy)).query(boxes, predicate="dwithin", distance=radius)
        watched[hit] = True
    populated = cells["population"].to_numpy(dtype=float) >= min_population
    return cells.assign(populated=populated, watched=watched, blind=populated & ~watched)


# ---- daily trend ----------------------------------------------------------------------------------------------------

DAILY_COUNTS: tuple[str, ...] = ("cameras", "online", "networked", "hd")


def daily_rates(daily: pd.DataFrame) -> pd.DataFrame:
    """Working and networking rate (and HD share) per day from per-area daily counts (``camera_status_daily``).

    Areas are summed per ``date`` before dividing, so a day's rate weighs every camera equally. A day without
    cameras has NaN rates. Returns date, cameras, online, networked, hd, working_rate, networking_rate, hd_share,
    oldest first.
    """
    require_columns(daily, ("date", *DAILY_COUNTS), "daily")
    sums = daily.groupby("date", sort=True)[list(DAILY_COUNTS)].sum().reset_index()
    total = sums["cameras"].where(sums["cameras"] > 0)
    return sums.assign(
        working_rate=sums["online"] / total,
        networking_rate=sums["networked"] / total,
        hd_share=sums["hd"] / total,
    )


# ---- shared helpers (public: the scene module and the layers use them too) ----------------------------------------


def status_flags(cameras: pd.DataFrame) -> pd.DataFrame:
    """Per camera, 0/1 columns total, online, offline, fault, networked, hd (a missing flag counts as 0)."""
    require_columns(cameras, ("status", "networked", "hd"), "cameras")
    status = cameras["status"]
    return pd.DataFrame(
        {
            "total": np.ones(len(cameras), dtype=np.int64),
            "online": flag(status, "online"),
            "offline": flag(status, "offline"),
            "fault": flag(status, "fault"),
            "networked": flag(cameras["networked"], True),
            "hd": flag(cameras["hd"], True),
        },
        index=cameras.index,
    )


def flag(column: pd.Series, value: object) -> np.ndarray:
    """1 where ``column`` equals ``value``, else 0 (missing values included)."""
    return column.eq(value).to_numpy(dtype=bool, na_value=False).astype(np.int64)


def working(cameras: pd.DataFrame) -> pd.DataFrame:
    """The cameras that can see: status "online"."""
    require_columns(cameras, ("status",), "cameras")
    return cameras[cameras["status"].eq("online").to_numpy(dtype=bool, na_value=False)]


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    """ValueError naming the columns of ``columns`` that ``frame`` lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def check_radius(name: str, value: object) -> float:
    """``value`` as metres, or ValueError unless it is a finite number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of metres ≥ 0, got {value!r}")
    return float(value)


def place_radii(places: pd.DataFrame, default: float) -> np.ndarray:
    """Each place's own ``radius_m`` where given, else ``default``."""
    if "radius_m" not in places.columns:
        return np.full(len(places), default)
    own = pd.to_numeric(places["radius_m"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if (np.isinf(own) | (own < 0)).any() or (places["radius_m"].notna().to_numpy() & np.isnan(own)).any():
        raise ValueError("places: radius_m must be a finite number of metres ≥ 0 where given")
    return np.where(np.isnan(own), default, own)


def to_metric(frame: pd.DataFrame, name: str, *, allow_missing: bool) -> np.ndarray:
    """(n, 2) ground metres in :data:`METRIC_CRS` of the frame's lon/lat; NaN rows where allowed and missing."""
    transformer = Transformer.from_crs(GEOGRAPHIC_CRS, METRIC_CRS, always_xy=True)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(lon) | np.isnan(lat)
    if missing.any() and not allow_missing:
        raise ValueError(f"{name}: {int(missing.sum())} row(s) without lon/lat, e.g. index {frame.index[missing][0]!r}")
    outside = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if outside.any():
        raise ValueError(f"{name}: lon/lat out of range, e.g. index {frame.index[outside][0]!r}")
    x, y = transformer.transform(np.where(missing, 0.0, lon), np.where(missing, 0.0, lat))
    xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    xy[missing] = np.nan
    return xy
