"""The plan as X API v2 search pages, as twarc2 writes them (``data``, ``includes.users``/
``tweets``/``media``, ``meta``, ``__twarc``), and compliance-job lines for deleted tweets; entity
offsets in code points."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from salon.demo.plan import (
    Account,
    Config,
    PlanPost,
    b62,
    iso_ms,
    short,
)

X_PAGE = 100


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
