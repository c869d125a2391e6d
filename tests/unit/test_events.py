"""The event book over the store: lifecycle with an append-only audit log, the engine's changes, escalation,
the scenes' own events brought into the log, and the engine over a seeded district."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.domain.lifecycle import InvalidTransition
from dashboard.domain.rules import Rule, Sample, Subject, plan
from dashboard.event_rules import load_catalogue, parse_rules
from dashboard.events import EventBook, engine_rules, evaluate
from datasources import SourceError
from datasources.kinds.sql import METADATA, SqlOptions, SqlSource
from tests.conftest import NOW
from tests.proxy import DiskFull

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path) -> SqlSource:
    return SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'ev.db'}"))


def raised(book: EventBook, event_id: str = "aqi_over_150-air-01-202611291000", rule_id: str = "aqi_over_150") -> str:
    book.raise_event(
        {
            "event_id": event_id,
            "ts": T0,
            "domain": "environment",
            "rule_id": rule_id,
            "severity": 2,
            "lon": 117.45,
            "lat": 35.07,
            "town_code": "370406001",
            "state": "new",
            "title": "山亭站 AQI 超过 150",
        },
        T0,
        subject="air-01",
        worst=160.0,
    )
    return event_id


def log_rows(store: SqlSource) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(METADATA.tables["event_log"])).scalar() or 0)


def test_the_whole_lifecycle_is_logged_and_nothing_is_overwritten(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    book.act(eid, "acknowledge", "值班员", T0 + 2 * M)
    book.act(eid, "dispatch", "值班员", T0 + 3 * M, department="生态环境分局", person="李四")
    book.act(eid, "check", "李四", T0 + 4 * M, item="0", done=True)
    book.act(eid, "start", "李四", T0 + 5 * M)
    book.act(eid, "note", "李四", T0 + 6 * M, note="已到场核查")
    book.act(eid, "resolve", "局长", T0 + 30 * M)
    rec = book.act(eid, "close", "值班员", T0 + 31 * M)
    assert rec.state == "closed" and store.read("events").frame["state"].tolist() == ["closed"]
    assert [e.action for e in rec.entries] == [
        "raise",
        "acknowledge",
        "dispatch",
        "check",
        "start",
        "note",
        "resolve",
        "close",
    ]
    assert [(e.state_from, e.state_to) for e in rec.entries][:3] == [
        (None, "new"),
        ("new", "acknowledged"),
        ("acknowledged", "dispatched"),
    ]
    assert rec.department == "生态环境分局" and rec.checked == frozenset({0})
    assert rec.time_to("acknowledged") == 2 * M and rec.time_to("resolved") == 30 * M
    assert rec.who["resolved"] == "局长"
    assert log_rows(store) == 8  # one row per change, appended


def test_invalid_transitions_raise_and_leave_no_trace(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    with pytest.raises(InvalidTransition, match=r"cannot resolve event .*: it is new"):
        book.act(eid, "resolve", "x", T0 + M)
    with pytest.raises(InvalidTransition, match="items 0–4"):
        book.act(eid, "check", "x", T0 + M, item=9)  # aqi_over_150 has 5 steps
    with pytest.raises(KeyError, match="no event 'nope'"):
        book.act("nope", "acknowledge", "x", T0)
    assert log_rows(store) == 1 and book.record(eid).state == "new"


def test_escalation_once_when_nobody_acknowledges(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    assert book.escalate(T0 + 10 * M, 15 * M) == 0
    assert book.escalate(T0 + 16 * M, 15 * M) == 1
    assert book.escalate(T0 + 40 * M, 15 * M) == 0  # once
    assert book.record(eid).escalations == 1
    other = raised(book, "aqi_over_150-air-02-202611291000")
    book.act(other, "acknowledge", "值班员", T0 + 5 * M)
    assert book.escalate(T0 + 60 * M, 15 * M) == 0


def rule(**kw: object) -> Rule:
    return parse_rules(
        [
            {
                "id": "level_high",
                "domain": "environment",
                "metric": "reservoir_over_flood_limit",
                "title_zh": "超汛限",
                "title_en": "over",
                "severity": 3,
                "department": "水务局",
                "value": 0,
                "unit": "m",
                **kw,
            }
        ],
        "test",
    )[0]


def subject(*values: float) -> Subject:
    samples = tuple(Sample(T0 + i * 10 * M, v) for i, v in enumerate(values))
    return Subject("res-1", "岩马水库", samples, 117.37, 35.21, "370406009")


def test_the_engine_opens_one_event_updates_it_and_resolves_it(store: SqlSource) -> None:
    book = EventBook(store)
    r = rule()
    now = T0 + 20 * M
    assert book.apply(plan(r, [subject(-1, 0.2, 0.4)], book.open_events(now), now), now) == 1
    assert book.apply(plan(r, [subject(-1, 0.2, 0.4)], book.open_events(now), now), now) == 0  # dedup
    later = T0 + 30 * M
    assert book.apply(plan(r, [subject(-1, 0.2, 0.4, 0.6)], book.open_events(later), later), later) == 1
    events = store.read("events").frame
    assert len(events) == 1 and "0.6m" in events["title"].iloc[0]
    done = T0 + 40 * M
    book.apply(plan(r, [subject(-1, 0.2, 0.4, 0.6, -0.1)], book.open_events(done), done), done)
    rec = book.record(events["event_id"].iloc[0])
    assert rec.state == "resolved" and [e.action for e in rec.entries] == ["raise", "update", "auto_resolve"]
    assert rec.entries[0].detail["samples"][-1][1] == 0.4  # the data that triggered it is kept


def test_a_breach_an_operator_closed_is_not_raised_again(store: SqlSource) -> None:
    book = EventBook(store)
    r = rule()
    now = T0 + 20 * M
    book.apply(plan(r, [subject(0.2, 0.4)], [], now), now)
    eid = store.read("events").frame["event_id"].iloc[0]
    for action in ("acknowledge", "resolve", "close"):
        book.act(eid, action, "值班员", now)
    assert book.apply(plan(r, [subject(0.2, 0.4, 0.5)], book.open_events(now), now), now) == 0
    assert book.record(eid).state == "closed"


def test_events_the_scenes_wrote_get_their_log(store: SqlSource) -> None:
    book = EventBook(store)
    row = {
        "event_id": "tour-warning-spot-1-202611291000",
        "ts": T0,
        "domain": "tourism",
        "rule_id": "crowding_warning",
        "severity": 2,
        "lon": 117.6,
        "lat": 35.0,
        "town_code": None,
        "state": "new",
        "title": "熊耳山 80%",
    }
    store.write("events", pd.DataFrame([row]), now=T0, origin="rules:tourism")
    assert book.sync(T0 + M) == 1
    assert book.sync(T0 + M) == 0
    store.write("events", pd.DataFrame([{**row, "state": "resolved"}]), now=T0, origin="rules:tourism")
    assert book.sync(T0 + 2 * M) == 1
    rec = book.record(row["event_id"])
    assert rec.state == "resolved" and [e.action for e in rec.entries] == ["raise", "auto_resolve"]
    assert rec.entries[0].who == "rules:tourism"


def test_the_catalogue_rejects_typos_with_the_rule_named() -> None:
    with pytest.raises(ValueError, match="rule x: unknown key 'thresold'"):
        parse_rules([{"id": "x", "thresold": 1}], "test")
    with pytest.raises(ValueError, match="unknown metric 'aqii'"):
        parse_rules([{"id": "x", "domain": "environment", "metric": "aqii"}], "test")
    with pytest.raises(ValueError, match="severity"):
        rule(severity=7)
    built_in = {r.id for r in load_catalogue().rules}
    assert {
        "aqi_over_150",
        "water_below_target",
        "camera_working_rate",
        "crowding_warning",
        "crowding_limit",
    } <= built_in
    assert {"tpi_severe", "reservoir_over_flood_limit", "radiation_over_baseline", "feed_stale"} <= built_in


def test_a_deployment_adds_replaces_and_disables_rules(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "rules.toml"
    extra.write_text(
        '[[rule]]\nid = "tpi_severe"\ndomain = "transport"\nmetric = "tpi"\nop = ">="\nvalue = 9\n'
        'title_zh = "t"\ntitle_en = "t"\nseverity = 4\ndepartment = "交警大队"\n',
        encoding="utf-8",
    )
    settings = make_settings(events={"rules_file": str(extra), "disabled": ["feed_stale"]})
    cat = load_catalogue(settings)
    assert cat.get("tpi_severe").value == 9 and cat.get("tpi_severe").severity == 4  # type: ignore[union-attr]
    assert cat.get("feed_stale") is None
    with pytest.raises(ValueError, match="unknown rules: nope"):
        load_catalogue(make_settings(events={"disabled": ["nope"]}))


def test_the_engine_over_a_seeded_district_raises_stale_feeds_once(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    settings = make_settings(store_url=f"sqlite:///{seeded_copy}")
    book = EventBook(store, load_catalogue(settings))
    later = NOW + 3 * timedelta(hours=1)  # the simulator stopped at NOW: the fast feeds went quiet
    assert evaluate(book, settings, NOW) >= 0
    before = store.read("events").frame
    assert not (before["rule_id"] == "feed_stale").any()
    evaluate(book, settings, later)
    events = store.read("events").frame
    stale = events.loc[events["rule_id"] == "feed_stale"]
    assert any(eid.startswith("feed_stale-segment_speeds-") for eid in stale["event_id"])
    assert evaluate(book, settings, later) == 0  # dedup: nothing new on the next pass
    run = engine_rules(store, settings)
    assert run(later + M) >= 0
    assert len(store.read("events").frame) >= len(events)
    store.engine.dispose()


def test_a_scene_rule_does_not_reopen_what_an_operator_resolved() -> None:
    from dashboard.environment import keep_operator_states

    written = pd.DataFrame({"event_id": ["a", "b"], "state": ["new", "resolved"]})
    stored = pd.DataFrame({"event_id": ["a", "b"], "state": ["resolved", "dispatched"]})
    assert keep_operator_states(written, stored)["state"].tolist() == ["resolved", "resolved"]


@pytest.mark.integration
def test_the_book_on_postgresql(pg_database: str) -> None:
    store = SqlSource("store", SqlOptions(url=pg_database))
    book = EventBook(store)
    eid = raised(book, "aqi_over_150-pg-01-202611291000")
    book.act(eid, "acknowledge", "值班员", T0 + M)
    book.act(eid, "dispatch", "值班员", T0 + 2 * M, department="生态环境分局")
    book.act(eid, "start", "李四", T0 + 3 * M)
    with pytest.raises(InvalidTransition, match="cannot close"):
        book.act(eid, "close", "李四", T0 + 4 * M)
    rec = book.act(eid, "resolve", "局长", T0 + 5 * M)
    assert rec.state == "resolved" and rec.time_to("resolved") == 5 * M
    assert [e.action for e in book.record(eid).entries] == ["raise", "acknowledge", "dispatch", "start", "resolve"]
    row = store.read("events").frame.set_index("event_id").loc[eid]
    assert row["state"] == "resolved"
    store.engine.dispose()


# ---- one change at a time: two operators, the rules and an operator ------------------------------


def test_a_stale_read_cannot_overwrite_what_another_operator_did(store: SqlSource, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    book = EventBook(store)
    eid = raised(book)
    seen_by_b = book.row(eid)  # operator B opened the event while it was new …
    book.act(eid, "acknowledge", "甲", T0 + M)  # … operator A acknowledged it first
    monkeypatch.setattr(book, "row", lambda _eid: seen_by_b)
    entries = log_rows(store)
    with pytest.raises(InvalidTransition, match="changed meanwhile"):
        book.act(eid, "acknowledge", "乙", T0 + 2 * M)
    assert log_rows(store) == entries
    assert book.record(eid).who["acknowledged"] == "甲"


def test_an_entry_and_its_row_land_together_or_not_at_all(store: SqlSource, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    book = EventBook(store)
    eid = raised(book)
    entries = log_rows(store)

    def disk_full(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_in", disk_full)
    with pytest.raises(OSError, match="disk full"):
        book.act(eid, "acknowledge", "甲", T0 + M)
    assert log_rows(store) == entries and book.record(eid).state == "new"
    monkeypatch.undo()
    assert book.act(eid, "acknowledge", "甲", T0 + 2 * M).state == "acknowledged"
    assert store.read("events").frame.set_index("event_id").loc[eid, "state"] == "acknowledged"


def test_an_action_on_a_full_disk_is_a_source_error_in_health_and_leaves_no_trace(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    entries = log_rows(store)
    disk = DiskFull(store.engine)
    disk.full = True
    with pytest.raises(SourceError, match=f"cannot write event {eid}.*disk is full"):
        book.act(eid, "acknowledge", "甲", T0 + M)
    assert store.write_failure is not None and "disk is full" in store.write_failure[1]
    disk.full = False
    assert log_rows(store) == entries and book.record(eid).state == "new"
    assert book.act(eid, "acknowledge", "甲", T0 + 2 * M).state == "acknowledged"
    assert store.write_failure is None


def test_raising_the_same_event_twice_writes_it_once(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    row = book.row(eid)
    assert book.raise_event(row, T0 + M) is False
    assert [e.action for e in book.record(eid).entries] == ["raise"]


def acknowledge_at_once(book: EventBook, eid: str, operators: int) -> list[str]:
    """``operators`` threads acknowledge one event at the same moment; returns who succeeded."""
    import threading

    start = threading.Barrier(operators)
    won: list[str] = []

    def operator(name: str) -> None:
        start.wait()
        try:
            book.act(eid, "acknowledge", name, T0 + M)
            won.append(name)
        except InvalidTransition:
            pass

    threads = [threading.Thread(target=operator, args=(f"op{i}",)) for i in range(operators)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return won


def test_operators_acknowledging_at_once_one_wins(store: SqlSource) -> None:
    book = EventBook(store)
    eid = raised(book)
    won = acknowledge_at_once(book, eid, 6)
    assert len(won) == 1, won
    assert [e.action for e in book.record(eid).entries] == ["raise", "acknowledge"]


@pytest.mark.integration
def test_operators_acknowledging_at_once_one_wins_on_postgresql(pg_empty: str) -> None:
    store = SqlSource("store", SqlOptions(url=pg_empty))
    book = EventBook(store)
    eid = raised(book, "aqi_over_150-pg-02-202611291000")
    won = acknowledge_at_once(book, eid, 6)
    assert len(won) == 1, won
    assert [e.action for e in book.record(eid).entries] == ["raise", "acknowledge"]
    store.engine.dispose()


# ---- one condition, one event ----------------------------------------------------------------------


def test_one_pollution_episode_raises_one_event_per_station(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    from dashboard import simulation

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    station = store.read("air_stations").frame.sort_values("station_id").iloc[0].station_id
    heavy = [
        {"station_id": station, "ts": NOW - h * timedelta(hours=1), "pm25": 250.0, "pm10": 120.0, "averaging": "1h"}
        for h in (2, 1, 0)
    ]
    store.write("air_readings", pd.DataFrame(heavy), now=NOW, origin="test")
    simulation.rules(store, make_settings(store_url=f"sqlite:///{seeded_copy}"))(NOW)
    events = store.read("events").frame
    mine = events.loc[events["event_id"].str.contains(f"-{station}-") & events["domain"].eq("environment")]
    assert mine["rule_id"].tolist() == ["aqi_over_150"], mine[["event_id", "rule_id"]]
    store.engine.dispose()


def test_a_disabled_scene_rule_writes_nothing(tmp_path: Path, make_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dashboard import simulation

    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        simulation, "tourism_rules", lambda _s, _c, ids: calls.append(tuple(sorted(ids))) or (lambda now: 0)
    )
    monkeypatch.setattr(
        simulation, "environment_rules", lambda _s, _c: calls.append(("aqi_episode",)) or (lambda now: 0)
    )
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'r.db'}"))
    simulation.rules(store, make_settings(events={"disabled": ["crowding_warning"]}))
    assert calls == [("crowding_limit",)]  # the episode rule is off by default, the warning switched off here
    calls.clear()
    simulation.rules(store, make_settings(events={"disabled": ["crowding_warning", "crowding_limit"]}))
    assert calls == []
