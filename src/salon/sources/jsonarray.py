"""The JSON values of an array or of concatenated documents, streamed (``json_values``): each
element (or document) one record, sliced byte-exactly from a sliding window, with bounded
memory, deep nesting and oversized values quarantined, and a malformed value quarantined alone
with reading going on after it (``salon.sources.files`` splits inputs with it)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

from salon.sources.record import RawRecord
from salon.sources.streams import KEEP, BigRecord, Skipper, element_end, max_record_bytes

__all__ = ["json_values"]

CHUNK = 1 << 20


def json_values(
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
                elif c not in "\r\ufeff":
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
        boundary = _next_value(indent, started)
        at = pos + 1
        while True:
            m = boundary.search(buf, at)
            if m is not None and not _starts_value(decoder, buf, m.start() + 1):
                at = m.start() + 1  # a line of other text (a string cut by a newline goes on)
                continue
            if m is not None or eof or len(buf) - pos > limit or not fill():
                break
            at = 1  # the window was refilled from ``pos``
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

    def noise() -> RawRecord | None:
        """Characters at ``pos`` that start no JSON value (a NUL, garbage) and end before the
        next value on their line: quarantined alone, and that value read."""
        nonlocal pos, indent
        if buf[pos] in _VALUE_FIRST:
            return None
        m = _VALUE_START.search(buf, pos, len(buf) if (nl := buf.find("\n", pos)) < 0 else nl)
        if m is None:
            return None
        rec = RawRecord(
            buf[pos : m.start()].rstrip(" \t,").encode("utf-8", "surrogateescape"),
            line,
            error="not JSON between values: quarantined alone, the next value read",
        )
        pos, indent = m.start(), None
        return rec

    def resync_in_line(msg: str) -> RawRecord | None:
        """A malformed element of a one-line array: where a scan of its brackets and strings
        closes it, if it closes on its line before a ``,`` or the array's ``]``; quarantined
        alone, and the next element read."""
        nonlocal pos
        while (nl := buf.find("\n", pos)) < 0 and not eof and len(buf) - pos <= limit and fill():
            pass
        stop = len(buf) if nl < 0 else nl
        end = element_end(buf, pos)
        if (
            end is None
            or end > stop
            or buf[end - 1] != _CLOSES.get(buf[pos])  # closed by the array's bracket: lost
            or buf[end:stop].lstrip(" \t\r")[:1] not in ("", ",", "]")
        ):
            return None
        rec = RawRecord(
            buf[pos:end].encode("utf-8", "surrogateescape"),
            line,
            error=f"malformed JSON element ({msg}): quarantined alone, the next element read",
        )
        pos = end
        return rec

    try:
        skip(_BLANK)
        if pos < len(buf) and buf[pos] == "[":
            pos += 1
            started = True
            indent = None
        array_line = line  # where the array being read opened
        if not started and not top:
            yield RawRecord(buf[:65536].encode(), line, error="expected a JSON array")
            return
        while True:
            skip(_BLANK + ",")
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
                skip(_BLANK + trailer)
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
                    near_end = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated")
                    if near_end and not eof and fill():
                        continue
                    # Truncated: the file (or what the record limit holds) ends inside it.
                    cut_off = exc.pos >= len(buf.rstrip()) - 1 or exc.msg.startswith("Unterminated")
                    rec = noise()
                    if rec is None and (not started or array_line != line):
                        # Malformed where it starts its line: alone quarantined, with its lines.
                        rec = resync(exc.msg)
                    if rec is None and started and not cut_off:
                        rec = resync_in_line(exc.msg)
                    if rec is not None:
                        yield rec
                        obj = _RESYNC
                        break
                    if (not started and indent is None) or (started and array_line == line and not cut_off):
                        # A bad top-level value (a line between pages), or a bad element of
                        # a one-line page: quarantined up to the end of its line, and reading
                        # goes on at the next line: the next page, at top level, when the line
                        # closes its array, else the array's next elements.
                        cut = buf.find("\n", pos)
                        cut = len(buf) if cut < 0 else cut + 1
                        if started:
                            # The array goes on unless this line closed it or the next opens
                            # another (API pages one per line).
                            nxt = buf[cut : cut + 256].lstrip(_BLANK)[:1]
                            started = not buf[pos:cut].rstrip().rstrip(";,").endswith("]") and nxt != "["
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
# Blanks between values: JSON's, and a byte order mark (files joined by ``cat``).
_BLANK = " \t\r\n\ufeff"
_VALUE_FIRST = '[{"-0123456789tfn'  # what a JSON value starts with
_VALUE_START = re.compile(r'[\[{"]')
_CLOSES = {"{": "}", "[": "]", '"': '"'}


def _next_value(indent: str, in_array: bool) -> re.Pattern[str]:
    """Where reading goes on after a malformed value that starts its line at ``indent``: the
    next line starting a value at that indentation (its successor, in an array or among
    documents printed alike; raw newlines never occur inside a JSON string), or, in an array,
    the line closing it (``]`` indented less). A line that merely starts like a scalar (a
    string cut by a newline going on) is checked by ``_starts_value``; a line of garbage right
    after the bad value is quarantined with it."""
    nxt = "\n" + re.escape(indent) + r'(?=[\[{"\-0-9tfn])'
    if not in_array:
        return re.compile(nxt)
    closing = rf"\n[ \t]{{0,{len(indent) - 1}}}\]" if indent else r"\n\]"
    return re.compile(nxt + "|" + closing)


def _starts_value(decoder: json.JSONDecoder, buf: str, at: int) -> bool:
    """Whether the line at ``at`` starts a value (an object or an array, or a scalar that
    parses and ends before a ``,``, a ``]`` or the end of its line) or closes the array."""
    while at < len(buf) and buf[at] in " \t":
        at += 1
    if at >= len(buf) or buf[at] in "[{]":
        return True
    try:
        _, end = decoder.raw_decode(buf, at)
    except (json.JSONDecodeError, RecursionError):
        return False
    rest = buf[end : end + 64].lstrip(" \t\r")
    return rest[:1] in ("", ",", "]", "\n")


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
