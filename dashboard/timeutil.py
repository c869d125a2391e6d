"""Asia/Shanghai is the display time everywhere; UTC inside the store."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: times inside the product are timezone-aware")
    return dt.astimezone(TZ)


def fmt(dt: datetime | None, *, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:mm`` in Asia/Shanghai (the product's date convention)."""
    if dt is None:
        return "—"
    return local(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_age(seconds: float | None, lang: str) -> str:
    """A short human age: 刚刚 / 5分钟前 / 3小时前 / 2天前."""
    if seconds is None:
        return "—"
    zh = lang == "zh-CN"
    if seconds < 60:
        return "刚刚" if zh else "just now"
    for size, zh_unit, en_unit in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n}{zh_unit}前" if zh else f"{n} {en_unit} ago"
    return "—"
