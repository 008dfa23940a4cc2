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
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb

from salon import normalize
from salon.campaigns.index import refresh_after_import
from salon.ingest import pipeline
from salon.ingest.batches import BatchOutcome, Problem, ingest_batch, record_from_payload
from salon.ingest.pipeline import BULK_BATCH_BYTES, DEFAULT_BATCH, DEFAULT_BATCH_BYTES
from salon.model import Author
from salon.sources.files import InputFile, iter_inputs, observation_time, x_archive_owner
from salon.store.archive import Archive, open_archive
from salon.store.batch import Origin
from salon.store.writer import Writer

__all__ = [
    "BULK_BATCH_BYTES",
    "DEFAULT_BATCH",
    "DEFAULT_BATCH_BYTES",
    "BatchOutcome",
    "FileReport",
    "FileSink",
    "ImportFiles",
    "ImportReport",
    "Problem",
    "import_arguments",
    "import_failure",
    "import_paths",
    "ingest_batch",
    "record_from_payload",
    "summary",
]

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
class FileReport:
    path: str
    format: str | None = None
    records_in: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    records_bad: int = 0
    posts_new: int = 0
    notes: list[str] = field(default_factory=list)
    # Why the file could not be read to its end (a truncated or corrupt container), or None.
    incomplete: str | None = None

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
        if inp.broken is not None and self.incomplete is None:
            self.incomplete = inp.broken
            problems.append(Problem(inp.label, 0, f"incomplete: {inp.broken}"))
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
    def incomplete(self) -> bool:
        """Whether a file could not be read to its end (see ``FileReport.incomplete``)."""
        return any(f.incomplete for f in self.files)

    @property
    def ok(self) -> bool:
        """False when nothing at all could be read, or when a file was cut short."""
        if self.incomplete:
            return False
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
    Batches run across files (``salon.ingest.pipeline.file_chunks``): a folder of many small
    files is written in a few transactions, each record with its own file and line, each file
    with its own ``import_files`` row, written in the transaction of its first records.

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
    files = ImportFiles(writer, report, inputs, on_file)
    status = "done"
    try:
        _import_inputs(writer, files, fmt, batch_size, progress, fast, batch_bytes)
        report.files = files.reports()
        if report.incomplete:
            status = "incomplete"
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
        raise
    except BaseException:
        status = "failed"  # out of memory, disk full, ...: never recorded as done
        raise
    finally:
        # The campaign indexes refreshed when the import finishes are large statements, which
        # DuckDB's threads do speed up.
        with contextlib.suppress(duckdb.Error):
            arc.con.execute(f"SET threads = '{previous['threads']}'")
        if status not in ("done", "incomplete"):
            files.stopped(status)
        report.files = files.reports()
        with contextlib.suppress(duckdb.Error):  # the failure may be the archive's own (disk full)
            writer.flush_files()
            writer.finish_import(report.import_id, status, report.counts())
        if status in ("done", "incomplete"):
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


class FileSink(Protocol):
    """Where an import's ``import_files`` rows go: the archive's ``Writer`` (they are written in
    the transaction of the next batch), or a server writing for a remote import."""

    def new_file_ids(self, n: int) -> list[int]: ...

    def queue_file_start(self, import_id: int, file_id: int, path: str, size: int | None) -> None: ...

    def queue_file_finish(
        self, file_id: int, sha256: str | None, fmt: str | None, status: str, counts: dict[str, int]
    ) -> None: ...


class ImportFiles:
    """An import's files and their bookkeeping, kept exact while batches run across files:
    each file's report (counts, problems, formats), its ``import_files`` row queued to go with
    its first batch (``FileSink.queue_file_start``) and its end queued once its last batch is
    written (``FileSink.queue_file_finish``). Used by ``import_paths`` and by a remote import
    (``salon.web.remote``)."""

    def __init__(
        self,
        writer: FileSink,
        report: ImportReport,
        inputs: list[InputFile],
        on_file: Callable[[InputFile], None] | None,
    ) -> None:
        self.writer = writer
        self.report = report
        self.inputs = inputs
        self.on_file = on_file
        self.ids = writer.new_file_ids(len(inputs))
        self.index = {fid: i for i, fid in enumerate(self.ids)}
        self.frs: dict[int, FileReport] = {}
        self.formats: dict[int, dict[str, int]] = {}
        self.open: set[int] = set()  # started, not ended
        self.reading = pipeline.Reading()

    def origins(self) -> list[Origin]:
        """Each input's ``Origin`` (file id, label, observation time, X archive owner)."""
        out = []
        for inp, fid in zip(self.inputs, self.ids, strict=True):
            owner = x_archive_owner(inp)
            account = (
                Author(
                    "x",
                    owner["accountId"],
                    handle=owner.get("userName"),
                    display_name=owner.get("displayName"),
                )
                if owner
                else None
            )
            out.append(Origin(fid, inp.label, observation_time(inp), account))
        return out

    def start(self, idx: int) -> None:
        """Input ``idx`` is read: its report begins, its row is queued."""
        inp = self.inputs[idx]
        if self.on_file:
            self.on_file(inp)
        self.frs[idx] = FileReport(inp.label)
        self.formats[idx] = {}
        self.open.add(idx)
        self.writer.queue_file_start(self.report.import_id, self.ids[idx], inp.label, inp.size)

    def add(self, out: BatchOutcome) -> None:
        """Count a written batch in its files' reports (``BatchOutcome.by_file``)."""
        for fid, part in out.by_file.items():
            idx = self.index[fid]  # type: ignore[index]
            self.frs[idx].add(part, self.report.problems, self.formats[idx])

    def end(self, idx: int, status: str = "done") -> None:
        """Input ``idx`` is read and its last batch written: its end is queued."""
        fr, inp = self.frs[idx], self.inputs[idx]
        counts = fr.close(inp, self.report.problems, self.formats[idx])
        if status == "done" and fr.incomplete:
            status = "incomplete"
        self.open.discard(idx)
        self.writer.queue_file_finish(self.ids[idx], inp.sha256, fr.format, status, counts)

    def stopped(self, status: str) -> None:
        """The import stopped (``failed`` or ``interrupted``): the files it was reading are
        recorded so, with what they kept (the file it stopped at, if it had not begun it)."""
        status = "failed" if status == "failed" else "interrupted"
        if not self.inputs:
            return
        for idx in range(self.reading.at + 1):
            if idx not in self.frs:
                self.start(idx)
        for idx in sorted(self.open):
            self.end(idx, status)

    def read_bytes(self) -> int:
        """Bytes read so far from the inputs (for progress)."""
        return sum(self.inputs[i].bytes_read for i in range(self.reading.at + 1))

    def reports(self) -> list[FileReport]:
        """The reports of the files begun, in input order."""
        return [self.frs[i] for i in sorted(self.frs)]


def _import_inputs(
    writer: Writer,
    files: ImportFiles,
    fmt: str | None,
    batch_size: int,
    progress: ProgressFn | None,
    fast: bool,
    batch_bytes: int | None,
) -> None:
    """Read, check, normalise and write every input, in batches across files
    (``pipeline.file_chunks``, ``pipeline.pipelined``)."""
    chunks = pipeline.file_chunks(
        files.inputs,
        files.origins(),
        fmt=fmt,
        fast=fast,
        size=batch_size,
        batch_bytes=batch_bytes,
        reading=files.reading,
    )
    # Provenance and observation time travel with each record (``Origin``); these are the
    # batch-wide arguments.
    kw: dict[str, Any] = {
        "source": "",
        "fmt": fmt,
        "observed_at": datetime.now(UTC),
        "file_id": None,
        "import_id": files.report.import_id,
        "account": None,
    }

    def before_write(chunk: pipeline.Chunk) -> None:
        for idx in chunk.started:
            files.start(idx)

    last_bytes = 0
    # Closed on the way out, whatever stops the loop: the preparing thread is joined before the
    # files it was reading are recorded.
    with contextlib.closing(pipeline.pipelined(writer, chunks, kw, before_write)) as outcomes:
        for chunk, out in outcomes:
            files.add(out)
            for idx in chunk.ended:
                files.end(idx)
            if progress:
                done = files.read_bytes()
                progress(done - last_bytes, out.posts_new)
                last_bytes = done


def import_failure(exc: BaseException, archive: str) -> str:
    """One line saying why an import stopped (disk full, out of memory, another failure of the
    archive), that it is recorded as failed, and that the committed batches are kept."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    low = text.lower()
    if (isinstance(exc, OSError) and exc.errno == 28) or "no space left" in low or "disk full" in low:
        why = f"the disk is full (writing {archive})"
    elif isinstance(exc, MemoryError) or "out of memory" in low:
        why = f"out of memory ({text})"
    else:
        why = text
    return (
        f"import stopped: {why}. It is recorded as failed in the imports table; the batches committed"
        " before are kept, and running the same command again imports the rest."
    )


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
