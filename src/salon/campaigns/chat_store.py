"""Chats in the archive (tables of migration ``0016_chats``): the materialised chats and their
questions, the posting intents of ``salon chat run``, and the log of posts editors hid.

A chat's definition is its campaign's ``[[chats]]`` entry; ``sync_chats`` rewrites the ``chats``
and ``chat_questions`` rows of a campaign from it whenever the campaign is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.chats import Chat, chats_of
from salon.store.archive import Archive

__all__ = [
    "all_chats",
    "chat_by_slug",
    "hidden_log",
    "hidden_uids",
    "hide_post",
    "series_chats",
    "sync_chats",
]


def sync_chats(con: Any, campaign_id: int, campaign: Any) -> None:
    """Rewrite the ``chats``/``chat_questions`` rows of ``campaign`` (inside the caller's
    transaction ``con``)."""
    old = [
        r[0] for r in con.execute("SELECT slug FROM chats WHERE campaign_id = ?", [campaign_id]).fetchall()
    ]
    for slug in old:
        con.execute("DELETE FROM chat_questions WHERE slug = ?", [slug])
    con.execute("DELETE FROM chats WHERE campaign_id = ?", [campaign_id])
    for chat in chats_of(campaign):
        # A slug is unique in the archive: a chat moved to another campaign replaces the old row.
        con.execute("DELETE FROM chat_questions WHERE slug = ?", [chat.slug])
        con.execute("DELETE FROM chats WHERE slug = ?", [chat.slug])
        con.execute(
            "INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                chat.slug,
                campaign_id,
                chat.series_key,
                json.dumps(chat.hashtags, ensure_ascii=False),
                chat.start_utc,
                chat.end_utc,
                chat.grace_end_utc,
                json.dumps(chat.hosts, ensure_ascii=False),
                chat.title,
            ],
        )
        rows = [
            [chat.slug, i + 1, q, t]
            for i, (q, t) in enumerate(zip(chat.questions, chat.question_times(), strict=True))
        ]
        if rows:
            con.executemany("INSERT INTO chat_questions VALUES (?, ?, ?, ?)", rows)


def _campaign_slugs(archive: Archive) -> dict[int, str]:
    return {int(r[0]): r[1] for r in archive.query("SELECT campaign_id, slug FROM campaigns")}


def all_chats(archive: Archive) -> list[Chat]:
    """Every chat of every stored campaign, by start."""
    from salon.store.campaigns import get_campaign

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
    """Hide (or show again) post ``uid`` on chat ``slug``'s public surfaces; logged with who and
    when. The post stays in the archive and in every figure."""
    archive.con.execute(
        "INSERT INTO chat_hidden_posts VALUES (?, ?, ?, ?, ?, ?)",
        [slug, uid, hidden, by_user, datetime.now(UTC), reason],
    )


def hidden_uids(archive: Archive, slug: str) -> set[str]:
    """Posts currently hidden on chat ``slug`` (the latest decision for each post wins)."""
    rows = archive.query(
        "SELECT uid, hidden FROM (SELECT uid, hidden, row_number() OVER (PARTITION BY uid ORDER BY decided_at DESC) AS r"
        " FROM chat_hidden_posts WHERE slug = ?) WHERE r = 1",
        [slug],
    )
    return {r[0] for r in rows if r[1]}


def hidden_log(archive: Archive, slug: str) -> list[dict[str, Any]]:
    """Every hide/show decision on chat ``slug``, newest first."""
    return archive.dicts(
        "SELECT uid, hidden, by_user, decided_at, reason FROM chat_hidden_posts WHERE slug = ? ORDER BY decided_at DESC",
        [slug],
    )
