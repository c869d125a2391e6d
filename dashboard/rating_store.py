"""The star rating's writes to the store: the catalogue replaced by an import, values departments enter (kept
in the append-only ``rating_entries`` log), and task progress reports (``rating_tasks`` is keyed on the report
time, so every report is a new row and nothing is overwritten).

Every write is checked first (:mod:`dashboard.rating_tables`, then the feed contract) and done in one
transaction, so a refused table leaves the store as it was.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select

from dashboard.rating_tables import Problem, TableError, check_catalogue, check_tasks, check_values, read_table
from datasources.base import WritableSource
from datasources.contracts import contract
from datasources.kinds.sql import METADATA, _records, _upsert
from datasources.validation import validate


class RatingBook:
    """The rating tables in the ``sql`` store."""

    def __init__(self, store: WritableSource) -> None:
        if not hasattr(store, "engine"):
            raise TypeError(f"the rating book needs the sql store, not {type(store).__name__}")
        self.store: Any = store

    def _checked(self, feed: str, frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
        """The rows the contract accepts; TableError (file row numbers) if it rejects any."""
        got = validate(feed, frame, now=now)
        if got.report.errors:
            raise TableError([Problem(None, "", e) for e in got.report.errors])
        if got.report.rejected:
            raise TableError([Problem(r.row + 2, r.column, f"{r.value!r}: {r.reason}") for r in got.report.sample])
        return got.frame

    def replace_catalogue(self, frame: pd.DataFrame, now: datetime, origin: str = "import") -> int:
        """Make ``frame`` the whole catalogue: indicators it does not list are gone, all in one transaction."""
        clean = self._checked("rating_indicators", frame, now)
        table = METADATA.tables["rating_indicators"]
        spec = contract("rating_indicators")
        with self.store.writing("rating_indicators") as conn:
            conn.execute(delete(table))
            conn.execute(insert(table), _records(clean, spec))
            self.store._note_write(conn, "rating_indicators", len(clean), validate(spec, clean).report, origin)
            conn.commit()
        return len(clean)

    def enter_values(self, frame: pd.DataFrame, now: datetime, origin: str = "entry") -> int:
        """Log each value and make it its quarter's current value (a later entry for a quarter wins)."""
        clean = self._checked("rating_values", frame, now)
        spec = contract("rating_values")
        log = [{**r, "at": now} for r in _records(clean, spec)]
        current = clean.drop_duplicates(["indicator_id", "period"], keep="last")
        with self.store.writing("rating_values") as conn:
            conn.execute(insert(METADATA.tables["rating_entries"]), log)
            table = METADATA.tables["rating_values"]
            conn.execute(_upsert(self.store.engine, table, spec), _records(current, spec))
            self.store._note_write(conn, "rating_values", len(current), validate(spec, current).report, origin)
            conn.commit()
        return len(clean)

    def entries(self, indicator_id: str | None = None) -> pd.DataFrame:
        """The value log, oldest first (one indicator's or all)."""
        table = METADATA.tables["rating_entries"]
        query = select(table).order_by(table.c.seq)
        if indicator_id is not None:
            query = query.where(table.c.indicator_id == indicator_id)
        with self.store._connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])

    def report_tasks(self, frame: pd.DataFrame, now: datetime) -> int:
        """Store progress reports as new rows at ``now``; earlier reports stay."""
        rows = frame.assign(reported_at=pd.Timestamp(now))
        clean = self._checked("rating_tasks", rows, now)
        return self.store.write("rating_tasks", clean, now=now, origin="report").written


@dataclass(frozen=True)
class Outcome:
    """What an upload did: rows stored, or every problem found (nothing stored then)."""

    ok: bool
    rows: int
    problems: tuple[str, ...] = ()


def decode_upload(contents: str) -> bytes:
    """The bytes of a browser upload (a ``data:…;base64,`` URL); ValueError if it is not one."""
    head, _, data = contents.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ValueError("not a base64 data URL")
    return base64.b64decode(data, validate=True)


def import_upload(
    book: RatingBook,
    kind: str,
    content: bytes,
    filename: str,
    now: datetime,
    catalogue: pd.DataFrame,
    tasks: pd.DataFrame,
    reporter: str = "部门填报",
) -> Outcome:
    """Check and store one uploaded table of ``kind`` (catalogue, values, tasks); all or nothing.

    ``catalogue`` is the current catalogue (values must name its indicators); ``tasks`` each task's latest
    report (progress must name a known task).
    """
    try:
        frame = read_table(content, filename)
        if kind == "catalogue":
            rows = book.replace_catalogue(check_catalogue(frame), now)
        elif kind == "values":
            ids = set(catalogue["indicator_id"]) if len(catalogue) else set()
            rows = book.enter_values(check_values(frame, ids, reporter), now)
        elif kind == "tasks":
            rows = book.report_tasks(check_tasks(frame, tasks), now)
        else:
            raise TableError([Problem(None, "", f"unknown table kind {kind!r} (catalogue, values, tasks)")])
    except TableError as exc:
        return Outcome(False, 0, tuple(p.text() for p in exc.problems))
    return Outcome(True, rows)


def report_form(book: RatingBook, fields: dict[str, object], now: datetime, tasks: pd.DataFrame) -> Outcome:
    """One progress report typed into the form, checked exactly like an uploaded row (row 2 is the form)."""
    row = {k: "" if v is None else str(v).strip() for k, v in fields.items()}
    try:
        rows = book.report_tasks(check_tasks(pd.DataFrame([row]), tasks), now)
    except TableError as exc:
        return Outcome(False, 0, tuple(p.text().replace("第2行 ", "") for p in exc.problems))
    return Outcome(True, rows)
