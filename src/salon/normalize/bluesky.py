"""Bluesky (AT Protocol) JSON: post views (``searchPosts``/``getPosts`` ``{"posts": [...]}``,
``getAuthorFeed``/``getTimeline`` ``{"feed": [{"post", "reply", "reason"}]}``, ``getPostThread``
``{"thread": ...}``, a single post, feed or thread view), ``listRecords`` responses
(``{"records": [{"uri", "cid", "value"}]}``), ``getRecord`` bodies, and ``getProfiles``
responses (``{"profiles": [profileViewDetailed, ...]}``: author snapshots, no post).

A post's native id is its ``at://<did>/app.bsky.feed.post/<rkey>`` uri. ``record_to_post`` turns
one ``app.bsky.feed.post`` record value into a Post; the Jetstream normaliser shares it. A raw
record alone carries no uri, hence no key: it is a ``BadRecord`` unless wrapped with its ``uri``.

Choices: hashtags are the ``#tag`` facets (source ``facet``) then the record's ``tags[]`` (source
``tags``), one per hashtag key. A mention is the handle as written in the text, sliced by the
facet's UTF-8 byte offsets (the DID when the slice is unusable). An embedded record makes a quote
only when it is a post (a list or feed-generator card is not a quote). Blob images and videos of
raw records get the public CDN URLs the AppView itself serves; an ``external`` link card is a
Media of type ``other`` and its uri is also in ``urls``. A repost (feed ``reasonRepost``) has
empty text, like Jetstream reposts, and is keyed by the repost record uri the AppView gives
(older responses lack it: the key is then ``at://<reposter>/app.bsky.feed.repost/?subject=<post
uri>``). In a thread, the parents are context posts; the anchor and its replies are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from salon.hashtags import tag_key
from salon.model import Author, Engagement, Hashtag, Item, Media, Post, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import as_dict, as_list, as_str, parse_time, to_int

FORMAT = "bluesky"
PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
_FACET = "app.bsky.richtext.facet#"
_SENSITIVE = {"porn", "sexual", "nudity", "graphic-media", "gore"}
_NO_UNAUTH = "!no-unauthenticated"
_PAGE_KEYS = {"posts": {"cursor", "hitsTotal"}, "feed": {"cursor"}, "records": {"cursor"}, "profiles": set()}


def split_uri(uri: Any) -> tuple[str, str, str] | None:
    """``at://did/collection/rkey`` → ``(did, collection, rkey)``; None for anything else."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _uid(uri: Any) -> str | None:
    """The uid of an at:// uri, None for anything else."""
    return make_uid(PLATFORM, uri) if isinstance(uri, str) and split_uri(uri) else None


def _is_post_view(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and split_uri(obj.get("uri")) is not None
        and "record" in obj
        and "author" in obj
    )


def _is_profile(obj: Any) -> bool:
    return isinstance(obj, dict) and str(obj.get("did", "")).startswith("did:") and "handle" in obj


def _is_record_entry(obj: Any) -> bool:
    return (
        isinstance(obj, dict) and split_uri(obj.get("uri")) is not None and isinstance(obj.get("value"), dict)
    )


def _safe_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return parse_time(value)
    except BadRecord:  # createdAt is written by clients, sometimes badly
        return None


def author_from_profile(profile: Any) -> Author:
    """A ``profileViewBasic``/``profileView(Detailed)`` as an Author (``native_id`` = DID)."""
    if not isinstance(profile, dict) or not isinstance(profile.get("did"), str) or not profile["did"]:
        raise BadRecord("Bluesky author without did")
    did = profile["did"]
    labels = profile.get("labels")
    indexable = None
    if isinstance(labels, list):
        indexable = not any(isinstance(x, dict) and x.get("val") == _NO_UNAUTH for x in labels)
    text = {
        k: profile.get(k) if isinstance(profile.get(k), str) else None
        for k in ("handle", "displayName", "description")
    }
    return Author(
        platform=PLATFORM,
        native_id=did,
        handle=text["handle"],
        display_name=text["displayName"],
        bio=text["description"],
        url=f"https://bsky.app/profile/{did}",
        followers=to_int(profile.get("followersCount")),
        following=to_int(profile.get("followsCount")),
        posts_count=to_int(profile.get("postsCount")),
        created_at=_safe_time(profile.get("createdAt")),
        indexable=indexable,
    )


def _utf8_slice(data: bytes, start: Any, end: Any) -> str | None:
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(data):
        return None
    try:
        return data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _facets(record: dict[str, Any]) -> tuple[list[Hashtag], list[str], list[str]]:
    """Hashtags (facets, then ``tags[]``, one per key), mentions and links of a post record."""
    text = record.get("text")
    data = text.encode("utf-8") if isinstance(text, str) else b""
    tags: dict[str, Hashtag] = {}
    mentions: list[str] = []
    links: list[str] = []
    for facet in as_list(record.get("facets")):
        index = as_dict(as_dict(facet).get("index"))
        for feature in as_list(as_dict(facet).get("features")):
            feature = as_dict(feature)
            kind = str(feature.get("$type", "")).removeprefix(_FACET)
            if kind == "tag" and isinstance(feature.get("tag"), str) and feature["tag"].strip("#"):
                tags.setdefault(tag_key(feature["tag"]), Hashtag(feature["tag"].lstrip("#"), "facet"))
            elif kind == "mention" and isinstance(feature.get("did"), str):
                written = _utf8_slice(data, index.get("byteStart"), index.get("byteEnd")) or ""
                mentions.append(
                    written[1:] if written.startswith("@") and len(written) > 1 else feature["did"]
                )
            elif kind == "link" and isinstance(feature.get("uri"), str) and feature["uri"] not in links:
                links.append(feature["uri"])
    for tag in as_list(record.get("tags")):
        if isinstance(tag, str) and tag.strip("#"):
            tags.setdefault(tag_key(tag), Hashtag(tag.lstrip("#"), "tags"))
    return list(tags.values()), mentions, links


def _blob_cid(blob: Any) -> str | None:
    blob = as_dict(blob)
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else ref if isinstance(ref, str) else blob.get("cid")
    return cid if isinstance(cid, str) and cid else None


def _media_of_record(embed: dict[str, Any], did: str) -> list[Media]:
    """Media of a record embed (blobs get the AppView CDN URLs)."""
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return _media_of_record(as_dict(embed.get("media")), did)
    out = []
    if kind == "app.bsky.embed.images":
        for img in as_list(embed.get("images")):
            cid = _blob_cid(as_dict(img).get("image"))
            url = f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg" if cid else None
            out.append(Media("photo", url, as_str(as_dict(img).get("alt"))))
    elif kind == "app.bsky.embed.video":
        cid = _blob_cid(embed.get("video"))
        url = f"https://video.bsky.app/watch/{quote(did, safe='')}/{cid}/playlist.m3u8" if cid else None
        out.append(Media("video", url, as_str(embed.get("alt"))))
    elif kind == "app.bsky.embed.external":
        ext = as_dict(embed.get("external"))
        if isinstance(ext.get("uri"), str):
            out.append(Media("other", ext["uri"]))
    return out


def _media_of_view(view: dict[str, Any]) -> list[Media]:
    """Media of an embed view (``...#view``, with the CDN URLs)."""
    kind = str(view.get("$type", ""))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _media_of_view(as_dict(view.get("media")))
    out = []
    if kind.startswith("app.bsky.embed.images"):
        for img in as_list(view.get("images")):
            img = as_dict(img)
            out.append(
                Media("photo", as_str(img.get("fullsize")), as_str(img.get("alt")), as_str(img.get("thumb")))
            )
    elif kind.startswith("app.bsky.embed.video"):
        out.append(
            Media(
                "video", as_str(view.get("playlist")), as_str(view.get("alt")), as_str(view.get("thumbnail"))
            )
        )
    elif kind.startswith("app.bsky.embed.external"):
        ext = as_dict(view.get("external"))
        if isinstance(ext.get("uri"), str):
            out.append(Media("other", ext["uri"], None, as_str(ext.get("thumb"))))
    return out


def _quoted_uri(embed: dict[str, Any]) -> str | None:
    """The uri of the post a record embed quotes (None for lists, feeds, starter packs)."""
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        embed = as_dict(embed.get("record"))
        kind = "app.bsky.embed.record"
    if kind != "app.bsky.embed.record":
        return None
    uri = as_dict(embed.get("record")).get("uri")
    parts = split_uri(uri)
    return uri if parts is not None and parts[1] == POST else None


def _self_labels(record: dict[str, Any]) -> set[str]:
    values = as_dict(record.get("labels")).get("values")
    return {v["val"] for v in as_list(values) if isinstance(v, dict) and isinstance(v.get("val"), str)}


def record_to_post(
    record: Any,
    uri: str,
    *,
    author: Author | None = None,
    indexed_at: Any = None,
    engagement: Engagement | None = None,
    embed_view: Any = None,
    labels: Any = None,
    edited_at: Any = None,
    context: bool = False,
) -> Post:
    """One ``app.bsky.feed.post`` record value, stored at ``uri``, as a Post. ``embed_view`` is
    the post view's rendered embed (better media URLs), ``labels`` the view's labels."""
    parts = split_uri(uri)
    if parts is None:
        raise BadRecord(f"not an at:// post uri: {uri!r}")
    if not isinstance(record, dict):
        raise BadRecord("Bluesky post record is not an object")
    if record.get("$type") not in (None, POST):
        raise BadRecord(f"not a post record: {record.get('$type')!r}")
    did, _, rkey = parts
    hashtags, mentions, links = _facets(record)
    embed = as_dict(record.get("embed"))
    media = _media_of_view(embed_view) if isinstance(embed_view, dict) else _media_of_record(embed, did)
    for item in media:
        if item.type == "other" and item.url and item.url not in links:
            links.append(item.url)
    reply = as_dict(record.get("reply"))
    parent, root = as_dict(reply.get("parent")).get("uri"), as_dict(reply.get("root")).get("uri")
    quoted = _quoted_uri(embed)
    langs = as_list(record.get("langs"))
    label_vals = _self_labels(record) | {x.get("val") for x in as_list(labels) if isinstance(x, dict)}
    indexed = _safe_time(indexed_at)
    text = record.get("text")
    return Post(
        platform=PLATFORM,
        native_id=uri,
        created_at=_safe_time(record.get("createdAt")) or indexed,
        text=text if isinstance(text, str) else "",
        kind=post_kind(repost=False, quote=quoted is not None, reply=bool(reply)),
        author=author or Author(platform=PLATFORM, native_id=did),
        author_uid=make_uid(PLATFORM, did),
        uri=uri,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        lang=langs[0] if langs and isinstance(langs[0], str) else None,
        reply_to_uid=_uid(parent),
        root_uid=_uid(root),
        quote_of_uid=make_uid(PLATFORM, quoted) if quoted else None,
        edited_at=_safe_time(edited_at),
        indexed_at=indexed,
        sensitive=bool(label_vals & _SENSITIVE),
        hashtags=hashtags,
        mentions=mentions,
        urls=links,
        media=media,
        engagement=engagement,
        context=context,
    )


def _engagement(view: dict[str, Any], ctx: Context) -> Engagement:
    return Engagement(
        likes=to_int(view.get("likeCount")),
        reposts=to_int(view.get("repostCount")),
        replies=to_int(view.get("replyCount")),
        quotes=to_int(view.get("quoteCount")),
        observed_at=ctx.observed_at,
    )


def post_view_to_posts(view: Any, ctx: Context, context: bool = False, depth: int = 0) -> Iterator[Post]:
    """A ``postView`` (or an embedded ``viewRecord``) as a Post, then the posts it quotes as
    context posts."""
    if not isinstance(view, dict):
        raise BadRecord("Bluesky post view is not an object")
    record = view.get("record") if "record" in view else view.get("value")
    embeds = view.get("embeds") if "embeds" in view else [view.get("embed")]
    embed_view = as_list(embeds)[0] if as_list(embeds) else None
    yield record_to_post(
        record,
        view.get("uri"),  # type: ignore[arg-type]  # checked by record_to_post
        author=author_from_profile(view.get("author")),
        indexed_at=view.get("indexedAt"),
        engagement=_engagement(view, ctx),
        embed_view=embed_view,
        labels=view.get("labels"),
        context=context,
    )
    if isinstance(embed_view, dict) and depth < 3:
        inner = as_dict(embed_view.get("record"))
        if str(embed_view.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
            inner = as_dict(inner.get("record"))
        is_view = inner.get("$type") == "app.bsky.embed.record#viewRecord" or "$type" not in inner
        if is_view and _is_record_entry(inner) and as_dict(inner.get("value")).get("$type") in (None, POST):
            yield from post_view_to_posts(inner, ctx, True, depth + 1)


def _repost(item: dict[str, Any], post_uri: str) -> Post:
    reason = as_dict(item.get("reason"))
    by = author_from_profile(reason.get("by"))
    uri = reason.get("uri")
    if not isinstance(uri, str) or split_uri(uri) is None:
        uri = f"at://{by.native_id}/{REPOST}/?subject={post_uri}"
    when = _safe_time(reason.get("indexedAt"))
    return Post(
        platform=PLATFORM,
        native_id=uri,
        created_at=when,
        text="",
        kind="repost",
        author=by,
        uri=uri,
        repost_of_uid=make_uid(PLATFORM, post_uri),
        indexed_at=when,
    )


class _Out:
    """Posts of one payload, once each; a first-class copy replaces a context copy."""

    def __init__(self) -> None:
        self.posts: dict[str, Post] = {}

    def add(self, posts: Iterator[Post]) -> None:
        for post in posts:
            seen = self.posts.get(post.uid)
            if seen is None or (seen.context and not post.context):
                self.posts[post.uid] = post


def _feed_item(item: Any, ctx: Context, out: _Out) -> None:
    if not isinstance(item, dict) or not _is_post_view(item.get("post")):
        raise BadRecord("Bluesky feed item without a post view")
    post = item["post"]
    reposted = str(as_dict(item.get("reason")).get("$type", "")).endswith("#reasonRepost")
    if reposted:
        out.add(iter([_repost(item, post["uri"])]))
    out.add(post_view_to_posts(post, ctx, context=reposted))
    for ref in ("parent", "root"):
        ctx_view = as_dict(item.get("reply")).get(ref)
        if _is_post_view(ctx_view):
            out.add(post_view_to_posts(ctx_view, ctx, context=True))


def _thread(node: Any, ctx: Context, out: _Out, context: bool, up: bool = True, down: bool = True) -> None:
    if not isinstance(node, dict) or not _is_post_view(node.get("post")):
        return  # notFoundPost, blockedPost
    out.add(post_view_to_posts(node["post"], ctx, context=context))
    if up:
        _thread(node.get("parent"), ctx, out, True, up=True, down=False)
    if down:
        for reply in as_list(node.get("replies")):
            _thread(reply, ctx, out, context, up=False, down=True)


def _record_entry(entry: dict[str, Any]) -> Iterator[Post]:
    parts = split_uri(entry.get("uri"))
    if parts is not None and parts[1] == POST and entry["value"].get("$type") in (None, POST):
        yield record_to_post(entry["value"], entry["uri"])


def _is_page(obj: dict[str, Any], key: str, test: Any) -> bool:
    items = obj.get(key)
    if not isinstance(items, list) or not set(obj) <= {key, *_PAGE_KEYS[key]}:
        return False
    return not items or test(items[0])


def sniff(obj: Any) -> bool:
    """Post views and their pages, feed/thread views, listRecords pages, post records."""
    if not isinstance(obj, dict):
        return False
    if _is_post_view(obj) or _is_record_entry(obj) or _is_post_view(obj.get("post")):
        return True
    if isinstance(obj.get("thread"), dict):
        return True
    if obj.get("$type") == POST:
        return True
    return (
        _is_page(obj, "posts", _is_post_view)
        or _is_page(obj, "feed", lambda x: isinstance(x, dict) and _is_post_view(x.get("post")))
        or _is_page(obj, "records", _is_record_entry)
        or (_is_page(obj, "profiles", _is_profile) and bool(obj["profiles"]))
    )


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts (quoted, reposted and parent posts as context) of any Bluesky JSON shape above;
    the authors of a ``getProfiles`` response."""
    if not isinstance(obj, dict):
        raise BadRecord("Bluesky payload must be a JSON object")
    if isinstance(obj.get("profiles"), list) and set(obj) == {"profiles"}:
        for profile in obj["profiles"]:
            yield author_from_profile(profile)
        return
    out = _Out()
    if _is_post_view(obj):
        out.add(post_view_to_posts(obj, ctx))
    elif _is_record_entry(obj):
        out.add(_record_entry(obj))
    elif isinstance(obj.get("thread"), dict) or ("post" in obj and ("parent" in obj or "replies" in obj)):
        _thread(obj.get("thread") or obj, ctx, out, False)
    elif "post" in obj:
        _feed_item(obj, ctx, out)
    elif obj.get("$type") == POST:
        if not split_uri(obj.get("uri")):
            raise BadRecord("raw app.bsky.feed.post record without uri: wrap it as {uri, value}")
        out.add(iter([record_to_post(obj, obj["uri"])]))
    elif isinstance(obj.get("posts"), list):
        for view in obj["posts"]:
            out.add(post_view_to_posts(view, ctx))
    elif isinstance(obj.get("feed"), list):
        for item in obj["feed"]:
            _feed_item(item, ctx, out)
    elif isinstance(obj.get("records"), list):
        for entry in obj["records"]:
            if not _is_record_entry(entry):
                raise BadRecord("listRecords entry without uri and value")
            out.add(_record_entry(entry))
    else:
        raise BadRecord("not a Bluesky post view, feed, thread or record")
    yield from out.posts.values()
