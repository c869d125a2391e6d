"""The synthetic 山亭区 as one object: reference feeds and series for any window.

``SyntheticDistrict(seed, scale)`` is a value, not a service: every frame it
returns is a pure function of (seed, scale, time), so every gunicorn worker,
every test and every re-seed computes the same district. There is no wall
clock inside; callers say which window they want.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import numpy as np
import pandas as pd

from datasources.contracts import contract
from datasources.synthetic import assets, series
from datasources.synthetic.assets import Assets

_GridFn = Callable[[Assets, np.ndarray], pd.DataFrame]
_EventFn = Callable[[Assets, datetime, datetime], pd.DataFrame]

_GRID: dict[str, tuple[timedelta, _GridFn]] = {
    "bus_positions": (timedelta(seconds=15), series.bus_positions),
    "segment_speeds": (timedelta(minutes=5), series.segment_speeds),
    "parking_occupancy": (timedelta(minutes=5), series.parking_occupancy),
    "air_readings": (timedelta(hours=1), series.air_readings),
    "water_samples": (timedelta(hours=4), series.water_samples),
    "reservoir_levels": (timedelta(hours=1), series.reservoir_levels),
    "radiation_readings": (timedelta(hours=1), series.radiation_readings),
    "visitor_counts": (timedelta(minutes=5), series.visitor_counts),
}
#: Event-like feeds: rows at their own times; the cadence is a nominal reporting period.
_EVENTS: dict[str, tuple[timedelta, _EventFn]] = {
    "accidents": (timedelta(minutes=1), series.accident_rows),
    "rating_values": (timedelta(days=91), series.rating_values),
    "rating_tasks": (timedelta(days=7), series.rating_tasks),
    "camera_status_daily": (timedelta(minutes=5), series.camera_status_daily),
}
#: The commissioning time reported by ``static("cameras")`` without ``at``.
COMMISSIONED = datetime.fromisoformat("2021-06-30T00:00:00+08:00")


@dataclass(frozen=True)
class SyntheticDistrict:
    """The deterministic synthetic district.

    ``scale`` 1 is the real district's size (≈3,000 cameras, ≈600 key places,
    ≈150 road segments); 10 multiplies cameras, key places, bus vehicles and
    road segments for load tests, with the same geography.
    """

    seed: int = 3704
    scale: int = 1

    STATIC_FEEDS: ClassVar[tuple[str, ...]] = (
        "towns",
        "villages",
        "cameras",
        "key_places",
        "bus_lines",
        "bus_stops",
        "road_segments",
        "parking_lots",
        "air_stations",
        "water_sections",
        "reservoirs",
        "radiation_stations",
        "scenic_spots",
        "rating_indicators",
    )
    SERIES_FEEDS: ClassVar[tuple[str, ...]] = (
        "bus_positions",
        "segment_speeds",
        "parking_occupancy",
        "air_readings",
        "water_samples",
        "reservoir_levels",
        "radiation_readings",
        "visitor_counts",
        "accidents",
        "rating_values",
        "rating_tasks",
        "camera_status_daily",
    )

    def __post_init__(self) -> None:
        if not isinstance(self.scale, int) or self.scale < 1:
            raise ValueError(f"scale must be a positive integer (1 or 10), not {self.scale!r}")

    @property
    def assets(self) -> Assets:
        """The cached reference frames of this (seed, scale), helper columns included."""
        return assets.build(self.seed, self.scale)

    def static(self, feed: str, *, at: datetime | None = None) -> pd.DataFrame:
        """The reference rows of a static feed, with exactly the contract's columns.

        ``cameras`` is a state feed: with ``at`` it is ``cameras_at(at)``;
        without, the inventory as commissioned (every camera online since
        2021-06-30), since the district keeps no clock of its own.
        """
        if feed not in self.STATIC_FEEDS:
            raise KeyError(f"{feed!r} is not a static feed; static feeds: {', '.join(self.STATIC_FEEDS)}")
        if feed == "cameras":
            return self._commissioned() if at is None else self.cameras_at(at)
        names = list(contract(feed).names)
        return self.assets[feed][names].copy()

    def _commissioned(self) -> pd.DataFrame:
        cams = self.cameras_at(COMMISSIONED)
        cams["status"] = "online"
        cams["status_since"] = pd.Timestamp(COMMISSIONED).tz_convert("UTC").as_unit("ns")
        return cams

    def cameras_at(self, at: datetime) -> pd.DataFrame:
        """Cameras with their status and status_since (start of the current status period) at ``at``."""
        series.micros(at)
        return series.camera_states(self.assets, at)

    def cadence(self, feed: str) -> timedelta:
        """The native interval of a series feed (nominal reporting period for event-like feeds)."""
        if feed in _GRID:
            return _GRID[feed][0]
        if feed in _EVENTS:
            return _EVENTS[feed][0]
        raise KeyError(f"{feed!r} is not a series feed; series feeds: {', '.join(self.SERIES_FEEDS)}")

    def series(self, feed: str, start: datetime, end: datetime, *, step: timedelta | None = None) -> pd.DataFrame:
        """Rows with time in (start, end] on the epoch-aligned grid of ``step`` (default: the cadence).

        Event-like feeds (accidents, rating_values, rating_tasks, camera_status_daily) ignore
        ``step`` and return the events dated in (start, end].
        """
        series.micros(start)
        series.micros(end)
        if feed in _EVENTS:
            return _EVENTS[feed][1](self.assets, start, end)
        if feed not in _GRID:
            raise KeyError(f"{feed!r} is not a series feed; series feeds: {', '.join(self.SERIES_FEEDS)}")
        cadence, fn = _GRID[feed]
        ticks = series.grid(start, end, step or cadence)
        return fn(self.assets, ticks)
