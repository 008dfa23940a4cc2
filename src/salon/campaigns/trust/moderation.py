"""The wall and a campaign's public pages: moderation modes, approvals and the trash.

- ``auto`` (default): a campaign post shows unless held (a spam rule, a block list, an editor's
  "spam") or put in the trash;
- ``pre``: only approved posts show; posts of registry accounts and allowed accounts are
  approved automatically.

``approve``, ``trash`` and ``restore`` are logged (family ``wall``) with who and when; the latest
action about a post is in force, so a restored post leaves the trash (in ``pre`` mode it goes
back to the queue unless it was approved again).
"""

from __future__ import annotations

from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.trust import lists, log
from salon.campaigns.trust.consent import author_visible_sql
from salon.campaigns.trust.settings import moderation_of
from salon.campaigns.trust.spam import held_sql
from salon.store.archive import Archive

__all__ = ["act", "queue", "wall_sql"]


def wall_sql(p: str, campaign_id: int, mode: str) -> str:
    """SQL condition on a campaign post (``posts`` alias ``p``): the wall may show it (held,
    trash and ``pre`` approval only; consent and deletion are ``visibility.visible_sql``)."""
    cid = int(campaign_id)
    wall = log.current_sql("wall", cid)
    cond = (
        f"{p}.uid NOT IN (SELECT uid FROM trust_spam WHERE campaign_id = {cid})"
        f" AND NOT EXISTS (SELECT 1 FROM {wall} w WHERE w.target = {p}.uid AND w.action = 'trash')"
    )
    if mode == "pre":
        cond += (
            f" AND (EXISTS (SELECT 1 FROM {wall} w WHERE w.target = {p}.uid AND w.action = 'approve')"
            f" OR EXISTS (SELECT 1 FROM campaign_posts cpw WHERE cpw.campaign_id = {cid} AND cpw.uid = {p}.uid"
            "   AND cpw.participant_id IS NOT NULL)"
            f" OR EXISTS (SELECT 1 FROM authors a_w WHERE a_w.uid = {p}.author_uid AND"
            f"   {lists.account_match_sql(cid, 'allow_accounts', 'a_w')}))"
        )
    return f"({cond})"


def act(archive: Archive, c: Campaign, uid: str, action: str, *, by: str, reason: str | None = None) -> int:
    """An editor's ``approve`` / ``trash`` / ``restore`` of a campaign post (logged)."""
    if c.campaign_id is None:
        raise ValueError("only a stored campaign has a wall")
    if action not in ("approve", "trash", "restore"):
        raise ValueError("a wall action is approve, trash or restore")
    if not archive.query(
        "SELECT 1 FROM campaign_posts WHERE campaign_id = ? AND uid = ?", [c.campaign_id, uid]
    ):
        raise LookupError(f"{uid} is not a post of campaign {c.slug}")
    return log.record(
        archive, family="wall", action=action, target=uid, by=by, reason=reason, campaign_id=c.campaign_id
    )


def queue(archive: Archive, c: Campaign, which: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Posts of the editors' wall queues, newest first: ``pending`` (``pre`` mode: waiting for
    approval), ``trash`` (trashed, restorable), ``shown`` (on the wall now)."""
    if c.campaign_id is None:
        return []
    cid = int(c.campaign_id)
    mode = moderation_of(c).mode
    wall = log.current_sql("wall", cid)
    alive = f"p.deleted_at IS NULL AND p.uid NOT IN (SELECT uid FROM {held_sql(cid)})"
    if which == "trash":
        where = "w.action = 'trash'"
    elif which == "pending":
        if mode != "pre":
            return []
        where = (
            f"{alive} AND {author_visible_sql('p.author_uid')} AND coalesce(w.action, '') <> 'trash'"
            f" AND NOT {wall_sql('p', cid, mode)}"
        )
    elif which == "shown":
        where = f"{alive} AND {author_visible_sql('p.author_uid')} AND {wall_sql('p', cid, mode)}"
    else:
        raise ValueError("queue is pending, trash or shown")
    return archive.dicts(
        "SELECT p.uid, p.text, p.url, p.platform, p.created_at, a.handle, a.display_name, cp.participant_id,"
        " w.action, w.by_user, w.at, w.reason FROM campaign_posts cp JOIN posts p ON p.uid = cp.uid"
        f" LEFT JOIN authors a ON a.uid = p.author_uid LEFT JOIN {wall} w ON w.target = p.uid"
        f" WHERE cp.campaign_id = ? AND NOT cp.is_repost AND {where}"
        f" ORDER BY cp.created_at DESC, cp.uid LIMIT {int(limit)}",
        [cid],
    )
