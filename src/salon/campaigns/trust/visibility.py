"""What a public surface may show: the ONE place that decides it. Exports, stories, chats'
transcripts, the wall, search and the API call ``publicly_visible`` (Python) or put
``visible_sql`` (SQL) in their queries (docs/trust.md, "For other code").

A post is publicly visible when all of these hold:

1. it is not deleted (``posts.deleted_at`` is NULL: deleted at the source, an account taken down
   or deleted, an X compliance deletion, or a takedown request -- the tombstone stays);
2. its author's account is not inactive at the source (``account_status``: deactivated,
   suspended, ...);
3. its author has not opted out (``salon.campaigns.trust.consent``), or an editor overrode it
   with a logged reason (``show``), and no editor hid the author (``hide``);
4. no editor hid the post itself (``salon.campaigns.trust.posts``: a chat room's or a campaign's
   "hide", global);

and, on a campaign's surfaces (``campaign_id`` given):

5. no spam rule, block list or editor holds it (``trust_spam``);
6. it is not in the wall's trash, and in ``pre`` mode it was approved (or its author is a
   registry or allowed account) -- ``salon.campaigns.trust.moderation``.

The figures are not affected: opted-out and held posts are counted (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from salon.campaigns.tally import resolve_campaign
from salon.campaigns.trust import pipeline
from salon.campaigns.trust.consent import author_visible_sql
from salon.campaigns.trust.moderation import wall_sql
from salon.campaigns.trust.posts import post_hidden_sql
from salon.campaigns.trust.settings import moderation_of
from salon.store.archive import Archive

__all__ = ["author_visible_sql", "publicly_visible", "visible_sql"]


def visible_sql(p: str = "p", campaign_id: int | None = None, mode: str = "auto") -> str:
    """SQL condition on a ``posts`` row (alias ``p``): the post may be shown publicly, on the
    campaign's surfaces when ``campaign_id`` is given (``mode``: its ``[moderation] mode``)."""
    cond = (
        f"{p}.deleted_at IS NULL AND {author_visible_sql(f'{p}.author_uid')}"
        f" AND NOT {post_hidden_sql(f'{p}.uid')}"
    )
    if campaign_id is not None:
        cond += " AND " + wall_sql(p, int(campaign_id), mode)
    return f"({cond})"


def publicly_visible(archive: Archive, uids: Iterable[str], *, campaign: object | None = None) -> set[str]:
    """The uids among ``uids`` that a public surface may show (on ``campaign``'s surfaces --
    a Campaign or a stored slug -- when given). Unknown uids are not visible."""
    uid_list = list(dict.fromkeys(uids))
    if not uid_list:
        return set()
    cid, mode = None, "auto"
    if campaign is not None:
        c = resolve_campaign(archive, campaign)  # type: ignore[arg-type]
        cid, mode = c.campaign_id, moderation_of(c).mode
        if not archive.read_only and cid is not None:
            pipeline.refresh(archive, c)
    rows = archive.query(
        f"SELECT p.uid FROM posts p WHERE p.uid IN (SELECT unnest(?)) AND {visible_sql('p', cid, mode)}",
        [uid_list],
    )
    return {r[0] for r in rows}
