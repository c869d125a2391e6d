"""Load: many screens and some interactive users against gunicorn on loopback (a report, always exits 0).

    .venv/bin/python -m tests.bench.bench_load                            # 100 screens, 10 users, 2 workers, 2 min
    .venv/bin/python -m tests.bench.bench_load --users 20 --minutes 30    # issue #12's run

Deployed as the Procfile deploys it: ``MALLOC_ARENA_MAX=2 gunicorn -w 2 --threads 4 dashboard.wsgi:server`` over a
seeded SQLite store, Redis as the shared cache (a key prefix of its own, deleted afterwards), and
``python -m dashboard simulate`` writing beside it, so the data moves as in operation. One real overview page is
opened in headless Chromium to capture the requests of a periodic refresh; then it is closed and a bounded asyncio
client plays:

- **screens**: each polls ``/api/v1/version`` every second (the push check) and sends the captured refresh (its
  callbacks at once, as the page does) every ``refresh_s``, starting at a random offset;
- **users**: each every 1–3 s asks for a town's tiles (``/api/v1/kpis``) or a map layer at that scope.

Reports p50/p95/p99 per kind of request and overall, errors (non-2xx/304 or no answer within 10 s), and each
worker's resident memory every 15 s (start, after a minute of load, end). Targets: issue #10, p95 ≤ 300 ms and
0 errors on 2 workers with 100 screens and 10 users; issue #12, worker memory growth ≤ 10 % over the run, judged
from the first minute on (filling the caches is not growth; the figure from the cold start is printed beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from dashboard import simulation
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.synthetic import SyntheticDistrict
from tests.bench.bench_overview import Call, capture

TIMEOUT_S = 10.0
#: Worker memory is sampled this often (s); growth is judged from the first sample after WARM_S of load.
RSS_EVERY_S = 15.0
WARM_S = 60.0
#: The synthetic district's 镇街 (the users pick one at random).
TOWNS = SyntheticDistrict().static("towns")["town_code"].tolist()
LAYERS = ("cameras", "villages", "segments", "scenic", "air")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def deployment(workers: int, cache_url: str, refresh_s: float) -> Iterator[tuple[str, psutil.Process]]:
    """A seeded store, gunicorn with ``workers`` and the simulator; yields (host:port, gunicorn's master)."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        db = Path(tmp) / "shanting.db"
        store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
        simulation.seed(store, SyntheticDistrict(), days=1, end=now_utc(), progress=False)
        store.engine.dispose()
        prefix = f"bench-load-{uuid.uuid4().hex[:8]}:"
        env = os.environ | {
            "SHANTING_DATA_DIR": tmp,
            "SHANTING_STORE_URL": f"sqlite:///{db}",
            "SHANTING_CACHE_URL": cache_url,
            "SHANTING_CACHE_PREFIX": prefix,
            "SHANTING_REFRESH_S": str(refresh_s),
            "SHANTING_SIMULATOR__ENABLED": "false",
            "SHANTING_AUTH__TRUST_LOCALHOST": "true",  # the load clients are on 127.0.0.1, not signed in
            "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),  # as the Procfile sets it
        }
        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "dashboard.wsgi:server"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sim = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "simulate"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_up(port, web)
            yield f"127.0.0.1:{port}", psutil.Process(web.pid)
        finally:
            for proc in (sim, web):
                proc.send_signal(signal.SIGTERM)
            for proc in (sim, web):
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            forget(cache_url, prefix)


def wait_up(port: int, web: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {web.stderr.read().decode()[-2000:] if web.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not start within 90 s")


def forget(cache_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(cache_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def worker_rss(master: psutil.Process) -> dict[int, float]:
    """Resident MB of each gunicorn worker."""
    return {p.pid: p.memory_info().rss / 2**20 for p in master.children()}


class Client:
    """A bounded asyncio HTTP/1.1 client: one connection per request (``Connection: close``), a global cap."""

    def __init__(self, host: str, limit: int) -> None:
        self.addr, port = host.split(":")
        self.port = int(port)
        self.limit = asyncio.Semaphore(limit)
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    async def send(
        self, kind: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        head = {"Host": f"{self.addr}:{self.port}", "Connection": "close", "Accept-Encoding": "gzip"} | (headers or {})
        if body:
            head |= {"Content-Type": "application/json", "Content-Length": str(len(body))}
        request = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n"
        async with self.limit:
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(self._exchange(request.encode() + body), TIMEOUT_S)
            except (TimeoutError, OSError) as exc:
                self.errors[kind].append(type(exc).__name__)
                return
            self.ms[kind].append((time.perf_counter() - t0) * 1000)
            if status not in (200, 204, 304):
                self.errors[kind].append(f"HTTP {status}")

    async def _exchange(self, raw: bytes) -> int:
        reader, writer = await asyncio.open_connection(self.addr, self.port)
        try:
            writer.write(raw)
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


async def screen(client: Client, calls: list[Call], refresh_s: float, until: float) -> None:
    await asyncio.sleep(random.uniform(0, refresh_s))
    next_refresh = time.monotonic()
    while time.monotonic() < until:
        if time.monotonic() >= next_refresh:
            next_refresh += refresh_s
            json_only = {"Accept": "application/json"}
            bodies = [(c.path, json.dumps(c.body).encode()) for c in calls]
            await asyncio.gather(*(client.send("screen refresh", "POST", p, b, json_only) for p, b in bodies))
        await client.send("version poll", "GET", "/api/v1/version")
        await asyncio.sleep(1.0)


async def user(client: Client, until: float) -> None:
    while time.monotonic() < until:
        town = random.choice(TOWNS)
        if random.random() < 0.5:
            await client.send("user tiles", "GET", f"/api/v1/kpis?scope=town:{town}")
        else:
            await client.send("user layer", "GET", f"/geo/{random.choice(LAYERS)}?scope=town:{town}&v=1")
        await asyncio.sleep(random.uniform(1, 3))


async def play(host: str, calls: list[Call], screens: int, users: int, seconds: float, refresh_s: float) -> Client:
    client = Client(host, limit=64)
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(screen(client, calls, refresh_s, until) for _ in range(screens)), *(user(client, until) for _ in range(users))
    )
    return client


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(client: Client, samples: list[tuple[float, dict[int, float]]], args: argparse.Namespace) -> None:
    print(f"{'kind':16} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    everything: list[float] = []
    for kind in sorted(client.ms.keys() | client.errors.keys()):
        ms = client.ms[kind]
        everything += ms
        figures = f"{pct(ms, 50):8.0f} {pct(ms, 95):8.0f} {pct(ms, 99):8.0f}"
        print(f"{kind:16} {len(ms):8d} {figures} {len(client.errors[kind]):7d}")
    errors = sum(len(e) for e in client.errors.values())
    p95 = pct(everything, 95)
    print(
        f"{'all':16} {len(everything):8d} {pct(everything, 50):8.0f} {p95:8.0f} {pct(everything, 99):8.0f} {errors:7d}"
    )
    kinds = {k: sorted(set(v)) for k, v in client.errors.items() if v}
    if kinds:
        print(f"errors: {kinds}")
    before, after = samples[0][1], samples[-1][1]
    # Filling the caches (feed frames each process keeps, tiles, layer bodies) is not a leak: growth is judged
    # from the first sample after WARM_S of load; the growth from the cold start is printed beside it.
    warm_at, warm = next(((t, rss) for t, rss in samples if t >= WARM_S), samples[0])
    growth = [(after[pid] - mb) / mb for pid, mb in warm.items() if pid in after]
    for pid, mb in before.items():
        curve = " ".join(f"{rss[pid]:.0f}" for _, rss in samples if pid in rss)
        print(f"worker {pid} MB every {RSS_EVERY_S:g} s: {curve}")
        end = after.get(pid, float("nan"))
        print(f"  start {mb:.0f}, after {warm_at:.0f} s {warm.get(pid, float('nan')):.0f}, end {end:.0f}; "
              f"from the cold start {(end - mb) / mb:+.1%}")  # fmt: skip
    replaced = len(set(after) - set(before))
    worst = max(growth, default=float("nan"))
    print(f"p95 {p95:.0f} ms against ≤ 300 ms: {verdict(p95 <= 300)}")
    print(f"errors {errors} against 0: {verdict(errors == 0)}")
    print(f"worst worker memory growth after warm-up ({warm_at:.0f} s → end) {worst:+.1%} against ≤ +10 %: "
          f"{verdict(bool(growth) and worst <= 0.10)}")  # fmt: skip
    if replaced:
        print(f"{replaced} workers were replaced during the run (a crash or a timeout)")
    print(f"load average (1 min) at end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--refresh", type=float, default=5.0, help="the screens' refresh interval, s")
    parser.add_argument("--cache-url", default=os.environ.get("SHANTING_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    random.seed(1)
    print(f"{args.screens} screens at {args.refresh:g} s + {args.users} users, gunicorn -w {args.workers}, "
          f"{args.minutes:g} min, shared cache {args.cache_url}")  # fmt: skip
    with deployment(args.workers, args.cache_url, args.refresh) as (host, master):
        calls = capture(host, args.refresh)
        if not calls:
            print("no periodic refresh captured from the page; no figures")
            return 0
        time.sleep(2)
        samples: list[tuple[float, dict[int, float]]] = []
        done = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(master, samples, done), daemon=True)
        sampler.start()
        client = asyncio.run(play(host, calls, args.screens, args.users, args.minutes * 60, args.refresh))
        done.set()
        sampler.join()
    report(client, samples, args)
    return 0


def sample_rss(master: psutil.Process, samples: list[tuple[float, dict[int, float]]], done: threading.Event) -> None:
    """Each worker's resident memory every ``RSS_EVERY_S`` while the load plays, and once more at the end."""
    started = time.monotonic()
    while True:
        samples.append((time.monotonic() - started, worker_rss(master)))
        if done.wait(RSS_EVERY_S):
            samples.append((time.monotonic() - started, worker_rss(master)))
            return


if __name__ == "__main__":
    raise SystemExit(main())
