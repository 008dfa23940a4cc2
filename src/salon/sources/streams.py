"""The byte-level guards of file reading: compressed streams that say when they are cut short,
records read with bounded memory, JSON elements found without recursion, and UTF-16 read as
UTF-8. ``salon.sources.files`` splits inputs into records with these.

- ``StreamBroken``: a container (gzip, zstd, a zip member) that ends early or is corrupt. The
  records before the break are kept; the file is reported *incomplete* with where it broke.
- ``ZstdReader``: python-zstandard's ``stream_reader`` returns a truncated frame's bytes
  without a word; this reader checks each frame ends.
- ``bounded_lines``: JSON lines never longer than ``limit`` in memory: a longer line is streamed
  past (its first ``KEEP`` bytes kept for the quarantine), then reading goes on.
- ``element_end``: where a JSON value ends, by an iterative scan (the stdlib decoder recurses
  and fails with ``RecursionError`` on deep nesting).
- ``Utf16Reader``: UTF-16 (with its byte order mark) transcoded to UTF-8, so a UTF-16 file is
  sniffed and split like any other.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "KEEP",
    "MAX_RECORD_BYTES",
    "BigRecord",
    "Skipper",
    "StreamBroken",
    "Utf16Reader",
    "ZstdReader",
    "bounded_lines",
    "element_end",
    "max_record_bytes",
]

# A record (a JSON line, an array element, a document, a CSV row) larger than this is
# quarantined unread, by streaming past it. The largest real records (an X API v2 page of 100
# tweets with every expansion) are a few MB; 32 MiB keeps the import's peak within its 500 MB
# budget while it parses one (a parsed record takes several times its bytes).
MAX_RECORD_BYTES = 32 * 1024 * 1024
KEEP = 64 * 1024  # bytes of an oversized record kept in the quarantine
CHUNK = 1 << 20


def max_record_bytes() -> int:
    """The record size limit: ``$SALON_MAX_RECORD_MB`` (MiB) or ``MAX_RECORD_BYTES``."""
    env = os.environ.get("SALON_MAX_RECORD_MB", "").strip()
    try:
        return max(1, int(float(env) * 1024 * 1024)) if env else MAX_RECORD_BYTES
    except ValueError:
        return MAX_RECORD_BYTES


class StreamBroken(Exception):
    """A compressed stream or archive member that is truncated or corrupt."""


@dataclass(slots=True)
class BigRecord:
    """A record over the size limit: its first ``KEEP`` bytes and its full size."""

    head: bytes
    size: int

    def reason(self, limit: int) -> str:
        size = abs(self.size)
        cut = " (the file ends inside it)" if self.size < 0 else ""
        return (
            f"record of {size:,} bytes{cut} is over the {limit:,}-byte limit (SALON_MAX_RECORD_MB):"
            f" quarantined unread, its first {min(size, KEEP):,} bytes kept"
        )


class ZstdReader(io.RawIOBase):
    """Decompress zstd frames one after another (like ``read_across_frames``), raising
    ``StreamBroken`` when the input ends inside a frame or a frame is corrupt."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._zstd = zstandard
        self._raw = raw
        self._d: Any = None
        self._pending = b""
        self._in = 0  # compressed bytes consumed

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._pending:
            chunk = self._raw.read(CHUNK)
            if not chunk:
                if self._d is not None and not self._d.eof:
                    raise StreamBroken(
                        f"truncated or corrupt compressed stream: zstd ends inside a frame, after {self._in:,} bytes"
                    )
                return 0
            self._pending = self._feed(chunk)
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _feed(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        while chunk:
            if self._d is None or self._d.eof:
                self._d = self._zstd.ZstdDecompressor().decompressobj()
            try:
                out.append(self._d.decompress(chunk))
            except self._zstd.ZstdError as exc:
                raise StreamBroken(
                    f"truncated or corrupt compressed stream: bad zstd data after {self._in:,} bytes ({exc})"
                ) from None
            self._in += len(chunk)
            chunk = self._d.unused_data if self._d.eof else b""
            if chunk:
                self._in -= len(chunk)
        return b"".join(out)


def broken(exc: BaseException, compressed_at: int) -> StreamBroken | None:
    """The ``StreamBroken`` a reading error means, or None when it is not a container's."""
    import zipfile

    if isinstance(exc, StreamBroken):
        return exc
    if isinstance(exc, EOFError):
        return StreamBroken(
            f"truncated or corrupt compressed stream: it ends early, after {compressed_at:,} bytes of the file ({exc})"
        )
    if isinstance(exc, zlib.error | zipfile.BadZipFile) or type(exc).__name__ == "BadGzipFile":
        return StreamBroken(
            f"truncated or corrupt compressed stream: bad data after {compressed_at:,} bytes of the file ({exc})"
        )
    return None


def bounded_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | BigRecord, bool]]:
    """(line number, bytes without the newline or a ``BigRecord``, ended by a newline) for each
    line of ``stream``; at most ``limit`` bytes of one line are ever held."""
    lineno = 0
    readline = stream.readline
    while True:
        line = readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield lineno, line.rstrip(b"\r\n"), line.endswith(b"\n")
            continue
        head, size = line[:KEEP], len(line)
        del line
        while True:  # stream past the rest of the line
            more = readline(CHUNK)
            size += len(more)
            if not more or more.endswith(b"\n"):
                if more.endswith(b"\n"):
                    size -= 1
                break
        yield lineno, BigRecord(head, size), True


def element_end(text: str, pos: int) -> int | None:
    """Where the JSON object, array or string starting at ``text[pos]`` ends (exclusive), found
    without recursion (the stdlib decoder recurses and fails on deep nesting); None when
    ``text`` ends first or no such value starts there."""
    if pos >= len(text) or text[pos] not in '[{"':
        return None
    end = Skipper().feed(text[pos:])
    return None if end is None else pos + end


class Utf16Reader(io.RawIOBase):
    """The UTF-8 bytes of a UTF-16 stream (byte order from its BOM, which is dropped)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(raw, encoding="utf-16", errors="strict", newline="")  # type: ignore[type-var]
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._pending:
            try:
                text = self._text.read(CHUNK // 4)
            except UnicodeDecodeError as exc:
                raise StreamBroken(f"not UTF-16 after its byte order mark ({exc.reason})") from None
            if not text:
                return 0
            self._pending = text.encode("utf-8", errors="surrogatepass")
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)  # a string's rest, through its quote
_STRING_PART = re.compile(r'(?:[^"\\]|\\.)*', re.DOTALL)
_STRUCTURE = re.compile(r'["\[\]{}]')


class Skipper:
    """Finds the end of a JSON value (an object, an array or a string) fed in pieces:
    ``feed(text)`` returns the index in ``text`` just past the value's end, or None when it goes
    on. Only the scanner's state is kept, never the text, and the scan is iterative (regular
    expressions over strings and brackets), so neither size nor nesting depth matters."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False  # a piece ended inside a string, just after a backslash

    def feed(self, text: str) -> int | None:
        i, n = 0, len(text)
        while i < n:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                    i += 1
                    continue
                m = _STRING_REST.match(text, i)
                if m is None:
                    end = _STRING_PART.match(text, i).end()  # type: ignore[union-attr]
                    self.escaped = end < n and text[end] == "\\"
                    return None
                i = m.end()
                self.in_string = False
                if self.depth == 0:
                    return i
                continue
            m = _STRUCTURE.search(text, i)
            if m is None:
                return None
            c, i = m.group(), m.end()
            if c == '"':
                self.in_string = True
            elif c in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return i
        return None
