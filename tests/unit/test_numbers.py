from __future__ import annotations

import pytest

from dashboard.numbers import fmt_count, fmt_delta, fmt_value


@pytest.mark.parametrize(
    ("value", "lang", "text"),
    [
        (9999, "zh-CN", "9999"),
        (12345, "zh-CN", "1.23万"),
        (406722, "zh-CN", "40.7万"),
        (2.03e8, "zh-CN", "2.03亿"),
        (12345, "en", "12,345"),
    ],
)
def test_counts_follow_chinese_conventions(value: float, lang: str, text: str) -> None:
    assert fmt_count(value, lang) == text


def test_values_and_deltas() -> None:
    assert fmt_value(0.9669, "pct", "zh-CN") == "96.7"
    assert fmt_value(None, "pct", "zh-CN") == "—"
    assert fmt_delta(0.97, 0.95, "pct") == ("▲2.0 点", 1)
    assert fmt_delta(0.95, 0.97, "pct", "en") == ("▼2.0 pt", -1)
    assert fmt_delta(120, None, "aqi") == ("", 0)
