"""The plan written in the platforms' own formats, each payload built with the field set and
nesting of the real payloads in ``shared/corpora`` (``tests/test_demo_generator.py`` checks it):

- X API v2 search pages as twarc2 writes them (``data``, ``includes.users``/``tweets``/``media``,
  ``meta``, ``__twarc``), and compliance-job lines for deleted tweets; entity offsets in code points;
- Mastodon statuses (REST entities) as one server (``mastodon.social``) serves them: federated
  statuses carry that server's ids, their origin's uri and url;
- Bluesky Jetstream commit events (post and repost creates, post deletes); facet offsets in UTF-8
  bytes, record keys in the order Jetstream writes them.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote as urlquote

from salon.demo import world as W
from salon.demo.plan import (
    Account,
    Config,
    PlanPost,
    b62,
    cid,
    digest,
    hexid,
    id_path,
    iso_ms,
    short,
    strip_mentions,
    tid,
    us,
)

X_PAGE = 100

# -- X API v2 (twarc2) ------------------------------------------------------------------------------


def _tco(*parts: object) -> str:
    return "https://t.co/" + b62("tco", *parts)


def _x_text(p: PlanPost) -> tuple[str, dict[str, list[dict[str, Any]]], list[str]]:
    """Text, entities (code point offsets, as X counts) and media keys of an X post."""
    pieces = list(p.pieces)
    if p.parent is not None:  # X replies start with the handles replied to
        lead = [p.parent.author]
        if p.parent.parent is not None and p.root.author not in lead:
            lead.append(p.root.author)
        lead = [a for a in lead if a is not p.author]
        pre: list[tuple[str, str, Any]] = []
        for a in lead:
            pre += [("mention", "@" + a.username, a), ("text", " ", None)]
        pieces = pre + pieces
    text: list[str] = []
    pos = 0
    ents: dict[str, list[dict[str, Any]]] = {"urls": [], "hashtags": [], "mentions": []}
    for i, (kind, s, val) in enumerate(pieces):
        if kind == "tag":
            ents["hashtags"].append({"start": pos, "end": pos + len(s), "tag": s[1:]})
        elif kind == "mention":
            ents["mentions"].append(
                {"start": pos, "end": pos + len(s), "username": val.username, "id": val.native_id}
            )
        elif kind == "url":
            s = _tco(p.idx, i)
            ents["urls"].append(
                {
                    "start": pos,
                    "end": pos + len(s),
                    "url": s,
                    "expanded_url": val,
                    "display_url": short(val, 26),
                }
            )
        text.append(s)
        pos += len(s)
    if p.quoted is not None:
        q = p.quoted
        s = _tco(p.idx, "q")
        target = f"https://twitter.com/{q.author.username}/status/{q.x_id}"
        text.append(" ")
        pos += 1
        ents["urls"].append(
            {
                "start": pos,
                "end": pos + len(s),
                "url": s,
                "expanded_url": target,
                "display_url": short(target, 26),
            }
        )
        text.append(s)
        pos += len(s)
    keys = []
    for k in range(len(p.media)):
        key = f"3_{_x_media_id(p, k)}"
        keys.append(key)
        if k == 0:
            s = _tco(p.idx, "media")
            text.append(" ")
            pos += 1
            ents["urls"].append(
                {
                    "start": pos,
                    "end": pos + len(s),
                    "url": s,
                    "expanded_url": f"https://twitter.com/{p.author.username}/status/{p.x_id}/photo/1",
                    "display_url": "pic.twitter.com/" + s.rsplit("/", 1)[1],
                    "media_key": key,
                }
            )
            text.append(s)
            pos += len(s)
    return "".join(text), {k: v for k, v in ents.items() if v}, keys


def _x_media_id(p: PlanPost, k: int) -> int:
    return int(p.x_id) - 1 - k  # media ids are snowflakes from the upload, just before the tweet


def _x_metrics(p: PlanPost) -> dict[str, int]:
    return {
        "retweet_count": p.reposts,
        "reply_count": p.replies,
        "like_count": p.likes,
        "quote_count": p.quotes,
    }


def _x_tweet(p: PlanPost) -> dict[str, Any]:
    """One X API v2 tweet object (the field set of 2022-2023 twarc2 pages)."""
    created = p.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if p.reposted is not None:
        t = p.reposted
        body, ents, _ = _x_text(t)
        prefix = f"RT @{t.author.username}: "
        full = prefix + body
        text = full if len(full) <= 140 else full[:139] + "…"
        cut = len(text) - (1 if len(full) > 140 else 0)
        shifted: dict[str, list[dict[str, Any]]] = {
            "mentions": [
                {
                    "start": 3,
                    "end": 4 + len(t.author.username),
                    "username": t.author.username,
                    "id": t.author.native_id,
                }
            ]
        }
        for k, items in ents.items():
            for e in items:
                e2 = {**e, "start": e["start"] + len(prefix), "end": e["end"] + len(prefix)}
                e2.pop("media_key", None)
                if e2["end"] <= cut:
                    shifted.setdefault(k, []).append(e2)
        return {
            "edit_history_tweet_ids": [p.x_id],
            "created_at": created,
            "conversation_id": p.x_id,
            "author_id": p.author.native_id,
            "reply_settings": "everyone",
            "possibly_sensitive": False,
            "lang": t.lang,
            "edit_controls": _x_edit_controls(p, False),
            "text": text,
            "id": p.x_id,
            "public_metrics": {
                "retweet_count": t.reposts,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
            },
            "entities": shifted,
            "referenced_tweets": [{"type": "retweeted", "id": t.x_id}],
        }
    text, ents, media_keys = _x_text(p)
    tweet: dict[str, Any] = {
        "edit_history_tweet_ids": [p.x_id],
        "created_at": created,
        "conversation_id": p.root.x_id if p.parent is not None else p.x_id,
        "author_id": p.author.native_id,
        "reply_settings": "everyone",
        "possibly_sensitive": False,
        "lang": p.lang,
        "edit_controls": _x_edit_controls(p, p.kind == "original" and not p.media),
        "text": text,
        "id": p.x_id,
        "public_metrics": _x_metrics(p),
    }
    if ents:
        tweet["entities"] = ents
    refs = []
    if p.quoted is not None:
        refs.append({"type": "quoted", "id": p.quoted.x_id})
    if p.parent is not None:
        refs.append({"type": "replied_to", "id": p.parent.x_id})
        tweet["in_reply_to_user_id"] = p.parent.author.native_id
    if refs:
        tweet["referenced_tweets"] = refs
    if media_keys:
        tweet["attachments"] = {"media_keys": media_keys}
    return tweet


def _x_edit_controls(p: PlanPost, eligible: bool) -> dict[str, Any]:
    until = (p.created + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"edits_remaining": 5, "is_edit_eligible": eligible, "editable_until": until}


def _x_user(a: Account) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": a.native_id,
        "name": a.display_name,
        "username": a.username,
        "created_at": a.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "description": a.bio,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{a.native_id}/{b62('avatar', a.native_id, n=8)}_normal.jpg",
        "protected": False,
        "verified": False,
        "public_metrics": {
            "followers_count": a.followers,
            "following_count": a.following,
            "tweet_count": a.statuses,
            "listed_count": a.followers // 60,
        },
        "url": "",
    }
    if a.location:
        user["location"] = a.location
    if a.website:
        tco = _tco("user", a.native_id)
        user["url"] = tco
        user["entities"] = {
            "url": {
                "urls": [
                    {
                        "start": 0,
                        "end": len(tco),
                        "url": tco,
                        "expanded_url": a.website,
                        "display_url": short(a.website, 26),
                    }
                ]
            }
        }
    return user


def _x_media(p: PlanPost) -> list[dict[str, Any]]:
    out = []
    for k, m in enumerate(p.media):
        item: dict[str, Any] = {
            "media_key": f"3_{_x_media_id(p, k)}",
            "type": "photo",
            "url": f"https://pbs.twimg.com/media/{b62('xmedia', m.key, n=15)}.jpg",
            "width": m.width,
            "height": m.height,
        }
        if m.alt:
            item["alt_text"] = m.alt
        out.append(item)
    return out


_X_EXPANSIONS = (
    "expansions=author_id%2Cin_reply_to_user_id%2Creferenced_tweets.id%2Creferenced_tweets.id.author_id"
    "%2Centities.mentions.username%2Cattachments.poll_ids%2Cattachments.media_keys%2Cgeo.place_id"
    "%2Cedit_history_tweet_ids&tweet.fields=attachments%2Cauthor_id%2Cconversation_id%2Ccreated_at"
    "%2Centities%2Cid%2Cin_reply_to_user_id%2Clang%2Cpublic_metrics%2Ctext%2Cpossibly_sensitive"
    "%2Creferenced_tweets%2Creply_settings%2Cedit_controls&user.fields=created_at%2Cdescription"
    "%2Centities%2Cid%2Clocation%2Cname%2Cprofile_image_url%2Cprotected%2Cpublic_metrics%2Curl"
    "%2Cusername%2Cverified&media.fields=alt_text%2Cheight%2Cmedia_key%2Ctype%2Curl%2Cwidth"
)


def _x_accounts(p: PlanPost) -> list[Account]:
    """Accounts a tweet's page must include: author, mentioned and replied-to users (a retweet
    also mentions its original's)."""
    out = [p.author, *(v for _, _, v in p.pieces if isinstance(v, Account))]
    if p.parent is not None:
        out += [p.parent.author, p.root.author]
    if p.reposted is not None:
        out += _x_accounts(p.reposted)
    return out


def x_pages(cfg: Config, posts: list[PlanPost]) -> list[dict[str, Any]]:
    """twarc2 search pages: newest first, ``X_PAGE`` tweets per page, with their includes."""
    ordered = sorted(posts, key=lambda p: (p.created, int(p.x_id)), reverse=True)
    if not ordered:
        return []
    q = "%28" + "%20OR%20".join(f"%23{t}" for t in cfg.official()) + "%29"
    first = datetime.combine(ordered[-1].created.date(), time(0), UTC)
    last = datetime.combine(ordered[0].created.date() + timedelta(days=1), time(0), UTC)
    fmt = "%Y-%m-%dT%H%%3A%M%%3A%S%%2B00%%3A00"
    url = (
        f"https://api.twitter.com/2/tweets/search/all?{_X_EXPANSIONS}&query={q}"
        f"&start_time={first.strftime(fmt)}&end_time={last.strftime(fmt)}&max_results={X_PAGE}"
    )
    pages = []
    retrieved = last + timedelta(hours=9)
    tokens = [b62("next", cfg.seed, i, n=45).lower() for i in range(len(ordered) // X_PAGE + 2)]
    for n, i in enumerate(range(0, len(ordered), X_PAGE)):
        chunk = ordered[i : i + X_PAGE]
        users: dict[str, dict[str, Any]] = {}
        tweets: dict[str, dict[str, Any]] = {}
        media: list[dict[str, Any]] = []

        def add_user(a: Account, users: dict[str, dict[str, Any]] = users) -> None:
            if a.native_id not in users:
                users[a.native_id] = _x_user(a)

        for p in chunk:
            for a in _x_accounts(p):
                add_user(a)
            media += _x_media(p)
        for p in chunk:
            for t in (p.reposted, p.quoted, p.parent):
                if t is not None and t.x_id not in tweets:
                    tweets[t.x_id] = _x_tweet(t)
                    for a in _x_accounts(t):
                        add_user(a)
        includes: dict[str, Any] = {"users": list(users.values())}
        if tweets:
            includes["tweets"] = list(tweets.values())
        if media:
            includes["media"] = media
        meta: dict[str, Any] = {
            "newest_id": chunk[0].x_id,
            "oldest_id": chunk[-1].x_id,
            "result_count": len(chunk),
        }
        if i + X_PAGE < len(ordered):
            meta["next_token"] = tokens[n + 1]
        page_url = url + (f"&next_token={tokens[n]}" if n else "")
        pages.append(
            {
                "data": [_x_tweet(p) for p in chunk],
                "includes": includes,
                "meta": meta,
                "__twarc": {
                    "url": page_url,
                    "version": "2.14.0",
                    "retrieved_at": (retrieved + timedelta(seconds=2 * n)).strftime(
                        "%Y-%m-%dT%H:%M:%S+00:00"
                    ),
                },
            }
        )
    return pages


def x_compliance(posts: list[PlanPost]) -> list[dict[str, Any]]:
    out = []
    for p in sorted(posts, key=lambda q: int(q.x_id)):
        if p.deleted_at is not None:
            out.append(
                {
                    "id": p.x_id,
                    "action": "delete",
                    "created_at": iso_ms(p.created),
                    "redacted_at": iso_ms(p.deleted_at),
                    "reason": "deleted",
                }
            )
    return out


# -- Mastodon REST entities ---------------------------------------------------------------------


def _esc(s: str) -> str:
    """HTML escaping as Mastodon writes it (``'`` → ``&#39;``)."""
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _m_link(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if len(rest) > 30:
        visible = (
            f'<span class="ellipsis">{_esc(rest[:30])}</span><span class="invisible">{_esc(rest[30:])}</span>'
        )
    else:
        visible = f'<span class="">{_esc(rest)}</span><span class="invisible"></span>'
    return (
        f'<a href="{_esc(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{scheme}://</span>{visible}</a>'
    )


def _m_content(p: PlanPost) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """HTML content, ``mentions`` and ``tags`` of a status."""
    pieces = list(p.pieces)
    mentioned: list[Account] = []
    if p.parent is not None and p.parent.author is not p.author:
        pieces = [("mention", "@" + p.parent.author.username, p.parent.author), ("text", " ", None), *pieces]
    html: list[str] = []
    tags: list[dict[str, Any]] = []
    for kind, s, val in pieces:
        if kind == "text":
            html.append(_esc(s))
        elif kind == "tag":
            name = s[1:]
            html.append(
                f'<a href="https://{p.author.host}/tags/{urlquote(name.lower())}" class="mention hashtag" '
                f'rel="tag">#<span>{_esc(name)}</span></a>'
            )
            tags.append({"name": name, "url": f"https://{W.MASTODON_SERVING}/tags/{urlquote(name.lower())}"})
        elif kind == "mention":
            a: Account = val
            mentioned.append(a)
            html.append(
                f'<span class="h-card" translate="no"><a href="{a.profile_url}" class="u-url mention">'
                f"@<span>{_esc(a.username)}</span></a></span>"
            )
        elif kind == "url":
            html.append(_m_link(val))
    content = "<p>" + "".join(html) + "</p>"
    if p.quoted is not None:
        content = f'<p class="quote-inline">RE: {_m_link(p.quoted.m_url)}</p>' + content
    mentions = [
        {"id": a.native_id, "username": a.username, "url": a.profile_url, "acct": a.acct} for a in mentioned
    ]
    return content, mentions, tags


def _m_account(a: Account) -> dict[str, Any]:
    local = a.host == W.MASTODON_SERVING
    files = "https://files.mastodon.social" + ("" if local else "/cache")
    path = id_path(a.native_id)
    fields = []
    if a.website:
        fields.append({"name": "Website", "value": _m_link(a.website), "verified_at": None})
    return {
        "id": a.native_id,
        "username": a.username,
        "acct": a.acct,
        "display_name": a.display_name,
        "locked": False,
        "bot": False,
        "discoverable": a.indexable,
        "indexable": a.indexable,
        "group": False,
        "created_at": a.created_at.strftime("%Y-%m-%dT00:00:00.000Z"),
        "note": f"<p>{_esc(a.bio)}</p>" if a.bio else "",
        "url": a.profile_url,
        "uri": a.ap_uri,
        "avatar": f"{files}/accounts/avatars/{path}/original/{hexid('av', a.native_id)}.png",
        "avatar_static": f"{files}/accounts/avatars/{path}/original/{hexid('av', a.native_id)}.png",
        "avatar_description": "",
        "header": f"{files}/accounts/headers/{path}/original/{hexid('hd', a.native_id)}.jpg",
        "header_static": f"{files}/accounts/headers/{path}/original/{hexid('hd', a.native_id)}.jpg",
        "header_description": "",
        "followers_count": a.followers,
        "following_count": a.following,
        "statuses_count": a.statuses,
        "last_status_at": None,  # set per status
        "hide_collections": False,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": not a.indexable,
        "feature_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        "emojis": [],
        "roles": [],
        "fields": fields,
    }


def _m_media(p: PlanPost) -> list[dict[str, Any]]:
    out = []
    for k, m in enumerate(p.media):
        mid = str(int(p.m_id) - 1 - k)
        local = p.author.host == W.MASTODON_SERVING
        name = hexid("mm", m.key)
        path = f"media_attachments/files/{id_path(mid)}"
        base = "https://files.mastodon.social" + ("" if local else "/cache")
        sw, sh = (
            (640, round(640 * m.height / m.width))
            if m.width >= m.height
            else (round(640 * m.width / m.height), 640)
        )
        out.append(
            {
                "id": mid,
                "type": "image",
                "url": f"{base}/{path}/original/{name}.jpg",
                "preview_url": f"{base}/{path}/small/{name}.jpg",
                "remote_url": None if local else f"https://{p.author.host}/system/{path}/original/{name}.jpg",
                "preview_remote_url": None,
                "text_url": None,
                "meta": {
                    "original": {
                        "width": m.width,
                        "height": m.height,
                        "size": f"{m.width}x{m.height}",
                        "aspect": round(m.width / m.height, 4),
                    },
                    "small": {"width": sw, "height": sh, "size": f"{sw}x{sh}", "aspect": round(sw / sh, 4)},
                },
                "description": m.alt or None,
                "blurhash": "U" + b62("bh", m.key, n=35),
            }
        )
    return out


_QUOTE_APPROVAL = {"automatic": ["public"], "manual": [], "current_user": "automatic"}


def m_status(p: PlanPost, *, depth: int = 0) -> dict[str, Any]:
    """A Mastodon status as the serving server's REST API returns it."""
    account = _m_account(p.author)
    account["last_status_at"] = p.created.strftime("%Y-%m-%d")
    local = p.author.host == W.MASTODON_SERVING
    if p.reposted is not None:
        return {
            "id": p.m_id,
            "created_at": iso_ms(p.created),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": None,
            "uri": p.m_uri,
            "url": p.m_url,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": "",
            "filtered": [],
            "reblog": m_status(p.reposted, depth=depth + 1),
            "application": None,
            "account": account,
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "tagged_collections": [],
            "quote": None,
            "card": None,
            "poll": None,
            "quote_approval": dict(_QUOTE_APPROVAL),
        }
    content, mentions, tags = _m_content(p)
    return {
        "id": p.m_id,
        "created_at": iso_ms(p.created),
        "in_reply_to_id": p.parent.m_id if p.parent is not None else None,
        "in_reply_to_account_id": p.parent.author.native_id if p.parent is not None else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": p.lang,
        "uri": p.m_uri,
        "url": p.m_url,
        "replies_count": p.replies,
        "reblogs_count": p.reposts,
        "favourites_count": p.likes,
        "quotes_count": p.quotes,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": {"name": "Web", "website": None} if local else None,
        "account": account,
        "media_attachments": _m_media(p),
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "tagged_collections": [],
        # A quoted status is shown with its own quote only one level down (a reblogged quote).
        "quote": {"state": "accepted", "quoted_status": m_status(p.quoted, depth=depth + 2)}
        if p.quoted is not None and depth < 2
        else None,
        "card": None,
        "poll": None,
        "quote_approval": dict(_QUOTE_APPROVAL),
    }


# -- Bluesky Jetstream -------------------------------------------------------------------------------


def _b_text(p: PlanPost) -> tuple[str, list[dict[str, Any]]]:
    """Text and facets (UTF-8 byte offsets) of a Bluesky post; links show shortened."""
    out: list[str] = []
    facets: list[dict[str, Any]] = []
    pos = 0
    pieces = strip_mentions(p.pieces)
    for kind, s, val in pieces:
        if kind == "url":
            s = short(val, 30) if len(val.split("://", 1)[-1]) > 30 else val.split("://", 1)[-1]
        n = len(s.encode("utf-8"))
        if kind == "tag":
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": s[1:]}],
                    "index": {"byteEnd": pos + n, "byteStart": pos},
                }
            )
        elif kind == "url":
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": val}],
                    "index": {"byteEnd": pos + n, "byteStart": pos},
                }
            )
        out.append(s)
        pos += n
    return "".join(out), facets


def _b_record(p: PlanPost) -> dict[str, Any]:
    if p.reposted is not None:
        t = p.reposted
        return {
            "$type": "app.bsky.feed.repost",
            "createdAt": iso_ms(p.created),
            "subject": {"cid": t.b_cid, "uri": t.b_uri},
        }
    text, facets = _b_text(p)
    rec: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso_ms(p.created)}
    if p.quoted is not None:
        rec["embed"] = {
            "$type": "app.bsky.embed.record",
            "record": {"cid": p.quoted.b_cid, "uri": p.quoted.b_uri},
        }
    elif p.media:
        rec["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": m.alt,
                    "aspectRatio": {"height": m.height, "width": m.width},
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": cid(digest("blob", m.key), 0x55)},
                        "mimeType": "image/jpeg",
                        "size": 180_000 + int.from_bytes(digest("size", m.key)[:3], "big") % 900_000,
                    },
                }
                for m in p.media
            ],
        }
    if facets:
        rec["facets"] = facets
    rec["langs"] = [p.lang]
    if p.parent is not None:
        root = p.root
        rec["reply"] = {
            "parent": {"cid": p.parent.b_cid, "uri": p.parent.b_uri},
            "root": {"cid": root.b_cid, "uri": root.b_uri},
        }
    rec["text"] = text
    return rec


def jetstream_events(posts: list[PlanPost], rng: random.Random) -> list[dict[str, Any]]:
    """Jetstream commit events (creates in time order, deletes when they happen)."""
    events: list[tuple[int, int, dict[str, Any]]] = []
    # Built in time order, each record once: a post's subjects (reply parent and root, quoted or
    # reposted post) are at least 20 s older than it (``Planner.delay``), so their cids are known.
    records: dict[int, dict[str, Any]] = {}
    for p in sorted(posts, key=lambda q: (q.b_time_us, q.idx)):
        record = records[p.idx] = _b_record(p)
        p.b_cid = cid(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
    for p in posts:
        record = records[p.idx]
        rev = tid(p.b_time_us, rng.randrange(1024))
        events.append(
            (
                p.b_time_us,
                0,
                {
                    "did": p.author.native_id,
                    "time_us": p.b_time_us,
                    "kind": "commit",
                    "commit": {
                        "rev": rev,
                        "operation": "create",
                        "collection": p.b_collection,
                        "rkey": p.b_rkey,
                        "record": record,
                        "cid": p.b_cid,
                    },
                },
            )
        )
        if p.deleted_at is not None:
            t = us(p.deleted_at)
            events.append(
                (
                    t,
                    1,
                    {
                        "did": p.author.native_id,
                        "time_us": t,
                        "kind": "commit",
                        "commit": {
                            "rev": tid(t, rng.randrange(1024)),
                            "operation": "delete",
                            "collection": p.b_collection,
                            "rkey": p.b_rkey,
                        },
                    },
                )
            )
    events.sort(key=lambda e: (e[0], e[1], e[2]["commit"]["rkey"]))
    return [e[2] for e in events]
