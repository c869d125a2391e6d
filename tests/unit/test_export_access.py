"""The briefing exports per role (issue #9: a department head gets "only their domains, drill-down, export").

``/export/kpis.csv`` and ``/export/map.html`` serve a department head only their domains' tiles and layers (plus
the base map); a query naming another department's data is a 403; a leader still gets everything, a screen
nothing. Their maps' layer control lists only the layers they may see, and the export links show where they may
use them.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient

from dashboard.access import DOMAINS, LAYER_DOMAINS, Principal
from dashboard.accounts import Accounts
from dashboard.kpis import CATALOGUE
from dashboard.layers import LAYERS
from layouts import ids
from tests.conftest import NOW
from tests.unit.test_auth import PASSWORD, sign_in, trusting_nobody

#: The map domains: each has a scene with a map and layers of its own (rating has neither).
MAP_DOMAINS = ("transport", "video", "environment", "tourism")
TITLES = {spec.name: spec.title_zh for spec in LAYERS}


@pytest.fixture(scope="module")
def app(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app that trusts nobody, with a leader, a head of each domain and a screen."""
    with trusting_nobody(seeded_db, tmp_path_factory.mktemp("export-access")) as made:
        accounts = Accounts(made.server.extensions["shanting.services"].sources.store)
        accounts.create("leader", PASSWORD, "leader", NOW)
        for domain in DOMAINS:
            accounts.create(f"head-{domain}", PASSWORD, "department", NOW, domains=(domain,))
        accounts.create("screen-main", "display-token-main", "screen", NOW, screen_id="main")
        yield made


@pytest.fixture(scope="module")
def clients(app: Any) -> dict[str, FlaskClient]:
    made = {}
    for name in ("leader", *(f"head-{d}" for d in DOMAINS)):
        client = app.server.test_client()
        assert sign_in(client, name).status_code == 302
        made[name] = client
    screen = app.server.test_client()
    assert screen.get("/screen/main?token=display-token-main").status_code == 302
    made["screen"] = screen
    return made


def csv_titles(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return set(pd.read_csv(io.BytesIO(response.data), encoding="utf-8-sig")["指标"])


def map_overlays(response: Any) -> list[str]:
    """The names in the exported map's layer control."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = re.search(r"overlays\s*:\s*\{(.*?)\}", response.get_data(as_text=True), re.S)
    return [json.loads(f'"{name}"') for name in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', found.group(1))] if found else []


def titles_of(domains: tuple[str, ...]) -> set[str]:
    return {spec.title_zh for spec in CATALOGUE.specs if spec.domain in domains}


def shared_layers_of(domains: tuple[str, ...]) -> set[str]:
    """The overview map's overlays of these domains (what the briefing file draws), as titles."""
    return {TITLES[s.name] for s in LAYERS if s.shared and not s.static and LAYER_DOMAINS[s.name] in domains}


@pytest.mark.parametrize("domain", DOMAINS)
def test_exp_a_department_head_exports_only_their_domains_tiles(clients: dict[str, FlaskClient], domain: str) -> None:
    head = clients[f"head-{domain}"]
    assert csv_titles(head.get("/export/kpis.csv")) == titles_of((domain,))
    # The scope still works; the scene's own link names the domain.
    town = head.get(f"/export/kpis.csv?scope=town:370406103&domain={domain}")
    assert csv_titles(town) == titles_of((domain,))


@pytest.mark.parametrize("domain", MAP_DOMAINS)
def test_exp_a_department_heads_map_file_has_only_their_layers_and_the_base_map(
    clients: dict[str, FlaskClient], domain: str
) -> None:
    response = clients[f"head-{domain}"].get("/export/map.html?scope=town:370406103")
    overlays = set(map_overlays(response))
    # The town areas (coloured by one of the head's own KPIs) and villages are base; the rest is the domain's.
    assert overlays == shared_layers_of((domain, "base"))
    page = response.get_data(as_text=True)
    assert "北庄镇" in page  # the heading: the scope's place
    assert ('"status"' in page) == (domain == "video")  # camera features carry their status: no camera data
    assert ('"aqi"' in page) == (domain == "environment")


def test_exp_a_leader_still_exports_everything(clients: dict[str, FlaskClient]) -> None:
    leader = clients["leader"]
    assert csv_titles(leader.get("/export/kpis.csv")) == titles_of(DOMAINS)
    overlays = map_overlays(leader.get("/export/map.html"))
    assert set(overlays) == shared_layers_of((*DOMAINS, "base"))
    # A scene's export: its domain's layers and the base map only, its tiles only.
    assert set(map_overlays(leader.get("/export/map.html?domain=video"))) == shared_layers_of(("video", "base"))
    assert csv_titles(leader.get("/export/kpis.csv?domain=video,tourism")) == titles_of(("video", "tourism"))


def test_exp_a_hand_crafted_request_for_another_departments_data_is_refused(
    app: Any, clients: dict[str, FlaskClient]
) -> None:
    head, leader = clients["head-transport"], clients["leader"]
    camera = app.server.extensions["shanting.services"].live.rows("cameras").frame["camera_id"].iloc[0]
    forged = [
        "/export/kpis.csv?domain=video",
        "/export/kpis.csv?domain=transport,environment",
        f"/export/kpis.csv?scope=asset:cameras:{camera}",
        "/export/map.html?layers=cameras",
        "/export/map.html?layers=segments,air",
        "/export/map.html?kpi=aqi",
        "/export/map.html?domain=tourism",
        f"/export/map.html?scope=asset:cameras:{camera}",
    ]
    for path in forged:
        response = head.get(path)
        assert response.status_code == 403 and "may not" in response.get_json()["error"], path
        assert leader.get(path).status_code == 200, path
    # Its own data named explicitly is fine; names that mean nothing are a 400 for everyone.
    assert set(map_overlays(head.get("/export/map.html?layers=segments"))) == {TITLES["segments"]}
    assert head.get("/export/map.html?domain=transport&kpi=parking").status_code == 200
    for path in ("/export/kpis.csv?domain=weather", "/export/map.html?layers=weather"):
        assert head.get(path).status_code == 400 and leader.get(path).status_code == 400, path


def test_exp_a_screen_and_an_anonymous_caller_may_not_export(app: Any, clients: dict[str, FlaskClient]) -> None:
    anonymous = app.server.test_client()
    for path in ("/export/kpis.csv", "/export/map.html", "/export/kpis.csv?domain=transport"):
        assert clients["screen"].get(path).status_code == 403, path
        assert anonymous.get(path).status_code == 401, path


# ---- the pages: export links and the layer control --------------------------------------------------------------


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children] if children is not None else []:
        yield from walk(child)


def component(layout: Any, component_id: str) -> Any:
    return next((c for c in walk(layout) if getattr(c, "id", None) == component_id), None)


def overlay_names(layout: Any) -> list[str]:
    """The names the map's layer control lists."""
    control = next(c for c in walk(layout) if type(c).__name__ == "LayersControl")
    return [overlay.name for overlay in control.children]


def render(app: Any, who: Principal, scene: str, scope: str | None = None) -> Any:
    from flask_login import login_user

    from dashboard.app import _scene_layout
    from dashboard.scenes import SCENES

    with app.server.test_request_context(f"/{scene}"):
        login_user(who)
        services = app.server.extensions["shanting.services"]
        return _scene_layout(next(s for s in SCENES if s.id == scene), services, scope)


@pytest.mark.parametrize("domain", MAP_DOMAINS)
def test_exp_a_heads_scene_has_export_links_and_lists_only_their_layers(app: Any, domain: str) -> None:
    from dashboard.access import layer_permission

    head = Principal(f"head-{domain}", "department", domains=(domain,))
    layout = render(app, head, domain, "town:370406103")
    csv, html_map = component(layout, ids.EXPORT_CSV), component(layout, ids.EXPORT_MAP)
    assert csv is not None and html_map is not None
    assert csv.href == f"/export/kpis.csv?scope=town%3A370406103&domain={domain}"
    assert html_map.href.startswith(f"/export/map.html?scope=town%3A370406103&domain={domain}&kpi=")
    allowed = {TITLES[s.name] for s in LAYERS if head.may(layer_permission(s.name))}
    names = overlay_names(layout)
    listed_layers = [n for n in names if n in TITLES.values()]
    assert listed_layers and set(listed_layers) <= allowed
    # The 镇街 colouring offers only the head's own KPIs (another's would colour nothing).
    colouring = component(layout, ids.CHOROPLETH_KPI)
    offered = {option["value"] for option in colouring.options}
    assert offered and all(head.may(layer_permission("towns", kpi)) for kpi in offered)
    assert colouring.value in offered
    # A leader's map on the same scene keeps every layer the scene has.
    leader_names = overlay_names(render(app, Principal("l", "leader"), domain))
    assert set(names) < set(leader_names) or domain == "transport"  # the transport map only has its own layers


def test_exp_the_export_links_follow_the_matrix(app: Any) -> None:
    leader, screen = Principal("l", "leader"), Principal("s", "screen", screen_id="main")
    assert component(render(app, leader, "overview"), ids.EXPORT_CSV) is not None
    assert component(render(app, leader, "video"), ids.EXPORT_MAP) is not None
    # A big screen shows the same scenes without the links it could not use (nobody clicks a wall either).
    for scene in ("overview", "video", "environment", "rating"):
        layout = render(app, screen, scene)
        assert component(layout, ids.EXPORT_CSV) is None and component(layout, ids.EXPORT_MAP) is None, scene
    # The star rating's table: for those who may export it (a leader, the rating head), not another head.
    for who in (leader, Principal("r", "department", domains=("rating",))):
        link = component(render(app, who, "rating"), ids.EXPORT_CSV)
        assert link is not None and link.href == "/export/rating.csv"
    assert (
        component(render(app, Principal("t", "department", domains=("transport",)), "rating"), ids.EXPORT_CSV) is None
    )


def test_exp_another_departments_asset_is_not_shown_on_a_heads_pages_nor_served_as_a_scope(
    app: Any, clients: dict[str, FlaskClient]
) -> None:
    from dashboard.access import ASSET_DOMAINS
    from dashboard.scope import ASSET_FEEDS

    assert set(ASSET_DOMAINS) == set(ASSET_FEEDS), "every asset kind a scope may name belongs to a domain"
    camera = app.server.extensions["shanting.services"].live.rows("cameras").frame["camera_id"].iloc[0]
    scope = f"asset:cameras:{camera}"
    head, leader = clients["head-transport"], clients["leader"]
    # A layer asked for at the camera's scope: 403 for the transport head, served to the leader.
    assert head.get(f"/geo/buses?scope={scope}").status_code == 403
    assert leader.get(f"/geo/buses?scope={scope}").status_code == 200
    # The transport scene at the camera's scope says "not found" to the head, and nothing of the camera …
    page = str(render(app, Principal("head-transport", "department", domains=("transport",)), "transport", scope))
    assert "scope-error" in page and camera not in page
    # … while the video head and the leader get the camera's page.
    for who in (Principal("head-video", "department", domains=("video",)), Principal("l", "leader")):
        page = str(render(app, who, "video", scope))
        assert "scope-error" not in page and camera in page, who.name


def health_domains(client: FlaskClient) -> list[str]:
    """The domains on the health strip this client's refresh is sent."""
    body = {
        "output": f"{ids.HEALTH_STRIP}.children",
        "outputs": {"id": ids.HEALTH_STRIP, "property": "children"},
        "inputs": [{"id": ids.REFRESH, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{ids.REFRESH}.n_intervals"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return re.findall(r'"data-domain":\s*"(\w+)"', response.get_data(as_text=True))


def test_exp_a_heads_health_strip_shows_their_domains_and_the_base_geography(clients: dict[str, FlaskClient]) -> None:
    everything = ["transport", "video", "environment", "tourism", "rating", "events", "geo"]
    assert health_domains(clients["leader"]) == everything
    assert health_domains(clients["screen"]) == everything
    for domain in DOMAINS:
        assert health_domains(clients[f"head-{domain}"]) == [domain, "geo"]


def test_exp_the_kpi_api_answers_each_user_the_tiles_their_scenes_show(
    app: Any, clients: dict[str, FlaskClient]
) -> None:
    def metrics(client: FlaskClient, query: str = "") -> set[str]:
        response = client.get(f"/api/v1/kpis{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return {k["id"] for k in response.get_json()["kpis"]}

    every = {spec.id for spec in CATALOGUE.specs}
    assert metrics(clients["leader"]) == every == metrics(clients["screen"])
    for domain in DOMAINS:
        mine = {spec.id for spec in CATALOGUE.specs if spec.domain == domain}
        assert mine and metrics(clients[f"head-{domain}"]) == mine
        assert metrics(clients[f"head-{domain}"], "?scope=town:370406001") == mine
    camera = app.server.extensions["shanting.services"].live.rows("cameras").frame["camera_id"].iloc[0]
    assert clients["head-transport"].get(f"/api/v1/kpis?scope=asset:cameras:{camera}").status_code == 403
    assert metrics(clients["head-video"], f"?scope=asset:cameras:{camera}") == {
        spec.id for spec in CATALOGUE.specs if spec.domain == "video"
    }


def test_exp_the_star_rating_table_exports_every_indicator_to_those_who_may(
    app: Any, clients: dict[str, FlaskClient]
) -> None:
    from dashboard.rating_view import scene

    evaluation = scene(app.server.extensions["shanting.services"]).evaluation
    response = clients["leader"].get("/export/rating.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = pd.read_csv(io.BytesIO(response.data), encoding="utf-8-sig", dtype={"编号": str})
    assert all(len(str(gap).partition(".")[2]) <= 4 for gap in table["差距"].dropna())
    assert list(table.columns)[:3] == ["领域", "编号", "指标"] and len(table) == len(evaluation.results) + 1
    assert table["指标"].iloc[0] == "综合得分" and table["星级"].iloc[0] == evaluation.star
    assert list(table["编号"].iloc[1:]) == [r.indicator.id for r in evaluation.results]
    assert clients["head-rating"].get("/export/rating.csv").status_code == 200
    for refused in ("head-transport", "screen"):
        assert clients[refused].get("/export/rating.csv").status_code == 403, refused
    department = evaluation.results[0].indicator.department
    mine = clients["head-rating"].get("/export/rating.csv", query_string={"dept": department})
    rows = pd.read_csv(io.BytesIO(mine.data), encoding="utf-8-sig")
    assert len(rows) == sum(r.indicator.department == department for r in evaluation.results) and (
        set(rows["责任部门"]) == {department}
    )
    unknown = clients["leader"].get("/export/rating.csv", query_string={"dept": "无此部门"})
    assert unknown.status_code == 404 and "无此部门" in unknown.get_json()["error"]
