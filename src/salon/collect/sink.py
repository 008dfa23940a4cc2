"""Where collectors' pages go: the archive's single writer.

A collector yields ``Page`` objects (raw records exactly as received, their provenance URL and
the cursor that resumes after them). ``Sink.put`` stores a page through
``salon.ingest.batches.ingest_batch`` (raw dedup by bytes, posts by uid: at-least-once delivery is
stored exactly once) and persists the page's cursor right after the batch commits, so a process
killed at any moment resumes at or before what it stored, never after.

Writes run through a ``WriteFn``: ``salon serve`` passes its writer queue
(``ArchiveService.write``); standalone, ``ThreadWriter`` owns the archive's connection on one
thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from salon.collect import state
from salon.collect.status import SourceStatus
from salon.ingest.batches import BatchOutcome, ingest_batch
from salon.sources.files import RawRecord
from salon.store.archive import Archive
from salon.store.writer import Writer

__all__ = ["Page", "Sink", "ThreadWriter", "WriteFn"]

T = TypeVar("T")
Job = Callable[[Archive, Writer], Any]
WriteFn = Callable[[Job], Awaitable[Any]]


class ThreadWriter:
    """Runs write jobs one at a time on a dedicated thread (the archive's only writer)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.writer = Writer(archive)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="salon-collect-writer")

    async def __call__(self, fn: Job) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, self.archive, self.writer)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class Page:
    """One page of a collector: what to store and the cursor that resumes after it."""

    source: str  # source key: mastodon:host, bluesky:jetstream, x:search, ...
    url: str  # provenance: the URL it came from (no credentials)
    records: list[RawRecord]
    fmt: str | None = None
    cursor: dict[str, str | None] = field(default_factory=dict)
    retrieved_at: datetime = field(default_factory=now_utc)
    connection_id: int | None = None  # heartbeat this connection
    received: int = 0  # events received for this page (kept or not), for the status


class Sink:
    """Stores pages for one collection run of one campaign."""

    def __init__(self, write: WriteFn, campaign: str, run_id: int | None = None) -> None:
        self.write = write
        self.campaign = campaign
        self.run_id = run_id
        self.totals = BatchOutcome()

    async def put(self, page: Page, status: SourceStatus | None = None) -> BatchOutcome:
        """Store ``page`` and then its cursor; update ``status`` counters."""
        campaign, run_id = self.campaign, self.run_id

        def job(arc: Archive, w: Writer) -> BatchOutcome:
            out = BatchOutcome()
            if page.records:
                out = ingest_batch(
                    w,
                    page.records,
                    source=page.url,
                    fmt=page.fmt,
                    retrieved_at=page.retrieved_at,
                    import_id=run_id,
                )
            now = now_utc()
            if page.cursor:
                state.set_cursors(arc, campaign, page.source, page.cursor, now)
            if page.connection_id is not None:
                state.heartbeat(arc, page.connection_id, now, out.records_in, out.posts_new)
            return out

        out: BatchOutcome = await self.write(job)
        t = self.totals
        t.records_in += out.records_in
        t.records_new += out.records_new
        t.records_duplicate += out.records_duplicate
        t.records_bad += out.records_bad
        t.posts_new += out.posts_new
        if status is not None:
            status.received += page.received or out.records_in
            status.stored += out.records_new
            status.posts_new += out.posts_new
            status.duplicates += out.records_duplicate
            status.bad += out.records_bad
            if page.records:
                status.last_event_at = page.retrieved_at.timestamp()
        return out

    async def call(self, fn: Callable[[Archive], T]) -> T:
        """Run a state function (``salon.collect.state``) on the writer."""
        result: T = await self.write(lambda arc, _w: fn(arc))
        return result

    async def cursors(self, source: str) -> dict[str, str]:
        campaign = self.campaign
        return await self.call(lambda arc: state.get_cursors(arc, campaign, source))
