"""The two-stage write of a file import's records (``pipelined``): a thread reads, hashes and
makes ready the next batch while this one writes the previous, each batch by the X v2 bulk path
(``salon.ingest.bulk``) or the Python normalisers (``salon.ingest.batches``); and how the records
of the import's files are cut into batches (``file_chunks``): by size, across files, so a folder
of many small files is written in a few transactions, each record keeping its own file and
line (``Origin``)."""

from __future__ import annotations

import queue
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import duckdb
import pyarrow as pa

from salon.ingest import batches, bulk
from salon.ingest.batches import BatchOutcome, file_part
from salon.sources.files import InputFile, RawRecord, read_records
from salon.store import x_v2_read, x_v2_sql
from salon.store.batch import Origin, raw_id
from salon.store.writer import Writer

__all__ = [
    "AHEAD",
    "BULK_BATCH_BYTES",
    "DEFAULT_BATCH",
    "DEFAULT_BATCH_BYTES",
    "Chunk",
    "Reading",
    "file_chunks",
    "max_batch_bytes",
    "pipelined",
]

DEFAULT_BATCH = 20_000
DEFAULT_BATCH_BYTES = 8 << 20  # a batch also ends after this many payload bytes (bounded memory)
# X v2 lines parsed by DuckDB: every batch costs ~45 statements whatever its size, so bigger
# batches are faster; the payloads are held once (an Arrow buffer), not as Python objects.
# The preparing thread parses a batch while the writer derives and writes the previous one
# (``bulk.parse_apart``), both in DuckDB's one memory budget, the parse and the writer's commits
# taking turns (``bulk.MemoryWatch``). 900 MB file: 22.1-23.6 s, peak RSS 423-437 MB; 1.8 GB
# file: 48-53 s, 430-453 MB (24 MB batches, a 192 MB budget, checkpoints every 64 MB). Parsed one
# batch at a time by the writer, the 900 MB import took 24.1-25.0 s (24 MB batches, 160 MB). A
# batch that does not fit is split (``bulk.write_bulk``), so a file of unusually large pages is
# slower, not failed.
BULK_BATCH_BYTES = 24 << 20


_END = object()


def _existing_raw_ids(
    writer: Writer, ids: list[str], cur: duckdb.DuckDBPyConnection, stop: threading.Event
) -> set[str]:
    """``writer.existing_raw_ids`` from the preparing thread. Its small query shares DuckDB's
    memory limit with the batch being written, which may hold all of it for a moment: then it
    waits for that statement to finish, rather than failing the import."""
    delay = 0.01
    for _ in range(_OOM_RETRIES):
        try:
            return writer.existing_raw_ids(ids, con=cur)
        except duckdb.OutOfMemoryException:
            if stop.wait(delay):
                break
            delay = min(delay * 2, 0.5)
    return writer.existing_raw_ids(ids, con=cur)  # the last try raises what it raises


_OOM_RETRIES = 60  # about 25 s of waiting in all


def pipelined(
    writer: Writer,
    chunks: Iterator[Chunk],
    kw: dict[str, Any],
    before_write: Callable[[Chunk], None] | None = None,
) -> Generator[tuple[Chunk, BatchOutcome], None, None]:
    """Check, normalise and write ``chunks`` (as ``ingest_batch`` does) in two stages: a thread
    reads and hashes the next batch and makes it ready, while this one writes the previous
    batch, and yields each chunk (its records let go) with what it did, each file's part in
    ``BatchOutcome.by_file``. ``before_write`` is called with each chunk, from this thread,
    just before it is written (the importer queues its files' rows there, written in the
    batch's transaction). Ready means, for X v2 lines (``Chunk.x_v2``), one Arrow table of the lines and their
    compressed raw blocks, parsed by DuckDB on a connection of the preparing thread
    (``parse_apart``), then derived and written by the writer (``salon.store.x_v2_sql``); for
    any other batch, or one the bulk path turns down, parsed and normalised in Python
    (``prepare_batch``). DuckDB, zstd and hashlib release the GIL, so on two cores the stages
    overlap. The next batch is read once the writer took the last (bounded memory).

    Records already stored are found with a cursor of the writer's archive, which sees committed
    batches only; the raw ids of the batches still queued or being written are checked too."""
    q: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    # Set when the bulk path turns a batch down: the rest of the file is likely the same shape
    # (a users file, an unusual producer), so it goes straight to the Python normaliser.
    turned_down = threading.Event()
    memory = bulk.MemoryWatch()
    # Each of the writer's statements gives up the GIL and must get it back from the preparing
    # thread: with Python's default 5 ms switch interval that wait dominated.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_INTERVAL)

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        cur = writer.con.cursor()
        in_flight: deque[set[str]] = deque(maxlen=AHEAD + 2)
        n_bulk = 0
        try:
            for meta in chunks:
                chunk, origins = meta.records, meta.origins
                meta.records, meta.origins = [], []  # what travels on with the outcome
                ids = [raw_id(r.payload) for r in chunk]
                existing = _existing_raw_ids(writer, ids, cur, stop) if ids else set()
                for pending in in_flight:
                    existing.update(i for i in ids if i in pending)
                if meta.fresh:  # a new file: the bulk path is tried again
                    turned_down.clear()
                item: tuple[Any, ...] | None = None
                if meta.x_v2 and not turned_down.is_set() and bulk.bulk_records(chunk):
                    kept: list[int] = []
                    payloads, rids, linenos, dups = bulk.new_lines(chunk, ids, existing, kept)
                    new_origins = [origins[i] for i in kept]
                    # Each file's records left out as already stored.
                    dup_by_file = Counter(o.file_id for o in origins)
                    dup_by_file.subtract(o.file_id for o in new_origins)
                    if not payloads:
                        out = BatchOutcome(records_in=len(chunk), records_duplicate=dups)
                        _add_duplicates(out, dup_by_file)
                        item = ("done", meta, out)
                    elif not bulk.read_alike(payloads):
                        pass  # read in Python, the whole batch (repeated bad lines included)
                    elif (
                        lines := x_v2_sql.prepare_lines(cur, payloads, rids, linenos, new_origins)
                    ) and x_v2_read.read_once(cur, lines.table):
                        in_flight.append(set(rids))
                        at: list[int] = []
                        repeats = bulk.repeated(chunk, ids, existing, at)
                        repeat_origins = [origins[i] for i in at]
                        item = ("bulk", meta, lines, len(chunk), dups, dup_by_file, repeats, repeat_origins)
                        # The payloads are held once, in ``lines``, while the batch is parsed.
                        payloads.clear()
                        chunk.clear()
                        # Two connections in turn: the writer may still be reading the
                        # previous batch's tables from the other.
                        if not memory.short.is_set():
                            with memory.apart:
                                bulk.parse_apart(lines, parse_cons[n_bulk % 2])
                            n_bulk += 1
                    del payloads
                if item is None:
                    batch, out = batches.prepare_batch(chunk, ids, existing, origins=origins, **kw)
                    batch.freeze()
                    in_flight.append(set(batch.raw["raw_id"]))
                    item = ("python", meta, batch, out)
                del chunk, ids, existing, origins  # not held while waiting for the writer (memory)
                if not put(item):
                    return
                # Start the next batch only once the writer took this one: one batch ready
                # beside the one being written, not two (24 MB batches: ~35 MB less at the
                # peak). Reading, hashing and parsing a batch (~12 s of a 900 MB file) take less
                # than deriving and writing it (~16 s), so the writer seldom waits.
                while not q.empty() and not stop.is_set():
                    stop.wait(0.002)
            put(_END)
        except BaseException as exc:  # handed to the writing side, which raises it
            put(exc)
        finally:
            cur.close()

    parse_cons = [writer.con.cursor(), writer.con.cursor()]
    worker = threading.Thread(target=produce, name="salon-import-prepare", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            meta = item[1]
            if before_write:
                before_write(meta)
            if item[0] == "done":
                yield meta, item[2]
            elif item[0] == "bulk":
                _, _, lines, records_in, dups, dup_by_file, repeats, repeat_origins = item
                out = bulk.write_bulk(writer, lines, kw, turned_down, memory, repeats, repeat_origins)
                out.records_in += records_in - len(lines)
                out.records_duplicate += dups
                _add_duplicates(out, dup_by_file)
                item = lines = None  # the batch's buffers go before the next is taken
                # Arrow's allocator keeps what a batch freed for reuse, per thread; over a
                # 1.8 GB file what it kept grew by ~40 MB. Given back after each batch.
                pa.default_memory_pool().release_unused()
                yield meta, out
            else:
                _, _, batch, out = item
                yield meta, batches.write_batch(writer, batch, out, kw.get("import_id"))
    finally:
        stop.set()
        worker.join()
        for c in parse_cons:
            c.close()
        sys.setswitchinterval(switch)


AHEAD = 1  # prepared batches waiting for the writer


_SWITCH_INTERVAL = 1e-4  # seconds


def _add_duplicates(out: BatchOutcome, dup_by_file: Counter[int | None]) -> None:
    """Count each file's records left out as already stored in its part of ``out``."""
    for fid, n in dup_by_file.items():
        if n:
            part = file_part(out, fid)
            part.records_in += n
            part.records_duplicate += n


@dataclass
class Chunk:
    """One batch of a file import: records of one or more files, each with its ``Origin``; the
    files (positions in the import's inputs) whose reading starts in it (``started``: their
    first record, or their end for a file without records) and ends with it (``ended``: their
    last record is in it or in an earlier chunk); and whether its records are X v2 lines for
    the bulk path (a chunk never mixes X v2 files with others)."""

    records: list[RawRecord] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    x_v2: bool = False
    started: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    fresh: bool = False  # holds a file's first record
    nbytes: int = 0


def _cut(chunk: Chunk, at: int) -> Chunk:
    """The part of ``chunk`` before record ``at`` (with its files' starts and ends)."""
    head = chunk.records[:at]
    return Chunk(
        head,
        chunk.origins[:at],
        chunk.x_v2,
        chunk.started,
        chunk.ended,
        chunk.fresh,
        sum(len(r.payload) for r in head),
    )


def _rest(chunk: Chunk, at: int) -> Chunk:
    """The part of ``chunk`` from record ``at`` on (a file's first records)."""
    tail = chunk.records[at:]
    return Chunk(tail, chunk.origins[at:], chunk.x_v2, fresh=True, nbytes=sum(len(r.payload) for r in tail))


def max_batch_bytes(x_v2: bool, batch_bytes: int | None = None) -> int:
    """Bytes of payload after which a batch ends: ``batch_bytes`` if given, else the bulk path's
    ``BULK_BATCH_BYTES`` for X v2 lines and ``DEFAULT_BATCH_BYTES`` for the rest."""
    return batch_bytes or (BULK_BATCH_BYTES if x_v2 else DEFAULT_BATCH_BYTES)


@dataclass
class Reading:
    """How far ``file_chunks`` has read: the position of the file it is reading (or last read)."""

    at: int = 0


def file_chunks(
    inputs: list[InputFile],
    origins: list[Origin],
    *,
    fmt: str | None,
    fast: bool,
    size: int,
    batch_bytes: int | None,
    reading: Reading,
) -> Iterator[Chunk]:
    """The records of every input, file after file, cut into chunks of ``size`` records or
    ``batch_bytes`` bytes of payload (default ``BULK_BATCH_BYTES`` for X v2 lines, else
    ``DEFAULT_BATCH_BYTES``), across files: a folder of small files makes a few batches, not
    one per file. ``origins[i]`` is input ``i``'s. A file whose first line is X v2 (and that may
    take the bulk path) and a file that is not are never in one chunk. Streams: one chunk in
    memory at a time, each file read once."""
    chunk = Chunk()
    for idx, inp in enumerate(inputs):
        reading.at = idx
        origin = origins[idx]
        allowed = fast and bulk.bulk_source(fmt, origin.account)
        records = read_records(inp, fmt, lazy=allowed)
        first = next(records, None)
        x_v2 = bool(allowed and first is not None and bulk.bulk_records([first]) and bulk.looks_x_v2(first))
        if first is not None and chunk.records and chunk.x_v2 != x_v2:
            yield chunk
            chunk = Chunk()
        chunk.started.append(idx)
        if first is not None:
            chunk.x_v2 = x_v2
            chunk.fresh = True
            max_bytes = max_batch_bytes(x_v2, batch_bytes)
            mine = len(chunk.records)  # where this file's records begin in the chunk
            full = False
            for rec in chain([first], records):
                # A full chunk goes once the next record is there: when the file ends with it
                # instead, the file's end goes with its last records (below).
                if full:
                    yield chunk
                    chunk = Chunk(x_v2=chunk.x_v2)
                    mine = 0
                if chunk.x_v2 and not bulk.bulk_records([rec]):
                    # A record the bulk path does not read (a cut last line): this file's
                    # batch goes to Python, the other files' lines before it keep the bulk path.
                    if mine:
                        yield _cut(chunk, mine)
                        chunk = _rest(chunk, mine)
                        mine = 0
                    chunk.x_v2 = False
                chunk.records.append(rec)
                chunk.origins.append(origin)
                chunk.nbytes += len(rec.payload)
                full = len(chunk.records) >= size or chunk.nbytes >= max_bytes
            if full:
                chunk.ended.append(idx)
                yield chunk
                chunk = Chunk()
                continue
        chunk.ended.append(idx)
    if chunk.records or chunk.started or chunk.ended:
        yield chunk
