"""The ``files`` kind: feeds dropped as files in a directory, re-read when they change.

A feed is a file named after it: ``<feed>.csv`` (UTF-8, with or without BOM),
``<feed>.geojson`` (a FeatureCollection; properties are the columns, the
geometry goes to the contract's geometry column, or to lon/lat for points), or
``<feed>.parquet``. A department replaces the file to deliver (write to a
temporary name, then rename, so a reader never sees half a file). A parsed file
is kept until its modification time or size changes; that pair is also the
feed's version (:class:`~datasources.base.Versioned`), so screens see a new
drop at once. Malformed files fail their feed with a message naming the file
and the problem; other feeds keep working.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from datasources.base import BaseSource, SourceError, SourceOptions
from datasources.contracts import CONTRACTS, contract
from datasources.registry import register

#: Suffixes tried for a feed's file, in this order.
SUFFIXES = (".parquet", ".geojson", ".csv")


class FilesOptions(SourceOptions):
    directory: Path = Field(description="where the feed files are dropped")
    feeds: tuple[str, ...] | None = Field(None, description="feeds this source serves (default: those with a file)")


@register("files")
class FilesSource(BaseSource):
    Options = FilesOptions
    options: FilesOptions

    def __init__(self, name: str, options: FilesOptions) -> None:  # type: ignore[override]
        super().__init__(name, options)
        for feed in options.feeds or ():
            contract(feed)
        self._parsed: dict[Path, tuple[tuple[int, int], pd.DataFrame]] = {}
        self._lock = threading.Lock()

    def feeds(self) -> Collection[str]:
        if self.options.feeds is not None:
            return self.options.feeds
        return tuple(f for f in CONTRACTS if self._path(f) is not None)

    def check(self) -> None:
        if not self.options.directory.is_dir():
            raise SourceError(f"{self.name}: directory {self.options.directory} does not exist")

    def versions(self) -> dict[str, str]:
        """Per feed file: its modification time and size (a new drop is a new version)."""
        versions = {}
        for feed in self.feeds():
            path = self._path(feed)
            if path is not None:
                stat = path.stat()
                versions[feed] = f"{stat.st_mtime_ns}-{stat.st_size}"
        return versions

    def latest(self, feed: str) -> datetime | None:
        spec = contract(feed)
        if not spec.time:
            return None
        got = self.read(feed)
        return got.produced_at

    def _fetch(self, feed: str, start: datetime | None, end: datetime | None) -> pd.DataFrame:
        path = self._path(feed)
        if path is None:
            raise SourceError(f"{self.name}: no file for feed {feed!r} in {self.options.directory}")
        frame = self._load(path)
        spec = contract(feed)
        if spec.time and spec.time in frame.columns and (start is not None or end is not None):
            times = pd.to_datetime(frame[spec.time], utc=True, errors="coerce", format="ISO8601")
            keep = times.notna() | frame[spec.time].isna()  # unparseable times reach the contract check
            if start is not None:
                keep &= ~(times <= pd.Timestamp(start))
            if end is not None:
                keep &= ~(times > pd.Timestamp(end))
            frame = frame.loc[keep.to_numpy()]
        return frame.reset_index(drop=True)

    # ---- files -------------------------------------------------------------------------

    def _path(self, feed: str) -> Path | None:
        for suffix in SUFFIXES:
            path = self.options.directory / f"{feed}{suffix}"
            if path.is_file():
                return path
        return None

    def _load(self, path: Path) -> pd.DataFrame:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._parsed.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
        try:
            frame = _PARSERS[path.suffix](path)
        except SourceError:
            raise
        except Exception as exc:  # any parser error names the file, never crashes the page
            raise SourceError(f"{self.name}: cannot read {path.name}: {type(exc).__name__}: {exc}"[:300]) from exc
        with self._lock:
            self._parsed[path] = (stamp, frame)
        return frame


def _csv(path: Path) -> pd.DataFrame:
    # Everything as text: the contract check parses and reports, pandas does not guess.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


def _parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _geojson(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise SourceError(f"{path.name}: not a GeoJSON FeatureCollection")
    feed = path.stem
    geometry = next((c.name for c in contract(feed).columns if c.type == "geometry"), None)
    rows: list[dict[str, Any]] = []
    for i, feature in enumerate(data.get("features") or []):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties", {}), dict):
            raise SourceError(f"{path.name}: feature {i} is not a GeoJSON Feature")
        row = dict(feature.get("properties") or {})
        geom = feature.get("geometry")
        if geometry:
            row[geometry] = geom
        elif isinstance(geom, dict) and geom.get("type") == "Point":
            row.setdefault("lon", (geom.get("coordinates") or [None, None])[0])
            row.setdefault("lat", (geom.get("coordinates") or [None, None])[1])
        rows.append(row)
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(contract(feed).names))


_PARSERS = {".csv": _csv, ".parquet": _parquet, ".geojson": _geojson}
