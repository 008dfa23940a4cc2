"""A chat's figures, each from one function over its ``Assignment`` (salon.campaigns.chat_answers):
the CLI (``salon chat stats``), the chat pages and the reports call these, never recompute them.

Definitions (docs/chats.md):

- **posts**: the chat's listed posts (question posts, answers, conversation), not deleted;
  untagged thread posts and reposts are counted apart (``untagged``, ``reposts``).
- **participants**: distinct authors (platform accounts) of the chat's posts, untagged ones
  included, hosts included.
- **answers per question**: the answers to each question (not deleted), by rule.
- **replies**: the chat's posts (answers, conversation, untagged) replying to another post of
  the chat: people talking to each other.
- **first-time / returning**: a participant is returning when the account took part in an
  earlier chat of the same series (same main hashtag), else first-time.
- **top contributors**: participants by number of posts (answers + conversation + untagged).
- **institutions**: participants matched to the campaign's registry (platform account id, else
  handle, case-insensitive).
- **platforms**: posts per platform.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from salon.campaigns.chat_answers import Assignment, ChatPost, chat_assignment
from salon.campaigns.chat_store import series_chats
from salon.campaigns.stored import get_campaign

__all__ = [
    "answers_per_question",
    "chat_report",
    "chat_stats",
    "first_time_returning",
    "institutions",
    "listed_posts",
    "participants",
    "platforms",
    "post_count",
    "replies",
    "top_contributors",
]


def listed_posts(a: Assignment) -> list[ChatPost]:
    """Question posts, answers and conversation, not deleted, by time."""
    uids = set(a.question_uids()) | set(a.answers) | set(a.conversation)
    out = [a.posts[u] for u in uids if not a.posts[u].deleted]
    return sorted(out, key=lambda p: (p.created_at, p.uid))


def _authored(a: Assignment) -> list[ChatPost]:
    uids = set(a.question_uids()) | set(a.answers) | set(a.conversation) | set(a.untagged)
    return [a.posts[u] for u in uids if not a.posts[u].deleted]


def post_count(a: Assignment) -> int:
    """posts (see the module docstring)."""
    return len(listed_posts(a))


def participants(a: Assignment) -> set[str]:
    """Author uids of the chat's posts (untagged included, hosts included)."""
    return {p.author_uid or f"{p.platform}:?{p.handle}" for p in _authored(a)}


def answers_per_question(a: Assignment) -> list[dict[str, Any]]:
    """[{"n", "answers", "thread", "marker", "flagged", "untagged"}] per question."""
    out = []
    for q in a.questions:
        ans = [x for x in a.answers_to(q.n) if not a.posts[x.uid].deleted]
        out.append(
            {
                "n": q.n,
                "answers": len(ans),
                "thread": sum(1 for x in ans if x.rule == "thread"),
                "marker": sum(1 for x in ans if x.rule == "marker"),
                "flagged": sum(1 for x in ans if x.flag),
                "untagged": sum(1 for u, n in a.untagged.items() if n == q.n and not a.posts[u].deleted),
            }
        )
    return out


def replies(a: Assignment) -> int:
    """Posts of the chat replying to another post of the chat."""
    members = set(a.question_uids()) | set(a.answers) | set(a.conversation) | set(a.untagged)
    return sum(
        1
        for u in members
        if not a.posts[u].deleted and a.posts[u].reply_to_uid in members and u not in a.question_uids()
    )


def first_time_returning(a: Assignment, earlier: Sequence[Assignment]) -> dict[str, int]:
    """{"first_time", "returning"}: participants seen (or not) in an earlier chat of the series."""
    seen: set[str] = set()
    for e in earlier:
        seen |= participants(e)
    mine = participants(a)
    return {"first_time": len(mine - seen), "returning": len(mine & seen)}


def top_contributors(a: Assignment, limit: int = 10) -> list[dict[str, Any]]:
    """Participants by posts (answers + conversation + untagged), most first."""
    counts: Counter[str] = Counter()
    who: dict[str, ChatPost] = {}
    for u in [*a.answers, *a.conversation, *a.untagged]:
        p = a.posts[u]
        if p.deleted:
            continue
        key = p.author_uid or f"{p.platform}:?{p.handle}"
        counts[key] += 1
        who.setdefault(key, p)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        {
            "author_uid": k,
            "platform": who[k].platform,
            "handle": None if who[k].opted_out else who[k].handle,
            "posts": n,
            "answers": sum(1 for u in a.answers if a.posts[u].author_uid == k and not a.posts[u].deleted),
            "host": who[k].is_host,
        }
        for k, n in ranked
    ]


def institutions(a: Assignment, campaign: Any | None) -> list[dict[str, Any]]:
    """Participants matched to ``campaign``'s registry: [{"name", "country", "posts"}]."""
    if campaign is None:
        return []
    by_uid: dict[str, int] = {}
    by_handle: dict[tuple[str, str], int] = {}
    for i, acc in campaign.accounts():
        if acc.account_uid:
            by_uid[acc.account_uid] = i
        by_handle[(acc.platform, acc.handle_norm)] = i
    counts: Counter[int] = Counter()
    for p in _authored(a):
        i = by_uid.get(p.author_uid or "")
        if i is None and p.handle:
            h = p.handle.lstrip("@").lower()
            i = by_handle.get((p.platform, h))
            if i is None and p.platform == "bluesky" and p.author_uid:
                i = by_handle.get(("bluesky", p.author_uid.removeprefix("bluesky:").lower()))
        if i is not None:
            counts[i] += 1
    out = []
    for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], campaign.participants[kv[0]].name)):
        inst = campaign.participants[i]
        out.append({"name": inst.name, "country": inst.country, "posts": n})
    return out


def platforms(a: Assignment) -> dict[str, int]:
    """Posts (listed) per platform."""
    return dict(sorted(Counter(p.platform for p in listed_posts(a)).items()))


def chat_stats(
    a: Assignment, earlier: Sequence[Assignment] = (), campaign: Any | None = None
) -> dict[str, Any]:
    """Every figure of a chat, each from its function above."""
    parts = participants(a)
    return {
        "chat": a.chat.slug,
        "posts": post_count(a),
        "participants": len(parts),
        "answers": sum(q["answers"] for q in answers_per_question(a)),
        "answers_per_question": answers_per_question(a),
        "conversation": sum(1 for u in a.conversation if not a.posts[u].deleted),
        "untagged": sum(1 for u in a.untagged if not a.posts[u].deleted),
        "reposts": len(a.reposts),
        "replies": replies(a),
        "participants_series": first_time_returning(a, earlier),
        "top_contributors": top_contributors(a),
        "institutions": institutions(a, campaign),
        "platforms": platforms(a),
    }


def chat_report(archive: Any, chat: Any, source: Any | None = None) -> dict[str, Any]:
    """``chat_stats`` of a stored chat, with the earlier chats of its series and its campaign's
    registry read from the archive. ``source`` (default: the archive) reads the chats' posts:
    an engine over a Parquet export (``salon.campaigns.spark_chats``)."""
    src = archive if source is None else source
    earlier = [chat_assignment(src, c) for c in series_chats(archive, chat) if c.start_utc < chat.start_utc]
    camp = get_campaign(archive, chat.campaign_slug) if chat.campaign_slug else None
    return chat_stats(chat_assignment(src, chat), earlier, camp)
