"""Accounts and the audit log, in the store (tables ``users`` and ``audit_log``), shared by every worker.

Passwords are hashed with scrypt (Werkzeug's default, memory-hard, from the standard library's ``hashlib``); a
screen's display token is its account's password, so it is stored the same way. The audit log is appended to and
never updated or deleted: who did what, when, from which address.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.access import DOMAINS, ROLES, Principal
from datasources.base import WritableSource
from datasources.kinds.sql import METADATA

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
#: Verified when the user is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user that cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    domains: tuple[str, ...]
    screen_id: str | None
    created_at: datetime
    disabled: bool
    password_hash: str
    signed_out_at: datetime | None = None

    def session_valid(self, issued_at: float | None) -> bool:
        """Whether a session issued at ``issued_at`` (epoch seconds) outlived the last sign-out."""
        if self.signed_out_at is None:
            return True
        return issued_at is not None and issued_at > self.signed_out_at.timestamp()

    def principal(self) -> Principal:
        fingerprint = hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]
        return Principal(
            self.username, self.role, self.display_name or self.username, self.domains, self.screen_id, fingerprint
        )


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    who: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]
    remote: str | None


class Accounts:
    """The ``users`` table over the ``sql`` store."""

    def __init__(self, store: WritableSource) -> None:
        if not hasattr(store, "engine"):
            raise TypeError(f"accounts need the sql store, not {type(store).__name__}")
        self.store = store
        self.table = METADATA.tables["users"]

    def _connect(self) -> Any:
        return self.store._connect()  # type: ignore[attr-defined]

    def get(self, username: str) -> Account | None:
        with self._connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.username == username)).mappings().first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self._connect() as conn:
            rows = conn.execute(select(self.table).order_by(self.table.c.role, self.table.c.username)).mappings()
            return [_account(r) for r in rows]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def create(
        self,
        username: str,
        password: str,
        role: str,
        now: datetime,
        *,
        display_name: str = "",
        domains: Sequence[str] = (),
        screen_id: str | None = None,
    ) -> Account:
        check(username, password, role, domains, screen_id)
        if self.get(username) is not None:
            raise AccountError(f"user {username!r} exists already")
        values = {
            "username": username,
            "display_name": (display_name or username)[:80],
            "password_hash": generate_password_hash(password),
            "role": role,
            "domains": ",".join(domains),
            "screen_id": screen_id,
            "created_at": now,
            "disabled": False,
        }
        with self._connect() as conn:
            conn.execute(self.table.insert().values(**values))
            conn.commit()
        return self.get(username)  # type: ignore[return-value]

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        self._update(username, password_hash=generate_password_hash(password))

    def set_disabled(self, username: str, disabled: bool = True) -> None:
        self._update(username, disabled=disabled)

    def sign_out(self, username: str, at: datetime) -> None:
        """End every session of the user issued before ``at``."""
        self._update(username, signed_out_at=at)

    def _update(self, username: str, **values: Any) -> None:
        with self._connect() as conn:
            done = conn.execute(self.table.update().where(self.table.c.username == username).values(**values))
            conn.commit()
        if not done.rowcount:
            raise AccountError(f"no user {username!r}")

    def verify(self, username: str, password: str) -> Account | None:
        """The enabled account whose password this is, else None (in about the same time either way)."""
        found = self.get(username) if USERNAME.fullmatch(username or "") else None
        ok = check_password_hash(found.password_hash if found else _DUMMY_HASH, password or "")
        return found if ok and found is not None and not found.disabled else None

    def screen_account(self, screen_id: str, token: str) -> Account | None:
        """The enabled screen account of ``screen_id`` whose display token this is."""
        with self._connect() as conn:
            rows = conn.execute(
                select(self.table).where(self.table.c.role == "screen", self.table.c.screen_id == screen_id)
            ).mappings()
            accounts = [_account(r) for r in rows]
        return next((a for a in accounts if not a.disabled and check_password_hash(a.password_hash, token or "")), None)


def check(username: str, password: str, role: str, domains: Sequence[str], screen_id: str | None) -> None:
    """Refuse a user the product could not use: bad name, short password, unknown role or domain."""
    if not USERNAME.fullmatch(username or ""):
        raise AccountError("a username is 1-64 of A-Z, a-z, 0-9 and _ . @ -")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise AccountError(f"unknown domain(s) {', '.join(unknown)}; domains: {', '.join(DOMAINS)}")
    if role == "department" and not domains:
        raise AccountError(f"a department head needs at least one domain ({', '.join(DOMAINS)})")
    if role == "screen" and not screen_id:
        raise AccountError("a screen account needs the id of its screen")


def _account(row: Mapping[str, Any]) -> Account:
    return Account(
        row["username"],
        row["display_name"],
        row["role"],
        tuple(d for d in (row["domains"] or "").split(",") if d),
        row["screen_id"],
        row["created_at"],
        bool(row["disabled"]),
        row["password_hash"],
        row.get("signed_out_at"),
    )


def new_password() -> str:
    """A random password (or display token) to print once."""
    return secrets.token_urlsafe(15)


class Audit:
    """The ``audit_log`` table: :meth:`record` appends; nothing updates or deletes."""

    def __init__(self, store: WritableSource) -> None:
        self.store = store
        self.table = METADATA.tables["audit_log"]

    def record(
        self,
        who: str,
        role: str,
        action: str,
        target: str,
        now: datetime,
        remote: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        values = {
            "at": now,
            "who": who[:80],
            "role": role[:16],
            "action": action[:40],
            "target": target[:200],
            "detail": json.dumps(dict(detail or {}), ensure_ascii=False, default=str),
            "remote": (remote or "")[:64] or None,
        }
        with self.store._connect() as conn:  # type: ignore[attr-defined]
            conn.execute(self.table.insert().values(**values))
            conn.commit()

    def recent(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        query = select(self.table).order_by(self.table.c.seq.desc()).limit(limit)
        if action:
            query = query.where(self.table.c.action == action)
        with self.store._connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(query).mappings().all()
        return [
            AuditEntry(
                r["seq"],
                r["at"],
                r["who"],
                r["role"],
                r["action"],
                r["target"],
                json.loads(r["detail"] or "{}"),
                r["remote"],
            )
            for r in rows
        ]
