"""What the benchmarks share: the app's pinned clock, the cache's expiry, the figures and their report."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from dash import Dash

UPDATE = "/_dash-update-component"

#: The benchmark's clients are on 127.0.0.1: they act as the local developer (no sign-in to measure).
LOCAL = {"trust_localhost": True}


@dataclass
class Clock:
    """A settable "now": the app reads the district as of this instant."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Row:
    scale: int
    metric: str
    samples: list[float]

    def stat(self, name: str) -> float:
        if name == "median" or len(self.samples) < 2:
            return statistics.median(self.samples)
        return statistics.quantiles(self.samples, n=20, method="inclusive")[-1]


def clear_cache(app: Dash) -> None:
    """Forget every cached feed, tile set, health snapshot and layer body: the next refresh is cold."""
    for cache in app.server.extensions["cache"]:
        cache.clear()


def expire_versions(app: Dash) -> None:
    """Forget the feeds' versions, as one second of wall time does (``live.VERSION_TTL``)."""
    for cache in app.server.extensions["cache"]:
        cache.delete("live-versions")


def expire(app: Dash, seconds: float) -> None:
    """Drop what the cache will have dropped ``seconds`` from now (SimpleCache keeps (expires, value))."""
    horizon = time.time() + seconds
    for backend in app.server.extensions["cache"].values():
        for key in [k for k, (expires, _) in backend._cache.items() if 0 < expires <= horizon]:
            backend._cache.pop(key, None)


#: (metric, scale) → (statistic compared, limit in the metric's unit).
Targets = Mapping[tuple[str, int], tuple[str, float]]


def report(rows: list[Row], targets: Targets) -> None:
    """Each figure's median and p95 against its target, then how many targets were met."""
    width = max([24, *(len(row.metric) + 2 for row in rows)])
    print(f"\n{'scale':<6}{'metric':<{width}}{'median':>9}{'p95':>9}   {'target':<16}result")
    met = total = 0
    for row in rows:
        stat, limit = targets.get((row.metric, row.scale), ("", 0.0))
        verdict, target = "—", "(no target)"
        if stat:
            ok = row.stat(stat) <= limit
            met, total = met + ok, total + 1
            verdict, target = ("PASS" if ok else "FAIL"), f"{stat} ≤ {limit:g}"
        figures = f"{row.stat('median'):>9.1f}{row.stat('p95'):>9.1f}"
        print(f"×{row.scale:<5}{row.metric:<{width}}{figures}   {target:<16}{verdict}")
    print(f"targets met: {met}/{total}")


def utc(text: str) -> datetime:
    """An ISO time from the command line, UTC unless it names its zone."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)
