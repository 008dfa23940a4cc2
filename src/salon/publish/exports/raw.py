"""Exports: raw records back out exactly as received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from salon.store.archive import Archive
from salon.store.rawstore import iter_payloads

__all__ = ["export_raw", "iter_raw"]


def iter_raw(arc: Archive, *, fmt: str | None = None) -> Iterator[bytes]:
    """Every stored raw payload, byte-identical, in the order it was received."""
    for _rid, payload in iter_payloads(arc.con, "format = ?" if fmt else "", [fmt] if fmt else []):
        yield payload


def export_raw(arc: Archive, out: IO[bytes], *, fmt: str | None = None) -> int:
    """Write every raw payload to ``out``, one per line (payloads of JSON lines never hold a
    newline; pretty-printed documents and CSV rows with quoted newlines keep theirs, which is
    why ``--format`` lets one export a single format). Returns the number written."""
    n = 0
    for payload in iter_raw(arc, fmt=fmt):
        out.write(payload)
        out.write(b"\n")
        n += 1
    return n
