"""``python -m dashboard``: help, check-config, seed, and serve restarting on its store."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args], cwd=cwd, env=_env(env), capture_output=True, text=True, timeout=120
    )


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANTING_")}
    env["PYTHONPATH"] = str(ROOT)
    return env | (extra or {})


def test_help_lists_the_subcommands() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in ("serve", "seed", "simulate", "check-config"):
        assert command in out.stdout


def test_check_config_names_the_bad_key_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulator]\nscael = 10\n", encoding="utf-8")
    out = run("check-config", str(bad))
    assert out.returncode == 2
    assert "unknown key 'simulator.scael' (did you mean 'scale'?)" in out.stderr


def test_check_config_accepts_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(f'data_dir = "{tmp_path}"\n[sources.sim]\nkind = "synthetic"\n[feeds]\nair_readings = "sim"\n')
    assert main(["check-config", str(good)]) == 0
    assert "source sim (synthetic): 1 feeds" in capsys.readouterr().out


def test_seed_is_not_repeated_on_a_seeded_store(tmp_path: Path) -> None:
    env = {"SHANTING_DATA_DIR": str(tmp_path), "SHANTING_SIMULATOR__HISTORY_DAYS": "1"}
    first = run("seed", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "seeded" in first.stdout
    second = run("seed", env=env, cwd=tmp_path)
    assert second.returncode == 0 and "already holds a district" in second.stdout


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int, deadline: float) -> dict:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                return json.loads(resp.read())
        except OSError:
            time.sleep(0.5)
    raise AssertionError("server did not answer /healthz in time")


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = _env(
        {
            "SHANTING_DATA_DIR": str(tmp_path),
            "SHANTING_SIMULATOR__HISTORY_DAYS": "1",
            "SHANTING_SIMULATOR__INTERVAL_S": "1",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_serve_seeds_once_serves_live_data_and_restarts_on_the_same_store(tmp_path: Path) -> None:
    port = _port()
    proc = _serve(tmp_path, port)
    try:
        health = _health(port, time.monotonic() + 90)
    finally:
        out = _stop(proc)
    assert "first run: seeding" in out and f"http://127.0.0.1:{port}/" in out
    # One demo account per role with a random password, and the screen's sign-in URL, printed once.
    assert "demo accounts" in out and f"http://127.0.0.1:{port}/screen/main?token=" in out
    assert all(re.search(rf"^  {role} +\S+ +\S{{16,}}$", out, re.M) for role in ("leader", "operator", "admin"))
    assert health["status"] == "ok"
    assert health["feeds"]["air_readings"]["state"] == "fresh"
    assert health["feeds"]["segment_speeds"]["state"] == "fresh"
    assert health["feeds"]["bus_positions"]["state"] in ("fresh", "idle")
    before = _counts(tmp_path)
    assert before["towns"] == 10 and before["air_readings"] > 0

    proc = _serve(tmp_path, port)
    try:
        again = _health(port, time.monotonic() + 60)
    finally:
        out = _stop(proc)
    assert "first run" not in out and "demo accounts" not in out
    after = _counts(tmp_path)
    assert after["towns"] == 10 and after["air_readings"] >= before["air_readings"]
    assert again["feeds"]["air_readings"]["last_update"] >= health["feeds"]["air_readings"]["last_update"]


def _counts(data_dir: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(data_dir / "shanting.db") as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("towns", "air_readings")}


def test_unwritable_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    out = run("serve", "--no-simulator", env={"SHANTING_DATA_DIR": str(blocker / "data")}, cwd=tmp_path)
    assert out.returncode == 2
    assert "configuration error" in out.stderr and "cannot be created" in out.stderr


def test_migrate_brings_a_new_store_to_the_newest_revision(tmp_path: Path) -> None:
    out = run("migrate", env={"SHANTING_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    from datasources import migrations

    assert f"store schema at revision {migrations.head()}" in out.stdout and (tmp_path / "shanting.db").exists()
