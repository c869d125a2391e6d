"""The ``sql`` kind: feeds as tables named after the feed (SQLite or PostgreSQL).

The schema is derived from the contracts. Times are stored in UTC (SQLite
keeps no offset, so a type decorator re-attaches UTC on the way out);
geometries as GeoJSON text so no spatial extension is needed. Rows are
upserted on the feed's key, so re-delivering a reading is idempotent.

Besides the feed tables the store keeps ``feed_status``: per feed, when it was
last written and the latest contract report, which the health strip and
``/healthz`` show; and ``event_log``, the append-only audit log of the events
(see :mod:`dashboard.events`); ``screen_state`` and ``screen_heartbeat``, the big screens' shared state (see
:mod:`dashboard.screen_board`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from pydantic import Field
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy import (
    Column as SaColumn,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from datasources import migrations
from datasources.base import BaseSource, SourceError, SourceOptions, WriteResult
from datasources.contracts import CONTRACTS, FEEDS, Contract, contract
from datasources.registry import register
from datasources.validation import Report, validate

log = logging.getLogger(__name__)
#: A failed write is reported this long after the last failed attempt (writers retry every few seconds).
WRITE_FAILURE_S = 300.0

CHUNK = 20_000


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in, timezone-aware (UTC) out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to a UTC column")
        utc = pd.Timestamp(value).tz_convert("UTC").to_pydatetime()
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class GeoJsonText(TypeDecorator[str]):
    """Shapely geometries stored as GeoJSON text; read back as text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, BaseGeometry):
            return str(shapely.to_geojson(value))
        return value if isinstance(value, str) else json.dumps(value)


_SA_TYPES: Mapping[str, Any] = {
    "int": BigInteger,
    "float": Float,
    "bool": Boolean,
    "time": UtcDateTime,
    "date": Date,
    "geometry": GeoJsonText,
}


def build_metadata() -> MetaData:
    """One table per feed plus the ``feed_status`` bookkeeping table."""
    meta = MetaData()
    for spec in CONTRACTS.values():
        cols = [
            SaColumn(
                c.name,
                String(c.max_length) if c.type == "str" else _SA_TYPES[c.type],
                primary_key=c.name in spec.key,
                nullable=not c.required,
                index=c.name == spec.time,
            )
            for c in spec.columns
        ]
        Table(spec.name, meta, *cols)
    Table(
        "feed_status",
        meta,
        SaColumn("feed", String(64), primary_key=True),
        SaColumn("last_write_at", UtcDateTime),
        SaColumn("rows_written", BigInteger, nullable=False, default=0),
        SaColumn("report_at", UtcDateTime),
        SaColumn("report_source", String(64)),
        SaColumn("rejected", Integer, nullable=False, default=0),
        SaColumn("report", Text),
    )
    Table(
        "dead_letters",
        meta,
        SaColumn("id", Integer, primary_key=True, autoincrement=True),
        SaColumn("received_at", UtcDateTime, nullable=False, index=True),
        SaColumn("origin", String(200), nullable=False),
        SaColumn("feed", String(64)),
        SaColumn("reason", Text, nullable=False),
        SaColumn("payload", Text, nullable=False),
    )
    # The events' audit log (issue #11): one row per change, appended, never updated or deleted.
    Table(
        "event_log",
        meta,
        SaColumn("seq", Integer, primary_key=True, autoincrement=True),
        SaColumn("event_id", String(64), nullable=False, index=True),
        SaColumn("at", UtcDateTime, nullable=False),
        SaColumn("who", String(80), nullable=False),
        SaColumn("action", String(32), nullable=False),
        SaColumn("state_from", String(16)),
        SaColumn("state_to", String(16)),
        SaColumn("detail", Text),
    )
    # Big screens (issue #9): what the operator told each screen (one row per screen, rewritten by commands) and
    # what each screen last reported (its heartbeat, rewritten every second); two tables, two writers.
    Table(
        "screen_state",
        meta,
        SaColumn("screen_id", String(32), primary_key=True),
        SaColumn("mode", String(16), nullable=False),
        SaColumn("scene", String(32), nullable=False),
        SaColumn("scope", String(100), nullable=False),
        SaColumn("started_at", UtcDateTime, nullable=False),
        SaColumn("offset_s", Float, nullable=False, default=0.0),
        SaColumn("updated_at", UtcDateTime, nullable=False),
        SaColumn("updated_by", String(80), nullable=False),
    )
    Table(
        "screen_heartbeat",
        meta,
        SaColumn("screen_id", String(32), primary_key=True),
        SaColumn("seen_at", UtcDateTime, nullable=False),
        SaColumn("scene", String(32), nullable=False),
        SaColumn("scope", String(100), nullable=False),
        SaColumn("mode", String(16), nullable=False),
        SaColumn("alarm", String(64)),
        SaColumn("client", String(64)),
    )
    # Indicator values departments entered for the star rating (issue #8): appended, never updated or deleted,
    # so a corrected value keeps the one it replaced (rating_values holds only the newest per quarter).
    Table(
        "rating_entries",
        meta,
        SaColumn("seq", Integer, primary_key=True, autoincrement=True),
        SaColumn("indicator_id", String(64), nullable=False, index=True),
        SaColumn("period", String(8), nullable=False),
        SaColumn("value", Float, nullable=False),
        SaColumn("evidence", String(400)),
        SaColumn("reported_by", String(40), nullable=False),
        SaColumn("at", UtcDateTime, nullable=False),
    )
    # Who may sign in (issue #9): one row per account; a screen's display token is its account's password.
    Table(
        "users",
        meta,
        SaColumn("username", String(64), primary_key=True),
        SaColumn("display_name", String(80), nullable=False),
        SaColumn("password_hash", String(255), nullable=False),
        SaColumn("role", String(16), nullable=False),
        SaColumn("domains", String(200), nullable=False, default=""),
        SaColumn("screen_id", String(32)),
        SaColumn("created_at", UtcDateTime, nullable=False),
        SaColumn("disabled", Boolean, nullable=False, default=False),
        # Signing out ends every session issued before (a cookie session cannot be deleted on the server).
        SaColumn("signed_out_at", UtcDateTime),
    )
    # Operators' and admins' actions (issue #9): appended, never updated or deleted.
    Table(
        "audit_log",
        meta,
        SaColumn("seq", Integer, primary_key=True, autoincrement=True),
        SaColumn("at", UtcDateTime, nullable=False, index=True),
        SaColumn("who", String(80), nullable=False),
        SaColumn("role", String(16), nullable=False),
        SaColumn("action", String(40), nullable=False),
        SaColumn("target", String(200), nullable=False),
        SaColumn("detail", Text),
        SaColumn("remote", String(64)),
    )
    return meta


METADATA = build_metadata()


class SqlOptions(SourceOptions):
    url: str = Field(description="SQLAlchemy URL; the embedded default is a SQLite file in data_dir")
    feeds: tuple[str, ...] | None = Field(None, description="feeds this source serves (default: all)")
    create_schema: bool = Field(
        True, description="create or migrate the tables on start (Alembic, to the newest revision)"
    )
    pool_pre_ping: bool = True
    track_versions: bool = Field(
        True,
        description="readers cache a feed until feed_status says it changed; turn off when other programs "
        "write the feed tables directly, bypassing the store (their rows are then re-read every interval)",
    )


@register("sql")
class SqlSource(BaseSource):
    Options = SqlOptions
    options: SqlOptions

    @classmethod
    def make_options(cls, options: Mapping[str, Any], context: Mapping[str, Any]) -> SqlOptions:
        merged = {"url": context.get("store_url"), **options}
        return SqlOptions(**merged)

    def __init__(self, name: str, options: SqlOptions) -> None:  # type: ignore[override]
        super().__init__(name, options)
        for feed in options.feeds or ():
            contract(feed)
        self.engine = _engine(options)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        #: Since when and why this process's writes fail while the database still answers (a full disk, a
        #: read-only file); None once a write succeeds. Health reports it: reads go on, rows wait upstream.
        self._write_failure: tuple[datetime, str] | None = None
        self._write_failed_at = 0.0  # time.monotonic() of the last failed write

    # ---- protocol --------------------------------------------------------------

    def feeds(self) -> Collection[str]:
        return self.options.feeds or FEEDS

    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: database unreachable: {_short(exc)}") from exc
        self.ensure_schema()

    def ensure_schema(self) -> None:
        if self.options.create_schema and not self._schema_ready:
            with self._schema_lock:
                if not self._schema_ready:
                    self._migrate()
                    self._schema_ready = True

    def _migrate(self) -> None:
        try:
            try:
                migrations.upgrade(self.engine)
            except SQLAlchemyError:
                # Another process (a second worker on the same SQLite file) may
                # have been migrating at the same moment: look again once.
                time.sleep(0.5)
                migrations.upgrade(self.engine)
        except (OperationalError, InterfaceError) as exc:
            raise SourceError(f"{self.name}: database unreachable: {_short(exc)}") from exc
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: cannot create schema: {_short(exc)}") from exc

    def _fetch(self, feed: str, start: datetime | None, end: datetime | None) -> pd.DataFrame:
        table = METADATA.tables[feed]
        spec = contract(feed)
        times = [c.name for c in spec.columns if c.type == "time"]
        # Times come back raw and are converted per column, not per row: the
        # store keeps UTC, so SQLite's offset-less text is UTC by construction.
        query = select(*(type_coerce(table.c[n], Text) if n in times else table.c[n] for n in spec.names))
        if spec.time:
            tcol = table.c[spec.time]
            if start is not None:
                query = query.where(tcol > start)
            if end is not None:
                query = query.where(tcol <= end)
            query = query.order_by(tcol)
        with self._connect() as conn:
            # Plain tuples: pandas probes Row objects attribute by attribute,
            # which costs SQLAlchemy an exception per row.
            rows = [tuple(row) for row in conn.execute(query)]
        frame = pd.DataFrame(rows, columns=list(spec.names))
        for name in times:
            frame[name] = _utc(frame[name])
        return frame

    def latest(self, feed: str) -> datetime | None:
        spec = contract(feed)
        if not spec.time:
            return None
        table = METADATA.tables[feed]
        with self._connect() as conn:
            value = conn.execute(select(func.max(table.c[spec.time]))).scalar()
        if value is None:
            return None
        # func.max bypasses the column type on SQLite; parse its text form.
        return UtcDateTime().process_result_value(pd.Timestamp(value).to_pydatetime(), self.engine.dialect)

    def versions(self) -> dict[str, str]:
        """Per feed written through this store, a token that changes with its rows (see :class:`Versioned`)."""
        if not self.options.track_versions:
            return {}
        table = METADATA.tables["feed_status"]
        query = select(table.c.feed, table.c.rows_written, table.c.last_write_at)
        with self._connect() as conn:
            rows = conn.execute(query).all()
        served = set(self.feeds())
        # Feeds never written have a version too ("0"), so an empty store is cached like any other.
        versions = dict.fromkeys(served, "0")
        for feed, written, at in rows:
            if feed in served:
                versions[feed] = f"{written}@{at.timestamp() if at else 0:.6f}"
        return versions

    def written_between(self, feed: str, old: str, new: str) -> int | None:
        """Rows written from version ``old`` to ``new`` (see :class:`~datasources.base.Appendable`): the
        difference of their ``rows_written`` counts; None when either is not one of this store's tokens."""
        try:
            before, after = (int(token.split("@", 1)[0]) for token in (old, new))
        except ValueError:
            return None
        return after - before if after >= before else None

    def count_between(self, feed: str, start: datetime | None, end: datetime) -> int:
        """Rows stored with time in (start, end] (start None: up to end), as :meth:`read` selects them before
        the contract check."""
        spec = contract(feed)
        if not spec.time:
            raise ValueError(f"{feed} has no time column")
        tcol = METADATA.tables[feed].c[spec.time]
        query = select(func.count()).where(tcol <= end)
        if start is not None:
            query = query.where(tcol > start)
        with self._connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # ---- store -----------------------------------------------------------------

    def write(
        self, feed: str, frame: pd.DataFrame, *, now: datetime | None = None, origin: str = "write"
    ) -> WriteResult:
        """Validate and upsert ``frame``; bad rows are reported, never stored.

        A database that answers but cannot write (``database or disk is full``) raises :class:`SourceError` naming
        the feed and the cause; nothing of the frame is stored, so the caller may send it again.
        """
        with self.writing(feed) as conn:
            result = self.write_in(conn, feed, frame, now=now, origin=origin)
            conn.commit()
        return result

    @contextmanager
    def writing(self, what: str) -> Iterator[Any]:
        """A connection to write ``what`` through: a failed write is logged, remembered for health (see
        ``write_failure``) and raised as :class:`SourceError`; a successful one clears the failure."""
        try:
            with self._connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            message = f"{self.name}: cannot write {what}: {_short(exc)}"
            since = self._write_failure[0] if self._write_failure else datetime.now(UTC)
            self._write_failure, self._write_failed_at = (since, message), time.monotonic()
            log.error("%s", message)
            raise SourceError(message) from exc
        if self._write_failure is not None:
            log.warning("%s: writes succeed again (failing since %s)", self.name, self._write_failure[0].isoformat())
            self._write_failure = None

    @property
    def write_failure(self) -> tuple[datetime, str] | None:
        """Since when and why writes fail, as this process saw; forgotten ``WRITE_FAILURE_S`` after the last failed
        attempt, so one failed write in a process that rarely writes does not flag the store for ever."""
        if self._write_failure and time.monotonic() - self._write_failed_at < WRITE_FAILURE_S:
            return self._write_failure
        return None

    def write_in(
        self, conn: Any, feed: str, frame: pd.DataFrame, *, now: datetime | None = None, origin: str = "write"
    ) -> WriteResult:
        """:meth:`write` inside the caller's transaction on ``conn`` (the caller commits or rolls back), so a
        row and what goes with it (an event and its audit entry) land together or not at all."""
        self._require(feed)
        checked = validate(feed, frame, now=now)
        clean = checked.frame
        table = METADATA.tables[feed]
        spec = contract(feed)
        for start in range(0, len(clean), CHUNK):
            rows = _records(clean.iloc[start : start + CHUNK], spec)
            conn.execute(_upsert(self.engine, table, spec), rows)
        self._note_write(conn, feed, len(clean), checked.report, origin)
        return WriteResult(feed, len(clean), checked.report, checked.reasons)

    def count(self, feed: str) -> int:
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).select_from(METADATA.tables[feed])).scalar() or 0)

    def prune(self, feed: str, before: datetime) -> int:
        """Delete a series feed's rows older than ``before`` (retention)."""
        spec = contract(feed)
        if not spec.time:
            raise ValueError(f"{feed} is reference data; it has no time to prune by")
        table = METADATA.tables[feed]
        with self.writing(feed) as conn:
            deleted = conn.execute(table.delete().where(table.c[spec.time] < before)).rowcount
            if deleted:
                self._note_write(conn, feed, 0, Report(feed), "prune", changed=True)
            conn.commit()
        return int(deleted or 0)

    def record_report(self, report: Report, origin: str) -> None:
        """Keep the latest contract report of a read, for health views."""
        values = _report_values(report, origin)
        with self.writing("feed_status") as conn:
            table = METADATA.tables["feed_status"]
            stmt = _upsert(self.engine, table, None, index=("feed",), update=tuple(values))
            conn.execute(stmt, [{"feed": report.feed, "rows_written": 0, **values}])
            conn.commit()

    def dead_letter(self, letters: Sequence[Mapping[str, Any]]) -> int:
        """Keep deliveries that could not be stored (malformed, unknown feed, rows the contract rejects),
        each with ``origin``, ``feed``, ``reason`` and ``payload`` (text), so nothing is dropped silently."""
        if not letters:
            return 0
        now = datetime.now(UTC)
        rows = [
            {
                "received_at": now,
                "origin": str(letter["origin"])[:200],
                "feed": letter.get("feed"),
                "reason": str(letter["reason"]),
                "payload": str(letter["payload"]),
            }
            for letter in letters
        ]
        with self.writing("dead_letters") as conn:
            conn.execute(METADATA.tables["dead_letters"].insert(), rows)
            conn.commit()
        return len(rows)

    def dead_letters(self, limit: int = 1000) -> pd.DataFrame:
        """The newest dead letters first."""
        table = METADATA.tables["dead_letters"]
        with self._connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])

    def feed_status(self) -> dict[str, dict[str, Any]]:
        """Per feed: last write time, rows written, latest report."""
        with self._connect() as conn:
            rows = conn.execute(select(METADATA.tables["feed_status"])).mappings().all()
        status = {}
        for row in rows:
            entry = dict(row)
            entry["report"] = json.loads(entry["report"]) if entry["report"] else None
            status[row["feed"]] = entry
        return status

    def _note_write(
        self, conn: Any, feed: str, written: int, report: Report, origin: str, *, changed: bool = False
    ) -> None:
        """Count the write; ``last_write_at`` moves only when rows changed, so the feed's version does too."""
        table = METADATA.tables["feed_status"]
        values: dict[str, Any] = {}
        if written or changed:
            values["last_write_at"] = datetime.now(UTC)
        if not report.ok:
            values |= _report_values(report, origin)
        stmt = _upsert(self.engine, table, None, index=("feed",), update=(*values, "rows_written"), add="rows_written")
        conn.execute(stmt, [{"feed": feed, "rows_written": written, **values}])

    def _connect(self) -> Any:
        self.ensure_schema()
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: database unreachable: {_short(exc)}") from exc

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "url": self.engine.url.render_as_string(hide_password=True)}


# ---- helpers -------------------------------------------------------------------------


def _engine(options: SqlOptions) -> Engine:
    try:
        url = make_url(options.url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {options.url!r}") from exc
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _ensure_writable_dir(Path(url.database).expanduser().resolve().parent)
    engine = create_engine(url, pool_pre_ping=options.pool_pre_ping, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _ensure_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"data directory {path} cannot be created: {exc.strerror}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"data directory {path} is not writable")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web workers read while the simulator writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: Dialect-specific INSERT constructs that know ON CONFLICT.
_INSERTS: Mapping[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _upsert(
    engine: Engine,
    table: Table,
    spec: Contract | None,
    *,
    index: tuple[str, ...] | None = None,
    update: tuple[str, ...] | None = None,
    add: str | None = None,
) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE, for SQLite and PostgreSQL."""
    insert = _INSERTS.get(engine.dialect.name)
    if insert is None:
        raise SourceError(f"sql kind supports sqlite and postgresql, not {engine.dialect.name}")
    keys = index or (spec.key if spec else ())
    cols = update if update is not None else tuple(c.name for c in table.columns if c.name not in keys)
    stmt = insert(table)
    sets: dict[str, Any] = {c: stmt.excluded[c] for c in cols}
    if add:
        sets[add] = table.c[add] + stmt.excluded[add]
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=sets) if sets else stmt.on_conflict_do_nothing()


def _utc(values: pd.Series) -> pd.Series:
    """A stored time column as UTC ``datetime64``; unreadable values become NaT
    (and the contract check then rejects them by row)."""
    if values.empty:
        return pd.Series(values, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def _records(frame: pd.DataFrame, spec: Contract) -> list[dict[str, Any]]:
    data = frame.astype(object).where(frame.notna(), None)
    for col in spec.columns:
        if col.type == "time":
            data[col.name] = [None if v is None else v.to_pydatetime() for v in data[col.name]]
        elif col.type == "date":
            data[col.name] = [v if v is None or isinstance(v, date) else pd.Timestamp(v).date() for v in data[col.name]]
    return data.to_dict("records")  # type: ignore[return-value]


def _report_values(report: Report, origin: str) -> dict[str, Any]:
    return {
        "report_at": datetime.now(UTC),
        "report_source": origin[:64],
        "rejected": report.rejected,
        "report": json.dumps(report.as_dict(), ensure_ascii=False),
    }


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
