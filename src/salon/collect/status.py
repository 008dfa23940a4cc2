"""What each collector is doing, for the CLI's Rich table and the web app: connection state,
counters, and what it waits for ("waiting 4m12s for the rate limit")."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SourceStatus", "StatusBoard", "human_seconds"]


def human_seconds(seconds: float) -> str:
    """``252`` → ``4m12s``; ``3.2`` → ``3s``; ``4000`` → ``1h06m``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


@dataclass
class SourceStatus:
    """One collector's live state. Mutated from the event loop, read from anywhere."""

    source: str
    state: str = (
        "starting"  # starting | connecting | live | polling | backfilling | waiting | stopped | failed
    )
    detail: str = ""
    received: int = 0
    stored: int = 0
    posts_new: int = 0
    duplicates: int = 0
    bad: int = 0
    connections: int = 0
    disconnects: int = 0
    last_event_at: float | None = None
    wait_until: float | None = None
    wait_reason: str | None = None
    rate_limited_until: float | None = None
    last_problem: str | None = None
    _before_wait: str = field(default="", repr=False)

    def set(self, state: str, detail: str = "") -> None:
        self.state, self.detail = state, detail

    def waiting(self, seconds: float, reason: str) -> None:
        if self.state != "waiting":
            self._before_wait = self.state
        self.state = "waiting"
        self.wait_until = time.time() + seconds
        self.wait_reason = reason

    def done_waiting(self) -> None:
        if self.state == "waiting":
            self.state = self._before_wait or "starting"
        self.wait_until = self.wait_reason = None

    def problem(self, message: str) -> None:
        self.last_problem = message

    def describe(self, now: float | None = None) -> str:
        """One line: ``waiting 4m12s for the rate limit``, ``live``, ``polling ...``."""
        now = time.time() if now is None else now
        if self.state == "waiting" and self.wait_until is not None:
            return f"waiting {human_seconds(self.wait_until - now)} {self.wait_reason or ''}".strip()
        return f"{self.state} {self.detail}".strip()

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "state": self.state,
            "status": self.describe(),
            "received": self.received,
            "stored": self.stored,
            "posts_new": self.posts_new,
            "duplicates": self.duplicates,
            "bad": self.bad,
            "connections": self.connections,
            "disconnects": self.disconnects,
            "last_event_at": self.last_event_at,
            "last_problem": self.last_problem,
        }


class StatusBoard:
    """Every source's status, by source key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sources: dict[str, SourceStatus] = {}
        self.messages: list[str] = []

    def get(self, source: str) -> SourceStatus:
        with self._lock:
            st = self.sources.get(source)
            if st is None:
                st = self.sources[source] = SourceStatus(source)
            return st

    def say(self, message: str) -> None:
        """A one-off message (a source that cannot run, a gap found, ...)."""
        with self._lock:
            self.messages.append(message)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.as_dict() for s in self.sources.values()]
