"""A big screen outlives a restart of the server process: while the server is gone it keeps its last data,
marked offline; when the server is back (a new process, empty caches) it reconnects by itself, still signed in
by its display token, and the operator's next command reaches it. The server runs as ``python -m dashboard
serve`` in a child process, as ``make run`` runs it, with sign-in required, so the restart is a real one."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.browser.helpers import wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANTING_")}
    return env | {"SHANTING_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}


def _cli(data_dir: Path, *args: str, shown: str) -> str:
    """Run ``python -m dashboard …`` and return what its output shows once (a password, a token)."""
    out = subprocess.run(
        [sys.executable, "-m", "dashboard", "-q", *args], cwd=data_dir, env=_env(data_dir), capture_output=True,
        text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    found = re.search(shown, out)
    assert found, out
    return found.group(1)


def _serve(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = _env(data_dir)
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


def _signed_in(port: int, username: str, password: str) -> requests.Session:
    """An operator's session, signed in through the login form (its CSRF token included)."""
    session = requests.Session()
    page = session.get(f"http://127.0.0.1:{port}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    form = {"csrf_token": token.group(1), "username": username, "password": password}
    assert (
        session.post(f"http://127.0.0.1:{port}/login", data=form, timeout=10, allow_redirects=False).status_code == 302
    )
    return session


def _command(operator: requests.Session, port: int, screen: str, body: dict[str, object]) -> None:
    answer = operator.post(f"http://127.0.0.1:{port}/api/v1/screens/{screen}/command", json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def test_scr007_a_screen_reconnects_after_the_server_process_restarts(  # type: ignore[no-untyped-def]
    dash_duo, live_db: Path, tmp_path: Path, free_port: int
) -> None:
    shutil.copy(live_db, tmp_path / "shanting.db")
    password = _cli(tmp_path, "users", "add", "op1", "--role", "operator", shown=r"password \(shown once\): (\S+)")
    token = _cli(tmp_path, "users", "token", "main", shown=r"token=(\S+) ")
    server = _serve(tmp_path, free_port)
    try:
        _up(free_port)
        operator = _signed_in(free_port, "op1", password)
        _command(operator, free_port, "main", {"command": "show", "scene": "overview"})  # not its rotation's scene
        dash_duo.driver.get(f"http://127.0.0.1:{free_port}/screen/main?token={token}")
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

        # The new process knows both sessions (the secret key is kept in the data directory): the operator drives
        # the screen, and the screen, signed in once by its token, follows without being asked to sign in again.
        _command(operator, free_port, "main", {"command": "show", "scene": "environment"})
        wait_for(dash_duo, lambda: "scene=environment" in dash_duo.driver.current_url, "the command followed", 10)
        dash_duo.wait_for_element(".screen-stage[data-scene=environment]", timeout=20)
    finally:
        _stop(server)
