"""The files and http kinds beyond the contract suite: changes picked up, failures named, retries."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask, Response

from datasources.base import SourceError
from datasources.kinds.files import FilesOptions, FilesSource
from datasources.kinds.http import HttpOptions, HttpSource
from tests.feed_servers import serving

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
HEADER = "station_id,ts,pm25,averaging\n"


def line(hours_ago: int, pm25: str = "30") -> str:
    return f"air-01,{(NOW - timedelta(hours=hours_ago)).isoformat()},{pm25},1h\n"


def drop(path: Path, text: str) -> None:
    """Deliver as departments should: write aside, then rename over the old file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8-sig")
    os.replace(tmp, path)


def test_a_new_drop_is_a_new_version_and_is_read_again(tmp_path: Path) -> None:
    src = FilesSource("drop", FilesOptions(directory=tmp_path))
    drop(tmp_path / "air_readings.csv", HEADER + line(2) + line(1))
    first = src.versions()["air_readings"]
    assert len(src.read("air_readings").frame) == 2
    assert src.versions()["air_readings"] == first  # unchanged file: same version, parsed once
    time.sleep(0.01)
    drop(tmp_path / "air_readings.csv", HEADER + line(2) + line(1) + line(0, "55"))
    assert src.versions()["air_readings"] != first
    frame = src.read("air_readings", start=NOW - timedelta(minutes=90), end=NOW).frame
    assert frame["pm25"].tolist() == [30.0, 55.0]
    assert src.latest("air_readings") == NOW


def test_bad_rows_in_a_file_are_reported_and_the_rest_served(tmp_path: Path) -> None:
    drop(tmp_path / "air_readings.csv", HEADER + line(1) + line(0, "lots") + "air-01,2026-11-29 04:00,30,1h\n")
    got = FilesSource("drop", FilesOptions(directory=tmp_path)).read("air_readings")
    assert len(got.frame) == 1 and got.report.rejected == 2
    reasons = {r.reason for r in got.report.sample}
    assert "not a number" in reasons and any("time zone" in r or "offset" in r for r in reasons), reasons


def test_a_malformed_geojson_fails_its_feed_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "towns.geojson").write_text('{"type": "Feature"}', encoding="utf-8")
    (tmp_path / "bus_lines.geojson").write_text("{not json", encoding="utf-8")
    src = FilesSource("drop", FilesOptions(directory=tmp_path))
    with pytest.raises(SourceError, match=r"towns\.geojson: not a GeoJSON FeatureCollection"):
        src.read("towns")
    with pytest.raises(SourceError, match=r"cannot read bus_lines\.geojson: JSONDecodeError"):
        src.read("bus_lines")


def test_a_missing_directory_fails_the_check(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        FilesSource("drop", FilesOptions(directory=tmp_path / "nowhere")).check()


def flaky_api(failures: int, body: str = "[]", status: int = 500, delay_s: float = 0.0) -> tuple[Flask, list[int]]:
    app, calls = Flask("flaky"), []

    @app.get("/air_readings")
    def readings() -> Response:
        calls.append(1)
        if len(calls) <= failures:
            return Response("upstream down", status=status)
        time.sleep(delay_s)
        return Response(body, mimetype="application/json")

    return app, calls


def rows(n: int) -> str:
    return json.dumps(
        [{"station_id": "air-01", "ts": (NOW - timedelta(hours=h)).isoformat(), "pm25": 30, "averaging": "1h"}
         for h in range(n)]
    )  # fmt: skip


def http(url: str, **options: object) -> HttpSource:
    return HttpSource("api", HttpOptions(base_url=url, feeds=("air_readings",), backoff_s=0.01, **options))  # type: ignore[arg-type]


def test_a_500_is_retried_with_backoff_until_it_answers() -> None:
    app, calls = flaky_api(failures=2, body=rows(3))
    with serving(app) as url:
        got = http(url, retries=3).read("air_readings")
    assert len(got.frame) == 3 and len(calls) == 3


def test_an_api_that_keeps_failing_fails_its_feed_with_the_url_and_why() -> None:
    app, calls = flaky_api(failures=99)
    with serving(app) as url, pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1:\d+/air_readings"):
        http(url, retries=2).read("air_readings")
    assert len(calls) == 3  # the first try and two retries


def test_garbage_and_wrong_shapes_are_named() -> None:
    for body, message in (("<html>oops</html>", "did not answer JSON"), ('{"x": 1}', "expected a JSON array")):
        app, _ = flaky_api(failures=0, body=body)
        with serving(app) as url, pytest.raises(SourceError, match=message):
            http(url, retries=0).read("air_readings")


def test_a_slow_api_times_out_instead_of_hanging_the_page() -> None:
    app, calls = flaky_api(failures=0, body=rows(1), delay_s=1.0)
    with serving(app) as url:
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"failed \(2 tries\): ReadTimeout: no answer within 0\.2 s$"):
            http(url, retries=1, timeout_s=0.2).read("air_readings")
        assert time.monotonic() - started < 3
    assert len(calls) == 2


def test_a_refused_connection_says_so_briefly() -> None:
    with pytest.raises(SourceError, match=r"failed \(1 try\): ConnectionError: cannot connect: .*refused$"):
        http("http://127.0.0.1:9", retries=0).read("air_readings")


def test_a_token_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="SHANTING_TEST_TOKEN is not set"):
        http("http://127.0.0.1:9", token_env="SHANTING_TEST_TOKEN")
    monkeypatch.setenv("SHANTING_TEST_TOKEN", "abc")
    assert http("http://127.0.0.1:9", token_env="SHANTING_TEST_TOKEN").session.headers["Authorization"] == "Bearer abc"
