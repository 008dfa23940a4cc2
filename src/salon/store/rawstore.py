"""Raw payloads, stored in compressed blocks.

Every raw record is kept byte for byte, but not one row per payload: DuckDB writes large
strings at about 100 MB/s, so a 900 MB twarc2 file spent longer storing its lines than parsing
them. Payloads are concatenated, in the order they arrive, into blocks of about
``BLOCK_BYTES`` and each block is stored as one zstd frame in ``raw_blocks``; a ``raw`` row
says where its payload is (``block_id``, ``block_offset``, ``block_length`` in the
decompressed block).

>>> from salon.store.archive import open_archive
>>> from salon.store.rawstore import payload_of
>>> arc = open_archive("salon.duckdb", read_only=True)          # doctest: +SKIP
>>> payload_of(arc.con, "5b0c...")                               # doctest: +SKIP
b'{"data": [...'
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import zstandard

from salon.store.relations import registered

__all__ = [
    "BLOCK_BYTES",
    "CODEC",
    "BlockReader",
    "Packed",
    "iter_payloads",
    "pack",
    "payload_of",
    "store_blocks",
]

CODEC = "zstd"
# Small enough to stay under DuckDB's 256 KB storage block once compressed (large blobs become
# overflow chains, slower to write and read) and to decompress quickly for one post's
# provenance; large enough for zstd to find the repetition between JSON records.
BLOCK_BYTES = 128 << 10
LEVEL = 1  # zstd's fastest standard level: ~500 MB/s and 4-6x on JSON


@dataclass
class Packed:
    """Payloads packed into compressed blocks: ``blocks[k]`` is a zstd frame; payload ``i`` is
    ``length[i]`` bytes at ``offset[i]`` of decompressed block ``block[i]``."""

    blocks: list[bytes]
    block: list[int]
    offset: list[int]
    length: list[int]


def pack(payloads: Sequence[bytes | memoryview], *, block_bytes: int = BLOCK_BYTES) -> Packed:
    """Pack payloads, in order, into zstd-compressed blocks of about ``block_bytes``."""
    cctx = zstandard.ZstdCompressor(level=LEVEL)
    out = Packed([], [], [], [])
    parts: list[bytes | memoryview] = []
    size = 0

    def flush() -> None:
        nonlocal parts, size
        if parts:
            out.blocks.append(cctx.compress(b"".join(parts)))
            parts, size = [], 0

    for p in payloads:
        n = len(p)
        if size and size + n > block_bytes:
            flush()
        out.block.append(len(out.blocks))
        out.offset.append(size)
        out.length.append(n)
        parts.append(p)
        size += n
    flush()
    return out


def store_blocks(con: duckdb.DuckDBPyConnection, packed: Packed) -> list[int]:
    """Insert the blocks of ``packed`` into ``raw_blocks`` (inside the caller's transaction) and
    return each payload's ``block_id``."""
    if not packed.blocks:
        return []
    first = con.execute("SELECT nextval('raw_block_seq') FROM range(?)", [len(packed.blocks)]).fetchall()
    ids = [int(r[0]) for r in first]
    tbl = pa.table(
        {
            "block_id": pa.array(ids, pa.int64()),
            "data": pa.array(packed.blocks, pa.binary()),
        }
    )
    with registered(con, _raw_blocks_in=tbl):
        con.execute(f"INSERT INTO raw_blocks SELECT block_id, '{CODEC}', data FROM _raw_blocks_in")
    return [ids[b] for b in packed.block]


class BlockReader:
    """Reads payloads back, decompressing each block once while it is in use (a small cache:
    payloads are read in storage order by exports, one at a time by the web app)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cache: int = 8) -> None:
        self.con = con
        self.cache: OrderedDict[int, bytes] = OrderedDict()
        self.size = cache
        self.dctx = zstandard.ZstdDecompressor()

    def block(self, block_id: int) -> bytes:
        data = self.cache.get(block_id)
        if data is not None:
            self.cache.move_to_end(block_id)
            return data
        row = self.con.execute("SELECT codec, data FROM raw_blocks WHERE block_id = ?", [block_id]).fetchone()
        if row is None:
            raise KeyError(f"raw block {block_id} is missing")
        codec, blob = row
        if codec != CODEC:
            raise ValueError(f"raw block {block_id}: unknown codec {codec!r}")
        data = self.dctx.decompress(bytes(blob))
        self.cache[block_id] = data
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return data

    def payload(self, block_id: int, offset: int, length: int) -> bytes:
        return self.block(block_id)[offset : offset + length]


def payload_of(con: duckdb.DuckDBPyConnection, raw_id: str) -> bytes | None:
    """The payload of one raw record, exactly as received (None if there is no such record)."""
    row = con.execute(
        "SELECT block_id, block_offset, block_length FROM raw WHERE raw_id = ?", [raw_id]
    ).fetchone()
    if row is None:
        return None
    return BlockReader(con, cache=1).payload(*row)


def iter_payloads(
    con: duckdb.DuckDBPyConnection, where: str = "", params: Sequence[object] = (), *, fetch: int = 10_000
) -> Iterator[tuple[str, bytes]]:
    """``(raw_id, payload)`` of the raw records matching ``where`` (an SQL condition on ``raw``),
    in the order they were received. Streams: one block in memory at a time."""
    cur = con.cursor()
    reader = BlockReader(cur)
    rows = con.cursor()
    rows.execute(
        "SELECT raw_id, block_id, block_offset, block_length FROM raw"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY received_at, block_id, block_offset",
        list(params),
    )
    while batch := rows.fetchmany(fetch):
        for rid, block_id, offset, length in batch:
            yield rid, reader.payload(block_id, offset, length)


def migrate_payloads(con: duckdb.DuckDBPyConnection, *, step: int = 2000) -> None:
    """Migration 0006: move an older archive's inline payloads (table ``raw_0005``) into blocks,
    in the order they were received, inside the migration's transaction."""
    con.execute(
        "CREATE TEMP TABLE _raw_order AS SELECT raw_id, row_number() OVER"
        " (ORDER BY received_at, file_id, line, raw_id) AS n FROM raw_0005"
    )
    total = int(con.execute("SELECT count(*) FROM _raw_order").fetchone()[0])  # type: ignore[index]
    for start in range(1, total + 1, step):
        rows = con.execute(
            "SELECT r.raw_id, r.format, r.payload, r.file_id, r.line, r.source, r.retrieved_at,"
            " r.salon_version, r.received_at FROM raw_0005 r JOIN _raw_order o USING (raw_id)"
            " WHERE o.n BETWEEN ? AND ? ORDER BY o.n",
            [start, start + step - 1],
        ).fetchall()
        packed = pack([bytes(r[2]) for r in rows])
        block_ids = store_blocks(con, packed)
        con.executemany(
            "INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r[0], r[1], b, o, n, r[3], r[4], r[5], r[6], r[7], r[8])
                for r, b, o, n in zip(rows, block_ids, packed.offset, packed.length, strict=True)
            ],
        )
    con.execute("DROP TABLE _raw_order")
    con.execute("DROP TABLE raw_0005")
