"""The reconnect loop of every live stream (Mastodon server-sent events, the X filtered stream,
Jetstream's WebSocket) and ``read_events``, its stall-aware reader.

``keep_connected(ctx, source, attempt, ...)`` runs one stream until ``ctx.stop`` is set:

- First, the gaps of the source an earlier run left pending (their backfill failed, was
  interrupted or never started, or a cursor replay covered them only in part) go to the
  backfiller again (``Ctx.backfill_pending``; nothing happens without a backfiller).
- It shows "connecting" and calls ``attempt(link)``. The collector opens its stream and, once
  the server has accepted it, calls ``link.opened(url)``: that records the connection (a row of
  ``collect_connections``, heartbeated by each page stored with its id), counts it, shows
  "live" and hands the gap since the previous connection (``salon.collect.state``) to the
  backfiller registered for ``backfill_via`` (``Ctx.backfill``) or to the ``on_gap`` given. The
  attempt then reads its events with ``read_events`` and returns once ``ctx.stop`` is set.
- When the attempt fails (``GiveUp``, ``Stalled``, ``StreamEnded`` or one of ``errors``), the
  disconnect is counted, its reason (credentials redacted) shown and recorded as the
  connection's close reason; the loop waits the backoff (``reconnect_pause``, reset after a
  stable connection) and connects again. A ``GiveUp`` raised because the run is stopping is the
  stop, not a disconnect.
- A 401/403 ``GiveUp`` ends the stream for good when a ``refusal`` is given: its message is said
  once and the state stays "failed".

Retrying one request, backoff and rate limits are ``salon.collect.http``'s, not this loop's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from salon.collect import state
from salon.collect.context import Ctx
from salon.collect.http import Backoff, GiveUp, reconnect_pause
from salon.collect.status import SourceStatus

__all__ = ["GapHandler", "Link", "Refusal", "Stalled", "StreamEnded", "keep_connected", "read_events"]

T = TypeVar("T")
GapHandler = Callable[[state.Gap], Awaitable[None]]


class Stalled(Exception):
    """The server sent nothing, not even a heartbeat, for ``stall`` seconds."""


class StreamEnded(Exception):
    """The server ended the stream."""


class _Failed:
    """An exception ``events`` raised, handed from the pump to the reader in order."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()
# Items read ahead of the collector: enough to ride out a flush, bounded for memory.
_READ_AHEAD = 1024


async def read_events(
    events: AsyncIterator[T],
    stop: asyncio.Event,
    stall: float,
    *,
    tick: float | Callable[[], float] = 1.0,
    idle: Callable[[], Awaitable[None]] | None = None,
) -> AsyncGenerator[T, None]:
    """The items of ``events`` (heartbeats included: they prove the connection alive) until
    ``stop`` is set. Each ``tick`` seconds (a number, or a function giving the next one) without
    an item, ``idle`` is awaited (a collector flushes its batch there) and ``stop`` checked.
    Raises ``Stalled`` after ``stall`` seconds without an item, ``StreamEnded`` when ``events``
    ends, and what ``events`` raises.

    One task reads ``events`` into a bounded queue (``_READ_AHEAD`` items): a tick never
    cancels a read (cancelling ``__anext__`` of an async generator, an SSE parser or httpx's
    ``aiter_lines``, would close it, ending a stream that was only quiet), and an item already
    read is taken without a timer (a task and a timer per item cost a quarter of the live
    bench's rate). Use it as ``async with contextlib.aclosing(read_events(...)) as items``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=_READ_AHEAD)

    async def pump() -> None:
        try:
            async for item in events:
                await queue.put(item)
            await queue.put(_END)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the reader, after the items before it
            await queue.put(_Failed(exc))

    reader = asyncio.ensure_future(pump())
    last = loop.time()
    try:
        while not stop.is_set():
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                wait = tick() if callable(tick) else tick
                try:
                    item = await asyncio.wait_for(
                        queue.get(), timeout=max(0.0, min(wait, stall - (loop.time() - last)))
                    )
                except TimeoutError:
                    if idle is not None:
                        await idle()
                    if loop.time() - last >= stall:
                        raise Stalled(f"no event for {stall:g}s") from None
                    continue
            if item is _END:
                raise StreamEnded("the server ended the stream")
            if isinstance(item, _Failed):
                raise item.exc
            last = loop.time()
            yield item  # type: ignore[misc]
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


@dataclass(frozen=True)
class Refusal:
    """What a stream does when the server refuses it (a 401/403 ``GiveUp``): say ``message``
    (``{status}`` stands for the status code) and stop for good, "failed" with ``detail``."""

    message: str
    detail: str


class Link:
    """One connection attempt, as ``keep_connected`` sees it."""

    def __init__(self, ctx: Ctx, source: str, status: SourceStatus, on_gap: GapHandler) -> None:
        self.ctx, self.source, self.status, self._on_gap = ctx, source, status, on_gap
        self.connection_id: int | None = None

    async def opened(self, url: str, detail: str = "", on_gap: GapHandler | None = None) -> int:
        """The server accepted the stream: record the connection to ``url`` (no credentials in
        it), count it, show "live ``detail``" and hand the gap since the previous connection,
        if any, to ``on_gap`` (default: the loop's). Returns the connection id, for the pages."""
        cid, gap = await self.ctx.open_connection(self.source, url)
        self.connection_id = cid
        self.status.connections += 1
        self.status.set("live", detail)
        if gap is not None:
            await (on_gap or self._on_gap)(gap)
        return cid


async def keep_connected(
    ctx: Ctx,
    source: str,
    attempt: Callable[[Link], Awaitable[None]],
    *,
    status: SourceStatus,
    backoff: Backoff,
    target: str = "",
    errors: tuple[type[BaseException], ...] = (OSError,),
    refusal: Refusal | None = None,
    backfill_via: str | None = None,
) -> None:
    """Run ``attempt`` again and again until ``ctx.stop`` is set (see the module docstring).

    ``source`` is the connection and gap source key (``collect_connections.source``);
    ``backfill_via`` the key of the backfiller its gaps go to (default: ``source``); ``status``
    the board entry; ``target`` what "connecting" shows; ``errors`` the transport's exceptions
    that mean a lost connection."""
    via = backfill_via or source

    async def backfill(gap: state.Gap) -> None:
        ctx.backfill(gap, via)

    await ctx.backfill_pending(source, via)
    lost: tuple[type[BaseException], ...] = (Stalled, StreamEnded, *errors)
    while not ctx.stop.is_set():
        link = Link(ctx, source, status, backfill)
        started = time.monotonic()
        reason = "stopped"
        status.set("connecting", target)
        try:
            await attempt(link)
        except GiveUp as exc:
            if not ctx.stop.is_set():
                reason = _disconnected(ctx, status, str(exc))
                if refusal is not None and exc.status_code in (401, 403):
                    ctx.board.say(refusal.message.replace("{status}", str(exc.status_code)))
                    status.set("failed", refusal.detail)
                    break
        except lost as exc:
            reason = _disconnected(ctx, status, f"{type(exc).__name__}: {exc}")
        finally:
            if link.connection_id is not None:
                await ctx.close_connection(link.connection_id, reason)
        if await reconnect_pause(backoff, started, ctx.stop, status):
            break
    if status.state != "failed":
        status.set("stopped")


def _disconnected(ctx: Ctx, status: SourceStatus, message: str) -> str:
    """Count a disconnect and show why; the reason, credentials redacted."""
    reason = ctx.creds.redact(message)
    status.disconnects += 1
    status.problem(reason)
    return reason
