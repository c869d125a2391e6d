"""Events wiring: the list and statistics from the filters, one event's page, and its action buttons.

The adapters parse inputs, call :class:`~dashboard.events.EventBook` (which checks every transition) and the pure
view functions, and shape outputs; an action the state does not allow comes back as its error message.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Dash, Input, Output, State, ctx, html

from dashboard.auth import record, who_label
from dashboard.domain.lifecycle import InvalidTransition
from dashboard.event_rules import load_catalogue
from dashboard.events import EventBook
from dashboard.events_view import Filters, filter_events, statistics
from dashboard.i18n import request_lang, t
from dashboard.layers import bounds
from dashboard.live import Failed
from dashboard.scope import DISTRICT
from dashboard.services import Services
from dashboard.views import layer_urls
from layouts import events as evt_layout
from layouts import ids


def book_of(services: Services) -> EventBook:
    return EventBook(services.sources.store, load_catalogue(services.settings))


def page(services: Services, lang: str, event_id: str | None) -> html.Section:
    """``/events`` (the list) or ``/events?event=<id>`` (one event)."""
    if not event_id:
        towns = services.live.rows("towns")
        pairs = (
            [] if isinstance(towns, Failed) else list(zip(towns.frame["town_code"], towns.frame["name"], strict=True))
        )
        return evt_layout.list_page(lang, pairs)
    book = book_of(services)
    try:
        row = book.row(event_id)
    except KeyError:
        return evt_layout.not_found(lang, event_id)
    entries = book.entries([event_id])
    raised = next((e for e in entries if e.action == "raise"), None)
    rule = book.catalogue.get(row["rule_id"])
    urls = layer_urls(DISTRICT, services.live, services.settings.choropleth_kpi)
    return evt_layout.event_page(
        lang,
        row,
        rule,
        raised,
        urls,
        bounds(DISTRICT, services.live),
        services.settings.tiles,
        services.settings.events.departments,
    )


def event_of(search: str | None) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs((search or "").lstrip("?")).get("event")
    return values[0] if values else None


def register(app: Dash, services: Services) -> None:
    book = book_of(services)
    departments = {r.id: r.department for r in book.catalogue.rules}

    @app.callback(
        Output(ids.EVT_LIST, "children"),
        Output(ids.EVT_STATS, "children"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.EVT_DOMAIN, "value"),
        Input(ids.EVT_SEVERITY, "value"),
        Input(ids.EVT_STATE, "value"),
        Input(ids.EVT_TOWN, "value"),
        Input(ids.EVT_SINCE, "value"),
    )
    def fill_list(_n: Any, domains: Any, severities: Any, states: Any, town: Any, since: Any) -> Any:
        lang = request_lang(services.settings.language)
        rows = services.live.rows("events")
        if isinstance(rows, Failed):
            failing = html.P(t("health.failing", lang), className="failing", title=rows.error)
            return failing, failing
        filters = Filters(
            tuple(domains or ()), tuple(int(s) for s in severities or ()), tuple(states or ()), town, since or "7d"
        )
        shown = filter_events(rows.frame, filters, services.now())
        records = book.records(shown["event_id"].tolist())
        stats = statistics(shown, records, departments)
        return evt_layout.event_table(shown, records, departments, lang), evt_layout.stats_body(stats, lang)

    @app.callback(
        Output(ids.evt_part(ALL), "children"),
        Output(ids.evt_field(ALL), "value"),
        Input(ids.evt_action(ALL), "n_clicks"),
        Input(ids.evt_check(ALL), "n_clicks"),
        State(ids.evt_field(ALL), "value"),
        State(ids.evt_field(ALL), "id"),
        State(ids.evt_part(ALL), "id"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def act(_a: Any, _c: Any, values: list[Any], field_ids: list[dict], part_ids: list[dict], search: Any) -> Any:
        fields = {f["name"]: v for f, v in zip(field_ids, values, strict=True)}
        trigger = ctx.triggered_id
        clicked = ctx.triggered[0]["value"] if ctx.triggered else None
        event_id = event_of(search)
        if not trigger or not clicked or not event_id:
            return [dash.no_update] * len(part_ids), [dash.no_update] * len(field_ids)
        lang = request_lang(services.settings.language)
        message, ok = perform(
            book,
            event_id,
            dict(trigger),
            fields.get("who") or who_label(),  # typed by the person acting, else the signed-in user
            fields.get("department"),
            fields.get("person"),
            fields.get("note"),
            services.now(),
        )
        if ok:
            action = "check" if trigger.get("type") == "evt-check" else str(trigger.get("action"))
            record(services, f"event.{action}", event_id, who=fields.get("who"), department=fields.get("department"))
        shown = html.Span(t("evt.ok", lang) if ok else message, className="ok" if ok else "error")
        parts = {"message": shown, "body": render_body(book, event_id, lang)}
        cleared = {"note": ""} if ok else {}
        return (
            [parts.get(p["name"], dash.no_update) for p in part_ids],
            [cleared.get(f["name"], dash.no_update) for f in field_ids],
        )

    @app.callback(
        Output(ids.evt_part(ALL), "children", allow_duplicate=True),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.evt_part(ALL), "id"),
        State(ids.URL, "search"),
        prevent_initial_call="initial_duplicate",
    )
    def fill_event(_n: Any, part_ids: list[dict], search: Any) -> Any:
        event_id = event_of(search)
        if not event_id or not part_ids:
            return [dash.no_update] * len(part_ids)
        body = render_body(book, event_id, request_lang(services.settings.language))
        return [body if p["name"] == "body" else dash.no_update for p in part_ids]


def render_body(book: EventBook, event_id: str, lang: str) -> Any:
    """The live part of the event page (state, procedure, history), or "not found"."""
    try:
        row = book.row(event_id)
    except KeyError:
        return html.P(t("evt.notfound", lang))
    return evt_layout.body(book.record(event_id), row["state"], book.catalogue.get(row["rule_id"]), lang)


def perform(
    book: EventBook, event_id: str, trigger: dict[str, Any], who: Any, dept: Any, person: Any, note: Any, now: Any
) -> tuple[str, bool]:
    """Run the clicked action; (error message, False) when the lifecycle refuses it."""
    detail: dict[str, Any] = {}
    if trigger.get("type") == "evt-check":
        item = int(trigger["item"])
        action = "check"
        detail = {"item": item, "done": item not in book.record(event_id).checked}
    else:
        action = str(trigger["action"])
        if action == "dispatch":
            detail = {"department": dept or "", "person": (person or "").strip()}
        elif action == "note":
            detail = {"note": (note or "").strip()}
        elif note and note.strip():
            detail = {"note": note.strip()}  # a note typed before resolving goes with the step
    try:
        book.act(event_id, action, str(who or ""), now, **detail)
    except (InvalidTransition, KeyError) as exc:
        return str(exc).strip("'\""), False
    return "", True
