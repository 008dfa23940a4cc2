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
from salon.store.batch import Batch, raw_id
from salon.store.writer import Writer

__all__ = [
    "BatchOutcome",
    "Problem",
    "add_outcome",
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
    """The writing half of ``ingest_batch``: one transaction. A bad record whose occurrence
    (source, line, bytes) is quarantined already (the same file imported again) is counted as
    a duplicate, not quarantined twice (``salon.store.quarantine``)."""
    known = quarantine.known_occurrences(writer.con, batch.quarantine)
    if known:
        batch.quarantine = [r for i, r in enumerate(batch.quarantine) if i not in known]
        # ``prepare_batch`` appends a problem with each quarantine row, in the same order.
        offset = len(out.problems) - (len(batch.quarantine) + len(known))
        out.problems[offset:] = [p for i, p in enumerate(out.problems[offset:]) if i not in known]
        out.records_bad -= len(known)
        out.records_duplicate += len(known)
    result = writer.write(batch, import_id)
    out.records_new = result.raw_new
    out.posts_new = result.posts_new
    return out


def add_outcome(total: BatchOutcome, out: BatchOutcome) -> None:
    """Add one outcome's counts, formats and problems to ``total``."""
    total.records_in += out.records_in
    total.records_new += out.records_new
    total.records_duplicate += out.records_duplicate
    total.records_bad += out.records_bad
    total.posts_new += out.posts_new
    for k, v in out.formats.items():
        total.formats[k] = total.formats.get(k, 0) + v
    total.problems.extend(out.problems)


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
