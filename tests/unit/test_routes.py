"""HTTP routes: map layers by URL with caching, the read-only API, exports, bad input."""

from __future__ import annotations

import gzip
import io
import json
import re

import pandas as pd
import pytest


@pytest.fixture
def client(app_at_now):  # type: ignore[no-untyped-def]
    return app_at_now().server.test_client()


def test_layer_is_gzipped_geojson_with_etag_and_long_cache(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/geo/cameras?scope=town:370406103&v=1", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    assert resp.content_encoding == "gzip"
    features = json.loads(gzip.decompress(resp.data))["features"]
    assert features and {f["properties"]["status"] for f in features} <= {"online", "offline", "fault"}
    assert resp.cache_control.max_age == 3600 and resp.headers["ETag"]
    again = client.get("/geo/cameras?scope=town:370406103&v=1", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_static_basemap_is_cached_for_a_day(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/geo/outline")
    assert resp.status_code == 200 and resp.cache_control.max_age == 86400
    assert resp.get_json()["features"][0]["properties"]["name"] == "山亭区"


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/geo/weather", 404, "unknown layer 'weather'"),
        ("/geo/cameras?scope=town:1", 400, "bad scope"),
        ("/geo/cameras?scope=town:370406999", 404, "no 镇街 with code 370406999"),
        ("/geo/towns?kpi=star", 400, "kpi must be one of"),
        ("/api/v1/kpis?scope=village:370406103", 400, "bad scope"),
        ("/api/v1/kpis?scope=asset:cameras:cam-999999", 404, "no cameras asset"),
        ("/api/v1/kpis?scope=%3Cscript%3E", 400, "bad scope"),
        ("/lang/fr", 400, "unknown language"),
    ],
)
def test_bad_input_is_a_clear_4xx(client, url: str, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(url)
    assert resp.status_code == status
    assert words in resp.get_json()["error"]
    assert "<script>" not in resp.get_data(as_text=True)


def test_api_kpis_by_scope(client) -> None:  # type: ignore[no-untyped-def]
    district = client.get("/api/v1/kpis").get_json()
    town = client.get("/api/v1/kpis?scope=town:370406103").get_json()
    assert district["scope"] == "district" and town["scope"] == "town:370406103"
    kpis = {k["id"]: k for k in district["kpis"]}
    assert len(kpis) == 18 and kpis["working_rate"]["unit"] == "%"
    assert kpis["aqi"]["data_time"].endswith("+00:00") and kpis["aqi"]["stale"] is False
    town_kpis = {k["id"]: k for k in town["kpis"]}
    assert town_kpis["working_rate"]["value"] != kpis["working_rate"]["value"]


def test_api_scenes(client) -> None:  # type: ignore[no-untyped-def]
    scenes = client.get("/api/v1/scenes").get_json()["scenes"]
    assert [s["id"] for s in scenes][:2] == ["overview", "transport"]
    built = {s["id"]: s["built"] for s in scenes}
    assert built["overview"] is True and built["transport"] is True and built["rating"] is True


def test_csv_export_opens_in_excel_with_chinese(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/export/kpis.csv?scope=town:370406103")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in resp.headers["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(resp.data), encoding="utf-8-sig")
    assert "视频完好率" in set(frame["指标"]) and len(frame) == 18


def test_map_export_is_standalone_html(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/export/map.html?scope=town:370406103")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "北庄镇" in html and "数据时间" in html
    # Nothing is loaded from outside: no external script, stylesheet or image.
    assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*\shref=[\"']https?:|<img[^>]*\ssrc=[\"']https?:", html)


def test_language_switch_sets_a_cookie_and_refuses_open_redirects(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/lang/en?next=/data")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/data")
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert client.get("/lang/en?next=//evil.example").headers["Location"].endswith("/")


def test_an_empty_layer_is_still_valid_geojson(client) -> None:  # type: ignore[no-untyped-def]
    # At a village with no scenic area the layer is empty, not broken.
    resp = client.get("/geo/scenic?scope=village:370406001001")
    assert resp.status_code == 200 and resp.get_json() == {"type": "FeatureCollection", "features": []}


def test_a_failing_layer_is_empty_and_says_why(app_at_now) -> None:  # type: ignore[no-untyped-def]
    app = app_at_now(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env"},
    )
    resp = app.server.test_client().get("/geo/air")
    assert resp.status_code == 200 and resp.get_json()["features"] == []
    assert "database unreachable" in resp.headers["X-Layer-Unavailable"]
    assert resp.cache_control.no_store


def test_healthz_says_which_cache_serves(app_at_now) -> None:  # type: ignore[no-untyped-def]
    body = app_at_now().server.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and body["cache"] == {"kind": "process", "shared": False}
    assert body["feeds"]["air_readings"]["state"] in ("fresh", "stale")


def test_a_warmed_server_answers_the_overviews_first_screen_from_the_cache(app_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dashboard import kpis, layers
    from dashboard.routes import start_warming

    app = app_at_now()
    services = app.server.extensions["shanting.services"]
    start_warming(services).join(60)
    built: list[str] = []
    monkeypatch.setattr(layers, "build", lambda name, *a, **k: built.append(name) or {})
    monkeypatch.setattr(kpis, "_tile", lambda *a, **k: built.append("tile"))
    client = app.server.test_client()
    kpi = services.settings.choropleth_kpi
    for name in ("towns", "segments", "accidents", "cameras", "buses", "air", "water", "scenic"):
        assert client.get(f"/geo/{name}?scope=district&kpi={kpi}&days=7&v=1").status_code == 200
    assert client.get("/api/v1/kpis?scope=district").status_code == 200
    assert built == [], "the first screen computed what the warm-up should have"
    # A town's layer was not warmed: it is built on demand as before.
    client.get("/geo/cameras?scope=town:370406103&v=1")
    assert built == ["cameras"]


def test_a_failing_warm_up_is_logged_and_leaves_the_server_working(app_at_now, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from dashboard.routes import start_warming

    app = app_at_now()
    services = app.server.extensions["shanting.services"]
    monkeypatch.setattr(type(services), "health", lambda self: 1 / 0)
    start_warming(services).join(60)
    assert "warming the cache failed" in caplog.text
    assert app.server.test_client().get("/api/v1/kpis?scope=district").status_code == 200


def test_a_server_process_freezes_its_start_up_objects_before_it_reads_data(app_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    from dashboard import routes

    services = app_at_now().server.extensions["shanting.services"]
    done: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: done.append("freeze"))  # not this test process itself
    warm = routes.warm
    monkeypatch.setattr(routes, "warm", lambda s: done.append("warm") or warm(s))
    routes.start_warming(services).join(60)
    assert done == ["warm"]  # a warm-up alone (tests, tools) leaves the collector alone
    done.clear()
    routes.start_warming(services, freeze=True).join(60)
    # frozen first: data the warm-up reads is replaced as it moves, and frozen, its reference cycles would be kept
    assert done == ["freeze", "warm"]
