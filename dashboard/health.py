"""Health and freshness of every datasource and feed.

A feed is *fresh* when its newest row is younger than its limit (the
contract's ``max_age`` or the ``freshness_s`` setting), *stale* when older,
*failing* when its source cannot deliver or its delivery breaks the contract
as a whole, *empty* when it holds nothing, and *static* for reference data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from dashboard.settings import Settings
from dashboard.timeutil import local, now_utc
from datasources import SourceError, Sources
from datasources.contracts import CONTRACTS

State = Literal["fresh", "stale", "failing", "empty", "idle", "event", "static"]
#: Worst first: a domain chip shows the worst state of its feeds. A feed that
#: is empty or idle (outside its active hours) does not hide a fresh sibling.
SEVERITY: tuple[State, ...] = ("failing", "stale", "fresh", "empty", "idle", "event", "static")


@dataclass(frozen=True)
class SourceHealth:
    name: str
    kind: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class FeedHealth:
    feed: str
    domain: str
    source: str
    state: State
    last_update: datetime | None
    age_s: float | None
    max_age_s: float | None
    rejected: int = 0
    problem: str | None = None
    report: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Snapshot:
    checked_at: datetime
    store_ok: bool
    sources: tuple[SourceHealth, ...]
    feeds: tuple[FeedHealth, ...] = field(default=())
    #: Since when and why the store cannot write (e.g. the disk is full) while it still reads, as this process saw.
    write_failure: tuple[datetime, str] | None = None

    def by_domain(self) -> dict[str, list[FeedHealth]]:
        groups: dict[str, list[FeedHealth]] = {}
        for f in self.feeds:
            groups.setdefault(f.domain, []).append(f)
        return groups

    @property
    def status(self) -> str:
        """``ok``; ``store_unreachable`` (nothing can be served: HTTP 503); ``store_writes_failing`` (screens are
        served from what is stored, new rows wait upstream: the ingester keeps them unacknowledged)."""
        if not self.store_ok:
            return "store_unreachable"
        return "store_writes_failing" if self.write_failure else "ok"

    def as_json(self) -> dict[str, Any]:
        writes: dict[str, Any] = {"ok": self.write_failure is None, "failing_since": None, "error": None}
        if self.write_failure is not None:
            writes |= {"failing_since": self.write_failure[0].isoformat(), "error": self.write_failure[1]}
        return {
            "status": self.status,
            "checked_at": self.checked_at.isoformat(),
            "store_writes": writes,
            "sources": {s.name: asdict(s) for s in self.sources},
            "feeds": {f.feed: _feed_json(f) for f in self.feeds},
        }


def worst(states: list[State]) -> State:
    return min(states, key=SEVERITY.index) if states else "empty"


def classify(
    last_update: datetime | None,
    max_age: timedelta | None,
    now: datetime,
    has_rows: bool,
    active_hours: tuple[str, str] | None = None,
) -> State:
    """The freshness state of one feed from its newest data time (pure).

    A feed without an age limit is reference data (no time at all) or an
    event feed (dated rows that arrive when something happens): silence is
    normal for both.
    """
    if max_age is None:
        if not has_rows:
            return "empty"
        return "event" if last_update is not None else "static"
    if last_update is not None and now - last_update <= max_age:
        return "fresh"
    if off_hours(active_hours, now):
        return "idle"
    return "empty" if last_update is None else "stale"


def off_hours(active_hours: tuple[str, str] | None, now: datetime) -> bool:
    """Whether ``now`` (local time) lies outside a feed's active hours (a contract's ``active_hours``; None: a
    feed that is always active)."""
    return active_hours is not None and not _within(local(now).strftime("%H:%M"), active_hours)


def _within(hhmm: str, hours: tuple[str, str]) -> bool:
    start, end = hours
    return start <= hhmm < end if start <= end else (hhmm >= start or hhmm < end)


def freshness_limit(feed: str, settings: Settings) -> timedelta | None:
    if feed in settings.freshness_s:
        return timedelta(seconds=settings.freshness_s[feed])
    return CONTRACTS[feed].max_age


Probe = Callable[[str, datetime | None, datetime], Any]


def collect(sources: Sources, settings: Settings, now: datetime | None = None, probe: Probe | None = None) -> Snapshot:
    """Ask every source and feed how it is; never raises for a failing source.

    ``probe(feed, start, end)`` reads a feed through the contract check
    (default: straight from its source); the app passes its cached reads so
    health costs no queries of its own.
    """
    now = now or now_utc()
    probe = probe or (lambda feed, start, end: sources.read(feed, start=start, end=end))
    checked = {src.name: _check(src) for src in sources}
    store_name = settings.store
    status = _store_status(sources) if checked[store_name].ok else {}
    feeds = []
    for feed, source_name in sources.routes().items():
        feeds.append(_feed(feed, sources, checked[source_name], status.get(feed, {}), settings, now, probe))
    failure = getattr(sources.store, "write_failure", None)
    return Snapshot(now, checked[store_name].ok, tuple(checked.values()), tuple(feeds), failure)


def _check(source: Any) -> SourceHealth:
    try:
        source.check()
        return SourceHealth(source.name, source.kind, True)
    except (SourceError, Exception) as exc:  # a broken source must not break health
        return SourceHealth(source.name, source.kind, False, str(exc)[:300])


def _store_status(sources: Sources) -> dict[str, dict[str, Any]]:
    try:
        return sources.store.feed_status()  # type: ignore[attr-defined, no-any-return]
    except Exception:
        return {}


def _feed(
    feed: str,
    sources: Sources,
    src: SourceHealth,
    status: Mapping[str, Any],
    settings: Settings,
    now: datetime,
    probe: Probe,
) -> FeedHealth:
    """Probe one feed: read its freshness window through the contract check."""
    spec = CONTRACTS[feed]
    limit = freshness_limit(feed, settings)
    base: dict[str, Any] = dict(
        feed=feed, domain=spec.domain, source=src.name, max_age_s=limit.total_seconds() if limit else None
    )
    if not src.ok:
        return FeedHealth(state="failing", last_update=None, age_s=None, problem=src.error, **base)
    try:
        got = probe(feed, now - limit if limit else None, now)
        latest = got.produced_at or (sources.route(feed).latest(feed) if spec.time else None)
    except Exception as exc:  # the feed fails, the snapshot does not
        return FeedHealth(state="failing", last_update=None, age_s=None, problem=str(exc)[:300], **base)
    report = got.report
    last = latest if spec.time else status.get("last_write_at")
    has_rows = report.rows_in > 0 or latest is not None
    state = classify(latest, limit, now, has_rows, spec.active_hours)
    problem = None
    if report.errors:
        state, problem = "failing", "; ".join(report.errors)
    age = (now - last).total_seconds() if last else None
    return FeedHealth(
        state=state,
        last_update=last,
        age_s=age,
        problem=problem,
        rejected=report.rejected,
        report=report.as_dict() if not report.ok else status.get("report"),
        **base,
    )


def _feed_json(f: FeedHealth) -> dict[str, Any]:
    data = asdict(f)
    data["last_update"] = f.last_update.isoformat() if f.last_update else None
    return data
