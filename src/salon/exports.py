"""Exports: raw records back out exactly as received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from salon.store.archive import Archive

__all__ = ["export_raw", "iter_raw"]


def iter_raw(arc: Archive, *, fmt: str | None = None, batch: int = 10_000) -> Iterator[bytes]:
    """Every stored raw payload, byte-identical, in the order it was received."""
    where = "WHERE format = ?" if fmt else ""
    cur = arc.con.cursor()
    cur.execute(f"SELECT payload FROM raw {where} ORDER BY received_at, file_id, line", [fmt] if fmt else [])
    while rows := cur.fetchmany(batch):
        for (payload,) in rows:
            yield bytes(payload)


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
