"""Health strip (every screen) and the feed table (the data page)."""

from __future__ import annotations

from collections.abc import Collection

from dash import html

from dashboard.health import FeedHealth, Snapshot, worst
from dashboard.i18n import t
from dashboard.timeutil import fmt, fmt_age, local
from datasources.contracts import CONTRACTS
from layouts import ids

DOMAINS = ("transport", "video", "environment", "tourism", "rating", "events", "geo")


def strip(snapshot: Snapshot, lang: str, domains: Collection[str] | None = None) -> list[html.Span]:
    """One chip per domain (of ``domains``; None: every one), coloured by its worst feed; hover lists the feeds."""
    groups = snapshot.by_domain()
    chips = [html.Span(t("health.title", lang), className="strip-title")]
    for domain in (d for d in DOMAINS if domains is None or d in domains):
        feeds = groups.get(domain, [])
        state = worst([f.state for f in feeds])
        newest = max((f.last_update for f in feeds if f.last_update), default=None)
        chips.append(
            html.Span(
                className=f"chip state-{state}",
                title="\n".join(_feed_line(f, lang) for f in feeds),
                **ids.data_attrs(domain=domain, state=state),
                children=[
                    html.Span(className="dot"),
                    html.Span(t(f"domain.{domain}", lang), className="chip-name"),
                    html.Span(_chip_detail(state, newest, feeds, lang), className="chip-detail"),
                ],
            )
        )
    return chips


def _chip_detail(state: str, newest: object, feeds: list[FeedHealth], lang: str) -> str:
    if state in ("failing", "stale", "empty"):
        return t(f"health.{state}", lang)
    rejected = sum(f.rejected for f in feeds)
    when = local(newest).strftime("%H:%M") if newest else ""  # type: ignore[arg-type]
    return f"{when} · {rejected} {t('health.rejected', lang)}" if rejected else when


def _feed_line(f: FeedHealth, lang: str) -> str:
    title = _title(f.feed, lang)
    line = f"{title}: {t(f'health.{f.state}', lang)}, {t('health.updated', lang)} {fmt(f.last_update)}"
    if f.problem:
        line += f" — {f.problem}"
    return line


def _title(feed: str, lang: str) -> str:
    spec = CONTRACTS[feed]
    return spec.title_en if lang == "en" else spec.title_zh


def feed_table(snapshot: Snapshot, lang: str) -> html.Table:
    """Every feed with its source, state, newest data time, limit and rejections."""
    head = [
        "data.feed",
        "data.domain",
        "data.source",
        "data.state",
        "data.last",
        "data.age",
        "data.limit",
        "data.rejected",
    ]
    rows = [
        html.Tr(
            className=f"row-{f.state}",
            **ids.data_attrs(feed=f.feed),
            children=[
                html.Td([html.Span(_title(f.feed, lang)), html.Code(f.feed, className="feed-code")]),
                html.Td(t(f"domain.{f.domain}", lang)),
                html.Td(f.source),
                html.Td(
                    html.Span(t(f"health.{f.state}", lang), className=f"badge state-{f.state}", title=f.problem or "")
                ),
                html.Td(fmt(f.last_update)),
                html.Td(fmt_age(f.age_s, lang)),
                html.Td(fmt_age_limit(f.max_age_s, lang)),
                html.Td(str(f.rejected), className="num" + (" warn" if f.rejected else "")),
            ],
        )
        for f in sorted(snapshot.feeds, key=lambda f: (DOMAINS.index(f.domain), f.feed))
    ]
    return html.Table(
        className="feed-table",
        children=[html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])), html.Tbody(rows)],
    )


def fmt_age_limit(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "—"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:g} 分钟" if lang == "zh-CN" else f"{minutes:g} min"
    return f"{minutes / 60:g} 小时" if lang == "zh-CN" else f"{minutes / 60:g} h"
