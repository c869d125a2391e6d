"""The ``synthetic`` kind: the deterministic Shanting simulator as a live source.

It computes every feed from (seed, scale, time), so any worker, test or
process sees the same district without a store. The embedded default instead
seeds the store from it and keeps writing (see ``dashboard.simulation``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Literal

import pandas as pd
from pydantic import Field

from datasources.base import BaseSource, SourceOptions
from datasources.contracts import FEEDS, contract
from datasources.registry import register
from datasources.synthetic import SyntheticDistrict
from datasources.validation import empty_frame

#: When a series is read without a start, this much history is returned.
DEFAULT_WINDOW = timedelta(hours=24)
#: Quarterly rating values reach back to the start of the DB37/T 3890.2 programme.
RATING_SINCE = datetime(2021, 1, 1, tzinfo=UTC)
#: Event-like feeds are searched this far back for their newest row.
_LOOKBACK = timedelta(days=14)


class SyntheticOptions(SourceOptions):
    seed: int = Field(3704, description="same seed, same district, in every process")
    scale: Literal[1, 10] = Field(1, description="asset multiplier for benchmarks")


@register("synthetic")
class SyntheticSource(BaseSource):
    Options = SyntheticOptions
    options: SyntheticOptions

    def __init__(self, name: str, options: SyntheticOptions, clock: Callable[[], datetime] | None = None) -> None:  # type: ignore[override]
        super().__init__(name, options)
        self.district = SyntheticDistrict(seed=options.seed, scale=options.scale)
        self._clock = clock or (lambda: datetime.now(UTC))

    def feeds(self) -> Collection[str]:
        # events come from rules (an empty feed here), everything else is simulated.
        return FEEDS

    def check(self) -> None:
        """Always reachable: it is a computation."""

    def _fetch(self, feed: str, start: datetime | None, end: datetime | None) -> pd.DataFrame:
        end = end or self._clock()
        if feed == "events":
            return empty_frame(contract(feed))
        if feed == "cameras":
            return self.district.cameras_at(end)
        if feed in SyntheticDistrict.STATIC_FEEDS:
            return self.district.static(feed)
        if contract(feed).time is None:
            # Keyed by period, not time: the whole history, as a table would hold it.
            return self.district.series(feed, RATING_SINCE, end)
        return self.district.series(feed, start or end - DEFAULT_WINDOW, end)

    def latest(self, feed: str) -> datetime | None:
        spec = contract(feed)
        if not spec.time or feed == "events":
            return None
        now = self._clock()
        if feed == "cameras":
            return now
        if spec.max_age is not None:
            step = self.district.cadence(feed)
            return now - (now - datetime(1970, 1, 1, tzinfo=UTC)) % step
        rows = self.district.series(feed, now - _LOOKBACK, now)
        return rows[spec.time].max().to_pydatetime() if len(rows) else None
