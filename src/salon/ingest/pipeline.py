"""The two-stage write of a file's records (``pipelined``): a thread reads, hashes and makes
ready the next batch while this one writes the previous, each batch by the X v2 bulk path
(``salon.ingest.bulk``) or the Python normalisers (``salon.ingest.batches``); and how records are
cut into batches (``chunks``)."""

from __future__ import annotations

import queue
import sys
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from salon.ingest import batches, bulk
from salon.ingest.batches import BatchOutcome
from salon.sources.files import RawRecord
from salon.store import x_v2_read, x_v2_sql
from salon.store.batch import raw_id
from salon.store.writer import Writer

__all__ = ["AHEAD", "BULK_BATCH_BYTES", "DEFAULT_BATCH", "DEFAULT_BATCH_BYTES", "chunks", "pipelined"]

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
    writer: Writer, chunks: Iterator[list[RawRecord]], kw: dict[str, Any], x_v2: bool = False
) -> Iterator[BatchOutcome]:
    """Check, normalise and write ``chunks`` (as ``ingest_batch`` does) in two stages: a thread
    reads and hashes the next batch and makes it ready, while this one writes the previous
    batch. Ready means, for X v2 lines (``x_v2``), one Arrow table of the lines and their
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
            for chunk in chunks:
                ids = [raw_id(r.payload) for r in chunk]
                existing = _existing_raw_ids(writer, ids, cur, stop)
                for pending in in_flight:
                    existing.update(i for i in ids if i in pending)
                item: tuple[Any, ...] | None = None
                if x_v2 and not turned_down.is_set() and bulk.bulk_records(chunk):
                    payloads, rids, linenos, dups = bulk.new_lines(chunk, ids, existing)
                    if not payloads:
                        item = ("done", BatchOutcome(records_in=len(chunk), records_duplicate=dups))
                    elif not bulk.read_alike(payloads):
                        pass  # read in Python, the whole batch (repeated bad lines included)
                    elif (
                        lines := x_v2_sql.prepare_lines(cur, payloads, rids, linenos)
                    ) and x_v2_read.read_once(cur, lines.table):
                        in_flight.append(set(rids))
                        repeats = bulk.repeated(chunk, ids, existing)
                        item = ("bulk", lines, len(chunk), dups, repeats)
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
                    batch, out = batches.prepare_batch(chunk, ids, existing, **kw)
                    batch.freeze()
                    in_flight.append(set(batch.raw["raw_id"]))
                    item = ("python", batch, out)
                del chunk, ids, existing  # not held while waiting for the writer (memory)
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

    parse_cons = [writer.con.cursor(), writer.con.cursor()] if x_v2 else []
    worker = threading.Thread(target=produce, name="salon-import-prepare", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            if item[0] == "done":
                yield item[1]
            elif item[0] == "bulk":
                _, lines, records_in, dups, repeats = item
                out = bulk.write_bulk(writer, lines, kw, turned_down, memory, repeats)
                out.records_in += records_in - len(lines)
                out.records_duplicate += dups
                item = lines = None  # the batch's buffers go before the next is taken
                # Arrow's allocator keeps what a batch freed for reuse, per thread; over a
                # 1.8 GB file what it kept grew by ~40 MB. Given back after each batch.
                pa.default_memory_pool().release_unused()
                yield out
            else:
                _, batch, out = item
                yield batches.write_batch(writer, batch, out, kw.get("import_id"))
    finally:
        stop.set()
        worker.join()
        for c in parse_cons:
            c.close()
        sys.setswitchinterval(switch)


AHEAD = 1  # prepared batches waiting for the writer


_SWITCH_INTERVAL = 1e-4  # seconds


def chunks(
    records: Iterator[RawRecord], size: int, max_bytes: int = DEFAULT_BATCH_BYTES
) -> Iterator[list[RawRecord]]:
    chunk: list[RawRecord] = []
    nbytes = 0
    for rec in records:
        chunk.append(rec)
        nbytes += len(rec.payload)
        if len(chunk) >= size or nbytes >= max_bytes:
            yield chunk
            chunk = []
            nbytes = 0
    if chunk:
        yield chunk
