"""The visitor forecast: profile by kind of day, level from today's curve, back-test against the naive baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from dashboard.domain.visitor_forecast import (
    DEFAULT_UPLIFT,
    DayCurves,
    backtest,
    crossing_time,
    day_curves,
    forecast,
    naive_last_week,
    profile,
)

SHAPE = np.array([0] * 8 + [1, 3, 5, 6, 6, 5, 4, 2, 1] + [0] * 7, dtype=float)  # a day's in-park shape


def _history(first: date, days: int, level: dict[str, float]) -> DayCurves:
    """Deterministic days whose size depends only on the kind of day."""
    from dashboard.domain.holiday_calendar import day_kind

    points = [
        (first + timedelta(days=i), h, level[day_kind(first + timedelta(days=i)).day_class] * SHAPE[h])
        for i in range(days)
        for h in range(24)
    ]
    return day_curves(first, first + timedelta(days=days - 1), points)


def test_profile_uses_days_of_the_same_class() -> None:
    curves = _history(date(2026, 11, 2), 28, {"workday": 100, "leisure": 400, "holiday": 0, "golden": 0})
    sunday = curves.index(date(2026, 11, 29))
    monday = curves.index(date(2026, 11, 23))
    assert profile(curves, sunday) == pytest.approx(400 * SHAPE)
    assert profile(curves, monday) == pytest.approx(100 * SHAPE)


def test_a_first_golden_week_borrows_a_class_with_the_uplift() -> None:
    curves = _history(date(2026, 9, 14), 18, {"workday": 100, "leisure": 300, "holiday": 500, "golden": 0})
    golden = curves.index(date(2026, 10, 1))  # no Golden Week day before it: the 中秋 holiday stands in
    assert profile(curves, golden) == pytest.approx(500 * SHAPE * DEFAULT_UPLIFT["golden"] / DEFAULT_UPLIFT["holiday"])


def test_forecast_follows_todays_level() -> None:
    curves = _history(date(2026, 11, 2), 28, {"workday": 100, "leisure": 400, "holiday": 0, "golden": 0})
    sunday = curves.index(date(2026, 11, 29))
    curves.values[sunday] *= 1.5  # today is busier than the usual Sunday
    curves.values[sunday, 13:] = np.nan
    got = forecast(curves, sunday, 12, 4)
    assert got is not None and len(got) == 4
    usual = 400 * SHAPE[13:17]
    assert np.all(got > usual * 1.2) and np.all(got < usual * 1.6)
    assert forecast(curves, sunday, 22, 6) is not None and len(forecast(curves, sunday, 22, 6)) == 1  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        forecast(curves, sunday, 24, 3)


def test_backtest_beats_last_week_when_a_holiday_breaks_the_week() -> None:
    curves = _history(date(2026, 9, 1), 60, {"workday": 100, "leisure": 300, "holiday": 500, "golden": 700})
    got = backtest(curves, 3, min_actual=50)
    assert got.mape is not None and got.naive_mape is not None
    assert got.mape < got.naive_mape
    assert got.points > 0 and got.days > 40
    assert all(b is None or b[0] <= 1 <= b[1] + 1e-9 for b in got.band)
    assert naive_last_week(curves, 3, 10, 2) is None


def test_curves_validated() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        DayCurves((date(2026, 1, 1), date(2026, 1, 3)), np.zeros((2, 24)))
    with pytest.raises(ValueError):
        DayCurves((date(2026, 1, 1),), np.zeros((1, 23)))


def test_crossing_time_interpolates() -> None:
    now = datetime(2026, 10, 3, 2, 30, tzinfo=UTC)
    times = [datetime(2026, 10, 3, 3, tzinfo=UTC), datetime(2026, 10, 3, 4, tzinfo=UTC)]
    assert crossing_time(now, 0.7, times, [0.75, 0.85], 0.8) == datetime(2026, 10, 3, 3, 30, tzinfo=UTC)
    assert crossing_time(now, 0.9, times, [0.75, 0.85], 0.8) == now
    assert crossing_time(now, 0.5, times, [0.6, 0.7], 0.8) is None


def test_window_limits_the_history_and_the_backtest_splits_by_kind_of_day() -> None:
    curves = _history(date(2026, 9, 1), 60, {"workday": 100, "leisure": 300, "holiday": 500, "golden": 700})
    oct8 = curves.index(date(2026, 10, 8))  # a Thursday right after the Golden Week
    assert profile(curves, oct8) == pytest.approx(100 * SHAPE)
    # With only the week before it, no workday is in reach: the Golden Week stands in, scaled down by the uplift.
    assert profile(curves, oct8, window=7) == pytest.approx(700 * SHAPE / DEFAULT_UPLIFT["golden"])
    got = backtest(curves, 3, min_actual=50)
    assert set(got.by_class) == {"workday", "leisure", "holiday", "golden"}
    assert sum(n for _, _, n in got.by_class.values()) == got.points
