"""One contract suite, the same assertions for every datasource kind.

Each kind serves the synthetic district as of NOW: synthetic, SQLite and
PostgreSQL (a database of the session's own on the real server), files
(the district dropped as CSV, GeoJSON and Parquet) and http (served as a
department's JSON API). MQTT delivers into the store: tests/integration.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from datasources.base import BaseSource, Datasource
from datasources.contracts import CONTRACTS, FEEDS
from datasources.kinds.files import FilesOptions, FilesSource
from datasources.kinds.http import HttpOptions, HttpSource
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.kinds.synthetic import SyntheticOptions, SyntheticSource
from tests.conftest import NOW
from tests.feed_servers import api, export_files, serving

WINDOW = (NOW - timedelta(days=2), NOW)
#: Feeds the district legitimately leaves empty: events come from rules.
MAY_BE_EMPTY = {"events"}


@pytest.fixture(scope="module")
def feed_files(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded district dropped as files: CSV, GeoJSON for geometries, Parquet for one series."""
    store = SqlSource("export", SqlOptions(url=f"sqlite:///{seeded_db}"))
    directory = export_files(store, tmp_path_factory.mktemp("drop"))
    store.engine.dispose()
    return directory


@pytest.fixture(scope="module")
def feed_api(seeded_db: Path) -> Iterator[str]:
    """The seeded district served as a department's HTTP JSON API."""
    store = SqlSource("api", SqlOptions(url=f"sqlite:///{seeded_db}"))
    with serving(api(store)) as url:
        yield url
    store.engine.dispose()


@pytest.fixture(
    params=["synthetic", "sqlite", "files", "http", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseSource]:
    if request.param == "synthetic":
        yield SyntheticSource("sim", SyntheticOptions(), clock=lambda: NOW)
        return
    if request.param == "files":
        yield FilesSource("drop", FilesOptions(directory=request.getfixturevalue("feed_files")))
        return
    if request.param == "http":
        # A generous timeout: the whole 3-day bus GPS feed goes as one JSON array, slow on a busy machine.
        api = request.getfixturevalue("feed_api")
        yield HttpSource("api", HttpOptions(base_url=api, feeds=FEEDS, retries=0, timeout_s=60))
        return
    if request.param == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('seeded_copy')}"
    else:
        url = request.getfixturevalue("pg_seeded")
    src = SqlSource("store", SqlOptions(url=url))
    yield src
    src.engine.dispose()


def test_source_satisfies_the_protocol(source: BaseSource) -> None:
    assert isinstance(source, Datasource)
    source.check()
    assert set(source.feeds()) == set(FEEDS)


@pytest.mark.parametrize("feed", FEEDS)
def test_feed_is_delivered_clean_typed_and_keyed(source: BaseSource, feed: str) -> None:
    spec = CONTRACTS[feed]
    got = source.read(feed, start=WINDOW[0], end=WINDOW[1])
    frame = got.frame
    assert got.report.ok, got.report.summary()
    assert list(frame.columns) == list(spec.names)
    assert not frame.duplicated(subset=list(spec.key)).any()
    if feed not in MAY_BE_EMPTY:
        assert len(frame) > 0
    if spec.time and len(frame):
        times = frame[spec.time]
        assert str(times.dtype) == "datetime64[ns, UTC]"
        assert times.max() <= pd.Timestamp(NOW)
        if spec.is_series:
            assert times.min() > pd.Timestamp(WINDOW[0])


@pytest.mark.parametrize("feed", [f for f, c in CONTRACTS.items() if c.is_series])
def test_series_feeds_are_fresh_at_now(source: BaseSource, feed: str) -> None:
    latest = source.latest(feed)
    assert latest is not None and latest <= NOW
    assert NOW - latest <= CONTRACTS[feed].max_age


def test_reference_feeds_have_no_age(source: BaseSource) -> None:
    assert source.latest("towns") is None


def test_unknown_feed_is_refused_with_the_known_ones(source: BaseSource) -> None:
    with pytest.raises(KeyError, match="known feeds: towns"):
        source.read("weather")
