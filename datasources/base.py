"""The one datasource protocol and the results it returns.

A datasource delivers feeds (FEEDS.md). Whatever its kind (synthetic, sql,
files, http, mqtt), what leaves it has passed the feed's contract check:
:meth:`BaseSource.read` fetches raw rows through the kind's ``_fetch`` and
validates them, so no kind can skip the check.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict

from datasources.contracts import contract
from datasources.validation import Report, validate


class SourceError(RuntimeError):
    """A datasource cannot deliver (unreachable, misconfigured, broken feed)."""


class SourceOptions(BaseModel):
    """Base for each kind's typed options; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class FeedFrame:
    """Validated rows of one feed, the report of what was rejected, and when
    the newest row's data was produced (None for reference data)."""

    feed: str
    frame: pd.DataFrame
    report: Report
    produced_at: datetime | None


@dataclass(frozen=True)
class WriteResult:
    feed: str
    written: int
    report: Report
    #: Every rejected row's first reason, by its position in the frame given to ``write`` (for dead letters).
    reasons: Mapping[int, str] = field(default_factory=dict)


@runtime_checkable
class Datasource(Protocol):
    """What every kind offers: the feeds it serves, reads, freshness, health."""

    name: str
    kind: ClassVar[str]

    def feeds(self) -> Collection[str]: ...

    def read(self, feed: str, *, start: datetime | None = None, end: datetime | None = None) -> FeedFrame: ...

    def latest(self, feed: str) -> datetime | None: ...

    def check(self) -> None: ...


@runtime_checkable
class Versioned(Protocol):
    """Optional capability: a token per feed that changes whenever the feed's rows change.

    Readers key their caches on it, so unchanged data is never read twice and a
    change is seen at the next look. A feed missing from the mapping has no
    known version and is re-read every refresh interval.
    """

    def versions(self) -> Mapping[str, str]: ...


@runtime_checkable
class Appendable(Protocol):
    """Optional capability: enough bookkeeping to tell an append from any other change.

    A reader holding a feed's rows up to some time may then read only the rows after it (validated like
    any read; where the time is not part of the key, such a row replaces the one with its key) and check
    that they account for every change: as many rows written between the two versions
    as the tail delivered, and as many rows stored in the window as it now holds. Anything else (an update
    of an older row, a delete, a backfill) fails the check and the reader reads the window whole.
    """

    def written_between(self, feed: str, old: str, new: str) -> int | None:
        """Rows written to ``feed`` from version ``old`` to ``new`` (None: cannot tell)."""
        ...

    def count_between(self, feed: str, start: datetime | None, end: datetime) -> int:
        """Rows of ``feed`` stored with time in (start, end] (start None: up to end), valid or not."""
        ...


@runtime_checkable
class WritableSource(Datasource, Protocol):
    """A source that also stores feeds (the embedded and production store)."""

    def write(
        self, feed: str, frame: pd.DataFrame, *, now: datetime | None = None, origin: str = "write"
    ) -> WriteResult: ...


class BaseSource(ABC):
    """Shared behaviour: contract check on every read, time-window filtering."""

    kind: ClassVar[str] = ""
    Options: ClassVar[type[SourceOptions]] = SourceOptions

    def __init__(self, name: str, options: SourceOptions) -> None:
        self.name = name
        self.options = options

    @classmethod
    def make_options(cls, options: Mapping[str, Any], context: Mapping[str, Any]) -> SourceOptions:
        """Typed options from configuration; ``context`` holds app-wide defaults."""
        return cls.Options(**options)

    @abstractmethod
    def feeds(self) -> Collection[str]: ...

    @abstractmethod
    def _fetch(self, feed: str, start: datetime | None, end: datetime | None) -> pd.DataFrame:
        """Raw rows of ``feed`` in the window (as delivered, unchecked)."""

    @abstractmethod
    def latest(self, feed: str) -> datetime | None: ...

    @abstractmethod
    def check(self) -> None: ...

    def read(self, feed: str, *, start: datetime | None = None, end: datetime | None = None) -> FeedFrame:
        """Validated rows of ``feed`` whose time lies in (start, end]."""
        self._require(feed)
        for bound in (start, end):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("start/end must be timezone-aware")
        checked = validate(feed, self._fetch(feed, start, end), now=end)
        spec = contract(feed)
        produced = None
        if spec.time and len(checked.frame):
            produced = checked.frame[spec.time].max().to_pydatetime()
        return FeedFrame(feed, checked.frame, checked.report, produced)

    def _require(self, feed: str) -> None:
        contract(feed)  # unknown names fail with the list of known feeds
        if feed not in self.feeds():
            raise SourceError(f"source {self.name!r} ({self.kind}) does not serve feed {feed!r}")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind}
