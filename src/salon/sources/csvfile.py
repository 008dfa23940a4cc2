"""TAGS CSV exports split into rows (a quoted cell may span lines), with bounded memory: a
line or a row (an unbalanced quote) over the record limit is quarantined, streamed past."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from salon.sources.inputs import InputFile
from salon.sources.record import RawRecord
from salon.sources.streams import CHUNK, KEEP, BigRecord, max_record_bytes

__all__ = ["csv_encoding", "csv_records", "looks_like_csv"]


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3  # a character cut at the sample's end


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | BigRecord]:
    """The lines of ``stream`` with their newline; a line over ``limit`` as a ``BigRecord``."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        head, size = line[:KEEP], len(line)
        del line
        while more := stream.readline(CHUNK):
            size += len(more)
            if more.endswith(b"\n"):
                break
        yield BigRecord(head, size)


def looks_like_csv(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore") if _is_text(head[:4096]) else head.decode("cp1252", "ignore")
    header = text.split("\n", 1)[0].lower()
    return header.count(",") >= 2 and ("id_str" in header or "from_user" in header or "text" in header)


def csv_encoding(head: bytes) -> str:
    return "utf-8" if _is_text(head) else "cp1252"


def csv_records(stream: IO[bytes], encoding: str, inp: InputFile) -> Iterator[RawRecord]:
    """Logical CSV rows (a quoted cell may span lines). The payload is the row's bytes as in
    the file for UTF-8 and CP1252; UTF-16 rows are stored re-encoded as UTF-8 (noted)."""
    if encoding != "utf-8":
        inp.notes.append(f"decoded as {encoding}")
    limit = max_record_bytes()
    lines = ((b, b if isinstance(b, BigRecord) else _decode_line(b, encoding)) for b in _lines(stream, limit))
    header: list[str] | None = None
    pending_bytes: list[bytes] = []
    pending_text: list[str] = []
    pending_size = 0
    start = 0
    lineno = 0
    for raw_line, text_line in lines:
        lineno += 1
        if isinstance(raw_line, BigRecord):  # one line over the limit: streamed past
            yield RawRecord(raw_line.head, lineno, error=f"CSV line: {raw_line.reason(limit)}")
            pending_bytes, pending_text = [], []
            continue
        assert isinstance(text_line, str)
        if not pending_text:
            start, pending_size = lineno, 0
        pending_bytes.append(raw_line)
        pending_text.append(text_line)
        pending_size += len(raw_line)
        if pending_size > limit:  # an unbalanced quote swallowing the file: not held whole
            big = BigRecord(b"".join(pending_bytes)[:KEEP], pending_size)
            yield RawRecord(big.head, start, error=f"CSV row (an unbalanced quote?): {big.reason(limit)}")
            pending_bytes, pending_text = [], []
            continue
        joined = "".join(pending_text)
        if joined.count('"') % 2:  # inside a quoted cell: the row continues on the next line
            continue
        pending_bytes, pending_text, payload = [], [], b"".join(pending_bytes)
        if not joined.strip():
            continue
        try:
            row = next(csv.reader([joined]))
        except csv.Error as exc:
            yield RawRecord(payload.rstrip(b"\r\n"), start, error=f"malformed CSV row: {exc}")
            continue
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in row]
            continue
        if len(row) != len(header):
            yield RawRecord(
                payload.rstrip(b"\r\n"),
                start,
                error=f"CSV row has {len(row)} cells, header has {len(header)}",
            )
            continue
        yield RawRecord(payload.rstrip(b"\r\n"), start, dict(zip(header, row, strict=True)), "tags-csv")
    if pending_bytes:
        yield RawRecord(
            b"".join(pending_bytes), start, error="truncated CSV row: unbalanced quote at end of file"
        )


def _decode_line(line: bytes, encoding: str) -> str:
    # Sheets saved by hand mix encodings; a line that is not UTF-8 is read as CP1252.
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")
