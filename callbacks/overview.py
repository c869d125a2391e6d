"""Overview wiring: all tiles from one pattern-matching callback, layer URLs that
change only with their data, map clicks that drill down, the event ticker."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import dash
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html

from dashboard.domain.lifecycle import OPEN_STATES
from dashboard.i18n import request_lang, t
from dashboard.live import Failed
from dashboard.scope import ASSET_FEEDS, DISTRICT, Scope, ScopeError, ScopeNotFound
from dashboard.services import Services
from dashboard.timeutil import fmt
from dashboard.views import layer_urls, resolve
from layouts import ids
from layouts.events import event_href
from layouts.kpi import tile_body

#: Clicking a feature of these layers drills to that asset.
CLICK_ASSET = {
    "cameras": "cameras",
    "air": "air_stations",
    "water": "water_sections",
    "scenic": "scenic_spots",
    "segments": "road_segments",
    "blindspots": "key_places",  # uncovered places carry an id; blind cells do not
}


def scope_of(search: str | None, services: Services) -> Scope | None:
    """The scope in a URL query string; None when it is bad (the page says why)."""
    values = parse_qs((search or "").lstrip("?")).get("scope")
    try:
        return resolve(values[0] if values else None, services.live)
    except (ScopeError, ScopeNotFound):
        return None


def register(app: Dash, services: Services) -> None:
    @app.callback(
        Output(ids.kpi(ALL), "children"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
        State(ids.kpi(ALL), "id"),
    )
    def fill_tiles(_n: int | None, search: str | None, tile_ids: list[dict[str, str]]) -> list[Any]:
        scope = scope_of(search, services)
        if scope is None:
            return [dash.no_update] * len(tile_ids)
        lang = request_lang(services.settings.language)
        by_id = {tile.spec.id: tile for tile in services.tiles(scope)}
        return [tile_body(by_id[i["metric"]], lang) for i in tile_ids]

    @app.callback(
        Output(ids.layer(ALL), "url"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.CHOROPLETH_KPI, "value"),
        State(ids.URL, "search"),
        State(ids.layer(ALL), "url"),
        State(ids.layer(ALL), "id"),
        prevent_initial_call=True,
    )
    def refresh_layers(
        _n: int | None, kpi: str, search: str | None, urls: list[str], layer_ids: list[dict]
    ) -> list[Any]:
        scope = scope_of(search, services) or DISTRICT
        fresh = layer_urls(scope, services.live, kpi or services.settings.choropleth_kpi)
        # Unchanged URLs are not sent again, so the browser refetches nothing.
        return [
            dash.no_update if fresh[i["name"]] == old else fresh[i["name"]]
            for i, old in zip(layer_ids, urls, strict=True)
        ]

    @app.callback(
        Output(ids.URL, "search"),
        Input(ids.layer(ALL), "clickData"),
        prevent_initial_call=True,
    )
    def drill(_clicks: list[Any]) -> Any:
        trigger = ctx.triggered_id
        feature = ctx.triggered[0]["value"] if ctx.triggered else None
        if not trigger or not feature:
            return dash.no_update
        return drill_target(trigger["name"], feature.get("properties") or {})

    @app.callback(Output(ids.TICKER, "children"), Input(ids.REFRESH, "n_intervals"), State(ids.URL, "search"))
    def ticker(_n: int | None, search: str | None) -> Any:
        scope = scope_of(search, services) or DISTRICT
        return ticker_items(services, scope, request_lang(services.settings.language))


def drill_target(layer: str, props: dict[str, Any]) -> Any:
    """The query string a click on ``layer``'s feature leads to (pure)."""
    if layer == "towns" and props.get("code"):
        return f"?scope=town:{props['code']}"
    if layer == "villages" and props.get("code"):
        return f"?scope=village:{props['code']}"
    feed = CLICK_ASSET.get(layer)
    if feed and props.get("id") and feed in ASSET_FEEDS:
        return f"?scope=asset:{feed}:{props['id']}"
    return dash.no_update


def ticker_items(services: Services, scope: Scope, lang: str) -> list[Any]:
    rows = services.live.rows("events")
    if isinstance(rows, Failed):
        return [html.Span(t("health.failing", lang), className="ticker-item failing", title=rows.error)]
    events = rows.frame
    if scope.town_code:
        events = events.loc[events["town_code"] == scope.town_code]
    # Open events first (most severe, newest), then the latest handled ones; each links to its event page.
    events = events.assign(_open=events["state"].isin(OPEN_STATES))
    events = events.sort_values(["_open", "severity", "ts"], ascending=False).head(12)
    if events.empty:
        return [html.Span(t("ticker.none", lang), className="ticker-item none")]
    return [
        dcc.Link(
            [html.B(fmt(e.ts), className="ticker-time"), e.title],
            href=event_href(e.event_id),
            className=f"ticker-item sev-{e.severity} state-{e.state}",
        )
        for e in events.itertuples(index=False)
    ]
