"""Every component ID in one place: a typo is an import error, not a dead callback."""

from __future__ import annotations

URL = "url"
CLOCK = "clock"
CLOCK_TICK = "clock-tick"
REFRESH = "refresh"
HEALTH_STRIP = "health-strip"
LANG_LINK = "lang-link"
DATA_TABLE = "data-table"
DATA_UPDATED = "data-updated"


def nav(page: str) -> dict[str, str]:
    """A scene navigation link (pattern-matched to mark the active one)."""
    return {"type": "nav", "page": page}
