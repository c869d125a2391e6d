"""Key-place coverage benchmark: ``dashboard.domain.video.coverage`` at ×1, ×10 and 10,000 cameras × 5,000 places.

``.venv/bin/python -m tests.bench.bench_coverage [--repeats 5]`` from the project root. A report, not a test: one
line per figure (median of the repeats) with PASS/FAIL against the issue's 1 s target, then ``targets met: N/M``;
always exits 0. The placement advisor (``dashboard.video_view.advise`` over
``dashboard.domain.video.place_cameras``, N = 10 and 200) is timed for information.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from dashboard.domain.video import coverage
from dashboard.video_view import DEFAULT_RADIUS_M, advise
from datasources.synthetic import SyntheticDistrict

#: The issue's target for coverage over 10,000 cameras × 5,000 places (seconds); applied to every coverage figure.
TARGET_S = 1.0
#: The district's bounding box (lon, lat): where the synthetic points fall.
BBOX = (117.244, 34.900, 117.706, 35.320)


def median_s(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run`` over ``repeats`` calls (after one untimed warm-up)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_points(n: int, rng: np.random.Generator, **columns: object) -> pd.DataFrame:
    """``n`` uniform points in the district's bounding box."""
    lon0, lat0, lon1, lat1 = BBOX
    return pd.DataFrame({"lon": rng.uniform(lon0, lon1, n), "lat": rng.uniform(lat0, lat1, n), **columns})


def synthetic_cases(rng: np.random.Generator) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """(places, cameras) per case: the synthetic district at ×1 and ×10 (one camera in ten set offline, as the
    simulator does at times), and 10,000 random cameras × 5,000 random places."""
    cases = {}
    for scale in (1, 10):
        district = SyntheticDistrict(scale=scale)
        cameras = district.static("cameras")
        cameras.loc[rng.random(len(cameras)) < 0.1, "status"] = "offline"
        cases[f"×{scale}"] = (district.static("key_places"), cameras)
    cameras = random_points(10_000, rng, status="online").assign(camera_id=lambda f: [f"c{i}" for i in range(len(f))])
    places = random_points(5_000, rng).assign(place_id=lambda f: [f"p{i}" for i in range(len(f))])
    cases["10k×5k"] = (places, cameras)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(3704)
    met = total = 0
    print(f"coverage (median of {args.repeats}, target ≤ {TARGET_S:.1f} s)")
    for name, (places, cameras) in synthetic_cases(rng).items():
        seconds = median_s(partial(coverage, places, cameras, DEFAULT_RADIUS_M), args.repeats)
        ok = seconds <= TARGET_S
        met, total = met + ok, total + 1
        covered = coverage(places, cameras, DEFAULT_RADIUS_M)["covered"].mean()
        print(
            f"  {name:>7}  {len(cameras):>6} cameras × {len(places):>5} places  {seconds * 1000:8.1f} ms"
            f"  covered {covered:6.1%}  {'PASS' if ok else 'FAIL'}"
        )
        if name.startswith("×"):
            for n in (10, 200):
                advisor = median_s(partial(advise, places, cameras, n), args.repeats)
                print(f"           advisor N={n:<3} {advisor * 1000:8.1f} ms  (information)")
    print(f"targets met: {met}/{total}")


if __name__ == "__main__":
    main()
