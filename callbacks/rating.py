"""Star-rating scene wiring: one callback fills the panels from one view per refresh, one runs the planner for
the chosen target, one stores an uploaded table (catalogue, values or task progress) and reports every bad row."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Dash, Input, Output, State

from dashboard.auth import record
from dashboard.i18n import request_lang, t
from dashboard.live import Failed
from dashboard.rating_store import RatingBook, decode_upload, import_upload, report_form
from dashboard.rating_view import latest_tasks, plan_for
from dashboard.rating_view import scene as view
from dashboard.services import Services
from layouts import ids
from layouts import rating as rat_layout

#: The progress form's fields (the columns of an uploaded progress table) and their inputs.
FORM_FIELDS = {
    "task_id": ids.RAT_FORM_TASK,
    "status": ids.RAT_FORM_STATUS,
    "percent": ids.RAT_FORM_PERCENT,
    "note": ids.RAT_FORM_NOTE,
    "evidence": ids.RAT_FORM_EVIDENCE,
}


def _frame(services: Services, feed: str) -> pd.DataFrame:
    got = services.live.rows(feed)
    return pd.DataFrame() if isinstance(got, Failed) else got.frame


def upload(services: Services, kind: str, contents: str, filename: str, lang: str) -> Any:
    """Store one uploaded table and say what happened (every bad row, or how many rows were stored)."""
    try:
        content = decode_upload(contents)
    except ValueError as exc:
        return rat_layout.import_message(False, t("rat.import.failed", lang), [str(exc)], lang)
    outcome = import_upload(
        RatingBook(services.sources.store),
        kind,
        content,
        filename or "",
        services.now(),
        _frame(services, "rating_indicators"),
        latest_tasks(_frame(services, "rating_tasks")),
    )
    record(services, "rating.import", kind, file=filename or "", rows=outcome.rows, ok=outcome.ok)
    if outcome.ok:
        services.cache.delete("rating")
        return rat_layout.import_message(True, t("rat.import.ok", lang).format(n=outcome.rows), [], lang)
    return rat_layout.import_message(False, t("rat.import.failed", lang), outcome.problems, lang)


def register(app: Dash, services: Services) -> None:
    settings = services.settings.rating

    @app.callback(
        [Output(component, prop) for component, prop in rat_layout.OUTPUTS],
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.URL, "search"),
        State(ids.URL, "pathname"),
    )
    def fill_rating(_n: int | None, search: str | None, path: str | None) -> Any:
        if path != rat_layout.PATH:
            return [dash.no_update] * len(rat_layout.OUTPUTS)
        lang = request_lang(services.settings.language)
        got = view(services)
        return [
            rat_layout.standing(got, lang),
            rat_layout.tree(got, lang),
            rat_layout.department(got, lang, rat_layout.dept_of(search)),
            rat_layout.tasks(got, lang),
            rat_layout.task_options(got),
        ]

    @app.callback(Output(ids.RAT_PLAN, "children"), Input(ids.RAT_TARGET, "value"), Input(ids.REFRESH, "n_intervals"))
    def fill_plan(target: int | None, _n: int | None) -> Any:
        lang = request_lang(services.settings.language)
        got = view(services)
        star = int(target or settings.target_star)
        result = services._memo(f"rating:plan:{star}", lambda: plan_for(got, settings, star))
        return rat_layout.plan_body(result, got.evaluation, lang)

    @app.callback(
        Output(ids.RAT_FORM_MSG, "children"),
        Input(ids.RAT_FORM_SUBMIT, "n_clicks"),
        [State(i, "value") for i in FORM_FIELDS.values()],
        prevent_initial_call=True,
    )
    def submit_form(_clicks: int | None, *values: object) -> Any:
        lang = request_lang(services.settings.language)
        fields = dict(zip(FORM_FIELDS, values, strict=True))
        tasks = latest_tasks(_frame(services, "rating_tasks"))
        outcome = report_form(RatingBook(services.sources.store), fields, services.now(), tasks)
        record(services, "rating.entry", str(fields.get("task_id") or "-"), ok=outcome.ok, status=fields.get("status"))
        if outcome.ok:
            services.cache.delete("rating")
            return rat_layout.import_message(True, t("rat.import.ok", lang).format(n=outcome.rows), [], lang)
        return rat_layout.import_message(False, t("rat.import.failed", lang), outcome.problems, lang)

    @app.callback(
        Output(ids.RAT_IMPORT_MSG, "children"),
        Input(ids.RAT_UPLOAD, "contents"),
        State(ids.RAT_UPLOAD, "filename"),
        State(ids.RAT_IMPORT_KIND, "value"),
        prevent_initial_call=True,
    )
    def store_upload(contents: str | None, filename: str | None, kind: str | None) -> Any:
        if not contents:
            return dash.no_update
        return upload(services, kind or "tasks", contents, filename or "", request_lang(services.settings.language))
