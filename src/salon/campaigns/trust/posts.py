"""Posts an editor hid: one post (not its author) off every public surface -- the wall, the
explorer, the post page, search and the API, exports, stories, chats' rooms and transcripts --
kept in the archive and in every figure, logged with who and when (moderation log family
``post``: ``hide`` | ``show``; the latest decision about a post is in force).

A hide is global, whichever page it was made on (a chat room, a campaign): a post hidden from
one public surface must not reappear on another. ``salon.campaigns.trust.visibility`` puts
``post_hidden_sql`` in ``visible_sql``, so every surface asking it follows the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from salon.campaigns.trust import log
from salon.store.archive import Archive

__all__ = ["decide", "hidden_posts", "post_hidden_sql", "post_log"]

# Every campaign's decisions count: a hide is about the post, not one campaign's pages.
_CURRENT = "(SELECT target, arg_max(action, log_id) AS action FROM moderation_log WHERE family = 'post' GROUP BY target)"


def post_hidden_sql(uid_expr: str) -> str:
    """SQL condition: an editor hid the post whose uid is ``uid_expr`` (and did not show it again)."""
    return f"EXISTS (SELECT 1 FROM {_CURRENT} ph WHERE ph.target = {uid_expr} AND ph.action = 'hide')"


def decide(
    archive: Archive,
    uid: str,
    *,
    by: str,
    hidden: bool = True,
    reason: str | None = None,
    campaign_id: int | None = None,
) -> int:
    """An editor hides post ``uid`` from every public surface (``hidden=False``: shows it again).
    Logged (family ``post``) with who, when, why and the campaign it was decided on."""
    if not archive.query("SELECT 1 FROM posts WHERE uid = ?", [uid]):
        raise LookupError(f"no post {uid} in the archive")
    return log.record(
        archive,
        family="post",
        action="hide" if hidden else "show",
        target=uid,
        by=by,
        reason=reason,
        campaign_id=campaign_id,
    )


def hidden_posts(archive: Archive, uids: Iterable[str] | None = None) -> set[str]:
    """The posts hidden now (among ``uids`` when given)."""
    rows = archive.query(f"SELECT target FROM {_CURRENT} WHERE action = 'hide'")
    out = {r[0] for r in rows}
    return out if uids is None else out & set(uids)


def post_log(archive: Archive, uids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every hide/show decision (about ``uids`` when given), newest first."""
    rows = archive.dicts(
        "SELECT target AS uid, action = 'hide' AS hidden, by_user, acted_at AS decided_at, reason, campaign_id"
        " FROM moderation_log WHERE family = 'post' ORDER BY log_id DESC"
    )
    if uids is None:
        return rows
    wanted = set(uids)
    return [r for r in rows if r["uid"] in wanted]
