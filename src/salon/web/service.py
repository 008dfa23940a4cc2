"""The archive as the web app holds it: one DuckDB connection, one writer thread, many readers.

DuckDB lets one process write a file. ``salon serve`` is that process while it runs: every write
(imports streamed by ``salon import``, collectors, the demo replay, editors' changes, sessions)
is a job on the writer thread's queue, and pages read through cursors of the same connection
(one per thread), which see the last committed state and never wait for the writer (DuckDB's
MVCC; ``bench/web_bench.py`` measures it).

After the jobs it ran, the writer thread brings the derived data up to date (each stored
campaign's index, the search table), computes every stored campaign's tally with
``salon.campaigns.tally.tally`` (the function behind ``salon tally --json``), bumps ``version``
and wakes the live pages. Readers serve those cached tallies, so a page view costs no query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from salon.campaigns.stored import list_campaigns
from salon.campaigns.tally import CampaignNotFound, tally
from salon.store.archive import Archive, open_archive
from salon.store.writer import Writer

__all__ = ["ArchiveService", "TallyEntry"]

log = logging.getLogger("salon.web")
T = TypeVar("T")

# How often at most the derived data and tallies are refreshed while writes keep coming.
REFRESH_EVERY = 0.25


@dataclass(frozen=True)
class TallyEntry:
    """A campaign's tally as of one archive version, and its JSON bytes."""

    version: int
    data: dict[str, Any]
    body: bytes


def tally_json(data: dict[str, Any]) -> bytes:
    """The tally exactly as ``salon tally --json`` prints it."""
    return (json.dumps(data, default=str, indent=2, ensure_ascii=False) + "\n").encode()


def _REFRESH(archive: Archive, writer: Writer) -> None:
    """Marker job: refresh derived data and tallies now."""


class ArchiveService:
    """Owns the archive while the server runs. Start with ``start()``; stop with ``close()``."""

    def __init__(self, path: str) -> None:
        # creates and migrates; no SQL run here may touch another file (``salon sql`` is answered here)
        self.archive = open_archive(path, external_access=False)
        self.path = self.archive.path
        self.version = 0
        # (job, its future, whether it may change the archive); None stops the thread
        self._jobs: queue.Queue[tuple[Callable[[Archive, Writer], Any], Future[Any], bool] | None] = (
            queue.Queue()
        )
        self._local = threading.local()
        self._readers: list[Archive] = []
        self._readers_lock = threading.Lock()
        self._tallies: dict[str, TallyEntry] = {}
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._waiters_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="salon-writer", daemon=True)
        self._dirty = True
        self.hooks: list[Callable[[Archive], Any]] = []  # run in the writer thread after changes
        self.cache: dict[Any, Any] = {}  # per-version page cache (cleared on change)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self.refresh_now()  # indexes, search table and tallies before the first request

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)
        with self._readers_lock:
            for r in self._readers:
                with contextlib.suppress(Exception):
                    r.con.close()
            self._readers.clear()
        self.archive.close()

    # -- reading --------------------------------------------------------------------------------

    def reader(self) -> Archive:
        """This thread's read view (a cursor of the server's connection, flagged read-only so the
        tally never writes from it)."""
        arc: Archive | None = getattr(self._local, "arc", None)
        if arc is None:
            arc = Archive(self.path, self.archive.con.cursor(), read_only=True)
            arc.con.execute("SET TimeZone = 'UTC'")
            self._local.arc = arc
            with self._readers_lock:
                self._readers.append(arc)
        return arc

    def tally(self, slug: str) -> TallyEntry | None:
        """The cached tally of stored campaign ``slug`` (None: no such campaign)."""
        e = self._tallies.get(slug)
        if e is not None:
            return e
        # read-only: an unknown slug (any GET /c/<random>) must not cause a refresh
        return self.submit(lambda a, w: self._compute_tally(a, slug), changes=False).result()

    def cached(self, slug: str) -> TallyEntry | None:
        """The cached tally, without waiting (None when not computed yet)."""
        return self._tallies.get(slug)

    def slugs(self) -> list[str]:
        return sorted(self._tallies)

    # -- writing --------------------------------------------------------------------------------

    def submit(self, fn: Callable[[Archive, Writer], T], *, changes: bool = True) -> Future[T]:
        """Run ``fn(archive, writer)`` on the writer thread; the future holds its result.
        ``changes=False`` says the job only reads: it does not mark the archive dirty, so no
        refresh (derived data, tallies, page cache) follows it."""
        fut: Future[T] = Future()
        self._jobs.put((fn, fut, changes))
        return fut

    async def write(self, fn: Callable[[Archive, Writer], T], *, changes: bool = True) -> T:
        """``submit`` for async code."""
        return await asyncio.wrap_future(self.submit(fn, changes=changes))

    def refresh_now(self) -> None:
        """Bring derived data and tallies up to date with every write queued so far, and wait."""
        self.submit(_REFRESH).result()

    def mark_dirty(self) -> None:
        """Say that the archive changed (a job that writes calls this implicitly)."""
        self._dirty = True

    def _run(self) -> None:
        warc = Archive(self.path, self.archive.con.cursor(), read_only=False)
        warc.con.execute("SET TimeZone = 'UTC'")
        writer = Writer(warc)
        last_refresh = 0.0
        while True:
            try:
                item = self._jobs.get(timeout=REFRESH_EVERY)
            except queue.Empty:
                item = None
                if self._dirty:
                    self._refresh(warc)
                    last_refresh = time.monotonic()
                continue
            if item is None and self._jobs.empty():
                break
            if item is None:
                continue
            fn, fut, changes = item
            if not fut.set_running_or_notify_cancel():
                continue
            if fn is _REFRESH:
                self._refresh(warc)
                last_refresh = time.monotonic()
                fut.set_result(None)
                continue
            try:
                fut.set_result(fn(warc, writer))
            except BaseException as exc:
                fut.set_exception(exc)
            if changes:
                self._dirty = True
            now = time.monotonic()
            if self._dirty and (self._jobs.empty() or now - last_refresh >= REFRESH_EVERY):
                self._refresh(warc)
                last_refresh = now
        warc.con.close()

    def _refresh(self, warc: Archive) -> None:
        """Derived data, tallies, then wake the live pages."""
        self._dirty = False
        for hook in self.hooks:
            try:
                hook(warc)
            except Exception:
                log.exception("refresh hook failed")
        try:
            slugs = [c["slug"] for c in list_campaigns(warc)]
        except Exception:
            log.exception("cannot list campaigns")
            slugs = []
        self.version += 1
        for gone in set(self._tallies) - set(slugs):
            self._tallies.pop(gone, None)
        for slug in slugs:
            try:
                self._compute_tally(warc, slug)
            except Exception:
                log.exception("tally of %s failed", slug)
        self.cache.clear()
        self._wake()

    def _compute_tally(self, warc: Archive, slug: str) -> TallyEntry | None:
        try:
            data = tally(warc, slug)
        except CampaignNotFound:
            return None
        e = TallyEntry(self.version, data, tally_json(data))
        self._tallies[slug] = e
        return e

    # -- change notification ----------------------------------------------------------------------

    def _wake(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        for loop, ev in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop
                loop.call_soon_threadsafe(ev.set)

    async def wait_change(self, seen: int, timeout: float) -> int:
        """Wait until ``version`` moves past ``seen`` (or ``timeout`` s); return the version."""
        if self.version != seen:
            return self.version
        ev = asyncio.Event()
        with self._waiters_lock:
            self._waiters.append((asyncio.get_running_loop(), ev))
        if self.version != seen:
            return self.version
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), timeout)
        return self.version
