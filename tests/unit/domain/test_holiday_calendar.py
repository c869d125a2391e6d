"""The holiday calendar: Golden Weeks, public holidays, weekends and 调休 make-up workdays (2026/2027)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboard.domain.holiday_calendar import day_kind, makeup_workdays


def _span(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


@pytest.mark.parametrize(
    ("first", "days"),
    [
        (date(2026, 10, 1), 7),  # National Day 2026: 10-01…10-07
        (date(2026, 2, 15), 9),  # Spring Festival 2026: 02-15…02-23
        (date(2026, 5, 1), 5),  # Labour Day 2026: 05-01…05-05
        (date(2027, 2, 5), 6),  # Spring Festival 2027 as `holidays` knows it
        (date(2027, 10, 1), 5),  # National Day 2027
    ],
)
def test_golden_weeks(first: date, days: int) -> None:
    assert [day_kind(d).kind for d in _span(first, days)] == ["golden"] * days
    assert day_kind(first - timedelta(days=1)).kind in ("workday", "makeup")
    assert day_kind(first + timedelta(days=days)).kind in ("workday", "makeup")
    assert day_kind(first).day_class == "golden"


def test_short_breaks_are_holidays_not_golden_weeks() -> None:
    assert [day_kind(d).kind for d in _span(date(2026, 4, 4), 3)] == ["holiday"] * 3  # 清明
    assert day_kind(date(2026, 9, 27)).kind == "holiday"  # the Sunday of the 中秋 break
    assert day_kind(date(2026, 9, 25)).name == "Mid-Autumn Festival"
    assert day_kind(date(2027, 1, 1)).day_class == "holiday"


def test_makeup_workdays_are_workdays() -> None:
    assert makeup_workdays(2026) == (
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    )
    for d in makeup_workdays(2026):
        assert d.weekday() >= 5
        assert day_kind(d).kind == "makeup" and day_kind(d).day_class == "workday" and not day_kind(d).off


def test_plain_weeks() -> None:
    assert day_kind(date(2026, 11, 28)).kind == "weekend" and day_kind(date(2026, 11, 28)).day_class == "leisure"
    assert day_kind(date(2026, 11, 27)).kind == "workday"
