"""The map over a GCJ-02 basemap: our WGS84 layers are shifted to match it (and only then)."""

from __future__ import annotations

import pytest

from tests.browser.helpers import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

#: WGS84 (lat, lng) → GCJ-02 (lat, lng): reference pairs of the published algorithm (googollee/eviltransform).
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]
#: The outline's first vertex on screen (layer pixels) next to where WGS84 and GCJ-02 would put it.
OUTLINE_VERTEX = """
const done = arguments[arguments.length - 1];
const map = window.shanting.lastMap;
const path = document.querySelector("path.leaflet-interactive[stroke='#35c2ff'], path[stroke='#35c2ff']");
fetch("/geo/outline").then(r => r.json()).then(fc => {
  let ring = fc.features[0].geometry.coordinates;
  while (Array.isArray(ring[0][0])) ring = ring[0];
  const [lng, lat] = ring[0];
  const drawn = path.getAttribute("d").match(/M\\s*(-?[\\d.]+)[ ,](-?[\\d.]+)/).slice(1).map(Number);
  const wgs = map.latLngToLayerPoint([lat, lng]);
  const gcj = map.latLngToLayerPoint(window.shanting.map.toGcj02([lng, lat]));
  done({drawn: drawn, wgs: [wgs.x, wgs.y], gcj: [gcj.x, gcj.y]});
});
"""


def tiles(datum: str) -> dict[str, str]:
    # A tile server on a closed loopback port: nothing leaves the machine, the tiles just fail to load.
    return {"url": "http://127.0.0.1:9/{z}/{x}/{y}.png", "attribution": "test tiles", "datum": datum}


def _vertex(dash_duo) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("return !!(window.shanting && window.shanting.lastMap)"),
             "the map")  # fmt: skip
    wait_for(dash_duo, lambda: dash_duo.find_elements("path[stroke='#35c2ff']"), "the district outline")
    return dash_duo.driver.execute_async_script(OUTLINE_VERTEX)  # type: ignore[no-any-return]


def _distance(a: list[float], b: list[float]) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def test_map001_gcj02_tiles_shift_every_layer_by_the_published_offset(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(tiles=tiles("gcj02")), port=free_port)
    for (lat, lng), (glat, glng) in REFERENCE:
        got = dash_duo.driver.execute_script(
            f"const p = window.shanting.map.toGcj02([{lng}, {lat}]); return [p.lat, p.lng];"
        )
        assert got == pytest.approx([glat, glng], abs=2e-6)
    vertex = _vertex(dash_duo)
    assert _distance(vertex["wgs"], vertex["gcj"]) > 3  # the offset is visible at the district's zoom …
    assert _distance(vertex["drawn"], vertex["gcj"]) <= 1.5  # … and the outline is drawn where GCJ-02 puts it


def test_map002_wgs84_tiles_leave_the_layers_where_they_are(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(tiles=tiles("wgs84")), port=free_port)
    vertex = _vertex(dash_duo)
    assert _distance(vertex["drawn"], vertex["wgs"]) <= 1.5
    assert _distance(vertex["drawn"], vertex["gcj"]) > 3
