"""The participants registry seen from the archive: who has posted, who has not, and who posts
a lot without being registered.

Matching (``salon.campaigns.definitions.author_match_sql``) is by platform account id first,
then by handle, case-insensitive, among accounts whose id is not known yet; the id is learned
at the first match when the campaign's index is refreshed (handles change, ids do not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.tally import POSTS, REPOSTS, Scope, scope
from salon.store.archive import Archive

__all__ = ["activity_of_scope", "candidates", "participant_activity", "silent_participants"]


def participant_activity(
    archive: Archive, campaign: Campaign | str, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Every registered participant with its campaign posts and reposts (0 when none), its
    accounts and the account ids known."""
    with scope(archive, campaign, at) as s:
        return activity_of_scope(s)


def activity_of_scope(s: Scope) -> list[dict[str, Any]]:
    """``participant_activity`` over a scope (whichever engine computed it)."""
    counts = {
        int(pid): (int(p), int(r))
        for pid, p, r in s.q(
            f"SELECT m.participant_id, {POSTS}, {REPOSTS} FROM {s.m} m"
            " WHERE m.participant_id IS NOT NULL GROUP BY m.participant_id"
        )
    }
    c = s.campaign
    out = []
    for i, p in enumerate(c.participants):
        posts, reposts = counts.get(i, (0, 0))
        out.append(
            {
                "name": p.name,
                "country": p.country,
                "city": p.city,
                "kind": p.kind,
                "accounts": [
                    {"platform": a.platform, "handle": a.handle, "account_uid": a.account_uid}
                    for a in p.accounts
                ],
                "posts": posts,
                "reposts": reposts,
            }
        )
    return out


def silent_participants(archive: Archive, campaign: Campaign | str) -> list[dict[str, Any]]:
    """Registered participants with no campaign post yet (reposts do not count)."""
    return [p for p in participant_activity(archive, campaign) if p["posts"] == 0]


def candidates(
    archive: Archive, campaign: Campaign | str, *, min_posts: int = 3, limit: int = 50
) -> list[dict[str, Any]]:
    """Frequent authors of campaign posts not in the registry: candidates to add, most posts
    first, with their latest handle and profile."""
    with scope(archive, campaign) as s:
        rows = s.q(
            f"SELECT m.author_uid, {POSTS} AS posts, {REPOSTS} AS reposts, a.platform, a.handle, a.display_name,"
            f" a.followers FROM {s.m} m LEFT JOIN authors a ON a.uid = m.author_uid"
            " WHERE m.participant_id IS NULL AND m.author_uid IS NOT NULL"
            " GROUP BY m.author_uid, a.platform, a.handle, a.display_name, a.followers"
            f" HAVING {POSTS} >= {int(min_posts)} ORDER BY posts DESC, reposts DESC, m.author_uid LIMIT {int(limit)}"
        )
    keys = ("author_uid", "posts", "reposts", "platform", "handle", "display_name", "followers")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    for d in out:
        if d["platform"] is None and d["author_uid"]:
            d["platform"] = d["author_uid"].split(":", 1)[0]
    return out
