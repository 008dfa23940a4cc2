"""Gnip Activity Streams (PowerTrack/Historical/Search "activity-streams" format): ``verb``
post/share, ``actor``, ``object``, ``body``, ``long_object`` (full text of long posts),
``twitter_entities``, ``twitter_quoted_status``, ``inReplyTo``, counts. A share's ``object`` is
the original activity and a quote's ``twitter_quoted_status`` the quoted one: both become context
posts. ``verb: delete`` activities become tombstones. Entities are v1.1-shaped, so the helpers of
the v1.1 normaliser read them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from salon.model import Author, Engagement, Item, Post, Tombstone, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import as_dict, as_str, parse_time, to_bool, to_int, unescape_x
from salon.normalize.x_v1 import Entities, entities_of, retweet_text, unique

FORMAT = "gnip-activity"

_TRAILING_ID = re.compile(r"[:/]([0-9]+)/?$")
_MAX_NESTING = 4


def sniff(obj: Any) -> bool:
    """A dict with ``verb``, ``actor``, ``object`` (or ``body``) and a ``tag:`` id."""
    return (
        isinstance(obj, dict)
        and "verb" in obj
        and "actor" in obj
        and ("object" in obj or "body" in obj)
        and isinstance(obj.get("id"), str)
        and obj["id"].startswith("tag:")
    )


def trailing_id(value: Any) -> str | None:
    """The numeric id ending a Gnip id or link: ``tag:search.twitter.com,2005:123``,
    ``id:twitter.com:42``, ``http://twitter.com/u/statuses/123`` → the digits."""
    if not isinstance(value, str):
        return None
    m = _TRAILING_ID.search(value.strip())
    return m.group(1) if m else None


def author_from_actor(actor: Any) -> Author:
    """A Gnip ``actor`` (person) as an Author snapshot. The fields of
    ``x_v1.author_from_user``, read from Activity Streams' own names (``preferredUsername``,
    ``followersCount``, ``postedTime``...): alike in shape only, so not shared."""
    if not isinstance(actor, dict):
        raise BadRecord("activity actor is not an object")
    uid = trailing_id(actor.get("id"))
    if uid is None:
        raise BadRecord(f"actor without a usable id: {actor.get('id')!r}")
    handle = as_str(actor.get("preferredUsername"))
    return Author(
        platform="x",
        native_id=uid,
        handle=handle,
        display_name=as_str(actor.get("displayName")),
        bio=as_str(actor.get("summary")),
        url=f"https://x.com/{handle}" if handle else None,
        followers=to_int(actor.get("followersCount")),
        following=to_int(actor.get("friendsCount")),
        posts_count=to_int(actor.get("statusesCount")),
        verified=to_bool(actor.get("verified")),
        created_at=parse_time(actor.get("postedTime")),
    )


def _activity_id(act: dict[str, Any]) -> str:
    aid = trailing_id(act.get("id"))
    if aid is None:
        raise BadRecord(f"activity without a usable id: {act.get('id')!r}")
    return aid


def _text(act: dict[str, Any]) -> tuple[str, Entities]:
    """Full text and entities: ``long_object`` for posts over 140 characters, else ``body``."""
    long = as_dict(act.get("long_object"))
    if isinstance(long.get("body"), str):
        return unescape_x(long["body"]), entities_of(
            long.get("twitter_entities"), long.get("twitter_extended_entities")
        )
    body = act.get("body")
    if not isinstance(body, str):
        body = as_dict(act.get("object")).get("summary")
    if not isinstance(body, str):
        raise BadRecord(f"activity {_activity_id(act)} has no body")
    return unescape_x(body), entities_of(act.get("twitter_entities"), act.get("twitter_extended_entities"))


def activity_post(act: dict[str, Any], ctx: Context, *, context: bool) -> Post:
    """One post or share activity as a Post (without its nested activities)."""
    aid = _activity_id(act)
    author = author_from_actor(act.get("actor"))
    text, ent = _text(act)
    shared = act.get("object") if act.get("verb") == "share" else None
    rt_id: str | None = None
    if isinstance(shared, dict):
        rt_id = _activity_id(shared)
        rt_text, rt_ent = _text(shared)
        rt_handle = as_str(as_dict(shared.get("actor")).get("preferredUsername"))
        text, ent = retweet_text(text, ent, rt_text, rt_ent, rt_handle)
    quoted = act.get("twitter_quoted_status")
    quote_id = trailing_id(quoted.get("id")) if isinstance(quoted, dict) and not rt_id else None
    reply_id = trailing_id(as_dict(act.get("inReplyTo")).get("link"))
    likes, reposts = to_int(act.get("favoritesCount")), to_int(act.get("retweetCount"))
    engaged = "favoritesCount" in act or "retweetCount" in act
    handle = author.handle
    # The fields of x_v1.status_post, from the activity's own keys (no edits, no sensitivity,
    # likes and retweets only): alike in shape only.
    return Post(
        platform="x",
        native_id=aid,
        created_at=parse_time(act.get("postedTime")),
        text=text,
        kind=post_kind(repost=rt_id is not None, quote=quote_id is not None, reply=reply_id is not None),
        author=author,
        uri=f"https://x.com/i/web/status/{aid}",
        url=f"https://x.com/{handle}/status/{aid}" if handle else f"https://x.com/i/web/status/{aid}",
        lang=as_str(act.get("twitter_lang")),
        reply_to_uid=make_uid("x", reply_id) if reply_id else None,
        quote_of_uid=make_uid("x", quote_id) if quote_id else None,
        repost_of_uid=make_uid("x", rt_id) if rt_id else None,
        hashtags=ent.hashtags,
        mentions=ent.mentions,
        urls=ent.urls,
        media=ent.media,
        engagement=Engagement(likes=likes, reposts=reposts, observed_at=ctx.observed_at) if engaged else None,
        context=context,
    )


def activity_items(act: Any, ctx: Context, *, context: bool = False, depth: int = 0) -> Iterator[Post]:
    """An activity and, as context posts, the shared original and the quoted activity."""
    if not isinstance(act, dict):
        raise BadRecord("activity is not an object")
    if depth > _MAX_NESTING:
        raise BadRecord("activities nested too deeply")
    yield activity_post(act, ctx, context=context)
    if act.get("verb") == "share" and isinstance(act.get("object"), dict):
        yield from activity_items(act["object"], ctx, context=True, depth=depth + 1)
    if isinstance(act.get("twitter_quoted_status"), dict):
        yield from activity_items(act["twitter_quoted_status"], ctx, context=True, depth=depth + 1)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts (shared and quoted activities as context) and delete tombstones."""
    if not isinstance(obj, dict):
        raise BadRecord("Gnip activity must be a JSON object")
    if obj.get("verb") == "delete":
        target = trailing_id(as_dict(obj.get("object")).get("id"))
        if target is None:
            raise BadRecord("delete activity without an object id")
        yield Tombstone("x", target, parse_time(obj.get("postedTime")))
        return
    if obj.get("verb") not in ("post", "share"):
        raise BadRecord(f"unsupported activity verb {obj.get('verb')!r}")
    yield from unique(list(activity_items(obj, ctx)))
