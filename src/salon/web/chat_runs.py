"""The editors' "post the questions" button: ``salon.collect.chat_run.run_chat`` -- the function
``salon chat run`` calls -- in the server's background, one run per chat at a time.

The run waits for each question's time in its own thread, holding nothing; each step that
touches the archive (reading an intent, posting a question and recording it) goes through the
web app's single writer (``ArchiveService.submit``), so pages keep answering and the room sees
each posted question at once. The never-twice guarantees are ``run_chat``'s: a second click, a
server restart or a CLI runner cannot post a question again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.chats import Chat
from salon.campaigns.stored import get_campaign
from salon.collect.chat_run import posters_for, run_chat
from salon.store.archive import Archive

__all__ = ["RunStatus", "start_run", "status_of"]


@dataclass
class RunStatus:
    """A background run of a chat's questions, as the chat page shows it."""

    slug: str
    by: str
    started_at: datetime
    state: str = "running"  # running | done | failed
    log: list[str] = field(default_factory=list)
    summary: str = ""
    finished_at: datetime | None = None


_RUNS: dict[tuple[int, str], RunStatus] = {}
_LOCK = threading.Lock()


def status_of(service: Any, slug: str) -> RunStatus | None:
    """The latest run of chat ``slug`` started in this server, or None."""
    return _RUNS.get((id(service), slug))


def start_run(service: Any, chat: Chat, by: str, *, max_attempts: int = 6) -> RunStatus:
    """Start posting ``chat``'s questions in the background (unless a run is going on already:
    that one is returned). Credentials as ``salon chat run`` (``salon auth``); a missing one
    ends the run at once as ``failed``, saying which command to run."""
    key = (id(service), chat.slug)
    with _LOCK:
        current = _RUNS.get(key)
        if current is not None and current.state == "running":
            return current
        status = RunStatus(chat.slug, by, datetime.now(UTC))
        _RUNS[key] = status
    reader = service.reader()
    campaign = get_campaign(reader, chat.campaign_slug) if chat.campaign_slug else None
    posters, missing = posters_for(campaign, chat)
    if not chat.post_questions or missing or not posters:
        status.state = "failed"
        status.summary = (
            "no credentials to post the questions: run " + ", ".join(missing)
            if missing
            else "this chat has no post_questions: Salon posts nothing"
        )
        status.finished_at = datetime.now(UTC)
        return status

    def locked(step: Callable[[Archive], Any]) -> Any:
        return service.submit(lambda arc, _w: step(arc)).result()

    def go() -> None:
        try:
            report = run_chat(
                reader, chat, posters, max_attempts=max_attempts, log=status.log.append, locked=locked
            )
            status.summary = (
                f"{len(report.posted)} posted, {len(report.already)} already posted, "
                f"{len(report.failed)} failed, {len(report.skipped)} too late"
            )
            status.state = "failed" if report.failed else "done"
        except Exception as exc:  # shown on the page, never lost in a thread
            status.summary = f"{type(exc).__name__}: {exc}"
            status.state = "failed"
        status.finished_at = datetime.now(UTC)

    threading.Thread(target=go, name=f"chat-run-{chat.slug}", daemon=True).start()
    return status
