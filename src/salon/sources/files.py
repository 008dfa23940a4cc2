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
goes on; nothing here raises for bad data except ``InputError`` for unreadable paths.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

__all__ = ["InputError", "InputFile", "RawRecord", "iter_inputs", "read_records"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGIC = b"PK\x03\x04"
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a single JSON document larger than this is refused
CHUNK = 1 << 20


class InputError(Exception):
    """A path that cannot be read at all (missing, permission denied)."""


@dataclass(slots=True)
class RawRecord:
    """One record as found in a file: its exact bytes, where it was, and its parse."""

    payload: bytes
    line: int  # 1-based line where the record starts (0: the file as a whole)
    obj: Any = None
    hint: str | None = None  # format known from the container (x-archive, tags-csv)
    error: str | None = None  # why it could not be parsed: quarantined
    # False for a JSON line read with ``lazy=True``: not parsed yet (see ``parse``).
    parsed: bool = True
    eol: bool = True  # the line ended with a newline (a last line without one may be truncated)

    def parse(self) -> None:
        """Parse a lazily read JSON line, as ``read_records`` would have."""
        if self.parsed:
            return
        self.parsed = True
        try:
            self.obj = orjson.loads(self.payload)
        except orjson.JSONDecodeError as exc:
            reason = "truncated line" if not self.eol else "malformed JSON"
            self.error = f"{reason}: {exc}"


@dataclass(slots=True)
class InputFile:
    """An input to read: a file on disk, a member of a zip, or stdin."""

    label: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    mtime: float | None = None
    # Filled while reading: bytes consumed from the (possibly compressed) stream and their hash.
    bytes_read: int = 0
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    # Reads another file of the same folder or zip by relative path (X archives: manifest.js).
    sibling: Callable[[str], bytes | None] | None = None


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


def iter_inputs(paths: list[str]) -> Iterator[InputFile]:
    """Expand paths (files, directories recursively in sorted order, zip members, ``-``)."""
    for p in paths:
        if p == "-":
            yield InputFile("<stdin>", lambda: sys.stdin.buffer)
            continue
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or directory")
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and not child.name.startswith(".")
                    and _wanted_member(str(child.relative_to(path)))
                ):
                    yield from _file_inputs(child)
        else:
            yield from _file_inputs(path)


def _file_inputs(path: Path) -> Iterator[InputFile]:
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    st = path.stat()
    if magic == ZIP_MAGIC:
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            yield InputFile(
                str(path), lambda: path.open("rb"), st.st_size, st.st_mtime, notes=[f"bad zip: {exc}"]
            )
            return
        for info in zf.infolist():
            name = info.filename
            if info.is_dir() or name.startswith("__MACOSX/") or Path(name).name.startswith("."):
                continue
            if not _wanted_member(name):
                continue
            yield InputFile(
                f"{path}!{name}",
                (lambda n=name: zf.open(n)),  # type: ignore[misc]
                info.file_size,
                st.st_mtime,
                sibling=(lambda rel, n=name: _zip_sibling(zf, n, rel)),  # type: ignore[misc]
            )
        return
    yield InputFile(
        str(path),
        lambda: path.open("rb"),
        st.st_size,
        st.st_mtime,
        sibling=lambda rel: _disk_sibling(path, rel),
    )


def _disk_sibling(path: Path, rel: str) -> bytes | None:
    target = path.parent / rel
    try:
        return target.read_bytes()
    except OSError:
        pass
    # An archive unpacked from a zip made on another system may have its names in another case.
    try:
        match = next((p for p in target.parent.iterdir() if p.name.lower() == target.name.lower()), None)
        return match.read_bytes() if match is not None else None
    except OSError:
        return None


def _zip_sibling(zf: zipfile.ZipFile, member: str, rel: str) -> bytes | None:
    target = str(Path(member).parent / rel)
    try:
        return zf.read(target)
    except KeyError:
        pass
    # Zips made on other systems may write the names in another case (DATA/MANIFEST.JS).
    folded = target.lower()
    match = next((n for n in zf.namelist() if n.lower() == folded), None)
    return zf.read(match) if match is not None else None


# The members of an X account archive that hold posts: data/tweets.js (tweets-part1.js ... when
# split), tweet.js and tweet-part1.js in older archives, community-tweet.js and note-tweet.js.
_X_ARCHIVE_POSTS = ("tweets", "tweet.js", "tweet-part", "community-tweet", "note-tweet")


def _is_x_archive_posts(base: str) -> bool:
    """Whether a file name (no folder) is one of an X account archive's ``.js`` files of posts.
    Case-insensitive, like every name rule here: zips made on other systems may upper-case."""
    name = base.lower()
    return name.endswith(".js") and name.startswith(_X_ARCHIVE_POSTS)


def x_archive_owner(inp: InputFile) -> dict[str, str] | None:
    """``userInfo`` of the X account archive a ``data/tweets*.js`` input belongs to, read from
    its ``manifest.js`` (``accountId``, ``userName``, ``displayName``), or None."""
    base = Path(inp.label.split("!")[-1]).name
    if not _is_x_archive_posts(base) or not inp.sibling:
        return None
    data = inp.sibling("manifest.js")
    if not data or b"=" not in data:
        return None
    try:
        manifest = json.loads(data.split(b"=", 1)[1].decode("utf-8").strip().rstrip(";"))
    except (ValueError, UnicodeDecodeError):
        return None
    info = manifest.get("userInfo") if isinstance(manifest, dict) else None
    if not isinstance(info, dict) or not info.get("accountId"):
        return None
    return {k: str(v) for k, v in info.items() if v is not None}


def _wanted_member(name: str) -> bool:
    """In an X account archive zip only the tweets files hold posts; media and the other
    ``data/*.js`` files (likes, DMs, ads) are skipped. Other zips: every data-like member."""
    base = Path(name).name
    if base.lower().endswith(".js"):
        return _is_x_archive_posts(base)
    return Path(name).suffix.lower() in (
        ".json",
        ".jsonl",
        ".ndjson",
        ".csv",
        ".gz",
        ".zst",
        ".txt",
        "",
    )


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    """Wrap gzip/zstd streams (sniffed by magic bytes) in a streaming decompressor."""
    buffered = io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type,type-var]
    head = buffered.peek(4)[:4]
    if head[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    if head == ZSTD_MAGIC:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True, closefd=False)  # type: ignore[return-value]
    return buffered  # type: ignore[return-value]


def read_records(inp: InputFile, fmt: str | None = None, *, lazy: bool = False) -> Iterator[RawRecord]:
    """Split an input into raw records (see module docstring). ``fmt`` (a ``--format``
    override) only changes how CSV is recognised; JSON containers are sniffed. With ``lazy``,
    JSON lines are yielded unparsed (``parsed`` False; ``RawRecord.parse`` parses one)."""
    raw = inp.open()
    counter = _CountingReader(raw, inp)
    try:
        stream = _decompressed(counter)  # type: ignore[arg-type,type-var]
        yield from _split(stream, inp, fmt, lazy)
    except (EOFError, zlib.error, OSError) as exc:
        # A truncated gzip/zstd stream: what was read before stays imported.
        yield RawRecord(b"", 0, error=f"compressed stream is truncated or corrupt ({exc})")
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            yield RawRecord(b"", 0, error=f"compressed stream is truncated or corrupt ({exc})")
        else:
            raise
    finally:
        # Drain so the file hash covers the whole file even when parsing stopped early.
        while counter.read(CHUNK):
            pass
        inp.sha256 = counter.digest()
        counter.release()


def _split(stream: IO[bytes], inp: InputFile, fmt: str | None, lazy: bool = False) -> Iterator[RawRecord]:
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type,type-var]
    head: bytes = buffered.peek(65536)[:65536]  # type: ignore[attr-defined]
    if not head:
        inp.notes.append("empty file")
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        yield from _csv_records(buffered, "utf-16", inp)
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
    elif fmt == "tags-csv" or _looks_like_csv(head):
        yield from _csv_records(buffered, _csv_encoding(head), inp)
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


def _json_lines_or_document(stream: IO[bytes], head: bytes, lazy: bool = False) -> Iterator[RawRecord]:
    """JSON lines when the first line parses on its own, else one pretty-printed document."""
    lines = head.split(b"\n")
    complete = lines[:-1] if len(lines) > 1 else lines
    is_lines = False
    for candidate in complete[:5]:  # a malformed first line must not hide a JSON lines file
        try:
            if isinstance(orjson.loads(candidate), dict):
                is_lines = True
                break
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
    for lineno, line in enumerate(stream, 1):
        payload = line.rstrip(b"\r\n")
        if not payload.strip():
            continue
        try:
            yield RawRecord(payload, lineno, loads(payload))
        except orjson.JSONDecodeError as exc:
            reason = "truncated line" if not line.endswith(b"\n") else "malformed JSON"
            yield RawRecord(payload, lineno, error=f"{reason}: {exc}")


def _json_lines_lazy(stream: IO[bytes]) -> Iterator[RawRecord]:
    for lineno, line in enumerate(stream, 1):
        payload = line.rstrip(b"\r\n")
        if not payload.strip():
            continue
        yield RawRecord(payload, lineno, parsed=False, eol=line.endswith(b"\n"))


def _json_documents(stream: IO[bytes]) -> Iterator[RawRecord]:
    """One or more concatenated JSON documents (pretty-printed API responses)."""
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        yield RawRecord(data[:65536], 1, error="JSON document larger than 256 MiB: convert it to JSON lines")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield RawRecord(data, 1, error=f"not UTF-8 at byte {exc.start}")
        return
    decoder = json.JSONDecoder()
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return
        line = text.count("\n", 0, pos) + 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield RawRecord(
                text[pos:].encode(),
                line,
                error=f"malformed or truncated JSON: {exc.msg} at line {exc.lineno}",
            )
            return
        yield RawRecord(text[pos:end].encode(), line, obj)
        pos = end


def _js_assignment(stream: IO[bytes], inp: InputFile) -> Iterator[RawRecord]:
    """X archive ``data/tweets.js``: ``window.YTD.tweets.part0 = [ ... ]``."""
    prefix = b""
    while b"=" not in prefix:
        chunk = stream.read(1)
        if not chunk:
            yield RawRecord(prefix, 1, error="X archive file without '=' assignment")
            return
        prefix += chunk
    yield from _json_array(stream, 1 + prefix.count(b"\n"), "x-archive")


def _json_array(stream: IO[bytes], start_line: int, hint: str | None) -> Iterator[RawRecord]:
    """Stream the elements of a top-level JSON array, each sliced byte-exactly, using the C
    decoder's ``raw_decode`` on a sliding window (no whole-file load)."""
    decoder = json.JSONDecoder()
    reader = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")  # type: ignore[arg-type,type-var]
    buf = ""
    line = start_line
    pos = 0
    eof = False
    started = False

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
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in chars:
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf) or not fill():
                return

    try:
        skip(" \t\r\n")
        if pos < len(buf) and buf[pos] == "[":
            pos += 1
            started = True
        if not started:
            yield RawRecord(buf[:65536].encode(), line, error="expected a JSON array")
            return
        while True:
            skip(" \t\r\n,")
            if pos >= len(buf) and eof:
                yield RawRecord(b"", line, error="truncated JSON array: missing closing ']'")
                return
            if buf[pos] == "]":
                return
            while True:
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    # Either the element continues past the window, or it is malformed.
                    if not eof and fill():
                        continue
                    yield RawRecord(
                        buf[pos:].encode(), line, error=f"malformed or truncated JSON element: {exc.msg}"
                    )
                    return
            text = buf[pos:end]
            yield RawRecord(text.encode(), line, obj, hint)
            line += text.count("\n")
            pos = end
    except _Stop as stop:
        yield RawRecord(b"", line, error=str(stop))


class _Stop(Exception):
    pass


# ---- CSV -------------------------------------------------------------------------------------


def _looks_like_csv(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore") if _is_text(head[:4096]) else head.decode("cp1252", "ignore")
    header = text.split("\n", 1)[0].lower()
    return header.count(",") >= 2 and ("id_str" in header or "from_user" in header or "text" in header)


def _csv_encoding(head: bytes) -> str:
    return "utf-8" if _is_text(head) else "cp1252"


def _csv_records(stream: IO[bytes], encoding: str, inp: InputFile) -> Iterator[RawRecord]:
    """Logical CSV rows (a quoted cell may span lines). The payload is the row's bytes as in
    the file for UTF-8 and CP1252; UTF-16 rows are stored re-encoded as UTF-8 (noted)."""
    if encoding != "utf-8":
        inp.notes.append(f"decoded as {encoding}")
    if encoding == "utf-16":
        text_stream = io.TextIOWrapper(stream, encoding="utf-16", newline="")  # type: ignore[arg-type,type-var]
        lines: Iterator[tuple[bytes, str]] = ((t.encode("utf-8"), t) for t in text_stream)
    else:
        lines = ((b, _decode_line(b, encoding)) for b in stream)
    header: list[str] | None = None
    pending_bytes: list[bytes] = []
    pending_text: list[str] = []
    start = 0
    lineno = 0
    for raw_line, text_line in lines:
        lineno += 1
        if not pending_text:
            start = lineno
        pending_bytes.append(raw_line)
        pending_text.append(text_line)
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


def observation_time(inp: InputFile) -> datetime:
    """When an input's payloads were observed, for those that carry no time of their own: the
    modification time of the file (or of the zip holding it), or now for stdin."""
    return datetime.fromtimestamp(inp.mtime, UTC) if inp.mtime else datetime.now(UTC)
