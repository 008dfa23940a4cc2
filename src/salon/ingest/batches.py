"""One batch of raw records, checked, normalised and written in one transaction: the write path
of live collectors, the web app's ingest and replay (``ingest_batch``), and the Python half of
a file import (``prepare_batch`` then ``write_batch``, pipelined by ``salon.ingest.pipeline``).

Records already stored (same bytes) are counted as duplicates and skipped whole; bad ones are
quarantined with their source and line (``Problem``), never raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from salon import normalize
from salon.model import Author
from salon.normalize import BadRecord, Context
from salon.sources.files import RawRecord
from salon.store import quarantine
from salon.store.batch import Batch, Origin, raw_id
from salon.store.writer import Writer

__all__ = [
    "BatchOutcome",
    "Problem",
    "add_outcome",
    "file_part",
    "ingest_batch",
    "prepare_batch",
    "record_from_payload",
    "write_batch",
]


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
class BatchOutcome:
    """What one batch of records did (see ``ingest_batch``)."""

    records_in: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    records_bad: int = 0
    posts_new: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # A batch of a file import, whose records may come from several files: each file's part
    # of the counts, formats and problems above, by file id (the files' reports add these).
    by_file: dict[int | None, BatchOutcome] = field(default_factory=dict)


def file_part(out: BatchOutcome, file_id: int | None) -> BatchOutcome:
    """The part of ``out`` that is file ``file_id``'s (made empty on first use)."""
    part = out.by_file.get(file_id)
    if part is None:
        part = out.by_file[file_id] = BatchOutcome()
    return part


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
    origins: list[Origin] | None = None,
) -> tuple[Batch, BatchOutcome]:
    """The CPU half of ``ingest_batch``, which needs no archive: parse and normalise the records
    whose raw id (``ids``) is not in ``existing`` into a ``Batch``, quarantining the bad ones.

    ``origins`` (a file import, whose batches may span several files) gives each record's own
    file, label, observation time and owner, in place of ``file_id``, ``source``,
    ``observed_at`` and ``account``; the outcome then also says each file's part
    (``BatchOutcome.by_file``)."""
    out = BatchOutcome()
    own = Origin(file_id, source, observed_at, account)
    contexts: dict[int, Context] = {}
    batch = Batch()
    in_batch: set[str] = set()

    for i, (rec, rid) in enumerate(zip(records, ids, strict=True)):
        o = origins[i] if origins is not None else own
        part = file_part(out, o.file_id) if origins is not None else out
        part.records_in += 1
        # A duplicate is not parsed: its bytes were stored raw, so they parse (a line that is not
        # JSON is never stored raw). A reader's error still comes first, as it always did.
        if rec.error is None and (rid in existing or rid in in_batch):
            part.records_duplicate += 1
            continue
        rec.parse()
        reason = rec.error
        rec_fmt = ""
        if reason is None:
            ctx = contexts.get(id(o))
            if ctx is None:
                ctx = contexts[id(o)] = Context(observed_at=o.observed_at, account=o.account)
            try:
                sniffed = fmt or rec.hint or normalize.sniff(rec.obj)
                if sniffed is None:
                    raise BadRecord(_unknown(rec.obj))
                rec_fmt = sniffed
                items = list(normalize.get(rec_fmt)(rec.obj, ctx))
            except BadRecord as exc:
                reason = str(exc)
        if reason is not None:  # quarantined with the record's own file and line
            part.records_bad += 1
            part.problems.append(Problem(o.source, rec.line, reason))
            batch.quarantine.append(
                (import_id, o.file_id, o.source, rec.line, reason, rec.payload, datetime.now(UTC))
            )
            continue
        in_batch.add(rid)
        part.formats[rec_fmt] = part.formats.get(rec_fmt, 0) + 1
        batch.add_raw(rid, rec_fmt, rec.payload, o.file_id, rec.line, o.source, retrieved_at)
        batch.add_items(items, rid, o.observed_at)
    if origins is not None:
        for part in out.by_file.values():
            add_outcome(out, part, by_file=False)
    return batch, out


def write_batch(
    writer: Writer, batch: Batch, out: BatchOutcome, import_id: int | None = None
) -> BatchOutcome:
    """The writing half of ``ingest_batch``: one transaction. A bad record whose occurrence
    (source, line, bytes) is quarantined already (the same file imported again) is counted as
    a duplicate, not quarantined twice (``salon.store.quarantine``)."""
    known = quarantine.known_occurrences(writer.con, batch.quarantine)
    if known:
        rows = batch.quarantine
        batch.quarantine = [r for i, r in enumerate(rows) if i not in known]
        for i in sorted(known):
            # ``prepare_batch`` made a problem with each quarantine row (import, file, source,
            # line, reason, ...), in its file's part too.
            _, fid, source, line, reason = rows[i][:5]
            parts = [out, out.by_file[fid]] if out.by_file else [out]
            for part in parts:
                _drop_problem(part.problems, Problem(source, line, reason))
                part.records_bad -= 1
                part.records_duplicate += 1
    result = writer.write(batch, import_id)
    out.records_new = result.raw_new
    out.posts_new = result.posts_new
    if out.by_file:
        for fid, n in result.raw_new_by_file.items():
            file_part(out, fid).records_new = n
        for fid, n in result.posts_new_by_file.items():
            file_part(out, fid).posts_new = n
    return out


def _drop_problem(problems: list[Problem], p: Problem) -> None:
    """Remove the last problem equal to ``p`` (the batch's are at the end of the list)."""
    for k in range(len(problems) - 1, -1, -1):
        if problems[k] == p:
            del problems[k]
            return


def add_outcome(total: BatchOutcome, out: BatchOutcome, *, by_file: bool = True) -> None:
    """Add one outcome's counts, formats and problems to ``total`` (and, unless ``by_file`` is
    false, each file's part to the same file's part of ``total``)."""
    total.records_in += out.records_in
    total.records_new += out.records_new
    total.records_duplicate += out.records_duplicate
    total.records_bad += out.records_bad
    total.posts_new += out.posts_new
    for k, v in out.formats.items():
        total.formats[k] = total.formats.get(k, 0) + v
    total.problems.extend(out.problems)
    if by_file:
        for fid, part in out.by_file.items():
            add_outcome(file_part(total, fid), part, by_file=False)


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
