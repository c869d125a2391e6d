"""The sql kind as the store: upserts, time windows, reports, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from datasources.base import SourceError
from datasources.kinds.sql import SqlOptions, SqlSource

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def store(tmp_path: Path) -> SqlSource:
    return SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}"))


def readings(hours: range, pm25: float = 30.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"station_id": "air-01", "ts": NOW - timedelta(hours=h), "pm25": pm25, "averaging": "1h"} for h in hours
    )


def test_write_then_read_round_trips_times_in_utc(tmp_path: Path) -> None:
    src = store(tmp_path)
    assert src.write("air_readings", readings(range(3)), now=NOW).written == 3
    got = src.read("air_readings", start=NOW - timedelta(hours=2), end=NOW)
    assert got.frame["ts"].tolist() == [pd.Timestamp(NOW - timedelta(hours=1)), pd.Timestamp(NOW)]
    assert got.produced_at == NOW and got.report.ok
    assert src.latest("air_readings") == NOW


def test_rewriting_a_reading_is_idempotent(tmp_path: Path) -> None:
    src = store(tmp_path)
    src.write("air_readings", readings(range(3)), now=NOW)
    src.write("air_readings", readings(range(3), pm25=40.0), now=NOW)
    got = src.read("air_readings").frame
    assert len(got) == 3 and set(got["pm25"]) == {40.0}


def test_bad_rows_are_reported_and_never_stored(tmp_path: Path) -> None:
    src = store(tmp_path)
    frame = readings(range(3))
    frame.loc[1, "pm25"] = -5
    result = src.write("air_readings", frame, now=NOW)
    assert result.written == 2 and result.report.rejected == 1
    assert src.count("air_readings") == 2
    status = src.feed_status()["air_readings"]
    assert status["rejected"] == 1 and status["report"]["sample"][0]["column"] == "pm25"
    assert status["rows_written"] == 2


def test_rows_a_department_wrote_directly_are_checked_on_read(tmp_path: Path) -> None:
    src = store(tmp_path)
    src.write("air_readings", readings(range(2)), now=NOW)
    with src.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO air_readings (station_id, ts, pm25, averaging) "
            "VALUES ('air-01', '2026-11-28 00:00:00', 1e9, '1h')"
        )
    got = src.read("air_readings", end=NOW)
    assert len(got.frame) == 2 and got.report.rejected == 1
    assert "above the allowed maximum" in got.report.sample[0].reason


def test_prune_keeps_recent_rows(tmp_path: Path) -> None:
    src = store(tmp_path)
    src.write("air_readings", readings(range(10)), now=NOW)
    assert src.prune("air_readings", NOW - timedelta(hours=4)) == 5
    assert src.count("air_readings") == 5


def test_unreachable_database_is_a_source_error(tmp_path: Path) -> None:
    src = SqlSource("pg", SqlOptions(url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with pytest.raises(SourceError, match="database unreachable"):
        src.check()


def test_reference_feeds_have_no_data_time(tmp_path: Path) -> None:
    src = store(tmp_path)
    frame = pd.DataFrame(
        [{"station_id": "a1", "name": "山亭区站", "lon": 117.45, "lat": 35.09, "town_code": "370406001"}]
    )
    src.write("air_stations", frame, now=NOW)
    assert src.latest("air_stations") is None
    assert src.read("air_stations").frame["name"].tolist() == ["山亭区站"]
    assert src.feed_status()["air_stations"]["last_write_at"] is not None


def test_the_version_moves_with_the_rows_and_only_with_them(tmp_path: Path) -> None:
    src = store(tmp_path)
    assert src.versions()["air_readings"] == "0"  # never written: still a version, so it can be cached
    src.write("air_readings", readings(range(3)), now=NOW)
    first = src.versions()["air_readings"]
    src.write("air_readings", readings(range(0)), now=NOW)  # nothing written: nothing changed
    assert src.versions()["air_readings"] == first
    src.write("air_readings", readings(range(1), pm25=40.0), now=NOW)  # a corrected reading
    second = src.versions()["air_readings"]
    assert second != first
    assert src.prune("air_readings", NOW - timedelta(hours=1)) == 1  # retention deletes rows: a change too
    assert src.versions()["air_readings"] != second
    assert src.prune("air_readings", NOW - timedelta(days=9)) == 0
    assert src.versions()["water_samples"] == "0"


def test_versions_can_be_turned_off_for_tables_written_behind_the_stores_back(tmp_path: Path) -> None:
    src = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}", track_versions=False))
    src.write("air_readings", readings(range(3)), now=NOW)
    assert src.versions() == {}


def test_a_write_the_database_refuses_is_named_remembered_and_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy import event

    from datasources.kinds import sql

    src = store(tmp_path)
    src.write("air_readings", readings(range(2)))
    full = True

    def refuse(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if full and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(src.engine, "before_cursor_execute", refuse)
    with pytest.raises(SourceError, match=r"^store: cannot write air_readings: .*database or disk is full$"):
        src.write("air_readings", readings(range(2, 4)))
    assert src.write_failure is not None and "disk is full" in src.write_failure[1]
    assert len(src.read("air_readings").frame) == 2  # reads go on
    monkeypatch.setattr(sql, "WRITE_FAILURE_S", 0.0)
    assert src.write_failure is None  # long after the last failed attempt: no longer reported
    monkeypatch.undo()
    with pytest.raises(SourceError):
        src.write("air_readings", readings(range(2, 4)))
    full = False
    src.write("air_readings", readings(range(2, 4)))
    assert src.write_failure is None and len(src.read("air_readings").frame) == 4
