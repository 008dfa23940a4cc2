"""Import files into an archive: the library API behind ``salon import``.

>>> from salon.importer import import_paths
>>> report = import_paths(["tweets.jsonl"], archive="salon.duckdb")   # doctest: +SKIP
>>> report.posts_new                                                   # doctest: +SKIP

Records are read streaming, checked against the raw records already stored (by hash of their
bytes), normalised, and written in batches, one transaction each. X v2 lines (twarc2 files)
are parsed and normalised by DuckDB (``salon.store.x_v2_sql``), every other format by the Python
normalisers (``salon.normalize``); a thread reads, hashes and parses the next batch while one
is written.
"""

from __future__ import annotations

import contextlib
import queue
import shlex
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from salon import normalize
from salon.campaigns.index import refresh_after_import
from salon.model import Author
from salon.normalize import BadRecord, Context
from salon.sources.files import (
    InputFile,
    RawRecord,
    iter_inputs,
    observation_time,
    read_records,
    x_archive_owner,
)
from salon.store import x_v2_sql
from salon.store.archive import Archive, open_archive
from salon.store.writer import Batch, Writer, raw_id

__all__ = [
    "BatchOutcome",
    "FileReport",
    "ImportReport",
    "Problem",
    "import_paths",
    "ingest_batch",
    "record_from_payload",
]

DEFAULT_BATCH = 20_000
DEFAULT_BATCH_BYTES = 8 << 20  # a batch also ends after this many payload bytes (bounded memory)
# X v2 lines parsed by DuckDB: every batch costs ~45 statements whatever its size, so bigger
# batches are faster; the payloads are held once (an Arrow buffer), not as Python objects.
# The preparing thread parses a batch while the writer derives and writes the previous one
# (``_parse_apart``), both in DuckDB's one memory budget, the parse and the writer's commits
# taking turns (``_MemoryWatch``). 900 MB file: 22.1-23.6 s, peak RSS 423-437 MB; 1.8 GB file:
# 48-53 s, 430-453 MB (24 MB batches, a 192 MB budget, checkpoints every 64 MB). Parsed one batch
# at a time by the writer, the 900 MB import took 24.1-25.0 s (24 MB batches, 160 MB). A batch
# that does not fit is split (``_write_bulk``), so a file of unusually large pages is slower,
# not failed.
BULK_BATCH_BYTES = 24 << 20
IMPORT_MEMORY_LIMIT = "192MB"  # DuckDB's share during an import; spills to disk beyond it
_IMPORT_SETTINGS = {
    "memory_limit": IMPORT_MEMORY_LIMIT,
    # One thread per statement: the preparing thread's and the writer's statements run at the
    # same time, one per CPU. A batch's statements are too small for DuckDB's parallelism to
    # pay: with two threads the writer alone took 35.5 s against 29.5 s, and 41.4 s of CPU
    # against 34.0 s (900 MB file, 16 MB batches, parsed by the writer).
    "threads": "1",
    # What was written since the last checkpoint stays in memory (the raw blocks above all) and
    # checkpoints are where the memory peaks. 900 MB file: DuckDB's default (16 MB) spent 12 of
    # 55 s in commits; with 512 MB, RSS climbed from 353 to 442 MB between checkpoints. 64 MB
    # rather than 128 MB since the peaks come at checkpoints, though the peaks measured with
    # either (parse beside the writer) did not clearly differ.
    "checkpoint_threshold": "64MB",
}


@dataclass
class Problem:
    """A bad record or an unreadable file, as shown to the user (one line)."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class FileReport:
    path: str
    format: str | None = None
    records_in: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    records_bad: int = 0
    posts_new: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, out: BatchOutcome, problems: list[Problem], formats: dict[str, int]) -> None:
        """Count one batch's outcome in this file's report, its problems in ``problems`` and the
        formats it was read as in ``formats``."""
        self.records_in += out.records_in
        self.records_new += out.records_new
        self.records_duplicate += out.records_duplicate
        self.records_bad += out.records_bad
        self.posts_new += out.posts_new
        problems.extend(out.problems)
        for k, v in out.formats.items():
            formats[k] = formats.get(k, 0) + v

    def close(self, inp: InputFile, problems: list[Problem], formats: dict[str, int]) -> dict[str, int]:
        """Finish the report once the file is read (its notes, main format, an empty file named in
        ``problems``) and return the counts ``import_files`` records."""
        self.notes = list(inp.notes)
        self.format = max(formats, key=formats.__getitem__) if formats else None
        if self.records_in == 0 and "empty file" in inp.notes:
            problems.append(Problem(inp.label, 0, "empty file: nothing to import"))
        return {
            "in": self.records_in,
            "new": self.records_new,
            "duplicate": self.records_duplicate,
            "bad": self.records_bad,
        }


@dataclass
class ImportReport:
    """What an import did; ``ok`` is False only when nothing at all could be read."""

    import_id: int = 0
    files: list[FileReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    interrupted: bool = False

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def records_in(self) -> int:
        return self._sum("records_in")

    @property
    def records_new(self) -> int:
        return self._sum("records_new")

    @property
    def records_duplicate(self) -> int:
        return self._sum("records_duplicate")

    @property
    def records_bad(self) -> int:
        return self._sum("records_bad")

    @property
    def posts_new(self) -> int:
        return self._sum("posts_new")

    def counts(self) -> dict[str, int]:
        """The totals recorded in the ``imports`` table."""
        return {
            "in": self.records_in,
            "new": self.records_new,
            "duplicate": self.records_duplicate,
            "bad": self.records_bad,
            "posts_new": self.posts_new,
        }

    @property
    def ok(self) -> bool:
        return self.records_in - self.records_bad > 0 or (self.records_in == 0 and not self.problems)


ProgressFn = Callable[[int, int], None]  # (bytes advanced, posts advanced)


def import_arguments(paths: list[str], fmt: str | None) -> str:
    """The command line an import is recorded with in ``imports.arguments``."""
    return shlex.join(["import", *paths] + (["--format", fmt] if fmt else []))


def import_paths(
    paths: list[str],
    archive: Archive | str | None = None,
    *,
    fmt: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressFn | None = None,
    on_file: Callable[[InputFile], None] | None = None,
    fast: bool = True,
    batch_bytes: int | None = None,
) -> ImportReport:
    """Import files, directories, compressed files or ``-`` (stdin) into ``archive``.

    X API v2 JSON lines (twarc2 files) are parsed by DuckDB, set-based
    (``salon.store.x_v2_sql``), giving the same tables as the Python normaliser, which reads
    every other format (and every X v2 batch when ``fast`` is false). A batch ends after
    ``batch_size`` records or ``batch_bytes`` bytes of payload (by default
    ``BULK_BATCH_BYTES`` where the bulk path may read the file, else ``DEFAULT_BATCH_BYTES``).

    ``fmt`` forces a format (see ``salon.normalize.formats()``); by default it is sniffed per
    record. Bad records are quarantined and listed in ``report.problems``; they never stop the
    import. Raises ``salon.sources.files.InputError`` for a path that does not exist."""
    if fmt is not None:
        normalize.get(fmt)  # fail early on an unknown format name
    own = not isinstance(archive, Archive)
    arc = open_archive(archive) if not isinstance(archive, Archive) else archive
    writer = Writer(arc)
    report = ImportReport()
    inputs = list(iter_inputs(paths))  # resolve every path before writing anything
    # DuckDB would otherwise cache up to 80% of the machine's memory; an import streams, so its
    # peak memory must not grow with the input (DESIGN.md, Performance: <= 500 MB).
    previous = {k: arc.scalar(f"SELECT current_setting('{k}')") for k in _IMPORT_SETTINGS}
    for k, v in _IMPORT_SETTINGS.items():
        arc.con.execute(f"SET {k} = '{v}'")
    report.import_id = writer.start_import("import", import_arguments(paths, fmt))
    status = "done"
    try:
        for inp in inputs:
            if on_file:
                on_file(inp)
            report.files.append(
                _import_file(writer, report, inp, fmt, batch_size, progress, fast, batch_bytes)
            )
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
        raise
    finally:
        # The campaign indexes refreshed when the import finishes are large statements, which
        # DuckDB's threads do speed up.
        arc.con.execute(f"SET threads = '{previous['threads']}'")
        writer.finish_import(report.import_id, status, report.counts())
        if status == "done":
            refresh_after_import(arc)
        # Checkpoint within the import's memory budget: the checkpoint DuckDB makes when the
        # archive is closed would use its default budget (900 MB file: peak RSS 625-683 MB
        # instead of 400-480 MB).
        # (It fails when another connection's transaction is open: DuckDB checkpoints later.)
        with contextlib.suppress(duckdb.Error):
            arc.con.execute("CHECKPOINT")
        for k, v in previous.items():
            if k != "threads":  # given back above
                arc.con.execute(f"SET {k} = '{v}'")
        if own:
            arc.close()
    return report


@dataclass
class BatchOutcome:
    """What one batch of records did (see ``ingest_batch``)."""

    records_in: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    records_bad: int = 0
    posts_new: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def record_from_payload(payload: bytes, line: int = 0, hint: str | None = None) -> RawRecord:
    """A raw record from bytes received over the network (parsed; ``error`` set if not JSON)."""
    try:
        return RawRecord(payload, line, orjson.loads(payload), hint)
    except orjson.JSONDecodeError as exc:
        return RawRecord(payload, line, error=f"malformed JSON: {exc}")


def ingest_batch(
    writer: Writer,
    records: list[RawRecord],
    *,
    source: str,
    fmt: str | None = None,
    observed_at: datetime | None = None,
    retrieved_at: datetime | None = None,
    file_id: int | None = None,
    import_id: int | None = None,
    account: Author | None = None,
) -> BatchOutcome:
    """Check, normalise and write one batch of raw records in one transaction.

    The path of live collectors, web ingest and replay (file imports use ``prepare_batch`` and
    ``write_batch`` pipelined): records already stored (same bytes) are counted as duplicates
    and skipped whole, bad ones are quarantined with ``source`` and line, the rest are stored
    raw with their provenance and normalised by the Python normalisers."""
    observed = observed_at or retrieved_at or datetime.now(UTC)
    ids = [raw_id(r.payload) for r in records]
    existing = writer.existing_raw_ids(ids)
    batch, out = prepare_batch(
        records,
        ids,
        existing,
        source=source,
        fmt=fmt,
        observed_at=observed,
        retrieved_at=retrieved_at,
        file_id=file_id,
        import_id=import_id,
        account=account,
    )
    return write_batch(writer, batch, out, import_id)


def prepare_batch(
    records: list[RawRecord],
    ids: list[str],
    existing: set[str],
    *,
    source: str,
    fmt: str | None,
    observed_at: datetime,
    retrieved_at: datetime | None = None,
    file_id: int | None = None,
    import_id: int | None = None,
    account: Author | None = None,
) -> tuple[Batch, BatchOutcome]:
    """The CPU half of ``ingest_batch``, which needs no archive: parse and normalise the records
    whose raw id (``ids``) is not in ``existing`` into a ``Batch``, quarantining the bad ones."""
    out = BatchOutcome()
    ctx = Context(observed_at=observed_at, account=account)
    batch = Batch()
    in_batch: set[str] = set()

    def bad(rec: RawRecord, reason: str) -> None:
        out.records_bad += 1
        out.problems.append(Problem(source, rec.line, reason))
        batch.quarantine.append(
            (import_id, file_id, source, rec.line, reason, rec.payload, datetime.now(UTC))
        )

    for rec, rid in zip(records, ids, strict=True):
        out.records_in += 1
        # A duplicate is not parsed: its bytes were stored raw, so they parse (a line that is not
        # JSON is never stored raw). A reader's error still comes first, as it always did.
        if rec.error is None and (rid in existing or rid in in_batch):
            out.records_duplicate += 1
            continue
        rec.parse()
        if rec.error is not None:
            bad(rec, rec.error)
            continue
        try:
            rec_fmt = fmt or rec.hint or normalize.sniff(rec.obj)
            if rec_fmt is None:
                raise BadRecord(_unknown(rec.obj))
            items = list(normalize.get(rec_fmt)(rec.obj, ctx))
        except BadRecord as exc:
            bad(rec, str(exc))
            continue
        in_batch.add(rid)
        out.formats[rec_fmt] = out.formats.get(rec_fmt, 0) + 1
        batch.add_raw(rid, rec_fmt, rec.payload, file_id, rec.line, source, retrieved_at)
        batch.add_items(items, rid, observed_at)
    return batch, out


def write_batch(
    writer: Writer, batch: Batch, out: BatchOutcome, import_id: int | None = None
) -> BatchOutcome:
    """The writing half of ``ingest_batch``: one transaction."""
    result = writer.write(batch, import_id)
    out.records_new = result.raw_new
    out.posts_new = result.posts_new
    return out


def _bulk_source(fmt: str | None, account: Author | None) -> bool:
    """Whether records of this origin may take the X v2 bulk path (``salon.store.x_v2_sql``):
    no other declared format, no archive owner."""
    return fmt in (None, x_v2_sql.FORMAT) and account is None


def _bulk_records(records: list[RawRecord]) -> bool:
    """Whether a batch is made of what the bulk path reads: unparsed JSON lines. A last line
    without newline (maybe truncated) is left to Python, which says so if it is not JSON."""
    return bool(records) and not any(r.parsed or not r.eol for r in records)


def _looks_x_v2(rec: RawRecord) -> bool:
    """Whether a file's first line is X v2 (the bulk path is not tried on other formats)."""
    try:
        return normalize.sniff(orjson.loads(rec.payload)) == x_v2_sql.FORMAT
    except orjson.JSONDecodeError:
        return False


def _new_lines(
    records: list[RawRecord], ids: list[str], existing: set[str]
) -> tuple[list[bytes], list[str], list[int], int]:
    """The payloads, raw ids and line numbers of the records not stored yet (nor repeated in
    the batch), and how many were left out as duplicates."""
    payloads: list[bytes] = []
    rids: list[str] = []
    linenos: list[int] = []
    seen: set[str] = set()
    for rec, rid in zip(records, ids, strict=True):
        if rid in existing or rid in seen:
            continue
        seen.add(rid)
        payloads.append(rec.payload)
        rids.append(rid)
        linenos.append(rec.line)
    return payloads, rids, linenos, len(records) - len(payloads)


def _parse_apart(lines: x_v2_sql.Lines, con: duckdb.DuckDBPyConnection) -> None:
    """Parse a batch of X v2 lines on ``con`` (``x_v2_sql.parse``), from the preparing thread:
    the first half of the bulk path's work, done while the writer derives and writes the
    previous batch, so both CPUs work. When DuckDB's memory limit stops it, the writer parses
    the batch itself (in parts if need be)."""
    try:
        if x_v2_sql.parse(con, lines):
            lines.parsed_on = con
            return
        lines.readable = False
    except duckdb.OutOfMemoryException:
        pass
    x_v2_sql.drop(con)


def _commit_short_of_memory(exc: duckdb.TransactionException) -> bool:
    """Whether a failed commit failed for want of memory: DuckDB reports a commit that could not
    pin a block within its memory limit as a failed commit, not as out of memory."""
    text = str(exc).lower()
    return "pin block" in text or "out of memory" in text


class _NoMemoryToStage(Exception):
    """Writing a batch by the bulk path ran out of DuckDB's memory (nothing was written)."""


def _write_lines(
    writer: Writer,
    lines: x_v2_sql.Lines,
    records_in: int,
    duplicates: int,
    source: str,
    observed: datetime,
    file_id: int | None,
    commit_lock: AbstractContextManager[Any] | None = None,
) -> BatchOutcome | None:
    """Write a batch of new X v2 lines by the bulk path; None, having written nothing, when a
    line needs the Python normaliser (an unusual shape, malformed JSON to quarantine);
    ``_NoMemoryToStage``, having written nothing, when DuckDB's memory limit stopped it (the
    transaction is rolled back)."""
    con = writer.con
    staged = None
    staged_here = False  # temporary tables on the writer's connection, to drop once written
    try:
        if lines.parsed_on is not None:  # parsed by the preparing thread (``_parse_apart``)
            src, lines.parsed_on = lines.parsed_on, None
            try:
                x_v2_sql.derive(src, observed)
                staged = x_v2_sql.staged_tables(src)
            finally:
                x_v2_sql.drop(src)
        else:
            if not lines.readable:
                return None
            staged_here = True
            if not x_v2_sql.stage(con, lines, observed):
                return None
        result = x_v2_sql.write_staged(
            writer,
            file_id=file_id,
            source=source,
            now=datetime.now(UTC),
            lines=lines,
            staged=staged,
            commit_lock=commit_lock,
        )
    except duckdb.OutOfMemoryException as exc:
        raise _NoMemoryToStage from exc
    except duckdb.TransactionException as exc:
        if not _commit_short_of_memory(exc):
            raise
        raise _NoMemoryToStage from exc
    finally:
        if staged_here:
            x_v2_sql.drop(con)
    return BatchOutcome(
        records_in=records_in,
        records_new=result.raw_new,
        records_duplicate=duplicates,
        posts_new=result.posts_new,
        formats={x_v2_sql.FORMAT: len(lines)},
    )


class _MemoryWatch:
    """How the preparing thread's parse and the writer share DuckDB's memory.

    ``apart``: the preparing thread parses a batch and the writer commits one (checkpoints
    included) never at the same time: together they overshoot the budget by what DuckDB does
    not count in it (1.8 GB file: peaks of 466-535 MB, against 430-453 MB kept apart, for about
    15 % more time). ``short`` is set while DuckDB's budget lately stopped a bulk write: the
    preparing thread then no longer parses beside the writer, which parses each batch itself,
    one statement at a time in the budget; after ``_CLEAN_BATCHES`` batches written without
    running short, both threads parse again."""

    def __init__(self) -> None:
        self.apart = threading.Lock()
        self.short = threading.Event()
        self.clean = 0

    def ran_short(self) -> None:
        self.short.set()
        self.clean = 0

    def written(self) -> None:
        if self.short.is_set():
            self.clean += 1
            if self.clean >= _CLEAN_BATCHES:
                self.short.clear()


_CLEAN_BATCHES = 4


def _write_bulk(
    writer: Writer,
    lines: x_v2_sql.Lines,
    kw: dict[str, Any],
    turned_down: threading.Event,
    memory: _MemoryWatch,
) -> BatchOutcome:
    """Write a batch of new X v2 lines, by the bulk path where it can. When DuckDB's memory
    limit stops it (pages far larger than usual, or the next batch's parse holding memory at
    the same time), ``memory`` is told, so the preparing thread stops parsing beside the
    writer for a while, and the batch is written in halves, and halves of halves: the bulk
    path's memory follows the batch's size, the Python path's would be larger still. A single
    line that does not fit, or lines of a shape the bulk path does not read (then
    ``turned_down`` is set), are normalised in Python. Counts only the new lines
    (``records_in`` is ``len(lines)``)."""
    total = BatchOutcome()
    parts = [lines]
    ran_short = False
    while parts:
        part = parts.pop(0)
        try:
            out = _write_lines(
                writer, part, len(part), 0, kw["source"], kw["observed_at"], kw["file_id"], memory.apart
            )
            if out is None:  # a shape the bulk path does not read
                turned_down.set()
        except _NoMemoryToStage:
            # Not the lines' fault, and nothing of them is written yet.
            memory.ran_short()
            ran_short = True
            if len(part) > 1:
                parts[:0] = part.split()
                continue
            out = None
        if out is None:  # the new lines in Python
            recs = [
                RawRecord(p, ln, parsed=False) for p, ln in zip(part.payloads(), part.linenos, strict=True)
            ]
            batch, out = prepare_batch(recs, part.rids, set(), **kw)
            out = write_batch(writer, batch, out, kw.get("import_id"))
        _add(total, out)
    if not ran_short:
        memory.written()
    return total


def _add(total: BatchOutcome, out: BatchOutcome) -> None:
    """Add one outcome's counts, formats and problems to ``total``."""
    total.records_in += out.records_in
    total.records_new += out.records_new
    total.records_duplicate += out.records_duplicate
    total.records_bad += out.records_bad
    total.posts_new += out.posts_new
    for k, v in out.formats.items():
        total.formats[k] = total.formats.get(k, 0) + v
    total.problems.extend(out.problems)


def _import_file(
    writer: Writer,
    report: ImportReport,
    inp: InputFile,
    fmt: str | None,
    batch_size: int,
    progress: ProgressFn | None,
    fast: bool = True,
    batch_bytes: int | None = None,
) -> FileReport:
    fr = FileReport(inp.label)
    file_id = writer.start_file(report.import_id, inp.label, inp.size)
    observed = observation_time(inp)
    formats_seen: dict[str, int] = {}
    last_bytes = 0
    status = "failed"
    owner = x_archive_owner(inp)
    account = (
        Author("x", owner["accountId"], handle=owner.get("userName"), display_name=owner.get("displayName"))
        if owner
        else None
    )
    try:
        allowed = fast and _bulk_source(fmt, account)
        records = read_records(inp, fmt, lazy=allowed)
        # The first record tells whether the file is X v2 lines, hence its batches' size.
        first = next(records, None)
        bulk = allowed and first is not None and _bulk_records([first]) and _looks_x_v2(first)
        size = batch_bytes or (BULK_BATCH_BYTES if bulk else DEFAULT_BATCH_BYTES)
        chunks = _chunks(chain([first] if first is not None else [], records), batch_size, size)
        kw: dict[str, Any] = {
            "source": inp.label,
            "fmt": fmt,
            "observed_at": observed,
            "file_id": file_id,
            "import_id": report.import_id,
            "account": account,
        }
        outcomes = _pipelined(writer, chunks, kw, bulk)
        for out in outcomes:
            fr.add(out, report.problems, formats_seen)
            if progress:
                done = inp.bytes_read
                progress(done - last_bytes, out.posts_new)
                last_bytes = done
        status = "done"
    finally:
        counts = fr.close(inp, report.problems, formats_seen)
        writer.finish_file(file_id, inp.sha256, fr.format, status, counts)
        if progress and inp.bytes_read > last_bytes:
            progress(inp.bytes_read - last_bytes, 0)
    return fr


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


def _pipelined(
    writer: Writer, chunks: Iterator[list[RawRecord]], kw: dict[str, Any], bulk: bool = False
) -> Iterator[BatchOutcome]:
    """Check, normalise and write ``chunks`` (as ``ingest_batch`` does) in two stages: a thread
    reads and hashes the next batch and makes it ready, while this one writes the previous
    batch. Ready means, for X v2 lines (``bulk``), one Arrow table of the lines and their
    compressed raw blocks, parsed by DuckDB on a connection of the preparing thread
    (``_parse_apart``), then derived and written by the writer (``salon.store.x_v2_sql``); for
    any other batch, or one the bulk path turns down, parsed and normalised in Python
    (``prepare_batch``). DuckDB, zstd and hashlib release the GIL, so on two cores the stages
    overlap. The next batch is read once the writer took the last (bounded memory).

    Records already stored are found with a cursor of the writer's archive, which sees committed
    batches only; the raw ids of the batches still queued or being written are checked too."""
    q: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()
    # Set when the bulk path turns a batch down: the rest of the file is likely the same shape
    # (a users file, an unusual producer), so it goes straight to the Python normaliser.
    turned_down = threading.Event()
    memory = _MemoryWatch()
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
        in_flight: deque[set[str]] = deque(maxlen=_AHEAD + 2)
        n_bulk = 0
        try:
            for chunk in chunks:
                ids = [raw_id(r.payload) for r in chunk]
                existing = _existing_raw_ids(writer, ids, cur, stop)
                for pending in in_flight:
                    existing.update(i for i in ids if i in pending)
                item: tuple[Any, ...] | None = None
                if bulk and not turned_down.is_set() and _bulk_records(chunk):
                    payloads, rids, linenos, dups = _new_lines(chunk, ids, existing)
                    if not payloads:
                        item = ("done", BatchOutcome(records_in=len(chunk), records_duplicate=dups))
                    elif lines := x_v2_sql.prepare_lines(cur, payloads, rids, linenos):
                        in_flight.append(set(rids))
                        item = ("bulk", lines, len(chunk), dups)
                        # The payloads are held once, in ``lines``, while the batch is parsed.
                        payloads.clear()
                        chunk.clear()
                        # Two connections in turn: the writer may still be reading the
                        # previous batch's tables from the other.
                        if not memory.short.is_set():
                            with memory.apart:
                                _parse_apart(lines, parse_cons[n_bulk % 2])
                            n_bulk += 1
                    del payloads
                if item is None:
                    batch, out = prepare_batch(chunk, ids, existing, **kw)
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

    parse_cons = [writer.con.cursor(), writer.con.cursor()] if bulk else []
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
                _, lines, records_in, dups = item
                out = _write_bulk(writer, lines, kw, turned_down, memory)
                out.records_in += records_in - len(lines)
                out.records_duplicate += dups
                item = lines = None  # the batch's buffers go before the next is taken
                # Arrow's allocator keeps what a batch freed for reuse, per thread; over a
                # 1.8 GB file what it kept grew by ~40 MB. Given back after each batch.
                pa.default_memory_pool().release_unused()
                yield out
            else:
                _, batch, out = item
                yield write_batch(writer, batch, out, kw.get("import_id"))
    finally:
        stop.set()
        worker.join()
        for c in parse_cons:
            c.close()
        sys.setswitchinterval(switch)


_AHEAD = 1  # prepared batches waiting for the writer
_SWITCH_INTERVAL = 1e-4  # seconds


def _unknown(obj: Any) -> str:
    """Why a record is of no known format, naming what it looks like."""
    if isinstance(obj, dict):
        keys = ", ".join(sorted(map(str, obj))[:8]) + (", ..." if len(obj) > 8 else "")
        what = f"a JSON object with keys {keys}" if obj else "an empty JSON object"
    elif isinstance(obj, list):
        what = f"a JSON array of {len(obj)} items" if obj else "an empty JSON array"
    else:
        what = f"a JSON {type(obj).__name__}"
    return f"unknown format: {what}, not a post format Salon reads (see `salon formats`)"


def _chunks(
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


def summary(report: ImportReport) -> dict[str, Any]:
    """A JSON-ready summary of an import."""
    return {
        "import_id": report.import_id,
        "records_in": report.records_in,
        "records_new": report.records_new,
        "records_duplicate": report.records_duplicate,
        "records_bad": report.records_bad,
        "posts_new": report.posts_new,
        "files": [f.__dict__ for f in report.files],
        "problems": [str(p) for p in report.problems],
    }
