"""``read_events``, the stall-aware reader every live stream goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from salon.collect.reconnect import Stalled, StreamEnded, read_events


async def _collect(
    events: AsyncIterator[int], stall: float = 5.0, tick: float = 0.05
) -> tuple[list[int], int]:
    idles = 0

    async def idle() -> None:
        nonlocal idles
        idles += 1

    got: list[int] = []
    async with aclosing(read_events(events, asyncio.Event(), stall, tick=tick, idle=idle)) as items:
        async for item in items:
            got.append(item)
    return got, idles


def test_items_in_order_then_what_the_stream_raised() -> None:
    async def events() -> AsyncIterator[int]:
        for i in range(3000):  # more than the read-ahead: the pump waits for the reader
            yield i
        raise ConnectionResetError("peer reset")

    got: list[int] = []

    async def run() -> None:
        async with aclosing(read_events(events(), asyncio.Event(), 5.0)) as items:
            async for item in items:
                got.append(item)

    with pytest.raises(ConnectionResetError):
        asyncio.run(run())
    assert got == list(range(3000))


def test_a_quiet_stream_is_not_closed_by_ticks() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.sleep(0.4)  # quiet: several ticks pass
            yield 2
        finally:
            closed.append(True)

    with pytest.raises(StreamEnded):
        asyncio.run(_collect(events()))
    # Only the end of the stream closed it, once; the items before came through.
    assert closed == [True]


def test_idle_is_awaited_on_each_quiet_tick_and_items_all_arrive() -> None:
    async def events() -> AsyncIterator[int]:
        yield 1
        await asyncio.sleep(0.4)
        yield 2
        await asyncio.sleep(10)  # then nothing: the reader stalls

    got: list[int] = []
    idles = 0

    async def run() -> None:
        nonlocal idles

        async def idle() -> None:
            nonlocal idles
            idles += 1

        async with aclosing(read_events(events(), asyncio.Event(), 0.8, tick=0.05, idle=idle)) as items:
            async for item in items:
                got.append(item)

    with pytest.raises(Stalled):
        asyncio.run(run())
    assert got == [1, 2] and idles >= 5


def test_stop_ends_the_reading() -> None:
    async def events() -> AsyncIterator[int]:
        i = 0
        while True:
            i += 1
            yield i
            await asyncio.sleep(0.01)

    async def run() -> list[int]:
        stop = asyncio.Event()
        got: list[int] = []
        async with aclosing(read_events(events(), stop, 5.0, tick=0.05)) as items:
            async for item in items:
                got.append(item)
                if item == 5:
                    stop.set()
        return got

    got = asyncio.run(run())
    assert got[:5] == [1, 2, 3, 4, 5] and len(got) <= 6
