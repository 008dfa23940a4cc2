"""``salon chat run CHAT``: post each question at its time from the hosts' accounts, never twice.

For each question n (in order, waiting until its time) and each platform of the chat's
``post_questions`` (from the first host account on that platform), with the text
``question_text`` gives (``Q1 <question> #hashtag``):

1. the intent is recorded in the archive (``chat_post_intents``, state ``pending``) before any
   request; a posted intent is never sent again;
2. an intent that was ``sending`` or ``retrying`` when the runner stopped (a crash, kill -9
   between the request and its answer) may have reached the platform: the host's timeline is
   checked first, and a post found there is recorded instead of posting again;
3. the intent becomes ``sending`` (attempts + 1, committed), the request goes out with the
   platform's idempotency key where it has one (Mastodon ``Idempotency-Key``; Bluesky's record
   key is fixed by the intent), and the answer records ``posted`` with the post's uid and URL;
4. a retryable failure (network, 429, 5xx) is recorded as ``retrying`` and retried with
   exponential backoff, checking the timeline each time; other failures end as ``failed``
   (shown by ``salon chat show`` and the chat page).

A second runner cannot post either: the archive admits one writer, and the intent's key is its
primary key. A question whose chat has ended is not posted any more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from salon.campaigns.chat_store import get_intent, record_intent, update_intent
from salon.campaigns.chats import Chat, question_text
from salon.collect.chat_post import BlueskyPoster, MastodonPoster, Poster, Retryable, XPoster
from salon.collect.credentials import Credentials
from salon.collect.http import Backoff, GiveUp
from salon.store.archive import Archive

__all__ = ["RunReport", "host_for", "intent_key", "post_question", "posters_for", "run_chat"]


@dataclass
class RunReport:
    posted: list[dict[str, Any]] = field(default_factory=list)  # intents posted by this run
    already: list[str] = field(default_factory=list)  # intent keys posted before
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # too late


def host_for(chat: Chat, platform: str) -> str | None:
    """The host account Salon posts from on ``platform`` (the first listed there)."""
    return next((h for h in chat.hosts if h.startswith(platform + ":")), None)


def intent_key(chat: Chat, n: int, platform: str, host: str) -> str:
    return f"{chat.slug}/{n}/{platform}/{host}"


def post_question(
    archive: Archive,
    chat: Chat,
    n: int,
    poster: Poster,
    *,
    max_attempts: int = 6,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Post question ``n`` on ``poster``'s platform at most once (see the module docstring);
    returns the intent as it ends."""
    platform = poster.platform
    host = host_for(chat, platform)
    if host is None:
        raise ValueError(f"chat {chat.slug} has no host on {platform}")
    key = intent_key(chat, n, platform, host)
    text = question_text(chat, n)
    intent = record_intent(archive, key, chat.slug, n, platform, host, text)
    if isinstance(poster, BlueskyPoster):
        poster.when[intent["idempotency_key"]] = intent["created_at"]
    backoff = backoff or Backoff(base=2.0, cap=120.0)
    while intent["state"] != "posted":
        if intent["state"] == "failed" and intent["attempts"] >= max_attempts:
            break
        try:
            if intent["state"] in ("sending", "retrying", "failed") and intent["attempts"] > 0:
                # The last request may have gone through: look before posting again.
                found = poster.find_posted(intent["text"], intent["idempotency_key"])
                if found is not None:
                    update_intent(archive, key, "posted", uid=found.uid, url=found.url, error=None)
                    log(f"Q{n} on {platform}: already on {host}'s timeline ({found.uid})")
                    break
            if intent["attempts"] >= max_attempts:
                update_intent(archive, key, "failed", error=f"gave up after {intent['attempts']} attempts")
                break
            update_intent(archive, key, "sending")  # committed before the request leaves
            posted = poster.post(intent["text"], intent["idempotency_key"])
            update_intent(archive, key, "posted", uid=posted.uid, url=posted.url, error=None)
            log(f"Q{n} posted on {platform} from {host}: {posted.url or posted.uid}")
        except Retryable as exc:
            update_intent(archive, key, "retrying", error=str(exc))
            wait = max(exc.wait or 0.0, backoff.next())
            log(f"Q{n} on {platform}: {exc}; retrying in {wait:.1f}s")
            sleep(wait)
        except GiveUp as exc:
            update_intent(archive, key, "failed", error=str(exc))
            log(f"Q{n} on {platform}: failed: {exc}")
            break
        got = get_intent(archive, key)
        assert got is not None
        intent = got
    final = get_intent(archive, key)
    assert final is not None
    return final


def run_chat(
    archive: Archive,
    chat: Chat,
    posters: dict[str, Poster],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _m: None,
    max_attempts: int = 6,
    locked: Callable[[Callable[[Archive], Any]], Any] | None = None,
) -> RunReport:
    """Post every question of ``chat`` at its time on every platform of ``posters`` (each a
    platform of ``post_questions``); returns what happened. Safe to run again at any time.

    ``locked``: how to run a step that touches the archive (the web app passes its single
    writer's ``submit``, so the waits between questions hold nothing); by default the step runs
    on ``archive`` directly (``salon chat run``)."""

    def direct(step: Callable[[Archive], Any]) -> Any:
        return step(archive)

    do = locked or direct
    report = RunReport()
    for n, at in enumerate(chat.question_times(), 1):
        for platform, poster in posters.items():
            host = host_for(chat, platform)
            if host is None:
                continue
            key = intent_key(chat, n, platform, host)
            before: dict[str, Any] | None = do(partial(get_intent, key=key))
            if before is not None and before["state"] == "posted":
                report.already.append(key)
                continue
            wait = (at - now()).total_seconds()
            if wait > 0:
                log(f"waiting {wait:.0f}s for Q{n} ({at:%H:%M} UTC)")
                sleep(wait)
            if now() >= chat.end_utc:
                report.skipped.append(key)
                log(f"Q{n} on {platform}: the chat has ended, not posted")
                continue
            step = partial(
                post_question, chat=chat, n=n, poster=poster, max_attempts=max_attempts, sleep=sleep, log=log
            )
            intent: dict[str, Any] = do(step)
            (report.posted if intent["state"] == "posted" else report.failed).append(intent)
    return report


def posters_for(campaign: Any, chat: Chat, creds: Any = None) -> tuple[dict[str, Poster], list[str]]:
    """A poster per platform of the chat's ``post_questions``, with the endpoints of the
    campaign's ``[sources.*]`` and the credentials ``salon auth`` saved; and the ``salon auth``
    commands still to run for the platforms without credentials."""
    creds = creds or Credentials()
    sources = (campaign.extra.get("sources") if campaign is not None else None) or {}
    out: dict[str, Poster] = {}
    missing = []
    for platform in chat.post_questions:
        conf = sources.get(platform) or {}
        host = host_for(chat, platform) or ""
        if platform == "mastodon":
            token = creds.get(conf.get("token_env") or "SALON_MASTODON_TOKEN")
            base = conf.get("post_instance") or "https://" + host.split("@")[-1]
            if token is None:
                missing.append("salon auth mastodon")
            else:
                out[platform] = MastodonPoster(base, token)
        elif platform == "bluesky":
            handle = creds.get(conf.get("handle_env") or "SALON_BSKY_HANDLE")
            password = creds.get(conf.get("password_env") or "SALON_BSKY_APP_PASSWORD")
            if handle is None or password is None:
                missing.append("salon auth bluesky")
            else:
                out[platform] = BlueskyPoster(
                    conf.get("auth_service") or "https://bsky.social", handle, password
                )
        elif platform == "x":
            token = creds.get(conf.get("user_token_env") or "SALON_X_USER_TOKEN")
            if token is None:
                missing.append("salon auth x-user")
            else:
                out[platform] = XPoster(conf.get("api") or "https://api.x.com", token)
    return out, missing
