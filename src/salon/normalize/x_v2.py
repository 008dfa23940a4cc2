"""X API v2 as written by twarc2: response pages (``data`` + ``includes``), stream lines
(``data`` object + ``matching_rules``), flattened one-tweet-per-line files (``author``,
expanded ``referenced_tweets``, ``__twarc``), saved API response bodies, users pages and
compliance files (``{"id", "action": "delete"}`` lines become tombstones)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from salon.model import Author, Engagement, Hashtag, Item, Media, Post, Tombstone, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import parse_time, to_bool, to_int, unescape_x

FORMAT = "x-v2"

_V2_TWEET_KEYS = (
    "edit_history_tweet_ids",
    "author_id",
    "public_metrics",
    "referenced_tweets",
    "conversation_id",
)


def _is_v2_tweet(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "id" in obj
        and "text" in obj
        and "user" not in obj
        and "id_str" not in obj
        and any(k in obj for k in _V2_TWEET_KEYS)
    )


def _is_v2_user(obj: Any) -> bool:
    return isinstance(obj, dict) and "username" in obj and "id" in obj and "text" not in obj


def sniff(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    if data is not None and (
        "includes" in obj or "meta" in obj or "matching_rules" in obj or "errors" in obj
    ):
        return True
    if isinstance(data, list) and data and (_is_v2_tweet(data[0]) or _is_v2_user(data[0])):
        return True
    if isinstance(data, dict) and _is_v2_tweet(data):
        return True
    if "__twarc" in obj or _is_v2_tweet(obj):
        return True
    # compliance job output: {"id": ..., "action": "delete", "created_at": ...}
    return set(obj) >= {"id", "action", "created_at"} and obj.get("action") in ("delete", "scrub_geo")


class _Includes:
    """Lookup tables for a page's ``includes`` (users, tweets, media by key)."""

    __slots__ = ("media", "tweets", "users")

    def __init__(self, includes: dict[str, Any] | None) -> None:
        inc = includes if isinstance(includes, dict) else {}  # a malformed page: no includes

        def objs(key: str) -> list[Any]:
            v = inc.get(key)
            return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []

        self.users = {str(u["id"]): u for u in objs("users") if isinstance(u.get("id"), str | int)}
        self.tweets = {str(t["id"]): t for t in objs("tweets") if isinstance(t.get("id"), str | int)}
        self.media = {m["media_key"]: m for m in objs("media") if isinstance(m.get("media_key"), str)}


def author_from_user(user: dict[str, Any]) -> Author:
    """An X v2 user object as an Author snapshot."""
    pm = user.get("public_metrics") or {}
    verified = user.get("verified")
    if verified is None and user.get("verified_type") is not None:
        verified = user.get("verified_type") not in ("none", "")
    return Author(
        platform="x",
        native_id=str(user["id"]),
        handle=user.get("username"),
        display_name=user.get("name"),
        bio=user.get("description"),
        url=f"https://x.com/{user['username']}" if user.get("username") else None,
        followers=to_int(pm.get("followers_count")),
        following=to_int(pm.get("following_count")),
        posts_count=to_int(pm.get("tweet_count")),
        verified=to_bool(verified),
        created_at=parse_time(user.get("created_at")),
    )


def _full_text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Text and entities, preferring ``note_tweet`` (long posts are truncated in ``text``)."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and note.get("text"):
        return unescape_x(note["text"]), note.get("entities") or tweet.get("entities") or {}
    return unescape_x(tweet.get("text") or ""), tweet.get("entities") or {}


def _tweet_to_post(
    tweet: dict[str, Any], inc: _Includes, ctx: Context, observed_at: Any, context: bool
) -> Iterator[Item]:
    """One v2 tweet (and the tweets it references, as context) as posts."""
    if "id" not in tweet:
        raise BadRecord("tweet without id")
    tid = str(tweet["id"])
    refs: dict[str, dict[str, Any]] = {}
    nested: list[dict[str, Any]] = []
    for ref in tweet.get("referenced_tweets") or ():
        rtype, rid = ref.get("type"), str(ref.get("id"))
        refs.setdefault(rtype, {"id": rid})
        # Flattened files embed the referenced tweet in the reference itself.
        if "text" in ref:
            refs[rtype] = ref
            nested.append(ref)
        elif rid in inc.tweets:  # page includes: emitted once by normalize(), not here
            refs[rtype] = inc.tweets[rid]

    text, entities = _full_text(tweet)
    author: Author | None = None
    if isinstance(tweet.get("author"), dict) and "id" in tweet["author"]:
        author = author_from_user(tweet["author"])
    elif tweet.get("author_id") in inc.users:
        author = author_from_user(inc.users[tweet["author_id"]])
    author_uid = (
        make_uid("x", str(tweet["author_id"])) if tweet.get("author_id") else (author.uid if author else None)
    )

    hashtags = [Hashtag(h["tag"], "entities") for h in entities.get("hashtags") or () if h.get("tag")]
    retweeted = refs.get("retweeted")
    if retweeted is not None and "text" in retweeted:
        # A retweet's own text is truncated ("RT @user: ..."): take the full text of the original.
        orig_text, orig_entities = _full_text(retweeted)
        orig_author = inc.users.get(retweeted.get("author_id") or "") or retweeted.get("author") or {}
        handle = orig_author.get("username") if isinstance(orig_author, dict) else None
        if handle:
            text = f"RT @{handle}: {orig_text}"
        hashtags = [
            Hashtag(h["tag"], "entities") for h in orig_entities.get("hashtags") or () if h.get("tag")
        ]

    media: list[Media] = []
    att = tweet.get("attachments") or {}
    for item in att.get("media") or ():  # flattened: expanded media objects
        if isinstance(item, dict):
            media.append(_media(item))
    for key in att.get("media_keys") or ():
        if key in inc.media:
            media.append(_media(inc.media[key]))

    pm = tweet.get("public_metrics")
    engagement = None
    if isinstance(pm, dict):
        engagement = Engagement(
            likes=to_int(pm.get("like_count")),
            reposts=to_int(pm.get("retweet_count")),
            replies=to_int(pm.get("reply_count")),
            quotes=to_int(pm.get("quote_count")),
            observed_at=parse_time(observed_at) if observed_at else ctx.observed_at,
        )

    def ref_uid(rtype: str) -> str | None:
        return make_uid("x", refs[rtype]["id"]) if rtype in refs else None

    conv = tweet.get("conversation_id")
    edit_ids = tweet.get("edit_history_tweet_ids") or []
    handle = author.handle if author else None
    yield Post(
        platform="x",
        native_id=tid,
        created_at=parse_time(tweet.get("created_at")),
        text=text,
        kind=post_kind(repost="retweeted" in refs, quote="quoted" in refs, reply="replied_to" in refs),
        author=author,
        author_uid=author_uid,
        uri=f"https://x.com/i/web/status/{tid}",
        url=f"https://x.com/{handle}/status/{tid}" if handle else f"https://x.com/i/web/status/{tid}",
        lang=tweet.get("lang"),
        reply_to_uid=ref_uid("replied_to"),
        root_uid=make_uid("x", str(conv)) if conv and str(conv) != tid else None,
        quote_of_uid=ref_uid("quoted"),
        repost_of_uid=ref_uid("retweeted"),
        # An edit is a new tweet id; the last id of its history is the newest version.
        edited_at=parse_time(tweet.get("created_at")) if len(edit_ids) > 1 else None,
        sensitive=to_bool(tweet.get("possibly_sensitive")),
        hashtags=hashtags,
        mentions=[m["username"] for m in entities.get("mentions") or () if m.get("username")],
        urls=[
            u.get("unwound_url") or u.get("expanded_url") or u.get("url")
            for u in entities.get("urls") or ()
            if u.get("expanded_url") or u.get("url")
        ],
        media=media,
        engagement=engagement,
        context=context,
    )
    for ref in nested:
        yield from _tweet_to_post(ref, inc, ctx, observed_at, True)


def _media(m: dict[str, Any]) -> Media:
    kind = {"animated_gif": "gif"}.get(m.get("type", ""), m.get("type") or "other")
    return Media(
        type=kind, url=m.get("url"), alt_text=m.get("alt_text"), preview_url=m.get("preview_image_url")
    )


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts (with referenced tweets as context), authors of users pages, compliance tombstones."""
    if not isinstance(obj, dict):
        raise BadRecord("X v2 payload must be a JSON object")
    if obj.get("action") in ("delete", "scrub_geo") and "id" in obj and "text" not in obj:
        if obj["action"] == "delete":
            yield Tombstone("x", str(obj["id"]), parse_time(obj.get("redacted_at") or obj.get("created_at")))
        return
    twarc = obj.get("__twarc") or {}
    observed_at = twarc.get("retrieved_at") if isinstance(twarc, dict) else None
    if "data" not in obj and ("id" in obj and "text" in obj):  # a flattened tweet
        yield from _tweet_to_post(obj, _Includes(None), ctx, observed_at, False)
        return
    inc = _Includes(obj.get("includes"))
    data = obj.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    seen: set[str] = set()
    for entry in items:
        if not isinstance(entry, dict):
            raise BadRecord("X v2 data entry is not an object")
        if _is_v2_tweet(entry) or ("text" in entry and "id" in entry):
            seen.add(str(entry["id"]))
            yield from _tweet_to_post(entry, inc, ctx, observed_at, False)
        elif _is_v2_user(entry):
            yield author_from_user(entry)
        # other pages (counts, lists, rules) carry no posts: their raw record is kept as is.
    # Included tweets not referenced by any data tweet are context too (e.g. replied-to roots).
    for tid, tweet in inc.tweets.items():
        if tid not in seen:
            yield from _tweet_to_post(tweet, inc, ctx, observed_at, True)
    for user in inc.users.values():
        yield author_from_user(user)
