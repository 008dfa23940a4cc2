"""Zeeschuimer / 4CAT NDJSON lines: ``{"nav_index", "item_id", "timestamp_collected",
"source_platform", "source_platform_url", "source_url", "user_agent", "data"}`` (an exported
line may also hold the extension's own row ``id``).

``source_platform`` is the id of the Zeeschuimer module that captured the item. ``twitter.com``
(``x.com`` in some builds) items are X web-client GraphQL tweet results (``rest_id``, ``legacy``
with v1.1-like fields, ``core.user_results.result`` for the author, ``note_tweet`` for long
posts) or, from older captures, ``{"type": "adaptive", "legacy", "user"}``; they are mapped here,
reading the fields 4CAT's ``twitter-import`` datasource reads. ``bsky.app`` items (post or feed
views) go to the Bluesky normaliser and Mastodon status items to the Mastodon normaliser, served
by the host of ``source_platform_url``. Every other platform (Instagram, TikTok, Truth Social,
Gab, ...) is a ``BadRecord`` so the line is quarantined with its bytes, not lost silently.
Engagement is observed at ``timestamp_collected`` (ms since the epoch).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from html import unescape
from typing import Any

from salon.model import Author, Engagement, Hashtag, Item, Media, Post, make_uid, post_kind
from salon.normalize import BadRecord, Context, bluesky, mastodon
from salon.normalize.common import as_dict, as_list, as_str, parse_time, to_bool, to_int, url_host

FORMAT = "zeeschuimer"
X_PLATFORMS = frozenset({"twitter.com", "x.com"})
BLUESKY_PLATFORMS = frozenset({"bsky.app"})
# Mastodon-API-shaped, but not the Mastodon network.
NOT_MASTODON = frozenset({"truthsocial.com", "gab.com"})
_ENVELOPE = frozenset({"item_id", "timestamp_collected", "source_platform", "data"})
_MEDIA = {"photo": "photo", "video": "video", "animated_gif": "gif"}


def sniff(obj: Any) -> bool:
    """A Zeeschuimer item: the envelope keys around ``data``."""
    return isinstance(obj, dict) and obj.keys() >= _ENVELOPE


def _unwrap(result: Any) -> dict[str, Any] | None:
    """A tweet result, unwrapping ``TweetWithVisibilityResults``; None for tombstones."""
    result = as_dict(result)
    if isinstance(result.get("tweet"), dict):
        result = result["tweet"]
    return result if isinstance(result.get("legacy"), dict) else None


def _author(tweet: dict[str, Any]) -> Author | None:
    if tweet.get("type") == "adaptive":  # older captures: a v1.1 user beside the tweet
        user, core, result = as_dict(tweet.get("user")), {}, {}
    else:
        result = as_dict(as_dict(as_dict(tweet.get("core")).get("user_results")).get("result"))
        user, core = as_dict(result.get("legacy")), as_dict(result.get("core"))
    uid = result.get("rest_id") or user.get("id_str") or as_dict(tweet.get("legacy")).get("user_id_str")
    if not isinstance(uid, (str, int)) or isinstance(uid, bool) or not str(uid).isdigit():
        return None
    handle = as_str(core.get("screen_name")) or as_str(user.get("screen_name"))
    verified = [v for v in (user.get("verified"), result.get("is_blue_verified")) if v is not None]
    return Author(
        platform="x",
        native_id=str(uid),
        handle=handle,
        display_name=as_str(core.get("name")) or as_str(user.get("name")),
        bio=as_str(user.get("description")),
        url=f"https://x.com/{handle}" if handle else None,
        followers=to_int(user.get("followers_count")),
        following=to_int(user.get("friends_count")),
        posts_count=to_int(user.get("statuses_count")),
        verified=any(to_bool(v) for v in verified) if verified else None,
        created_at=parse_time(core.get("created_at") or user.get("created_at")),
    )


def _text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Full text and entities: ``note_tweet`` for long posts, else the (HTML-escaped)
    ``legacy.full_text``."""
    legacy = as_dict(tweet.get("legacy"))
    note = as_dict(as_dict(as_dict(tweet.get("note_tweet")).get("note_tweet_results")).get("result"))
    if as_str(note.get("text")):
        return note["text"], as_dict(note.get("entity_set")) or as_dict(legacy.get("entities"))
    text = legacy.get("full_text", legacy.get("text"))
    # html.unescape, not common.unescape_x: this normaliser decodes every HTML entity. Both
    # agree on what X writes (it escapes only &, < and >), but a stray ``&quot;`` would come out
    # differently, so the two are kept apart rather than changing stored texts.
    return unescape(text) if isinstance(text, str) else "", as_dict(legacy.get("entities"))


def _media(m: dict[str, Any]) -> Media:
    # Not x_v1.media_item: this reads ``media_url_https`` only, where media_item falls back on
    # v1.1's plain ``media_url``; kept apart so the media stored from these items stay the same.
    kind = _MEDIA.get(str(m.get("type")), "other")
    url = as_str(m.get("media_url_https"))
    if kind in ("video", "gif"):
        variants = [v for v in as_list(as_dict(m.get("video_info")).get("variants")) if isinstance(v, dict)]
        mp4 = [v for v in variants if v.get("content_type") == "video/mp4" and as_str(v.get("url"))]
        best = max(mp4, key=lambda v: to_int(v.get("bitrate")) or 0, default=None)
        return Media(kind, best["url"] if best else url, as_str(m.get("ext_alt_text")), url)
    return Media(kind, url, as_str(m.get("ext_alt_text")))


def tweet_to_posts(data: Any, observed_at: datetime | None, context: bool = False) -> Iterator[Post]:
    """An X GraphQL tweet result (retweeted and quoted tweets follow as context posts)."""
    tweet = _unwrap(data)
    if tweet is None:
        raise BadRecord("X item without a tweet result (legacy)")
    legacy = tweet["legacy"]
    tid = tweet.get("rest_id") or legacy.get("id_str") or tweet.get("id")
    if not isinstance(tid, (str, int)) or isinstance(tid, bool) or not str(tid).isdigit():
        raise BadRecord(f"X tweet with a bad id: {tid!r}")
    tid = str(tid)
    author = _author(tweet)
    text, entities = _text(tweet)
    retweeted = _unwrap(as_dict(legacy.get("retweeted_status_result")).get("result"))
    quoted = _unwrap(as_dict(tweet.get("quoted_status_result")).get("result"))
    hashtags = [
        Hashtag(h["text"]) for h in as_list(entities.get("hashtags")) if as_str(as_dict(h).get("text"))
    ]
    if retweeted is not None:  # the RT text is truncated: rebuild it from the original
        orig_text, orig_entities = _text(retweeted)
        orig_author = _author(retweeted)
        if orig_author is not None and orig_author.handle:
            text = f"RT @{orig_author.handle}: {orig_text}"
        hashtags = [
            Hashtag(h["text"])
            for h in as_list(orig_entities.get("hashtags"))
            if as_str(as_dict(h).get("text"))
        ]
    quote_id = legacy.get("quoted_status_id_str") or (quoted.get("rest_id") if quoted else None)
    reply_id = legacy.get("in_reply_to_status_id_str")
    conv = legacy.get("conversation_id_str")
    media = as_list(as_dict(legacy.get("extended_entities")).get("media")) or as_list(entities.get("media"))
    handle = author.handle if author else None
    # The fields of x_v2's and x_v1's posts, read from the GraphQL result's own places: alike in
    # shape only.
    yield Post(
        platform="x",
        native_id=tid,
        created_at=parse_time(legacy.get("created_at")),
        text=text,
        kind=post_kind(repost=retweeted is not None, quote=bool(quote_id), reply=bool(reply_id)),
        author=author,
        author_uid=author.uid
        if author
        else (make_uid("x", str(legacy["user_id_str"])) if as_str(legacy.get("user_id_str")) else None),
        uri=f"https://x.com/i/web/status/{tid}",
        url=f"https://x.com/{handle}/status/{tid}" if handle else f"https://x.com/i/web/status/{tid}",
        lang=as_str(legacy.get("lang")),
        reply_to_uid=make_uid("x", str(reply_id)) if reply_id else None,
        root_uid=make_uid("x", str(conv)) if conv and str(conv) != tid else None,
        quote_of_uid=make_uid("x", str(quote_id)) if quote_id else None,
        repost_of_uid=make_uid("x", str(retweeted.get("rest_id") or retweeted["legacy"].get("id_str")))
        if retweeted
        else None,
        sensitive=to_bool(legacy.get("possibly_sensitive")),
        hashtags=hashtags,
        mentions=[
            u["screen_name"]
            for u in as_list(entities.get("user_mentions"))
            if as_str(as_dict(u).get("screen_name"))
        ],
        urls=[
            as_str(u.get("expanded_url")) or u["url"]
            for u in as_list(entities.get("urls"))
            if as_str(as_dict(u).get("url"))
        ],
        media=[_media(m) for m in media if isinstance(m, dict)],
        engagement=Engagement(
            likes=to_int(legacy.get("favorite_count")),
            reposts=to_int(legacy.get("retweet_count")),
            replies=to_int(legacy.get("reply_count")),
            quotes=to_int(legacy.get("quote_count")),
            observed_at=observed_at,
        ),
        context=context,
    )
    for nested in (retweeted, quoted):
        if nested is not None:
            yield from tweet_to_posts(nested, observed_at, True)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """The posts of one Zeeschuimer item, by the platform that captured it."""
    if not sniff(obj):
        raise BadRecord("not a Zeeschuimer item")
    platform = str(obj["source_platform"]).lower().removeprefix("www.")
    observed = parse_time(obj["timestamp_collected"]) or ctx.observed_at
    data = obj["data"]
    if platform in X_PLATFORMS:
        yield from tweet_to_posts(data, observed)
    elif platform in BLUESKY_PLATFORMS:
        yield from bluesky.normalize(data, Context(observed_at=observed))
    elif platform not in NOT_MASTODON and mastodon.sniff(data) and isinstance(data, dict):
        instance = url_host(obj.get("source_platform_url")) or (platform if "." in platform else None)
        yield from mastodon.normalize_status(data, Context(observed_at=observed), instance)
    else:
        raise BadRecord(f"unsupported Zeeschuimer platform {platform!r}")
