"""Who may do what: the users file (role + SHA-256 of the token), browser sessions and their
CSRF tokens, and the checks every request passes (401 / 403)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

Role = Literal["viewer", "operator"]
ROLES: tuple[str, ...] = ("viewer", "operator")
SESSION_COOKIE = "pp_session"
SESSION_TTL_S = 12 * 3600.0
# Failed logins from one client address allowed per window before it must wait.
LOGIN_FAILURES = 10
LOGIN_WINDOW_S = 60.0


class AuthFileError(ValueError):
    """The users file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        """Operators may do everything viewers may."""
        return role == "viewer" or self.role == "operator"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: float


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_users(path: str | Path) -> dict[str, User]:
    """``{sha256 hex: User}`` from a YAML / JSON file: ``users: [{name, role, token_sha256}]``."""
    where = str(path)
    try:
        document: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AuthFileError(f"{where}: cannot read the users file ({exc})") from None
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, list) or not users:
        raise AuthFileError(f"{where}: expected 'users:' with at least one entry")
    out: dict[str, User] = {}
    for index, entry in enumerate(users):
        at = f"{where}: users[{index}]"
        if not isinstance(entry, dict):
            raise AuthFileError(f"{at}: expected a mapping with name, role, token_sha256")
        name, role, digest = entry.get("name"), entry.get("role"), entry.get("token_sha256")
        if not isinstance(name, str) or not name:
            raise AuthFileError(f"{at}: 'name' must be a non-empty string")
        if role not in ROLES:
            raise AuthFileError(f"{at}: 'role' must be viewer or operator, not {role!r}")
        if not isinstance(digest, str) or len(digest) != 64:
            raise AuthFileError(f"{at}: 'token_sha256' must be 64 hex digits (sha256 of the token)")
        try:
            bytes.fromhex(digest)
        except ValueError:
            raise AuthFileError(f"{at}: 'token_sha256' must be 64 hex digits") from None
        if digest.lower() in out:
            raise AuthFileError(f"{at}: the same token hash is given twice")
        out[digest.lower()] = User(name, role)
    return out


class Authenticator:
    """Tokens to users, and the server-side session map (a cookie holds only a random id)."""

    def __init__(self, users: dict[str, User]) -> None:
        self._users = users
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def login_allowed(self, client: str) -> bool:
        """False after ``LOGIN_FAILURES`` failed logins from ``client`` within the window: a
        token cannot be guessed at the server's speed."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < LOGIN_WINDOW_S]
            self._failures[client] = recent
            return len(recent) < LOGIN_FAILURES

    def login_failed(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, []).append(time.monotonic())

    def user_for_token(self, token: str) -> User | None:
        digest = hash_token(token)
        found = None
        # Compare against every entry in constant time each, so timing tells nothing.
        for known, user in self._users.items():
            if hmac.compare_digest(known, digest):
                found = user
        return found

    def open_session(self, user: User) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), time.monotonic() + SESSION_TTL_S)
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def session(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires < time.monotonic():
                del self._sessions[session_id]
                return None
        return session

    def close_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
