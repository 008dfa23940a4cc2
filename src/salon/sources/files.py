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
import json
import re
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
from salon.sources.record import RawRecord
from salon.sources.streams import (
    KEEP,
    BigRecord,
    Skipper,
    StreamBroken,
    Utf16Reader,
    ZstdReader,
    bounded_lines,
    broken,
    element_end,
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
    head: bytes = buffered.peek(65536)[:65536]  # type: ignore[attr-defined]
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
        yield from _json_array(buffered, 1, None)
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
    for rec in _json_array(io.BytesIO(payload), lineno, None):
        rec.line = lineno  # one line: an element's newlines are escaped, its line is the page's
        yield rec


def _json_documents(stream: IO[bytes]) -> Iterator[RawRecord]:
    """One or more concatenated JSON documents (pretty-printed API responses), streamed: each
    one record (an array's elements, records), a malformed one quarantined alone."""
    yield from _json_array(stream, 1, None, top=True)


def _js_assignment(stream: IO[bytes], inp: InputFile) -> Iterator[RawRecord]:
    """X archive ``data/tweets.js``: ``window.YTD.tweets.part0 = [ ... ]``."""
    prefix = b""
    while b"=" not in prefix:
        chunk = stream.read(1)
        if not chunk:
            yield RawRecord(prefix, 1, error="X archive file without '=' assignment")
            return
        prefix += chunk
    yield from _json_array(stream, 1 + prefix.count(b"\n"), "x-archive", ";")


def _json_array(
    stream: IO[bytes], start_line: int, hint: str | None, trailer: str = "", top: bool = False
) -> Iterator[RawRecord]:
    """Stream the elements of a top-level JSON array, each sliced byte-exactly, using the C
    decoder's ``raw_decode`` on a sliding window (no whole-file load), then every top-level
    value after it: each further array's elements, each other value as one record. With
    ``top``, the stream is concatenated documents (an array among them gives its elements).
    A malformed value is quarantined alone and reading goes on after it (``resync``): at the
    next line starting a value at its indentation (a pretty-printed array or document), or
    the next line (a bad value of a one-line page). ``trailer``: characters skipped after an
    array (the ``;`` closing an X archive's JS assignment)."""
    decoder = json.JSONDecoder()
    # Bytes that are not UTF-8 become lone surrogates, so an element holding some is found,
    # quarantined with its exact bytes (``surrogateescape`` gives them back), and the next read.
    reader = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")  # type: ignore[arg-type,type-var]
    limit = max_record_bytes()
    buf = ""
    line = start_line
    pos = 0
    eof = False
    started = False
    # What precedes ``pos`` on its line when only blanks do (a value starting its line), else
    # None: where a malformed value's successor may be found (``resync``).
    indent: str | None = "" if top else None

    def fill() -> bool:
        nonlocal buf, pos, eof
        try:
            chunk = reader.read(CHUNK)
        except UnicodeDecodeError as exc:
            raise _Stop(f"not UTF-8: {exc.reason}") from None
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip(chars: str) -> None:
        nonlocal pos, line, indent
        while True:
            while pos < len(buf) and buf[pos] in chars:
                c = buf[pos]
                if c == "\n":
                    line += 1
                    indent = ""
                elif c in " \t":
                    indent = None if indent is None else indent + c
                elif c != "\r":
                    indent = None
                pos += 1
            if pos < len(buf) or not fill():
                return

    def resync(msg: str) -> RawRecord | None:
        """The malformed value at ``pos`` as a quarantined record, ``pos`` moved past it to
        where reading goes on; None when no line after it starts a value at its indentation."""
        nonlocal pos, line, indent
        if indent is None:
            return None
        boundary = next_value(indent, started)
        while True:
            m = boundary.search(buf, pos + 1)
            if m is not None or eof or len(buf) - pos > limit or not fill():
                break
        if m is None:
            return None
        end = m.start() + 1
        text = buf[pos:end].rstrip().rstrip(",").rstrip()
        last = line + text.count("\n")
        rec = RawRecord(
            text.encode("utf-8", "surrogateescape"),
            line,
            error=f"malformed JSON ({msg}), lines {line}-{last}: quarantined alone, reading goes on at line"
            f" {line + buf.count(chr(10), pos, end)}",
        )
        line += buf.count("\n", pos, end)
        pos, indent = end, ""
        return rec

    try:
        skip(" \t\r\n")
        if pos < len(buf) and buf[pos] == "[":
            pos += 1
            started = True
            indent = None
        array_line = line  # where the array being read opened
        if not started and not top:
            yield RawRecord(buf[:65536].encode(), line, error="expected a JSON array")
            return
        while True:
            skip(" \t\r\n,")
            if pos >= len(buf) and eof:
                if started:
                    yield RawRecord(b"", line, error="truncated JSON array: missing closing ']'")
                return
            if started and buf[pos] == "]":
                # The array ends, the file may not: API pages one per line, an array then
                # object lines, concatenated documents. Every top-level value that follows is
                # read (an array's elements as records, anything else as one record), so
                # nothing after the first array is dropped unseen.
                pos += 1
                started = False
                indent = None
                skip(" \t\r\n" + trailer)
                continue
            if not started and buf[pos] == "[":
                pos += 1
                started = True
                indent = None
                array_line = line
                continue
            obj: Any = None
            end: int | None = None
            error: str | None = None
            while True:
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                    break
                except RecursionError:
                    # Nested deeper than the decoder's recursion: found by a flat scan instead.
                    end = element_end(buf, pos)
                    if end is None and not eof and len(buf) - pos <= limit and fill():
                        continue
                    error = _TOO_DEEP if end is not None else _TOO_DEEP + " (and truncated)"
                    end = len(buf) if end is None else end
                    obj = None
                    break
                except json.JSONDecodeError as exc:
                    # Either the element continues past the window, or it is malformed.
                    if len(buf) - pos > limit:
                        end = None  # too large to hold: streamed past below
                        break
                    # At top level a value broken before the window's end (not a string the
                    # window cut) is malformed: no need to read on to know it.
                    # (a literal or number cut by the window fails a few characters before it)
                    cut_off = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated")
                    if cut_off and not eof and fill():
                        continue
                    if (not started or array_line != line) and (rec := resync(exc.msg)) is not None:
                        # Malformed where it starts its line: alone quarantined, with its lines.
                        yield rec
                        obj = _RESYNC
                        break
                    if (not started and indent is None) or (started and array_line == line and not cut_off):
                        # A bad top-level value (a line between pages), or a bad element of
                        # a one-line page: quarantined up to the end of its line, and reading
                        # goes on at the next line (the next page), at top level.
                        started = False
                        cut = buf.find("\n", pos)
                        cut = len(buf) if cut < 0 else cut + 1
                        yield RawRecord(
                            buf[pos:cut].encode("utf-8", "surrogateescape"),
                            line,
                            error=f"malformed or truncated JSON: {exc.msg}",
                        )
                        line += buf.count("\n", pos, cut)
                        pos = cut
                        obj = _RESYNC
                        break
                    yield RawRecord(
                        buf[pos:].encode("utf-8", "surrogateescape"),
                        line,
                        error=f"malformed or truncated JSON element: {exc.msg}",
                    )
                    return
            if obj is _RESYNC:
                continue
            if end is None:
                big, rest, newlines = _skip_element(buf[pos:], reader)
                yield RawRecord(big.head, line, error=big.reason(limit))
                line += newlines
                buf, pos = rest, 0
                if big.size < 0:  # the file ended inside it
                    return
                continue
            text = buf[pos:end]
            indent = None  # the next value follows on this line, unless a newline comes first
            payload = text.encode("utf-8", "surrogateescape")
            if error is None and _has_surrogates(text):
                error = "not UTF-8: bytes that are not valid UTF-8 in this element"
            if error is None:
                # The record is what the one parser reads (docs/import.md, "One reading of
                # JSON"), as in JSON lines: the stdlib decoder, which found the value's end,
                # also takes NaN, lone surrogates and integers past 64 bits, which orjson
                # refuses or reads as floats.
                try:
                    obj = orjson.loads(payload)
                except orjson.JSONDecodeError as exc:
                    error = f"malformed JSON: {exc}"
            yield RawRecord(payload, line, None if error else obj, hint, error=error)
            line += text.count("\n")
            pos = end
    except _Stop as stop:
        yield RawRecord(b"", line, error=str(stop))


class _Stop(Exception):
    pass


_RESYNC = object()  # a bad value was quarantined: go on after it


def next_value(indent: str, in_array: bool) -> re.Pattern[str]:
    """Where reading goes on after a malformed value that starts its line at ``indent``: the
    next line starting an object or array at that indentation (its successor, in an array or
    among documents printed alike; raw newlines never occur inside a JSON string), or, in an
    array, the line closing it (``]`` indented less)."""
    nxt = "\n" + re.escape(indent) + r"(?=[\[{])"
    if not in_array:
        return re.compile(nxt)
    closing = rf"\n[ \t]{{0,{len(indent) - 1}}}\]" if indent else r"\n\]"
    return re.compile(nxt + "|" + closing)


def _has_surrogates(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (``surrogateescape`` decoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _skip_element(start: str, reader: IO[str]) -> tuple[BigRecord, str, int]:
    """Stream past an array element too large to hold (``start`` is what was read of it):
    (the element as a ``BigRecord``, what follows it in the last piece read, its newlines).
    The record's size is negative when the file ended inside it."""
    head = start[:KEEP].encode("utf-8", "surrogateescape")[:KEEP]
    skipper = Skipper()
    piece, size, newlines = start, 0, 0
    while True:
        end = skipper.feed(piece)
        done = piece if end is None else piece[:end]
        size += len(done.encode("utf-8", "surrogateescape"))
        newlines += done.count("\n")
        if end is not None:
            return BigRecord(head, size), piece[end:], newlines
        piece = reader.read(CHUNK)
        if not piece:
            return BigRecord(head, -size), "", newlines


_TOO_DEEP = "JSON nested deeper than Salon's parser allows: quarantined"
