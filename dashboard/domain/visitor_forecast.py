"""Next hours' visitors in a scenic area, from its own history and the curve so far today.

The model is deliberately plain, so an operator can follow it:

1. **Profile**: the mean hourly in-park curve of recent days of the same *class* as today (Golden Week, public
   holiday, weekend or workday, :mod:`~dashboard.domain.holiday_calendar`), the same weekday counted twice. With no
   day of that class in the history (a first holiday), the nearest class is scaled by the configured uplift (an
   assumption, e.g. a holiday brings 5× a workday's visitors).
2. **Level**: today's curve so far against the profile over the same hours: ``α = (Σ today + c) / (Σ profile + c)``,
   where the pseudo-count ``c`` (a share of the profile's day) keeps α near 1 in the morning when little is known.
3. **Anchor**: the gap between the last observation and ``α × profile`` at that hour fades by half each hour, so the
   first hours follow what is happening now.

Accuracy is measured, not claimed: :func:`backtest` replays the forecast over the history (each day, each issue
hour) and reports the MAPE, the same for the naive "same time last week" baseline on the same points, and the
quantiles of actual / forecast per horizon that make the error band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from dashboard.domain.holiday_calendar import DayClass, day_kind

HOURS = 24
#: Which classes stand in for a class with no history, nearest first.
FALLBACK: Mapping[str, tuple[DayClass, ...]] = {
    "golden": ("golden", "holiday", "leisure", "workday"),
    "holiday": ("holiday", "golden", "leisure", "workday"),
    "leisure": ("leisure", "holiday", "golden", "workday"),
    "workday": ("workday", "leisure", "holiday", "golden"),
}
#: ASSUMPTION: a day's visitors relative to a workday's, used only to scale a stand-in class.
DEFAULT_UPLIFT: Mapping[str, float] = {"workday": 1.0, "leisure": 3.0, "holiday": 5.0, "golden": 7.0}
#: Reference days per profile (the most recent of the class).
MAX_REFS = 8
#: Pseudo-count of the level factor, as a share of the profile's whole day.
SHRINK = 0.08
#: How much of the last observation's gap to the profile survives each hour ahead.
ANCHOR_DECAY = 0.5
#: The error band: these quantiles of actual / forecast in the back-test.
BAND_QUANTILES = (0.1, 0.9)
#: Fewer back-test points than this per horizon and the band is not shown (it would not be honest).
MIN_BAND_POINTS = 12


@dataclass(frozen=True)
class DayCurves:
    """One area's in-park count at each local whole hour (hh:00) of consecutive days, NaN where unknown."""

    days: tuple[date, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.days), HOURS):
            raise ValueError(f"values must be ({len(self.days)}, {HOURS}), got {self.values.shape}")
        if any((b - a).days != 1 for a, b in zip(self.days, self.days[1:], strict=False)):
            raise ValueError("days must be consecutive")

    def classes(self) -> tuple[DayClass, ...]:
        return tuple(day_kind(d).day_class for d in self.days)

    def index(self, day: date) -> int:
        return self.days.index(day)


def day_curves(first: date, last: date, points: Sequence[tuple[date, int, float]]) -> DayCurves:
    """Curves for ``first``…``last`` from (local date, hour, count) points; days or hours without one are NaN."""
    n = (last - first).days + 1
    if n < 1:
        raise ValueError("last must not be before first")
    values = np.full((n, HOURS), np.nan)
    for day, hour, count in points:
        i = (day - first).days
        if 0 <= i < n and 0 <= hour < HOURS:
            values[i, hour] = count
    return DayCurves(tuple(first + timedelta(days=i) for i in range(n)), values)


def profile(
    curves: DayCurves,
    target: int,
    *,
    uplift: Mapping[str, float] = DEFAULT_UPLIFT,
    max_refs: int = MAX_REFS,
    window: int | None = None,
) -> np.ndarray | None:
    """The expected curve of day ``target`` from the days before it (see the module docstring), or None.

    ``window`` limits the history to that many days before ``target`` (as the live scene reads it)."""
    classes = curves.classes()
    complete = ~np.isnan(curves.values).any(axis=1)
    weekday = curves.days[target].weekday()
    first = 0 if window is None else max(0, target - window)
    for cls in FALLBACK[classes[target]]:
        refs = [j for j in range(first, target) if complete[j] and classes[j] == cls][-max_refs:]
        if not refs:
            continue
        weights = np.array([2.0 if curves.days[j].weekday() == weekday else 1.0 for j in refs])
        mean = (curves.values[refs] * weights[:, None]).sum(axis=0) / weights.sum()
        return mean * (uplift[classes[target]] / uplift[cls])  # type: ignore[no-any-return]
    return None


def forecast(
    curves: DayCurves,
    target: int,
    issue_hour: int,
    horizon: int,
    *,
    uplift: Mapping[str, float] = DEFAULT_UPLIFT,
    base: np.ndarray | None = None,
) -> np.ndarray | None:
    """Counts at hours ``issue_hour + 1 … + horizon`` (clipped to the day) of day ``target``, knowing its values up
    to ``issue_hour``; None without any usable history. ``base`` is a precomputed :func:`profile`."""
    if not 0 <= issue_hour < HOURS or horizon < 1:
        raise ValueError("issue_hour must be 0–23 and horizon ≥ 1")
    p = profile(curves, target, uplift=uplift) if base is None else base
    if p is None:
        return None
    today = curves.values[target, : issue_hour + 1]
    known = ~np.isnan(today)
    c = SHRINK * float(p.sum())
    alpha = (float(today[known].sum()) + c) / (float(p[: issue_hour + 1][known].sum()) + c) if c > 0 else 1.0
    hours = np.arange(issue_hour + 1, min(HOURS, issue_hour + horizon + 1))
    out = alpha * p[hours]
    if known[-1]:
        gap = today[-1] - alpha * p[issue_hour]
        out = out + gap * ANCHOR_DECAY ** (hours - issue_hour)
    return np.clip(out, 0.0, None)  # type: ignore[no-any-return]


def naive_last_week(curves: DayCurves, target: int, issue_hour: int, horizon: int) -> np.ndarray | None:
    """The baseline: the same hours a week earlier (None without that day)."""
    if target < 7:
        return None
    return curves.values[target - 7, issue_hour + 1 : min(HOURS, issue_hour + horizon + 1)].copy()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Backtest:
    """How the forecast did over the history."""

    mape: float | None
    naive_mape: float | None
    points: int
    days: int
    #: Per horizon (1 … H hours ahead): (low, high) quantiles of actual / forecast, None where too few points.
    band: tuple[tuple[float, float] | None, ...]
    #: Per kind of day: (MAPE, naive MAPE, points) on the shared points.
    by_class: Mapping[str, tuple[float, float, int]] = field(default_factory=dict)


def backtest(
    curves: DayCurves,
    horizon: int,
    *,
    min_actual: float,
    first: int = 7,
    uplift: Mapping[str, float] = DEFAULT_UPLIFT,
    window: int | None = None,
) -> Backtest:
    """Replay the forecast from every whole hour of every complete day from ``first`` on, against what happened.

    Points count where the actual value is at least ``min_actual`` (open hours with visitors: a percentage error
    of a near-empty park says nothing). MAPE of the forecast and of the naive baseline use the same points, so the
    comparison is fair; the band's quantiles use all of the forecast's points.
    """
    ratios: list[list[float]] = [[] for _ in range(horizon)]
    errors: list[float] = []
    naive_errors: list[float] = []
    kinds: list[str] = []
    classes = curves.classes()
    days = 0
    for i in range(first, len(curves.days)):
        if np.isnan(curves.values[i]).any():
            continue
        base = profile(curves, i, uplift=uplift, window=window)
        if base is None:
            continue
        days += 1
        for h0 in range(HOURS - 1):
            f = forecast(curves, i, h0, horizon, uplift=uplift, base=base)
            actual = curves.values[i, h0 + 1 : h0 + 1 + horizon]
            naive = naive_last_week(curves, i, h0, horizon)
            for k, (fv, av) in enumerate(zip(f if f is not None else [], actual, strict=False)):
                if av < min_actual or fv <= 0:
                    continue
                ratios[k].append(av / fv)
                if naive is not None and not math.isnan(naive[k]):
                    errors.append(abs(fv - av) / av)
                    naive_errors.append(abs(naive[k] - av) / av)
                    kinds.append(classes[i])
    band = tuple(
        (float(np.quantile(r, BAND_QUANTILES[0])), float(np.quantile(r, BAND_QUANTILES[1])))
        if len(r) >= MIN_BAND_POINTS
        else None
        for r in ratios
    )
    ours, theirs, kind = np.asarray(errors), np.asarray(naive_errors), np.asarray(kinds)
    by_class = {
        str(c): (float(ours[kind == c].mean()), float(theirs[kind == c].mean()), int((kind == c).sum()))
        for c in sorted(set(kinds))
    }
    return Backtest(
        mape=float(ours.mean()) if errors else None,
        naive_mape=float(theirs.mean()) if naive_errors else None,
        points=len(errors),
        days=days,
        band=band,
        by_class=by_class,
    )


def crossing_time(
    now: datetime, current: float, times: Sequence[datetime], values: Sequence[float], level: float
) -> datetime | None:
    """When the series (``current`` at ``now``, then ``values`` at ``times``) first reaches ``level``, linearly
    interpolated; ``now`` if it already has, None if not within the forecast."""
    if current >= level:
        return now
    t0, v0 = now, current
    for t1, v1 in zip(times, values, strict=True):
        if v1 >= level:
            share = (level - v0) / (v1 - v0) if v1 != v0 else 1.0
            return t0 + (t1 - t0) * share
        t0, v0 = t1, v1
    return None
