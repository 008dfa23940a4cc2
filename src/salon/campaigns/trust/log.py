"""The moderation log: every decision and action, with who and when (append-only).

Each action belongs to a *family*; the latest action of a family about a target is the one in
force, so "restore" after "trash" shows a post again and the history stays readable:

- ``spam``: ``spam`` | ``not_spam`` (an editor's review, overriding the rules);
- ``wall``: ``approve`` | ``trash`` | ``restore`` (the wall and public pages);
- ``consent``: ``show`` | ``hide`` (an editor's override of an author's opt-out, with a reason);
- ``list``: ``list_add`` | ``list_remove`` (block/allow lists: ``target`` is ``list:value``);
- ``takedown``: ``takedown`` (a post or an account removed on request);
- ``post``: ``hide`` | ``show`` (one post off every public surface: ``trust.posts``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from salon.store.archive import Archive

__all__ = ["ACTIONS", "current_sql", "history", "record"]

ACTIONS: dict[str, tuple[str, ...]] = {
    "spam": ("spam", "not_spam"),
    "wall": ("approve", "trash", "restore"),
    "consent": ("show", "hide"),
    "list": ("list_add", "list_remove"),
    "takedown": ("takedown",),
    "post": ("hide", "show"),
}


def record(
    archive: Archive,
    *,
    family: str,
    action: str,
    target: str,
    by: str,
    reason: str | None = None,
    campaign_id: int | None = None,
) -> int:
    """Append one action to the log and return its id."""
    if action not in ACTIONS.get(family, ()):
        raise ValueError(f"unknown {family!r} action {action!r}")
    if not target:
        raise ValueError("an action needs a target")
    if not by:
        raise ValueError("an action needs who took it")
    con = archive.con
    log_id = int(con.execute("SELECT nextval('moderation_log_seq')").fetchall()[0][0])
    con.execute(
        "INSERT INTO moderation_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [log_id, campaign_id, family, action, target, reason, by, datetime.now(UTC)],
    )
    return log_id


def current_sql(family: str, campaign_id: int | None) -> str:
    """SQL of (target, action, reason, by_user, at): the action of ``family`` in force for each
    target of the campaign (actions for every campaign included)."""
    if family not in ACTIONS:
        raise ValueError(family)
    where = (
        "campaign_id IS NULL"
        if campaign_id is None
        else f"(campaign_id = {int(campaign_id)} OR campaign_id IS NULL)"
    )
    return (
        "(SELECT target, arg_max(action, log_id) AS action, arg_max(reason, log_id) AS reason,"
        " arg_max(by_user, log_id) AS by_user, max(acted_at) AS at FROM moderation_log"
        f" WHERE family = '{family}' AND {where} GROUP BY target)"
    )


def history(
    archive: Archive, campaign_id: int | None = None, *, target: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The latest actions, newest first (of one campaign and global ones; of one target)."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if campaign_id is not None:
        where.append("(campaign_id = ? OR campaign_id IS NULL)")
        params.append(campaign_id)
    if target is not None:
        where.append("target = ?")
        params.append(target)
    return archive.dicts(
        "SELECT log_id, campaign_id, family, action, target, reason, by_user, acted_at AS at FROM moderation_log"
        f" WHERE {' AND '.join(where)} ORDER BY log_id DESC LIMIT {int(limit)}",
        params,
    )


def marker(archive: Archive) -> int:
    """The newest log id (0: none): any decision moves it."""
    return int(archive.scalar("SELECT coalesce(max(log_id), 0) FROM moderation_log") or 0)
