"""Posting a chat's questions from the hosts' accounts (``salon chat run``), one client per
platform, each able to say whether a post is already on the host's timeline:

- **Mastodon** ``POST /api/v1/statuses`` with an ``Idempotency-Key`` header (the server answers
  a repeated key with the status it already made); the timeline check reads
  ``GET /api/v1/accounts/:id/statuses`` of ``verify_credentials``' account.
- **Bluesky** ``com.atproto.repo.createRecord`` after ``com.atproto.server.createSession``, with
  ``#tag`` facets and link facets whose offsets are UTF-8 *byte* offsets, and a record key (a
  TID) fixed by the intent, so the check is ``com.atproto.repo.getRecord`` of that key and a
  repeated create cannot make a second post.
- **X** ``POST /2/tweets`` with a user-context token (OAuth 2.0, ``tweet.write``); the check reads
  ``GET /2/users/:id/tweets`` of ``GET /2/users/me``.

Errors: ``Retryable`` (network, 408/425/429/5xx: the runner backs off and, since the request
may have gone through, checks the timeline before sending again) or ``GiveUp`` (other 4xx).
Credentials are ``Secret`` values from ``salon auth``; they are only ever put in headers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any, Protocol

import httpx

from salon.collect.credentials import Secret
from salon.collect.http import RETRY_STATUSES, GiveUp, rate_limit_wait

__all__ = [
    "BlueskyPoster",
    "MastodonPoster",
    "Posted",
    "Poster",
    "Retryable",
    "XPoster",
    "bluesky_facets",
    "tid_for",
]

TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class Retryable(Exception):
    """A request that may succeed later (and may have reached the platform)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Posted:
    uid: str  # the archive's uid of the post (platform:native id)
    url: str | None


class Poster(Protocol):
    platform: str

    def find_posted(self, text: str, key: str) -> Posted | None: ...

    def post(self, text: str, key: str) -> Posted: ...


def _check(r: httpx.Response, what: str) -> Any:
    if r.status_code in RETRY_STATUSES:
        raise Retryable(f"{what}: HTTP {r.status_code}", rate_limit_wait(r.status_code, r.headers))
    if r.status_code >= 400:
        raise GiveUp(f"{what}: HTTP {r.status_code} {r.text[:200]}", r.status_code)
    return r.json() if r.content else None


def _call(client: httpx.Client, method: str, url: str, what: str, **kw: Any) -> Any:
    try:
        r = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        raise Retryable(f"{what}: {type(exc).__name__}") from None
    return _check(r, what)


def _plain(html: str) -> str:
    """Mastodon's HTML content as plain text with collapsed spaces (for comparing)."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", html or "")
    return " ".join(unescape(re.sub(r"<[^>]+>", "", text)).split())


class MastodonPoster:
    platform = "mastodon"

    def __init__(self, base: str, token: Secret, client: httpx.Client | None = None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self._account: str | None = None

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.reveal()}"}

    def find_posted(self, text: str, key: str) -> Posted | None:
        if self._account is None:
            me = _call(
                self.client,
                "GET",
                f"{self.base}/api/v1/accounts/verify_credentials",
                "verify_credentials",
                headers=self._h(),
            )
            self._account = str(me["id"])
        statuses = _call(
            self.client,
            "GET",
            f"{self.base}/api/v1/accounts/{self._account}/statuses",
            "host timeline",
            params={"limit": "40", "exclude_reblogs": "true"},
            headers=self._h(),
        )
        want = " ".join(text.split())
        for s in statuses or []:
            if _plain(s.get("content", "")) == want:
                return Posted(f"mastodon:{s['uri']}", s.get("url"))
        return None

    def post(self, text: str, key: str) -> Posted:
        s = _call(
            self.client,
            "POST",
            f"{self.base}/api/v1/statuses",
            "post status",
            json={"status": text, "visibility": "public"},
            headers={**self._h(), "Idempotency-Key": key},
        )
        return Posted(f"mastodon:{s['uri']}", s.get("url"))


_TAG = re.compile(r"(?:^|(?<=\s))#([^\s#.,;:!?()\[\]{}'\"]+)", re.UNICODE)
_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")


def bluesky_facets(text: str) -> list[dict[str, Any]]:
    """``#tag`` and link facets of ``text``, offsets in UTF-8 bytes (``byteStart`` inclusive,
    ``byteEnd`` exclusive), in text order."""

    def b(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    out: list[tuple[int, dict[str, Any]]] = []
    for m in _LINK.finditer(text):
        out.append(
            (
                m.start(),
                {
                    "index": {"byteStart": b(m.start()), "byteEnd": b(m.end())},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": m.group(0)}],
                },
            )
        )
    links = [(m.start(), m.end()) for m in _LINK.finditer(text)]
    for m in _TAG.finditer(text):
        if any(lo <= m.start() < hi for lo, hi in links) or m.group(1).isdigit():
            continue
        out.append(
            (
                m.start(),
                {
                    "index": {"byteStart": b(m.start()), "byteEnd": b(m.end())},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}],
                },
            )
        )
    return [f for _, f in sorted(out, key=lambda x: x[0])]


_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def tid_for(key: str, when: datetime) -> str:
    """A record key (TID: 53 bits of microseconds, 10 bits of clock id, base32-sortable) fixed
    by the intent's key and time, so every attempt writes the same record."""
    us = int(when.timestamp() * 1_000_000)
    clock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") & 0x3FF
    n = (us << 10) | clock
    return "".join(_B32[(n >> (5 * i)) & 31] for i in range(12, -1, -1))


class BlueskyPoster:
    platform = "bluesky"

    def __init__(
        self, service: str, handle: Secret | str, password: Secret, client: httpx.Client | None = None
    ) -> None:
        self.service = service.rstrip("/")
        self.handle = handle.reveal() if isinstance(handle, Secret) else handle
        self.password = password
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self._jwt: str | None = None
        self.did: str | None = None
        self.when: dict[str, datetime] = {}  # key -> the intent's time (the TID and createdAt)

    def _login(self) -> dict[str, str]:
        if self._jwt is None:
            s = _call(
                self.client,
                "POST",
                f"{self.service}/xrpc/com.atproto.server.createSession",
                "createSession",
                json={"identifier": self.handle, "password": self.password.reveal()},
            )
            self._jwt, self.did = s["accessJwt"], s["did"]
        return {"Authorization": f"Bearer {self._jwt}"}

    def _rkey(self, key: str) -> str:
        return tid_for(key, self.when.get(key) or datetime(2000, 1, 1, tzinfo=UTC))

    def _posted(self, rkey: str) -> Posted:
        uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
        return Posted(f"bluesky:{uri}", f"https://bsky.app/profile/{self.did}/post/{rkey}")

    def find_posted(self, text: str, key: str) -> Posted | None:
        h = self._login()
        rkey = self._rkey(key)
        try:
            r = self.client.get(
                f"{self.service}/xrpc/com.atproto.repo.getRecord",
                params={"repo": self.did or "", "collection": "app.bsky.feed.post", "rkey": rkey},
                headers=h,
            )
        except httpx.HTTPError as exc:
            raise Retryable(f"getRecord: {type(exc).__name__}") from None
        if r.status_code == 400 and "RecordNotFound" in r.text:
            return None
        _check(r, "getRecord")
        return self._posted(rkey)

    def post(self, text: str, key: str) -> Posted:
        h = self._login()
        rkey = self._rkey(key)
        when = self.when.get(key) or datetime.now(UTC)
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{when.microsecond // 1000:03d}Z",
        }
        facets = bluesky_facets(text)
        if facets:
            record["facets"] = facets
        _call(
            self.client,
            "POST",
            f"{self.service}/xrpc/com.atproto.repo.createRecord",
            "createRecord",
            json={"repo": self.did, "collection": "app.bsky.feed.post", "rkey": rkey, "record": record},
            headers=h,
        )
        return self._posted(rkey)


class XPoster:
    platform = "x"

    def __init__(self, api: str, user_token: Secret, client: httpx.Client | None = None) -> None:
        self.api = api.rstrip("/")
        self.token = user_token
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self._me: str | None = None

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.reveal()}"}

    def find_posted(self, text: str, key: str) -> Posted | None:
        if self._me is None:
            me = _call(self.client, "GET", f"{self.api}/2/users/me", "users/me", headers=self._h())
            self._me = str(me["data"]["id"])
        page = _call(
            self.client,
            "GET",
            f"{self.api}/2/users/{self._me}/tweets",
            "host timeline",
            params={"max_results": "20"},
            headers=self._h(),
        )
        want = " ".join(text.split())
        for t in (page or {}).get("data") or []:
            if " ".join(unescape(t.get("text", "")).split()) == want:
                return Posted(f"x:{t['id']}", f"https://x.com/i/status/{t['id']}")
        return None

    def post(self, text: str, key: str) -> Posted:
        body = _call(
            self.client, "POST", f"{self.api}/2/tweets", "post tweet", json={"text": text}, headers=self._h()
        )
        tid = str(body["data"]["id"])
        return Posted(f"x:{tid}", f"https://x.com/i/status/{tid}")
