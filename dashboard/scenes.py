"""The scenes as data: id, path, title, order, and what a later issue fills in.

The shell's navigation, the page registry and ``/api/v1/scenes`` are all built
from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scene:
    id: str
    path: str
    order: int
    built: bool = False


SCENES: tuple[Scene, ...] = (
    Scene("overview", "/", 0, built=True),
    Scene("transport", "/transport", 1, built=True),
    Scene("video", "/video", 2, built=True),
    Scene("environment", "/environment", 3, built=True),
    Scene("tourism", "/tourism", 4, built=True),
    Scene("rating", "/rating", 5, built=True),
    Scene("data", "/data", 6, built=True),
    Scene("events", "/events", 7, built=True),
)
