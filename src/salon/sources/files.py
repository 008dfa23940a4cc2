"""Reading input files into raw records, streaming.

A path may be a file, a directory (recursive), a ``.gz``/``.zst``/``.zip`` file (detected by
magic bytes, not by name) or ``-`` for stdin. Each input is split into raw records without ever
loading a whole archive in memory:

- JSON lines: one record per line;
- a JSON array (API pages, ``tweets.js`` after its ``window.YTD...=`` prefix): one record per
  element, sliced byte-exactly from the file;
- one (possibly pretty-printed) JSON document: one record;
- CSV (TAGS exports): one record per logical row (quoted newlines kept), decoded from UTF-8,
  UTF-8 with BOM, UTF-16 or CP1252.

A record that cannot be parsed is yielded with ``error`` set so the importer quarantines it and
goes on; nothing here raises for bad data except ``InputError`` for unreadable paths. Finding
the inputs (``iter_inputs``, ``InputFile``) is ``salon.sources.inputs``, whose names this module
also offers.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

import orjson

from salon.sources.csvfile import csv_encoding, csv_records, looks_like_csv
from salon.sources.inputs import (
    GZIP_MAGIC,
    ZSTD_MAGIC,
    InputError,
    InputFile,
    iter_inputs,
    observation_time,
    x_archive_owner,
)
from salon.sources.jsonarray import json_values
from salon.sources.record import RawRecord
from salon.sources.streams import (
    BigRecord,
    StreamBroken,
    Utf16Reader,
    ZstdReader,
    bounded_lines,
    broken,
    max_record_bytes,
)

__all__ = [
    "InputError",
    "InputFile",
    "RawRecord",
    "iter_inputs",
    "observation_time",
    "read_records",
    "x_archive_owner",
]

CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"


class _CountingReader(io.RawIOBase):
    """Counts and hashes the bytes read from the underlying stream (for progress and
    provenance) without a second pass over the file."""

    def __init__(self, raw: IO[bytes], target: InputFile) -> None:
        self._raw = raw
        self._target = target
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self._target.bytes_read += n
        self._hash.update(data)
        return n

    def digest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        # Text and decompression wrappers close what they wrap when they are dropped; the file
        # stays open until ``release`` so the hash can cover every byte.
        pass

    def release(self) -> None:
        self._raw.close()
        super().close()


HEAD = 65536  # bytes a file's shape is sniffed from


class _Prefixed(io.RawIOBase):
    """``prefix``, then the rest of ``rest``."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(b))
        b[: len(data)] = data
        return len(data)


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    """Wrap gzip/zstd streams (sniffed by magic bytes) in a streaming decompressor."""
    buffered = io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type,type-var]
    head = buffered.peek(4)[:4]
    if head[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    if head == ZSTD_MAGIC:
        return io.BufferedReader(ZstdReader(buffered), CHUNK)  # type: ignore[arg-type,return-value]
    return buffered  # type: ignore[return-value]


def read_records(inp: InputFile, fmt: str | None = None, *, lazy: bool = False) -> Iterator[RawRecord]:
    """Split an input into raw records (see module docstring). ``fmt`` (a ``--format``
    override) only changes how CSV is recognised; JSON containers are sniffed. With ``lazy``,
    JSON lines are yielded unparsed (``parsed`` False; ``RawRecord.parse`` parses one)."""
    if inp.broken is not None:
        return
    raw = inp.open()
    counter = _CountingReader(raw, inp)
    last = 0
    try:
        stream = _decompressed(counter)  # type: ignore[arg-type,type-var]
        for rec in _split(stream, inp, fmt, lazy):
            last = rec.line or last
            yield rec
    except (StreamBroken, EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
        # A truncated or corrupt container: what was read before it stays imported, and the
        # file is reported incomplete, with where it broke.
        why = broken(exc, inp.bytes_read)
        where = f" after line {last:,}" if last else " before the first record"
        inp.broken = f"{why}; reading stopped{where}"
    finally:
        # Drain so the file hash covers the whole file even when parsing stopped early.
        while counter.read(CHUNK):
            pass
        inp.sha256 = counter.digest()
        counter.release()


def _split(
    stream: IO[bytes], inp: InputFile, fmt: str | None, lazy: bool = False, utf16: bool = False
) -> Iterator[RawRecord]:
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type,type-var]
    head: bytes = buffered.peek(HEAD)[:HEAD]  # type: ignore[attr-defined]
    if 0 < len(head) < HEAD:
        # ``peek`` reads once: a gzip stream may give a few KB, not even the first line, and
        # the file would be sniffed from that. The head is read whole, then given back.
        head = buffered.read(HEAD)
        buffered = io.BufferedReader(_Prefixed(head, buffered), CHUNK)  # type: ignore[arg-type]
    if not head:
        inp.notes.append("empty file")
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 with its byte order mark: read as UTF-8 and split like any file (JSON lines,
        # a JSON array, CSV); the payloads are stored as UTF-8 (noted).
        inp.notes.append("decoded from UTF-16; payloads stored as UTF-8")
        utf8 = io.BufferedReader(Utf16Reader(buffered), CHUNK)  # type: ignore[arg-type]
        yield from _split(utf8, inp, fmt, lazy, utf16=True)
        return
    bom = head.startswith(b"\xef\xbb\xbf")
    if bom:
        buffered.read(3)
        head = head[3:]
        inp.notes.append("UTF-8 byte order mark skipped")
    first = head.lstrip()[:1]
    if head.lstrip().startswith(b"window.YTD."):
        yield from _js_assignment(buffered, inp)
    elif first == b"[":
        yield from json_values(buffered, 1, None)
    elif first == b"{":
        yield from _json_lines_or_document(buffered, head, lazy)
    elif fmt == "tags-csv" or looks_like_csv(head):
        yield from csv_records(buffered, "utf-8" if utf16 else csv_encoding(head), inp)
    elif _mostly_json_lines(head, one=True) or (b"\n" in head.rstrip(b"\r\n") and b"\x00" not in head[:4096]):
        # Text of several lines in no known shape: read line by line, so each line that is a
        # record is imported and each other one quarantined with its line, never the whole
        # file as one blob (a file whose first lines are bad must not lose the good ones).
        inp.notes.append("no known shape: read line by line")
        yield from _json_lines_lazy(buffered) if lazy else _json_lines(buffered)
    else:
        sample = head[:4096]
        what = "binary data" if b"\x00" in sample or not _is_text(sample) else "text"
        yield RawRecord(
            buffered.read(64 * 1024),
            1,
            error=f"unknown format: {what} that is neither JSON, JSON lines, X archive JS nor CSV",
        )


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3  # a character cut at the sample's end


def _mostly_json_lines(head: bytes, *, one: bool = False) -> bool:
    """Whether most complete lines of ``head`` (with ``one``: any of them) are one-line JSON
    objects: a JSON lines file whose first lines are bad (not UTF-8, garbage, binary) is still
    read line by line."""
    lines = [ln.strip() for ln in head.split(b"\n")[:-1] if ln.strip()][:50]
    objects = sum(1 for ln in lines if ln.startswith(b"{") and ln.endswith(b"}"))
    return objects >= 1 if one else (objects >= 2 and objects * 2 >= len(lines))


def _json_lines_or_document(stream: IO[bytes], head: bytes, lazy: bool = False) -> Iterator[RawRecord]:
    """JSON lines when the first lines parse on their own (or most of them look like one-line
    objects), else one pretty-printed document."""
    lines = head.split(b"\n")
    complete = lines[:-1] if len(lines) > 1 else lines
    is_lines = _mostly_json_lines(head)
    for candidate in complete[:5]:  # a malformed first line must not hide a JSON lines file
        if is_lines:
            break
        try:
            if isinstance(orjson.loads(candidate), dict):
                is_lines = True
        except orjson.JSONDecodeError:
            continue
    if not is_lines and len(lines) == 1:
        is_lines = True  # a single (possibly truncated) line
    if is_lines:
        yield from _json_lines_lazy(stream) if lazy else _json_lines(stream)
    else:
        yield from _json_documents(stream)


def _json_lines(stream: IO[bytes]) -> Iterator[RawRecord]:
    loads = orjson.loads
    limit = max_record_bytes()
    for lineno, payload, eol in bounded_lines(stream, limit):
        if isinstance(payload, BigRecord):
            yield RawRecord(payload.head, lineno, error=payload.reason(limit))
            continue
        if payload.startswith(_BOM):
            # A byte order mark starting a line (files joined by ``cat``) is not the record's,
            # as at the start of a file.
            payload = payload[3:]
        if not payload.strip():
            continue
        if payload.lstrip()[:1] == b"[":
            yield from _line_array(payload, lineno)
            continue
        try:
            yield RawRecord(payload, lineno, loads(payload))
        except orjson.JSONDecodeError as exc:
            reason = "truncated line" if not eol else "malformed JSON"
            yield RawRecord(payload, lineno, error=f"{reason}: {exc}")


def _json_lines_lazy(stream: IO[bytes]) -> Iterator[RawRecord]:
    limit = max_record_bytes()
    for lineno, payload, eol in bounded_lines(stream, limit):
        if isinstance(payload, BigRecord):
            yield RawRecord(payload.head, lineno, error=payload.reason(limit))
            continue
        if payload.startswith(_BOM):
            # A byte order mark starting a line (files joined by ``cat``) is not the record's,
            # as at the start of a file.
            payload = payload[3:]
        if not payload.strip():
            continue
        if payload.lstrip()[:1] == b"[":
            yield from _line_array(payload, lineno)
            continue
        yield RawRecord(payload, lineno, parsed=False, eol=eol)


def _line_array(payload: bytes, lineno: int) -> Iterator[RawRecord]:
    """A JSON lines line that is an array (an API page: ``GET /api/v1/timelines/tag/X``, X
    v1.1 search, a Bluesky page of records): each element one record of that line, sliced
    byte-exactly, never the page as one record of no known format."""
    for rec in json_values(io.BytesIO(payload), lineno, None):
        rec.line = lineno  # one line: an element's newlines are escaped, its line is the page's
        yield rec


def _json_documents(stream: IO[bytes]) -> Iterator[RawRecord]:
    """One or more concatenated JSON documents (pretty-printed API responses), streamed: each
    one record (an array's elements, records), a malformed one quarantined alone."""
    yield from json_values(stream, 1, None, top=True)


def _js_assignment(stream: IO[bytes], inp: InputFile) -> Iterator[RawRecord]:
    """X archive ``data/tweets.js``: ``window.YTD.tweets.part0 = [ ... ]``."""
    prefix = b""
    while b"=" not in prefix:
        chunk = stream.read(1)
        if not chunk:
            yield RawRecord(prefix, 1, error="X archive file without '=' assignment")
            return
        prefix += chunk
    yield from json_values(stream, 1 + prefix.count(b"\n"), "x-archive", ";")
