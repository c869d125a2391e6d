"""Scope: what part of the district a view shows (district → 镇街 → 村居 → asset).

The scope travels in the URL (``?scope=town:370406001``) so a link is
shareable and the browser's back button walks up the drill-down. Parsing is
strict: a malformed scope is a 400, a well-formed one naming nothing is a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

Level = Literal["district", "town", "village", "asset"]

#: Asset feeds a scope may point at, with the key column that names one asset.
ASSET_FEEDS: dict[str, str] = {
    "cameras": "camera_id",
    "air_stations": "station_id",
    "water_sections": "section_id",
    "scenic_spots": "spot_id",
    "parking_lots": "lot_id",
    "road_segments": "segment_id",
    "bus_lines": "line_id",
    "reservoirs": "reservoir_id",
    "radiation_stations": "station_id",
    "key_places": "place_id",
}
_TOWN = re.compile(r"^370406\d{3}$")
_VILLAGE = re.compile(r"^370406\d{6}$")
_ASSET_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ScopeError(ValueError):
    """A malformed scope (HTTP 400)."""


class ScopeNotFound(LookupError):
    """A well-formed scope naming no town, village or asset we know (HTTP 404)."""


class ScopeForbidden(ScopeNotFound):
    """An asset of a department the user may not see (HTTP 403); pages say it as they say "not found", so the
    asset's name is never shown."""


@dataclass(frozen=True)
class Scope:
    level: Level
    code: str = ""
    feed: str = ""

    @property
    def key(self) -> str:
        """The URL form: ``district``, ``town:<code>``, ``village:<code>``, ``asset:<feed>:<id>``."""
        if self.level == "district":
            return "district"
        if self.level == "asset":
            return f"asset:{self.feed}:{self.code}"
        return f"{self.level}:{self.code}"

    @property
    def town_code(self) -> str | None:
        """The 镇街 a town or village scope lies in (village codes extend town codes)."""
        if self.level in ("town", "village"):
            return self.code[:9]
        return None


DISTRICT = Scope("district")


def parse(text: str | None) -> Scope:
    """Parse the URL form; an empty value is the district."""
    if text is None or text.strip() in ("", "district"):
        return DISTRICT
    text = text.strip()
    kind, _, rest = text.partition(":")
    if kind == "town" and _TOWN.fullmatch(rest):
        return Scope("town", rest)
    if kind == "village" and _VILLAGE.fullmatch(rest):
        return Scope("village", rest)
    if kind == "asset":
        feed, _, ident = rest.partition(":")
        if feed in ASSET_FEEDS and _ASSET_ID.fullmatch(ident):
            return Scope("asset", ident, feed)
        raise ScopeError(
            f"bad asset scope {text[:80]!r}: expected asset:<feed>:<id> with feed one of {', '.join(ASSET_FEEDS)}"
        )
    raise ScopeError(
        f"bad scope {text[:80]!r}: expected district, town:<9-digit code>, village:<12-digit code> or asset:<feed>:<id>"
    )


def href(path: str, scope: Scope) -> str:
    """A link to ``path`` at ``scope`` (the district needs no query)."""
    return path if scope.level == "district" else f"{path}?{urlencode({'scope': scope.key})}"
