"""X API v1.1 statuses: twarc 1 JSON lines, saved API bodies (a status, an array of statuses, a
search response ``{"statuses": [...]}``, user objects and ``{"users": [...]}`` pages with their
latest ``status``), Gnip "original format" (v1.1 plus ``matching_rules``) and stream delete
notices (``{"delete": {"status": ...}}`` become tombstones).

The helpers here (ids, text, entities, media, authors, one status as a post) are shared with the
X account archive normaliser, whose tweets are v1.1 statuses without a ``user``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from salon.model import Author, Engagement, Hashtag, Item, Media, Post, Tombstone, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import as_dict, as_list, as_str, parse_time, to_bool, to_int, unescape_x

FORMAT = "x-v1"

_DIGITS = re.compile(r"[0-9]+")
_RT_PREFIX = re.compile(r"RT @(\w+):")
_MEDIA_TYPES = {"photo": "photo", "video": "video", "animated_gif": "gif"}
_MAX_NESTING = 4  # retweet of a quote of a quote ... deeper than this is not a real payload


def is_status(obj: Any) -> bool:
    """A v1.1 status object: ``id_str`` + ``user`` + some text."""
    return (
        isinstance(obj, dict)
        and "id_str" in obj
        and "user" in obj
        and ("text" in obj or "full_text" in obj or "extended_tweet" in obj)
    )


def is_user(obj: Any) -> bool:
    """A v1.1 user object (users/show, users/lookup, followers/list entries)."""
    return (
        isinstance(obj, dict)
        and "id_str" in obj
        and "screen_name" in obj
        and "followers_count" in obj
        and "text" not in obj
    )


def sniff(obj: Any) -> bool:
    """Statuses, lists of statuses or users, search responses, users pages, delete notices."""
    if isinstance(obj, list):
        return bool(obj) and (is_status(obj[0]) or is_user(obj[0]))
    if not isinstance(obj, dict):
        return False
    if is_status(obj) or is_user(obj):
        return True
    if isinstance(obj.get("statuses"), list):
        return True
    if isinstance(obj.get("users"), list) and "next_cursor" in obj:
        return True
    return isinstance(obj.get("delete"), dict) and isinstance(obj["delete"].get("status"), dict)


def native_id(obj: dict[str, Any], what: str = "status") -> str:
    """The numeric id of a status or user: ``id_str``, else an integer ``id`` (JavaScript
    readers round large numeric ids, so ``id_str`` always wins)."""
    for value in (obj.get("id_str"), obj.get("id")):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value >= 0:
            return str(value)
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            return value.strip()
    raise BadRecord(f"{what} without a usable id (id_str/id)")


def ref_id(value: Any) -> str | None:
    """A referenced id (``in_reply_to_status_id_str``, ``quoted_status_id_str``) or None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return value.strip()
    return None


def author_from_user(user: Any) -> Author:
    """A v1.1 user object as an Author snapshot."""
    if not isinstance(user, dict):
        raise BadRecord("user is not an object")
    handle = as_str(user.get("screen_name"))
    return Author(
        platform="x",
        native_id=native_id(user, "user"),
        handle=handle,
        display_name=as_str(user.get("name")),
        bio=as_str(user.get("description")),
        url=f"https://x.com/{handle}" if handle else None,
        followers=to_int(user.get("followers_count")),
        following=to_int(user.get("friends_count")),
        posts_count=to_int(user.get("statuses_count")),
        verified=to_bool(user.get("verified")),
        created_at=parse_time(user.get("created_at")),
    )


def media_item(m: dict[str, Any]) -> Media:
    """A v1.1 media entity: photos by their image URL, videos and GIFs by their best MP4."""
    kind = _MEDIA_TYPES.get(str(m.get("type")), "other")
    image = as_str(m.get("media_url_https")) or as_str(m.get("media_url"))
    url = image
    if kind in ("video", "gif"):
        variants = [v for v in as_list(as_dict(m.get("video_info")).get("variants")) if isinstance(v, dict)]
        mp4 = [v for v in variants if v.get("content_type") == "video/mp4" and as_str(v.get("url"))]
        if mp4:
            url = max(mp4, key=lambda v: to_int(v.get("bitrate")) or 0)["url"]
    return Media(
        type=kind,
        url=url,
        alt_text=as_str(m.get("ext_alt_text")),
        preview_url=image if kind in ("video", "gif") else None,
    )


class Entities(NamedTuple):
    """What a post's entities contribute: hashtags, mention handles, expanded URLs, media."""

    hashtags: list[Hashtag]
    mentions: list[str]
    urls: list[str]
    media: list[Media]


def entities_of(entities: Any, extended_entities: Any = None) -> Entities:
    """Entities of a v1.1 ``entities`` object (media from ``extended_entities`` when present,
    since ``entities.media`` holds only the first attachment)."""
    ent, ext = as_dict(entities), as_dict(extended_entities)
    hashtags = [
        Hashtag(h["text"], "entities") for h in as_list(ent.get("hashtags")) if as_str(as_dict(h).get("text"))
    ]
    mentions = [
        m["screen_name"] for m in as_list(ent.get("user_mentions")) if as_str(as_dict(m).get("screen_name"))
    ]
    urls: list[str] = []
    for u in as_list(ent.get("urls")):
        url = as_str(as_dict(u).get("expanded_url")) or as_str(as_dict(u).get("url"))
        if url:
            urls.append(url)
    raw_media = as_list(ext.get("media")) or as_list(ent.get("media"))
    media = [media_item(m) for m in raw_media if isinstance(m, dict)]
    return Entities(hashtags, mentions, urls, media)


def full_text(status: dict[str, Any]) -> tuple[str, Entities]:
    """The untruncated text and its entities: ``extended_tweet`` (streaming/compat mode),
    else ``full_text`` (tweet_mode=extended), else ``text``."""
    ext = as_dict(status.get("extended_tweet"))
    if isinstance(ext.get("full_text"), str):
        return unescape_x(ext["full_text"]), entities_of(ext.get("entities"), ext.get("extended_entities"))
    for key in ("full_text", "text"):
        if isinstance(status.get(key), str):
            return unescape_x(status[key]), entities_of(
                status.get("entities"), status.get("extended_entities")
            )
    raise BadRecord(f"status {native_id(status)} has no text")


def retweet_text(
    text: str, ent: Entities, rt_text: str, rt_ent: Entities, rt_handle: str | None
) -> tuple[str, Entities]:
    """A retweet's text and entities rebuilt from the retweeted post (its own text is cut):
    ``RT @handle: <full text>`` with the original's entities, the original author first among
    the mentions. ``rt_handle`` is the original author's handle when the payload has it, else
    the one in the retweet's own ``RT @handle:`` prefix is used; with neither, ``text`` and
    ``ent`` are returned as they are. Shared by the v1.1 and Gnip normalisers."""
    if not rt_handle:
        prefix = _RT_PREFIX.match(text)
        rt_handle = prefix.group(1) if prefix else None
    if not rt_handle:
        return text, ent
    mentions = [rt_handle, *(m for m in rt_ent.mentions if m != rt_handle)]
    return f"RT @{rt_handle}: {rt_text}", Entities(rt_ent.hashtags, mentions, rt_ent.urls, rt_ent.media)


def engagement_of(status: dict[str, Any], ctx: Context) -> Engagement | None:
    """Platform counts (reply/quote counts only exist in enterprise/streaming payloads)."""
    keys = ("favorite_count", "retweet_count", "reply_count", "quote_count")
    if not any(k in status for k in keys):
        return None
    likes, reposts, replies, quotes = (to_int(status.get(k)) for k in keys)
    return Engagement(
        likes=likes, reposts=reposts, replies=replies, quotes=quotes, observed_at=ctx.observed_at
    )


def edit_ids(status: dict[str, Any]) -> list[Any]:
    """Ids of every version of an edited post (v1.1 ``edit_history``, archive ``edit_info``)."""
    hist = as_list(as_dict(status.get("edit_history")).get("edit_tweet_ids"))
    info = as_dict(status.get("edit_info"))
    initial = as_dict(info.get("initial")) or as_dict(as_dict(info.get("edit")).get("editControlInitial"))
    return hist or as_list(initial.get("editTweetIds"))


def status_post(
    status: dict[str, Any], ctx: Context, *, author: Author | None, context: bool, retweeted: Any = None
) -> Post:
    """One status as a Post, without its nested statuses. A retweet (``retweeted`` given) takes
    the full text and entities of the retweeted status, as ``RT @handle: <full text>``."""
    tid = native_id(status)
    text, ent = full_text(status)
    rt_id: str | None = None
    if isinstance(retweeted, dict):
        rt_id = native_id(retweeted, "retweeted status")
        rt_text, rt_ent = full_text(retweeted)
        rt_handle = as_str(as_dict(retweeted.get("user")).get("screen_name"))
        text, ent = retweet_text(text, ent, rt_text, rt_ent, rt_handle)
    # A retweet of a quote repeats quoted_status_id at the top: the quote is the original's.
    quote_id = ref_id(status.get("quoted_status_id_str")) or ref_id(
        as_dict(status.get("quoted_status")).get("id_str")
    )
    if rt_id:
        quote_id = None
    reply_id = ref_id(status.get("in_reply_to_status_id_str")) or ref_id(status.get("in_reply_to_status_id"))
    created = parse_time(status.get("created_at"))
    handle = author.handle if author else None
    return Post(
        platform="x",
        native_id=tid,
        created_at=created,
        text=text,
        kind=post_kind(repost=rt_id is not None, quote=quote_id is not None, reply=reply_id is not None),
        author=author,
        uri=f"https://x.com/i/web/status/{tid}",
        url=f"https://x.com/{handle}/status/{tid}" if handle else f"https://x.com/i/web/status/{tid}",
        lang=as_str(status.get("lang")),
        reply_to_uid=make_uid("x", reply_id) if reply_id else None,
        quote_of_uid=make_uid("x", quote_id) if quote_id else None,
        repost_of_uid=make_uid("x", rt_id) if rt_id else None,
        edited_at=created if len(edit_ids(status)) > 1 else None,
        sensitive=to_bool(status.get("possibly_sensitive")),
        hashtags=ent.hashtags,
        mentions=ent.mentions,
        urls=ent.urls,
        media=ent.media,
        engagement=engagement_of(status, ctx),
        context=context,
    )


def status_items(
    status: Any, ctx: Context, *, context: bool = False, author: Author | None = None, depth: int = 0
) -> Iterator[Post]:
    """A status and, as context posts, its ``retweeted_status`` and ``quoted_status``. The top
    status needs a ``user`` (or an ``author`` from an enclosing user object); nested ones
    without a user are kept with an unknown author."""
    if not isinstance(status, dict):
        raise BadRecord("status is not an object")
    if depth > _MAX_NESTING:
        raise BadRecord("statuses nested too deeply")
    if "user" in status:
        author = author_from_user(status["user"])
    elif author is None and not context:
        raise BadRecord(f"status {native_id(status)} has no user object")
    retweeted = status.get("retweeted_status")
    yield status_post(status, ctx, author=author, context=context, retweeted=retweeted)
    for key in ("retweeted_status", "quoted_status"):
        if isinstance(status.get(key), dict):
            yield from status_items(status[key], ctx, context=True, depth=depth + 1)


def unique(items: Iterable[Item]) -> Iterator[Item]:
    """Each post, author or tombstone once per payload; a post seen both nested (context) and
    top-level keeps its top-level version."""
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (type(item).__name__, item.uid)
        old = seen.get(key)
        if old is None or (
            isinstance(old, Post) and isinstance(item, Post) and old.context and not item.context
        ):
            seen[key] = item
    yield from seen.values()


def _user_items(user: Any, ctx: Context) -> Iterator[Item]:
    author = author_from_user(user)
    yield author
    if isinstance(user.get("status"), dict):  # the user's latest status, without a user of its own
        yield from status_items(user["status"], ctx, context=True, author=author)


def _items(obj: Any, ctx: Context) -> Iterator[Item]:
    if isinstance(obj, list):
        for i, entry in enumerate(obj):
            if not isinstance(entry, dict):
                raise BadRecord(f"element {i} is not an object")
            try:
                yield from _items(entry, ctx)
            except BadRecord as exc:
                raise BadRecord(f"element {i}: {exc}") from None
        return
    if not isinstance(obj, dict):
        raise BadRecord("X v1.1 payload must be a JSON object or array")
    delete = as_dict(obj.get("delete"))
    if isinstance(delete.get("status"), dict):
        deleted_at = parse_time(to_int(delete.get("timestamp_ms")))
        yield Tombstone("x", native_id(delete["status"], "deleted status"), deleted_at)
    elif isinstance(obj.get("statuses"), list):
        yield from _items(obj["statuses"], ctx)
    elif isinstance(obj.get("users"), list):
        yield from _items(obj["users"], ctx)
    elif is_user(obj):
        yield from _user_items(obj, ctx)
    else:
        yield from status_items(obj, ctx)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts (retweeted and quoted statuses as context), authors of user objects, tombstones."""
    # Materialise first: a bad element anywhere rejects the whole payload before anything is
    # yielded, and duplicates across the payload are merged.
    yield from unique(list(_items(obj, ctx)))
