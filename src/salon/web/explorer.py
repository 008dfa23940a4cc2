"""The archive explorer's queries: search with filters and keyset paging, a post as it was, an
author, an institution, a campaign's latest posts. Read-only, except ``refresh_search`` which
the writer thread runs.

Search is accent- and case-insensitive both ways ("musee" finds "Musée", "musée" finds
"MUSEE"): ``post_search.folded`` holds ``strip_accents(lower(text))`` of every post, kept up to
date from ``posts.collected_at`` like the campaign index, and the query is folded by the same
DuckDB functions. Pages are keyset-based on ``(created_at, uid)`` descending, so page 1,000 costs
what page 1 costs.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import orjson

from salon.campaigns.stored import get_campaign
from salon.campaigns.trust.consent import author_visible_sql
from salon.campaigns.trust.posts import hidden_posts
from salon.campaigns.trust.settings import ModerationError, moderation_of
from salon.campaigns.trust.visibility import visible_sql
from salon.hashtags import tag_key
from salon.store.archive import Archive
from salon.store.rawstore import payload_of

__all__ = [
    "Filters",
    "Page",
    "author_page",
    "campaign_latest",
    "institution_page",
    "post_detail",
    "refresh_search",
    "search",
]

PAGE_SIZE = 50
POST_COLUMNS = (
    "p.uid, p.platform, p.url, p.author_uid, p.created_at, p.text, p.lang, p.kind, p.reply_to_uid,"
    " p.quote_of_uid, p.repost_of_uid, p.sensitive, a.handle, a.display_name"
)
POST_KEYS = (
    "uid",
    "platform",
    "url",
    "author_uid",
    "created_at",
    "text",
    "lang",
    "kind",
    "reply_to_uid",
    "quote_of_uid",
    "repost_of_uid",
    "sensitive",
    "handle",
    "display_name",
)


def refresh_search(arc: Archive) -> int:
    """Fold the text of posts collected since the last refresh into ``post_search`` (the
    writer thread runs this after each change). Returns how many posts were (re)folded."""
    con = arc.con
    row = con.execute("SELECT posts_mark FROM post_search_state WHERE id = 1").fetchone()
    mark = row[0] if row else None
    newest = con.execute("SELECT max(collected_at) FROM posts").fetchone()[0]  # type: ignore[index]
    if newest is None or newest == mark:
        return 0
    with arc.transaction():
        where = "collected_at > ?" if mark is not None else "true"
        params = [mark] if mark is not None else []
        if mark is not None:
            con.execute(f"DELETE FROM post_search WHERE uid IN (SELECT uid FROM posts WHERE {where})", params)
        inserted = con.execute(
            "INSERT INTO post_search SELECT uid, created_at, strip_accents(lower(coalesce(text, '')))"
            f" FROM posts WHERE {where} AND collected_at <= ?",
            [*params, newest],
        ).fetchone()  # DuckDB's INSERT returns one row: how many rows it inserted
        count = int(inserted[0]) if inserted else 0
        con.execute(
            "INSERT INTO post_search_state VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET posts_mark = excluded.posts_mark",
            [newest],
        )
    return count


@dataclass
class Filters:
    """What the explorer's form and ``/api/search`` accept (every field optional)."""

    q: str = ""
    platform: str = ""
    hashtag: str = ""
    author: str = ""
    campaign: str = ""
    institution: str = ""  # participant id within ``campaign``
    country: str = ""  # registry country within ``campaign``
    lang: str = ""
    kind: str = ""
    since: str = ""  # YYYY-MM-DD, UTC, inclusive
    until: str = ""  # YYYY-MM-DD, UTC, inclusive
    after: str = ""  # keyset cursor (opaque)

    @classmethod
    def from_params(cls, params: Any) -> Filters:
        return cls(**{k: (params.get(k) or "").strip() for k in cls.__dataclass_fields__})

    def active(self) -> bool:
        return any(getattr(self, k) for k in self.__dataclass_fields__ if k != "after")

    def query_string(self, **change: str) -> str:
        from urllib.parse import urlencode

        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d.update(change)
        return urlencode({k: v for k, v in d.items() if v})


@dataclass
class Page:
    """One page of posts and the cursor of the next one (None: last page)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    next: str | None = None
    error: str | None = None


def _cursor(created_at: datetime | None, uid: str) -> str:
    raw = orjson.dumps([created_at.isoformat() if created_at else None, uid])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(s: str) -> tuple[datetime | None, str]:
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    ts, uid = orjson.loads(raw)
    return (datetime.fromisoformat(ts) if ts else None), str(uid)


def _day(s: str, end: bool) -> datetime:
    d = date.fromisoformat(s)
    return datetime.combine(d, time.max if end else time.min, tzinfo=UTC)


def _posts_where(arc: Archive, f: Filters) -> tuple[list[str], list[Any]]:
    # Public search: only what a public surface may show (deleted, opted-out and hidden authors
    # out: salon.campaigns.trust.visibility).
    where = ["NOT p.is_context", visible_sql("p")]
    params: list[Any] = []
    if f.q:
        folded = arc.con.execute("SELECT strip_accents(lower(?))", [f.q]).fetchone()[0]  # type: ignore[index]
        terms = [t for t in str(folded).split() if t]
        for t in terms[:8]:
            where.append("contains(s.folded, ?)")
            params.append(t)
    if f.platform:
        where.append("p.platform = ?")
        params.append(f.platform)
    if f.hashtag:
        where.append("p.uid IN (SELECT uid FROM post_hashtags WHERE tag_key = ?)")
        params.append(tag_key(f.hashtag))
    if f.author:
        handle = f.author.lstrip("@").lower()
        # A Mastodon handle is user@instance: "@prado" finds prado@any.instance.
        where.append(
            "(p.author_uid = ? OR p.author_uid IN (SELECT uid FROM authors WHERE lower(handle) = ?"
            " OR (platform = 'mastodon' AND starts_with(lower(handle), ?))))"
        )
        params += [f.author, handle, handle + "@"]
    if f.lang:
        where.append("p.lang = ?")
        params.append(f.lang)
    if f.kind:
        where.append("p.kind = ?")
        params.append(f.kind)
    if f.since:
        where.append("p.created_at >= ?")
        params.append(_day(f.since, False))
    if f.until:
        where.append("p.created_at <= ?")
        params.append(_day(f.until, True))
    if f.campaign and (f.institution or f.country):
        cond = ["c.slug = ?"]
        cparams: list[Any] = [f.campaign]
        if f.institution:
            cond.append("cp.participant_id = ?")
            cparams.append(int(f.institution))
        if f.country:
            cond.append(
                "cp.participant_id IN (SELECT participant_id FROM participants r WHERE r.campaign_id = c.campaign_id"
                " AND r.country = ?)"
            )
            cparams.append(f.country.upper())
        where.append(
            "p.uid IN (SELECT cp.uid FROM campaign_posts cp JOIN campaigns c USING (campaign_id) WHERE "
            + " AND ".join(cond)
            + ")"
        )
        params += cparams
    if f.after:
        ts, uid = _decode_cursor(f.after)
        where.append("(p.created_at < ? OR (p.created_at = ? AND p.uid < ?))")
        params += [ts, ts, uid]
    return where, params


def search(arc: Archive, f: Filters, limit: int = PAGE_SIZE) -> Page:
    """Posts matching ``f``, newest first, ``limit`` per page."""
    try:
        where, params = _posts_where(arc, f)
    except (ValueError, TypeError) as exc:
        return Page(error=f"invalid filter: {exc}")
    join = "JOIN post_search s ON s.uid = p.uid" if f.q else ""
    sql = (
        f"SELECT {POST_COLUMNS} FROM posts p {join} LEFT JOIN authors a ON a.uid = p.author_uid"
        f" WHERE {' AND '.join(where)} ORDER BY p.created_at DESC NULLS LAST, p.uid DESC LIMIT {int(limit) + 1}"
    )
    items = arc.dicts(sql, params)
    page = Page(items[:limit])
    if len(items) > limit:
        last = page.items[-1]
        page.next = _cursor(last["created_at"], last["uid"])
    _attach(arc, page.items)
    return page


def _attach(arc: Archive, items: list[dict[str, Any]]) -> None:
    """Hashtags and media of each post (two queries for the whole page)."""
    if not items:
        return
    uids = [i["uid"] for i in items]
    by: dict[str, dict[str, Any]] = {i["uid"]: i for i in items}
    for i in items:
        i["hashtags"], i["media"] = [], []
    for uid, disp in arc.con.execute(
        "SELECT uid, tag_display FROM post_hashtags WHERE uid IN (SELECT unnest(?)) ORDER BY uid", [uids]
    ).fetchall():
        if disp not in by[uid]["hashtags"]:
            by[uid]["hashtags"].append(disp)
    for uid, typ, url, alt, prev in arc.con.execute(
        "SELECT uid, type, url, alt_text, preview_url FROM post_media WHERE uid IN (SELECT unnest(?))"
        " ORDER BY uid, position",
        [uids],
    ).fetchall():
        by[uid]["media"].append({"type": typ, "url": url, "alt_text": alt, "preview_url": prev})


def _one_post(arc: Archive, uid: str | None) -> dict[str, Any] | None:
    if not uid:
        return None
    rows = arc.dicts(
        f"SELECT {POST_COLUMNS}, p.deleted_at FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid"
        " WHERE p.uid = ?",
        [uid],
    )
    if not rows:
        return None
    if rows[0]["deleted_at"] is None and (
        not _author_visible(arc, rows[0]["author_uid"]) or hidden_posts(arc, [uid])
    ):
        return {"uid": uid, "deleted": True, "deleted_at": None, "withheld": True}
    _attach(arc, rows)
    return rows[0]


def _author_visible(arc: Archive, author_uid: str | None) -> bool:
    """May a public page show this author (consent, account status: trust.visibility)?"""
    if author_uid is None:
        return True
    return bool(arc.scalar(f"SELECT {author_visible_sql('x.u')} FROM (SELECT ? AS u) x", [author_uid]))


def post_detail(arc: Archive, uid: str) -> dict[str, Any] | None:
    """A post as it was: text, links, media with alt text, reply/quote/repost context, latest
    engagement and provenance of the raw record it was read from. None when unknown; a deleted
    post comes back as a tombstone (``deleted``) without its content."""
    base = arc.dicts(
        f"SELECT {POST_COLUMNS}, p.uri, p.indexed_at, p.collected_at, p.edited_at, p.deleted_at, p.root_uid,"
        " p.is_context, p.raw_id FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid = ?",
        [uid],
    )
    if not base:
        return None
    post = base[0]
    if post["deleted_at"] is not None:
        return {"uid": uid, "deleted": True, "deleted_at": post["deleted_at"], "platform": post["platform"]}
    if not _author_visible(arc, post["author_uid"]) or hidden_posts(arc, [uid]):
        return None  # an opted-out or hidden author, a hidden post: not on a public page (trust)
    post["deleted"] = False
    _attach(arc, [post])
    post["urls"] = [r[0] for r in arc.query("SELECT url FROM post_urls WHERE uid = ?", [uid])]
    post["mentions"] = [r[0] for r in arc.query("SELECT handle FROM post_mentions WHERE uid = ?", [uid])]
    eng = arc.dicts(
        "SELECT observed_at, likes, reposts, replies, quotes FROM metrics_snapshots WHERE uid = ?"
        " ORDER BY observed_at DESC LIMIT 1",
        [uid],
    )
    post["engagement"] = eng[0] if eng else None
    post["reply_to"] = _one_post(arc, post["reply_to_uid"])
    post["quote_of"] = _one_post(arc, post["quote_of_uid"])
    post["repost_of"] = _one_post(arc, post["repost_of_uid"])
    for k in ("reply_to", "quote_of", "repost_of"):
        if post[k] is not None and post[k].get("deleted_at") is not None:
            post[k] = {"uid": post[k]["uid"], "deleted": True}
    prov = arc.dicts(
        "SELECT r.raw_id, r.format, r.source, r.line, r.retrieved_at, r.received_at, r.salon_version,"
        " f.path AS file, f.sha256 AS file_sha256, i.import_id, i.kind AS import_kind"
        " FROM raw r LEFT JOIN import_files f ON f.file_id = r.file_id LEFT JOIN imports i ON i.import_id = f.import_id"
        " WHERE r.raw_id = ?",
        [post["raw_id"]],
    )
    post["provenance"] = prov[0] if prov else None
    if post["provenance"] is not None:
        payload = (payload_of(arc.con, post["raw_id"]) or b"").decode("utf-8", "replace")
        with contextlib.suppress(orjson.JSONDecodeError):
            payload = orjson.dumps(orjson.loads(payload), option=orjson.OPT_INDENT_2).decode()
        post["provenance"]["payload"] = payload[:20000]
    return post


def author_page(arc: Archive, uid_or_handle: str, after: str = "") -> dict[str, Any] | None:
    """An author's latest snapshot, counts and posts (keyset-paged)."""
    rows = arc.dicts(
        "SELECT uid, platform, native_id, handle, display_name, bio, url, followers, following, posts_count,"
        " bot, verified, created_at, indexable, observed_at FROM authors WHERE uid = ? OR lower(handle) = lower(?)"
        " ORDER BY uid = ? DESC LIMIT 1",
        [uid_or_handle, uid_or_handle.lstrip("@"), uid_or_handle],
    )
    if not rows:
        n = arc.scalar("SELECT count(*) FROM posts WHERE author_uid = ?", [uid_or_handle])
        if not n:
            return None
        rows = [{"uid": uid_or_handle, "platform": uid_or_handle.split(":", 1)[0], "handle": None}]
    a = rows[0]
    if not _author_visible(arc, a["uid"]):
        return None  # an opted-out or hidden author: not on a public page (trust.visibility)
    stats = arc.dicts(
        "SELECT count(*) AS posts, min(created_at) AS first_post_at, max(created_at) AS last_post_at"
        " FROM posts WHERE author_uid = ? AND deleted_at IS NULL AND NOT is_context",
        [a["uid"]],
    )[0]
    a.update(stats)
    a["page"] = search(arc, Filters(author=a["uid"], after=after))
    return a


def institution_page(arc: Archive, slug: str, participant_id: int, after: str = "") -> dict[str, Any] | None:
    """A registered participant of a stored campaign: registry entry, accounts, figures, posts."""
    rows = arc.dicts(
        "SELECT c.campaign_id, c.name AS campaign, p.participant_id, p.name, p.country, p.city, p.kind"
        " FROM participants p JOIN campaigns c USING (campaign_id) WHERE c.slug = ? AND p.participant_id = ?",
        [slug, participant_id],
    )
    if not rows:
        return None
    inst = rows[0]
    inst["accounts"] = arc.dicts(
        "SELECT platform, handle, account_uid FROM participant_accounts WHERE campaign_id = ? AND participant_id = ?",
        [inst["campaign_id"], participant_id],
    )
    counts = arc.con.execute(
        "SELECT count(*) FILTER (WHERE NOT is_repost), count(*) FILTER (WHERE is_repost)"
        " FROM campaign_posts WHERE campaign_id = ? AND participant_id = ?",
        [inst["campaign_id"], participant_id],
    ).fetchone()
    inst["posts"], inst["reposts"] = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    inst["page"] = search(arc, Filters(campaign=slug, institution=str(participant_id), after=after), limit=20)
    return inst


def campaign_latest(arc: Archive, slug: str, limit: int = 12) -> list[dict[str, Any]]:
    """The latest campaign posts (not reposts) for the wall, newest first: only those its
    public pages may show (held, trashed, unapproved in ``pre`` mode, deleted, opted-out: out;
    salon.campaigns.trust.visibility)."""
    c = get_campaign(arc, slug)
    if c is None or c.campaign_id is None:
        return []
    try:
        mode = moderation_of(c).mode
    except ModerationError:
        mode = "pre"  # a broken [moderation] table shows only what was approved
    items = arc.dicts(
        f"SELECT {POST_COLUMNS}, cp.participant_id FROM campaign_posts cp"
        " JOIN posts p ON p.uid = cp.uid LEFT JOIN authors a ON a.uid = p.author_uid"
        f" WHERE cp.campaign_id = ? AND NOT cp.is_repost AND {visible_sql('p', c.campaign_id, mode)}"
        f" ORDER BY cp.created_at DESC, cp.uid DESC LIMIT {int(limit)}",
        [c.campaign_id],
    )
    _attach(arc, items)
    return items
