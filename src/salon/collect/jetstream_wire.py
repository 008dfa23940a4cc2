"""Jetstream's two wires, as ``salon.collect.jetstream`` speaks them.

- ``subscribeEvents``: the XRPC subscription ``network.bsky.jetstream.subscribeEvents`` (lexicon
  in Jetstream's ``lexicons/network/bsky/jetstream/``), subprotocol ``xrpc.v1.json``. Parameters
  ``kinds`` / ``collections`` / ``dids`` (repeated), ``cursor`` (inclusive; below 1e15 a ``seq``,
  at or above a time in unix microseconds, clamped up to the retention floor with an ``#info``
  ``OutdatedCursor`` frame) and ``zstdDictionary=<id>``. Frames are
  ``{"$type": "message", "payload": {"$type": "network.bsky.jetstream.subscribeEvents#commit",
  "seq", "did", "time", ...}}`` (``#identity``, ``#account``, ``#sync``, ``#info``), stream errors
  (``ConsumerTooSlow``) ``{"$type": "error", "error", "message"}``; ``CursorTooOld`` and
  ``UnknownZstdDictionary`` refuse the upgrade with an HTTP 400 whose XRPC error body carries the
  floor seq or the current dictionary id.
- ``subscribe``: the legacy ``/subscribe`` (v1 events ``{"did", "time_us", "kind", "commit"}``),
  ``wantedCollections``, a ``cursor`` in unix microseconds, ``compress=true`` for zstd frames
  made with the legacy dictionary.

Compressed frames use zstd dictionaries that Salon never ships: ``Dictionaries`` fetches them
from the server's ``network.bsky.jetstream.getZstdDictionary[?id=N]`` and caches them by their
id (the little-endian uint32 after the magic 0xEC30A437, also in every frame's header).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import orjson
import zstandard

from salon.collect.http import request
from salon.collect.status import SourceStatus

__all__ = [
    "EVENTS",
    "LEGACY",
    "LEGACY_DICTIONARY_ID",
    "SEQ_LIMIT",
    "SUBPROTOCOL",
    "Dictionaries",
    "Event",
    "Refused",
    "StreamError",
    "dictionary_id",
    "endpoint_of",
    "parse_event",
    "refusal",
    "stream_url",
]

EVENTS = "subscribeEvents"
LEGACY = "subscribe"
ENDPOINTS = (EVENTS, LEGACY)
NSID_EVENTS = "network.bsky.jetstream.subscribeEvents"
NSID_DICTIONARY = "network.bsky.jetstream.getZstdDictionary"
SUBPROTOCOL = "xrpc.v1.json"
SEQ_LIMIT = 10**15  # a cursor below is a seq, at or above a time in unix microseconds
ZSTD_MAGIC = 0xEC30A437
# The id of the legacy /subscribe dictionary (Jetstream's internal/subscribe/dictionaries/
# legacy_subscribe.zdict): asked of the server by id, never bundled.
LEGACY_DICTIONARY_ID = 1612007021
_PATHS = {EVENTS: f"/xrpc/{NSID_EVENTS}", LEGACY: "/subscribe"}


class StreamError(Exception):
    """An error frame of the stream (``ConsumerTooSlow``): the server ends the connection."""

    def __init__(self, name: str, message: str = "") -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name, self.message = name, message


@dataclass(frozen=True)
class Refused:
    """A refused upgrade: its HTTP status and XRPC error (``CursorTooOld``, ...)."""

    status: int
    error: str = ""
    message: str = ""

    def number(self) -> int | None:
        """The number the message carries (the floor seq, the current dictionary id)."""
        m = re.search(r"\d+", self.message)
        return int(m.group()) if m else None


def refusal(exc: BaseException) -> Refused | None:
    """The status and XRPC error body of a refused WebSocket upgrade (``InvalidStatus``)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None
    error = message = ""
    try:
        body = orjson.loads(getattr(response, "body", b"") or b"{}")
        if isinstance(body, dict):
            error, message = str(body.get("error") or ""), str(body.get("message") or "")
    except ValueError:
        pass
    return Refused(status, error, message)


def endpoint_of(url: str, endpoint: str | None) -> tuple[str, str]:
    """``(base, endpoint)`` of a configured Jetstream URL: a trailing ``/subscribe`` or
    ``/xrpc/network.bsky.jetstream.subscribeEvents`` path is the endpoint unless ``endpoint``
    says otherwise; without either, the default is ``subscribeEvents``."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    named = None
    for name, p in _PATHS.items():
        if path.endswith(p):
            named, path = name, path[: -len(p)]
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f"unknown Jetstream endpoint {endpoint!r} (known: {', '.join(ENDPOINTS)})")
    base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return base, endpoint or named or EVENTS


def other(endpoint: str) -> str:
    return LEGACY if endpoint == EVENTS else EVENTS


def stream_url(
    base: str,
    endpoint: str,
    collections: list[str],
    cursor: int | None = None,
    *,
    kinds: list[str] | None = None,
    dictionary: int | None = None,
    compress: bool = False,
) -> str:
    """The WebSocket URL of ``endpoint`` on ``base`` with its filters and cursor."""
    params: list[tuple[str, str]] = []
    if endpoint == EVENTS:
        params += [("kinds", k) for k in kinds or ()]
        params += [("collections", c) for c in collections]
        if cursor is not None:
            params.append(("cursor", str(cursor)))
        if dictionary is not None:
            params.append(("zstdDictionary", str(dictionary)))
    else:
        params += [("wantedCollections", c) for c in collections]
        if cursor is not None:
            params.append(("cursor", str(cursor)))
        if compress:
            params.append(("compress", "true"))
    return base + _PATHS[endpoint] + ("?" + urlencode(params) if params else "")


def http_base(base: str) -> str:
    """The HTTP(S) URL of a ws(s):// base, for the XRPC queries."""
    parts = urlsplit(base)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def dictionary_id(data: bytes) -> int | None:
    """The id of a zstd structured dictionary (None when ``data`` is not one)."""
    if len(data) < 8 or int.from_bytes(data[:4], "little") != ZSTD_MAGIC:
        return None
    return int.from_bytes(data[4:8], "little") or None


class Dictionaries:
    """zstd dictionaries fetched from a Jetstream server, cached by id for the run."""

    def __init__(self, base: str, stop: asyncio.Event, status: SourceStatus | None = None) -> None:
        self.base = http_base(base)
        self.stop, self.status = stop, status
        self.cache: dict[int, zstandard.ZstdDecompressor] = {}
        self.fetched: list[int | None] = []  # what was asked for, in order (for tests and notes)

    async def fetch(self, want: int | None = None) -> int | None:
        """Fetch the dictionary ``want`` (None: the server's current one) unless cached; its id,
        or None when the server has none to give (no such endpoint, unknown id, not a dictionary)."""
        if want is not None and want in self.cache:
            return want
        self.fetched.append(want)
        params = {} if want is None else {"id": str(want)}
        try:
            async with httpx.AsyncClient(timeout=20.0) as client:
                resp = await request(
                    client,
                    "GET",
                    f"{self.base}/xrpc/{NSID_DICTIONARY}",
                    params=params,
                    stop=self.stop,
                    status=self.status,
                    max_attempts=3,
                )
        except Exception:  # a missing or failing endpoint means frames stay uncompressed
            return None
        if resp.status_code != 200:
            return None
        got = dictionary_id(resp.content)
        if got is None or (want is not None and got != want):
            return None
        self.add(resp.content)
        return got

    def add(self, data: bytes) -> int:
        """Cache a dictionary (a configured file's); returns its id."""
        got = dictionary_id(data)
        if got is None:
            raise ValueError("not a zstd dictionary (no 0xEC30A437 magic)")
        self.cache[got] = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(data))
        return got

    def decompressor(self, frame: bytes) -> tuple[int, zstandard.ZstdDecompressor | None]:
        """The dictionary id a zstd frame names and its decompressor (None when not cached)."""
        did = zstandard.get_frame_parameters(frame).dict_id
        if did == 0:
            return 0, self.cache.setdefault(0, zstandard.ZstdDecompressor())
        return did, self.cache.get(did)


@dataclass
class Event:
    """What the collector needs of one frame of either wire."""

    kind: str  # commit | identity | account | sync | info | error | other
    did: str | None = None
    time_us: int | None = None
    seq: int | None = None
    collection: str | None = None
    operation: str | None = None
    rkey: str | None = None
    record: Any = None
    name: str = ""  # an #info or error frame's name
    message: str = ""


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def time_us_of(text: Any) -> int | None:
    """Unix microseconds of an RFC 3339 time with up to microsecond precision."""
    if not isinstance(text, str):
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        return None
    return int(t.timestamp()) * 1_000_000 + t.microsecond


def parse_event(obj: Any) -> Event:
    """The ``Event`` of a decoded frame: a v1 event or an ``xrpc.v1.json`` message/error."""
    if not isinstance(obj, dict):
        return Event("other")
    kind = obj.get("$type")
    if kind == "error":
        return Event("error", name=str(obj.get("error") or "error"), message=str(obj.get("message") or ""))
    if kind == "message":
        p = obj.get("payload")
        if not isinstance(p, dict) or not isinstance(p.get("$type"), str):
            return Event("other")
        sub = p["$type"].rpartition("#")[2]
        if sub == "info":
            return Event("info", name=str(p.get("name") or ""), message=str(p.get("message") or ""))
        ev = Event(
            sub if sub in ("commit", "identity", "account", "sync") else "other",
            did=p.get("did") if isinstance(p.get("did"), str) else None,
            time_us=time_us_of(p.get("time")),
            seq=_int(p.get("seq")),
        )
        if sub == "commit":
            ev.collection, ev.operation, ev.rkey = p.get("collection"), p.get("operation"), p.get("rkey")
            ev.record = p.get("record")
        return ev
    ev = Event(
        str(obj.get("kind") or "other"),
        did=obj.get("did") if isinstance(obj.get("did"), str) else None,
        time_us=_int(obj.get("time_us")),
    )
    commit = obj.get("commit")
    if ev.kind == "commit" and isinstance(commit, dict):
        ev.collection, ev.operation, ev.rkey = (
            commit.get("collection"),
            commit.get("operation"),
            commit.get("rkey"),
        )
        ev.record = commit.get("record")
    return ev
