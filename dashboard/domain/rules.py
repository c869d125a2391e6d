"""Event rules, evaluated as pure functions: threshold with duration, rate of change, staleness, hysteresis.

A rule watches one metric per *subject* (a station, a town, a feed). Per subject the engine replays the recent
samples through :func:`dashboard.domain.hysteresis.step` (so a value wobbling around the threshold raises one
condition, not many) and reports the latest :class:`Condition`: when the breach began, whether it has lasted long
enough to count, its latest and worst values, and when it cleared. :func:`plan` then turns conditions and the open
events into changes: open one event per rule and subject (deduplication), update it while the condition lasts,
and resolve it when the condition clears if the rule says so. Nothing here reads a store or a clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from dashboard.domain.hysteresis import Threshold, step
from dashboard.timeutil import TZ

Kind = Literal["threshold", "rate", "stale"]
Op = Literal[">", ">=", "<", "<="]
SEVERITIES: Mapping[int, tuple[str, str]] = {
    1: ("一般", "minor"),
    2: ("较大", "major"),
    3: ("重大", "serious"),
    4: ("特别重大", "critical"),
}
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue (``dashboard/rules.toml``).

    ``kind``: ``threshold`` compares the metric, ``rate`` its change per hour, ``stale`` the age of the newest
    sample in seconds. The condition is on while ``metric op value``; with hysteresis it goes off only once the
    metric is back past ``clear_at`` (default ``value``: no hysteresis). It counts (raises an event) once it has
    held for ``for_minutes`` (each sample standing for ``period_minutes``). ``evaluator`` names who computes the
    condition: ``engine`` (this module, from ``metric``) or a scene's own rule that writes the events itself (the
    AQI episode, scenic crowding).
    """

    id: str
    domain: str
    title_zh: str
    title_en: str
    severity: int
    department: str
    procedure: tuple[str, ...] = ()
    evaluator: str = "engine"
    metric: str = ""
    kind: Kind = "threshold"
    op: Op = ">"
    value: float = 0.0
    clear_at: float | None = None
    for_minutes: float = 0.0
    #: How long each sample stands for (an hourly average: 60), so two breaching hourly values hold 2 h.
    period_minutes: float = 0.0
    auto_resolve: bool = True
    enabled: bool = True
    unit: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not _RULE_ID.match(self.id):
            raise ValueError(f"rule id {self.id!r}: lower-case letters, digits and _, at most 32")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity must be 1–4 (一般/较大/重大/特别重大), got {self.severity}")
        if self.evaluator == "engine" and not self.metric:
            raise ValueError(f"rule {self.id}: an engine rule needs a metric")
        if not math.isfinite(self.value) or self.for_minutes < 0:
            raise ValueError(f"rule {self.id}: value must be finite and for_minutes ≥ 0")
        self.threshold()  # hysteresis on the wrong side fails here

    @property
    def for_(self) -> timedelta:
        return timedelta(minutes=self.for_minutes)

    def threshold(self) -> Threshold:
        """The rule as an "on at ≥ x, re-armed below y" threshold over the signed metric (see :func:`signed`)."""
        clear = self.value if self.clear_at is None else self.clear_at
        on, off = signed(self.op, self.value), signed(self.op, clear)
        if self.op == ">" or self.op == "<":
            on = math.nextafter(on, math.inf)  # strict: equal to the value is not a breach
        if self.clear_at is not None and off > on:
            side = "below" if self.op.startswith(">") else "above"
            raise ValueError(f"rule {self.id}: clear_at must lie {side} value (hysteresis), got {self.clear_at}")
        return Threshold(self.id, on, min(off, on))


def signed(op: Op, value: float) -> float:
    """Values of a "<" rule negated, so every rule reads as "on when high" for the hysteresis."""
    return value if op.startswith(">") else -value


@dataclass(frozen=True)
class Sample:
    at: datetime
    value: float


@dataclass(frozen=True)
class Subject:
    """What a rule watches: an id, a name for titles, where it is, and its recent samples (any order)."""

    id: str
    name: str
    samples: tuple[Sample, ...]
    lon: float | None = None
    lat: float | None = None
    town_code: str | None = None


@dataclass(frozen=True)
class Condition:
    """A subject's latest breach: since when, until when (None: still on), values seen, whether it counted."""

    rule_id: str
    subject: str
    since: datetime
    cleared: datetime | None
    value: float
    worst: float
    samples: tuple[Sample, ...] = field(default=(), compare=False)
    counted: bool = True

    @property
    def active(self) -> bool:
        return self.cleared is None and self.counted


def series_for(rule: Rule, subject: Subject, now: datetime) -> tuple[Sample, ...]:
    """The values a rule compares, oldest first: the metric, its change per hour, or the age of the newest sample."""
    samples = tuple(sorted((s for s in subject.samples if s.at <= now), key=lambda s: s.at))
    if rule.kind == "threshold":
        return samples
    if rule.kind == "rate":
        return tuple(
            Sample(b.at, (b.value - a.value) / ((b.at - a.at).total_seconds() / 3600))
            for a, b in pairwise(samples)
            if b.at > a.at
        )
    if not samples:
        return (Sample(now, math.inf),)
    last, age = samples[-1].at, (now - samples[-1].at).total_seconds()
    # The moment it went stale is a sample too, so the breach (and its event id) starts there on every tick.
    went = last + timedelta(seconds=max(rule.value, 0) + 1)
    return (
        Sample(last, 0.0),
        *((Sample(went, (went - last).total_seconds()),) if went < now else ()),
        Sample(now, age),
    )


def evaluate(rule: Rule, subject: Subject, now: datetime) -> Condition | None:
    """The subject's latest condition under ``rule`` (None: never breached in the samples).

    A breach counts once it has held ``for_minutes`` (measured from the first breaching sample to a later one
    still breaching); one that cleared before that is a blip and is reported uncounted. A missing value (NaN)
    neither starts nor ends a breach.
    """
    threshold = rule.threshold()
    active, latest = False, None
    since: datetime | None = None
    seen: list[Sample] = []
    for s in series_for(rule, subject, now):
        active, change = step(active, signed(rule.op, s.value), threshold)
        if change == "raise":
            since, seen = s.at, [s]
        elif since is not None and not math.isnan(s.value):
            seen.append(s)
        if change == "clear" and since is not None:
            latest = _condition(rule, subject, since, s.at, seen)
            since = None
    if active and since is not None:
        return _condition(rule, subject, since, None, seen)
    return latest


def _condition(
    rule: Rule, subject: Subject, since: datetime, cleared: datetime | None, seen: list[Sample]
) -> Condition:
    breaching = [s for s in seen if cleared is None or s.at < cleared]
    last_breach = breaching[-1].at if breaching else since
    worst = max((s.value for s in breaching), key=lambda v: signed(rule.op, v), default=math.nan)
    return Condition(
        rule.id,
        subject.id,
        since,
        cleared,
        breaching[-1].value if breaching else math.nan,
        worst,
        tuple(seen[-24:]),
        counted=last_breach - since + timedelta(minutes=rule.period_minutes) >= rule.for_,
    )


# ---- from conditions to event changes ----------------------------------------------------------


@dataclass(frozen=True)
class OpenEvent:
    """An event of the store that is not resolved or closed yet."""

    event_id: str
    rule_id: str
    subject: str
    #: The worst value the event has recorded: a new worst is an update, a mere wobble is not.
    value: float | None = None


@dataclass(frozen=True)
class Change:
    """A change to the events: ``open`` one, ``update`` an open one, ``resolve`` one whose condition cleared."""

    action: Literal["open", "update", "resolve"]
    event_id: str
    rule: Rule
    subject: Subject
    condition: Condition | None


def event_id(rule: Rule, subject: str, since: datetime) -> str:
    """Deterministic: the same breach always gets the same id, in any process (``<rule>-<subject>-<local start>``)."""
    return f"{rule.id}-{subject}-{since.astimezone(TZ):%Y%m%d%H%M}"[:64]


def plan(
    rule: Rule, subjects: Iterable[Subject], open_events: Sequence[OpenEvent], now: datetime
) -> tuple[Change, ...]:
    """The changes that bring the events in line with the conditions: one open event per rule and subject."""
    mine = {e.subject: e for e in open_events if e.rule_id == rule.id}
    changes: list[Change] = []
    for subject in subjects:
        cond = evaluate(rule, subject, now)
        current = mine.pop(subject.id, None)
        if cond is not None and cond.active:
            if current is None:
                changes.append(Change("open", event_id(rule, subject.id, cond.since), rule, subject, cond))
            elif current.value is None or not _same(current.value, cond.worst):
                changes.append(Change("update", current.event_id, rule, subject, cond))
        elif current is not None and rule.auto_resolve:
            changes.append(Change("resolve", current.event_id, rule, subject, cond))
    # A subject that vanished (its feed stopped reporting it) keeps its event: no data is not "all clear".
    return tuple(changes)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
