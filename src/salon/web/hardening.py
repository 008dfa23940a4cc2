"""The web app's defences, one place (docs/trust.md, "A hardened web app"):

- ``SecurityHeaders``: a Content-Security-Policy with a fresh nonce per response (templates put
  it on their ``<script>`` tags; there is no inline script), ``frame-ancestors`` allowing only
  the embed and wall pages and published stories to be framed (by the configurable ``frame_ancestors`` list, default
  any site) and every other page nowhere (``'none'`` + ``X-Frame-Options: DENY``), HSTS when
  served over HTTPS, nosniff, a same-origin referrer policy;
- ``BodyLimit``: request bodies bounded *before* authentication and before anything reads them:
  a declared ``Content-Length`` over the limit is refused at once (413), a chunked body is
  counted as it streams and cut off at the limit;
- ``LoginThrottle``: failed logins back off per client address and normalised user name
  (exponential, capped), never locking the account itself: the real user logs in from their
  own address whatever an attacker does elsewhere; answers 429 with ``Retry-After``;
- ``StreamSlots``: at most N concurrent live-stream (SSE) clients per address;
- ``neutralise``: CSV cells a spreadsheet would run as a formula get a leading apostrophe;
- cookie names: ``__Host-`` prefixed (Secure, Path=/, no Domain) when served over HTTPS.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = [
    "BodyLimit",
    "LoginThrottle",
    "SecurityHeaders",
    "StreamSlots",
    "cookie_name",
    "neutralise",
    "normalise_username",
]

FRAMEABLE = ("/embed/", "/wall/", "/s/")  # /s/: published stories (salon.web.stories), no script
DEFAULT_BODY_LIMIT = 4 * 1024 * 1024  # forms, JSON, campaign files, CSV lists
INGEST_BODY_LIMIT = 256 * 1024 * 1024  # record batches of `salon import` into a running server
INGEST_PREFIXES = ("/api/local/imports/",)


def _csp(nonce: str, frame_ancestors: str) -> str:
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self';"
        f" script-src 'self' 'nonce-{nonce}'; connect-src 'self';"
        f" frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def _is_https(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") == "https":
        return True
    for k, v in scope.get("headers", []):
        if k == b"x-forwarded-proto" and v.split(b",")[0].strip().lower() == b"https":
            return True
    return False


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response; the CSP nonce is
    put in ``scope["state"]["csp_nonce"]`` for the templates."""

    def __init__(self, app: Any, frame_ancestors: Iterable[str] | None = None) -> None:
        self.app = app
        fa = [x.strip() for x in (frame_ancestors or ["*"]) if x.strip()]
        self.frame_ancestors = " ".join(fa) or "'none'"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        frameable = path.startswith(FRAMEABLE)
        extra = [
            (
                b"content-security-policy",
                _csp(nonce, self.frame_ancestors if frameable else "'none'").encode(),
            ),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if not frameable:
            extra.append((b"x-frame-options", b"DENY"))
        if _is_https(scope):
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        if path.startswith("/static/"):
            extra.append((b"cache-control", b"public, max-age=3600"))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Pure ASGI middleware bounding request bodies before any route (or authentication) runs."""

    def __init__(
        self, app: Any, limit: int = DEFAULT_BODY_LIMIT, ingest_limit: int = INGEST_BODY_LIMIT
    ) -> None:
        self.app, self.limit, self.ingest_limit = app, limit, ingest_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.ingest_limit if scope.get("path", "").startswith(INGEST_PREFIXES) else self.limit
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    await _plain(send, 400, "bad Content-Length")
                    return
                if declared > limit:
                    await _plain(send, 413, f"request body too large ({limit // (1024 * 1024)} MB at most)")
                    return
        seen = 0
        started = False
        refused = False

        async def counting_receive() -> Any:
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer 413 now and tell the app the client went away: nothing more is read.
                    refused = True
                    if not started:
                        started = True
                        await _plain(send, 413, "request body too large")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if refused:
                return  # the 413 was sent; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not refused:
                raise


async def _plain(send: Any, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def normalise_username(name: str) -> str:
    """How user names compare: NFKC, trimmed, inner spaces collapsed, case-folded (" Bob" is bob)."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


class LoginThrottle:
    """Back-off of failed logins per (client address, normalised user name), and a cap of
    attempts per address. ``wait(ip, user)`` is the seconds to wait before the next attempt
    (0: go ahead)."""

    def __init__(
        self, free: int = 5, base: float = 1.0, cap: float = 300.0, per_ip: int = 60, window: float = 300.0
    ) -> None:
        self.free, self.base, self.cap, self.per_ip, self.window = free, base, cap, per_ip, window
        self._fails: dict[tuple[str, str], tuple[int, float]] = {}
        self._ip_hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait(self, ip: str, user: str) -> float:
        now = time.monotonic()
        key = (ip, normalise_username(user))
        with self._lock:
            hits = [t for t in self._ip_hits.get(ip, []) if now - t < self.window]
            hits.append(now)
            self._ip_hits[ip] = hits
            if len(hits) > self.per_ip:
                return max(1.0, self.window - (now - hits[0]))
            n, last = self._fails.get(key, (0, 0.0))
            if n < self.free:
                return 0.0
            delay = min(self.cap, self.base * 2 ** (n - self.free))
            return max(0.0, delay - (now - last))

    def failed(self, ip: str, user: str) -> None:
        key = (ip, normalise_username(user))
        with self._lock:
            n, _ = self._fails.get(key, (0, 0.0))
            self._fails[key] = (n + 1, time.monotonic())

    def succeeded(self, ip: str, user: str) -> None:
        with self._lock:
            self._fails.pop((ip, normalise_username(user)), None)


class StreamSlots:
    """At most ``per_ip`` concurrent live streams per client address."""

    def __init__(self, per_ip: int = 8) -> None:
        self.per_ip = per_ip
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, ip: str) -> bool:
        with self._lock:
            n = self._open.get(ip, 0)
            if n >= self.per_ip:
                return False
            self._open[ip] = n + 1
            return True

    def give(self, ip: str) -> None:
        with self._lock:
            n = self._open.get(ip, 0) - 1
            if n <= 0:
                self._open.pop(ip, None)
            else:
                self._open[ip] = n


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet would not run as a formula: text starting with ``=``, ``+``,
    ``-``, ``@`` (or a tab / carriage return) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header for a wait of ``seconds``."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def cookie_name(base: str, https: bool) -> str:
    """``__Host-<base>`` over HTTPS (the browser then insists on Secure, Path=/ and no Domain),
    ``<base>`` on plain HTTP (local use: a ``__Host-`` cookie cannot be set there)."""
    return f"__Host-{base}" if https else base
