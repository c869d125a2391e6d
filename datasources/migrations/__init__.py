"""Schema migrations of the ``sql`` store (Alembic), run by :func:`upgrade` when a store starts.

The tables follow the feed contracts (:data:`datasources.kinds.sql.METADATA`).
A change to a contract that changes a table comes with a new revision here:

    .venv/bin/python -m dashboard migrate --autogenerate "what changed"

and ``tests/unit/test_migrations.py`` fails while the revisions and the
contracts disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).parent
#: The revision that matches stores created before migrations existed (``create_all`` of the first contracts).
BASELINE = "0001"
#: PostgreSQL advisory-lock key: several workers starting at once migrate one at a time.
LOCK_KEY = 0x5348_414E  # "SHAN"


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head() or ""


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the store's schema to the newest revision; returns it.

    A store made before migrations (feed tables, no ``alembic_version``) is
    stamped at the baseline first, so its data stays and only what is new is added.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        tables = set(inspect(conn).get_table_names())
        cfg = config(conn)
        if "alembic_version" not in tables and "feed_status" in tables:
            command.stamp(cfg, BASELINE)
        if current(conn) != head():
            command.upgrade(cfg, "head")
        return current(conn) or ""


def autogenerate(engine: Engine, message: str) -> Any:
    """Write a new revision with what the contracts changed since the newest one (for developers)."""

    def skip_empty(context: Any, revision: Any, directives: list[Any]) -> None:
        if directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with engine.begin() as conn:
        return command.revision(
            config(conn),
            message=message,
            autogenerate=True,
            rev_id=f"{int(head()) + 1:04d}",  # revisions are numbered in order: 0001, 0002, …
            process_revision_directives=skip_empty,
        )
