"""Native ids, record keys, content hashes and timestamps of the demo's posts and accounts, in
the platforms' own shapes: X snowflakes, Mastodon ids, Bluesky DIDs, TIDs and CIDs, and the
digests every other invented id or file name is derived from. Deterministic: ids come from times,
digests of their parts, or the generation's one ``random.Random``.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_X_EPOCH_MS = 1288834974657
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def ms(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def us(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)


def iso_ms(dt: datetime) -> str:
    """``2025-05-12T08:15:02.123Z`` (X, Mastodon and Bluesky all write UTC like this)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def b62(*parts: object, n: int = 10) -> str:
    v = int.from_bytes(digest(*parts), "big")
    out = []
    for _ in range(n):
        v, r = divmod(v, 62)
        out.append(_B62[r])
    return "".join(out)


def hexid(*parts: object, n: int = 16) -> str:
    return digest(*parts).hex()[:n]


def tid(us: int, clock: int) -> str:
    """An atproto TID (record key): 53 bits of microseconds and 10 of clock id, base32-sortable."""
    v = (us << 10) | (clock & 1023)
    out = []
    for _ in range(13):
        out.append(_S32[v & 31])
        v >>= 5
    return "".join(reversed(out))


def cid(data: bytes, codec: int = 0x71) -> str:
    """A CIDv1 string (base32, sha2-256) of ``data``: ``bafyrei...`` for records (dag-cbor),
    ``bafkrei...`` for blobs (raw). The hash is of the JSON bytes, not of the real CBOR."""
    raw = bytes([1, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def id_path(native_id: str) -> str:
    """Mastodon's media path split: ``117020570191569442`` → ``117/020/570/191/569/442``."""
    s = native_id.rjust(((len(native_id) + 2) // 3) * 3, "0")
    return "/".join(s[i : i + 3] for i in range(0, len(s), 3))


class Ids:
    """Platform ids derived from times, unique within one generation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[int] = set()
        self.strings: set[str] = set()

    def _unique(self, make: Any) -> int:
        while True:
            v = make()
            if v not in self.used:
                self.used.add(v)
                return int(v)

    def x(self, dt: datetime) -> str:
        t = ms(dt) - _X_EPOCH_MS
        return str(
            self._unique(lambda: (t << 22) | (self.rng.randrange(1024) << 12) | self.rng.randrange(4096))
        )

    def x_user(self, created: datetime) -> str:
        if created.year < 2014:
            return str(self._unique(lambda: self.rng.randrange(10_000_000, 2_900_000_000)))
        return self.x(created)

    def mastodon(self, dt: datetime) -> str:
        t = ms(dt)
        return str(self._unique(lambda: (t << 16) | self.rng.randrange(65536)))

    def did(self) -> str:
        while True:
            d = "did:plc:" + "".join(self.rng.choice(_S32) for _ in range(24))
            if d not in self.strings:
                self.strings.add(d)
                return d

    def rkey(self, us: int) -> str:
        while True:
            k = tid(us, self.rng.randrange(1024))
            if k not in self.strings:
                self.strings.add(k)
                return k
