"""The Chinese holiday calendar as visitors live it: public holidays, Golden Weeks and 调休 make-up workdays.

Built on ``holidays.China`` (the official State Council arrangement for the years it knows, including the
in-lieu days off and the working weekends that pay for them). A *Golden Week* is a run of five or more consecutive
days off that contains Spring Festival, National Day or Labour Day (the 2026 National Day break, 10-01…10-07, is one;
a plain three-day 清明 break is not). Tourism demand follows these kinds of day, not the weekday alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import holidays

Kind = Literal["golden", "holiday", "weekend", "makeup", "workday"]
#: Forecast classes: days that behave alike for visitor numbers.
DayClass = Literal["golden", "holiday", "leisure", "workday"]
#: A break this long (days off in a row) around one of the big festivals is a Golden Week.
GOLDEN_MIN_DAYS = 5
_GOLDEN_FESTIVALS = ("Spring Festival", "National Day", "Labor Day", "Chinese New Year")
#: Breaks of this many days or more count as holiday days throughout (e.g. the Sunday inside a 3-day break).
_BREAK_MIN_DAYS = 3


@dataclass(frozen=True)
class DayKind:
    day: date
    kind: Kind
    #: The public holiday's name (English, from ``holidays``), or "" on other days.
    name: str
    #: Days off in a row this day belongs to (0 on working days).
    break_days: int

    @property
    def day_class(self) -> DayClass:
        """The forecast class: golden, holiday, leisure (a weekend) or workday (incl. make-up workdays)."""
        if self.kind in ("golden", "holiday"):
            return self.kind
        return "leisure" if self.kind == "weekend" else "workday"

    @property
    def off(self) -> bool:
        return self.kind in ("golden", "holiday", "weekend")


@lru_cache(maxsize=16)
def _calendar(year: int) -> holidays.HolidayBase:
    # The neighbouring years too: a break can straddle New Year.
    return holidays.China(years=(year - 1, year, year + 1))


def _working(d: date) -> bool:
    return bool(_calendar(d.year).is_working_day(d))


def _break(d: date) -> list[date]:
    """The run of consecutive days off containing ``d`` (empty on a working day)."""
    if _working(d):
        return []
    first = last = d
    while not _working(first - timedelta(days=1)):
        first -= timedelta(days=1)
    while not _working(last + timedelta(days=1)):
        last += timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@lru_cache(maxsize=4096)
def day_kind(d: date) -> DayKind:
    """What kind of day ``d`` is for visitors (see the module docstring)."""
    cal = _calendar(d.year)
    name = str(cal.get(d) or "")
    run = _break(d)
    if not run:
        weekend = d.weekday() >= 5
        return DayKind(d, "makeup" if weekend else "workday", name, 0)
    names = [str(cal.get(x) or "") for x in run]
    if len(run) >= GOLDEN_MIN_DAYS and any(f in n for n in names for f in _GOLDEN_FESTIVALS):
        return DayKind(d, "golden", name or _festival(names), len(run))
    if name or (len(run) >= _BREAK_MIN_DAYS and any(names)):
        return DayKind(d, "holiday", name or _festival(names), len(run))
    return DayKind(d, "weekend", "", len(run))


def _festival(names: list[str]) -> str:
    """The break's festival (the first real holiday name, not an in-lieu "Day off")."""
    real = [n for n in names if n and not n.startswith("Day off")]
    return (real or [n for n in names if n] or [""])[0]


def makeup_workdays(year: int) -> tuple[date, ...]:
    """The 调休 working weekends of ``year`` that ``holidays`` knows (empty before the arrangement is published)."""
    cal = holidays.China(years=year)
    return tuple(sorted(d for d in getattr(cal, "weekend_workdays", ()) if d.year == year))
