"""The screens' shared state in the store: operator commands, heartbeats, and what each screen should show.

Every worker reads and writes the same two tables (``screen_state``, ``screen_heartbeat``), so a command taken by
one worker is what a screen polling another worker sees at its next poll; nothing is held in a process. The
decisions themselves are the pure functions of :mod:`dashboard.screens`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select

from dashboard import screens
from dashboard.live import Failed, Live
from dashboard.scenes import SCENES
from dashboard.scope import parse
from dashboard.screens import Alarm, CommandError, ScreenState, Slot, Target
from dashboard.settings import ScreenSettings, Settings
from datasources.base import WritableSource
from datasources.kinds.sql import METADATA, _upsert

SCENE_IDS = tuple(s.id for s in SCENES)


class UnknownScreen(LookupError):
    """A screen id the settings do not name (HTTP 404); the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown screen"


@dataclass(frozen=True)
class Beat:
    """A screen's last heartbeat: what it showed, in which mode, when, from where."""

    screen_id: str
    seen_at: datetime
    scene: str
    scope: str
    mode: str
    alarm: str | None
    client: str | None


class ScreenBoard:
    """Screen state over the ``sql`` store (the same store the events keep their log in)."""

    def __init__(self, store: WritableSource, settings: Settings) -> None:
        if not hasattr(store, "engine"):
            raise TypeError(f"screen state needs the sql store, not {type(store).__name__}")
        self.store = store
        self.engine = store.engine
        self.settings = settings
        self.states = METADATA.tables["screen_state"]
        self.beats = METADATA.tables["screen_heartbeat"]

    def _connect(self) -> Any:
        return self.store._connect()  # type: ignore[attr-defined]

    # ---- configuration -----------------------------------------------------------------------------

    def screen(self, screen_id: str) -> ScreenSettings:
        """The screen's settings; :class:`UnknownScreen` names the known ids."""
        found = self.settings.screens.get(screen_id)
        if found is None:
            known = ", ".join(sorted(self.settings.screens)) or "none configured"
            raise UnknownScreen(f"unknown screen {screen_id[:40]!r}; known screens: {known}")
        return found

    def slots(self, screen_id: str, towns: Sequence[str]) -> tuple[Slot, ...]:
        items = [screens.Item(i.scene, i.dwell_s, i.scope, i.each_town) for i in self.screen(screen_id).playlist]
        return screens.expand(items, towns)

    # ---- state ---------------------------------------------------------------------------------------

    def state(self, screen_id: str) -> ScreenState:
        """The operator's last command for the screen (a running playlist when there was none)."""
        self.screen(screen_id)
        with self._connect() as conn:
            row = conn.execute(select(self.states).where(self.states.c.screen_id == screen_id)).mappings().first()
        if row is None:
            return ScreenState()
        return ScreenState(row["mode"], row["scene"], row["scope"], row["started_at"], float(row["offset_s"]))

    def save(self, screen_id: str, state: ScreenState, who: str, now: datetime) -> None:
        values = {
            "screen_id": screen_id,
            "mode": state.mode,
            "scene": state.scene,
            "scope": state.scope,
            "started_at": state.started_at,
            "offset_s": state.offset_s,
            "updated_at": now,
            "updated_by": (who or "operator").strip()[:80] or "operator",
        }
        with self.store.writing("screen_state") as conn:  # type: ignore[attr-defined]
            conn.execute(
                _upsert(self.engine, self.states, None, index=("screen_id",), update=tuple(values)[1:]), [values]
            )
            conn.commit()

    def command(
        self,
        screen_id: str,
        name: str,
        who: str,
        now: datetime,
        towns: Sequence[str],
        *,
        scene: str | None = None,
        scope: str | None = None,
    ) -> ScreenState:
        """Apply an operator's command and store the result; :class:`CommandError` names a bad one."""
        if scene is not None and scene not in SCENE_IDS:
            raise CommandError(f"unknown scene {scene!r}; known: {', '.join(SCENE_IDS)}")
        if scope is not None:
            parse(scope)  # ScopeError names a malformed scope
        beat = self.heartbeats().get(screen_id)
        showing = (beat.scene, beat.scope) if beat and beat.mode != "alarm" else None
        state = screens.command(
            self.state(screen_id), name, now, self.slots(screen_id, towns), scene=scene, scope=scope, showing=showing
        )
        self.save(screen_id, state, who, now)
        return state

    # ---- what to show ----------------------------------------------------------------------------------

    def target(self, screen_id: str, now: datetime, towns: Sequence[str], alarms: Sequence[Alarm]) -> Target:
        """What the screen should show now (the alarm holding it, else its pinned or rotating slot)."""
        alarm = screens.preempting(alarms, self.screen(screen_id).alarm_severity)
        return screens.target(self.state(screen_id), self.slots(screen_id, towns), alarm, now)

    # ---- heartbeats -------------------------------------------------------------------------------------

    def beat(
        self, screen_id: str, now: datetime, scene: str, scope: str, mode: str, alarm: str | None, client: str | None
    ) -> None:
        """Record that the screen is up and what it shows (rewritten at every poll)."""
        self.screen(screen_id)
        values = {
            "screen_id": screen_id,
            "seen_at": now,
            "scene": scene[:32],
            "scope": scope[:100],
            "mode": mode[:16],
            "alarm": alarm[:64] if alarm else None,
            "client": client[:64] if client else None,
        }
        with self.store.writing("screen_heartbeat") as conn:  # type: ignore[attr-defined]
            conn.execute(
                _upsert(self.engine, self.beats, None, index=("screen_id",), update=tuple(values)[1:]), [values]
            )
            conn.commit()

    def heartbeats(self) -> dict[str, Beat]:
        """The last heartbeat of every screen that ever reported."""
        with self._connect() as conn:
            rows = conn.execute(select(self.beats)).mappings().all()
        return {r["screen_id"]: Beat(**dict(r)) for r in rows}


# ---- reads the screens need from the live feeds -----------------------------------------------------------


def towns(live: Live) -> tuple[str, ...]:
    """The 镇街 codes in order (empty while the towns feed fails: ``each_town`` items then show the district)."""
    rows = live.rows("towns")
    if isinstance(rows, Failed):
        return ()
    return tuple(sorted(str(c) for c in rows.frame["town_code"]))


def alarms(live: Live) -> tuple[Alarm, ...]:
    """Events that could take screens over: the open ones of the events feed's live window."""
    rows = live.rows("events")
    if isinstance(rows, Failed):
        return ()
    return alarms_of(rows.frame)


def alarms_of(frame: pd.DataFrame) -> tuple[Alarm, ...]:
    """The events frame as :class:`Alarm` values (only unacknowledged ones can preempt)."""
    waiting = frame.loc[frame["state"].eq("new")]
    return tuple(
        Alarm(
            str(e.event_id),
            int(e.severity),
            str(e.state),
            str(e.domain),
            None if pd.isna(e.town_code) else str(e.town_code),
            pd.Timestamp(e.ts).to_pydatetime(),
            str(e.title),
        )
        for e in waiting.itertuples(index=False)
    )
