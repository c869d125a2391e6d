"""Alembic environment: the store's connection comes from :func:`datasources.migrations.upgrade`."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.types import TypeDecorator

from datasources.kinds.sql import METADATA


def render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    # A revision must not depend on today's Python types: write a TypeDecorator as the type it stores
    # (the revision template imports sqlalchemy as sa).
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl if not isinstance(obj.impl, type) else obj.impl()
        return f"sa.{impl!r}"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through datasources.migrations.upgrade(engine), which passes the connection")
context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_item=render_item,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
