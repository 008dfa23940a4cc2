"""What every collector of one run shares: the campaign, the sink, the status board, the stop
event, the credentials, and the connection/gap bookkeeping of live sources."""

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
