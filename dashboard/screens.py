"""Big screens as data: playlists, rotation, operator commands, heartbeats and alarm preemption.

Everything here is a pure function of its arguments (and "now"), so any worker computes the same answer from the
state kept in the store (:mod:`dashboard.screen_board`): what a screen should show is never held in a process.

- A screen's **playlist** (settings) expands into slots: one per scene, or one per 镇街 for an ``each_town`` item.
- **Rotation** is a position in the cycle of slots, counted from when the playlist was (re)started: every worker
  agrees which slot is current without talking to the others. Pausing keeps the offset into the cycle.
- **Commands** (show, pin, run, pause, resume) turn one :class:`ScreenState` into the next.
- **Preemption**: an unacknowledged event at or above the screen's alarm severity takes the screen over with its
  scene and location; acknowledging it (any worker, any page) releases the screen back to its rotation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

Mode = Literal["playlist", "pinned", "paused"]
MODES: tuple[Mode, ...] = ("playlist", "pinned", "paused")
COMMANDS = ("show", "pin", "run", "pause", "resume")
#: A screen that has not reported for this long is offline (it reports every second).
ONLINE_S = 10.0
#: The rotation of a screen nobody has commanded yet counts from this instant (the same in every worker).
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: The scene an event of each domain takes a screen to; other domains (system…) show the overview.
ALARM_SCENES = {"transport": "transport", "video": "video", "environment": "environment", "tourism": "tourism"}


class CommandError(ValueError):
    """An operator command that cannot apply (unknown command, scene, or a state that does not allow it)."""


@dataclass(frozen=True)
class Slot:
    """One step of a rotation: a scene at a scope for ``dwell_s`` seconds."""

    scene: str
    scope: str
    dwell_s: float


@dataclass(frozen=True)
class Item:
    """A playlist entry as configured: a scene at one scope, or at every 镇街 in turn (``each_town``)."""

    scene: str
    dwell_s: float
    scope: str = "district"
    each_town: bool = False


@dataclass(frozen=True)
class ScreenState:
    """What the operator last told a screen to do (kept in the store).

    ``started_at`` anchors the rotation; ``offset_s`` is where in the cycle a paused rotation stopped;
    ``scene``/``scope`` are what a pinned screen shows.
    """

    mode: Mode = "playlist"
    scene: str = "overview"
    scope: str = "district"
    started_at: datetime = EPOCH
    offset_s: float = 0.0


@dataclass(frozen=True)
class Alarm:
    """An event that may take screens over."""

    event_id: str
    severity: int
    state: str
    domain: str
    town_code: str | None
    ts: datetime
    title: str


@dataclass(frozen=True)
class Target:
    """What a screen should show now, and why (``mode`` is ``alarm`` while an event holds it)."""

    scene: str
    scope: str
    mode: str
    index: int | None = None
    count: int | None = None
    alarm: str | None = None

    @property
    def search(self) -> str:
        """The screen page's query string for this target (what its URL carries)."""
        query = {"scene": self.scene, "scope": self.scope}
        if self.alarm:
            query["alarm"] = self.alarm
        return "?" + urlencode(query)


# ---- playlists and rotation ---------------------------------------------------------------------------


def expand(items: Sequence[Item], towns: Sequence[str]) -> tuple[Slot, ...]:
    """The playlist's slots: ``each_town`` items become one slot per 镇街 (in the towns' order).

    An ``each_town`` item with no towns known (the towns feed failing) shows the district instead, so a
    rotation never runs empty.
    """
    slots: list[Slot] = []
    for item in items:
        if item.each_town and towns:
            slots.extend(Slot(item.scene, f"town:{code}", item.dwell_s) for code in towns)
        else:
            slots.append(Slot(item.scene, "district" if item.each_town else item.scope, item.dwell_s))
    return tuple(slots)


def cycle_s(slots: Sequence[Slot]) -> float:
    """Seconds one pass through the slots takes."""
    return sum(s.dwell_s for s in slots)


def position(slots: Sequence[Slot], elapsed_s: float) -> int:
    """The index of the slot showing ``elapsed_s`` seconds after the rotation started (it wraps around)."""
    if not slots:
        raise ValueError("a rotation needs at least one slot")
    at = elapsed_s % cycle_s(slots)
    for index, slot in enumerate(slots):
        if at < slot.dwell_s:
            return index
        at -= slot.dwell_s
    return len(slots) - 1  # float rounding at the very end of the cycle


def elapsed(state: ScreenState, now: datetime) -> float:
    """Seconds into the rotation: frozen while paused, running otherwise."""
    if state.mode == "paused":
        return state.offset_s
    return max(0.0, (now - state.started_at).total_seconds())


# ---- commands ------------------------------------------------------------------------------------------


def command(
    state: ScreenState,
    name: str,
    now: datetime,
    slots: Sequence[Slot],
    *,
    scene: str | None = None,
    scope: str | None = None,
    showing: tuple[str, str] | None = None,
) -> ScreenState:
    """The state after an operator's command; :class:`CommandError` names why a command cannot apply.

    ``show`` pins a chosen scene/scope; ``pin`` pins what the screen ``showing`` now (its heartbeat);
    ``run`` restarts the playlist from its first slot; ``pause`` freezes the rotation on its current slot;
    ``resume`` goes on from there.
    """
    if name == "show":
        if not scene:
            raise CommandError("show needs a scene")
        return ScreenState("pinned", scene, scope or "district", state.started_at, state.offset_s)
    if name == "pin":
        scene_now, scope_now = showing or current_slot(state, slots, now)
        return ScreenState("pinned", scene_now, scope_now, state.started_at, state.offset_s)
    if name == "run":
        return ScreenState("playlist", state.scene, state.scope, now, 0.0)
    if name == "pause":
        if state.mode != "playlist":
            raise CommandError(f"only a running playlist can be paused (the screen is {state.mode})")
        return replace(state, mode="paused", offset_s=elapsed(state, now) % cycle_s(slots))
    if name == "resume":
        if state.mode != "paused":
            raise CommandError(f"only a paused playlist can be resumed (the screen is {state.mode})")
        return replace(state, mode="playlist", started_at=now - timedelta(seconds=state.offset_s))
    raise CommandError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")


def current_slot(state: ScreenState, slots: Sequence[Slot], now: datetime) -> tuple[str, str]:
    """(scene, scope) the state shows at ``now`` without alarms."""
    if state.mode == "pinned":
        return state.scene, state.scope
    slot = slots[position(slots, elapsed(state, now))]
    return slot.scene, slot.scope


# ---- alarms --------------------------------------------------------------------------------------------


def preempting(alarms: Iterable[Alarm], min_severity: int | None) -> Alarm | None:
    """The event that holds a screen: the most severe (then newest) unacknowledged one at or above
    ``min_severity``; None when the screen takes no alarms or none qualifies."""
    if min_severity is None:
        return None
    waiting = [a for a in alarms if a.state == "new" and a.severity >= min_severity]
    if not waiting:
        return None
    return max(waiting, key=lambda a: (a.severity, a.ts, a.event_id))


def alarm_target(alarm: Alarm) -> tuple[str, str]:
    """(scene, scope) an event takes a screen to: its domain's scene at its 镇街 (or the district)."""
    scene = ALARM_SCENES.get(alarm.domain, "overview")
    return scene, f"town:{alarm.town_code}" if alarm.town_code else "district"


def target(state: ScreenState, slots: Sequence[Slot], alarm: Alarm | None, now: datetime) -> Target:
    """What the screen should show now: the alarm while one holds it, else its pinned or rotating slot."""
    if alarm is not None:
        scene, scope = alarm_target(alarm)
        return Target(scene, scope, "alarm", alarm=alarm.event_id)
    if state.mode == "pinned":
        return Target(state.scene, state.scope, "pinned")
    index = position(slots, elapsed(state, now))
    slot = slots[index]
    return Target(slot.scene, slot.scope, state.mode, index, len(slots))


# ---- heartbeats ------------------------------------------------------------------------------------------


def online(seen_at: datetime | None, now: datetime, limit_s: float = ONLINE_S) -> bool:
    """Whether a screen last seen at ``seen_at`` still counts as online at ``now``."""
    return seen_at is not None and (now - seen_at).total_seconds() <= limit_s
