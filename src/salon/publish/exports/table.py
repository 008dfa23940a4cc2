"""The default table layout: one row per post, every platform, fixed columns (docs/exports.md).

Rows are read from the normalised tables in uid order, a batch at a time (streaming); lists
(hashtags, mentions, URLs, media) are joined with a space, which none of their items contains.
Engagement is the latest snapshot of each post (``salon.campaigns.definitions.
latest_engagement_sql``, the tally's definition) with the time it was observed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from salon.campaigns.definitions import latest_engagement_sql
from salon.publish.exports.pseudo import Pseudonymiser
from salon.publish.exports.select import Selection

__all__ = ["COLUMNS", "ID_COLUMNS", "iter_rows"]

COLUMNS: tuple[str, ...] = (
    "uid",
    "platform",
    "native_id",
    "uri",
    "url",
    "created_at",
    "kind",
    "author_uid",
    "author_handle",
    "author_name",
    "author_followers",
    "institution",
    "country",
    "text",
    "lang",
    "reply_to_uid",
    "root_uid",
    "quote_of_uid",
    "repost_of_uid",
    "hashtags",
    "mentions",
    "urls",
    "media_types",
    "media_urls",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "metrics_observed_at",
    "sensitive",
    "edited_at",
    "collected_at",
    "spam",
)
# Columns holding identifiers: always written as text (never numbers, never rounded).
ID_COLUMNS = frozenset(
    {"uid", "native_id", "uri", "author_uid", "reply_to_uid", "root_uid", "quote_of_uid", "repost_of_uid"}
)
_AUTHOR_COLUMNS = ("author_uid", "author_handle", "author_name")


def _query(sel: Selection) -> str:
    reg = ""
    if sel.campaign is not None:
        names = ", ".join(
            f"({i}, '{p.name.replace(chr(39), chr(39) * 2)}', {_lit(p.country)})"
            for i, p in enumerate(sel.campaign.participants)
        )
        reg = f", reg(pid, name, country) AS (SELECT * FROM (VALUES {names}))" if names else ""
    inst = "reg.name, reg.country" if reg else "NULL, NULL"
    join_reg = " LEFT JOIN reg ON reg.pid = s.participant_id" if reg else ""
    # Posts held as spam are exported, marked with the rules' reason codes (space-separated).
    spam = "array_to_string(held.reasons, ' ')" if sel.held else "NULL"
    join_held = f" LEFT JOIN {sel.held} held ON held.uid = p.uid" if sel.held else ""
    return (
        f"WITH s AS (SELECT uid, participant_id FROM {sel.uids}),"
        f" e AS ({latest_engagement_sql('s')}),"
        " h AS (SELECT uid, string_agg(tag_display, ' ' ORDER BY tag_key) AS v FROM post_hashtags"
        " WHERE uid IN (SELECT uid FROM s) GROUP BY uid),"
        " mn AS (SELECT uid, string_agg(handle, ' ' ORDER BY handle) AS v, list(handle) AS l FROM post_mentions"
        " WHERE uid IN (SELECT uid FROM s) GROUP BY uid),"
        " u AS (SELECT uid, string_agg(url, ' ' ORDER BY url) AS v FROM post_urls"
        " WHERE uid IN (SELECT uid FROM s) GROUP BY uid),"
        " md AS (SELECT uid, string_agg(type, ' ' ORDER BY position) AS t,"
        " string_agg(coalesce(url, preview_url, ''), ' ' ORDER BY position) AS v FROM post_media"
        f" WHERE uid IN (SELECT uid FROM s) GROUP BY uid){reg}"
        " SELECT p.uid, p.platform, p.native_id, p.uri, p.url, p.created_at, p.kind, p.author_uid, a.handle,"
        f" a.display_name, a.followers, {inst}, p.text, p.lang, p.reply_to_uid, p.root_uid, p.quote_of_uid,"
        " p.repost_of_uid, h.v, mn.v, u.v, md.t, md.v, e.likes, e.reposts, e.replies, e.quotes, e.observed_at,"
        f" p.sensitive, p.edited_at, p.collected_at, {spam}, mn.l"
        " FROM s JOIN posts p ON p.uid = s.uid LEFT JOIN authors a ON a.uid = p.author_uid"
        " LEFT JOIN e ON e.uid = p.uid LEFT JOIN h ON h.uid = p.uid LEFT JOIN mn ON mn.uid = p.uid"
        f" LEFT JOIN u ON u.uid = p.uid LEFT JOIN md ON md.uid = p.uid{join_reg}{join_held}"
        " ORDER BY p.created_at, p.uid"
    )


def _lit(v: str | None) -> str:
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat().replace("+00:00", "Z")
    return v


def iter_rows(
    sel: Selection, *, pseudonymiser: Pseudonymiser | None = None, batch: int = 5_000
) -> Iterator[list[Any]]:
    """Rows of ``COLUMNS`` for the selected posts, oldest first: strings, ints, bools or None
    (times as ISO 8601 UTC text ending in ``Z``). With ``pseudonymiser``, the author's uid,
    handle and name and every mention (in ``mentions`` and in the text) are pseudonyms."""
    cur = sel.cursor()
    cur.execute(_query(sel))
    ps = pseudonymiser
    i_uid, i_handle, i_name = (COLUMNS.index(c) for c in _AUTHOR_COLUMNS)
    i_text, i_mentions = COLUMNS.index("text"), COLUMNS.index("mentions")
    try:
        while rows := cur.fetchmany(batch):
            for r in rows:
                row = [_cell(v) for v in r[: len(COLUMNS)]]
                if ps is not None:
                    row[i_uid] = ps.account(row[i_uid])
                    row[i_handle] = ps.handle(row[i_handle])
                    row[i_name] = ps.handle(r[i_handle]) if r[i_handle] else None
                    mentions = r[len(COLUMNS)] or []
                    row[i_mentions] = " ".join(str(ps.handle(m)) for m in mentions) or None
                    row[i_text] = ps.text(row[i_text], mentions)  # @user in text = user@instance listed
                yield row
    finally:
        cur.close()
