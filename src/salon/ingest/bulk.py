"""The X v2 bulk path of a file import: new X v2 lines parsed and normalised by DuckDB
(``salon.store.x_v2_sql``) instead of the Python normalisers, with the same tables as a result.
Which batches may take it, the parse done apart by the preparing thread, and how the parse and
the writer share DuckDB's memory budget (``MemoryWatch``); a batch the budget stops is written
in halves, and a line the bulk path does not read goes to the Python path
(``salon.ingest.batches``)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from salon import normalize
from salon.ingest import batches
from salon.ingest.batches import BatchOutcome, add_outcome, file_part
from salon.model import Author
from salon.sources.files import RawRecord
from salon.store import x_v2_sql
from salon.store.batch import Origin, raw_id
from salon.store.writer import Writer

__all__ = [
    "CLEAN_BATCHES",
    "MemoryWatch",
    "bulk_records",
    "bulk_source",
    "looks_x_v2",
    "new_lines",
    "parse_apart",
    "read_alike",
    "repeated",
    "write_bulk",
    "write_lines",
]


def bulk_source(fmt: str | None, account: Author | None) -> bool:
    """Whether records of this origin may take the X v2 bulk path (``salon.store.x_v2_sql``):
    no other declared format, no archive owner."""
    return fmt in (None, x_v2_sql.FORMAT) and account is None


def bulk_records(records: list[RawRecord]) -> bool:
    """Whether a batch is made of what the bulk path reads: unparsed JSON lines. A last line
    without newline (maybe truncated) is left to Python, which says so, unless it is JSON (the
    one record of a small file often ends without one: its batch, which may hold many other
    files' lines, still takes the bulk path)."""
    return bool(records) and not any(r.parsed or not (r.eol or _is_json(r.payload)) for r in records)


def _is_json(payload: bytes) -> bool:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return True


def looks_x_v2(rec: RawRecord) -> bool:
    """Whether a file's first line is X v2 (the bulk path is not tried on other formats)."""
    try:
        return normalize.sniff(orjson.loads(rec.payload)) == x_v2_sql.FORMAT
    except orjson.JSONDecodeError:
        return False


# Words the one parser (orjson) refuses where DuckDB reads a number: a line holding one is
# parsed by orjson before the bulk path may take its batch (they are rare in post text).
_NON_JSON_NUMBERS = (b"NaN", b"Infinity")


def read_alike(payloads: list[bytes]) -> bool:
    """Whether the Python path's parser (orjson, the definition of a record: docs/import.md,
    "One reading of JSON") accepts every line DuckDB may read as a number or a value: DuckDB
    reads ``NaN`` and ``Infinity``, which orjson refuses (the Python path quarantines the
    line). Keys written twice and malformed lines are found by DuckDB itself
    (``x_v2_read.read_once``). When not, the batch goes to the Python path whole."""
    for line in payloads:
        if any(w in line for w in _NON_JSON_NUMBERS):
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
    return True


def new_lines(
    records: list[RawRecord], ids: list[str], existing: set[str], kept: list[int] | None = None
) -> tuple[list[bytes], list[str], list[int], int]:
    """The payloads, raw ids and line numbers of the records not stored yet (nor repeated in
    the batch), and how many were left out as duplicates; ``kept``, when given, receives the
    positions of the records returned."""
    payloads: list[bytes] = []
    rids: list[str] = []
    linenos: list[int] = []
    seen: set[str] = set()
    for i, (rec, rid) in enumerate(zip(records, ids, strict=True)):
        if rid in existing or rid in seen:
            continue
        seen.add(rid)
        payloads.append(rec.payload)
        rids.append(rid)
        linenos.append(rec.line)
        if kept is not None:
            kept.append(i)
    return payloads, rids, linenos, len(records) - len(payloads)


def repeated(
    records: list[RawRecord], ids: list[str], existing: set[str], at: list[int] | None = None
) -> list[RawRecord]:
    """The records ``new_lines`` leaves out as repeats within the batch (not stored yet): good
    lines' repeats are duplicates, but when the bulk path turns the batch down, a repeated bad
    line is its own occurrence, quarantined at its own line (``write_bulk``). ``at``, when
    given, receives their positions."""
    seen: set[str] = set()
    out: list[RawRecord] = []
    for i, (rec, rid) in enumerate(zip(records, ids, strict=True)):
        if rid in existing:
            continue
        if rid in seen:
            out.append(rec)
            if at is not None:
                at.append(i)
        seen.add(rid)
    return out


def parse_apart(lines: x_v2_sql.Lines, con: duckdb.DuckDBPyConnection) -> None:
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


def write_lines(
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
        if lines.parsed_on is not None:  # parsed by the preparing thread (``parse_apart``)
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
    out = BatchOutcome(
        records_in=records_in,
        records_new=result.raw_new,
        records_duplicate=duplicates,
        posts_new=result.posts_new,
        formats={x_v2_sql.FORMAT: len(lines)},
    )
    if lines.origins is not None:  # each file's part (its lines are all new: ``records_in``)
        for o in lines.origins:
            part = file_part(out, o.file_id)
            part.records_in += 1
            part.formats[x_v2_sql.FORMAT] = part.formats.get(x_v2_sql.FORMAT, 0) + 1
        for fid, n in result.raw_new_by_file.items():
            file_part(out, fid).records_new = n
        for fid, n in result.posts_new_by_file.items():
            file_part(out, fid).posts_new = n
    return out


class MemoryWatch:
    """How the preparing thread's parse and the writer share DuckDB's memory.

    ``apart``: the preparing thread parses a batch and the writer commits one (checkpoints
    included) never at the same time: together they overshoot the budget by what DuckDB does
    not count in it (1.8 GB file: peaks of 466-535 MB, against 430-453 MB kept apart, for about
    15 % more time). ``short`` is set while DuckDB's budget lately stopped a bulk write: the
    preparing thread then no longer parses beside the writer, which parses each batch itself,
    one statement at a time in the budget; after ``CLEAN_BATCHES`` batches written without
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
            if self.clean >= CLEAN_BATCHES:
                self.short.clear()


CLEAN_BATCHES = 4


def write_bulk(
    writer: Writer,
    lines: x_v2_sql.Lines,
    kw: dict[str, Any],
    turned_down: threading.Event,
    memory: MemoryWatch,
    repeats: list[RawRecord] | None = None,
    repeat_origins: list[Origin] | None = None,
) -> BatchOutcome:
    """Write a batch of new X v2 lines, by the bulk path where it can. When DuckDB's memory
    limit stops it (pages far larger than usual, or the next batch's parse holding memory at
    the same time), ``memory`` is told, so the preparing thread stops parsing beside the
    writer for a while, and the batch is written in halves, and halves of halves: the bulk
    path's memory follows the batch's size, the Python path's would be larger still. A single
    line that does not fit, or lines of a shape the bulk path does not read (then
    ``turned_down`` is set), are normalised in Python. Counts only the new lines
    (``records_in`` is ``len(lines)``); ``repeats`` (``repeated``), counted as duplicates by
    the caller, are read in Python too when some lines were, each bad one quarantined at its
    own line as the Python path does (docs/import.md, "Bad records")."""
    total = BatchOutcome()
    parts = [lines]
    ran_short = False
    in_python = False
    while parts:
        part = parts.pop(0)
        try:
            out = write_lines(
                writer, part, len(part), 0, kw["source"], kw["observed_at"], kw["file_id"], memory.apart
            )
            if out is None and (cut := x_v2_sql.file_cut(part)) is not None:
                # Lines of several files: the file(s) the bulk path does not read are found by
                # halves, at file boundaries; the others still take it.
                parts[:0] = part.split(cut)
                continue
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
            in_python = True
            recs = [
                RawRecord(p, ln, parsed=False) for p, ln in zip(part.payloads(), part.linenos, strict=True)
            ]
            batch, out = batches.prepare_batch(recs, part.rids, set(), origins=part.origins, **kw)
            out = batches.write_batch(writer, batch, out, kw.get("import_id"))
        add_outcome(total, out)
    if in_python and repeats:
        ids = [raw_id(r.payload) for r in repeats]
        batch, out = batches.prepare_batch(
            repeats, ids, writer.existing_raw_ids(ids), origins=repeat_origins, **kw
        )
        add_outcome(total, batches.write_batch(writer, batch, out, kw.get("import_id")))
        # The caller counted them in and duplicate: what Python found replaces that.
        total.records_in -= len(repeats)
        total.records_duplicate -= len(repeats)
        for o in repeat_origins or ():
            counted = file_part(total, o.file_id)
            counted.records_in -= 1
            counted.records_duplicate -= 1
    if not ran_short:
        memory.written()
    return total
