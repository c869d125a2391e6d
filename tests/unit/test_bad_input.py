"""The bad-input corpus against the store, the MQTT decoder, the files kind and the HTTP endpoints (issue #12).

Every hostile row is rejected with a reason that names the problem and leaves the store exactly as it was, or
(legitimate text that merely looks hostile) is stored byte for byte; see ``tests/corpus/bad_input.py``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from datasources.base import SourceError
from datasources.contracts import contract
from datasources.kinds.files import FilesOptions, FilesSource
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.mqtt import decode
from datasources.synthetic import SyntheticDistrict
from datasources.validation import validate
from tests.corpus.bad_input import FILES, PAYLOADS, ROWS, TRAVERSALS, URLS, Case

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def test_the_corpus_is_large_and_spans_the_feeds() -> None:
    assert len(ROWS) + len(PAYLOADS) + len(FILES) + len(URLS) + len(TRAVERSALS) >= 60
    assert len({c.feed for c in ROWS}) >= 15
    assert len({c.id for c in ROWS}) == len(ROWS)


@pytest.fixture(scope="module")
def district() -> SyntheticDistrict:
    return SyntheticDistrict()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, district: SyntheticDistrict) -> SqlSource:
    """A store holding a few good rows of every feed the corpus touches."""
    source = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path_factory.mktemp('bad') / 'store.db'}"))
    for feed in sorted({c.feed for c in ROWS}):
        result = source.write(feed, good_rows(district, feed).head(3), now=NOW, origin="corpus")
        assert result.report.ok, result.report.summary()
    return source


def good_rows(district: SyntheticDistrict, feed: str) -> pd.DataFrame:
    if contract(feed).is_series:
        return district.series(feed, NOW - timedelta(hours=3), NOW).sort_values("ts", ascending=False)
    return district.static(feed)


def hostile(district: SyntheticDistrict, case: Case) -> pd.DataFrame:
    """A good row of the case's feed, made hostile; its key made new so nothing stored is touched by an upsert."""
    row: dict[str, Any] = good_rows(district, case.feed).iloc[-1].to_dict()
    spec = contract(case.feed)
    for key in spec.key:
        column = spec.column_index[key]
        if key not in case.change and column.type == "str" and not (column.pattern or "").startswith("^370406"):
            row[key] = f"corpus-{case.id}"[:64]  # area codes stay: the district has only its own
    row.update(case.change)
    return pd.DataFrame([row])


def snapshot(store: SqlSource, feed: str) -> pd.DataFrame:
    return store.read(feed).frame.sort_values(list(contract(feed).key)).reset_index(drop=True)


@pytest.mark.parametrize("case", [c for c in ROWS if c.expect == "reject"], ids=lambda c: c.id)
def test_a_hostile_row_is_rejected_with_its_reason_and_the_store_is_unchanged(
    store: SqlSource, district: SyntheticDistrict, case: Case
) -> None:
    before = snapshot(store, case.feed)
    result = store.write(case.feed, hostile(district, case), now=NOW, origin="corpus")
    assert result.written == 0 and result.report.rejected == 1, result.report.summary()
    (reason,) = result.reasons.values()
    assert case.reason in reason, reason
    pd.testing.assert_frame_equal(snapshot(store, case.feed), before)


@pytest.mark.parametrize("case", [c for c in ROWS if c.expect == "keep"], ids=lambda c: c.id)
def test_hostile_looking_text_is_stored_exactly(store: SqlSource, district: SyntheticDistrict, case: Case) -> None:
    frame = hostile(district, case)
    result = store.write(case.feed, frame, now=NOW, origin="corpus")
    assert result.written == 1 and result.report.ok, result.report.summary()
    spec = contract(case.feed)
    stored = store.read(case.feed).frame
    for key in spec.key:
        value = frame[key].iloc[0]
        stored = stored.loc[stored[key] == (pd.Timestamp(value) if spec.column_index[key].type == "time" else value)]
    assert len(stored) == 1
    for column, value in case.change.items():
        got = stored[column].iloc[0]
        assert (isinstance(value, float) and math.isnan(value) and pd.isna(got)) or got == value


def test_an_empty_delivery_changes_nothing(store: SqlSource) -> None:
    before = snapshot(store, "air_readings")
    result = store.write("air_readings", pd.DataFrame(columns=list(contract("air_readings").names)), now=NOW)
    assert result.written == 0 and result.report.ok and result.report.rows_in == 0
    pd.testing.assert_frame_equal(snapshot(store, "air_readings"), before)


def test_a_delivery_without_required_columns_is_refused_whole(store: SqlSource) -> None:
    before = snapshot(store, "visitor_counts")
    result = store.write("visitor_counts", pd.DataFrame({"spot": ["a"], "count": [1]}), now=NOW)
    assert result.written == 0 and "missing required columns: spot_id, ts, in_park" in result.report.summary()
    pd.testing.assert_frame_equal(snapshot(store, "visitor_counts"), before)


def test_duplicate_keys_in_one_delivery_keep_the_last_and_say_so(store: SqlSource, district: SyntheticDistrict) -> None:
    row = good_rows(district, "air_readings").iloc[0].to_dict()
    frame = pd.DataFrame([{**row, "pm25": 10.0}, {**row, "pm25": 20.0}])
    result = store.write("air_readings", frame, now=NOW)
    assert result.written == 1 and "duplicate key" in result.reasons[0]
    stored = store.read("air_readings").frame
    mine = stored.loc[(stored["station_id"] == row["station_id"]) & (stored["ts"] == pd.Timestamp(row["ts"]))]
    assert mine["pm25"].tolist() == [20.0]


def test_out_of_order_rows_are_stored_in_time_order(store: SqlSource, district: SyntheticDistrict) -> None:
    rows = good_rows(district, "segment_speeds").head(6)
    shuffled = rows.sample(frac=1.0, random_state=7)
    assert store.write("segment_speeds", shuffled, now=NOW).report.ok
    assert store.read("segment_speeds").frame["ts"].is_monotonic_increasing


@pytest.mark.parametrize(("name", "payload", "reason"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_a_malformed_mqtt_payload_is_named(name: str, payload: bytes, reason: str) -> None:
    try:
        rows = decode(payload)
    except ValueError as exc:
        assert reason in str(exc)
        return
    report = validate("air_readings", pd.DataFrame(rows), now=NOW)
    assert report.frame.empty and any(reason in r for r in report.reasons.values()), report.reasons


@pytest.mark.parametrize(("name", "filename", "content", "words"), FILES, ids=[f[0] for f in FILES])
def test_a_malformed_file_is_reported_by_name(
    tmp_path: Path, name: str, filename: str, content: bytes, words: str
) -> None:
    """An unreadable file fails its feed with the file named (its tiles say 数据源异常); bad rows are reported."""
    (tmp_path / filename).write_bytes(content)
    source = FilesSource("dept", FilesOptions(directory=tmp_path))
    try:
        got = source.read(filename.split(".")[0])
    except SourceError as exc:
        assert words in str(exc) and filename in str(exc)
        return
    assert got.frame.empty
    assert words in " ".join(got.report.errors) + " ".join(r.reason for r in got.report.sample), got.report.summary()


@pytest.fixture
def client(app_at_now):  # type: ignore[no-untyped-def]
    return app_at_now().server.test_client()


@pytest.mark.parametrize(("url", "status", "words"), URLS, ids=[u[0][:40] for u in URLS])
def test_hostile_url_parameters_get_a_clear_4xx(client, url: str, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(url)
    assert resp.status_code == status
    body = resp.get_data(as_text=True)
    assert words in resp.get_json()["error"], body[:300]
    assert "<script>" not in body


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_climbs_out_of_what_is_served(client, url: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(url)
    assert "root:x:0:0" not in resp.get_data(as_text=True)
    assert resp.status_code in (200, 301, 308, 400, 404)  # 200: the page shell for an unknown path, never the file
