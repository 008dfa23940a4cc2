"""Replaying files into a served archive at a steady pace, so live pages visibly tick: the hook
``salon serve --replay DIR`` (and ``salon demo``) uses.

>>> from salon.web.app import serve                                    # doctest: +SKIP
>>> serve("demo.duckdb", port=8000, replay=["demo/posts"], replay_rate=300)  # doctest: +SKIP

Records are read in file order (name order inside a folder; a generator writes them in time
order), and written through the server's writer thread with ``salon.ingest.batches.ingest_batch``
every ``interval`` seconds, ``rate × interval`` records at a time. Provenance and counts go to
``imports`` (kind ``replay``) like any import.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from salon.campaigns.index import refresh_after_import
from salon.ingest.batches import ingest_batch
from salon.sources.files import InputFile, RawRecord, iter_inputs, read_records
from salon.store.archive import Archive
from salon.store.writer import Writer
from salon.web.service import ArchiveService

__all__ = ["Replay"]

log = logging.getLogger("salon.web.replay")


def _finish(archive: Archive, writer: Writer, iid: int, status: str, counts: dict[str, int]) -> None:
    """End the replay's import and, when it completed, refresh the campaign indexes (the store
    knows no campaigns)."""
    writer.finish_import(iid, status, counts)
    if status == "done":
        refresh_after_import(archive)


class Replay:
    """A background thread feeding ``paths`` into ``service`` at ``rate`` records/s."""

    def __init__(
        self, service: ArchiveService, paths: list[str], rate: float = 200.0, interval: float = 0.25
    ) -> None:
        self.service, self.paths = service, paths
        self.rate, self.interval = max(rate, 1.0), interval
        self.records = 0
        self.posts_new = 0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="salon-replay", daemon=True)

    def start(self) -> Replay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        s = self.service
        args = "serve --replay " + " ".join(self.paths)
        try:
            iid: int = s.submit(lambda a, w: w.start_import("replay", args)).result()
            status = "done"
            for inp in iter_inputs(self.paths):
                status = self._file(iid, inp)
                if status != "done":
                    break
            total = {"in": self.records, "posts_new": self.posts_new}
            s.submit(lambda a, w: _finish(a, w, iid, status, total)).result()
        except Exception:
            log.exception("replay failed")
        finally:
            self.done.set()

    def _file(self, iid: int, inp: InputFile) -> str:
        s = self.service
        fid: int = s.submit(lambda a, w: w.start_file(iid, inp.label, inp.size)).result()
        per_tick = max(1, int(self.rate * self.interval))
        chunk: list[RawRecord] = []
        counts = {"in": 0, "new": 0, "duplicate": 0, "bad": 0}
        status = "done"
        next_tick = time.monotonic()
        for rec in read_records(inp):
            chunk.append(rec)
            if len(chunk) >= per_tick:
                self._send(iid, fid, inp.label, chunk, counts)
                chunk = []
                next_tick += self.interval
                delay = next_tick - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    status = "interrupted"
                    break
        if chunk and status == "done":
            self._send(iid, fid, inp.label, chunk, counts)
        s.submit(lambda a, w: w.finish_file(fid, inp.sha256, None, status, counts)).result()
        return status

    def _send(self, iid: int, fid: int, label: str, chunk: list[RawRecord], counts: dict[str, int]) -> None:
        out = self.service.submit(
            lambda a, w: ingest_batch(
                w, chunk, source=label, file_id=fid, import_id=iid, observed_at=datetime.now(UTC)
            )
        ).result()
        self.records += out.records_in
        self.posts_new += out.posts_new
        counts["in"] += out.records_in
        counts["new"] += out.records_new
        counts["duplicate"] += out.records_duplicate
        counts["bad"] += out.records_bad
