"""Numbers as people read them: 万 and 亿 in Chinese, thousands separators in English."""

from __future__ import annotations

import math


def fmt_value(value: float | None, fmt: str, lang: str) -> str:
    """A tile value in its format: pct, int, float1, aqi, ratio, star."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if fmt == "pct":
        return f"{value * 100:.1f}"
    if fmt in ("int", "aqi"):
        return fmt_count(value, lang)
    if fmt == "ratio":
        return f"{value:.2f}"
    return f"{value:.1f}" if fmt == "float1" else f"{value:.2f}"


def fmt_count(value: float, lang: str) -> str:
    """12345 → 1.23万 (zh) / 12,345 (en); 1.2e8 → 1.2亿."""
    n = round(value)
    if lang != "zh-CN":
        return f"{n:,}"
    for size, unit in ((100_000_000, "亿"), (10_000, "万")):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}" if abs(n) < size * 1000 else f"{n / size:,.0f}{unit}"
    return str(n)


def fmt_delta(value: float | None, previous: float | None, fmt: str, lang: str = "zh-CN") -> tuple[str, int]:
    """Change vs the same time yesterday, and its sign (+1, 0, −1)."""
    if value is None or previous is None:
        return "", 0
    diff = value - previous
    sign = (diff > 0) - (diff < 0)
    arrow = "▲" if sign > 0 else "▼" if sign < 0 else "＝"
    if fmt == "pct":
        return f"{arrow}{abs(diff) * 100:.1f}{' 点' if lang == 'zh-CN' else ' pt'}", sign
    if fmt in ("int", "aqi"):
        return f"{arrow}{abs(round(diff))}", sign
    return f"{arrow}{abs(diff):.2f}", sign
