"""Store schema by Alembic: fresh stores, stores from before migrations, revisions in step with the contracts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from datasources import migrations
from datasources.kinds.sql import METADATA, SqlOptions, SqlSource

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
#: Tables that later revisions add (the first releases' create_all did not make them).
AFTER_BASELINE = {"alembic_version", "event_log"}


def differences(url: str) -> list[object]:
    """What autogenerate would still write: empty when the revisions build exactly the contracts' tables."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), METADATA))
    finally:
        engine.dispose()


def test_a_fresh_store_is_built_by_the_revisions_to_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = create_engine(url)
    assert migrations.upgrade(engine) == migrations.head()
    assert set(inspect(engine).get_table_names()) == set(METADATA.tables) | {"alembic_version"}
    assert migrations.upgrade(engine) == migrations.head()  # again: nothing to do
    engine.dispose()


def test_the_revisions_match_the_contracts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    SqlSource("store", SqlOptions(url=url)).check()
    assert differences(url) == [], "a contract changed its table: add a revision (see datasources/migrations)"


def test_a_store_from_before_migrations_keeps_its_rows_and_is_brought_to_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    # What the first releases did: create_all of the first contracts' tables.
    METADATA.create_all(engine, tables=[t for name, t in METADATA.tables.items() if name not in AFTER_BASELINE])
    engine.dispose()
    old = SqlSource("old", SqlOptions(url=url, create_schema=False))
    row = {"station_id": "air-01", "ts": NOW, "pm25": 30.0, "averaging": "1h"}
    # create_schema=False: written without touching the schema, as the old release would have.
    old._schema_ready = True
    old.write("air_readings", pd.DataFrame([row]), now=NOW)
    store = SqlSource("store", SqlOptions(url=url))
    assert store.read("air_readings").frame["pm25"].tolist() == [30.0]
    with store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()


@pytest.mark.integration
def test_postgresql_is_built_by_the_same_revisions(pg_database: str) -> None:
    store = SqlSource("store", SqlOptions(url=pg_database))
    store.check()
    with store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
    store.engine.dispose()
    assert differences(pg_database) == []
