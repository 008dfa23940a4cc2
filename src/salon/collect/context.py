"""What every collector of one run shares: the campaign, the sink, the status board, the stop
event, the credentials, and the connection/gap bookkeeping of live sources.

A gap (``salon.collect.state``) is covered in one of two ways. A stream's gap goes to the
backfiller registered for it in ``backfillers`` (``backfill``); the gaps an earlier run left
pending (backfill failed, interrupted, or never started; a Jetstream gap its cursor replay
covered only in part) go there again when the stream starts (``backfill_pending``, called by
``salon.collect.reconnect.keep_connected``). A stream without a backfiller (Jetstream without a
Bluesky login) leaves them as they are, for a later run that has one: its cursor replay resumes
after them. A poller's gap
(REST, resumed from its cursor) is covered once it has polled again: ``resumed`` closes every
pending gap of its source, the ones a failed poll or a killed run left included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from salon.campaigns.config import Campaign
from salon.collect import state
from salon.collect.credentials import Credentials
from salon.collect.sink import Sink, now_utc
from salon.collect.status import StatusBoard
from salon.store.archive import Archive

__all__ = ["Backfiller", "Ctx"]

Backfiller = Callable[[state.Gap], Awaitable[None]]


@dataclass
class Ctx:
    campaign: Campaign
    sink: Sink
    board: StatusBoard
    stop: asyncio.Event
    creds: Credentials
    run_id: int | None = None
    # source key of a live stream → coroutine that backfills one of its gaps (REST, search)
    backfillers: dict[str, Backfiller] = field(default_factory=dict)
    # tasks started by collectors (backfills) that the runner awaits before finishing
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    keys: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = set(self.campaign.official_keys())

    @property
    def slug(self) -> str:
        return self.campaign.slug

    def matches(self, tags: list[str]) -> bool:
        """Does any of these hashtags (as written) carry an official hashtag's key?"""
        key = self.campaign.key
        return any(key(t) in self.keys for t in tags)

    def campaign_started(self) -> datetime | None:
        """The campaign start if it is in the past (what a first connection must cover)."""
        start = self.campaign.start_utc
        return start if start < datetime.now(UTC) else None

    async def open_connection(self, source: str, url: str) -> tuple[int, state.Gap | None]:
        slug, run_id, first = self.slug, self.run_id, self.campaign_started()
        now = now_utc()
        return await self.sink.call(
            lambda arc: state.open_connection(arc, run_id, slug, source, url, now, first)
        )

    async def close_connection(self, connection_id: int, reason: str) -> None:
        now = now_utc()
        reason = self.creds.redact(reason)
        await self.sink.call(lambda arc: state.close_connection(arc, connection_id, now, reason))

    async def gap_call(self, fn: Callable[[Archive], None]) -> None:
        await self.sink.call(fn)

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run a background job (a backfill) that the run waits for before it ends."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def backfill(self, gap: state.Gap, via: str) -> None:
        """Start the backfill of ``gap`` by the backfiller registered for ``via``."""
        fn = self.backfillers.get(via)
        if fn is not None:
            self.spawn(fn(gap))

    async def backfill_pending(self, source: str, via: str | None = None) -> int:
        """Start again, by the backfiller registered for ``via`` (default: ``source``), the
        backfill of every gap of ``source`` still pending (``state.pending_gaps``: an earlier
        run's backfill failed, was interrupted, or never started, or its cursor replay covered
        it only in part). Starts none without a backfiller for ``via``. How many were started."""
        fn = self.backfillers.get(via or source)
        if fn is None:
            return 0
        slug = self.slug
        gaps = await self.sink.call(lambda arc: state.pending_gaps(arc, slug, source))
        for gap in gaps:
            self.spawn(fn(gap))
        if gaps:
            self.board.say(f"{source}: backfilling again {len(gaps)} gap(s) an earlier run left pending")
        return len(gaps)

    async def resumed(
        self, source: str, note: str, backfill_source: str, *, records: int = 0, posts_new: int = 0
    ) -> None:
        """A poller of ``source`` has polled again from its saved cursor (call it only once that
        poll ran), which covers every gap of the source still pending: its new connection's, and
        any a failed poll or a killed run left open. ``records``/``posts_new``: what that poll
        brought, credited to each gap it covered."""
        slug, now = self.slug, now_utc()

        def close(arc: Archive) -> None:
            for gap in state.pending_gaps(arc, slug, source):
                state.finish_backfill(
                    arc,
                    gap.gap_id,
                    "backfilled",
                    now,
                    records,
                    posts_new,
                    note=note,
                    backfill_source=backfill_source,
                )

        await self.sink.call(close)
