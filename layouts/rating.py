"""星级评估: the standing and the planner on the left, the indicator tree (domain → indicator → department) in the
centre, the department drill, the task table and the imports on the right.

:func:`rating` builds the frame (pure); the scene callbacks fill each panel with the builders below from one
:class:`~dashboard.rating_view.RatingView`. The department drill is in the URL (``/rating?dept=区交通运输局``), so
the browser's back button walks back up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import dcc, html

from dashboard.domain.rating import MAX_STAR, Evaluation, IndicatorResult, Plan, Step
from dashboard.i18n import t
from dashboard.live import Failed
from dashboard.rating_view import DepartmentTasks, Derived, RatingView, TaskRow, department_results, domain_stars
from dashboard.timeutil import local
from layouts import ids

PATH = "/rating"
#: The evaluation as a table (every indicator, the composite first).
EXPORT = "/export/rating.csv"
IMPORT_KINDS = ("catalogue", "values", "tasks")
#: The scene's panels a refresh fills, in the order the callback returns them.
OUTPUTS = (
    (ids.RAT_STANDING, "children"),
    (ids.RAT_TREE, "children"),
    (ids.RAT_DEPT, "children"),
    (ids.RAT_TASKS, "children"),
    (ids.RAT_FORM_TASK, "options"),
)


def dept_of(search: str | None) -> str | None:
    """The department drilled into, from the URL's ``dept``."""
    values = parse_qs((search or "").lstrip("?")).get("dept")
    return values[0] if values and values[0] else None


def dept_href(department: str | None) -> str:
    return f"{PATH}?{urlencode({'dept': department})}" if department else PATH


# ---- the frame ------------------------------------------------------------------------------------------


def rating(lang: str, target: int, exports: bool = False) -> html.Section:
    """The scene's frame: every panel with an empty body the callbacks fill; ``exports``: the indicator table's
    download link (for those who may export the rating)."""
    download = html.A(t("export.csv", lang), id=ids.EXPORT_CSV, className="export", href=EXPORT) if exports else None
    return html.Section(
        className="rat",
        **ids.data_attrs(scene="rating"),
        children=[
            html.Div(
                className="rat-side rat-left",
                children=[
                    _panel(t("rat.panel.standing", lang), ids.RAT_STANDING, "rat-standing", t("rat.assumed", lang)),
                    _planner(lang, target),
                ],
            ),
            html.Div(
                className="rat-centre",
                children=[
                    _panel(t("rat.panel.tree", lang), ids.RAT_TREE, "rat-tree", t("rat.tree.note", lang), download)
                ],
            ),
            html.Div(
                className="rat-side rat-right",
                children=[
                    _panel(t("rat.panel.dept", lang), ids.RAT_DEPT, "rat-dept"),
                    _panel(t("rat.panel.tasks", lang), ids.RAT_TASKS, "rat-tasks"),
                    _imports(lang),
                ],
            ),
        ],
    )


def _panel(title: str, body_id: str, cls: str, note: str = "", tools: Any = None) -> html.Section:
    return html.Section(
        className=f"panel {cls}",
        children=[
            html.H3([title, html.Span(note, className="rat-note") if note else None, tools], className="panel-title"),
            html.Div(id=body_id, className="rat-body", children=html.Span("…", className="rat-dim")),
        ],
    )


def _planner(lang: str, target: int) -> html.Section:
    choose = dcc.Dropdown(
        id=ids.RAT_TARGET,
        options=[{"label": f"{k}★", "value": k} for k in range(1, MAX_STAR + 1)],
        value=target,
        clearable=False,
        searchable=False,
        className="rat-target",
    )
    return _panel(t("rat.panel.plan", lang), ids.RAT_PLAN, "rat-plan", tools=choose)


def _imports(lang: str) -> html.Section:
    return html.Section(
        className="panel rat-imports",
        children=[
            html.H3(t("rat.panel.import", lang), className="panel-title"),
            dcc.RadioItems(
                id=ids.RAT_IMPORT_KIND,
                options=[{"label": t(f"rat.import.{k}", lang), "value": k} for k in IMPORT_KINDS],
                value="tasks",
                inline=True,
                className="rat-kinds",
            ),
            dcc.Upload(
                id=ids.RAT_UPLOAD,
                children=html.Div(t("rat.import.drop", lang)),
                className="rat-upload",
                accept=".csv,.xlsx",
            ),
            html.Div(id=ids.RAT_IMPORT_MSG, className="rat-import-msg"),
            _form(lang),
        ],
    )


def _form(lang: str) -> html.Div:
    """One task's progress typed in (the same checks as an upload)."""
    statuses = [
        {"label": t(f"rat.status.{s}", lang), "value": s} for s in ("not_started", "in_progress", "done", "blocked")
    ]
    cell = "rat-form-cell "
    return html.Div(
        className="rat-form",
        children=[
            html.Div(
                dcc.Dropdown(id=ids.RAT_FORM_TASK, options=[], placeholder=t("rat.form.task", lang)),
                className=cell + "rat-form-task",
            ),
            html.Div(
                dcc.Dropdown(id=ids.RAT_FORM_STATUS, options=statuses, value="in_progress", clearable=False),
                className=cell + "rat-form-status",
            ),
            html.Div(
                dcc.Input(id=ids.RAT_FORM_PERCENT, type="number", min=0, max=100, placeholder="% 0–100"),
                className=cell + "rat-form-pct",
            ),
            html.Div(
                dcc.Input(id=ids.RAT_FORM_NOTE, placeholder=t("rat.form.note", lang)), className=cell + "rat-form-note"
            ),
            html.Div(
                dcc.Input(id=ids.RAT_FORM_EVIDENCE, placeholder=t("rat.form.evidence", lang)),
                className=cell + "rat-form-ev",
            ),
            html.Button(t("rat.form.submit", lang), id=ids.RAT_FORM_SUBMIT, className="export rat-form-submit"),
            html.Div(id=ids.RAT_FORM_MSG, className="rat-import-msg"),
        ],
    )


def task_options(view: RatingView) -> list[dict[str, str]]:
    """The form's task choices: every task with its department."""
    if isinstance(view.tasks, Failed):
        return []
    return [
        {"label": f"{r.task_id} {r.department} {r.title}", "value": r.task_id}
        for r in sorted(view.tasks, key=lambda r: r.task_id)
    ]


# ---- panels ---------------------------------------------------------------------------------------------


def failing(lang: str) -> html.Div:
    return html.Div(t("health.failing", lang), className="rat-failing")


def stars(n: int) -> html.Span:
    """★ filled to ``n`` of five."""
    return html.Span(
        [html.Span("★" * n, className="rat-on"), html.Span("★" * (MAX_STAR - n), className="rat-off")],
        className="rat-stars",
        title=f"{n}/{MAX_STAR}",
    )


def standing(view: RatingView, lang: str) -> Any:
    """The district's star and composite, the gap to the next star, and what is missing or stale."""
    ev = view.evaluation
    if isinstance(ev, Failed):
        return failing(lang)
    if ev.composite_gap is None:
        gap = t("rat.top", lang)
    elif ev.composite_gap <= 0:  # the composite is there; only the mandatory rule holds the star
        gap = t("rat.gap.held", lang).format(star=ev.star + 1)
    else:
        gap = t("rat.gap", lang).format(star=ev.star + 1, gap=f"{ev.composite_gap:.2f}")
    held = [html.Div(t("rat.held", lang).format(ids="、".join(ev.held_by)), className="rat-held")] if ev.held_by else []
    return html.Div(
        className="rat-standing-body",
        children=[
            html.Div(className="rat-badge", children=[html.Span(f"{ev.star}", className="rat-big"), stars(ev.star)]),
            html.Div(
                [
                    html.Span(t("rat.composite", lang), className="rat-dim"),
                    html.Span(f"{ev.composite:.2f}", className="rat-composite"),
                    html.Span(t("rat.parts", lang).format(core=f"{ev.core:.2f}", bonus=f"{ev.bonus:.2f}")),
                ],
                className="rat-line",
            ),
            html.Div(gap, className="rat-line rat-gap"),
            *held,
            html.Div(
                t("rat.missing", lang).format(
                    missing=len(ev.missing), stale=len(ev.stale), bare=len(ev.undocumented), period=ev.period or "—"
                ),
                className="rat-line rat-dim",
            ),
            html.Div(t("rat.sample", lang), className="rat-sample") if ev.sample else None,
            _derived(view.derived, lang),
        ],
    )


def _derived(derived: tuple[Derived, ...], lang: str) -> Any:
    if not derived:
        return None
    items = [f"{d.indicator_id} ← {t(f'scene.{d.source}', lang)} {d.value:g}" for d in derived]
    return html.Div(t("rat.derived", lang) + "；".join(items), className="rat-line rat-dim rat-derived")


def _value(r: IndicatorResult) -> str:
    return "—" if r.value is None else f"{r.value:g}{r.indicator.unit if r.indicator.unit != '%' else '%'}"


def _indicator_row(r: IndicatorResult, lang: str, derived: set[str], mixed: bool) -> html.Tr:
    """One indicator; ``mixed``: the catalogue mixes sample and official rows, so each sample row says so
    (an all-sample catalogue says it once, in the standing)."""
    ind = r.indicator
    tags = [
        html.Span(t("rat.tag.mandatory", lang), className="rat-tag rat-tag-m") if ind.mandatory else None,
        html.Span(t("rat.tag.sample", lang), className="rat-tag") if ind.sample and mixed else None,
        html.Span(t("rat.tag.auto", lang), className="rat-tag rat-tag-a") if ind.id in derived else None,
        html.Span(t("rat.tag.stale", lang), className="rat-tag rat-tag-s") if r.stale else None,
        html.Span(t("rat.tag.bare", lang), className="rat-tag rat-tag-s")
        if r.value is not None and not r.evidence.strip()
        else None,
    ]
    gap = "—" if r.gap is None else f"{r.gap:g}"
    nxt = (
        "—"
        if r.next_threshold is None
        else f"{r.next_star}★ {'≥' if ind.direction == 'higher' else '≤'} {r.next_threshold:g}"
    )
    return html.Tr(
        className="rat-row" + (" rat-missing" if r.value is None else ""),
        **ids.data_attrs(indicator=ind.id),
        children=[
            html.Td(ind.id, className="rat-id"),
            html.Td(
                html.Div(
                    [html.Span(ind.name, className="rat-name", title=ind.evidence), *tags], className="rat-name-box"
                ),
                className="rat-name-cell",
            ),
            html.Td(_value(r), className="num"),
            html.Td(stars(r.star)),
            html.Td(nxt, className="num"),
            html.Td(gap, className="num"),
            html.Td(dcc.Link(ind.department, href=dept_href(ind.department), className="rat-link rat-dept-link")),
        ],
    )


def tree(view: RatingView, lang: str) -> Any:
    """Domain → indicator → department: one foldable block per domain with its mean star."""
    ev = view.evaluation
    if isinstance(ev, Failed):
        return failing(lang)
    derived = {d.indicator_id for d in view.derived}
    means = domain_stars(ev)
    mixed = ev.sample and not all(r.indicator.sample for r in ev.results)
    head = html.Thead(
        html.Tr([html.Th(t(f"rat.col.{c}", lang)) for c in ("id", "name", "value", "star", "next", "gap", "dept")])
    )
    blocks = []
    for domain, mean in means.items():
        rows = [r for r in ev.results if r.indicator.domain == domain]
        summary = html.Summary(
            [
                html.Span(domain, className="rat-domain"),
                html.Span(f"{mean:.2f}★", className="rat-domain-star"),
                html.Span(t("rat.count", lang).format(n=len(rows)), className="rat-dim"),
            ],
        )
        table = html.Table(
            [head, html.Tbody([_indicator_row(r, lang, derived, mixed) for r in rows])],
            className="rat-table rat-ind-table",
        )
        blocks.append(
            html.Details([summary, table], open=True, className="rat-domain-block", **ids.data_attrs(domain=domain))
        )
    return blocks


def department(view: RatingView, lang: str, dept: str | None) -> Any:
    """The drilled department: its indicators with their gaps and its tasks; or how to drill."""
    ev = view.evaluation
    if dept is None:
        return html.Div(t("rat.dept.hint", lang), className="rat-dim")
    if isinstance(ev, Failed):
        return failing(lang)
    mine = department_results(ev, dept)
    back = dcc.Link(t("rat.dept.back", lang), href=PATH, className="rat-link rat-back")
    if not mine:
        return [back, html.Div(t("rat.dept.none", lang).format(dept=dept), className="rat-dim")]
    rows = [
        html.Tr(
            [
                html.Td(r.indicator.id),
                html.Td(r.indicator.name, className="rat-name"),
                html.Td(stars(r.star)),
                html.Td("—" if r.gap is None else f"{r.gap:g}", className="num"),
            ]
        )
        for r in mine
    ]
    tasks = [] if isinstance(view.tasks, Failed) else [r for r in view.tasks if r.department == dept]
    return [
        html.Div([html.Span(dept, className="rat-dept-name"), back], className="rat-dept-head", id="rat-dept-head"),
        html.Table(html.Tbody(rows), className="rat-table"),
        html.Div(t("rat.dept.tasks", lang).format(n=len(tasks)), className="rat-dim"),
        _task_table(tasks, lang) if tasks else None,
    ]


def _status(r: TaskRow, lang: str) -> html.Span:
    flag = "overdue" if r.overdue else "lagging" if r.lagging else r.status
    return html.Span(t(f"rat.status.{flag}", lang), className=f"rat-status rat-status-{flag}")


def _evidence(evidence: str) -> Any:
    """A link opens the evidence; other evidence shows as a mark with its text on hover."""
    if evidence.startswith(("http://", "https://")):
        return html.A("↗", href=evidence, target="_blank", rel="noopener", title=evidence, className="rat-link")
    return html.Span("✓", title=evidence) if evidence else "—"


def _task_table(rows: Sequence[TaskRow], lang: str) -> html.Table:
    body = [
        html.Tr(
            [
                html.Td(r.task_id, className="rat-id"),
                html.Td(r.title, className="rat-name", title=r.note),
                html.Td(f"{r.percent:.0f}%", className="num"),
                html.Td("—" if r.expected is None else f"{r.expected:.0f}%", className="num rat-dim"),
                html.Td(f"{r.due:%Y-%m-%d}", className="num"),
                html.Td(_status(r, lang)),
                html.Td(_evidence(r.evidence), className="rat-dim"),
            ],
            **ids.data_attrs(task=r.task_id),
        )
        for r in rows
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(f"rat.task.{c}", lang))
                for c in ("id", "title", "percent", "expected", "due", "status", "evidence")
            ]
        )
    )
    return html.Table([head, html.Tbody(body)], className="rat-table rat-task-table")


def tasks(view: RatingView, lang: str) -> Any:
    """Overdue and lagging tasks per department, then the tasks needing attention."""
    if isinstance(view.tasks, Failed):
        return failing(lang)
    if not view.tasks:
        return html.Div(t("rat.tasks.none", lang), className="rat-dim")
    summary = html.Table(
        [
            html.Thead(
                html.Tr([html.Th(t(f"rat.dcol.{c}", lang)) for c in ("dept", "tasks", "done", "overdue", "lagging")])
            ),
            html.Tbody([_dept_row(d) for d in view.departments]),
        ],
        className="rat-table rat-dept-table",
    )
    attention = [r for r in view.tasks if r.overdue or r.lagging or r.status == "blocked"]
    return [
        summary,
        html.Div(t("rat.tasks.attention", lang).format(n=len(attention)), className="rat-dim"),
        _task_table(attention, lang) if attention else None,
    ]


def _dept_row(d: DepartmentTasks) -> html.Tr:
    warn = " rat-bad" if d.overdue else " rat-warn" if d.lagging else ""
    return html.Tr(
        [
            html.Td(dcc.Link(d.department, href=dept_href(d.department), className="rat-link")),
            html.Td(d.tasks, className="num"),
            html.Td(d.done, className="num"),
            html.Td(d.overdue, className="num" + warn),
            html.Td(d.lagging, className="num"),
        ],
    )


def plan_body(result: Plan | Failed, evaluation: Evaluation | Failed, lang: str) -> Any:
    """The cheapest plan to the target, per department (or why there is none)."""
    if isinstance(result, Failed) or isinstance(evaluation, Failed):
        return html.Div(t("rat.plan.error", lang).format(why=getattr(result, "error", "")), className="rat-failing")
    if not result.feasible:
        return html.Div(
            t("rat.plan.infeasible", lang).format(star=result.target, why=result.reason), className="rat-bad"
        )
    if not result.steps:
        return html.Div(t("rat.plan.reached", lang).format(star=result.target), className="rat-ok")
    head = html.Div(
        t("rat.plan.summary", lang).format(
            star=result.target, n=len(result.steps), cost=f"{result.cost:g}", after=f"{result.composite_after:.2f}"
        ),
        className="rat-plan-sum",
    )
    groups = [
        html.Div(
            [
                html.Div(
                    [
                        html.Span(dept, className="rat-dept-name"),
                        html.Span(f"{sum(s.cost for s in steps):g}", className="rat-dim"),
                    ],
                    className="rat-plan-dept",
                ),
                html.Ul([_step(s, lang) for s in steps], className="rat-steps"),
            ],
            className="rat-plan-group",
            **ids.data_attrs(dept=dept),
        )
        for dept, steps in result.by_department().items()
    ]
    return [head, *groups]


def _step(s: Step, lang: str) -> html.Li:
    need = "—" if s.needed is None else f"{s.needed:g}{s.unit}"
    now = "—" if s.value is None else f"{s.value:g}{s.unit}"
    return html.Li(
        t("rat.plan.step", lang).format(id=s.indicator_id, name=s.name, a=s.from_star, b=s.to_star, now=now, need=need),
        className="rat-step",
        **ids.data_attrs(indicator=s.indicator_id),
    )


def import_message(ok: bool, text: str, problems: Sequence[str], lang: str) -> html.Div:
    """The result of an upload: what was stored, or every bad row."""
    if ok:
        return html.Div(text, className="rat-ok")
    return html.Div(
        [html.Div(text, className="rat-bad"), html.Ul([html.Li(p) for p in problems], className="rat-problems")]
    )


def updated(view: RatingView) -> str:
    return f"{local(view.now):%Y-%m-%d %H:%M}"
