"""Retry, backoff and rate-limit helpers shared by every collector (HTTP and WebSocket).

- ``Backoff``: exponential delays with full jitter, reset after a success.
- ``rate_limit_wait``: how long a response asks us to wait, from the headers each platform
  sends (Mastodon ``X-RateLimit-*`` with an ISO reset time, X ``x-rate-limit-*`` and Bluesky
  ``ratelimit-*`` with epoch-second resets, ``Retry-After`` anywhere).
- ``request``: one HTTP request retried on network errors, 429 and 5xx, waiting out rate limits
  with a visible status ("waiting 4m12s for the rate limit").
- ``pause``: an interruptible sleep that shows what it waits for.
- ``same_origin``: a client request hook that refuses any request (a ``Link`` header's page, a
  redirect) off the configured origin, so another host's posts are never stored as the
  configured one's and an internal address is never reached by a redirect.
- Pages are bounded: ``request`` reads at most ``MAX_PAGE_BYTES`` (after decompression) and
  gives up on a larger response, which no limit-sized page of any API comes near.

Nothing here logs or raises a request's headers, so credentials sent in them never leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

from salon.collect.status import SourceStatus

__all__ = [
    "MAX_PAGE_BYTES",
    "Backoff",
    "GiveUp",
    "OffOrigin",
    "StayOnOrigin",
    "pause",
    "rate_limit_wait",
    "request",
    "respect_quota",
    "same_origin",
    "wake_or_stop",
]

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# A timeline page of 40 statuses is ~0.1-2 MB, an X search page of 100 tweets with expansions a
# few MB: 32 MB is far above any of them and bounds the memory a broken or hostile server takes.
MAX_PAGE_BYTES = 32 * 1024 * 1024


class GiveUp(Exception):
    """A request that cannot succeed by retrying (4xx other than 408/425/429, or stopped)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class OffOrigin(GiveUp):
    """A request (a ``Link`` header's next page, a redirect) to another origin than the
    configured one: refused, never followed."""


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the default port made explicit."""
    u = httpx.URL(str(url))
    port = u.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(u.scheme)
    return u.scheme, u.host.lower(), port


def same_origin(*bases: str) -> Callable[[httpx.Request], Any]:
    """An ``httpx`` request hook (``event_hooks={"request": [same_origin(base)]}``) raising
    ``OffOrigin`` for any request off the origins of ``bases``. httpx calls it for every request
    it sends, redirects included, so neither a ``Link`` header nor a redirect leaves them."""
    allowed = {origin(b) for b in bases}
    shown = " or ".join(f"{httpx.URL(b).scheme}://{httpx.URL(b).netloc.decode()}" for b in bases)

    async def hook(req: httpx.Request) -> None:
        if origin(req.url) not in allowed:
            raise OffOrigin(
                f"refused to go to {req.url.scheme}://{req.url.netloc.decode()} (a redirect or a next-page "
                f"link off the configured {shown}): Salon stays on the configured origin"
            )

    return hook


async def read_bounded(resp: httpx.Response, limit: int | None, url: str) -> None:
    """Read a streamed response's body, at most ``limit`` bytes (decoded); larger raises GiveUp
    without reading the rest."""
    if limit is None:
        await resp.aread()
        return
    declared = resp.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > limit
        and "content-encoding" not in resp.headers
    ):
        await resp.aclose()
        raise GiveUp(
            f"a page of {int(declared):,} bytes on {_path(url)} (over the {limit:,}-byte bound): refused"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > limit:
            await resp.aclose()
            raise GiveUp(f"a page over {limit:,} bytes on {_path(url)}: refused")
        chunks.append(chunk)
    resp._content = b"".join(chunks)  # what ``aread`` would have set
    await resp.aclose()


class StayOnOrigin(connect):
    """``websockets``' connect (``await StayOnOrigin(url, ...)``), refusing a redirect off the
    endpoint's origin (websockets follows any by default): another host's events must not be
    stored as this endpoint's (Jetstream, Mastodon's WebSocket streaming)."""

    def __init__(self, uri: str, **kw: Any) -> None:
        super().__init__(uri, **kw)
        self.first_uri = uri

    def process_redirect(self, exc: Exception) -> Exception | str:
        new = super().process_redirect(exc)
        if isinstance(new, str) and origin(new) != origin(self.first_uri):
            return InvalidHandshake(
                f"refused a redirect to {origin(new)[1]} (off the configured {origin(self.first_uri)[1]})"
            )
        return new


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits a random time in
    ``[0, min(cap, base * factor**n)]``, never less than ``floor``."""

    base: float = 1.0
    cap: float = 300.0
    factor: float = 2.0
    floor: float = 0.05
    rng: Callable[[], float] = random.random
    attempt: int = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * self.factor**self.attempt)
        self.attempt += 1
        return max(self.floor, ceiling * self.rng())

    def reset(self) -> None:
        self.attempt = 0


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    for n in names:
        v = headers.get(n)
        if v is not None and v.strip() != "":
            return v.strip()
    return None


def _reset_in(value: str, now: float) -> float | None:
    """Seconds until a reset given as epoch seconds, delta seconds or an ISO/HTTP date."""
    try:
        num = float(value)
    except ValueError:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                dt = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
        return dt.timestamp() - now
    # Epoch seconds (X, Bluesky) are large; small numbers are a delta (IETF draft RateLimit).
    return num - now if num > 1e9 else num


def rate_limit_wait(status_code: int, headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait before the next request according to the response, or None when it
    does not ask for a pause. A 429 without usable headers asks for None too (back off)."""
    now = time.time() if now is None else now
    retry_after = _header(headers, "retry-after")
    if status_code in (429, 503) and retry_after is not None:
        wait = _reset_in(retry_after, now)
        if wait is not None:
            return max(0.0, wait)
    remaining = _header(headers, "x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining")
    reset = _header(headers, "x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")
    exhausted = status_code == 429
    if remaining is not None:
        with contextlib.suppress(ValueError):
            exhausted = exhausted or float(remaining) <= 0
    if exhausted and reset is not None:
        wait = _reset_in(reset, now)
        if wait is not None:
            return max(0.0, wait) + 0.5  # a little past the reset, as clocks differ
    return None


async def pause(
    seconds: float, stop: asyncio.Event, status: SourceStatus | None = None, reason: str | None = None
) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first (returns True then). While sleeping,
    ``status`` shows "waiting <time> <reason>"."""
    if status is not None and reason:
        status.waiting(seconds, reason)
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
        return True
    except TimeoutError:
        return False
    finally:
        if status is not None and reason:
            status.done_waiting()


STABLE_CONNECTION = 30.0  # seconds: a connection that lived this long resets the backoff


async def reconnect_pause(backoff: Backoff, opened: float, stop: asyncio.Event, status: SourceStatus) -> bool:
    """After a stream connection opened at ``opened`` (monotonic) ended: wait the backoff before
    reconnecting (reset first if the connection had been stable). True when stopped instead."""
    if stop.is_set():
        return True
    if time.monotonic() - opened > STABLE_CONNECTION:
        backoff.reset()
    return await pause(backoff.next(), stop, status, "to reconnect")


async def wake_or_stop(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or until ``stop`` or ``wake`` is set."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    _done, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    stop: asyncio.Event,
    status: SourceStatus | None = None,
    backoff: Backoff | None = None,
    max_attempts: int | None = None,
    ok_statuses: tuple[int, ...] = (),
    max_bytes: int | None = MAX_PAGE_BYTES,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request until it succeeds (2xx, or a status in ``ok_statuses``).

    Network errors, 408/425/429/5xx are retried with ``backoff`` (rate limits wait the time
    the headers give instead); other 4xx raise ``GiveUp`` at once. A 2xx response that says
    the quota is used up makes the *next* call wait, so the caller never hits the 429. Raises
    ``GiveUp`` when ``stop`` is set or after ``max_attempts``."""
    backoff = backoff or Backoff()
    attempts = 0
    while True:
        if await respect_quota(stop, status) or stop.is_set():
            raise GiveUp("stopped")
        attempts += 1
        try:
            req = client.build_request(method, url, **kwargs)
            resp = await client.send(req, stream=True)
            await read_bounded(resp, max_bytes, url)
        except httpx.TransportError as exc:
            if status is not None:
                status.problem(f"{type(exc).__name__} on {_path(url)}")
            if max_attempts is not None and attempts >= max_attempts:
                raise GiveUp(f"{type(exc).__name__} on {_path(url)} after {attempts} attempts") from None
            if await pause(backoff.next(), stop, status, "to reconnect"):
                raise GiveUp("stopped") from None
            continue
        wait = rate_limit_wait(resp.status_code, resp.headers)
        if resp.is_success or resp.status_code in ok_statuses:
            backoff.reset()
            if wait is not None and wait > 0 and status is not None:
                status.rate_limited_until = time.time() + wait
            return resp
        if resp.status_code not in RETRY_STATUSES:
            raise GiveUp(f"HTTP {resp.status_code} on {_path(url)}: {resp.text[:200]}", resp.status_code)
        if max_attempts is not None and attempts >= max_attempts:
            raise GiveUp(
                f"HTTP {resp.status_code} on {_path(url)} after {attempts} attempts", resp.status_code
            )
        if status is not None:
            status.problem(f"HTTP {resp.status_code} on {_path(url)}")
        if wait is not None:
            if status is not None and resp.status_code == 429:
                # The limit is the server's, per address: every request sharing this status (the
                # other hashtags of the same instance) waits it out too, not only this one.
                status.rate_limited_until = max(status.rate_limited_until or 0.0, time.time() + wait)
            if await pause(wait, stop, status, "for the rate limit"):
                raise GiveUp("stopped")
        else:
            delay = backoff.next()
            if status is not None and resp.status_code == 429:
                status.rate_limited_until = max(status.rate_limited_until or 0.0, time.time() + delay)
            if await pause(delay, stop, status, f"to retry (HTTP {resp.status_code})"):
                raise GiveUp("stopped")


async def respect_quota(stop: asyncio.Event, status: SourceStatus | None) -> bool:
    """Wait out a quota a previous response said was used up (see ``request``); True if stopped."""
    if status is None or status.rate_limited_until is None:
        return False
    wait = status.rate_limited_until - time.time()
    if wait <= 0:
        status.rate_limited_until = None
        return False
    # Left set until it passes: every request sharing ``status`` waits, not only the first.
    return await pause(wait, stop, status, "for the rate limit")


def _path(url: str) -> str:
    """A URL without its query string (queries may carry cursors; never print more)."""
    return str(httpx.URL(url).copy_with(query=None))
