"""Map layers: each builds GeoJSON with the properties its styling needs, per scope."""

from __future__ import annotations

import pytest

from dashboard import layers
from dashboard.scope import DISTRICT, Scope
from tests.conftest import NOW

BEIZHUANG = Scope("town", "370406103")


@pytest.mark.parametrize("name", layers.LAYER_NAMES)
def test_every_layer_builds(services_at_now, name: str) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now()
    fc = layers.build(name, s.live, s.settings, DISTRICT, NOW)
    assert fc["type"] == "FeatureCollection"
    if name not in ("buses", "accidents", "accident_points"):
        assert fc["features"], name


def test_layer_properties_drive_styling(services_at_now) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now()
    cams = layers.build("cameras", s.live, s.settings, DISTRICT, NOW)["features"]
    assert {f["properties"]["status"] for f in cams} <= {"online", "offline", "fault"}
    air = layers.build("air", s.live, s.settings, DISTRICT, NOW)["features"]
    assert len(air) == 11 and all(f["properties"]["aqi"] is not None for f in air)
    assert all(f["properties"]["colour"].startswith("#") for f in air)
    segs = layers.build("segments", s.live, s.settings, DISTRICT, NOW)["features"]
    assert {f["properties"]["level"] for f in segs} <= {0, 1, 2, 3, 4, 5}
    towns = layers.build("towns", s.live, s.settings, BEIZHUANG, NOW, kpi="aqi")["features"]
    assert len(towns) == 10 and sum(f["properties"]["selected"] for f in towns) == 1
    assert all(f["properties"]["value"] is not None for f in towns)


def test_town_scope_keeps_only_its_assets(services_at_now) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now()
    everywhere = layers.build("cameras", s.live, s.settings, DISTRICT, NOW)["features"]
    town = layers.build("cameras", s.live, s.settings, BEIZHUANG, NOW)["features"]
    assert 0 < len(town) < len(everywhere)
    bounds = layers.bounds(BEIZHUANG, s.live)
    for f in town:
        lon, lat = f["geometry"]["coordinates"]
        assert bounds[0][1] <= lon <= bounds[1][1] and bounds[0][0] <= lat <= bounds[1][0]


def test_unknown_layer_and_kpi_are_refused(services_at_now) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now()
    with pytest.raises(KeyError, match="known layers"):
        layers.build("weather", s.live, s.settings, DISTRICT, NOW)
    with pytest.raises(ValueError, match="kpi must be one of"):
        layers.build("towns", s.live, s.settings, DISTRICT, NOW, kpi="star")


def test_version_follows_the_data(services_at_now) -> None:  # type: ignore[no-untyped-def]
    s = services_at_now()
    assert layers.version("outline", s.live) == "static"
    assert layers.version("air", s.live) == layers.version("air", s.live)
    assert layers.version("air", s.live) != layers.version("cameras", s.live)


def test_water_sections_carry_their_gb3838_class(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dashboard.domain import water

    s = services_at_now()
    features = layers.build("water", s.live, s.settings, DISTRICT, NOW)["features"]
    assert len(features) == 8
    for f in features:
        p = f["properties"]
        assert p["grade"] in range(1, 7) and p["label"] == water.LABELS[p["grade"] - 1]
        assert p["meets"] == water.meets(p["grade"], p["target"])
