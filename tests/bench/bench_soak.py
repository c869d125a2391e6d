"""Soak: a big screen left running in Chromium, its JS heap and DOM sampled (a report, always exits 0).

    .venv/bin/python -m tests.bench.bench_soak                       # 30 minutes (issue #12)
    .venv/bin/python -m tests.bench.bench_soak --minutes 5 --dwell-s 20

A store is seeded (1 day, ×1) and served by waitress in this process with the
live simulator writing every ``--tick-s`` seconds, so tiles, layers and the
event ticker keep changing as on a wall. One headless Chromium (1920×1080)
opens ``/screen/soak``, a screen whose playlist rotates through every scene
with ``--dwell-s`` per scene. Every ``--sample-s`` seconds the script forces a
garbage collection (CDP ``HeapProfiler.collectGarbage``) and reads the page's
metrics (``Performance.getMetrics``): JS heap used, DOM nodes, event
listeners, documents.

The heap differs from scene to scene, so the verdict compares like with like:
the median of the samples in the first full rotation after a warm-up rotation
against the median of the last full rotation. Target: heap growth ≤ 10 %
(the issue's bound for server memory, applied to the browser). A leak (timers,
listeners, detached map layers) shows as a steady climb across rotations.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

from dashboard import simulation
from dashboard.app import create_app
from dashboard.settings import load_settings
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.synthetic import SyntheticDistrict
from tests.bench.bench_overview import serving
from tests.bench.bench_push import screen_browser
from tests.bench.common import LOCAL

SCENES = ("overview", "transport", "video", "environment", "tourism", "rating", "events")
TARGET_GROWTH = 0.10
METRICS = ("JSHeapUsedSize", "Nodes", "JSEventListeners", "Documents")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--dwell-s", type=float, default=30.0, help="seconds per scene in the rotation")
    parser.add_argument("--sample-s", type=float, default=15.0)
    parser.add_argument("--tick-s", type=float, default=5.0, help="the simulator's write interval")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="selenium")
    rotation_s = args.dwell_s * len(SCENES)
    if args.minutes * 60 < 3 * rotation_s:
        parser.error(f"--minutes must cover 3 rotations ({3 * rotation_s / 60:.1f} min at --dwell-s {args.dwell_s:g})")
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        db = Path(tmp) / "shanting.db"
        store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
        district = SyntheticDistrict()
        simulation.seed(store, district, days=1, end=now_utc(), progress=False)
        playlist = [{"scene": scene, "dwell_s": args.dwell_s} for scene in SCENES]
        settings = load_settings(
            None,
            data_dir=tmp,
            store_url=f"sqlite:///{db}",
            screens={"soak": {"name": "soak", "playlist": playlist}},
            auth=LOCAL,  # the browser is on 127.0.0.1, not signed in
        )
        stop = threading.Event()
        writer = threading.Thread(
            target=simulation.run,
            kwargs=dict(
                store=store,
                district=district,
                interval_s=args.tick_s,
                backfill=timedelta(days=1),
                stop=stop,
                rules=simulation.rules(store, settings),
            ),
            daemon=True,
        )
        writer.start()
        app = create_app(settings)
        with serving(app) as host:
            driver = screen_browser()
            try:
                samples = soak(driver, host, args.minutes * 60, args.sample_s)
            finally:
                driver.quit()
                stop.set()
    report(samples, rotation_s)
    return 0


def soak(driver: Any, host: str, seconds: float, every: float) -> list[dict[str, float]]:
    driver.set_window_size(1920, 1080)
    driver.get(f"http://{host}/screen/soak")
    driver.execute_cdp_cmd("Performance.enable", {})
    started = time.monotonic()
    samples: list[dict[str, float]] = []
    while (elapsed := time.monotonic() - started) < seconds:
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
        scene = driver.execute_script("const s = document.querySelector('.screen-stage'); return s && s.dataset.scene")
        samples.append({"t": elapsed, **{k: metrics.get(k, 0.0) for k in METRICS}, "scene": scene or "-"})
        print(
            f"{elapsed / 60:6.1f} min  {scene or '-':<12} heap {metrics.get('JSHeapUsedSize', 0) / 1e6:7.1f} MB"
            f"  nodes {metrics.get('Nodes', 0):7.0f}  listeners {metrics.get('JSEventListeners', 0):6.0f}",
            flush=True,
        )
        time.sleep(max(0.0, every - (time.monotonic() - started - elapsed)))
    return samples


def report(samples: list[dict[str, float]], rotation_s: float) -> None:
    """First full rotation after a warm-up rotation against the last full rotation, by median."""
    end = samples[-1]["t"]
    first = [s for s in samples if rotation_s <= s["t"] < 2 * rotation_s]
    last = [s for s in samples if end - rotation_s < s["t"] <= end]

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"\nsamples: {len(samples)} over {end / 60:.1f} min; rotation {rotation_s:.0f} s")
    print(f"{'metric':<18}{'start':>12}{'end':>12}{'growth':>10}")
    for key in METRICS:
        a, b = median(first, key), median(last, key)
        growth = (b - a) / a if a else 0.0
        shown = (a / 1e6, b / 1e6) if key == "JSHeapUsedSize" else (a, b)
        unit = " MB" if key == "JSHeapUsedSize" else ""
        print(f"{key:<18}{shown[0]:>9.1f}{unit:3}{shown[1]:>9.1f}{unit:3}{growth:>+9.1%}")
    heap = (median(last, "JSHeapUsedSize") - median(first, "JSHeapUsedSize")) / median(first, "JSHeapUsedSize")
    print(f"JS heap growth {heap:+.1%}   target ≤ {TARGET_GROWTH:.0%}")
    print(f"result: {'PASS' if heap <= TARGET_GROWTH else 'FAIL'}")


if __name__ == "__main__":
    raise SystemExit(main())
