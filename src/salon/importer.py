"""Import files into an archive: the library API behind ``salon import``.

>>> from salon.importer import import_paths
>>> report = import_paths(["tweets.jsonl"], archive="salon.duckdb")   # doctest: +SKIP
>>> report.posts_new                                                   # doctest: +SKIP

Records are read streaming, checked against the raw records already stored (by hash of their
bytes), normalised, and written in batches of ``batch_size`` records, one transaction each.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from salon import normalize
from salon.normalize import BadRecord, Context
from salon.sources.files import InputFile, RawRecord, file_mtime, iter_inputs, read_records
from salon.store.archive import Archive, open_archive
from salon.store.writer import Batch, Writer, raw_id

__all__ = ["FileReport", "ImportReport", "Problem", "import_paths"]

DEFAULT_BATCH = 20_000


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

    @property
    def ok(self) -> bool:
        return self.records_in - self.records_bad > 0 or (self.records_in == 0 and not self.problems)


ProgressFn = Callable[[int, int], None]  # (bytes advanced, posts advanced)


def import_paths(
    paths: list[str],
    archive: Archive | str | None = None,
    *,
    fmt: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressFn | None = None,
    on_file: Callable[[InputFile], None] | None = None,
) -> ImportReport:
    """Import files, directories, compressed files or ``-`` (stdin) into ``archive``.

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
    report.import_id = writer.start_import(
        "import", shlex.join(["import", *paths] + (["--format", fmt] if fmt else []))
    )
    status = "done"
    try:
        for inp in inputs:
            if on_file:
                on_file(inp)
            report.files.append(_import_file(writer, report, inp, fmt, batch_size, progress))
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
        raise
    finally:
        counts = {
            "in": report.records_in,
            "new": report.records_new,
            "duplicate": report.records_duplicate,
            "bad": report.records_bad,
            "posts_new": report.posts_new,
        }
        writer.finish_import(report.import_id, status, counts)
        if own:
            arc.close()
    return report


def _import_file(
    writer: Writer,
    report: ImportReport,
    inp: InputFile,
    fmt: str | None,
    batch_size: int,
    progress: ProgressFn | None,
) -> FileReport:
    fr = FileReport(inp.label)
    file_id = writer.start_file(report.import_id, inp.label, inp.size)
    mtime = file_mtime(inp)
    observed = datetime.fromtimestamp(mtime, UTC) if mtime else datetime.now(UTC)
    ctx = Context(observed_at=observed)
    formats_seen: dict[str, int] = {}
    last_bytes = 0
    status = "failed"
    try:
        for chunk in _chunks(read_records(inp, fmt), batch_size):
            batch = Batch()
            ids = [raw_id(r.payload) for r in chunk]
            existing = writer.existing_raw_ids(ids)
            in_batch: set[str] = set()
            for rec, rid in zip(chunk, ids, strict=True):
                fr.records_in += 1
                if rec.error is not None:
                    _quarantine(batch, report, fr, inp, file_id, rec, rec.error)
                    continue
                if rid in existing or rid in in_batch:
                    fr.records_duplicate += 1
                    continue
                try:
                    rec_fmt = fmt or rec.hint or normalize.sniff(rec.obj)
                    if rec_fmt is None:
                        raise BadRecord("unknown format: no normaliser recognises this record")
                    items = list(normalize.get(rec_fmt)(rec.obj, ctx))
                except BadRecord as exc:
                    _quarantine(batch, report, fr, inp, file_id, rec, str(exc))
                    continue
                except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                    # A payload whose shape surprises a normaliser is quarantined, not fatal.
                    _quarantine(
                        batch,
                        report,
                        fr,
                        inp,
                        file_id,
                        rec,
                        f"unexpected record shape ({type(exc).__name__}: {exc})",
                    )
                    continue
                in_batch.add(rid)
                formats_seen[rec_fmt] = formats_seen.get(rec_fmt, 0) + 1
                batch.add_raw(rid, rec_fmt, rec.payload, file_id, rec.line, inp.label, None)
                batch.add_items(items, rid, observed)
            result = writer.write(batch, report.import_id)
            fr.records_new += result.raw_new
            fr.posts_new += result.posts_new
            if progress:
                progress(inp.bytes_read - last_bytes, result.posts_new)
                last_bytes = inp.bytes_read
        status = "done"
    finally:
        fr.notes = list(inp.notes)
        fr.format = max(formats_seen, key=formats_seen.__getitem__) if formats_seen else None
        if fr.records_in == 0 and fr.records_bad == 0 and "empty file" in inp.notes:
            report.problems.append(Problem(inp.label, 0, "empty file: nothing to import"))
        counts = {
            "in": fr.records_in,
            "new": fr.records_new,
            "duplicate": fr.records_duplicate,
            "bad": fr.records_bad,
        }
        writer.finish_file(file_id, inp.sha256, fr.format, status, counts)
        if progress and inp.bytes_read > last_bytes:
            progress(inp.bytes_read - last_bytes, 0)
    return fr


def _quarantine(
    batch: Batch,
    report: ImportReport,
    fr: FileReport,
    inp: InputFile,
    file_id: int,
    rec: RawRecord,
    reason: str,
) -> None:
    fr.records_bad += 1
    report.problems.append(Problem(inp.label, rec.line, reason))
    batch.quarantine.append(
        (report.import_id, file_id, inp.label, rec.line, reason, rec.payload, datetime.now(UTC))
    )


def _chunks(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    chunk: list[RawRecord] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
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
