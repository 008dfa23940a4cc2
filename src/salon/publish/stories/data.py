"""A story version as data: what ``story.json`` holds and every rendering (HTML, Markdown, WACZ)
is made from. Built from the version's snapshot and what the archive holds now, so a post
deleted or opted out since is a placeholder with nothing of it left (``salon.campaigns.shown``).

Everything here is a function of (snapshot, archive, changelog): no clock is read, lists are in
a fixed order, so the same version gives the same data, and so the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from salon import __version__
from salon.campaigns.shown import hidden_posts
from salon.normalize.links import short_links
from salon.publish.stories.strings import say
from salon.store.archive import Archive
from salon.store.stories import post_payloads

__all__ = ["PLATFORM_NAMES", "build_data", "fmt_utc", "text_tokens"]

PLATFORM_NAMES = {"x": "X (Twitter)", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def fmt_utc(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(dt: datetime, tz: ZoneInfo) -> dict[str, str]:
    loc = dt.astimezone(tz)
    return {
        "iso": loc.isoformat(timespec="seconds"),
        "text": loc.strftime("%Y-%m-%d %H:%M ") + (loc.tzname() or "") + f" ({tz.key})",
    }


_TOKENS = re.compile(
    r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]|(?<![\w@/])@[\w.-]+(?:@[\w-]+(?:\.[\w-]+)+)?|(?<![\w&/])#\w+"
)


def text_tokens(text: str) -> list[tuple[str, str]]:
    """The text as (kind, piece) pairs: ``text``, ``url``, ``mention``, ``hashtag``."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _TOKENS.finditer(text):
        if m.start() > pos:
            out.append(("text", text[pos : m.start()]))
        tok = m.group(0)
        out.append(("hashtag" if tok[0] == "#" else "mention" if tok[0] == "@" else "url", tok))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


def _instance(url: str | None) -> str | None:
    m = re.match(r"^https?://([^/]+)/", url or "")
    return m.group(1) if m else None


def _profile_url(platform: str, handle: str, home: str | None) -> str | None:
    handle = handle.lstrip("@")
    if platform == "x":
        return f"https://x.com/{handle}"
    if platform == "bluesky":
        return f"https://bsky.app/profile/{handle}"
    if platform == "mastodon":
        user, _, host = handle.partition("@")
        host = host or home or ""
        return f"https://{host}/@{user}" if host else None
    return None


def _tag_url(platform: str, tag: str, home: str | None) -> str | None:
    if platform == "x":
        return f"https://x.com/hashtag/{tag}"
    if platform == "bluesky":
        return f"https://bsky.app/hashtag/{tag}"
    if platform == "mastodon" and home:
        return f"https://{home}/tags/{tag}"
    return None


def _http(url: Any) -> str | None:
    s = url.strip() if isinstance(url, str) else ""
    return s if s[:8].lower().startswith(("http://", "https://")) else None


def _rich_text(
    platform: str,
    text: str,
    mentions: list[str],
    home: str | None,
    short: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, str]]:
    """The text as pieces with their links: URLs (X's ``t.co`` links shown and linked as the
    address they stand for, from ``short``), mentions (to the profile on its platform,
    Mastodon's short ``@user`` completed from the post's mention entities) and hashtags."""
    full = {m.split("@")[0].lower(): m for m in mentions}
    out = []
    for kind, piece in text_tokens(text):
        d = {"t": kind, "s": piece}
        if kind == "url":
            d["href"] = piece
            if short and piece in short:
                d["href"] = short[piece]["expanded"]
                d["s"] = short[piece]["display"]
        elif kind == "mention":
            h = piece[1:]
            if platform == "mastodon" and "@" not in h:
                h = full.get(h.lower(), h)
            href = _profile_url(platform, h, home)
            if href:
                d["href"] = href
        elif kind == "hashtag":
            href = _tag_url(platform, piece[1:], home)
            if href:
                d["href"] = href
        out.append(d)
    return out


_POST_SQL = (
    "SELECT p.uid, p.platform, p.url, p.uri, p.author_uid, p.created_at, p.collected_at, p.text, p.lang, p.kind,"
    " p.reply_to_uid, p.quote_of_uid, p.sensitive, a.handle, a.display_name, a.url AS author_url"
    " FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid IN (SELECT unnest(?))"
)


class _Posts:
    """Loads posts with their media and mentions, and knows which must be hidden."""

    def __init__(
        self,
        arc: Archive,
        media_of: Callable[[str | None], dict[str, Any] | None],
        avatars: dict[str, str] | None = None,
    ) -> None:
        self.arc = arc
        self.media_of = media_of
        self.avatars = avatars or {}
        self.lang = "en"
        self.short: dict[str, dict[str, dict[str, str]]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.hidden: dict[str, str] = {}

    def load(self, uids: list[str]) -> None:
        need = sorted({u for u in uids if u and u not in self.rows})
        if not need:
            return
        for r in self.arc.dicts(_POST_SQL, [need]):
            r["media"] = []
            r["mentions"] = []
            self.rows[r["uid"]] = r
        for uid, pos, typ, url, alt, preview in self.arc.query(
            "SELECT uid, position, type, url, alt_text, preview_url FROM post_media"
            " WHERE uid IN (SELECT unnest(?)) ORDER BY uid, position",
            [need],
        ):
            self.rows[uid]["media"].append(
                {"position": pos, "type": typ, "url": url, "alt": alt, "preview_url": preview}
            )
        for uid, handle in self.arc.query(
            "SELECT DISTINCT uid, handle FROM post_mentions WHERE uid IN (SELECT unnest(?)) ORDER BY 1, 2",
            [need],
        ):
            self.rows[uid]["mentions"].append(handle)
        self.hidden.update(hidden_posts(self.arc, need))
        x_posts = [u for u in need if u in self.rows and self.rows[u]["platform"] == "x"]
        for uid, native, payload in post_payloads(self.arc, x_posts):
            if "t.co/" in (self.rows[uid]["text"] or ""):
                self.short[uid] = short_links(payload, native)

    def render(self, uid: str | None, tz: ZoneInfo, depth: int = 0) -> dict[str, Any] | None:
        """The post as story data (None: no uid); a removed post keeps only why it is gone."""
        if not uid:
            return None
        if uid in self.hidden:
            reason = self.hidden[uid]
            return {"removed": reason, "notice": say(self.lang, "removed." + reason)}
        r = self.rows.get(uid)
        if r is None:
            return {"removed": "missing", "notice": say(self.lang, "removed.missing")}
        home = _instance(r["url"]) or _instance(r["uri"])
        handle = r["handle"]
        created: datetime | None = r["created_at"]
        media = []
        for m in r["media"]:
            local = self.media_of(m["url"]) or self.media_of(m["preview_url"])
            media.append(
                {
                    "type": m["type"] or "media",
                    "alt": (m["alt"] or "").strip() or None,
                    "source_url": _http(m["url"]) or _http(m["preview_url"]),
                    "file": local,
                }
            )
        out: dict[str, Any] = {
            "uid": r["uid"],
            "platform": r["platform"],
            "platform_name": PLATFORM_NAMES.get(r["platform"], r["platform"]),
            "kind": r["kind"],
            "url": _http(r["url"]) or _http(r["uri"]),
            "author": {
                "name": r["display_name"] or handle or (r["author_uid"] or "")[:40],
                "handle": handle,
                "url": _http(r["author_url"])
                or (_profile_url(r["platform"], handle, home) if handle else None),
                "avatar": self.media_of(self.avatars.get(r["author_uid"] or "")),
            },
            "created_utc": fmt_utc(created) if created else None,
            "created_local": _local(created, tz) if created else None,
            "lang": r["lang"],
            "sensitive": bool(r["sensitive"]),
            "text": r["text"] or "",
            "rich": _rich_text(r["platform"], r["text"] or "", r["mentions"], home, self.short.get(uid)),
            "media": media,
        }
        if depth == 0:
            out["reply_to"] = self.render(r["reply_to_uid"], tz, depth + 1)
            out["quote"] = self.render(r["quote_of_uid"], tz, depth + 1)
        return out


def _campaign(arc: Archive, slug: str | None) -> dict[str, Any] | None:
    if not slug:
        return None
    rows = arc.dicts(
        "SELECT slug, name, timezone, start_local, end_local FROM campaigns WHERE slug = ?", [slug]
    )
    return rows[0] if rows else None


def build_data(
    arc: Archive,
    snapshot: dict[str, Any],
    *,
    version: int,
    published_at: datetime,
    changelog: list[dict[str, Any]],
    media_of: Callable[[str | None], dict[str, Any] | None] = lambda url: None,
    avatars: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The story version's data (``story.json``) and ``{uid: reason}`` of the story's posts
    (items, replied-to and quoted posts) that are no longer shown. ``media_of(url)`` tells where a fetched medium
    is (``{"sha256", "mime", "ext", "path"}``) or None when it was not fetched; ``avatars``
    maps author uids to their avatar URL (``salon.normalize.avatars``), shown when fetched."""
    camp = _campaign(arc, snapshot.get("campaign_slug"))
    tz = ZoneInfo(camp["timezone"]) if camp else ZoneInfo("UTC")
    posts = _Posts(arc, media_of, avatars)
    posts.lang = snapshot.get("lang") or "en"
    uids = [i["post_uid"] for i in snapshot["items"] if i["kind"] == "post"]
    posts.load(uids)
    posts.load([posts.rows[u][k] for u in uids if u in posts.rows for k in ("reply_to_uid", "quote_of_uid")])
    items: list[dict[str, Any]] = []
    for it in snapshot["items"]:
        if it["kind"] == "post":
            items.append({"kind": "post", "post": posts.render(it["post_uid"], tz)})
        else:
            items.append({"kind": it["kind"], "body": it.get("body") or ""})
    shown = [posts.rows[u] for u in uids if u in posts.rows and u not in posts.hidden]
    captured = sorted(r["collected_at"] for r in shown if r["collected_at"])
    created = sorted(r["created_at"] for r in shown if r["created_at"])
    removed = posts.hidden
    data = {
        "format": "salon-story-version/1",
        "slug": snapshot["slug"],
        "title": snapshot.get("title") or snapshot["slug"],
        "description": snapshot.get("description") or "",
        "lang": snapshot.get("lang") or "en",
        "version": version,
        "published_utc": fmt_utc(published_at),
        "campaign": {
            "slug": camp["slug"],
            "name": camp["name"],
            "timezone": camp["timezone"],
            "start": camp["start_local"],
            "end": camp["end_local"],
        }
        if camp
        else None,
        "chat": snapshot.get("chat_slug"),
        "colophon": {
            "institution": snapshot.get("institution"),
            "curator": snapshot.get("curator"),
            "captured_from": fmt_utc(captured[0]) if captured else None,
            "captured_to": fmt_utc(captured[-1]) if captured else None,
            "posts_from": fmt_utc(created[0]) if created else None,
            "posts_to": fmt_utc(created[-1]) if created else None,
            "salon_version": __version__,
            "notice": say(snapshot.get("lang"), "notice"),
        },
        "changelog": [
            {"date": c["at"].astimezone(UTC).strftime("%Y-%m-%d"), "entry": c["entry"]} for c in changelog
        ],
        "items": items,
        "counts": {
            "posts": len(uids),
            "removed": sum(1 for i in items if i["kind"] == "post" and "removed" in i["post"]),
        },
    }
    return data, dict(sorted(removed.items()))
