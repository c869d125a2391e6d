"""Browser fixtures: an app over a store seeded up to the real current time."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dash import Dash

from dashboard.app import create_app
from dashboard.settings import Settings


@pytest.fixture(scope="session")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One day of history ending now, so the health strip is genuinely fresh."""
    from dashboard import simulation
    from dashboard.timeutil import now_utc
    from datasources.kinds.sql import SqlOptions, SqlSource
    from datasources.synthetic import SyntheticDistrict

    path = tmp_path_factory.mktemp("live") / "shanting.db"
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{path}"))
    simulation.seed(store, SyntheticDistrict(), days=1, end=now_utc(), progress=False)
    store.engine.dispose()
    yield path


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_app(live_db: Path, make_settings: Callable[..., Settings]) -> Callable[..., Dash]:
    """An app over the live store, first brought up to now as the live simulator would (a long
    session would otherwise show its feeds going stale)."""
    from datetime import timedelta

    from dashboard import simulation
    from dashboard.timeutil import now_utc
    from datasources.kinds.sql import SqlOptions, SqlSource
    from datasources.synthetic import SyntheticDistrict

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{live_db}"))
    simulation.tick(store, SyntheticDistrict(), now_utc(), backfill=timedelta(days=1))
    store.engine.dispose()

    def make(**overrides: object) -> Dash:
        return create_app(make_settings(store_url=f"sqlite:///{live_db}", **overrides))

    return make
