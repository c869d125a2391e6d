"""Rule evaluation: thresholds held for a duration, rates of change, staleness, hysteresis, dedup, auto-resolve."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.rules import OpenEvent, Rule, Sample, Subject, evaluate, event_id, plan

T0 = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


def rule(**kw: object) -> Rule:
    base: dict[str, object] = {
        "id": "aqi_150",
        "domain": "environment",
        "title_zh": "AQI",
        "title_en": "AQI",
        "severity": 2,
        "department": "生态环境分局",
        "metric": "aqi",
        "op": ">",
        "value": 150.0,
        "for_minutes": 120.0,
    }
    return Rule(**{**base, **kw})  # type: ignore[arg-type]


def hourly(*values: float, start: datetime = T0, name: str = "s1") -> Subject:
    return Subject(name, name, tuple(Sample(start + i * H, v) for i, v in enumerate(values)))


def test_a_breach_counts_only_once_it_has_lasted_the_duration() -> None:
    r = rule()
    assert evaluate(r, hourly(100, 160, 170), T0 + 3 * H).active is False  # held 1 h of 2
    cond = evaluate(r, hourly(100, 160, 170, 180), T0 + 4 * H)
    assert cond is not None and cond.active
    assert (cond.since, cond.value, cond.worst) == (T0 + H, 180, 180)


def test_hourly_values_stand_for_their_hour() -> None:
    r = rule(period_minutes=60.0)  # AQI > 150 for 2 h: two consecutive hourly values
    assert not evaluate(r, hourly(100, 160), T0 + 2 * H).active  # type: ignore[union-attr]
    assert evaluate(r, hourly(100, 160, 170), T0 + 3 * H).active  # type: ignore[union-attr]


def test_strictly_above_means_equal_is_no_breach() -> None:
    assert evaluate(rule(for_minutes=0), hourly(150, 150), T0 + 2 * H) is None
    assert evaluate(rule(for_minutes=0, op=">="), hourly(150), T0 + H).active  # type: ignore[union-attr]


def test_a_short_blip_is_reported_uncounted_and_opens_nothing() -> None:
    r = rule()
    subject = hourly(160, 100, 100)
    cond = evaluate(r, subject, T0 + 3 * H)
    assert cond is not None and not cond.counted and not cond.active
    assert plan(r, [subject], [], T0 + 3 * H) == ()


def test_hysteresis_keeps_a_wobbling_value_in_one_breach() -> None:
    r = rule(for_minutes=0, clear_at=130.0)
    subject = hourly(160, 149, 155, 140, 151)  # never below 130: one breach since the first hour
    cond = evaluate(r, subject, T0 + 5 * H)
    assert cond is not None and cond.active and cond.since == T0
    without = evaluate(rule(for_minutes=0), subject, T0 + 5 * H)
    assert without is not None and without.since == T0 + 4 * H  # it flapped without hysteresis


def test_below_rules_read_the_other_way_and_reject_hysteresis_on_the_wrong_side() -> None:
    r = rule(id="working_rate", op="<", value=0.98, clear_at=0.985, for_minutes=0)
    assert evaluate(r, hourly(0.99, 0.97), T0 + 2 * H).active  # type: ignore[union-attr]
    cond = evaluate(r, hourly(0.97, 0.981, 0.99), T0 + 3 * H)
    assert cond is not None and cond.cleared == T0 + 2 * H  # 0.981 is still inside the hysteresis band
    with pytest.raises(ValueError, match="clear_at must lie above"):
        rule(op="<", value=0.98, clear_at=0.9)
    with pytest.raises(ValueError, match="severity"):
        rule(severity=5)


def test_rate_of_change_per_hour() -> None:
    r = rule(id="level_rise", kind="rate", value=0.5, for_minutes=0)  # rising faster than 0.5 m/h
    calm = Subject("r1", "r1", (Sample(T0, 120.0), Sample(T0 + H, 120.2)))
    assert evaluate(r, calm, T0 + H) is None
    rising = Subject(
        "r1", "r1", (Sample(T0, 120.0), Sample(T0 + H, 120.2), Sample(T0 + 90 * timedelta(minutes=1), 120.7))
    )
    cond = evaluate(r, rising, T0 + 2 * H)
    assert cond is not None and cond.active and cond.value == pytest.approx(1.0)


def test_staleness_of_a_feed_starts_when_it_went_quiet() -> None:
    r = rule(id="feed_stale", kind="stale", value=600.0, for_minutes=0)  # 10 min
    feed = Subject("air_readings", "air", (Sample(T0, 1.0),))
    assert evaluate(r, feed, T0 + timedelta(minutes=5)) is None
    first = evaluate(r, feed, T0 + timedelta(minutes=20))
    later = evaluate(r, feed, T0 + timedelta(minutes=40))
    assert first is not None and later is not None and first.active
    assert first.since == later.since == T0 + timedelta(seconds=601)
    assert evaluate(r, Subject("x", "x", ()), T0).active  # type: ignore[union-attr]  # never delivered


def test_one_open_event_per_rule_and_subject_updated_while_it_lasts() -> None:
    r = rule(for_minutes=0)
    now = T0 + 3 * H
    first = plan(r, [hourly(160, 170, 180)], [], now)
    assert [(c.action, c.event_id) for c in first] == [("open", event_id(r, "s1", T0))]
    opened = OpenEvent(first[0].event_id, r.id, "s1", 170.0)
    again = plan(r, [hourly(160, 170, 180)], [opened], now)
    assert [(c.action, c.event_id, c.condition.worst) for c in again] == [("update", opened.event_id, 180)]  # type: ignore[union-attr]
    unchanged = OpenEvent(first[0].event_id, r.id, "s1", 180.0)
    assert plan(r, [hourly(160, 170, 180)], [unchanged], now) == ()
    other_rule = OpenEvent("x", "other", "s1", 1.0)
    assert [c.action for c in plan(r, [hourly(160, 170, 180)], [other_rule], now)] == ["open"]


def test_auto_resolve_when_the_condition_clears_only_if_the_rule_says_so() -> None:
    subject = hourly(160, 170, 90)
    opened = OpenEvent("e1", "aqi_150", "s1", 170.0)
    resolved = plan(rule(for_minutes=0), [subject], [opened], T0 + 3 * H)
    assert [(c.action, c.event_id) for c in resolved] == [("resolve", "e1")]
    assert plan(rule(for_minutes=0, auto_resolve=False), [subject], [opened], T0 + 3 * H) == ()
    # A subject with no data at all keeps its event open: silence is not an all-clear.
    assert plan(rule(for_minutes=0), [], [opened], T0 + 3 * H) == ()


def test_missing_values_neither_start_nor_end_a_breach() -> None:
    cond = evaluate(rule(for_minutes=0), hourly(160, math.nan, 170), T0 + 3 * H)
    assert cond is not None and cond.active and cond.since == T0
    assert evaluate(rule(for_minutes=0), hourly(math.nan, math.nan), T0 + 2 * H) is None
