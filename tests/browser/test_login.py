"""Signing in through the form in headless Chromium: see a scene, be refused another department's, sign out."""

from __future__ import annotations

import pytest

from dashboard.accounts import Accounts
from tests.conftest import NOW

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]
PASSWORD = "a long demo password"


def test_login001_sign_in_see_a_scene_and_sign_out(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(auth={"trust_localhost": False})
    accounts = Accounts(app.server.extensions["shanting.services"].sources.store)
    if accounts.get("transport-head") is None:  # the live store is shared by the session's browser tests
        accounts.create("transport-head", PASSWORD, "department", NOW, domains=("transport",))
    dash_duo.start_server(app, navigate=False, port=free_port)  # its root is the login page, not the app
    base = dash_duo.server.url
    dash_duo.driver.get(f"{base}/transport")
    dash_duo.wait_for_element("#login-form", timeout=10)
    assert "/login?next=" in dash_duo.driver.current_url
    dash_duo.find_element("#username").send_keys("transport-head")
    dash_duo.find_element("#password").send_keys("wrong password")
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_element("#login-error", timeout=10)
    dash_duo.find_element("#username").send_keys("transport-head")
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_element("#trn-lines", timeout=30)  # the transport scene, where the form was sent from
    assert dash_duo.driver.current_url == f"{base}/transport"
    dash_duo.wait_for_text_to_equal(".brand-name", "山亭大脑", timeout=10)
    links = [a.text for a in dash_duo.find_elements(".scene-nav a")]
    assert links == ["交通", "数据接入"]  # only what a transport head may open
    assert not dash_duo.driver.find_elements("css selector", "#ticker")  # other departments' events
    dash_duo.driver.get(f"{base}/video")
    dash_duo.wait_for_element("#forbidden", timeout=10)
    dash_duo.driver.get(f"{base}/transport")
    dash_duo.wait_for_element("#logout-button", timeout=30).click()  # a POST with the CSRF token
    dash_duo.wait_for_element("#login-form", timeout=10)
    dash_duo.driver.get(f"{base}/transport")
    dash_duo.wait_for_element("#login-form", timeout=10)
    # No console error on the way: in particular none from the Content-Security-Policy.
    # The wrong password's 401 and the video page's 403 are the browser's only complaints.
    expected = ("/login - Failed to load resource: the server responded with a status of 401", "/video - Failed")
    assert [e["message"] for e in dash_duo.get_logs() if not any(x in e["message"] for x in expected)] == []
