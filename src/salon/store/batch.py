"""A batch: the rows one transaction writes (raw records, posts, authors, engagement
snapshots, tombstones, quarantined records), accumulated from normalised items, and the Arrow
tables ``salon.store.writer.Writer`` inserts them from (built ahead of the write by
``Batch.freeze``). Keys: a raw record by the hash of its bytes (``raw_id``), a post by its uid
(the newest edit wins), an author by uid (the latest observation)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from salon.hashtags import tag_key, tag_norm
from salon.model import Author, Post, Tombstone
from salon.store import rawstore

__all__ = ["AUTHOR_FIELDS", "TS", "Batch", "Origin", "raw_id"]


TS = pa.timestamp("us", tz="UTC")


def raw_id(payload: bytes) -> str:
    """Key of a raw record: blake2b-128 of its bytes (fast, and collisions are not a concern)."""
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


@dataclass(eq=False, slots=True)
class Origin:
    """Where a record of a file import comes from, carried by each record of a batch that spans
    several files (many small files are written in one transaction, each record keeping its
    own provenance): the file's ``import_files`` row, its label (``raw.source``, quarantine,
    problems), the time its payloads were observed (the file's modification time) and, for an
    X archive, its owner."""

    file_id: int | None
    source: str
    observed_at: datetime
    account: Author | None = None


@dataclass
class Batch:
    """Rows accumulated for one transaction."""

    raw: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("raw_id", "format", "payload", "file_id", "line", "source", "retrieved_at")
        }
    )
    posts: dict[str, Post] = field(default_factory=dict)
    post_raw: dict[str, str] = field(default_factory=dict)
    authors: dict[str, Author] = field(default_factory=dict)
    author_seen: dict[str, datetime] = field(default_factory=dict)
    snapshots: list[tuple[str, datetime, Any, Any, Any, Any, str]] = field(default_factory=list)
    tombstones: dict[str, tuple[datetime | None, str]] = field(default_factory=dict)
    quarantine: list[tuple[Any, ...]] = field(default_factory=list)
    # Arrow tables and packed raw blocks made ahead of the write by ``freeze`` (in the thread that
    # prepares the next batch, so the writer only writes).
    frozen: dict[str, Any] = field(default_factory=dict)

    def freeze(self) -> None:
        """Build what ``Writer.write`` will insert now rather than at write time; the batch must
        not change afterwards."""
        for key, (has, _build) in _BUILT.items():
            if has(self):
                self.frozen[key] = self.built(key)

    def built(self, key: str) -> Any:
        """The Arrow tables (or packed raw blocks) ``key`` of ``_BUILT``, frozen or made now."""
        return self.frozen[key] if key in self.frozen else _BUILT[key][1](self)

    def __len__(self) -> int:
        return len(self.raw["raw_id"]) + len(self.quarantine)

    def add_raw(
        self,
        rid: str,
        fmt: str,
        payload: bytes,
        file_id: int | None,
        line: int | None,
        source: str | None,
        retrieved_at: datetime | None,
    ) -> None:
        r = self.raw
        r["raw_id"].append(rid)
        r["format"].append(fmt)
        r["payload"].append(payload)
        r["file_id"].append(file_id)
        r["line"].append(line)
        r["source"].append(source)
        r["retrieved_at"].append(retrieved_at)

    def add_items(self, items: Iterable[Any], rid: str, observed_at: datetime) -> None:
        """Add what a normaliser produced from raw record ``rid``."""
        for item in items:
            if isinstance(item, Post):
                self._add_post(item, rid, observed_at)
            elif isinstance(item, Author):
                self._add_author(item, observed_at)
            elif isinstance(item, Tombstone):
                self.tombstones[item.uid] = (item.deleted_at, rid)

    def _add_post(self, post: Post, rid: str, observed_at: datetime) -> None:
        uid = post.uid
        prev = self.posts.get(uid)
        # Within a batch keep the best observation: a top-level one over a nested one, and the
        # latest edit over an older version.
        if prev is None or (prev.context and not post.context) or _newer_edit(post, prev):
            if prev is not None and prev.context is False:
                post.context = False
            self.posts[uid] = post
            self.post_raw[uid] = rid
        elif not post.context:
            prev.context = False
        if post.author is not None:
            self._add_author(post.author, observed_at)
        e = post.engagement
        if e is not None and any(v is not None for v in (e.likes, e.reposts, e.replies, e.quotes)):
            self.snapshots.append(
                (uid, e.observed_at or observed_at, e.likes, e.reposts, e.replies, e.quotes, rid)
            )

    def _add_author(self, author: Author, observed_at: datetime) -> None:
        self.authors[author.uid] = author
        self.author_seen[author.uid] = observed_at


def _newer_edit(new: Post, old: Post) -> bool:
    return new.edited_at is not None and (old.edited_at is None or new.edited_at > old.edited_at)


AUTHOR_FIELDS = (
    "handle",
    "display_name",
    "bio",
    "url",
    "followers",
    "following",
    "posts_count",
    "bot",
    "verified",
    "created_at",
    "indexable",
)


def _author_table(batch: Batch) -> pa.Table:
    cols: dict[str, list[Any]] = {
        k: [] for k in ("uid", "platform", "native_id", *AUTHOR_FIELDS, "observed_at")
    }
    for uid, a in batch.authors.items():
        cols["uid"].append(uid)
        cols["platform"].append(a.platform)
        cols["native_id"].append(a.native_id)
        for f in AUTHOR_FIELDS:
            cols[f].append(getattr(a, f))
        cols["observed_at"].append(batch.author_seen[uid])
    types = {
        "followers": pa.int64(),
        "following": pa.int64(),
        "posts_count": pa.int64(),
        "bot": pa.bool_(),
        "verified": pa.bool_(),
        "indexable": pa.bool_(),
        "created_at": TS,
        "observed_at": TS,
    }
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


def _snapshot_table(batch: Batch) -> pa.Table:
    rows = list(dict.fromkeys(batch.snapshots))
    return pa.table(
        {
            "uid": pa.array([r[0] for r in rows], pa.string()),
            "observed_at": pa.array([r[1] for r in rows], TS),
            "likes": pa.array([r[2] for r in rows], pa.int64()),
            "reposts": pa.array([r[3] for r in rows], pa.int64()),
            "replies": pa.array([r[4] for r in rows], pa.int64()),
            "quotes": pa.array([r[5] for r in rows], pa.int64()),
            "raw_id": pa.array([r[6] for r in rows], pa.string()),
            "ord": pa.array(range(len(rows)), pa.int64()),
        }
    )


def _post_tables(posts: list[Post], batch: Batch) -> dict[str, pa.Table]:
    """A batch's posts as the Arrow relations ``Writer.merge_posts`` reads."""
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "uid",
            "platform",
            "native_id",
            "uri",
            "url",
            "author_uid",
            "created_at",
            "indexed_at",
            "text",
            "lang",
            "kind",
            "reply_to_uid",
            "root_uid",
            "quote_of_uid",
            "repost_of_uid",
            "edited_at",
            "sensitive",
            "is_context",
            "raw_id",
        )
    }
    tags: dict[str, list[str]] = {
        "uid": [],
        "tag_key": [],
        "tag_norm": [],
        "tag_display": [],
        "source": [],
    }
    mentions: dict[str, list[str]] = {"uid": [], "handle": []}
    urls: dict[str, list[str]] = {"uid": [], "url": []}
    media: dict[str, list[Any]] = {
        k: [] for k in ("uid", "position", "type", "url", "alt_text", "preview_url")
    }
    for p in posts:
        uid = p.uid
        for k, v in (
            ("uid", uid),
            ("platform", p.platform),
            ("native_id", p.native_id),
            ("uri", p.uri),
            ("url", p.url),
            ("author_uid", p.author_uid),
            ("created_at", p.created_at),
            ("indexed_at", p.indexed_at),
            ("text", p.text),
            ("lang", p.lang),
            ("kind", p.kind),
            ("reply_to_uid", p.reply_to_uid),
            ("root_uid", p.root_uid),
            ("quote_of_uid", p.quote_of_uid),
            ("repost_of_uid", p.repost_of_uid),
            ("edited_at", p.edited_at),
            ("sensitive", p.sensitive),
            ("is_context", p.context),
            ("raw_id", batch.post_raw.get(uid)),
        ):
            cols[k].append(v)
        seen_keys: set[str] = set()
        for h in p.hashtags:
            norm = tag_norm(h.display)
            if not norm or norm in seen_keys:
                continue
            seen_keys.add(norm)
            tags["uid"].append(uid)
            tags["tag_key"].append(tag_key(h.display))
            tags["tag_norm"].append(norm)
            tags["tag_display"].append(h.display.lstrip("#"))
            tags["source"].append(h.source)
        for m in dict.fromkeys(p.mentions):
            mentions["uid"].append(uid)
            mentions["handle"].append(m)
        for u in dict.fromkeys(p.urls):
            if u:
                urls["uid"].append(uid)
                urls["url"].append(u)
        for i, md in enumerate(p.media):
            media["uid"].append(uid)
            media["position"].append(i)
            media["type"].append(md.type)
            media["url"].append(md.url)
            media["alt_text"].append(md.alt_text)
            media["preview_url"].append(md.preview_url)
    posts_tbl = pa.table(
        {
            **{
                k: pa.array(v, pa.string())
                for k, v in cols.items()
                if k not in _POST_TS and k not in _POST_BOOL
            },
            **{k: pa.array(cols[k], TS) for k in _POST_TS},
            **{k: pa.array(cols[k], pa.bool_()) for k in _POST_BOOL},
        }
    )
    return {
        "_s_posts": posts_tbl,
        "_s_aliases": pa.table(
            {
                "alias_uid": pa.array([a for p in posts for a in p.aliases], pa.string()),
                "uid": pa.array([p.uid for p in posts for _ in p.aliases], pa.string()),
            }
        ),
        "_s_tags": pa.table({k: pa.array(v, pa.string()) for k, v in tags.items()}),
        "_s_mentions": pa.table({k: pa.array(v, pa.string()) for k, v in mentions.items()}),
        "_s_urls": pa.table({k: pa.array(v, pa.string()) for k, v in urls.items()}),
        "_s_media": pa.table(
            {
                "uid": pa.array(media["uid"], pa.string()),
                "position": pa.array(media["position"], pa.int32()),
                **{k: pa.array(media[k], pa.string()) for k in ("type", "url", "alt_text", "preview_url")},
            }
        ),
    }


_POST_TS = ("created_at", "indexed_at", "edited_at")


_POST_BOOL = ("sensitive", "is_context")


# What ``Batch.freeze`` builds ahead of the write: key -> (whether the batch has any, builder).
_BUILT: dict[str, tuple[Callable[[Batch], Any], Callable[[Batch], Any]]] = {
    "raw": (lambda b: bool(b.raw["raw_id"]), lambda b: rawstore.pack(b.raw["payload"])),
    "posts": (lambda b: bool(b.posts), lambda b: _post_tables(list(b.posts.values()), b)),
    "snapshots": (lambda b: bool(b.snapshots), _snapshot_table),
    "authors": (lambda b: bool(b.authors), _author_table),
}
