"""The login limit on the real Redis: two workers count one client's attempts together."""

from __future__ import annotations

import pytest

from dashboard.accounts import Accounts
from tests.conftest import NOW, REDIS_URL
from tests.unit.test_auth import PASSWORD, sign_in

pytestmark = pytest.mark.integration


def test_two_workers_share_the_login_limit_through_redis(app_at_now, redis_prefix) -> None:  # type: ignore[no-untyped-def]
    settings = {
        "cache_url": REDIS_URL,
        "cache_prefix": redis_prefix,
        "auth": {"trust_localhost": False, "login_limit": "3 per minute"},
    }
    first = app_at_now(**settings)
    Accounts(first.server.extensions["shanting.services"].sources.store).create("leader", PASSWORD, "leader", NOW)
    a = first.server.test_client()
    assert [sign_in(a, "leader", f"guess {i}").status_code for i in (1, 2, 3)] == [401, 401, 401]
    # Another worker (Dash's page registry is per process: the newest app serves pages, so it comes second).
    b = app_at_now(**settings).server.test_client()
    assert sign_in(b, "leader").status_code == 429  # the fourth attempt, counted in Redis
