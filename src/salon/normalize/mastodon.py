"""Mastodon status JSON: one status, a JSON array of statuses (an API page), a context response
(``{"ancestors": [...], "descendants": [...]}``) and streaming event lines
(``{"event": "update" | "status.update" | "delete", "payload": ...}``).

Keys. A post's native id is its ActivityPub ``uri``: status ``id`` values are database ids of the
*serving* instance (the server whose API returned the JSON), not of the post's origin, so two
servers give one post two ids. Where the API gives only such an id (``in_reply_to_id``, a
shallow quote's ``quoted_status_id``, the payload of a ``delete`` event), Salon writes the
synthetic key ``status_key(instance, id)`` = ``<serving host>/statuses/<id>``; it has no scheme,
so it never collides with a real uri. The store resolves these keys: every Post carries its own
key in ``aliases`` (when the serving instance is known), and the store maps a tombstone or a
``reply_to_uid`` carrying that key to the post's real uri.

The serving instance is taken, in order, from an ``"instance"`` key that a collector adds to the
event, status or wrapper it saves (Mastodon never sends one), else from any local account in the
payload (a relative ``acct`` without ``@`` is local to the serving instance, whose host is that
account's ``url``). The host of a status ``uri`` is *not* used: for a federated status it names
the origin server, whose ids differ. When no instance is known, ``reply_to_uid`` stays None (the
kind is still ``reply``) and a ``delete`` event raises ``BadRecord``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from salon.model import Author, Engagement, Hashtag, Item, Media, Post, Tombstone, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import as_list, parse_time, to_bool, to_int, url_host

FORMAT = "mastodon"
PLATFORM = "mastodon"

_MEDIA_TYPES = {"image": "photo", "video": "video", "gifv": "gif", "audio": "audio"}
_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "source"}
# Profile hashtags asking not to be indexed (DESIGN.md, Opted out).
_NOBOT = re.compile(r"#(?:nobot|nosearch|noindex)\b", re.IGNORECASE)


def status_key(instance: str, status_id: str | int) -> str:
    """The synthetic native id of status ``status_id`` as numbered by ``instance`` (the serving
    host, e.g. ``mastodon.social``): ``mastodon.social/statuses/1234``."""
    return f"{_host(instance)}/statuses/{status_id}"


def _host(url_or_host: str) -> str:
    """``https://Mastodon.Social/`` → ``mastodon.social`` (host and port, no scheme, no path).

    Not ``common.url_host`` on purpose: this one also takes a bare host (``mastodon.social``,
    as a collector's ``instance`` key holds it) and always returns a string, where
    ``url_host`` reads only absolute URLs (an account ``url``) and says None otherwise."""
    s = url_or_host.strip()
    netloc = urlsplit(s).netloc if "://" in s else s.split("/", 1)[0]
    return netloc.lower()


def _is_status(obj: Any) -> bool:
    return (
        isinstance(obj, dict) and "uri" in obj and "account" in obj and ("content" in obj or "reblog" in obj)
    )


def _nested(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The statuses embedded in one status: its reblog and its quoted status."""
    out = []
    if isinstance(status.get("reblog"), dict):
        out.append(status["reblog"])
    quoted = _quoted_status(status.get("quote"))
    if quoted is not None:
        out.append(quoted)
    return out


def serving_instance(statuses: Iterable[Any], hint: Any = None) -> str | None:
    """The host of the server that returned ``statuses`` (see the module docstring): ``hint``
    (an ``instance`` key written by a collector) if given, else the host of a local account."""
    if isinstance(hint, str) and hint.strip():
        return _host(hint)
    todo = [s for s in statuses if isinstance(s, dict)]
    while todo:
        status = todo.pop()
        if isinstance(status.get("instance"), str) and status["instance"].strip():
            return _host(status["instance"])
        accounts = [status.get("account"), *as_list(status.get("mentions"))]
        for acc in accounts:
            if isinstance(acc, dict) and isinstance(acc.get("acct"), str) and "@" not in acc["acct"]:
                host = url_host(acc.get("url")) or url_host(acc.get("uri"))
                if host:
                    return host
        todo.extend(_nested(status))
    return None


def absolute_acct(acct: str, account_url: Any, instance: str | None = None) -> str:
    """``user@instance``: a local account's relative ``acct`` gets the host of its profile url
    (else the serving ``instance``)."""
    acct = acct.lstrip("@")
    if "@" in acct:
        return acct
    host = url_host(account_url) or instance
    return f"{acct}@{host}" if host else acct


class _Html(HTMLParser):
    """Mastodon HTML as plain text plus the links it holds. Link text is kept whole (the
    ``invisible`` spans hold the parts of a URL that the web UI hides, so keeping them restores
    the full URL); the ``quote-inline`` paragraph (a ``RE: <link>`` fallback for clients
    without quote support) is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0  # depth inside a dropped element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if self._skip:
            self._skip += tag not in _VOID
            return
        if tag == "p" and "quote-inline" in classes:
            self._skip = 1
        elif tag == "br" or tag == "li":
            self.parts.append("\n")
        elif tag == "a" and a.get("href") and not self._is_entity(a, classes):
            self.links.append(a["href"])

    @staticmethod
    def _is_entity(attrs: dict[str, str], classes: list[str]) -> bool:
        """A mention or hashtag link (their targets are profiles and tag pages, not URLs)."""
        return "mention" in classes or "hashtag" in classes or "tag" in attrs.get("rel", "").split()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/>: no end tag to count

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._skip:
            self._skip -= 1
            return
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        s = "".join(self.parts)
        s = re.sub(r"[ \t]+\n", "\n", s)
        return re.sub(r"\n{3,}", "\n\n", s).strip()


def html_text_and_links(content: Any) -> tuple[str, list[str]]:
    """Plain text and non-mention, non-hashtag link targets of Mastodon HTML ``content``."""
    if not isinstance(content, str) or not content:
        return "", []
    if "<" not in content:
        return unescape(content).strip(), []
    parser = _Html()
    parser.feed(content)
    parser.close()
    return parser.text(), parser.links


def _quoted_status(quote: Any) -> dict[str, Any] | None:
    """The quoted status of a ``quote``: Mastodon 4.4's ``{"state", "quoted_status"}`` or a
    legacy quote that is itself a status."""
    if not isinstance(quote, dict):
        return None
    if _is_status(quote):
        return quote
    quoted = quote.get("quoted_status")
    return quoted if _is_status(quoted) else None


def author_from_account(account: dict[str, Any], instance: str | None = None) -> Author:
    """A Mastodon account as an Author snapshot (``handle`` is ``user@instance``)."""
    native = account.get("uri") or account.get("url")
    if not isinstance(native, str) or not native:
        raise BadRecord("Mastodon account without uri or url")
    note, _ = html_text_and_links(account.get("note"))
    display = account.get("display_name") if isinstance(account.get("display_name"), str) else None
    fields = " ".join(
        f"{f.get('name', '')} {f.get('value', '')}"
        for f in as_list(account.get("fields"))
        if isinstance(f, dict)
    )
    opted_out = (
        account.get("indexable") is False
        or account.get("discoverable") is False
        or account.get("noindex") is True
        or bool(_NOBOT.search(f"{note} {display or ''} {fields}"))
    )
    acct = account.get("acct") or account.get("username")
    return Author(
        platform=PLATFORM,
        native_id=native,
        handle=absolute_acct(acct, account.get("url") or account.get("uri"), instance)
        if isinstance(acct, str)
        else None,
        display_name=display,
        bio=note or None,
        url=account.get("url") if isinstance(account.get("url"), str) else None,
        followers=to_int(account.get("followers_count")),
        following=to_int(account.get("following_count")),
        posts_count=to_int(account.get("statuses_count")),
        bot=to_bool(account.get("bot")),
        created_at=parse_time(account.get("created_at")),
        indexable=not opted_out,
    )


def _media(att: dict[str, Any]) -> Media:
    return Media(
        type=_MEDIA_TYPES.get(str(att.get("type")), "other"),
        url=att.get("url") or att.get("remote_url"),
        alt_text=att.get("description"),
        preview_url=att.get("preview_url"),
    )


class _Page:
    """What one payload tells about its statuses: serving instance and id → uri."""

    def __init__(self, statuses: list[Any], hint: Any = None) -> None:
        self.instance = serving_instance(statuses, hint)
        self.uris: dict[str, str] = {}
        todo = [s for s in statuses if isinstance(s, dict)]
        while todo:
            s = todo.pop()
            if s.get("id") is not None and isinstance(s.get("uri"), str):
                self.uris[str(s["id"])] = s["uri"]
            todo.extend(_nested(s))

    def uid_of_id(self, status_id: Any) -> str | None:
        """The uid of a status known only by its (serving instance) id."""
        if status_id is None or status_id == "":
            return None
        sid = str(status_id)
        if sid in self.uris:
            return make_uid(PLATFORM, self.uris[sid])
        return make_uid(PLATFORM, status_key(self.instance, sid)) if self.instance else None


def _post(status: dict[str, Any], ctx: Context, page: _Page, context: bool) -> Iterator[Post]:
    """One status as a Post, then its reblogged and quoted statuses as context posts."""
    uri = status.get("uri")
    if not isinstance(uri, str) or not uri:
        raise BadRecord("Mastodon status without uri")
    account = status.get("account")
    if not isinstance(account, dict):
        raise BadRecord("Mastodon status without account")
    reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    quote = status.get("quote") if isinstance(status.get("quote"), dict) else None
    quoted = _quoted_status(quote)
    source = reblog if reblog is not None else status
    if reblog is not None and not isinstance(reblog.get("uri"), str):
        raise BadRecord("Mastodon reblog without uri")

    # A reblog carries the reblogged text and hashtags (as X retweets do), nothing else of it.
    text, links = html_text_and_links(source.get("content"))
    spoiler = source.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    card = status.get("card")
    if reblog is not None:
        links = []
    elif isinstance(card, dict) and isinstance(card.get("url"), str) and card["url"] not in links:
        links.append(card["url"])

    quote_of_uid = None
    if quoted is not None:
        quote_of_uid = make_uid(PLATFORM, quoted["uri"])
    elif quote is not None:
        quote_of_uid = page.uid_of_id(quote.get("quoted_status_id"))

    mentions = [
        absolute_acct(m["acct"], m.get("url"), page.instance)
        for m in as_list(status.get("mentions"))
        if isinstance(m, dict) and isinstance(m.get("acct"), str)
    ]
    yield Post(
        platform=PLATFORM,
        native_id=uri,
        created_at=parse_time(status.get("created_at")),
        text=text,
        kind=post_kind(
            repost=reblog is not None, quote=quote is not None, reply=bool(status.get("in_reply_to_id"))
        ),
        author=author_from_account(account, page.instance),
        uri=uri,
        url=status.get("url") if isinstance(status.get("url"), str) else None,
        lang=status.get("language") or source.get("language"),
        reply_to_uid=page.uid_of_id(status.get("in_reply_to_id")),
        quote_of_uid=quote_of_uid,
        repost_of_uid=make_uid(PLATFORM, reblog["uri"]) if reblog is not None else None,
        edited_at=parse_time(status.get("edited_at")),
        sensitive=to_bool(source.get("sensitive")),
        hashtags=[
            Hashtag(t["name"], "tags")
            for t in as_list(source.get("tags"))
            if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"]
        ],
        mentions=mentions,
        urls=links,
        media=[_media(m) for m in as_list(status.get("media_attachments")) if isinstance(m, dict)],
        engagement=Engagement(
            likes=to_int(status.get("favourites_count")),
            reposts=to_int(status.get("reblogs_count")),
            replies=to_int(status.get("replies_count")),
            quotes=to_int(status.get("quotes_count")),
            observed_at=ctx.observed_at,
        ),
        context=context,
        # The store maps the per-instance key (used by delete events and in_reply_to_id) to the uri.
        aliases=[make_uid(PLATFORM, status_key(page.instance, str(status["id"])))]
        if page.instance and status.get("id") is not None
        else [],
    )
    for nested in _nested(status):
        yield from _post(nested, ctx, page, True)


def _normalize_statuses(statuses: list[Any], ctx: Context, hint: Any = None) -> Iterator[Item]:
    page = _Page(statuses, hint)
    for status in statuses:
        if not _is_status(status):
            raise BadRecord("Mastodon page entry is not a status")
        yield from _post(status, ctx, page, False)


def normalize_status(status: Any, ctx: Context, instance: str | None = None) -> Iterator[Item]:
    """One status (its reblog and quoted status as context), served by ``instance`` if known."""
    if not _is_status(status):
        raise BadRecord("not a Mastodon status")
    return _normalize_statuses([status], ctx, instance)


def _event(obj: dict[str, Any], ctx: Context) -> Iterator[Item]:
    event, payload = obj.get("event"), obj.get("payload")
    if event == "delete":
        if not isinstance(payload, (str, int)) or isinstance(payload, bool) or str(payload) == "":
            raise BadRecord("Mastodon delete event without a status id")
        instance = serving_instance((), obj.get("instance"))
        if instance is None:
            raise BadRecord("Mastodon delete event without 'instance': status ids are per instance")
        yield Tombstone(PLATFORM, status_key(instance, str(payload)), ctx.observed_at)
        return
    if event not in ("update", "status.update"):
        return  # notifications, conversations, announcements, filters: no posts
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            raise BadRecord(f"Mastodon {event} event payload is not JSON") from None
    if not _is_status(payload):
        raise BadRecord(f"Mastodon {event} event payload is not a status")
    yield from _normalize_statuses([payload], ctx, obj.get("instance"))


def sniff(obj: Any) -> bool:
    """A status, a list of statuses, a context response or a streaming event."""
    if isinstance(obj, list):
        return bool(obj) and _is_status(obj[0])
    if not isinstance(obj, dict):
        return False
    if _is_status(obj):
        return True
    if "event" in obj and "payload" in obj:
        return True
    return isinstance(obj.get("ancestors"), list) and isinstance(obj.get("descendants"), list)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts (reblogged and quoted statuses as context) and tombstones of delete events."""
    if isinstance(obj, list):
        yield from _normalize_statuses(obj, ctx)
    elif isinstance(obj, dict) and "event" in obj and "payload" in obj:
        yield from _event(obj, ctx)
    elif isinstance(obj, dict) and _is_status(obj):
        yield from _normalize_statuses([obj], ctx)
    elif isinstance(obj, dict) and isinstance(obj.get("ancestors"), list):
        statuses = [*obj["ancestors"], *as_list(obj.get("descendants"))]
        yield from _normalize_statuses(statuses, ctx, obj.get("instance"))
    else:
        raise BadRecord("not a Mastodon status, status list or streaming event")
