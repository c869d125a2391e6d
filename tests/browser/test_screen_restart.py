"""A big screen outlives a restart of the server process: while the server is gone it keeps its last data,
marked offline; when the server is back (a new process, empty caches) it reconnects by itself, and the
operator's next command reaches it. The server runs as ``python -m dashboard serve`` in a child process, as
``make run`` runs it, so the restart is a real one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.helpers import wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _serve(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANTING_")}
    env |= {"SHANTING_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", "-q", "serve", "--no-simulator", "--port", str(port)],
        cwd=data_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except urllib.error.HTTPError:  # 503 while a feed is stale: the server answers, which is all we need
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the server on port {port} did not come up in {timeout:.0f} s")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _command(port: int, screen: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/screens/{screen}/command",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200, resp.read()


def test_scr007_a_screen_reconnects_after_the_server_process_restarts(  # type: ignore[no-untyped-def]
    dash_duo, live_db: Path, tmp_path: Path, free_port: int
) -> None:
    shutil.copy(live_db, tmp_path / "shanting.db")
    server = _serve(tmp_path, free_port)
    try:
        _up(free_port)
        _command(free_port, "main", {"command": "show", "scene": "overview"})  # not wherever its rotation is
        dash_duo.driver.get(f"http://127.0.0.1:{free_port}/screen/main")
        value = "[data-kpi=working_rate] .kpi-value"
        dash_duo.wait_for_element(value, timeout=30)
        wait_for(dash_duo, lambda: "…" not in dash_duo.find_element(value).text, "a value", 30)
        shown = dash_duo.find_element(value).text

        _stop(server)
        wait_for(dash_duo, lambda: "offline" in dash_duo.find_element(".screen").get_attribute("class"), "off", 10)
        assert dash_duo.find_element(value).text == shown  # the last data stays on the wall

        server = _serve(tmp_path, free_port)
        _up(free_port)
        wait_for(dash_duo, lambda: "offline" not in dash_duo.find_element(".screen").get_attribute("class"), "back")
        assert not dash_duo.find_element(".screen-link").is_displayed()

        # The new process serves the screen's callbacks and its commands: the operator can still drive it.
        _command(free_port, "main", {"command": "show", "scene": "environment"})
        wait_for(dash_duo, lambda: "scene=environment" in dash_duo.driver.current_url, "the command followed", 10)
        dash_duo.wait_for_element(".screen-stage[data-scene=environment]", timeout=20)
    finally:
        _stop(server)
