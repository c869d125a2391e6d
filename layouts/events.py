"""事件应对处置: the event list with filters and statistics (``/events``), and one event's page
(``/events?event=<id>``): where it is on the map, the data that triggered it, its procedure, actions and history.

Pure builders of components from computed values; the callbacks in ``callbacks/events.py`` fill the bodies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import dash_leaflet as dl
from dash import dcc, html

from dashboard.domain.lifecycle import OPEN_STATES, STATES, Entry, Record
from dashboard.domain.rules import Rule
from dashboard.events_view import SINCE, Statistics, fmt_duration
from dashboard.i18n import t
from dashboard.settings import TileLayerSettings
from dashboard.timeutil import fmt
from layouts import ids
from layouts.map import choropleth_select, district_map

PATH = "/events"
DOMAINS = ("environment", "tourism", "video", "transport", "system")
#: Overlays switched on under an event: the areas and nothing that hides the event's marker.
EVENT_LAYERS = frozenset({"towns"})
BUTTONS = ("acknowledge", "dispatch", "start", "resolve", "close", "reopen")


def event_href(event_id: str) -> str:
    return f"{PATH}?event={quote(event_id)}"


def _options(prefix: str, values: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    return [{"label": t(f"{prefix}.{v}", lang), "value": v} for v in values]


def _filter(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component.id), component], className="evt-filter")


def list_page(lang: str, towns: Sequence[tuple[str, str]]) -> html.Section:
    """The list page's frame: filters, the list and the statistics (bodies filled by the callback)."""
    filters = html.Div(
        className="evt-filters",
        children=[
            _filter(
                t("evt.filter.domain", lang),
                dcc.Dropdown(id=ids.EVT_DOMAIN, options=_options("evt.domain", DOMAINS, lang), multi=True),
            ),
            _filter(
                t("evt.filter.severity", lang),
                dcc.Dropdown(id=ids.EVT_SEVERITY, options=_options("evt.sev", (4, 3, 2, 1), lang), multi=True),
            ),
            _filter(
                t("evt.filter.state", lang),
                dcc.Dropdown(id=ids.EVT_STATE, options=_options("evt.state", STATES, lang), multi=True),
            ),
            _filter(
                t("evt.filter.town", lang),
                dcc.Dropdown(id=ids.EVT_TOWN, options=[{"label": name, "value": code} for code, name in towns]),
            ),
            _filter(
                t("evt.filter.since", lang),
                dcc.Dropdown(
                    id=ids.EVT_SINCE, options=_options("evt.since", tuple(SINCE), lang), value="7d", clearable=False
                ),
            ),
        ],
    )
    return html.Section(
        className="events event-list-page",
        children=[
            html.H2(t("evt.title", lang), className="scene-title"),
            filters,
            html.Div(
                className="evt-columns",
                children=[
                    html.Section(
                        [html.H3(t("evt.list", lang), className="panel-title"), html.Div(id=ids.EVT_LIST)],
                        className="panel evt-list",
                    ),
                    html.Section(
                        [html.H3(t("evt.stats", lang), className="panel-title"), html.Div(id=ids.EVT_STATS)],
                        className="panel evt-stats",
                    ),
                ],
            ),
        ],
    )


def severity_badge(severity: int, lang: str) -> html.Span:
    return html.Span(t(f"evt.sev.{severity}", lang), className=f"evt-sev sev-{severity}")


def state_badge(state: str, lang: str) -> html.Span:
    return html.Span(t(f"evt.state.{state}", lang), className=f"evt-state state-{state}", **ids.data_attrs(state=state))


def event_table(events: Any, records: Mapping[str, Record], departments: Mapping[str, str], lang: str) -> Any:
    """The filtered events as a table; each title links to the event's page."""
    if events.empty:
        return html.P(t("evt.none", lang), className="evt-none")
    head = html.Tr([html.Th(t(f"evt.col.{c}", lang)) for c in ("time", "severity", "title", "state", "department")])
    rows = []
    for e in events.head(200).itertuples(index=False):
        rec = records.get(e.event_id)
        dept = (rec.department if rec else None) or departments.get(e.rule_id, "—")
        escalated = (
            html.Span(t("evt.escalated", lang), className="evt-escalated")
            if rec and rec.escalations and e.state == "new"
            else None
        )
        rows.append(
            html.Tr(
                [
                    html.Td(fmt(e.ts)),
                    html.Td(severity_badge(int(e.severity), lang)),
                    html.Td([dcc.Link(e.title, href=event_href(e.event_id), className="evt-link"), escalated]),
                    html.Td(state_badge(e.state, lang)),
                    html.Td(dept),
                ],
                className="evt-row" + (" open" if e.state in OPEN_STATES else ""),
                **ids.data_attrs(event=e.event_id),
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="evt-table")


def stats_body(stats: Statistics, lang: str) -> list[Any]:
    figures = [
        ("count", str(stats.count)),
        ("open", str(stats.open)),
        ("escalated", str(stats.escalated)),
        ("ack", fmt_duration(stats.mean_acknowledge, lang)),
        ("resolve", fmt_duration(stats.mean_resolve, lang)),
    ]
    cards = html.Div(
        [
            html.Div(
                [
                    html.Span(value, className="evt-figure-value"),
                    html.Span(t(f"evt.stats.{key}", lang), className="evt-figure-label"),
                ],
                className="evt-figure",
                **ids.data_attrs(stat=key),
            )
            for key, value in figures
        ],
        className="evt-figures",
    )
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "evt.col.department",
                "evt.stats.count",
                "evt.stats.open",
                "evt.stats.resolved",
                "evt.stats.resolve",
            )
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(d.department),
                html.Td(d.count),
                html.Td(d.open),
                html.Td(d.resolved),
                html.Td(fmt_duration(d.mean_resolve, lang)),
            ],
            **ids.data_attrs(department=d.department),
        )
        for d in stats.by_department
    ]
    return [
        cards,
        html.H4(t("evt.stats.by_department", lang)),
        html.Table([html.Thead(head), html.Tbody(rows)], className="evt-table evt-dept"),
    ]


# ---- one event -------------------------------------------------------------------------------------


def event_page(
    lang: str,
    row: Mapping[str, Any],
    rule: Rule | None,
    raised: Entry | None,
    urls: Mapping[str, str],
    bounds: list[list[float]],
    tiles: TileLayerSettings | None,
    departments: Sequence[str],
    choropleth: str = "working_rate",
) -> html.Section:
    """One event: header, map with its location, triggering data, the actions and the live body (state, procedure,
    history) that the callback fills."""
    the_map = district_map(lang, urls, bounds, tiles, shown=EVENT_LAYERS)
    if row.get("lon") is not None and row.get("lat") is not None:
        the_map.children.append(dl.CircleMarker(center=[row["lat"], row["lon"]], radius=14, className="evt-marker"))
    return html.Section(
        className="events event-page",
        **ids.data_attrs(event=str(row["event_id"])),
        children=[
            dcc.Link(t("evt.back", lang), href=PATH, className="crumb"),
            html.H2([severity_badge(int(row["severity"]), lang), " ", row["title"]], className="scene-title evt-title"),
            html.Div(
                className="evt-columns",
                children=[
                    html.Div(
                        className="evt-main",
                        children=[
                            html.Div([the_map], className="map-wrap evt-map"),
                            # Every map scene has the 镇街 colouring select: the shared layer refresh reads it.
                            html.Div(choropleth_select(lang, choropleth), className="map-controls"),
                            html.Section(
                                [html.H3(t("evt.trigger", lang), className="panel-title"), trigger(raised, rule, lang)],
                                className="panel evt-trigger",
                            ),
                        ],
                    ),
                    html.Div(
                        className="evt-side",
                        children=[
                            html.Section(
                                [
                                    html.H3(t("evt.actions", lang), className="panel-title"),
                                    actions(lang, rule, departments),
                                ],
                                className="panel",
                            ),
                            html.Div(id=ids.evt_part("body"), className="evt-body"),
                        ],
                    ),
                ],
            ),
        ],
    )


def trigger(raised: Entry | None, rule: Rule | None, lang: str) -> Any:
    """The condition and the samples that raised the event (from its first log entry)."""
    detail = raised.detail if raised else {}
    samples = detail.get("samples") or []
    if not samples:
        return html.P(t("evt.trigger.none", lang), className="evt-none")
    unit = rule.unit if rule else ""
    shown = [
        (fmt(_time(at)), f"{100 * v:.1f}%" if unit == "%" and v is not None else "—" if v is None else f"{v:.4g}{unit}")
        for at, v in samples
    ]
    return html.Div(
        [
            html.P(
                [html.B(t("evt.condition", lang) + "："), str(detail.get("condition", ""))], className="evt-condition"
            ),
            html.Table(
                [html.Tbody([html.Tr([html.Td(a), html.Td(v)]) for a, v in shown])], className="evt-table evt-samples"
            ),
        ]
    )


def _time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def actions(lang: str, rule: Rule | None, departments: Sequence[str]) -> html.Div:
    default = rule.department if rule else None
    return html.Div(
        className="evt-actions",
        children=[
            html.Label(t("evt.who", lang)),
            dcc.Input(
                id=ids.evt_field("who"), value="operator", type="text", maxLength=80, className="evt-input evt-who"
            ),
            html.Label(t("evt.department", lang)),
            dcc.Dropdown(
                id=ids.evt_field("department"),
                className="evt-department",
                options=[
                    {"label": d, "value": d} for d in dict.fromkeys([*([default] if default else []), *departments])
                ],
                value=default,
                clearable=False,
            ),
            html.Label(t("evt.person", lang)),
            dcc.Input(
                id=ids.evt_field("person"), value="", type="text", maxLength=80, className="evt-input evt-person"
            ),
            html.Div(
                [
                    html.Button(
                        t(f"evt.act.{a}", lang), id=ids.evt_action(a), className=f"evt-button act-{a}", n_clicks=0
                    )
                    for a in BUTTONS
                ],
                className="evt-buttons",
            ),
            html.Label(t("evt.note", lang)),
            dcc.Textarea(id=ids.evt_field("note"), value="", className="evt-input evt-note"),
            html.Button(
                t("evt.act.note", lang), id=ids.evt_action("note"), className="evt-button act-note", n_clicks=0
            ),
            html.Div(id=ids.evt_part("message"), className="evt-message", role="status"),
        ],
    )


def body(record: Record, state: str, rule: Rule | None, lang: str) -> list[Any]:
    """The live part of the event page: state and times, the procedure with its ticks, the history."""
    times = [
        html.Li(
            [
                t(f"evt.state.{s}", lang),
                "：",
                fmt(record.times.get(s)),
                f"（{record.who.get(s, '')}）" if s in record.who else "",
            ]
        )
        for s in STATES[1:]
        if s in record.times
    ]
    dept = (
        [
            html.P(
                [t("evt.department", lang), "：", record.department, f" / {record.person}" if record.person else ""],
                className="evt-dept-line",
            )
        ]
        if record.department
        else []
    )
    steps = rule.procedure if rule else ()
    procedure = [
        html.Li(
            [
                html.Button(
                    "☑" if i in record.checked else "☐",
                    id=ids.evt_check(i),
                    className="evt-check" + (" done" if i in record.checked else ""),
                    title=t("evt.done" if i in record.checked else "evt.todo", lang),
                    n_clicks=0,
                ),
                step,
            ],
            className="evt-step",
        )
        for i, step in enumerate(steps)
    ]
    return [
        html.Section(
            [
                html.H3(t("evt.filter.state", lang), className="panel-title"),
                html.P(
                    [
                        state_badge(state, lang),
                        html.Span(t("evt.escalated", lang), className="evt-escalated") if record.escalations else None,
                    ]
                ),
                *dept,
                html.Ul(times, className="evt-times"),
            ],
            className="panel",
        ),
        html.Section(
            [html.H3(t("evt.procedure", lang), className="panel-title"), html.Ol(procedure, className="evt-procedure")],
            className="panel",
        ),
        html.Section(
            [html.H3(t("evt.history", lang), className="panel-title"), history(record.entries, lang)],
            className="panel",
            id=ids.EVT_HISTORY,
        ),
    ]


def history(entries: Sequence[Entry], lang: str) -> html.Ol:
    items = []
    for e in reversed(entries):
        what = t(f"evt.act.{e.action}", lang) if f"evt.act.{e.action}" in _KNOWN else e.action
        extra = []
        if e.detail.get("department"):
            extra.append(f"→ {e.detail['department']}" + (f" / {e.detail['person']}" if e.detail.get("person") else ""))
        if e.detail.get("note"):
            extra.append(f"“{e.detail['note']}”")
        if e.action == "check":
            extra.append(f"#{int(e.detail.get('item', 0)) + 1} {'✓' if e.detail.get('done', True) else '✗'}")
        items.append(
            html.Li(
                [html.Span(fmt(e.at), className="evt-when"), html.B(e.who), " ", what, " ", " ".join(extra)],
                className=f"evt-entry act-{e.action}",
            )
        )
    return html.Ol(items, className="evt-history")


def not_found(lang: str, event_id: str) -> html.Section:
    return html.Section(
        className="placeholder",
        children=[
            html.H2(t("evt.notfound", lang), className="scene-title"),
            html.P(event_id),
            dcc.Link(t("evt.back", lang), href=PATH, className="crumb"),
        ],
    )


def _known() -> frozenset[str]:
    from dashboard.i18n import TEXT

    return frozenset(TEXT)


_KNOWN = _known()
