"""Refresh callbacks answered once per interval for every screen showing the same thing, never a click."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard import callback_cache
from dashboard.callback_cache import HEADER, refresh_key
from layouts import ids


def ticker(n: int | None, search: str = "", changed: str = f"{ids.REFRESH}.n_intervals") -> dict[str, Any]:
    """The overview ticker's callback request, as the page sends it."""
    return {
        "output": f"{ids.TICKER}.children",
        "outputs": {"id": ids.TICKER, "property": "children"},
        "inputs": [{"id": ids.REFRESH, "property": "n_intervals", "value": n}],
        "changedPropIds": [changed],
        "state": [{"id": ids.URL, "property": "search", "value": search}],
    }


def test_screens_on_different_refresh_counts_share_one_key() -> None:
    assert refresh_key(ticker(3), "zh-CN", "v1", "") == refresh_key(ticker(917), "zh-CN", "v1", "")


@pytest.mark.parametrize(
    ("other", "lang", "version", "principal"),
    [
        (ticker(3, "?scope=town:370406103"), "zh-CN", "v1", ""),  # another scope
        (ticker(3), "en", "v1", ""),  # another language
        (ticker(3), "zh-CN", "v2", ""),  # the data moved
        (ticker(3), "zh-CN", "v1", "department:video"),  # someone who may see something else
    ],
)
def test_anything_that_changes_the_answer_changes_the_key(other: Any, lang: str, version: str, principal: str) -> None:
    assert refresh_key(ticker(3), "zh-CN", "v1", "") != refresh_key(other, lang, version, principal)


@pytest.mark.parametrize(
    "body",
    [
        ticker(3, changed=f"{ids.URL}.search"),  # navigation
        {**ticker(3), "changedPropIds": [f"{ids.REFRESH}.n_intervals", "evt-filter-domain.value"]},  # a filter too
        {**ticker(3), "changedPropIds": []},  # the initial call
        {**ticker(3), "changedPropIds": None},
        "not an object",
        None,
    ],
)
def test_only_a_refresh_alone_is_cacheable(body: Any) -> None:
    assert refresh_key(body, "zh-CN", "v1", "") is None


def test_a_wall_of_screens_costs_one_computation_until_the_data_moves(app_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import callbacks.overview as overview

    app = app_at_now()
    calls: list[int] = []
    real = overview.ticker_items
    monkeypatch.setattr(overview, "ticker_items", lambda *a, **k: calls.append(1) or real(*a, **k))
    client = app.server.test_client()
    path = "/_dash-update-component"

    first = client.post(path, json=ticker(1))
    assert first.status_code == 200 and first.headers[HEADER] == "miss"
    for n in range(2, 12):  # ten more screens in the same interval
        again = client.post(path, json=ticker(n))
        assert again.headers[HEADER] == "hit" and again.get_data() == first.get_data()
    assert len(calls) == 1

    other_scope = client.post(path, json=ticker(1, "?scope=town:370406103"))
    assert other_scope.headers[HEADER] == "miss" and len(calls) == 2

    clicked = client.post(path, json=ticker(1, changed=f"{ids.URL}.search"))  # a navigation always computes
    assert HEADER not in clicked.headers and len(calls) == 3

    services = app.server.extensions["shanting.services"]
    store = services.sources.store
    cameras = store.read("cameras").frame
    store.write("cameras", cameras.head(3).assign(status="offline"), origin="test")  # a write moves a version
    services.cache.delete("live-versions")  # as one second of wall time does
    moved = client.post(path, json=ticker(99))
    assert moved.headers[HEADER] == "miss" and len(calls) == 4


def test_errors_are_not_kept(app_at_now, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import callbacks.overview as overview

    app = app_at_now()
    client = app.server.test_client()
    broken = lambda *a, **k: 1 / 0  # noqa: E731
    monkeypatch.setattr(overview, "ticker_items", broken)
    app.server.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/_dash-update-component", json=ticker(1)).status_code == 500
    monkeypatch.undo()
    healed = client.post("/_dash-update-component", json=ticker(2))
    assert healed.status_code == 200 and healed.headers[HEADER] == "miss"


def test_the_cache_sits_after_every_other_hook() -> None:
    """It answers before Dash: a hook registered after it (an access check) would never see a cached answer."""
    from flask import Flask
    from flask_caching import Cache

    server = Flask("t")
    callback_cache.register(server, Cache(server, config={"CACHE_TYPE": "SimpleCache"}), lambda: "v", 5, "zh-CN")
    assert server.before_request_funcs[None][-1].__name__ == "answer_from_cache"
