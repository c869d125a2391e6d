"""Tables departments hand in for the star rating: the official catalogue, indicator values, task progress.

Each arrives as CSV (UTF-8, with or without BOM, or GB18030 as Excel in China saves it) or Excel (.xlsx), with
English or Chinese headers. Every check names the row as the department sees it in their file (the header is
row 1) and the column, and a table with any problem is refused as a whole: nothing is half-imported.
Pure functions over bytes and frames; storing is :mod:`dashboard.rating_store`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from dashboard.domain.rating import DOMAINS, STAR_COLUMNS, quarter_index

#: Chinese headers accepted for each column (the official table is Chinese).
ALIASES: dict[str, str] = {
    "指标编号": "indicator_id",
    "编号": "indicator_id",
    "一级指标": "domain",
    "领域": "domain",
    "指标名称": "name",
    "名称": "name",
    "单位": "unit",
    "方向": "direction",
    "一星": "star1",
    "二星": "star2",
    "三星": "star3",
    "四星": "star4",
    "五星": "star5",
    "权重": "weight",
    "必达": "mandatory",
    "是否必达": "mandatory",
    "责任部门": "department",
    "牵头部门": "department",
    "部门": "department",
    "佐证材料": "evidence",
    "佐证": "evidence",
    "示例": "sample",
    "任务编号": "task_id",
    "状态": "status",
    "进度": "percent",
    "完成比例": "percent",
    "备注": "note",
    "佐证链接": "evidence",
    "期间": "period",
    "季度": "period",
    "取值": "value",
    "数值": "value",
    "填报人": "reported_by",
}
TRUE = {"true", "1", "yes", "y", "是", "必达", "√"}
FALSE = {"false", "0", "no", "n", "否", ""}
DIRECTIONS = {"higher": "higher", "越高越好": "higher", "正向": "higher", "lower": "lower", "越低越好": "lower"}
DIRECTIONS |= {"逆向": "lower"}
STATUSES = {"not_started": "not_started", "未开始": "not_started", "in_progress": "in_progress"}
STATUSES |= {"进行中": "in_progress", "done": "done", "已完成": "done", "blocked": "blocked", "受阻": "blocked"}
CATALOGUE_COLUMNS = ("indicator_id", "domain", "name", "direction", *STAR_COLUMNS, "weight", "mandatory", "department")
TASK_COLUMNS = ("task_id", "status", "percent")
VALUE_COLUMNS = ("indicator_id", "period", "value")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
PERIOD = re.compile(r"^\d{4}Q[1-4]$")
MAX_ROWS = 5000


class TableError(ValueError):
    """A table that cannot be taken; ``problems`` names every bad row."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.text() for p in problems[:20]))


@dataclass(frozen=True)
class Problem:
    row: int | None  # as numbered in the file (header = 1); None: the whole table
    column: str
    reason: str

    def text(self) -> str:
        where = f"第{self.row}行" if self.row is not None else "表格"
        return f"{where} {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"


# ---- reading --------------------------------------------------------------------------------------------


def read_table(content: bytes, filename: str) -> pd.DataFrame:
    """The first sheet or the CSV as text cells with normalised headers; TableError says what is unreadable."""
    name = filename.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            frame = pd.read_excel(io.BytesIO(content), dtype=str, engine="openpyxl")
        elif name.endswith(".csv"):
            frame = _read_csv(content)
        else:
            raise TableError([Problem(None, "", f"{filename}: 只接受 .csv 或 .xlsx 文件 (CSV or Excel only)")])
    except TableError:
        raise
    except Exception as exc:  # a broken file is the department's problem to fix: say what the reader said
        raise TableError([Problem(None, "", f"{filename}: 无法读取 (unreadable): {exc}"[:300])]) from exc
    frame.columns = [ALIASES.get(str(c).strip(), str(c).strip().lower()) for c in frame.columns]
    if len(frame) > MAX_ROWS:
        raise TableError([Problem(None, "", f"more than {MAX_ROWS} rows")])
    return frame.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())


def _read_csv(content: bytes) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raise TableError([Problem(None, "", "neither UTF-8 nor GB18030 text")])


def _missing_columns(frame: pd.DataFrame, required: tuple[str, ...]) -> list[Problem]:
    return [Problem(None, c, "缺少此列 (column missing)") for c in required if c not in frame.columns]


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").rstrip("%"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rows(frame: pd.DataFrame) -> list[tuple[int, Mapping[str, str]]]:
    return [(n + 2, row) for n, row in enumerate(frame.to_dict("records"))]


# ---- the catalogue --------------------------------------------------------------------------------------


def check_catalogue(frame: pd.DataFrame) -> pd.DataFrame:
    """The catalogue as ``rating_indicators`` rows; TableError lists every bad row (row, column, reason)."""
    problems = _missing_columns(frame, CATALOGUE_COLUMNS)
    if problems:
        raise TableError(problems)
    if frame.empty:
        raise TableError([Problem(None, "", "表格没有数据行 (no rows)")])
    out: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for n, row in _rows(frame):
        got, bad = _catalogue_row(row, n)
        problems += bad
        ident = row["indicator_id"]
        if ident in seen:
            problems.append(Problem(n, "indicator_id", f"{ident} 重复 (duplicate of row {seen[ident]})"))
        seen.setdefault(ident, n)
        out.append(got)
    if problems:
        raise TableError(problems)
    return pd.DataFrame(out)


def _catalogue_row(row: Mapping[str, str], n: int) -> tuple[dict[str, object], list[Problem]]:
    bad: list[Problem] = []

    def need(col: str, ok: Callable[[str], bool], reason: str) -> None:
        if not ok(row.get(col, "")):
            bad.append(Problem(n, col, f"{row.get(col, '')!r}: {reason}"))

    need("indicator_id", lambda v: bool(ID.match(v)), "编号须为字母数字 (letters, digits, - _ . :)")
    need("domain", lambda v: v in DOMAINS, f"须为 {'/'.join(DOMAINS)} 之一")
    need("name", lambda v: 0 < len(v) <= 80, "名称为空或超过80字")
    need("direction", lambda v: v in DIRECTIONS, "方向须为 higher/lower (越高越好/越低越好)")
    need("weight", lambda v: (w := _number(v)) is not None and 0 <= w <= 100, "权重须为0–100的数")
    need("mandatory", lambda v: v.lower() in TRUE | FALSE, "必达须为 是/否 (true/false)")
    need("department", lambda v: 0 < len(v) <= 40, "责任部门为空或超过40字")
    stars = []
    for col in STAR_COLUMNS:
        text = row.get(col, "")
        stars.append(None if text == "" else _number(text))
        if text and stars[-1] is None:
            bad.append(Problem(n, col, f"{text!r}: 阈值须为数字 (threshold must be a number)"))
    direction = DIRECTIONS.get(row.get("direction", ""), "higher")
    bad += _threshold_order(stars, direction, n)
    got: dict[str, object] = {
        "indicator_id": row.get("indicator_id", ""),
        "domain": row.get("domain", ""),
        "name": row.get("name", ""),
        "unit": row.get("unit", "") or None,
        "direction": direction,
        **dict(zip(STAR_COLUMNS, stars, strict=True)),
        "weight": _number(row.get("weight", "")),
        "mandatory": row.get("mandatory", "").lower() in TRUE,
        "department": row.get("department", ""),
        "evidence": row.get("evidence", "") or None,
        "sample": row.get("sample", "").lower() in TRUE,
    }
    return got, bad


def _threshold_order(stars: list[float | None], direction: str, n: int) -> list[Problem]:
    defined = [(i, s) for i, s in enumerate(stars, start=1) if s is not None]
    if not defined:
        return [Problem(n, "star1", "至少需要一个星级阈值 (no threshold at all)")]
    for (i, a), (j, b) in pairwise(defined):
        if (b < a) if direction == "higher" else (b > a):
            word = "不低于" if direction == "higher" else "不高于"
            return [Problem(n, f"star{j}", f"{b:g} 须{word} star{i} 的 {a:g} (thresholds out of order)")]
    return []


# ---- values and tasks -----------------------------------------------------------------------------------


def check_values(frame: pd.DataFrame, indicator_ids: set[str], reporter: str) -> pd.DataFrame:
    """Indicator values a department enters, as ``rating_values`` rows; TableError names every bad row."""
    problems = _missing_columns(frame, VALUE_COLUMNS)
    if problems:
        raise TableError(problems)
    out = []
    for n, row in _rows(frame):
        value = _number(row["value"])
        if row["indicator_id"] not in indicator_ids:
            problems.append(Problem(n, "indicator_id", f"{row['indicator_id']!r}: 目录中没有此指标 (unknown)"))
        if not PERIOD.match(row["period"].upper()):
            problems.append(Problem(n, "period", f"{row['period']!r}: 须为 2026Q3 形式"))
        if value is None:
            problems.append(Problem(n, "value", f"{row['value']!r}: 须为数字 (not a number)"))
        who = row.get("reported_by") or reporter
        out.append(
            {
                "indicator_id": row["indicator_id"],
                "period": row["period"].upper(),
                "value": value,
                "evidence": row.get("evidence") or None,
                "reported_by": who[:40],
            }
        )
    if problems:
        raise TableError(problems)
    return pd.DataFrame(out).sort_values("period", key=lambda s: s.map(quarter_index), kind="stable")


def check_tasks(frame: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """Progress reports on known tasks: rows of task_id, status, percent, note, evidence (and department, which
    must be the task's). ``tasks``: each task's latest row (title, department, due). TableError names bad rows."""
    problems = _missing_columns(frame, TASK_COLUMNS)
    if problems:
        raise TableError(problems)
    known = {str(r["task_id"]): r for r in tasks.to_dict("records")}
    out: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for n, row in _rows(frame):
        task = known.get(row["task_id"])
        problems += _task_problems(row, task, n)
        if row["task_id"] in seen:
            problems.append(Problem(n, "task_id", f"{row['task_id']} 重复 (also row {seen[row['task_id']]})"))
        seen.setdefault(row["task_id"], n)
        if task is not None:
            out.append(
                {
                    "task_id": row["task_id"],
                    "department": task["department"],
                    "title": task["title"],
                    "due": task["due"],
                    "status": STATUSES.get(row["status"], row["status"]),
                    "percent": _number(row["percent"]),
                    "note": row.get("note") or None,
                    "evidence": row.get("evidence") or None,
                }
            )
    if problems:
        raise TableError(problems)
    return pd.DataFrame(out)


def _task_problems(row: Mapping[str, str], task: Mapping[str, object] | None, n: int) -> list[Problem]:
    bad = []
    if task is None:
        bad.append(Problem(n, "task_id", f"{row['task_id']!r}: 任务表中没有此任务 (unknown task)"))
    elif row.get("department") and row["department"] != task["department"]:
        bad.append(Problem(n, "department", f"{row['department']!r}: 此任务由 {task['department']} 牵头"))
    if row["status"] not in STATUSES:
        bad.append(Problem(n, "status", f"{row['status']!r}: 须为 未开始/进行中/已完成/受阻"))
    percent = _number(row["percent"])
    if percent is None or not 0 <= percent <= 100:
        bad.append(Problem(n, "percent", f"{row['percent']!r}: 须为0–100的数"))
    if len(row.get("note", "")) > 1000 or len(row.get("evidence", "")) > 400:
        bad.append(Problem(n, "note", "备注超过1000字或佐证链接超过400字"))
    return bad
