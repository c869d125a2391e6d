"""The overview's callbacks as functions: what a click on the map drills to."""

from __future__ import annotations

import dash
import pytest

from callbacks.overview import drill_target


@pytest.mark.parametrize(
    ("layer", "props", "search"),
    [
        ("towns", {"code": "370406103"}, "?scope=town:370406103"),
        ("villages", {"code": "370406103005"}, "?scope=village:370406103005"),
        ("cameras", {"id": "cam-000001", "status": "online"}, "?scope=asset:cameras:cam-000001"),
        ("air", {"id": "air-03"}, "?scope=asset:air_stations:air-03"),
        ("water", {"id": "wq-01"}, "?scope=asset:water_sections:wq-01"),
        ("scenic", {"id": "spot-01"}, "?scope=asset:scenic_spots:spot-01"),
        ("segments", {"id": "seg-0001"}, "?scope=asset:road_segments:seg-0001"),
    ],
)
def test_a_click_drills_to_the_feature(layer: str, props: dict, search: str) -> None:
    assert drill_target(layer, props) == search


@pytest.mark.parametrize(("layer", "props"), [("accidents", {"n": 3}), ("buses", {"id": "bus-1"}), ("towns", {})])
def test_a_click_on_something_without_a_scope_does_nothing(layer: str, props: dict) -> None:
    # A clustered camera icon has no id: clicking it zooms, it does not drill.
    assert drill_target(layer, props) is dash.no_update
