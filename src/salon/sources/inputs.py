"""Finding the inputs to read: paths expanded into files (directories recursively, zip members,
``-`` for stdin), with what their records need to know of where they come from (an X archive's
owner, the time the file was observed). Reading records out of them is ``salon.sources.files``."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

__all__ = ["InputError", "InputFile", "iter_inputs", "observation_time", "x_archive_owner"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGIC = b"PK\x03\x04"


class InputError(Exception):
    """A path that cannot be read at all (missing, permission denied)."""


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
    # Set when the file's container is truncated or corrupt (see ``streams.StreamBroken``):
    # where and why reading stopped. The records before it are kept; the file is incomplete.
    broken: str | None = None


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
    import stat

    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        # A FIFO (``<(zcat f.gz)``, ``mkfifo``) or a device is read once, as a stream, like
        # stdin: opening it to sniff it first would take bytes its one reader must get (and the
        # second open would wait for a writer that never comes).
        yield InputFile(str(path), lambda: path.open("rb"))
        return
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if magic == ZIP_MAGIC:
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            yield InputFile(
                str(path),
                lambda: io.BytesIO(b""),
                st.st_size,
                st.st_mtime,
                broken=(
                    f"not a readable zip archive (truncated or corrupt): {exc}; the table of contents at"
                    f" the end of its {st.st_size:,} bytes is missing or damaged, so no member was read"
                ),
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


def observation_time(inp: InputFile) -> datetime:
    """When an input's payloads were observed, for those that carry no time of their own: the
    modification time of the file (or of the zip holding it), or now for stdin."""
    return datetime.fromtimestamp(inp.mtime, UTC) if inp.mtime else datetime.now(UTC)
