"""Every component ID in one place: a typo is an import error, not a dead callback."""

from __future__ import annotations

from typing import Any

URL = "url"
CLOCK = "clock"
CLOCK_TICK = "clock-tick"
REFRESH = "refresh"
HEALTH_STRIP = "health-strip"
LANG_LINK = "lang-link"
DATA_TABLE = "data-table"
DATA_UPDATED = "data-updated"


def nav(page: object) -> dict[str, object]:
    """A scene navigation link (pattern-matched to mark the active one)."""
    return {"type": "nav", "page": page}


def data_attrs(**values: str) -> dict[str, Any]:
    """``data-*`` attributes for a component (``data_attrs(feed="x")`` → ``data-feed``)."""
    return {f"data-{k.replace('_', '-')}": v for k, v in values.items()}
