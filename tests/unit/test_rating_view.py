"""The star-rating scene over the seeded store: the view, derived values, task table, imports and their storage."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from dashboard import rating_view as rv
from dashboard.domain import rating
from dashboard.rating_store import RatingBook, decode_upload, import_upload
from dashboard.rating_tables import TableError, check_catalogue, check_tasks, check_values, read_table
from layouts import rating as layout
from tests.conftest import NOW

CATALOGUE_CSV = (
    "indicator_id,domain,name,unit,direction,star1,star2,star3,star4,star5,weight,mandatory,department\n"
    "A-01,数字惠民,甲指标,%,higher,10,20,30,40,50,2,是,区甲局\n"
    "A-02,数字政府,乙指标,天,越低越好,7,5,4,3,2,1,否,区乙局\n"
)


def csv(text: str) -> bytes:
    return text.encode("utf-8-sig")


# ---- tables ----------------------------------------------------------------------------------------------


def test_catalogue_accepts_chinese_words_and_normalises() -> None:
    got = check_catalogue(read_table(csv(CATALOGUE_CSV), "official.csv"))
    assert list(got["direction"]) == ["higher", "lower"]
    assert list(got["mandatory"]) == [True, False]
    assert got.loc[1, "star5"] == 2.0


def test_catalogue_names_every_bad_row_and_column() -> None:
    bad = CATALOGUE_CSV + (
        "A-03,数字农业,丙指标,%,higher,10,20,30,40,50,1,否,区丙局\n"  # row 4: unknown domain
        "A-01,数字惠民,丁指标,%,higher,10,30,20,40,50,x,否,区丁局\n"  # row 5: duplicate, order, weight
    )
    with pytest.raises(TableError) as err:
        check_catalogue(read_table(csv(bad), "t.csv"))
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(4, "domain"), (5, "indicator_id"), (5, "weight"), (5, "star3")}
    assert "第5行 star3" in str(err.value)


def test_catalogue_missing_columns_and_unreadable_files() -> None:
    with pytest.raises(TableError, match="weight: 缺少此列"):
        check_catalogue(read_table(csv("indicator_id,domain\nA,数字惠民\n"), "t.csv"))
    with pytest.raises(TableError, match="只接受"):
        read_table(b"x", "t.pdf")
    with pytest.raises(TableError, match="无法读取"):
        read_table(b"not a zip", "t.xlsx")


def test_excel_reads_like_csv() -> None:
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(CATALOGUE_CSV), dtype=str).to_excel(buffer, index=False)
    got = check_catalogue(read_table(buffer.getvalue(), "official.xlsx"))
    assert list(got["indicator_id"]) == ["A-01", "A-02"]


def test_values_and_tasks_checks() -> None:
    with pytest.raises(TableError) as err:
        check_values(
            pd.DataFrame({"indicator_id": ["A-01", "ZZ"], "period": ["2026Q4", "2026-4"], "value": ["3", "x"]}),
            {"A-01"},
            "部门",
        )
    assert {(p.row, p.column) for p in err.value.problems} == {(3, "indicator_id"), (3, "period"), (3, "value")}
    tasks = pd.DataFrame({"task_id": ["t1"], "department": ["区甲局"], "title": ["任务"], "due": [date(2026, 12, 31)]})
    ok = check_tasks(pd.DataFrame({"task_id": ["t1"], "status": ["进行中"], "percent": ["40"]}), tasks)
    assert ok.loc[0, "status"] == "in_progress" and ok.loc[0, "department"] == "区甲局"
    with pytest.raises(TableError) as err:
        check_tasks(
            pd.DataFrame(
                {
                    "task_id": ["t1", "t9"],
                    "status": ["做完了", "done"],
                    "percent": ["140", "1"],
                    "department": ["区乙局", ""],
                }
            ),
            tasks,
        )
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(2, "department"), (2, "status"), (2, "percent"), (3, "task_id")}


# ---- tasks -----------------------------------------------------------------------------------------------


def reports(rows: list[tuple[str, str, float, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "task_id": tid,
                "reported_at": pd.Timestamp(at, tz="Asia/Shanghai"),
                "department": dept,
                "title": tid,
                "due": date(2026, 12, 31) if tid != "late" else date(2026, 11, 1),
                "status": status,
                "percent": pct,
                "note": None,
                "evidence": None,
            }
            for tid, at, pct, status, dept in rows
        ]
    )


def test_overdue_and_lagging_tasks_per_department() -> None:
    got = reports(
        [
            ("late", "2026-05-01", 10, "in_progress", "区甲局"),
            ("late", "2026-10-01", 60, "in_progress", "区甲局"),
            ("slow", "2026-01-01", 5, "in_progress", "区乙局"),
            ("slow", "2026-11-20", 30, "in_progress", "区乙局"),
            ("fine", "2026-01-01", 10, "in_progress", "区乙局"),
            ("fine", "2026-11-20", 85, "in_progress", "区乙局"),
            ("done", "2025-01-01", 100, "done", "区甲局"),
        ]
    )
    rows = {r.task_id: r for r in rv.task_rows(got, NOW, lag_points=15)}
    assert rows["late"].overdue and rows["late"].reports == 2 and rows["late"].percent == 60
    assert rows["slow"].lagging and not rows["slow"].overdue
    assert not rows["fine"].lagging and not rows["done"].overdue
    depts = {d.department: d for d in rv.department_tasks(tuple(rows.values()))}
    assert (depts["区甲局"].overdue, depts["区甲局"].done, depts["区乙局"].lagging) == (1, 1, 1)
    assert rv.department_tasks(tuple(rows.values()))[0].department == "区甲局"


def test_derived_values_replace_only_the_current_quarter() -> None:
    values = pd.DataFrame(
        {
            "indicator_id": ["HM-02", "HM-02"],
            "period": ["2026Q3", "2026Q4"],
            "value": [40.0, 45.0],
            "evidence": None,
            "reported_by": "x",
        }
    )
    got = rv.with_derived(values, (rv.Derived("HM-02", "transport", 88.0, None),), NOW)
    assert sorted(zip(got["period"], got["value"], strict=True)) == [("2026Q3", 40.0), ("2026Q4", 88.0)]
    assert got.iloc[-1]["evidence"] == "自动采集 · 交通"


# ---- over the seeded store ------------------------------------------------------------------------------


def test_view_over_the_seeded_district(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    view = rv.compute_view(services.live, services.settings, NOW)
    ev = view.evaluation
    assert isinstance(ev, rating.Evaluation) and len(ev.results) == 44 and ev.sample
    assert ev.period == "2026Q4" and 0 <= ev.star <= 5
    derived = {d.indicator_id: d for d in view.derived}
    assert {"ZF-07", "ZF-08"} <= set(derived)  # video and environment feeds exist in the seed
    assert 0 <= derived["ZF-07"].value <= 100
    by_id = {r.indicator.id: r for r in ev.results}
    assert by_id["ZF-07"].value == derived["ZF-07"].value and by_id["ZF-07"].period == "2026Q4"
    assert view.tasks and view.departments
    result = rv.plan_for(view, services.settings.rating, min(5, ev.star + 1))
    assert isinstance(result, rating.Plan) and result.feasible and result.star_after > ev.star
    tree = layout.tree(view, "zh-CN")
    assert [b.to_plotly_json()["props"]["data-domain"] for b in tree] == list(rating.DOMAINS)


def upload_csv(text: str) -> str:
    import base64

    return "data:text/csv;base64," + base64.b64encode(csv(text)).decode()


def test_import_replaces_the_catalogue_or_changes_nothing(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    store = services.sources.store
    book = RatingBook(store)
    before = store.read("rating_indicators").frame
    bad = CATALOGUE_CSV + "A-03,数字惠民,丙指标,%,higher,10,20,30,40,50,-3,否,区丙局\n"
    outcome = import_upload(book, "catalogue", decode_upload(upload_csv(bad)), "t.csv", NOW, before, pd.DataFrame())
    assert not outcome.ok and outcome.problems == ("第4行 weight: '-3': 权重须为0–100的数",)
    assert len(store.read("rating_indicators").frame) == len(before) == 44
    outcome = import_upload(book, "catalogue", csv(CATALOGUE_CSV), "t.csv", NOW, before, pd.DataFrame())
    assert outcome.ok and outcome.rows == 2
    after = store.read("rating_indicators").frame
    assert sorted(after["indicator_id"]) == ["A-01", "A-02"] and not after["sample"].any()


def test_entered_values_keep_their_history(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    store = services.sources.store
    book = RatingBook(store)
    cat = store.read("rating_indicators").frame
    first = "indicator_id,period,value,evidence\nHM-01,2026Q4,81,清单v1\n"
    second = "indicator_id,period,value,evidence\nHM-01,2026Q4,83.5,清单v2\n"
    for text, at in ((first, NOW), (second, NOW + timedelta(hours=1))):
        assert import_upload(book, "values", csv(text), "v.csv", at, cat, pd.DataFrame(), "区行政审批服务局").ok
    log = book.entries("HM-01")
    assert list(log["value"]) == [81.0, 83.5] and list(log["evidence"]) == ["清单v1", "清单v2"]
    current = store.read("rating_values").frame
    row = current.loc[(current["indicator_id"] == "HM-01") & (current["period"] == "2026Q4")]
    assert list(row["value"]) == [83.5]


def test_task_reports_append(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    store = services.sources.store
    book = RatingBook(store)
    tasks = rv.latest_tasks(store.read("rating_tasks").frame)
    tid = str(tasks.iloc[0]["task_id"])
    n = int((store.read("rating_tasks").frame["task_id"] == tid).sum())
    text = f"task_id,status,percent,note,evidence\n{tid},受阻,55,等待资金,https://oa.example/1\n"
    later = NOW + timedelta(minutes=5)
    outcome = import_upload(book, "tasks", csv(text), "p.csv", later, pd.DataFrame(), tasks)
    assert outcome.ok and outcome.rows == 1
    rows = store.read("rating_tasks").frame
    mine = rows.loc[rows["task_id"] == tid].sort_values("reported_at")
    assert len(mine) == n + 1 and mine.iloc[-1]["status"] == "blocked"
    assert mine.iloc[-1]["reported_at"] == pd.Timestamp(later).tz_convert(UTC)
    assert mine.iloc[-1]["evidence"] == "https://oa.example/1"


def test_star_tile_follows_the_configured_rules(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dashboard.scope import DISTRICT

    loose = {t.spec.id: t for t in services_at_now().tiles(DISTRICT)}["star"]
    strict = {t.spec.id: t for t in services_at_now(rating={"bonus_cap": 0}).tiles(DISTRICT)}["star"]
    assert loose.value is not None and strict.value is not None and strict.value < loose.value
    assert loose.label.endswith("★")
    # the overview badge says what the scene says (derived values included)
    services = services_at_now()
    ev = rv.compute_view(services.live, services.settings, NOW).evaluation
    assert isinstance(ev, rating.Evaluation) and loose.label == f"{ev.star}★"
    assert loose.value == pytest.approx(round(ev.composite, 2))


def test_datetime_quarters() -> None:
    assert rating.period_of(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == "2027Q1"  # 01:00 local, new year
    assert rating.period_of(NOW) == "2026Q4"


def test_derived_values_need_fresh_feeds(services_at_now) -> None:  # type: ignore[no-untyped-def]
    services = services_at_now()
    ids = {"HM-02", "ZF-07", "ZF-08"}
    fresh = {d.indicator_id for d in rv.derived_values(services.live, services.settings, NOW, ids)}
    assert fresh == ids
    later = {d.indicator_id for d in rv.derived_values(services.live, services.settings, NOW + timedelta(hours=3), ids)}
    assert later == {"ZF-07"}  # buses and air readings stopped: their indicators fall back to entered values
    assert rv.derived_values(services.live, services.settings, NOW, {"HM-01"}) == ()


def test_standing_says_when_only_the_mandatory_rule_holds_the_star() -> None:
    from dashboard.domain.rating import Indicator

    cat = [
        Indicator("A1", "数字惠民", "甲", "%", "higher", (10, 20, 30, 40, 50), 1, True, "区甲局"),
        Indicator("B2", "数字惠民", "乙", "%", "higher", (10, 20, 30, 40, 50), 3, False, "区乙局"),
    ]
    values = pd.DataFrame({"indicator_id": ["A1", "B2"], "period": "2026Q4", "value": [20.0, 50.0]})
    ev = rating.evaluate(cat, values)
    view = rv.RatingView(NOW, ev, (), (), ())
    text = str(layout.standing(view, "zh-CN").to_plotly_json())
    assert "综合得分已够 3★" in text and "A1" in text


def test_progress_form_is_checked_like_an_upload(services_at_now) -> None:  # type: ignore[no-untyped-def]
    from dashboard.rating_store import report_form

    store = services_at_now().sources.store
    book = RatingBook(store)
    tasks = rv.latest_tasks(store.read("rating_tasks").frame)
    tid = str(tasks.iloc[0]["task_id"])
    bad = report_form(book, {"task_id": tid, "status": "done", "percent": 120, "note": None}, NOW, tasks)
    assert not bad.ok and bad.problems == ("percent: '120': 须为0–100的数",)
    later = NOW + timedelta(minutes=1)
    good = report_form(book, {"task_id": tid, "status": "done", "percent": 100, "note": "验收"}, later, tasks)
    assert good.ok
    rows = store.read("rating_tasks").frame
    last = rows.loc[rows["task_id"] == tid].sort_values("reported_at").iloc[-1]
    assert (last["status"], last["percent"], last["note"]) == ("done", 100.0, "验收")


def test_rating_settings_reject_unknown_derivations_and_bad_costs() -> None:
    from dashboard.settings import ConfigError, load_settings

    with pytest.raises((ConfigError, ValueError), match="did you mean 'bus_prediction'"):
        load_settings(None, rating={"derived": {"HM-02": "bus_predictions"}})
    with pytest.raises((ConfigError, ValueError), match="five"):
        load_settings(None, rating={"costs": {"HM-05": [1, 2]}})
    ok = load_settings(None, rating={"costs": {"HM-05": [1, 1, 2, 4, 8]}, "bonus_mode": "sum"}).rating
    assert rv.rules_of(ok).bonus_mode == "sum" and rv.costs_of(ok)["HM-05"] == [1, 1, 2, 4, 8]
