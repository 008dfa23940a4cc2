"""A real Jetstream on 127.0.0.1 serving recorded events of ``../shared/corpora/bluesky-jetstream``
on both of its wires, as the lexicons in that folder (``lexicons/``) describe them:

- the legacy ``/subscribe``: v1 events as recorded, ``wantedCollections``, a ``cursor`` in unix
  microseconds, ``compress=true`` (zstd frames made with ``legacy_dictionary``, the real legacy
  dictionary in the tests, or plain zstd without one);
- ``/xrpc/network.bsky.jetstream.subscribeEvents`` (subprotocol ``xrpc.v1.json``): each recorded
  event wrapped as the lexicon's ``#commit`` / ``#identity`` / ``#account`` payload (``seq``
  assigned in time order, ``time`` RFC 3339 with microseconds) in a ``{"$type": "message",
  "payload"}`` frame; ``kinds`` / ``collections`` / ``dids`` filters, ``cursor`` (a seq below
  1e15, else a time: clamped up to ``floor_us`` with an ``#info`` ``OutdatedCursor`` frame; a seq
  below ``floor_seq`` refused with HTTP 400 ``CursorTooOld``), ``zstdDictionary=<id>`` (frames
  compressed at test time with that real dictionary; an unknown or retired id refused with
  ``UnknownZstdDictionary`` carrying the current id);
- ``GET /xrpc/network.bsky.jetstream.getZstdDictionary[?id=N]``: the dictionaries it holds.

``endpoints`` lists the wires it serves (the others answer 404). Faults, one per connection:
``drops`` (abort after n events), ``stalls`` (silent after n), ``too_slow`` (a ``ConsumerTooSlow``
error frame after n), ``resyncs`` (after n events, or at the end of the backlog, every create sent so far comes
again as a new event, new seq and time: what a repo resync looks like); ``malformed``: raw frames sent first;
``rotate(id)`` makes another dictionary current, retires the old one and drops the connections.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import zstandard
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response

NSID = "network.bsky.jetstream.subscribeEvents"
EVENTS_PATH = f"/xrpc/{NSID}"
DICT_PATH = "/xrpc/network.bsky.jetstream.getZstdDictionary"
SUBPROTOCOL = "xrpc.v1.json"
FIRST_SEQ = 31527015322  # the corpus manifest's seq_first: Jetstream seqs are of this size


def dict_id(data: bytes) -> int:
    """A zstd dictionary's id: the little-endian uint32 after the magic (PROVENANCE.md)."""
    return int.from_bytes(data[4:8], "little")


def rfc3339_us(time_us: int) -> str:
    t = datetime.fromtimestamp(time_us // 1_000_000, UTC).replace(microsecond=time_us % 1_000_000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def xrpc_frame(v1: dict[str, Any], seq: int, time_us: int | None = None) -> str:
    """A v1 event as the subscribeEvents lexicon's message frame (payload fields as listed in
    its ``#commit`` / ``#identity`` / ``#account`` definitions)."""
    kind = v1["kind"]
    payload: dict[str, Any] = {
        "$type": f"{NSID}#{kind}",
        "seq": seq,
        "did": v1["did"],
        "time": rfc3339_us(v1["time_us"] if time_us is None else time_us),
    }
    if kind == "commit":
        payload.update(v1["commit"])  # rev, operation, collection, rkey, record, cid
    else:
        payload[kind] = v1[kind]
    return json.dumps({"$type": "message", "payload": payload}, separators=(",", ":"))


@dataclass
class Entry:
    seq: int
    time_us: int
    v1: str
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def collection(self) -> str | None:
        return (self.obj.get("commit") or {}).get("collection")


@dataclass
class JetstreamServer:
    events: list[str] = field(default_factory=list)
    endpoints: tuple[str, ...] = ("subscribe", "subscribeEvents")
    dictionaries: list[bytes] = field(default_factory=list)  # handed out by getZstdDictionary
    current: int | None = None  # the subscribeEvents dictionary id (default: the first one)
    legacy_dictionary: bytes | None = None  # what /subscribe?compress=true compresses with
    floor_us: int | None = None
    floor_seq: int | None = None
    drops: list[int] = field(default_factory=list)
    stalls: list[int] = field(default_factory=list)
    too_slow: list[int] = field(default_factory=list)
    resyncs: list[int] = field(default_factory=list)
    malformed: list[str | bytes] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)
    subprotocols: list[str | None] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    dictionary_requests: list[str] = field(default_factory=list)
    sent: int = 0

    def __post_init__(self) -> None:
        self.log: list[Entry] = []
        self.retired: set[int] = set()
        self.by_id = {dict_id(d): d for d in self.dictionaries}
        if self.current is None and self.dictionaries:
            self.current = dict_id(self.dictionaries[0])
        for e in sorted(self.events, key=lambda s: json.loads(s)["time_us"]):
            self._append(e)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._live: list[tuple[ServerConnection, asyncio.Queue[Entry | None]]] = []
        self.port = 0

    def _append(self, v1: str, time_us: int | None = None) -> Entry:
        obj = json.loads(v1)
        seq = self.log[-1].seq + 1 if self.log else FIRST_SEQ
        t = obj["time_us"] if time_us is None else time_us
        entry = Entry(seq, max(t, self.log[-1].time_us) if self.log else t, v1, obj)
        self.log.append(entry)
        return entry

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The legacy endpoint's URL (what campaign files named before subscribeEvents)."""
        return f"{self.base}/subscribe"

    def __enter__(self) -> JetstreamServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    async def _start(self) -> None:
        self.server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            compression=None,
            max_size=2**24,
            process_request=self._http,
            select_subprotocol=lambda _c, offered: SUBPROTOCOL if SUBPROTOCOL in offered else None,
        )
        self.port = self.server.sockets[0].getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            for _ws, q in list(self._live):
                q.put_nowait(None)
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def publish(self, events: list[str]) -> None:
        def go() -> None:
            for e in events:
                entry = self._append(e)
                for _ws, q in self._live:
                    q.put_nowait(entry)

        self.loop.call_soon_threadsafe(go)

    def rotate(self, new: bytes) -> None:
        """Make ``new`` the current dictionary, retire the old one, drop every connection."""

        def go() -> None:
            self.by_id[dict_id(new)] = new
            if self.current is not None:
                self.retired.add(self.current)
            self.current = dict_id(new)
            for ws, _q in list(self._live):
                ws.transport.abort()

        self.loop.call_soon_threadsafe(go)

    # -- HTTP: the XRPC query, refusals before the upgrade --------------------------------------

    @staticmethod
    def _response(status: int, body: bytes, ctype: str = "application/json") -> Response:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        headers = Headers([("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return Response(status, reason, headers, body)

    def _error(self, error: str, message: str) -> Response:
        self.refused.append((400, error))
        return self._response(400, json.dumps({"error": error, "message": message}).encode())

    def _http(self, _conn: ServerConnection, request: WsRequest) -> Response | None:
        parts = urlsplit(request.path)
        q = parse_qs(parts.query)
        if parts.path == DICT_PATH:
            self.dictionary_requests.append(request.path)
            if not self.by_id:
                return self._response(404, b"")
            want = int(q["id"][0]) if "id" in q else self.current
            if want is None or want not in self.by_id or want in self.retired:
                return self._error("DictionaryNotFound", f"no dictionary {want}")
            return self._response(200, self.by_id[want], "application/octet-stream")
        if parts.path == "/subscribe":
            if "subscribe" not in self.endpoints:
                self.refused.append((404, "/subscribe"))
                return self._response(404, b"")
            return None
        if parts.path == EVENTS_PATH:
            if "subscribeEvents" not in self.endpoints:
                self.refused.append((404, EVENTS_PATH))
                return self._response(404, b"")
            if "zstdDictionary" in q:
                asked = int(q["zstdDictionary"][0])
                if asked not in self.by_id or asked in self.retired:
                    return self._error("UnknownZstdDictionary", f"current dictionary id: {self.current}")
            if "cursor" in q and self.floor_seq is not None:
                cursor = int(q["cursor"][0])
                if cursor < 10**15 and cursor < self.floor_seq:
                    return self._error(
                        "CursorTooOld", f"cursor below the retention floor seq {self.floor_seq}"
                    )
            return None
        return self._response(404, b"")

    # -- the streams ------------------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        self.connections.append(path)
        self.subprotocols.append(ws.subprotocol)
        parts = urlsplit(path)
        q = parse_qs(parts.query)
        xrpc = parts.path == EVENTS_PATH
        live_q: asyncio.Queue[Entry | None] = asyncio.Queue()
        self._live.append((ws, live_q))
        drop = self.drops.pop(0) if self.drops else None
        stall = self.stalls.pop(0) if self.stalls else None
        slow = self.too_slow.pop(0) if self.too_slow else None
        resync = self.resyncs.pop(0) if self.resyncs else None
        if xrpc:
            kinds = set(q.get("kinds", []))
            wanted = set(q.get("collections", []))
            dids = set(q.get("dids", []))
            d = int(q["zstdDictionary"][0]) if "zstdDictionary" in q else None
            cctx = (
                zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(self.by_id[d]))
                if d
                else None
            )
        else:
            kinds, dids = set(), set()
            wanted = set(q.get("wantedCollections", []))
            compress = q.get("compress", ["false"])[0] == "true"
            legacy = self.legacy_dictionary
            cctx = (
                zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(legacy) if legacy else None)
                if compress
                else None
            )
        count = 0
        sent_creates: list[Entry] = []

        def resend() -> None:
            """The repo resynced: every create sent so far comes again, as new events."""
            nonlocal resync
            resync = None
            for c in list(sent_creates):
                live_q.put_nowait(self._append(c.v1, time_us=self.log[-1].time_us + 1))

        try:
            for bad in self.malformed:
                await ws.send(bad)
            self.malformed = []
            backlog = self._backlog(q.get("cursor", [None])[0], xrpc)
            if isinstance(backlog, tuple):
                info, backlog = backlog
                await ws.send(cctx.compress(info.encode()) if cctx else info)

            def wanted_entry(e: Entry) -> bool:
                if e.kind == "commit" and wanted and e.collection not in wanted:
                    return False
                if kinds and e.kind not in kinds:
                    return False
                return not dids or e.obj["did"] in dids

            async def send(e: Entry) -> bool:
                nonlocal count
                if not wanted_entry(e):
                    return True
                if drop is not None and count >= drop:
                    ws.transport.abort()
                    return False
                if stall is not None and count >= stall:
                    while await live_q.get() is not None:
                        pass  # silent until the server stops
                    return False
                if slow is not None and count >= slow:
                    err = json.dumps({"$type": "error", "error": "ConsumerTooSlow", "message": "too slow"})
                    await ws.send(cctx.compress(err.encode()) if cctx else err)
                    await ws.close()
                    return False
                if resync is not None and count == resync:
                    resend()
                text = xrpc_frame(e.obj, e.seq, e.time_us) if xrpc else e.v1
                await ws.send(cctx.compress(text.encode()) if cctx else text)
                if e.kind == "commit" and e.obj["commit"]["operation"] == "create":
                    sent_creates.append(e)
                count += 1
                self.sent += 1
                return True

            for e in backlog:
                if not await send(e):
                    return
            if resync is not None and resync >= count:  # past the backlog: resync now
                resend()
            while True:
                e = await live_q.get()
                if e is None or not await send(e):
                    return
        except Exception:
            return
        finally:
            self._live.remove((ws, live_q))

    def _backlog(self, cursor: str | None, xrpc: bool) -> list[Entry] | tuple[str, list[Entry]]:
        """The events a cursor replays (none without one, or past the live tip); on
        subscribeEvents a time below ``floor_us`` is clamped up with an ``OutdatedCursor`` info."""
        if cursor is None or not self.log:
            return []
        c = int(cursor)
        if xrpc and c < 10**15:
            return [e for e in self.log if e.seq >= c]
        if c > self.log[-1].time_us:
            return []
        if xrpc and self.floor_us is not None and c < self.floor_us:
            out = [e for e in self.log if e.time_us >= self.floor_us]
            first = out[0].seq if out else self.log[-1].seq + 1
            info = {
                "$type": f"{NSID}#info",
                "name": "OutdatedCursor",
                "message": f"cursor clamped to seq {first}",
            }
            return json.dumps({"$type": "message", "payload": info}), out
        return [e for e in self.log if e.time_us >= c]
