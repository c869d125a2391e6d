"""Overview benchmark: server time and bytes of a periodic refresh, first render in Chromium.

``.venv/bin/python -m tests.bench.bench_overview [--scales 1 10] [--rounds 30]`` from the project root.
A report, not a test: PASS/FAIL per target, then ``targets met: N/M``; always exits 0. See README.md here.
At ×1 it also measures the transport scene's own callbacks on the same store (:mod:`tests.bench.bench_transport`).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dash import Dash
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from waitress import create_server

from dashboard import routes, simulation
from dashboard.app import create_app
from dashboard.kpis import CATALOGUE
from dashboard.settings import load_settings
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.synthetic import SyntheticDistrict
from tests.bench import bench_transport
from tests.bench.common import LOCAL, UPDATE, Clock, Row, clear_cache, expire, expire_versions, report, utc
from tests.conftest import pytest_setup_options

KB = 1000
TILES = len(CATALOGUE.specs)
Sim = tuple[SqlSource, SyntheticDistrict, Clock]  # what writes the live data, and its clock
BROWSER_GET = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate, br"}
#: (metric, scale) → (statistic compared, limit in the metric's unit); other figures are for information.
TARGETS: dict[tuple[str, int], tuple[str, float]] = {
    **bench_transport.TARGETS,
    **{(f"refresh {c} ms", s): ("p95", limit) for c in ("periodic", "warm") for s, limit in ((1, 150), (10, 400))},
    ("bytes/refresh KB", 1): ("p95", 100),
    ("bytes/refresh live KB", 1): ("p95", 100),
    ("first render cold ms", 1): ("median", 2000),
    ("first render warm ms", 1): ("median", 2000),
    ("first render after start ms", 1): ("median", 2000),
}
#: True once there are all tiles and none still shows its "…" placeholder.
FILLED = f"(t => t.length >= {TILES} && t.every(e => !e.textContent.includes('…')))"
FILLED += "(Array.from(document.querySelectorAll('.kpi')))"
#: Stamps performance.now() (ms since navigation start) at the DOM mutation that makes FILLED true.
OBSERVER = f"""new MutationObserver((_, o) => {{ if ({FILLED}) {{ window.__tilesAt = performance.now();
  o.disconnect(); }} }}).observe(document, {{subtree: true, childList: true, characterData: true}});"""


@dataclass
class Call:
    """One callback request as the page sent it on a refresh tick."""

    output: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Replay:
    """One replayed refresh: per-call time (ms) and wire bytes, changed layer URLs and their bytes."""

    ms: dict[str, float] = field(default_factory=dict)
    wire: dict[str, int] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)
    layer_bytes: int = 0

    @property
    def total_kb(self) -> float:
        return (sum(self.wire.values()) + self.layer_bytes) / KB


def browser(perf_log: bool = False) -> webdriver.Chrome:
    """Headless Chromium with the test suite's options (1920×1080, loopback only)."""
    options = pytest_setup_options()
    if perf_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@contextmanager
def serving(app: Dash) -> Iterator[str]:
    """The app on a free loopback port (waitress, 8 threads) for the duration."""
    server: Any = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.effective_port}"
    finally:
        server.task_dispatcher.shutdown(timeout=2)
        server.close()


def periodic_call(entry: dict[str, Any]) -> Call | None:
    """The callback request in a performance-log entry, if the refresh interval fired it."""
    msg = json.loads(entry["message"])["message"]
    req = msg.get("params", {}).get("request", {})
    url = urlsplit(req.get("url", ""))
    if msg["method"] != "Network.requestWillBeSent" or url.path != UPDATE:
        return None
    raw = req.get("postData") or b"".join(base64.b64decode(e["bytes"]) for e in req.get("postDataEntries", []))
    body = json.loads(raw)
    if "refresh.n_intervals" not in body.get("changedPropIds", []):
        return None
    headers = {k: v for k, v in req["headers"].items() if not k.startswith(":")} | BROWSER_GET
    return Call(body["output"], f"{url.path}?{url.query}", body, headers | {"Accept": "application/json"})


def capture(host: str, refresh_s: float) -> list[Call]:
    """The requests of one real periodic refresh, one per callback output, in the page's order."""
    driver = browser(perf_log=True)
    try:
        driver.get(f"http://{host}/")
        wait_tiles(driver, 60, stamped=False)
        calls: dict[str, Call] = {}
        ticks: set[int] = set()
        deadline = time.monotonic() + 3 * refresh_s + 10
        while len(ticks) < 2 and time.monotonic() < deadline:  # keep the second tick's bodies
            for call in filter(None, map(periodic_call, driver.get_log("performance"))):
                calls[call.output] = call
                ticks.add(next(i["value"] for i in call.body["inputs"] if i.get("id") == "refresh"))
            time.sleep(0.5)
        return list(calls.values())
    finally:
        driver.quit()


def wait_tiles(driver: webdriver.Chrome, timeout: float, stamped: bool = True) -> float:
    """ms from navigation start to all tiles filled (OBSERVER's stamp; -1 when just polling)."""
    script = "return window.__tilesAt" if stamped else f"return {FILLED} ? -1 : null"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stamp := driver.execute_script(script):
            return float(stamp)
        time.sleep(0.02)
    raise TimeoutError("tiles did not fill")


def exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes, int]:
    """(status, body, wire bytes): request and status lines, headers and bodies, as sent and received."""
    headers = headers | {"Host": conn.host} | ({"Content-Length": str(len(body))} if body else {})
    conn.request(method, path, body or None, headers)
    resp = conn.getresponse()
    data = resp.read()  # http.client does not decode: gzip bodies are counted as sent
    sent = len(f"{method} {path} HTTP/1.1\r\n") + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2 + len(body)
    recv = len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n") + sum(len(k) + len(v) + 4 for k, v in resp.getheaders())
    return resp.status, data, sent + recv + 2 + len(data)


def replay(host: str, calls: list[Call], fetch_layers: bool = True) -> Replay:
    """One full refresh: every call in turn, then a GET of each layer URL the refresh changed."""
    conn, out = http.client.HTTPConnection(host), Replay()
    try:
        for call in calls:
            t0 = time.perf_counter()
            status, data, wire = exchange(conn, "POST", call.path, json.dumps(call.body).encode(), call.headers)
            out.ms[call.output], out.wire[call.output] = (time.perf_counter() - t0) * 1000, wire
            if status == 200 and ".url" in call.output:
                out.changed |= {k: v["url"] for k, v in json.loads(data)["response"].items()}
        for url in out.changed.values() if fetch_layers else ():
            out.layer_bytes += exchange(conn, "GET", url, b"", BROWSER_GET)[2]
        return out
    finally:
        conn.close()


def concurrent_ms(app: Dash, host: str, calls: list[Call]) -> float:
    """Wall time of a cold refresh sent as the browser sends it: all calls at once."""
    clear_cache(app)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(calls)) as pool:
        list(pool.map(lambda call: replay(host, [call]), calls))
    return (time.perf_counter() - t0) * 1000


def layer_state(calls: list[Call]) -> list[dict[str, Any]]:
    """The layer callback's `url` state items: the URLs the page currently shows."""
    groups = [g for c in calls if ".url" in c.output for g in c.body.get("state", []) if isinstance(g, list)]
    return [item for group in groups for item in group if item.get("property") == "url"]


def follow(calls: list[Call], changed: dict[str, str]) -> None:
    """Put changed layer URLs into the layer callback's state, as the page holds them at its next tick."""
    new = {json.dumps(json.loads(key), sort_keys=True): url for key, url in changed.items()}
    for item in layer_state(calls):
        item["value"] = new.get(json.dumps(item["id"], sort_keys=True), item["value"])


def first_render(host: str, prepare: Callable[[], None]) -> float:
    """ms from navigation to all tiles filled, in a fresh browser (empty browser cache)."""
    driver = browser()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER})
        driver.get("about:blank")
        prepare()
        driver.get(f"http://{host}/")
        return wait_tiles(driver, 60)
    finally:
        driver.quit()


def refresh_rows(app: Dash, host: str, calls: list[Call], scale: int, rounds: int, refresh_s: float) -> list[Row]:
    cold, warm, later = [], [], []
    alone: dict[str, list[float]] = {c.output: [] for c in calls}
    for _ in range(rounds):
        clear_cache(app)
        cold.append(replay(host, calls))  # the first screen after a restart: every feed read, everything computed
        warm.append(replay(host, calls))  # the next screens in the same interval
        expire(app, refresh_s)
        later.append(replay(host, calls))  # the first screen in the next interval: series re-read, reference kept
    for _ in range(5):  # each call alone on a cold cache: its own cost, not shared with the calls before it
        for c in calls:
            clear_cache(app)
            alone[c.output].append(replay(host, [c]).ms[c.output])
    together = [concurrent_ms(app, host, calls) for _ in range(rounds)]
    for c in sorted(calls, key=lambda c: -statistics.median(r.ms[c.output] for r in cold)):
        in_turn, warm_ms = (statistics.median(r.ms[c.output] for r in rs) for rs in (cold, warm))
        solo, kb = statistics.median(alone[c.output]), cold[0].wire[c.output] / KB
        times = f"cold {in_turn:6.1f} ms in turn, {solo:6.1f} ms alone; warm {warm_ms:5.1f} ms"
        print(f"×{scale}: {times}; {kb:5.1f} KB  {c.output}")
    return [
        Row(scale, "refresh cold ms", [sum(r.ms.values()) for r in cold]),
        Row(scale, "refresh cold ∥ ms", together),
        Row(scale, "refresh next-tick ms", [sum(r.ms.values()) for r in later]),
        Row(scale, "refresh warm ms", [sum(r.ms.values()) for r in warm]),
        Row(scale, "bytes/refresh KB", [r.total_kb for r in cold]),
    ]


def render_rows(app: Dash, host: str, calls: list[Call], scale: int, renders: int) -> list[Row]:
    def warm_up() -> None:  # what another screen opened just before leaves in the cache
        clear_cache(app)  # so that nothing is about to expire
        replay(host, calls, fetch_layers=False)
        conn = http.client.HTTPConnection(host)
        for item in layer_state(calls):
            exchange(conn, "GET", item["value"], b"", BROWSER_GET)
        conn.close()

    warming: list[float] = []

    def restarted() -> None:  # a server that has just started and finished its warm-up (routes.start_warming)
        clear_cache(app)
        warming.append(routes.warm(app.server.extensions["shanting.services"]) * 1000)

    cold = [first_render(host, lambda: clear_cache(app)) for _ in range(renders)]
    warm = [first_render(host, warm_up) for _ in range(renders)]
    started = [first_render(host, restarted) for _ in range(renders)]
    return [
        Row(scale, "first render cold ms", cold),
        Row(scale, "first render warm ms", warm),
        Row(scale, "warm-up at start ms", warming),
        Row(scale, "first render after start ms", started),
    ]


def live_rows(app: Dash, host: str, calls: list[Call], scale: int, ticks: int, sim: Sim, refresh_s: float) -> list[Row]:
    """The refresh as it runs: the simulator writes one tick per refresh interval (the data moves), then
    the first screen of the interval refreshes. Time, bytes, and what changed."""
    store, district, clock = sim
    clear_cache(app)
    replay(host, calls)  # the server has been up for a while: the restart's cold refresh is measured apart
    reads = app.server.extensions["shanting.services"].live.reads
    before = Counter(reads)
    ms, kb, fetched, written = [], [], Counter[str](), Counter[str]()
    for _ in range(ticks):
        clock.now += timedelta(seconds=refresh_s)
        counts = simulation.tick(store, district, clock.now, backfill=timedelta(hours=1))
        written.update(feed for feed, n in counts.items() if n)
        expire(app, refresh_s)  # what one interval of wall time expires (tiles, health, unversioned reads) …
        expire_versions(app)  # … and the feeds' versions, looked at once a second
        got = replay(host, calls)
        follow(calls, got.changed)
        fetched.update(json.loads(k)["name"] for k in got.changed)
        ms.append(sum(got.ms.values()))
        kb.append(got.total_kb)
    moved = ", ".join(f"{name} ×{n}" for name, n in fetched.most_common()) or "none"
    wrote = ", ".join(f"{name} ×{n}" for name, n in written.most_common()) or "none"
    print(f"×{scale}: live, {ticks} ticks of {refresh_s:g} s; feeds written: {wrote}; layers refetched: {moved}")
    done = Counter(reads) - before
    print(f"×{scale}: live, feed reads: {done['full']} whole, {done['tail']} tail (new rows only)")
    return [Row(scale, "refresh periodic ms", ms), Row(scale, "bytes/refresh live KB", kb)]


def bench_scale(scale: int, rounds: int, renders: int, end: datetime) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-overview-") as tmp:
        db = Path(tmp) / "shanting.db"
        store, district = SqlSource("store", SqlOptions(url=f"sqlite:///{db}")), SyntheticDistrict(scale=scale)
        t0 = time.perf_counter()
        simulation.seed(store, district, days=2, end=end, progress=False)
        print(f"×{scale}: seeded 2 days to {end:%Y-%m-%d %H:%M} UTC in {time.perf_counter() - t0:.1f} s", flush=True)
        settings = load_settings(
            None, data_dir=tmp, store_url=f"sqlite:///{db}", simulator={"scale": scale}, auth=LOCAL
        )
        clock = Clock(end)
        app = create_app(settings, clock=clock)
        routes.settle()  # as a server process does once warm (routes.start_warming)
        with serving(app) as host:
            calls = capture(host, settings.refresh_s)
            if not calls:
                print(f"×{scale}: no periodic refresh captured from the page; no figures for this scale")
                return []
            rows = refresh_rows(app, host, calls, scale, rounds, settings.refresh_s)
            rows += render_rows(app, host, calls, scale, renders)
            sim = (store, district, clock)
            rows += live_rows(app, host, calls, scale, 4 * rounds, sim, settings.refresh_s)
        if scale == 1:  # the transport scene's own callbacks (#4), on the same store, the clock where it is now
            rows += bench_transport.scene_rows(app, store, district, clock, settings.refresh_s, rounds)
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Overview refresh and first-render benchmark (a report).")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10], choices=[1, 10])
    parser.add_argument("--rounds", type=int, default=30, help="replayed refreshes per figure (default 30)")
    parser.add_argument("--renders", type=int, default=5, help="page loads per first-render figure (default 5)")
    parser.add_argument("--at", type=utc, help="the district's 'now', ISO time, UTC unless given (default: now)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="selenium")  # selenium 4.2 on urllib3
    end, load = (args.at or now_utc()).replace(microsecond=0), os.getloadavg()[0]
    git = ["git", "describe", "--always", "--dirty"]
    commit = subprocess.run(git, capture_output=True, text=True, check=False).stdout.strip() or "(no git)"
    rows = [row for scale in args.scales for row in bench_scale(scale, args.rounds, args.renders, end)]
    report(rows, TARGETS)
    print(f"load average (1 min) at start {load:.2f}, at end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores;",
          f"measured {commit}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
