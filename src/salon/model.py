"""The normalised shapes every format is turned into.

Normalisers (``salon.normalize``) are pure functions from a parsed raw payload to an iterator of
these objects; the store derives its tables from them. Keeping them plain dataclasses (no ORM) lets
a notebook user build and inspect them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Platform = Literal["x", "mastodon", "bluesky"]
Kind = Literal["original", "reply", "quote", "repost"]
PLATFORMS: tuple[str, ...] = ("x", "mastodon", "bluesky")
KINDS: tuple[str, ...] = ("original", "reply", "quote", "repost")


def make_uid(platform: str, native_id: str) -> str:
    """The archive-wide key of a post or author: ``platform:native_id``."""
    return f"{platform}:{native_id}"


def post_kind(*, repost: bool, quote: bool, reply: bool) -> Kind:
    """Kind by DESIGN.md precedence: a repost is a repost; else a quote (even when it also
    replies); else a reply; else an original."""
    if repost:
        return "repost"
    if quote:
        return "quote"
    if reply:
        return "reply"
    return "original"


@dataclass(slots=True)
class Author:
    """A snapshot of an account as one payload described it."""

    platform: str
    native_id: str  # X user id, Mastodon account uri/url, Bluesky DID
    handle: str | None = None  # X username, Mastodon user@instance, Bluesky handle
    display_name: str | None = None
    bio: str | None = None
    url: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    bot: bool | None = None
    verified: bool | None = None
    created_at: datetime | None = None
    # False when the account opted out of indexing (Mastodon indexable/discoverable, #nobot).
    indexable: bool | None = None

    @property
    def uid(self) -> str:
        return make_uid(self.platform, self.native_id)


@dataclass(slots=True)
class Media:
    """An attachment: ``type`` is photo | video | gif | audio | image | other."""

    type: str
    url: str | None = None
    alt_text: str | None = None
    preview_url: str | None = None


@dataclass(slots=True)
class Hashtag:
    """A hashtag as written (``display``) and where it came from (``source``:
    entities | tags | facet | text)."""

    display: str
    source: str = "entities"


@dataclass(slots=True)
class Engagement:
    """Platform-reported counts as seen at ``observed_at`` (None: not observed)."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    observed_at: datetime | None = None


@dataclass(slots=True)
class Post:
    """One post, normalised. ``context`` is True for posts nested in another payload
    (``includes.tweets``, ``retweeted_status``, a reblog, an embedded quote record)."""

    platform: str
    native_id: str  # X tweet id, Mastodon status uri, Bluesky at:// uri
    created_at: datetime | None  # UTC, timezone-aware
    text: str
    kind: Kind = "original"
    author: Author | None = None
    author_uid: str | None = None  # set from author when None
    uri: str | None = None
    url: str | None = None
    lang: str | None = None
    reply_to_uid: str | None = None
    root_uid: str | None = None
    quote_of_uid: str | None = None
    repost_of_uid: str | None = None
    edited_at: datetime | None = None
    indexed_at: datetime | None = None
    sensitive: bool | None = None
    hashtags: list[Hashtag] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # handles as written, without @
    urls: list[str] = field(default_factory=list)  # expanded
    media: list[Media] = field(default_factory=list)
    engagement: Engagement | None = None
    context: bool = False
    # Other uids under which the platform refers to this post (Mastodon: the per-instance
    # ``<host>/statuses/<id>`` key used by delete events and ``in_reply_to_id``).
    aliases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.author_uid is None and self.author is not None:
            self.author_uid = self.author.uid

    @property
    def uid(self) -> str:
        return make_uid(self.platform, self.native_id)


@dataclass(slots=True)
class Tombstone:
    """A deletion seen at the source: the post leaves every surface, the tombstone stays."""

    platform: str
    native_id: str
    deleted_at: datetime | None = None

    @property
    def uid(self) -> str:
        return make_uid(self.platform, self.native_id)


Item = Post | Author | Tombstone
