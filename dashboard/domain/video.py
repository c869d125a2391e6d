"""Public-safety video (雪亮工程 / 天网工程) KPIs: working, networking and HD rates, and key-place coverage.

Targets are 发改高技〔2015〕996号 (REFERENCE.md §5). Rates follow its definitions: working rate = channels online
and usable / all channels; networking rate = channels on the platform / all channels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

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
    counts = {str(name): int(value) for name, value in _flags(cameras).sum().items()}
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
    _require(cameras, (key,), "cameras")
    flags = _flags(cameras)
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
    _require(places, ("place_id", "lon", "lat"), "places")
    _require(cameras, ("camera_id", "lon", "lat", "status"), "cameras")
    radii = _radii(places, _radius("radius_m", radius_m))
    transformer = Transformer.from_crs(GEOGRAPHIC_CRS, METRIC_CRS, always_xy=True)
    place_xy = _projected(places, transformer, "places", allow_missing=False)
    working = cameras[cameras["status"].eq("online").to_numpy(dtype=bool, na_value=False)]
    camera_xy = _projected(working, transformer, "cameras", allow_missing=True)
    located = ~np.isnan(camera_xy).any(axis=1)
    camera_ids = working["camera_id"].to_numpy(dtype=object)[located]
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


def _flags(cameras: pd.DataFrame) -> pd.DataFrame:
    _require(cameras, ("status", "networked", "hd"), "cameras")
    status = cameras["status"]
    return pd.DataFrame(
        {
            "total": np.ones(len(cameras), dtype=np.int64),
            "online": _is(status, "online"),
            "offline": _is(status, "offline"),
            "fault": _is(status, "fault"),
            "networked": _is(cameras["networked"], True),
            "hd": _is(cameras["hd"], True),
        },
        index=cameras.index,
    )


def _is(column: pd.Series, value: object) -> np.ndarray:
    return column.eq(value).to_numpy(dtype=bool, na_value=False).astype(np.int64)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def _radius(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of metres ≥ 0, got {value!r}")
    return float(value)


def _radii(places: pd.DataFrame, default: float) -> np.ndarray:
    if "radius_m" not in places.columns:
        return np.full(len(places), default)
    own = pd.to_numeric(places["radius_m"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if (np.isinf(own) | (own < 0)).any() or (places["radius_m"].notna().to_numpy() & np.isnan(own)).any():
        raise ValueError("places: radius_m must be a finite number of metres ≥ 0 where given")
    return np.where(np.isnan(own), default, own)


def _projected(frame: pd.DataFrame, transformer: Transformer, name: str, *, allow_missing: bool) -> np.ndarray:
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
