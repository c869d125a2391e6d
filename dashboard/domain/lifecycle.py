"""An event's lifecycle as data: new → acknowledged → dispatched → in progress → resolved → closed.

Every change is an entry of the audit log (who, when, what, from which state to which); an event's present is the
replay of its entries (:func:`replay`), so nothing is overwritten and the history is the record. :func:`check`
says whether an action is allowed now and raises :class:`InvalidTransition` with the reason when it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

STATES: tuple[str, ...] = ("new", "acknowledged", "dispatched", "in_progress", "resolved", "closed")
OPEN_STATES = frozenset(STATES[:4])
#: action → (states it may start from, state it leads to; None: the state stays).
TRANSITIONS: Mapping[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({"new"}), "acknowledged"),
    "dispatch": (frozenset({"acknowledged", "dispatched"}), "dispatched"),  # again: hand it to someone else
    "start": (frozenset({"dispatched"}), "in_progress"),
    "resolve": (frozenset({"acknowledged", "dispatched", "in_progress"}), "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved"}), "acknowledged"),
    "note": (frozenset(STATES), None),
    "check": (OPEN_STATES, None),
    "escalate": (frozenset({"new"}), None),
    # The rules' own entries: the condition cleared, its values moved, a scene's rule changed the stored state.
    "auto_resolve": (OPEN_STATES, "resolved"),
    "update": (frozenset(STATES), None),
}
#: Actions an operator may take from the event page (the rest are the system's).
OPERATOR_ACTIONS: tuple[str, ...] = ("acknowledge", "dispatch", "start", "resolve", "close", "reopen", "note", "check")


class InvalidTransition(ValueError):
    """An action that the event's state (or its arguments) does not allow."""


@dataclass(frozen=True)
class Entry:
    """One line of the audit log."""

    event_id: str
    at: datetime
    who: str
    action: str
    state_from: str | None
    state_to: str | None
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)


def check(event_id: str, state: str, action: str, detail: Mapping[str, Any], steps: int = 0) -> str:
    """The state after ``action``; raises :class:`InvalidTransition` naming why not.

    ``steps`` is the number of checklist items (a ``check`` must name one of them).
    """
    if action not in TRANSITIONS:
        raise InvalidTransition(f"unknown action {action!r}; known: {', '.join(TRANSITIONS)}")
    allowed, to = TRANSITIONS[action]
    if state not in allowed:
        need = ", ".join(s for s in STATES if s in allowed)
        raise InvalidTransition(f"cannot {action} event {event_id}: it is {state} ({action} needs {need})")
    if action == "dispatch" and not str(detail.get("department") or "").strip():
        raise InvalidTransition(f"dispatch of {event_id} needs a department")
    if action == "note" and not str(detail.get("note") or "").strip():
        raise InvalidTransition(f"a note on {event_id} needs some text")
    if action == "check":
        item = detail.get("item")
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item < steps:
            raise InvalidTransition(f"checklist of {event_id} has items 0–{steps - 1}, not {item!r}")
    return to or state


@dataclass(frozen=True)
class Record:
    """An event's present, replayed from its log: state, who did what when, notes and checklist."""

    event_id: str
    state: str
    raised_at: datetime | None = None
    times: Mapping[str, datetime] = field(default_factory=dict, hash=False)
    who: Mapping[str, str] = field(default_factory=dict, hash=False)
    department: str | None = None
    person: str | None = None
    notes: tuple[tuple[datetime, str, str], ...] = ()
    checked: frozenset[int] = frozenset()
    escalations: int = 0
    entries: tuple[Entry, ...] = ()

    def time_to(self, state: str) -> timedelta | None:
        """How long from being raised until the event first reached ``state``."""
        at = self.times.get(state)
        return at - self.raised_at if at is not None and self.raised_at is not None else None


def replay(event_id: str, entries: Iterable[Entry]) -> Record:
    """The event's record after its log entries (oldest first). An empty log is a new event nobody touched."""
    state, raised, dept, person = "new", None, None, None
    times: dict[str, datetime] = {}
    who: dict[str, str] = {}
    notes: list[tuple[datetime, str, str]] = []
    checked: set[int] = set()
    escalations = 0
    kept = tuple(entries)
    for e in kept:
        if raised is None:
            raised = e.at if e.action == "raise" else e.detail.get("raised_at", e.at)
        if e.state_to and e.state_to != state:
            state = e.state_to
            times.setdefault(state, e.at)
            who.setdefault(state, e.who)
        if e.action == "dispatch":
            dept, person = e.detail.get("department"), e.detail.get("person") or None
        elif e.action == "note" or (e.detail.get("note") and e.action in OPERATOR_ACTIONS):
            notes.append((e.at, e.who, str(e.detail["note"])))
        elif e.action == "check":
            (checked.add if e.detail.get("done", True) else checked.discard)(int(e.detail["item"]))
        elif e.action == "escalate":
            escalations += 1
    return Record(
        event_id, state, raised, times, who, dept, person, tuple(notes), frozenset(checked), escalations, kept
    )
