"""Scope parsing: strict, with 400 for malformed and 404 for unknown."""

from __future__ import annotations

import pytest

from dashboard.scope import DISTRICT, Scope, ScopeError, href, parse


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        (None, DISTRICT),
        ("", DISTRICT),
        ("district", DISTRICT),
        ("town:370406103", Scope("town", "370406103")),
        ("village:370406103005", Scope("village", "370406103005")),
        ("asset:cameras:cam-000001", Scope("asset", "cam-000001", "cameras")),
    ],
)
def test_parse(text: str | None, scope: Scope) -> None:
    assert parse(text) == scope
    assert parse(scope.key) == scope


@pytest.mark.parametrize(
    "text",
    [
        "town:999",
        "town:370406103 OR 1=1",
        "village:370406103",
        "asset:weather:x",
        "asset:cameras:<script>",
        "county:370406",
        "town:370406103'; DROP TABLE towns;--",
    ],
)
def test_malformed_scopes_are_rejected_with_the_expected_forms(text: str) -> None:
    with pytest.raises(ScopeError, match="expected"):
        parse(text)


def test_town_of_a_village_and_links() -> None:
    assert parse("village:370406103005").town_code == "370406103"
    assert href("/", DISTRICT) == "/"
    assert href("/video", parse("town:370406103")) == "/video?scope=town%3A370406103"
