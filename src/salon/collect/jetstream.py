"""Bluesky live collection from Jetstream (``/subscribe`` WebSocket, v1 JSON events).

- Subscribes to ``app.bsky.feed.post`` and ``app.bsky.feed.repost`` and keeps, client side, the
  posts carrying an official hashtag of the campaign (``#tag`` facets and ``tags[]``, compared by
  the campaign's hashtag key), edits and deletions of kept posts, reposts of kept posts and
  their deletions. Everything kept is stored exactly as received (a compressed frame is stored
  decompressed: the exact JSON text Jetstream compressed).
- Resumes from the last ``time_us`` stored (persisted after each committed batch), replaying
  ``overlap_seconds`` before it: events are delivered at least once, stored once (raw dedup).
  A first connection starts at the campaign start (a future cursor means live tail).
- ``compress = true`` asks for zstd frames. Jetstream compresses with a custom dictionary
  shipped in its repository; Salon does not bundle it: give its path as ``zstd_dictionary``.
  Without it, frames are decoded as plain zstd (what a Jetstream run without a dictionary, or a
  test server, sends); a frame that cannot be decoded is quarantined, not lost.
- A connection silent for ``stall_seconds`` is treated as dead and reopened; every disconnect
  is recorded, and the gap is covered by the cursor replay and, with a Bluesky login, by a
  ``searchPosts`` backfill (``salon.collect.bluesky_search``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any
from urllib.parse import urlencode

import orjson
import zstandard
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from salon.collect import state
from salon.collect.config import BlueskyConfig
from salon.collect.context import Ctx
from salon.collect.http import Backoff, origin
from salon.collect.reconnect import Link, keep_connected, read_events
from salon.collect.sink import Page
from salon.collect.status import SourceStatus
from salon.sources.files import RawRecord
from salon.store.archive import Archive

__all__ = ["SOURCE", "JetstreamFilter", "collect_jetstream", "kept_uris", "subscribe_url"]

SOURCE = "bluesky:jetstream"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
_FACET_TAG = "app.bsky.richtext.facet#tag"


def subscribe_url(base: str, cursor_us: int | None, compress: bool = False) -> str:
    params: list[tuple[str, str]] = [("wantedCollections", POST), ("wantedCollections", REPOST)]
    if cursor_us is not None:
        params.append(("cursor", str(cursor_us)))
    if compress:
        params.append(("compress", "true"))
    return base + ("&" if "?" in base else "?") + urlencode(params)


def kept_uris(archive: Archive, ctx_keys: Iterable[str], key_column: str = "tag_key") -> set[str]:
    """at:// uris of the stored Bluesky posts carrying an official key, and of their reposts."""
    keys = list(ctx_keys)
    if not keys:
        return set()
    marks = ", ".join("?" for _ in keys)
    rows = archive.con.execute(
        f"WITH p AS (SELECT DISTINCT h.uid FROM post_hashtags h WHERE h.uid LIKE 'bluesky:%' AND h.{key_column}"
        f" IN ({marks})) SELECT native_id FROM posts WHERE uid IN (SELECT uid FROM p)"
        " OR repost_of_uid IN (SELECT uid FROM p)",
        keys,
    ).fetchall()
    return {r[0] for r in rows}


def _tags(record: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for facet in record.get("facets") or ():
        if not isinstance(facet, dict):
            continue
        for feat in facet.get("features") or ():
            if (
                isinstance(feat, dict)
                and feat.get("$type") == _FACET_TAG
                and isinstance(feat.get("tag"), str)
            ):
                out.append(feat["tag"])
    out.extend(t for t in record.get("tags") or () if isinstance(t, str))
    return out


class JetstreamFilter:
    """Decides which events belong to the campaign; remembers the uris it kept."""

    def __init__(self, ctx: Ctx, kept: set[str]) -> None:
        self.ctx = ctx
        self.kept = kept

    def keep(self, obj: Any) -> bool:
        if not isinstance(obj, dict) or obj.get("kind") != "commit":
            return False
        commit = obj.get("commit")
        if not isinstance(commit, dict):
            return False
        coll, op = commit.get("collection"), commit.get("operation")
        if coll not in (POST, REPOST):
            return False
        uri = f"at://{obj.get('did')}/{coll}/{commit.get('rkey')}"
        if op == "delete":
            return uri in self.kept
        record = commit.get("record")
        if not isinstance(record, dict):
            return False
        if coll == POST:
            if uri in self.kept or self.ctx.matches(_tags(record)):
                self.kept.add(uri)
                return True
            return False
        subject = record.get("subject")
        target = subject.get("uri") if isinstance(subject, dict) else None
        if target in self.kept:
            self.kept.add(uri)
            return True
        return False


def _decompressor(cfg: BlueskyConfig) -> zstandard.ZstdDecompressor:
    if cfg.zstd_dictionary:
        with open(cfg.zstd_dictionary, "rb") as fh:
            return zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(fh.read()))
    return zstandard.ZstdDecompressor()


class _Stream:
    """One connection's loop: frames in, pages out (one write in flight while reading on)."""

    def __init__(
        self, ctx: Ctx, cfg: BlueskyConfig, flt: JetstreamFilter, st: SourceStatus, url: str
    ) -> None:
        self.ctx, self.cfg, self.flt, self.st, self.url = ctx, cfg, flt, st, url
        self.dctx = _decompressor(cfg) if cfg.compress else None
        self.records: list[RawRecord] = []
        self.received = 0
        self.max_us: int | None = None
        self.saved_us: int | None = None
        self.pending: asyncio.Future[Any] | None = None
        self.connection_id: int | None = None
        self.page_started = 0.0

    def feed(self, msg: str | bytes) -> None:
        self.received += 1
        if isinstance(msg, bytes) and self.dctx is not None:
            try:
                payload = self.dctx.decompressobj().decompress(msg)
            except zstandard.ZstdError as exc:
                self._add(RawRecord(msg, 0, error=f"undecodable zstd frame: {exc}"))
                return
        else:
            payload = msg.encode() if isinstance(msg, str) else msg
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            self._add(RawRecord(payload, 0, error=f"malformed JSON: {exc}"))
            return
        t = obj.get("time_us") if isinstance(obj, dict) else None
        if isinstance(t, int) and not isinstance(t, bool) and (self.max_us is None or t > self.max_us):
            self.max_us = t
        if self.flt.keep(obj):
            self._add(RawRecord(payload, 0, obj, "jetstream"))

    def _add(self, rec: RawRecord) -> None:
        if not self.records:
            self.page_started = time.monotonic()
        self.records.append(rec)

    def due(self) -> bool:
        return len(self.records) >= self.cfg.batch_events or (
            bool(self.records) and time.monotonic() - self.page_started >= self.cfg.batch_seconds
        )

    async def flush(self, force_cursor: bool = False) -> None:
        """Hand the page to the sink (after the previous write finished)."""
        cursor_moved = self.max_us is not None and self.max_us != self.saved_us
        if not self.records and not (cursor_moved and force_cursor):
            return
        page = Page(
            SOURCE,
            self.url,
            self.records,
            fmt=None,
            cursor={"time_us": str(self.max_us)} if cursor_moved else {},
            connection_id=self.connection_id,
            received=self.received,
        )
        self.records, self.received = [], 0
        self.saved_us = self.max_us
        if self.pending is not None:
            await self.pending
        self.pending = asyncio.ensure_future(self.ctx.sink.put(page, self.st))

    async def drain(self) -> None:
        await self.flush(force_cursor=True)
        if self.pending is not None:
            await self.pending
            self.pending = None


async def _frames(ws: Any) -> AsyncIterator[str | bytes]:
    """The messages of a WebSocket, until it closes (``ConnectionClosed``)."""
    while True:
        yield await ws.recv()


async def _run_connection(ws: Any, s: _Stream, stop: asyncio.Event, stall: float) -> None:
    """Read frames into pages until ``stop``: a page is handed over when full or
    ``batch_seconds`` old, and the cursor saved at least every second while frames come."""
    last_cursor_save = time.monotonic()

    async def idle() -> None:
        nonlocal last_cursor_save
        now = time.monotonic()
        await s.flush(force_cursor=now - last_cursor_save >= 1.0)
        if now - last_cursor_save >= 1.0:
            last_cursor_save = now

    def tick() -> float:
        return s.cfg.batch_seconds if s.records else 1.0

    async with aclosing(read_events(_frames(ws), stop, stall, tick=tick, idle=idle)) as frames:
        async for msg in frames:
            s.feed(msg)
            if s.due():
                await s.flush()
                now = time.monotonic()
                if now - last_cursor_save >= 1.0:
                    last_cursor_save = now


async def collect_jetstream(ctx: Ctx, cfg: BlueskyConfig) -> None:
    """Collect from Jetstream until ``ctx.stop`` is set, reconnecting with backoff."""
    if not cfg.jetstream:
        return
    st = ctx.board.get(SOURCE)
    key_col = ctx.campaign.key_column
    keys = sorted(ctx.keys)
    kept = await ctx.sink.call(lambda arc: kept_uris(arc, keys, key_col))
    flt = JetstreamFilter(ctx, kept)
    overlap_us = int(cfg.overlap_seconds * 1_000_000)
    endpoint = cfg.jetstream

    async def attempt(link: Link) -> None:
        cur = await ctx.sink.cursors(SOURCE)
        if "time_us" in cur:
            cursor_us = int(cur["time_us"]) - overlap_us
        else:
            cursor_us = int(ctx.campaign.start_utc.timestamp() * 1_000_000)
        stream = _Stream(ctx, cfg, flt, st, subscribe_url(endpoint, None, cfg.compress))
        async with _StayOnOrigin(
            subscribe_url(endpoint, cursor_us, cfg.compress),
            max_size=2**24,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            compression=None,
            max_queue=256,
        ) as ws:
            stream.connection_id = await link.opened(
                stream.url,
                "replaying" if "time_us" in cur else "",
                on_gap=lambda gap: _replayed(ctx, gap, cursor_us, cfg.replay_window_hours),
            )
            try:
                await _run_connection(ws, stream, ctx.stop, cfg.stall_seconds)
            finally:
                await stream.drain()

    await keep_connected(
        ctx,
        SOURCE,
        attempt,
        status=st,
        backoff=Backoff(base=1.0, cap=120.0),
        target=endpoint,
        errors=(ConnectionClosed, OSError, TimeoutError, InvalidHandshake, InvalidURI),
        backfill_via="bluesky",  # searchPosts (salon.collect.bluesky_search), when logged in
    )


class _StayOnOrigin(connect):
    """``websockets``' connect, refusing a redirect off the configured endpoint's origin (it
    follows any by default): another host's events must not be stored as this endpoint's."""

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


async def _replayed(ctx: Ctx, gap: state.Gap, cursor_us: int, window_hours: float) -> None:
    """Record that the cursor replay covers ``gap`` (``partial`` when the replay starts after the
    gap start), and backfill it by search when possible. A partial gap left without a search
    (no Bluesky login) stays pending: the next run with a login backfills it
    (``Ctx.backfill_pending``)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    # A Jetstream server keeps its events for a limited time (hours to days) and silently
    # replays from the oldest it still has: the replay covers only what is inside that window.
    start = max(datetime.fromtimestamp(cursor_us / 1_000_000, UTC), now - timedelta(hours=window_hours))
    covered = start <= gap.start
    note = f"replayed from {start.isoformat()}" + (
        "" if covered else f" (after the gap start; the server keeps about {window_hours:g} h of events)"
    )
    await ctx.gap_call(
        lambda arc: state.finish_backfill(
            arc,
            gap.gap_id,
            "backfilled" if covered else "partial",
            now,
            note=note,
            backfill_source="jetstream cursor replay",
        )
    )
    ctx.backfill(gap, "bluesky")
