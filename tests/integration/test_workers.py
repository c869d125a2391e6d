"""Workers as the Procfile deploys them (gunicorn on loopback): two processes see the same screen state (issue #10),
and a worker killed mid-run is replaced while the others serve, with nothing lost (issue #12).

Each server is a real gunicorn with a per-process cache (no Redis), so whatever two processes agree on went through
the store.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(store_url: str, data_dir: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``gunicorn -w workers dashboard.wsgi:server`` over ``store_url``; yields its base URL and the master."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANTING_")} | {
        "SHANTING_DATA_DIR": str(data_dir),
        "SHANTING_STORE_URL": store_url,
        "SHANTING_SIMULATOR__ENABLED": "false",
        "SHANTING_REFRESH_S": "1",
        "SHANTING_AUTH__TRUST_LOCALHOST": "true",  # these tests are about workers; sign-in has tests of its own
    }
    port = free_port()
    log = data_dir / f"gunicorn-{port}.log"
    # A worker that has loaded the app says so with a file named by its pid (gunicorn's post_worker_init hook).
    (data_dir / "ready").mkdir(exist_ok=True)
    hooks = data_dir / "gunicorn_hooks.py"
    hooks.write_text(
        "from pathlib import Path\n\n\ndef post_worker_init(worker):\n"
        f"    (Path({str(data_dir / 'ready')!r}) / str(worker.pid)).touch()\n"
    )
    with log.open("wb") as out:
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "2", "--config", str(hooks),
             "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "dashboard.wsgi:server"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: ok(base + "/api/v1/scenes") or master.poll() is not None, "gunicorn serving", timeout=90)
        assert master.poll() is None, f"gunicorn exited: {log.read_text()[-2000:]}"
        yield base, master
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(15)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(5)


def call(url: str, body: dict[str, Any] | None = None, timeout: float = 10) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def ok(url: str) -> bool:
    try:
        return call(url, timeout=2)[0] == 200
    except OSError:
        return False


def target(base: str, screen: str = "main") -> dict[str, Any]:
    status, body = call(f"{base}/api/v1/screens")
    assert status == 200, status
    return next(s["target"] for s in body["screens"] if s["id"] == screen)


def command(base: str, **body: Any) -> dict[str, Any]:
    status, answer = call(f"{base}/api/v1/screens/main/command", body)
    assert status == 200, (status, body)
    return answer  # type: ignore[no-any-return]


def workers_of(master: subprocess.Popen[bytes]) -> set[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return {int(pid) for pid in children}


# ---- issue #10: two workers see the same screen state ---------------------------------------------------------


def test_two_server_processes_see_the_same_screen_state(pg_empty: str, tmp_path: Path) -> None:
    """Two gunicorns on different ports (so which process answers is certain) over one PostgreSQL store."""
    with gunicorn(pg_empty, tmp_path) as (one, first), gunicorn(pg_empty, tmp_path) as (two, second):
        assert first.pid != second.pid
        assert target(one) == target(two)  # nobody has commanded yet: the same rotation in both

        command(one, command="show", scene="transport", scope="district", who="值班员 A")
        for _ in range(5):  # the other process, asked again and again, says the same
            got = target(two)
            assert (got["mode"], got["scene"], got["scope"]) == ("pinned", "transport", "district"), got

        command(two, command="show", scene="video", scope="district", who="值班员 B")
        got = target(one)
        assert (got["mode"], got["scene"]) == ("pinned", "video"), got
        status, synced = call(f"{one}/api/v1/screens/main/sync", {"scene": "transport", "scope": "district"})
        assert status == 200 and "scene=video" in synced["search"], synced  # the screen is sent where B said

        command(one, command="run")
        assert target(two)["mode"] == "playlist"


# ---- issue #12: a worker killed ----------------------------------------------------------------------------------


class Stream:
    """Requests one after the other from a thread, as screens keep polling; counts what failed and when."""

    def __init__(self, url: str) -> None:
        self.url, self.failures, self.successes = url, [], []  # type: ignore[var-annotated]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, why = call(self.url, timeout=5)[0], ""
            except OSError as exc:
                status, why = 0, f"{type(exc).__name__}: {exc}"
            if status == 200:
                self.successes.append(time.monotonic())
            else:
                self.failures.append((started, time.monotonic(), status or why))
            time.sleep(0.02)

    def succeeded_since(self, t: float, n: int = 10) -> bool:
        return len([s for s in self.successes if s > t]) >= n


def test_a_killed_worker_is_replaced_and_nothing_is_lost(seeded_copy: Path, tmp_path: Path) -> None:
    with gunicorn(f"sqlite:///{seeded_copy}", tmp_path, workers=2) as (base, master):
        until(lambda: len(list((tmp_path / "ready").iterdir())) == 2, "two workers ready", timeout=60)
        command(base, command="show", scene="tourism", scope="district", who="值班员")
        original = workers_of(master)
        with Stream(f"{base}/api/v1/kpis") as stream:
            until(lambda: stream.succeeded_since(0, 5), "requests streaming")
            victim, survivor = sorted(original)
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)  # a worker dies mid-run …
            # The survivor keeps answering (no timed target here: a busy CI runner is slow, not wrong).
            until(lambda: stream.succeeded_since(killed_at), "requests succeeding again", timeout=15)
            # … the master replaces it, and the new worker loads the app …
            until(lambda: len(workers_of(master) - original) == 1 and victim not in workers_of(master), "a new worker")
            (replacement,) = workers_of(master) - original
            until(lambda: (tmp_path / "ready" / str(replacement)).exists(), "the new worker ready", timeout=60)
            # … and once the other original worker dies too, only the replacement (and its successor) can answer:
            second_kill = time.monotonic()
            os.kill(survivor, signal.SIGKILL)
            until(lambda: stream.succeeded_since(second_kill), "the replacement serving", timeout=15)
            assert replacement in workers_of(master)
        # A request in flight when a worker dies (sent up to its 5 s timeout before) or sent just after may fail.
        print(f"kills at {killed_at:.2f} and {second_kill:.2f}; failures (sent, ended, why): {stream.failures}")
        late = [f for f in stream.failures if not any(k - 5 <= f[0] < k + 5 for k in (killed_at, second_kill))]
        assert not late, f"requests failed away from a kill: {late}"
        assert len(stream.failures) <= 10, f"{len(stream.failures)} failed requests"
        got = target(base)  # the state taken before the kills is still there: it lives in the store
        assert (got["mode"], got["scene"]) == ("pinned", "tourism"), got
