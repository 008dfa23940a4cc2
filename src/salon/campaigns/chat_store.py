"""Chats in the archive (tables of migration ``0016_chats``): the materialised chats and their
questions, the posting intents of ``salon chat run``, and the log of posts editors hid.

A chat's definition is its campaign's ``[[chats]]`` entry; ``sync_chats`` rewrites the ``chats``
and ``chat_questions`` rows of a campaign from it whenever the campaign is stored.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.chats import Chat, chats_of, sync_chats
from salon.campaigns.stored import get_campaign
from salon.campaigns.trust.posts import decide, hidden_posts
from salon.store.archive import Archive

__all__ = [
    "all_chats",
    "chat_by_slug",
    "get_intent",
    "hidden_log",
    "hidden_uids",
    "hide_post",
    "intents",
    "record_intent",
    "series_chats",
    "sync_chats",
    "update_intent",
]


def _campaign_slugs(archive: Archive) -> dict[int, str]:
    return {int(r[0]): r[1] for r in archive.query("SELECT campaign_id, slug FROM campaigns")}


def all_chats(archive: Archive) -> list[Chat]:
    """Every chat of every stored campaign, by start."""
    out: list[Chat] = []
    for slug in sorted(set(_campaign_slugs(archive).values())):
        c = get_campaign(archive, slug)
        if c is not None:
            out.extend(chats_of(c))
    return sorted(out, key=lambda ch: (ch.start_utc, ch.slug))


def chat_by_slug(archive: Archive, slug: str) -> Chat | None:
    """The stored chat ``slug``, or None."""
    for chat in all_chats(archive):
        if chat.slug == slug:
            return chat
    return None


def series_chats(archive: Archive, chat_or_key: Chat | str) -> list[Chat]:
    """The chats of a series (sharing the main hashtag's key), oldest first."""
    key = chat_or_key.series_key if isinstance(chat_or_key, Chat) else chat_or_key
    return [c for c in all_chats(archive) if c.series_key == key]


def hide_post(
    archive: Archive, slug: str, uid: str, by_user: str, *, hidden: bool = True, reason: str | None = None
) -> None:
    """An editor hides post ``uid`` seen in chat ``slug``'s room (or shows it again). The decision
    is the trust rules' post hide (``salon.campaigns.trust.posts.decide``, moderation log family
    ``post``, on the chat's campaign): the post leaves EVERY public surface (wall, explorer, post
    page, search, API, exports, stories, chats), stays in the archive and in every figure.
    ``chat_hidden_posts`` keeps which chat it was decided in."""
    cid = archive.scalar("SELECT campaign_id FROM chats WHERE slug = ?", [slug])
    decide(archive, uid, by=by_user, hidden=hidden, reason=reason, campaign_id=cid)
    archive.con.execute(
        "INSERT INTO chat_hidden_posts VALUES (?, ?, ?, ?, ?, ?)",
        [slug, uid, hidden, by_user, datetime.now(UTC), reason],
    )


def hidden_uids(archive: Archive, slug: str) -> set[str]:
    """Posts hidden now from the public surfaces (the trust rules' post hides, whatever page they
    were decided on; ``slug`` kept for callers of a chat)."""
    del slug  # a hide is global: trust.posts
    return hidden_posts(archive)


def hidden_log(archive: Archive, slug: str) -> list[dict[str, Any]]:
    """Every hide/show decision on chat ``slug``, newest first."""
    return archive.dicts(
        "SELECT uid, hidden, by_user, decided_at, reason FROM chat_hidden_posts WHERE slug = ? ORDER BY decided_at DESC",
        [slug],
    )


# -- posting intents (salon chat run) ---------------------------------------------------------

INTENT_COLUMNS = (
    "intent_key",
    "slug",
    "n",
    "platform",
    "host",
    "idempotency_key",
    "text",
    "state",
    "attempts",
    "uid",
    "url",
    "error",
    "created_at",
    "updated_at",
)


def get_intent(archive: Archive, key: str) -> dict[str, Any] | None:
    """The posting intent ``key`` (slug/n/platform/host), or None."""
    rows = archive.dicts(
        f"SELECT {', '.join(INTENT_COLUMNS)} FROM chat_post_intents WHERE intent_key = ?", [key]
    )
    return rows[0] if rows else None


def record_intent(
    archive: Archive, key: str, slug: str, n: int, platform: str, host: str, text: str
) -> dict[str, Any]:
    """Record the intent to post (state ``pending``) before any request is sent; an existing
    intent is returned unchanged (its idempotency key and time stay the same on every run)."""
    now = datetime.now(UTC)
    idem = hashlib.sha256(f"salon-chat/{key}".encode()).hexdigest()[:32]
    archive.con.execute(
        "INSERT INTO chat_post_intents (intent_key, slug, n, platform, host, idempotency_key, text, state, attempts,"
        " created_at, updated_at) SELECT ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?"
        " WHERE NOT EXISTS (SELECT 1 FROM chat_post_intents WHERE intent_key = ?)",
        [key, slug, n, platform, host, idem, text, now, now, key],
    )
    got = get_intent(archive, key)
    assert got is not None
    return got


def update_intent(archive: Archive, key: str, state: str, **fields: Any) -> None:
    """Move an intent to ``state`` (sending: attempts + 1; posted: with uid and url; failed or
    retrying: with the error). Each call commits on its own: what is recorded survives a kill."""
    sets = ["state = ?", "updated_at = ?"]
    params: list[Any] = [state, datetime.now(UTC)]
    if state == "sending":
        sets.append("attempts = attempts + 1")
    for k in ("uid", "url", "error"):
        if k in fields:
            sets.append(f"{k} = ?")
            params.append(fields[k])
    archive.con.execute(
        f"UPDATE chat_post_intents SET {', '.join(sets)} WHERE intent_key = ?", [*params, key]
    )


def intents(archive: Archive, slug: str) -> list[dict[str, Any]]:
    """Every posting intent of chat ``slug``, by question and platform."""
    return archive.dicts(
        f"SELECT {', '.join(INTENT_COLUMNS)} FROM chat_post_intents WHERE slug = ? ORDER BY n, platform",
        [slug],
    )
