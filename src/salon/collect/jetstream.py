"""Bluesky live collection from Jetstream, on either of its wires (``salon.collect.jetstream_wire``).

- ``endpoint`` picks the wire: ``subscribeEvents`` (the XRPC ``network.bsky.jetstream.
  subscribeEvents``, what the public hosts serve since Jetstream's 2026 rewrite; the default) or
  ``subscribe`` (the legacy ``/subscribe``). A 404 on the upgrade switches to the other one.
- Subscribes to ``app.bsky.feed.post`` and ``app.bsky.feed.repost`` commits (and ``identity``
  events) and keeps, client side, the posts carrying an official hashtag of the campaign (``#tag``
  facets and ``tags[]``, compared by the campaign's hashtag key), edits and deletions of kept
  posts, reposts of kept posts and their deletions, and the identity events (handle changes) of
  the kept posts' authors. A create of a record already kept is a resync (or a replay) and is
  dropped: creates are deduplicated by (did, collection, rkey). Everything kept is stored
  exactly as received (a compressed frame decompressed: the exact text the server compressed),
  as ``jetstream`` (v1 events) or ``jetstream-events`` (``xrpc.v1.json`` frames).
- Resumes after the last event stored (cursors persisted after each committed batch): on
  ``subscribeEvents`` from its ``seq`` (inclusive, on the same host), else from ``time_us``
  minus ``overlap_seconds``; a first connection starts at the campaign start (a time cursor).
  Events are delivered at least once, stored once. ``CursorTooOld`` (a seq below the server's
  retention floor) reconnects from the floor it names; ``OutdatedCursor`` (a time cursor clamped
  up to the floor) and ``CursorTooOld`` mark the gap being replayed ``partial``; a
  ``ConsumerTooSlow`` error frame reconnects.
- ``compress = true`` negotiates zstd at run time, never with a dictionary Salon ships: on
  ``subscribeEvents`` it fetches the server's current dictionary (``getZstdDictionary``), caches
  it by id and connects with ``zstdDictionary=<id>``, fetching again on
  ``UnknownZstdDictionary`` (a rotation) and falling back to uncompressed frames when the server
  has none; on ``/subscribe`` it asks ``compress=true`` only with the legacy dictionary, fetched
  from the server by its id or read from ``zstd_dictionary``, else stays uncompressed. A frame
  that cannot be decoded is quarantined, not lost.
- A connection silent for ``stall_seconds`` is treated as dead and reopened; every disconnect
  is recorded, and the gap is covered by the cursor replay and, with a Bluesky login, by a
  ``searchPosts`` backfill (``salon.collect.bluesky_search``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import zstandard
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from salon.collect import jetstream_wire as wire
from salon.collect import state
from salon.collect.config import BlueskyConfig
from salon.collect.context import Ctx
from salon.collect.http import Backoff, StayOnOrigin
from salon.collect.reconnect import Link, keep_connected, read_events
from salon.collect.sink import Page
from salon.collect.status import SourceStatus
from salon.sources.files import RawRecord
from salon.store.archive import Archive

__all__ = ["SOURCE", "JetstreamFilter", "collect_jetstream", "kept_uris"]

SOURCE = "bluesky:jetstream"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
COLLECTIONS = [POST, REPOST]
KINDS = ["commit", "identity"]  # identity: handle changes of the kept posts' authors
_FACET_TAG = "app.bsky.richtext.facet#tag"
FORMATS = {wire.EVENTS: "jetstream-events", wire.LEGACY: "jetstream"}


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


def _did_of(uri: str) -> str | None:
    parts = uri.split("/")
    return parts[2] if uri.startswith("at://") and len(parts) > 2 else None


class JetstreamFilter:
    """Decides which events belong to the campaign; remembers the uris it kept (and so the
    creates already seen: a resync's creates come again) and their authors."""

    def __init__(self, ctx: Ctx, kept: set[str]) -> None:
        self.ctx = ctx
        self.kept = kept
        self.authors = {d for d in map(_did_of, kept) if d}
        self.duplicates = 0  # creates dropped as already kept (resync, replay)

    def _keep(self, uri: str, did: str | None) -> bool:
        self.kept.add(uri)
        if did:
            self.authors.add(did)
        return True

    def keep(self, ev: wire.Event) -> bool:
        if ev.kind == "identity":
            return ev.did is not None and ev.did in self.authors
        if ev.kind != "commit" or ev.collection not in (POST, REPOST):
            return False
        uri = f"at://{ev.did}/{ev.collection}/{ev.rkey}"
        if ev.operation == "delete":
            return uri in self.kept
        record = ev.record
        if not isinstance(record, dict):
            return False
        if ev.operation == "create" and uri in self.kept:
            self.duplicates += 1
            return False
        if ev.collection == POST:
            if uri in self.kept or self.ctx.matches(_tags(record)):
                return self._keep(uri, ev.did)
            return False
        subject = record.get("subject")
        target = subject.get("uri") if isinstance(subject, dict) else None
        if target in self.kept:
            return self._keep(uri, ev.did)
        return False


class _Stream:
    """One connection's loop: frames in, pages out (one write in flight while reading on)."""

    def __init__(
        self,
        ctx: Ctx,
        cfg: BlueskyConfig,
        flt: JetstreamFilter,
        st: SourceStatus,
        url: str,
        endpoint: str,
        dicts: wire.Dictionaries,
        seq_host: str,
    ) -> None:
        self.ctx, self.cfg, self.flt, self.st, self.url = ctx, cfg, flt, st, url
        self.endpoint, self.dicts, self.seq_host = endpoint, dicts, seq_host
        self.fmt = FORMATS[endpoint]
        self.records: list[RawRecord] = []
        self.received = 0
        self.max_us: int | None = None
        self.max_seq: int | None = None
        self.saved: tuple[int | None, int | None] = (None, None)
        self.pending: asyncio.Future[Any] | None = None
        self.connection_id: int | None = None
        self.page_started = 0.0
        self.infos: list[wire.Event] = []  # #info frames (OutdatedCursor) not yet handled
        self.gaps: list[state.Gap] = []  # the gap this connection's replay covers, if any

    async def decode(self, msg: str | bytes) -> bytes | None:
        """The frame's text (a binary frame decompressed); None when it was quarantined."""
        if isinstance(msg, str):
            return msg.encode()
        try:
            did, dctx = self.dicts.decompressor(msg)
            if dctx is None:  # a dictionary we do not hold yet (rotated): ask the server for it
                await self.dicts.fetch(did)
                did, dctx = self.dicts.decompressor(msg)
            if dctx is None:
                raise zstandard.ZstdError(f"no zstd dictionary {did} (the server did not hand it out)")
            return dctx.decompressobj().decompress(msg)
        except zstandard.ZstdError as exc:
            self.received += 1
            self._add(RawRecord(msg, 0, error=f"undecodable zstd frame: {exc}"))
            return None

    def feed(self, payload: bytes) -> None:
        self.received += 1
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            self._add(RawRecord(payload, 0, error=f"malformed JSON: {exc}"))
            return
        ev = wire.parse_event(obj)
        if ev.kind == "error":
            raise wire.StreamError(ev.name, ev.message)
        if ev.kind == "info":
            self.infos.append(ev)
            self.st.problem(f"Jetstream: {ev.name} {ev.message}".strip())
            return
        if ev.time_us is not None and (self.max_us is None or ev.time_us > self.max_us):
            self.max_us = ev.time_us
        if ev.seq is not None and (self.max_seq is None or ev.seq > self.max_seq):
            self.max_seq = ev.seq
        if self.flt.keep(ev):
            self._add(RawRecord(payload, 0, obj, self.fmt))

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
        now = (self.max_us, self.max_seq)
        cursor_moved = self.max_us is not None and now != self.saved
        if not self.records and not (cursor_moved and force_cursor):
            return
        cursor: dict[str, str | None] = {}
        if cursor_moved:
            cursor["time_us"] = str(self.max_us)
            if self.max_seq is not None:
                cursor.update(seq=str(self.max_seq), seq_host=self.seq_host)
        page = Page(
            SOURCE,
            self.url,
            self.records,
            fmt=None,
            cursor=cursor,
            connection_id=self.connection_id,
            received=self.received,
        )
        self.records, self.received = [], 0
        self.saved = now
        if self.pending is not None:
            await self.pending
        self.pending = asyncio.ensure_future(self.ctx.sink.put(page, self.st))

    async def handle_infos(self) -> None:
        """An ``OutdatedCursor``: the replay starts at the server's retention floor, after the
        cursor asked for, so the gap it was to cover is covered only in part."""
        infos, self.infos = self.infos, []
        for info in infos:
            if info.name == "OutdatedCursor" and self.gaps:
                note = f"the server's retention floor is after the cursor (OutdatedCursor: {info.message})"
                await _replayed(self.ctx, self.gaps[-1], None, note, search=False)

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
            payload = await s.decode(msg)
            if payload is not None:
                s.feed(payload)
                if s.infos:
                    await s.handle_infos()
            if s.due():
                await s.flush()
                now = time.monotonic()
                if now - last_cursor_save >= 1.0:
                    last_cursor_save = now


class _Plan:
    """Which endpoint, cursor and compression the next connection uses; what the server said
    when it refused one (404, CursorTooOld, UnknownZstdDictionary) changes it."""

    def __init__(self, ctx: Ctx, cfg: BlueskyConfig, st: SourceStatus) -> None:
        assert cfg.jetstream
        self.ctx, self.cfg, self.st = ctx, cfg, st
        self.base, self.endpoint = wire.endpoint_of(cfg.jetstream, cfg.endpoint)
        self.dicts = wire.Dictionaries(self.base, ctx.stop, st)
        self.dictionary: int | None = None  # the subscribeEvents dictionary connected with
        self.legacy_dictionary: bool | None = None  # None: not tried yet
        self.floor: int | None = None  # the seq a CursorTooOld named
        self.note = ""  # why the replay does not start where it should (for the gap)

    def cursor(self, cur: dict[str, str]) -> tuple[int, int]:
        """(cursor to ask for, the time it stands for, in µs) from the saved cursors."""
        overlap = int(self.cfg.overlap_seconds * 1_000_000)
        saved_us = int(cur["time_us"]) if "time_us" in cur else None
        if self.floor is not None and self.endpoint == wire.EVENTS:
            floor, self.floor = self.floor, None
            return floor, (saved_us or 0) + 1
        if self.endpoint == wire.EVENTS and "seq" in cur and cur.get("seq_host") == self.base:
            # seq cursors are inclusive and exact on the host that issued them: no overlap needed
            return int(cur["seq"]), saved_us or 0
        if saved_us is not None:
            return saved_us - overlap, saved_us - overlap
        start = int(self.ctx.campaign.start_utc.timestamp() * 1_000_000)
        return start, start

    async def compression(self) -> tuple[int | None, bool]:
        """(``zstdDictionary`` id, legacy ``compress``) for the next connection."""
        if not self.cfg.compress:
            return None, False
        if self.endpoint == wire.EVENTS:
            if self.dictionary is None:
                self.dictionary = await self.dicts.fetch()
                if self.dictionary is None:
                    self.st.problem("no zstd dictionary from the server: frames uncompressed")
            return self.dictionary, False
        if self.legacy_dictionary is None:
            got = await self.dicts.fetch(wire.LEGACY_DICTIONARY_ID)
            if got is None and self.cfg.zstd_dictionary:
                try:
                    with open(self.cfg.zstd_dictionary, "rb") as fh:
                        got = self.dicts.add(fh.read())
                except (OSError, ValueError) as exc:  # unreadable, or not a zstd dictionary
                    self.st.problem(f"zstd_dictionary {self.cfg.zstd_dictionary}: {exc}")
            self.legacy_dictionary = got is not None
            if got is None:
                self.st.problem("no legacy zstd dictionary (server or zstd_dictionary): frames uncompressed")
        return None, self.legacy_dictionary

    def refused(self, exc: InvalidStatus) -> bool:
        """Adapt to a refused upgrade; True when connecting again at once may succeed."""
        r = wire.refusal(exc)
        if r is None:
            return False
        if r.status == 404:
            self.endpoint = wire.other(self.endpoint)
            self.st.problem(f"Jetstream: no such endpoint (404), trying {self.endpoint}")
            return True
        if r.error == "UnknownZstdDictionary":
            self.dicts.cache.pop(self.dictionary or 0, None)
            self.dictionary = None  # fetch the current one again
            return True
        if r.error == "CursorTooOld":
            self.floor = r.number()
            self.note = f"the server's retention floor is after the cursor (CursorTooOld: {r.message})"
            return self.floor is not None
        return False


async def collect_jetstream(ctx: Ctx, cfg: BlueskyConfig) -> None:
    """Collect from Jetstream until ``ctx.stop`` is set, reconnecting with backoff."""
    if not cfg.jetstream:
        return
    st = ctx.board.get(SOURCE)
    key_col = ctx.campaign.key_column
    keys = sorted(ctx.keys)
    kept = await ctx.sink.call(lambda arc: kept_uris(arc, keys, key_col))
    flt = JetstreamFilter(ctx, kept)
    plan = _Plan(ctx, cfg, st)

    async def attempt(link: Link) -> None:
        cur = await ctx.sink.cursors(SOURCE)
        for _try in range(4):  # a 404, a rotated dictionary or a too old cursor: at once again
            cursor, cursor_us = plan.cursor(cur)
            dictionary, legacy_compress = await plan.compression()
            endpoint = plan.endpoint
            url = wire.stream_url(
                plan.base,
                endpoint,
                COLLECTIONS,
                cursor,
                kinds=KINDS,
                dictionary=dictionary,
                compress=legacy_compress,
            )
            try:
                ws = await StayOnOrigin(
                    url,
                    subprotocols=[wire.SUBPROTOCOL] if endpoint == wire.EVENTS else None,  # type: ignore[list-item]
                    max_size=2**24,
                    open_timeout=10,
                    ping_interval=20,
                    ping_timeout=20,
                    compression=None,
                    max_queue=256,
                )
            except InvalidStatus as exc:
                if plan.refused(exc):
                    continue
                raise
            break
        else:
            raise ConnectionError("Jetstream refused every endpoint and cursor tried")
        stream = _Stream(
            ctx,
            cfg,
            flt,
            st,
            wire.stream_url(plan.base, endpoint, COLLECTIONS, None, kinds=KINDS),
            endpoint,
            plan.dicts,
            plan.base,
        )
        try:
            replaying = "time_us" in cur or "seq" in cur

            async def on_gap(gap: state.Gap) -> None:
                stream.gaps.append(gap)
                await _replayed(ctx, gap, cursor_us, plan.note, window_hours=cfg.replay_window_hours)

            stream.connection_id = await link.opened(
                stream.url, "replaying" if replaying else "", on_gap=on_gap
            )
            plan.note = ""
            try:
                await _run_connection(ws, stream, ctx.stop, cfg.stall_seconds)
            finally:
                await stream.drain()
        finally:
            await ws.close()

    await keep_connected(
        ctx,
        SOURCE,
        attempt,
        status=st,
        backoff=Backoff(base=1.0, cap=120.0),
        target=cfg.jetstream,
        errors=(ConnectionClosed, OSError, TimeoutError, InvalidHandshake, InvalidURI, wire.StreamError),
        backfill_via="bluesky",  # searchPosts (salon.collect.bluesky_search), when logged in
    )


async def _replayed(
    ctx: Ctx,
    gap: state.Gap,
    cursor_us: int | None,
    note: str = "",
    search: bool = True,
    *,
    window_hours: float | None = None,
) -> None:
    """Record that the cursor replay covers ``gap`` (``partial`` when the replay starts after the
    gap start, or when the server says it cannot go back that far: ``note``), and backfill it
    by search when possible. A partial gap left without a search (no Bluesky login) stays
    pending: the next run with a login backfills it (``Ctx.backfill_pending``).

    ``window_hours``: how far back the server replays (its retention). The legacy endpoint
    replays silently from the oldest event it still has, so a cursor before that window covers
    only what is inside it, never a gap that began earlier."""
    now = datetime.now(UTC)
    if cursor_us is None:
        covered, said = False, note
    else:
        start = datetime.fromtimestamp(cursor_us / 1_000_000, UTC)
        if window_hours is not None and start < now - timedelta(hours=window_hours):
            start = now - timedelta(hours=window_hours)
            if start > gap.start:
                note = note or f"the server keeps about {window_hours:g} h of events"
        covered = start <= gap.start and not note
        said = f"replayed from cursor {start.isoformat()}" + (
            "" if start <= gap.start else " (after the gap start)"
        )
        said += f"; {note}" if note else ""
    await ctx.gap_call(
        lambda arc: state.finish_backfill(
            arc,
            gap.gap_id,
            "backfilled" if covered else "partial",
            now,
            note=said,
            backfill_source="jetstream cursor replay",
        )
    )
    if search:
        ctx.backfill(gap, "bluesky")
