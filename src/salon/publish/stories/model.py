"""Stories as a notebook user handles them: create, add posts (by uid or pasted URL), headings
and Markdown text, list, show, export and import as JSON.

>>> from salon.store.archive import open_archive
>>> from salon.publish.stories import model
>>> arc = open_archive("salon.duckdb")                                   # doctest: +SKIP
>>> model.new_story(arc, "day-1", "Day one", campaign="museumweek-2025")  # doctest: +SKIP
>>> model.add_items(arc, "day-1", [model.heading("Morning"), model.post("https://x.com/a/status/1")])  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from salon import __version__
from salon.campaigns.index import refresh
from salon.campaigns.shown import hidden_posts
from salon.campaigns.stored import get_campaign
from salon.store import stories as db
from salon.store.archive import Archive
from salon.store.stories import StaleRevision

__all__ = [
    "EXPORT_FORMAT",
    "ITEM_KINDS",
    "Item",
    "StaleRevision",
    "Story",
    "StoryError",
    "add_items",
    "export_story",
    "get_story",
    "heading",
    "import_story",
    "list_stories",
    "new_story",
    "post",
    "resolve_post",
    "save_story",
    "text",
    "top_posts",
]

ITEM_KINDS = ("post", "heading", "text")
EXPORT_FORMAT = "salon-story/1"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class StoryError(ValueError):
    """A story operation that cannot be done as asked (unknown story, post not in the archive...)."""


@dataclass(frozen=True)
class Item:
    """One entry of a story: a post (``post_uid``), a heading or a Markdown text block (``body``)."""

    kind: str
    post_uid: str | None = None
    body: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if self.kind == "post":
            d["post_uid"] = self.post_uid
        else:
            d["body"] = self.body or ""
        return d


def post(ref: str) -> Item:
    """A post item; ``ref`` is a uid or a pasted URL (resolved by ``add_items``)."""
    return Item("post", post_uid=ref.strip())


def heading(body: str) -> Item:
    return Item("heading", body=body.strip())


def text(body: str) -> Item:
    """A Markdown text block (sanitised when rendered: no raw HTML, no script, no remote image)."""
    return Item("text", body=body)


@dataclass
class Story:
    story_id: int
    slug: str
    title: str
    description: str | None = None
    campaign_slug: str | None = None
    chat_slug: str | None = None
    curator: str | None = None
    institution: str | None = None
    lang: str | None = None
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    items: list[Item] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in db.STORY_FIELDS}


def _story(arc: Archive, row: dict[str, Any]) -> Story:
    items = [Item(r["kind"], r["post_uid"], r["body"]) for r in db.story_items(arc, row["story_id"])]
    keep = {k: row[k] for k in ("story_id", "slug", "revision", "created_at", "updated_at", *db.STORY_FIELDS)}
    return Story(**keep, items=items)


def get_story(arc: Archive, slug: str) -> Story | None:
    row = db.story_row(arc, slug)
    return _story(arc, row) if row else None


def _must(arc: Archive, slug: str) -> Story:
    s = get_story(arc, slug)
    if s is None:
        raise StoryError(f"no story {slug!r} (see `salon story list`)")
    return s


def list_stories(arc: Archive) -> list[dict[str, Any]]:
    """One dict per story: slug, title, campaign_slug, items (count), version (last published)."""
    return db.story_rows(arc)


def _check_campaign(arc: Archive, campaign: str | None) -> None:
    if campaign and not arc.scalar("SELECT count(*) FROM campaigns WHERE slug = ?", [campaign]):
        raise StoryError(f"no campaign {campaign!r} in this archive (see `salon campaign list`)")


def new_story(
    arc: Archive,
    slug: str,
    title: str,
    *,
    campaign: str | None = None,
    chat: str | None = None,
    curator: str | None = None,
    institution: str | None = None,
    description: str | None = None,
    lang: str | None = None,
) -> Story:
    """Create an empty story. ``slug``: lower-case letters, digits and dashes (it is the URL)."""
    if not SLUG_RE.match(slug):
        raise StoryError(f"{slug!r}: a story slug is lower-case letters, digits and '-' (at most 80)")
    if db.story_row(arc, slug):
        raise StoryError(f"a story {slug!r} exists already")
    if chat:
        # a chat's story takes its campaign (time zone, name) unless one is given
        rows = arc.query(
            "SELECT c.slug FROM chats k JOIN campaigns c USING (campaign_id) WHERE k.slug = ?", [chat]
        )
        if not rows:
            raise StoryError(f"no chat {chat!r} in this archive (see `salon chat list`)")
        campaign = campaign or str(rows[0][0])
    _check_campaign(arc, campaign)
    fields = {
        "title": title.strip() or slug,
        "description": description,
        "campaign_slug": campaign,
        "chat_slug": chat,
        "curator": curator,
        "institution": institution,
        "lang": lang,
    }
    db.create_story(arc, slug, fields)
    return _must(arc, slug)


# -- pasted URLs ------------------------------------------------------------------------------------

_X_STATUS = re.compile(r"^https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/(?:[^/]+|i/web)/status(?:es)?/(\d+)")
_BSKY_POST = re.compile(r"^https?://(?:www\.)?bsky\.app/profile/([^/]+)/post/([^/?#]+)")


def resolve_post(arc: Archive, ref: str) -> str | None:
    """The uid of the stored post ``ref`` names: a uid (``x:123``, ``mastodon:<uri>``,
    ``bluesky:at://...``), an X/Twitter status URL, a bsky.app post URL, a Mastodon status URL or
    ``uri`` (as stored), or an ``at://`` URI. None when the archive does not hold it."""
    ref = ref.strip()
    if not ref:
        return None
    hit = arc.scalar("SELECT uid FROM posts WHERE uid = ?", [ref])
    if hit:
        return str(hit)
    hit = arc.scalar("SELECT uid FROM post_aliases WHERE alias_uid = ?", [ref])
    if hit:
        return str(hit)
    m = _X_STATUS.match(ref)
    if m:
        hit = arc.scalar("SELECT uid FROM posts WHERE uid = ?", [f"x:{m.group(1)}"])
        return str(hit) if hit else None
    m = _BSKY_POST.match(ref)
    if m:
        who, rkey = m.groups()
        rows = arc.query(
            "SELECT p.uid FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid"
            " WHERE p.platform = 'bluesky' AND p.uri LIKE ? AND (p.url = ? OR p.uri LIKE ?"
            " OR lower(a.handle) = lower(?)) ORDER BY p.uid",
            [f"%/app.bsky.feed.post/{rkey}", ref, f"at://{who}/%", who],
        )
        return str(rows[0][0]) if rows else None
    for sql in (
        "SELECT uid FROM posts WHERE url = ? OR uri = ? ORDER BY uid",
        "SELECT uid FROM posts WHERE uid = 'bluesky:' || ? OR uid = 'mastodon:' || ? ORDER BY uid",
    ):
        rows = arc.query(sql, [ref, ref])
        if rows:
            return str(rows[0][0])
    return None


def top_posts(arc: Archive, campaign: str, n: int) -> list[str]:
    """The ``n`` campaign posts (reposts excluded) with the most engagement in their latest
    snapshot (likes + reposts + quotes + replies, as the campaign index holds it), earliest first
    on ties, leaving out posts that may not be shown (``salon.campaigns.shown``): a starting
    point for curating, in time order."""
    c = get_campaign(arc, campaign)
    if c is None:
        raise StoryError(f"no campaign {campaign!r} in this archive")
    if not arc.read_only:
        refresh(arc, c)  # the index may lag behind the last import
    rows = arc.query(
        "SELECT cp.uid, cp.created_at FROM campaign_posts cp JOIN campaigns c USING (campaign_id)"
        " WHERE c.slug = ? AND NOT cp.is_repost ORDER BY coalesce(cp.likes, 0) + coalesce(cp.reposts, 0)"
        " + coalesce(cp.quotes, 0) + coalesce(cp.replies, 0) DESC, cp.created_at, cp.uid LIMIT ?",
        [campaign, n * 3 + 10],
    )
    hidden = hidden_posts(arc, [r[0] for r in rows])
    keep = [r for r in rows if r[0] not in hidden][:n]
    return [uid for uid, _ in sorted(keep, key=lambda r: (r[1], r[0]))]


def _normalise(arc: Archive, items: list[Item]) -> list[Item]:
    out = []
    for it in items:
        if it.kind not in ITEM_KINDS:
            raise StoryError(f"unknown item kind {it.kind!r} (post, heading or text)")
        if it.kind == "post":
            uid = resolve_post(arc, it.post_uid or "")
            if uid is None:
                raise StoryError(f"{it.post_uid}: no such post in the archive (a uid or a post's URL)")
            out.append(Item("post", post_uid=uid))
        else:
            out.append(Item(it.kind, body=it.body or ""))
    return out


def add_items(
    arc: Archive,
    slug: str,
    items: list[Item],
    *,
    position: int | None = None,
    expected_revision: int | None = None,
) -> Story:
    """Insert ``items`` at ``position`` (None: at the end). Posts are resolved (uid or URL);
    a post already in the story is not added twice."""
    s = _must(arc, slug)
    new = _normalise(arc, items)
    have = {i.post_uid for i in s.items if i.kind == "post"}
    fresh = []
    for it in new:
        if it.kind == "post":
            if it.post_uid in have:
                continue
            have.add(it.post_uid)
        fresh.append(it)
    at = len(s.items) if position is None else max(0, min(position, len(s.items)))
    merged = s.items[:at] + fresh + s.items[at:]
    db.update_story(arc, s.story_id, expected_revision=expected_revision, items=[i.as_dict() for i in merged])
    return _must(arc, slug)


def save_story(
    arc: Archive,
    slug: str,
    *,
    revision: int,
    fields: dict[str, Any] | None = None,
    items: list[Item] | None = None,
) -> Story:
    """Replace a story's fields and/or items if it is still at ``revision`` (what the editor
    loaded); raises ``StaleRevision`` otherwise, so a second editor never silently overwrites."""
    s = _must(arc, slug)
    if fields and fields.get("campaign_slug"):
        _check_campaign(arc, fields["campaign_slug"])
    clean = _normalise(arc, items) if items is not None else None
    db.update_story(
        arc,
        s.story_id,
        expected_revision=revision,
        fields={k: v for k, v in (fields or {}).items() if k in db.STORY_FIELDS},
        items=[i.as_dict() for i in clean] if clean is not None else None,
    )
    return _must(arc, slug)


# -- export / import ----------------------------------------------------------------------------------


def export_story(arc: Archive, slug: str) -> dict[str, Any]:
    """The story as JSON data another Salon instance imports (``import_story``): fields, items
    (posts by uid and permalink, so the other archive can match them), versions' dates and the
    changelog. Published HTML is not included (it is rendered again from the importing archive)."""
    s = _must(arc, slug)
    urls = dict(
        arc.query(
            "SELECT uid, url FROM posts WHERE uid IN (SELECT unnest(?))",
            [[i.post_uid for i in s.items if i.kind == "post"]],
        )
    )
    items = []
    for it in s.items:
        d = it.as_dict()
        if it.kind == "post":
            d["url"] = urls.get(it.post_uid)
        items.append(d)
    return {
        "format": EXPORT_FORMAT,
        "salon_version": __version__,
        "slug": s.slug,
        **{k: v for k, v in s.fields().items()},
        "items": items,
        "changelog": [
            {"at": r["at"].isoformat(), "entry": r["entry"]} for r in db.changelog(arc, s.story_id)
        ],
    }


def import_story(arc: Archive, data: dict[str, Any], *, slug: str | None = None) -> tuple[Story, list[str]]:
    """Create a story from ``export_story`` data (as ``slug`` if given). Posts are matched by
    uid, else by URL; those this archive lacks are skipped and returned (as uid or URL)."""
    if data.get("format") != EXPORT_FORMAT:
        raise StoryError(
            f"not a Salon story export (format {data.get('format')!r}, expected {EXPORT_FORMAT})"
        )
    target = slug or str(data.get("slug") or "")
    campaign = data.get("campaign_slug")
    if campaign and not arc.scalar("SELECT count(*) FROM campaigns WHERE slug = ?", [campaign]):
        campaign = None  # the other instance's campaign is not here: the story still imports
    s = new_story(
        arc,
        target,
        str(data.get("title") or target),
        campaign=campaign,
        chat=data.get("chat_slug"),
        curator=data.get("curator"),
        institution=data.get("institution"),
        description=data.get("description"),
        lang=data.get("lang"),
    )
    items, missing = [], []
    for d in data.get("items") or []:
        kind = d.get("kind")
        if kind == "post":
            uid = resolve_post(arc, d.get("post_uid") or "") or resolve_post(arc, d.get("url") or "")
            if uid is None:
                missing.append(str(d.get("post_uid") or d.get("url")))
                continue
            items.append(Item("post", post_uid=uid))
        elif kind in ("heading", "text"):
            items.append(Item(kind, body=str(d.get("body") or "")))
        else:
            raise StoryError(f"unknown item kind {kind!r} in the export")
    if items:
        db.update_story(arc, s.story_id, expected_revision=None, items=[i.as_dict() for i in items])
    with arc.transaction():
        for c in data.get("changelog") or []:
            db.add_changelog(arc, s.story_id, str(c["entry"]), datetime.fromisoformat(c["at"]))
    return _must(arc, target), missing
