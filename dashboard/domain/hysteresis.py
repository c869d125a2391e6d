"""Threshold alarms with hysteresis: one event per crossing, no flapping.

A value that oscillates around a threshold would raise an alarm on every wobble. Here an alarm is *raised* when the
value reaches ``on_at`` and is *re-armed* only after the value falls below ``off_below`` (a lower level), so a
series hovering around the threshold raises exactly one event. Pure and domain-free: scenic crowding uses it now, the
rules engine (issue #11) can reuse it for any numeric rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Change = Literal["raise", "clear"]


@dataclass(frozen=True)
class Threshold:
    """An alarm level: raised at ``value ≥ on_at``, re-armed at ``value < off_below`` (``off_below ≤ on_at``)."""

    name: str
    on_at: float
    off_below: float

    def __post_init__(self) -> None:
        for label, v in (("on_at", self.on_at), ("off_below", self.off_below)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"{self.name}: {label} must be a finite number, got {v!r}")
        if self.off_below > self.on_at:
            raise ValueError(f"{self.name}: off_below ({self.off_below}) must not exceed on_at ({self.on_at})")


@dataclass(frozen=True)
class Episode:
    """One crossing: positions in the series where it was raised and cleared (None: still active), and its peak."""

    name: str
    start: int
    end: int | None
    peak: float

    @property
    def active(self) -> bool:
        return self.end is None


def step(active: bool, value: float, threshold: Threshold) -> tuple[bool, Change | None]:
    """The next state after seeing ``value``, and the change it makes (None: nothing to report).

    An unknown value (NaN) changes nothing: a gap in the data neither raises nor clears an alarm.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return active, None
    if not active and value >= threshold.on_at:
        return True, "raise"
    if active and value < threshold.off_below:
        return False, "clear"
    return active, None


def episodes(values: Sequence[float], threshold: Threshold, *, active: bool = False) -> tuple[Episode, ...]:
    """Every crossing of ``threshold`` in ``values`` (oldest first), replaying :func:`step` from ``active``.

    Replaying a window is idempotent, so a caller can rebuild events from the data instead of keeping state.
    """
    found: list[Episode] = []
    start: int | None = 0 if active else None
    peak = -math.inf
    for i, value in enumerate(values):
        active, change = step(active, value, threshold)
        if change == "raise":
            start, peak = i, float(value)
        elif change == "clear" and start is not None:
            found.append(Episode(threshold.name, start, i, peak))
            start = None
        elif active and value is not None and not math.isnan(value):
            peak = max(peak, float(value))
    if active and start is not None:
        found.append(Episode(threshold.name, start, None, peak))
    return tuple(found)
