"""Hysteresis alarms: one event per crossing, re-armed only below the re-arm level."""

from __future__ import annotations

import math

import pytest

from dashboard.domain.hysteresis import Episode, Threshold, episodes, step

WARN = Threshold("warning", 0.8, 0.75)


def test_oscillating_around_the_threshold_raises_once() -> None:
    wobble = [0.7, 0.79, 0.81, 0.79, 0.8, 0.78, 0.82, 0.77, 0.8, 0.79]
    assert episodes(wobble, WARN) == (Episode("warning", 2, None, 0.82),)


def test_a_new_crossing_needs_the_rearm_level_first() -> None:
    series = [0.5, 0.85, 0.9, 0.74, 0.76, 0.81, 0.6]
    assert episodes(series, WARN) == (Episode("warning", 1, 3, 0.9), Episode("warning", 5, 6, 0.81))


def test_without_margin_every_wobble_would_count() -> None:
    # The same wobble with off_below == on_at flaps: this is what the margin prevents.
    flappy = Threshold("warning", 0.8, 0.8)
    assert len(episodes([0.79, 0.81, 0.79, 0.81, 0.79], flappy)) == 2


def test_gaps_change_nothing_and_start_active() -> None:
    assert episodes([0.9, math.nan, 0.9, 0.7], WARN) == (Episode("warning", 0, 3, 0.9),)
    assert episodes([0.78, 0.79], WARN, active=True) == (Episode("warning", 0, None, 0.79),)


def test_step() -> None:
    assert step(False, 0.8, WARN) == (True, "raise")
    assert step(True, 0.76, WARN) == (True, None)
    assert step(True, 0.74, WARN) == (False, "clear")
    assert step(False, math.nan, WARN) == (False, None)


@pytest.mark.parametrize(("on", "off"), [(0.8, 0.9), (math.nan, 0.5), (True, 0.5)])
def test_threshold_validated(on: float, off: float) -> None:
    with pytest.raises(ValueError):
        Threshold("x", on, off)
