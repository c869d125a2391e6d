"""Shared fixtures: a fresh settings/store per test, a seeded district per session,
and headless Chromium for dash.testing that makes no outside calls."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from dashboard.settings import Settings, load_settings

#: A fixed "now" for tests that need one: the district as of this instant.
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # 12:00 Asia/Shanghai, a Sunday
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_setup_options() -> Options:
    """Chrome options for dash_duo: headless Debian Chromium, no network but loopback."""
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1920,1080",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    return options


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Settings on a private SQLite store in tmp_path, plus any overrides."""
    for key in list(os.environ):
        if key.startswith("SHANTING_"):
            monkeypatch.delenv(key)

    def make(**overrides: object) -> Settings:
        # Tests talk to the app from 127.0.0.1 as the local developer (an admin); the auth tests turn this off.
        auth = {"trust_localhost": True} | dict(overrides.pop("auth", {}))  # type: ignore[call-overload]
        return load_settings(None, data_dir=tmp_path, auth=auth, **overrides)

    monkeypatch.chdir(tmp_path)  # no stray ./shanting.toml is picked up
    return make


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SQLite store seeded once per session with 3 days of history up to NOW."""
    from dashboard import simulation
    from datasources.kinds.sql import SqlOptions, SqlSource
    from datasources.synthetic import SyntheticDistrict

    path = tmp_path_factory.mktemp("seeded") / "shanting.db"
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{path}"))
    simulation.seed(store, SyntheticDistrict(), days=3, end=NOW, progress=False)
    store.engine.dispose()
    yield path


@pytest.fixture
def seeded_copy(seeded_db: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded store that a test may change."""
    target = tmp_path / "shanting.db"
    shutil.copy(seeded_db, target)
    return target


@pytest.fixture
def app_at_now(seeded_copy: Path, make_settings):  # type: ignore[no-untyped-def]
    """A Dash app over the seeded store with "now" pinned to NOW."""
    from dashboard.app import create_app

    def make(**overrides: object):  # type: ignore[no-untyped-def]
        settings = make_settings(store_url=f"sqlite:///{seeded_copy}", **overrides)
        return create_app(settings, clock=lambda: NOW)

    return make


@pytest.fixture
def services_at_now(seeded_copy: Path, make_settings):  # type: ignore[no-untyped-def]
    """Services over the seeded store with "now" pinned to NOW."""
    from flask import Flask

    from dashboard.services import Services
    from dashboard.sources import build_sources

    def make(**overrides: object):  # type: ignore[no-untyped-def]
        settings = make_settings(store_url=f"sqlite:///{seeded_copy}", **overrides)
        return Services.create(Flask("test"), settings, build_sources(settings), clock=lambda: NOW)

    return make


# ---- real services (PostgreSQL, Redis, MQTT) ------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("SHANTING_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def service_missing(what: str, error: BaseException) -> None:
    """Fail when CI=true and a service is missing (a skipped integration test proves nothing); skip elsewhere."""
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true needs it", pytrace=False)
    pytest.skip(message)


@contextmanager
def _pg_database() -> Iterator[str]:
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"shanting_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database of our own for this session (dropped at the end); yields its URL."""
    with _pg_database() as url:
        yield url


@pytest.fixture
def pg_empty() -> Iterator[str]:
    """A PostgreSQL database of this test's own, empty, dropped afterwards."""
    with _pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_seeded(pg_database: str) -> str:
    """The PostgreSQL database seeded like ``seeded_db``: 3 days of the synthetic district up to NOW."""
    from dashboard import simulation
    from datasources.kinds.sql import SqlOptions, SqlSource
    from datasources.synthetic import SyntheticDistrict

    store = SqlSource("store", SqlOptions(url=pg_database))
    simulation.seed(store, SyntheticDistrict(), days=3, end=NOW, progress=False)
    store.engine.dispose()
    return pg_database


REDIS_URL = os.environ.get("SHANTING_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis; its keys are deleted afterwards."""
    import uuid

    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {REDIS_URL}", exc)
    prefix = f"shanting-test-{uuid.uuid4().hex[:10]}:"
    try:
        yield prefix
    finally:
        keys = client.keys(prefix + "*")
        if keys:
            client.delete(*keys)
        client.close()


MQTT_ADDRESS = ("127.0.0.1", int(os.environ.get("SHANTING_TEST_MQTT_PORT", "1883")))


@pytest.fixture
def mqtt_names() -> str:
    """A topic prefix and client-id stem of this test's own on the real broker (nothing retained is left)."""
    import socket
    import uuid

    try:
        socket.create_connection(MQTT_ADDRESS, timeout=2).close()
    except OSError as exc:
        service_missing(f"MQTT broker at {MQTT_ADDRESS[0]}:{MQTT_ADDRESS[1]}", exc)
    return f"shanting-test-{uuid.uuid4().hex[:10]}"


def until(check: Callable[[], object], what: str, timeout: float = 20) -> float:
    """Poll ``check()`` every 0.1 s until it is truthy and return the seconds it took; fail naming ``what``
    after ``timeout`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")
