"""Which 镇街 and 村居 each point lies in, so every tile and layer can follow a scope.

Towns are the ``towns`` feed's polygons; a point's village is the nearest
村居 of its town (villages are points in the feeds, so their areas are the
nearest-point cells within the town). Assignment is vectorised: thousands of
cameras take milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from dashboard.scope import Scope, ScopeNotFound

#: Degrees of longitude are shorter than degrees of latitude at 35°N; scaling
#: lon by cos(lat) makes "nearest" mean nearest on the ground.
_LON_SCALE = float(np.cos(np.radians(35.1)))


@dataclass(frozen=True)
class Areas:
    towns: pd.DataFrame  # town_code, name, geometry (shapely)
    villages: pd.DataFrame  # village_code, town_code, name, lon, lat, population

    @cached_property
    def _index(self) -> tuple[list[tuple[str, BaseGeometry]], dict[str, tuple[np.ndarray, STRtree]]]:
        """Each town's prepared outline, and per town its villages' codes with a tree of their points: built
        once per pair of frames (a tail read tags a few new rows every few seconds; building these each time
        cost more than the tagging)."""
        outlines = []
        for code, geom in zip(self.towns["town_code"], self.towns["geometry"], strict=True):
            prepared = shapely.from_wkb(shapely.to_wkb(geom))  # a copy: the frame's own geometry is shared
            shapely.prepare(prepared)
            outlines.append((code, prepared))
        trees = {
            code: (
                group["village_code"].to_numpy(),
                STRtree(shapely.points(group["lon"].to_numpy() * _LON_SCALE, group["lat"].to_numpy())),
            )
            for code, group in self.villages.groupby("town_code")
        }
        return outlines, trees

    @cached_property
    def outline(self) -> BaseGeometry:
        """The district as the union of its 镇街, prepared (what a point "outside the district" lies outside)."""
        shape = shapely.union_all(self.towns["geometry"].to_numpy())
        shapely.prepare(shape)
        return shape

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(town_code, village_code) per point; '' where outside every town."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        outlines, trees = self._index
        towns = np.full(len(lon), "", dtype=object)
        for code, outline in outlines:
            inside = shapely.contains_xy(outline, lon, lat) & (towns == "")
            towns[inside] = code
        villages = np.full(len(lon), "", dtype=object)
        for code, (village_codes, tree) in trees.items():
            mask = towns == code
            if mask.any():
                idx = tree.nearest(shapely.points(lon[mask] * _LON_SCALE, lat[mask]))
                villages[mask] = village_codes[idx]
        return towns, villages

    def with_areas(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (with lon/lat) plus town_code/village_code where it lacks them."""
        if {"town_code", "village_code"} <= set(frame.columns):
            return frame
        if frame.empty:
            return frame.assign(**{c: pd.Series(dtype=object) for c in ("town_code", "village_code") if c not in frame})
        towns, villages = self.assign(frame["lon"].to_numpy(), frame["lat"].to_numpy())
        out = frame.copy()
        if "town_code" not in out.columns:
            out["town_code"] = towns
        out["village_code"] = villages
        return out

    def town_name(self, code: str, lang: str = "zh-CN") -> str:
        row = self.towns.loc[self.towns["town_code"] == code]
        if row.empty:
            raise ScopeNotFound(f"no 镇街 with code {code}")
        return str(row["name"].iloc[0])

    def village_name(self, code: str) -> str:
        row = self.villages.loc[self.villages["village_code"] == code]
        if row.empty:
            raise ScopeNotFound(f"no 村居 with code {code}")
        return str(row["name"].iloc[0])

    def check(self, scope: Scope) -> None:
        """Raise :class:`ScopeNotFound` when a town/village scope names nothing."""
        if scope.level == "town":
            self.town_name(scope.code)
        elif scope.level == "village":
            self.village_name(scope.code)

    def select(self, frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
        """The rows of an area-tagged frame inside ``scope`` (district: all)."""
        if scope.level == "town":
            return frame.loc[frame["town_code"] == scope.code]
        if scope.level == "village":
            return frame.loc[frame["village_code"] == scope.code]
        return frame
