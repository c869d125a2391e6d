"""The star-rating scene in headless Chromium at 1920×1080: the indicator tree, a drill to a department, an import
with a bad row reported (and nothing stored), the planner's result per department.

The app runs over a private copy of the seeded district (the sample catalogue, quarterly values since 2021, task
reports) with the clock pinned, so an import really writes to a store of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import click_nth, count, text, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]
ROWS = "#rat-tree tr.rat-row"


def open_scene(dash_duo, app, port: int, query: str = "") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app, port=port)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.driver.get(f"{dash_duo.server_url}/rating{query}")
    wait_for(dash_duo, lambda: count(dash_duo, ROWS) == 44, "44 indicator rows", timeout=40)


def test_rat001_tree_domain_indicator_department(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    domains = [e.get_attribute("data-domain") for e in dash_duo.find_elements(".rat-domain-block")]
    assert domains == ["数字惠民", "数字政府", "数字经济", "基础设施", "保障措施", "地方特色"]
    assert count(dash_duo, '.rat-domain-block[data-domain="地方特色"] tr.rat-row') == 4
    row = text(dash_duo, '#rat-tree tr[data-indicator="ZF-07"]')
    assert "公共安全视频资源采集和覆盖" in row and "区公安分局" in row and "自动" in row
    standing = text(dash_duo, "#rat-standing")
    assert re.search(r"综合得分\s*\d\.\d\d", standing) and "示例目录" in standing and "2026Q4" in standing
    assert wait_for(dash_duo, lambda: "区" in text(dash_duo, "#rat-tasks"), "task table filled")
    assert dash_duo.get_logs() == []


def test_rat002_drill_to_a_department(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    assert "点击" in text(dash_duo, "#rat-dept")
    link = '#rat-tree tr[data-indicator="HM-02"] .rat-dept-link'
    name = wait_for(dash_duo, lambda: click_nth(dash_duo, link, 0), "department link clicked")
    assert name == "区交通运输局"
    assert wait_for(dash_duo, lambda: "dept=" in dash_duo.driver.current_url, "drill in the URL")
    head = wait_for(dash_duo, lambda: text(dash_duo, "#rat-dept-head"), "department head")
    assert "区交通运输局" in head
    body = text(dash_duo, "#rat-dept")
    assert "公共交通来车实时预报率" in body and "公共交通电子支付使用率" in body
    assert "智慧校园" not in body  # another department's indicator
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#rat-dept .rat-back").click()
    assert wait_for(dash_duo, lambda: "点击" in text(dash_duo, "#rat-dept"), "back to the district")
    assert dash_duo.get_logs() == []


def test_rat003_import_with_a_bad_row_is_reported(dash_duo, app_at_now, free_port, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    table = tmp_path / "official.csv"
    table.write_text(
        "indicator_id,domain,name,unit,direction,star1,star2,star3,star4,star5,weight,mandatory,department\n"
        "A-01,数字惠民,甲指标,%,higher,10,20,30,40,50,2,是,区甲局\n"
        "A-02,数字政府,乙指标,天,sideways,7,5,4,3,2,1,否,区乙局\n",
        encoding="utf-8",
    )
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#rat-import-kind input[value='catalogue']").click()
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#rat-upload input[type=file]").send_keys(str(table))
    message = wait_for(dash_duo, lambda: text(dash_duo, "#rat-import-msg"), "import message")
    assert "未导入" in message and "第3行 direction" in message and "sideways" in message
    assert count(dash_duo, ROWS) == 44  # nothing half-imported
    assert dash_duo.get_logs() == []


def test_rat004_planner_result_per_department(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    dash_duo.select_dcc_dropdown("#rat-target", "5★")
    summary = wait_for(dash_duo, lambda: "5★" in text(dash_duo, "#rat-plan") and text(dash_duo, "#rat-plan"), "plan")
    assert "最低成本方案" in summary and "综合得分升至" in summary
    groups = dash_duo.find_elements("#rat-plan .rat-plan-group")
    assert groups and all(g.get_attribute("data-dept").startswith("区") for g in groups)
    steps = dash_duo.find_elements("#rat-plan .rat-step")
    assert steps and all(re.search(r"\d★→\d★", s.text) for s in steps)
    assert dash_duo.get_logs() == []


def test_rat005_progress_form_reports_a_task(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    wait_for(dash_duo, lambda: "区" in text(dash_duo, "#rat-tasks"), "task table filled")
    dash_duo.find_element("#rat-form-submit").click()
    refused = wait_for(dash_duo, lambda: text(dash_duo, "#rat-form-msg"), "form refused")
    assert "未导入" in refused and "task_id" in refused and "percent" in refused
    dash_duo.select_dcc_dropdown("#rat-form-task", index=0)
    dash_duo.find_element("#rat-form-percent").send_keys("65")
    dash_duo.find_element("#rat-form-note").send_keys("第二批设备到货")
    dash_duo.find_element("#rat-form-submit").click()
    assert wait_for(dash_duo, lambda: "已导入 1 行" in text(dash_duo, "#rat-form-msg"), "form stored")
    assert dash_duo.get_logs() == []
