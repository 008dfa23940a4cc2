"""Mastodon streaming over WebSocket: one connection per instance for every hashtag.

``wss://<instance>/api/v1/streaming`` (or ``streaming_url``), the token in the
``Authorization`` header (never in the URL), then one ``{"type": "subscribe", "stream":
"hashtag", "tag": ...}`` message per official hashtag. The server sends ``{"stream":
["hashtag", tag], "event": "update" | "status.update" | "delete", "payload": "<status JSON text,
or the deleted id>"}``; each is stored in the same envelope as the server-sent events path
(``salon.collect.mastodon_envelope``), ``payload`` exactly as received, so both paths store the
same bytes for the same event.

Liveness is the WebSocket's own: pings every 20 s, a connection that does not answer is closed
(Mastodon sends no message while a hashtag is quiet, so a quiet stream is not a stalled one).
A dropped connection is a gap of the instance, backfilled by every tag timeline of the instance
from its cursor. A server without WebSocket streaming (the upgrade refused with anything but
401/403) makes ``stream_instance`` return False: the caller falls back to server-sent events
per hashtag (``salon.collect.mastodon.stream_tag``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from salon.collect.config import MastodonConfig
from salon.collect.context import Ctx
from salon.collect.credentials import Secret
from salon.collect.http import Backoff, GiveUp, StayOnOrigin
from salon.collect.mastodon_envelope import envelope
from salon.collect.reconnect import Link, Refusal, keep_connected, read_events
from salon.collect.sink import Page
from salon.sources.files import RawRecord

__all__ = ["EVENTS", "stream_instance", "streaming_url", "subscribe_message"]

EVENTS = ("update", "status.update", "delete")


class NoWebSocket(Exception):
    """The instance does not stream over WebSocket (the upgrade was refused)."""


def streaming_url(base: str, override: str | None = None) -> str:
    """The WebSocket streaming URL of an instance: ``override`` (a base, or a full URL), else
    the instance's own host (Mastodon's proxy serves ``/api/v1/streaming`` there)."""
    parts = urlsplit(override or base)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/api/v1/streaming"):
        path += "/api/v1/streaming"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def subscribe_message(tag: str) -> str:
    return orjson.dumps({"type": "subscribe", "stream": "hashtag", "tag": tag}).decode()


async def _messages(ws: Any) -> AsyncIterator[str | bytes]:
    while True:
        yield await ws.recv()


async def stream_instance(
    ctx: Ctx, cfg: MastodonConfig, base: str, timelines: list[Any], token: Secret
) -> bool:
    """Stream every hashtag of ``timelines`` (``TagTimeline`` of one instance) over one
    WebSocket until ``ctx.stop``. False when the instance has no WebSocket streaming."""
    host = urlsplit(base).netloc.lower()
    source = f"mastodon-ws:{host}"
    st = ctx.board.get(source)
    url = streaming_url(base, cfg.streaming_url)
    headers = {"Authorization": f"Bearer {token.reveal()}"}

    async def backfill(gap: Any) -> None:
        """A gap of the instance's stream: every tag timeline catches up from its cursor."""
        await asyncio.gather(*(tl.backfill(gap) for tl in timelines))

    ctx.backfillers[source] = backfill

    async def attempt(link: Link) -> None:
        try:
            ws = await StayOnOrigin(
                url,
                additional_headers=headers,
                open_timeout=10,
                ping_interval=20,
                ping_timeout=20,
                max_size=2**24,
                user_agent_header="salon (campaign archiver)",
            )
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise GiveUp(f"HTTP {code} on {url}", code) from None
            raise NoWebSocket(f"HTTP {code} on {url}") from None
        try:
            for tl in timelines:
                await ws.send(subscribe_message(tl.tag))
            cid = await link.opened(url, f"{len(timelines)} hashtag(s)")
            stall = float("inf")  # the pings tell a dead connection; a quiet hashtag sends nothing
            async with aclosing(read_events(_messages(ws), ctx.stop, stall)) as msgs:
                async for msg in msgs:
                    rec = _record(host, msg)
                    if isinstance(rec, str):
                        st.problem(f"Mastodon streaming: {rec}")
                    elif rec is not None:
                        await ctx.sink.put(Page(source, url, [rec], connection_id=cid), st)
        finally:
            await ws.close()

    try:
        await keep_connected(
            ctx,
            source,
            attempt,
            status=st,
            backoff=Backoff(base=1.0, cap=300.0),
            target=host,
            errors=(ConnectionClosed, OSError, TimeoutError, InvalidHandshake, InvalidURI),
            refusal=Refusal(
                f"Mastodon streaming on {host} refused the token ({{status}}); REST polling goes on",
                "token refused",
            ),
        )
    except NoWebSocket as exc:
        st.set("stopped", f"no WebSocket streaming: {exc}")
        return False
    return True


def _record(host: str, msg: str | bytes) -> RawRecord | str | None:
    """The stored envelope of one streaming message; the text of an ``{"error": ...}`` message;
    None for what is not an event to keep. A message that is not JSON is quarantined."""
    try:
        obj = orjson.loads(msg)
    except orjson.JSONDecodeError as exc:
        data = msg.encode() if isinstance(msg, str) else msg
        return RawRecord(data, 0, error=f"malformed JSON from the Mastodon streaming WebSocket: {exc}")
    if not isinstance(obj, dict):
        return None
    if "error" in obj and "event" not in obj:
        return str(obj["error"])
    event, payload = obj.get("event"), obj.get("payload")
    if event not in EVENTS or not isinstance(payload, str):
        return None  # an error message, a notification, an announcement...
    return RawRecord(
        envelope(host, event, payload), 0, {"instance": host, "event": event, "payload": payload}, "mastodon"
    )
