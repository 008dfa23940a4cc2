"""Editors' accounts: users (argon2id password hashes), sessions, scoped API tokens, CSRF
tokens and the login rate limit. The functions taking an ``Archive`` run wherever the caller
is; the web app runs the writing ones on its writer thread.

- A session cookie holds 32 random bytes; the archive stores only their SHA-256, so reading the
  archive file never yields a usable session. Cookies are HttpOnly, SameSite=Lax (Strict would
  drop the session on links from other sites), Secure when served over HTTPS.
- Every form carries a CSRF token: the session's own when logged in, else a double-submit
  cookie (login form). htmx and fetch send it as ``X-CSRF-Token``.
- API tokens (``salon tokens add``) carry scopes: ``campaigns:write`` (create and edit
  campaigns), ``ingest`` (stream records in). Only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from salon.store.archive import Archive

__all__ = [
    "ROLES",
    "SCOPES",
    "AuthError",
    "RateLimiter",
    "User",
    "add_token",
    "add_user",
    "check_password",
    "create_session",
    "delete_session",
    "list_tokens",
    "list_users",
    "revoke_token",
    "session_user",
    "token_scopes",
]

ROLES = ("admin", "editor")
SCOPES = ("campaigns:write", "ingest")
SESSION_DAYS = 14
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps response times alike.
_DUMMY_HASH = _hasher.hash("not a password")


class AuthError(ValueError):
    """A refused account operation (the message says why)."""


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: str
    csrf_token: str = ""


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def add_user(arc: Archive, username: str, password: str, role: str = "editor") -> int:
    """Create a user; raises ``AuthError`` for a taken name, an unknown role or a short password."""
    username = username.strip()
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AuthError("a username is 1 to 64 characters without spaces")
    if len(password) < 10:
        raise AuthError("a password needs at least 10 characters")
    if arc.scalar("SELECT count(*) FROM users WHERE lower(username) = lower(?)", [username]):
        raise AuthError(f"user {username!r} exists")
    uid = int(arc.scalar("SELECT nextval('user_id_seq')"))
    arc.con.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?, false)",
        [uid, username, role, _hasher.hash(password), datetime.now(UTC)],
    )
    return uid


def set_password(arc: Archive, username: str, password: str) -> None:
    if len(password) < 10:
        raise AuthError("a password needs at least 10 characters")
    n = arc.con.execute(
        "UPDATE users SET password_hash = ? WHERE lower(username) = lower(?) RETURNING user_id",
        [_hasher.hash(password), username],
    ).fetchall()
    if not n:
        raise AuthError(f"no user {username!r}")


def list_users(arc: Archive) -> list[dict[str, Any]]:
    return arc.dicts("SELECT user_id, username, role, created_at, disabled FROM users ORDER BY user_id")


def check_password(arc: Archive, username: str, password: str) -> User | None:
    """The user if the password is right (argon2 verify), else None."""
    row = arc.con.execute(
        "SELECT user_id, username, role, password_hash FROM users WHERE lower(username) = ? AND NOT disabled",
        [" ".join(unicodedata.normalize("NFKC", username).split()).casefold()],
    ).fetchone()
    try:
        _hasher.verify(row[3] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return User(int(row[0]), row[1], row[2])


def create_session(arc: Archive, user: User) -> tuple[str, str]:
    """A new session for ``user``: (cookie value, CSRF token)."""
    value = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    arc.con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
    arc.con.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
        [_sha(value), user.user_id, csrf, now, now + timedelta(days=SESSION_DAYS)],
    )
    return value, csrf


def session_user(arc: Archive, value: str | None) -> User | None:
    """The user of a session cookie value, if the session is alive."""
    if not value:
        return None
    row = arc.con.execute(
        "SELECT u.user_id, u.username, u.role, s.csrf_token FROM sessions s JOIN users u USING (user_id)"
        " WHERE s.session_hash = ? AND s.expires_at > ? AND NOT u.disabled",
        [_sha(value), datetime.now(UTC)],
    ).fetchone()
    return User(int(row[0]), row[1], row[2], row[3]) if row else None


def delete_session(arc: Archive, value: str) -> None:
    arc.con.execute("DELETE FROM sessions WHERE session_hash = ?", [_sha(value)])


def add_token(arc: Archive, name: str, scopes: list[str], user_id: int | None = None) -> str:
    """Create an API token; returns it (the only time it is shown)."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise AuthError(f"scopes are some of {', '.join(SCOPES)}")
    token = "salon_" + secrets.token_urlsafe(32)
    tid = int(arc.scalar("SELECT nextval('token_id_seq')"))
    arc.con.execute(
        "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
        [tid, _sha(token), name, user_id, " ".join(sorted(set(scopes))), datetime.now(UTC)],
    )
    return token


def list_tokens(arc: Archive) -> list[dict[str, Any]]:
    return arc.dicts(
        "SELECT token_id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY token_id"
    )


def revoke_token(arc: Archive, token_id: int) -> bool:
    rows = arc.con.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL RETURNING token_id",
        [datetime.now(UTC), token_id],
    ).fetchall()
    return bool(rows)


def token_scopes(arc: Archive, token: str) -> set[str]:
    """The scopes of a live API token (empty for an unknown or revoked one)."""
    row = arc.con.execute(
        "SELECT scopes FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", [_sha(token)]
    ).fetchone()
    return set(row[0].split()) if row else set()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens (False when either is empty)."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


class RateLimiter:
    """At most ``limit`` attempts per key in a sliding window of ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, *keys: str) -> bool:
        """Record an attempt under every key; False when any key is over its limit."""
        now = time.monotonic()
        ok = True
        with self._lock:
            for key in keys:
                hits = [t for t in self._hits.get(key, []) if now - t < self.window]
                if len(hits) >= self.limit:
                    ok = False
                hits.append(now)
                self._hits[key] = hits
        return ok

    def reset(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._hits.pop(k, None)
