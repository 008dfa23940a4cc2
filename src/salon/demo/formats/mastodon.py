"""The plan as Mastodon statuses (REST entities) as one server (``mastodon.social``) serves
them: federated statuses carry that server's ids, their origin's uri and url."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as urlquote

from salon.demo import world as W
from salon.demo.plan import (
    Account,
    PlanPost,
    b62,
    hexid,
    id_path,
    iso_ms,
)


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
