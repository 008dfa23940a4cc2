"""Run a campaign's live collectors: the library API behind ``salon collect`` and ``salon serve``.

>>> from salon.collect import run
>>> report = run("salon.duckdb", "museumweek-2026", sources=["bluesky"], stop_event=ev)  # doctest: +SKIP

``run`` blocks until ``stop_event`` (a ``threading.Event`` or ``asyncio.Event``) is set or the
process is interrupted; ``run_async`` is the same coroutine for an event loop that is already
running (the web app passes its writer queue as ``write``, so the archive keeps one writer).
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.tally import resolve_campaign
from salon.collect import state
from salon.collect.bluesky_search import register_backfill
from salon.collect.config import Sources, sources_of
from salon.collect.context import Ctx
from salon.collect.credentials import Credentials
from salon.collect.http import Backoff, pause
from salon.collect.jetstream import collect_jetstream
from salon.collect.mastodon import collect_mastodon
from salon.collect.profiles import collect_profiles
from salon.collect.sink import Sink, ThreadWriter, WriteFn
from salon.collect.status import StatusBoard
from salon.collect.x_api import collect_x
from salon.ingest.batches import BatchOutcome
from salon.store.archive import Archive, open_archive

__all__ = ["RunReport", "run", "run_async"]

SOURCE_NAMES = ("mastodon", "bluesky", "x")


@dataclass
class RunReport:
    run_id: int
    campaign: str
    sources: list[str]
    totals: BatchOutcome
    status: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _resolve(arc: Archive, campaign: Campaign | str) -> Campaign:
    return resolve_campaign(arc, campaign)


STOP_GRACE = 3.0  # seconds collectors get to finish their batch once a stop is asked


async def _until_stopped(work: Any, stop: asyncio.Event) -> None:
    """Await ``work``; once ``stop`` is set, give it ``STOP_GRACE`` seconds, then cancel it: a
    connection blocked in a read (a quiet stream, a stalled server) must not hold a stop up."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)
            if not done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return
        task.result()
    finally:
        stopper.cancel()


async def _watch(stop_event: threading.Event, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if stop_event.is_set():
            stop.set()
            return
        await asyncio.sleep(0.1)


async def run_async(
    archive: Archive,
    campaign: Campaign | str,
    *,
    sources: list[str] | None = None,
    stop_event: threading.Event | asyncio.Event | None = None,
    write: WriteFn | None = None,
    board: StatusBoard | None = None,
    credentials: Credentials | None = None,
) -> RunReport:
    """Collect ``campaign`` (a Campaign, a stored slug or a campaign file path) from its
    ``[sources.*]`` until stopped. ``sources`` limits to some of mastodon, bluesky, x."""
    own_writer = ThreadWriter(archive) if write is None else None
    write_fn: WriteFn = write or own_writer  # type: ignore[assignment]
    board = board or StatusBoard()
    creds = credentials or Credentials()
    for w in creds.warnings:
        board.say(w)
    stop = stop_event if isinstance(stop_event, asyncio.Event) else asyncio.Event()
    watcher = (
        asyncio.ensure_future(_watch(stop_event, stop)) if isinstance(stop_event, threading.Event) else None
    )
    try:
        camp: Campaign = await write_fn(lambda arc, _w: _resolve(arc, campaign))
        cfg = sources_of(camp)
        for p in cfg.problems:
            board.say(p)
        chosen = [s for s in cfg.names() if sources is None or s in sources]
        for s in sources or ():
            if s not in SOURCE_NAMES:
                raise ValueError(f"unknown source {s!r} (known: {', '.join(SOURCE_NAMES)})")
            if s not in cfg.names():
                board.say(f"the campaign file has no [sources.{s}] table: nothing to collect from {s}")
        args = shlex.join(["collect", camp.slug, *chosen])
        run_id = await write_fn(lambda _arc, w: state.start_run(w, args))
        slug = camp.slug
        await write_fn(lambda arc, _w: state.close_orphans(arc, slug))
        ctx = Ctx(camp, Sink(write_fn, slug, run_id), board, stop, creds, run_id)
        jobs = _jobs(ctx, cfg, chosen)
        status = "done"
        try:
            await _until_stopped(asyncio.gather(*jobs), stop)
            while ctx.tasks:
                await _until_stopped(asyncio.gather(*list(ctx.tasks), return_exceptions=True), stop)
        except (asyncio.CancelledError, KeyboardInterrupt):
            status = "interrupted"
            raise
        except Exception:
            status = "failed"
            raise
        finally:
            stop.set()
            t = ctx.sink.totals
            counts = {
                "in": t.records_in,
                "new": t.records_new,
                "duplicate": t.records_duplicate,
                "bad": t.records_bad,
                "posts_new": t.posts_new,
            }
            await asyncio.shield(
                write_fn(lambda arc, _w: state.finish_run(arc, run_id, status, datetime.now(UTC), counts))
            )
        return RunReport(run_id, slug, chosen, ctx.sink.totals, board.snapshot(), list(board.messages))
    finally:
        if watcher is not None:
            watcher.cancel()
        if own_writer is not None:
            own_writer.close()


def _jobs(ctx: Ctx, cfg: Sources, chosen: list[str]) -> list[Coroutine[Any, Any, None]]:
    jobs: list[Coroutine[Any, Any, None]] = []
    if "mastodon" in chosen and cfg.mastodon is not None:
        m = cfg.mastodon
        jobs.append(_isolated(ctx, "mastodon", lambda: collect_mastodon(ctx, m)))
    if "bluesky" in chosen and cfg.bluesky is not None:
        register_backfill(ctx, cfg.bluesky)
        b = cfg.bluesky
        jobs.append(_isolated(ctx, "bluesky", lambda: collect_jetstream(ctx, b)))
        jobs.append(_isolated(ctx, "bluesky profiles", lambda: collect_profiles(ctx, b)))
    if "x" in chosen and cfg.x is not None:
        x = cfg.x
        jobs.append(_isolated(ctx, "x", lambda: collect_x(ctx, x)))
    return jobs


async def _isolated(ctx: Ctx, name: str, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a source's collector; an error it did not handle is that source's only: it is shown,
    the source starts again after a backoff, and the other sources go on (one misbehaving
    server must not end the whole run)."""
    backoff = Backoff(base=2.0, cap=600.0)
    while not ctx.stop.is_set():
        try:
            await job()
            return
        except Exception as exc:
            msg = ctx.creds.redact(f"{type(exc).__name__}: {exc}")
            ctx.board.say(
                f"{name}: stopped by an error, starting again after a pause (other sources go on): {msg}"
            )
            if await pause(backoff.next(), ctx.stop):
                return


def run(
    archive: Archive | str | None,
    campaign: Campaign | str,
    *,
    sources: list[str] | None = None,
    stop_event: threading.Event | None = None,
    board: StatusBoard | None = None,
    credentials: Credentials | None = None,
) -> RunReport:
    """Blocking ``run_async`` in a new event loop (``archive``: an Archive or a path)."""
    own = not isinstance(archive, Archive)
    arc = archive if isinstance(archive, Archive) else open_archive(archive)
    try:
        return asyncio.run(
            run_async(
                arc, campaign, sources=sources, stop_event=stop_event, board=board, credentials=credentials
            )
        )
    finally:
        if own:
            arc.close()
