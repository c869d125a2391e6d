"""Counter-based noise: every random number is a hash of (seed, stream, keys).

The synthetic district must be a pure function of (seed, scale, time), so it
keeps no generator state: a value is ``splitmix64`` applied to its coordinates
(entity index, time tick, …). Two processes, or two adjacent windows, hash the
same coordinates and get the same numbers; nothing depends on call order.

Keys broadcast like numpy arrays, so one call draws a whole (time × entity)
grid. ``smooth`` interpolates hashed knots so curves wander plausibly instead
of jumping like white noise.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def splitmix64(x: Any) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    z = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def stream_id(name: str) -> int:
    """A stable number for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def _as_u64(key: Any) -> np.ndarray:
    arr = np.asarray(key)
    if arr.dtype.kind == "f":
        arr = np.floor(arr).astype(np.int64)
    return arr.astype(np.int64).view(np.uint64) if arr.dtype.kind in "ib" else arr.astype(np.uint64)


def hash64(seed: int, stream: str, *keys: Any) -> np.ndarray:
    """A 64-bit hash of the seed, a named stream and any number of integer keys."""
    h = splitmix64(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(stream_id(stream) << 20))
    for key in keys:
        h = splitmix64(h ^ _as_u64(key))
    return h


def uniform(seed: int, stream: str, *keys: Any) -> np.ndarray:
    """Uniform floats in the open interval (0, 1)."""
    h = hash64(seed, stream, *keys)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT


def normal(seed: int, stream: str, *keys: Any) -> np.ndarray:
    """Standard normal floats (Box–Muller on two hashed uniforms)."""
    h1 = hash64(seed, stream, *keys)
    h2 = splitmix64(h1)
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT
    u2 = ((h2 >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth(seed: int, stream: str, key: Any, t: Any, period: float) -> np.ndarray:
    """Smooth unit-variance noise: hashed normal knots every ``period`` seconds.

    Between knots the value follows a smoothstep blend, renormalised so the
    variance stays 1 mid-way; the curve is continuous in ``t``.
    """
    t = np.asarray(t, dtype=np.float64)
    k = np.floor(t / period)
    f = t / period - k
    w = f * f * (3.0 - 2.0 * f)
    ki = k.astype(np.int64)
    a = normal(seed, stream, key, ki)
    b = normal(seed, stream, key, ki + 1)
    return (a * (1.0 - w) + b * w) / np.sqrt((1.0 - w) ** 2 + w**2)


def poisson(lam: Any, u: Any, kmax: int = 12) -> np.ndarray:
    """Poisson counts by inverting the CDF at the uniforms ``u`` (small rates)."""
    lam = np.asarray(lam, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    term = np.exp(-lam) * np.ones_like(u)
    cdf = term.copy()
    count = np.zeros(np.broadcast(lam, u).shape, dtype=np.int64)
    for k in range(1, kmax + 1):
        count += u > cdf
        term = term * lam / k
        cdf = cdf + term
    return count


def choice(weights: np.ndarray, u: Any) -> np.ndarray:
    """Indices drawn from ``weights`` by inverting their cumulative sum at ``u``."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum / cum[-1], np.asarray(u, dtype=np.float64), side="right")
    return np.minimum(idx, len(cum) - 1)
