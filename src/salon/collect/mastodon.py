"""Mastodon live collection: REST tag timelines (resume and gap backfill) and the hashtag
streaming API (low latency), on every configured instance.

What is stored. Mastodon status ids belong to the *serving* instance, and the normaliser needs
that instance to key delete events and reply links (see ``salon.normalize.mastodon``), but
Mastodon never says it in the payload. Salon therefore stores each status, and each streaming
event, in a small envelope shaped like Mastodon's own streaming messages::

    {"instance": "<serving host>", "event": "update" | "status.update" | "delete",
     "payload": "<the status JSON text, or the deleted id, exactly as received>"}

The ``payload`` string is byte-for-byte the text the server sent (for a REST page, the exact
slice of the JSON array holding that status; for the SSE stream, the event's ``data``), so
nothing is lost, and the mastodon normaliser reads the envelope unchanged. ``event`` is
``update`` for statuses read from a REST page; ``raw.source`` is the request URL either way.
Storing one status per record also makes a status fetched twice unchanged a duplicate.

Paging. A first run sweeps each tag timeline backwards (``Link: rel="next"``) down to the
campaign start, then polls forwards with ``min_id`` (``rel="prev"``), which never skips a
status. Cursors are saved after each stored page, so a killed collector resumes where it
stopped. A status seen on several instances is one post (its key is the status ``uri``).

Streaming (needs a token) adds low latency: one WebSocket per instance subscribed to every
hashtag (``salon.collect.mastodon_ws``), or, with ``stream_transport = "sse"`` or on a server
without WebSocket streaming, the server-sent events of ``/api/v1/streaming/hashtag?tag=``, one
stream per hashtag. When a stream drops, the gap is recorded and backfilled at once by the tag
timelines' forward poll from their cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from salon.collect import state
from salon.collect.config import MastodonConfig
from salon.collect.context import Ctx
from salon.collect.credentials import Secret
from salon.collect.http import Backoff, GiveUp, pause, request, same_origin, wake_or_stop
from salon.collect.mastodon_envelope import envelope
from salon.collect.mastodon_ws import stream_instance
from salon.collect.reconnect import Link, Refusal, keep_connected, read_events
from salon.collect.sink import Page
from salon.collect.status import SourceStatus
from salon.sources.files import RawRecord

__all__ = ["collect_mastodon", "envelope", "split_json_array"]

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)


def split_json_array(text: str) -> list[str]:
    """The exact texts of the elements of a top-level JSON array (whitespace trimmed)."""
    start = text.find("[")
    if start < 0 or text[:start].strip():
        raise ValueError("not a JSON array")
    out: list[str] = []
    depth = 0
    elem_start = start + 1
    for m in _TOKENS.finditer(text, start):
        tok = m.group()
        if tok[0] == '"':
            continue
        if tok in "[{":
            depth += 1
        elif tok in "]}":
            depth -= 1
            if depth == 0:
                last = text[elem_start : m.start()].strip()
                if last:
                    out.append(last)
                return out
        elif depth == 1:  # a comma between elements
            out.append(text[elem_start : m.start()].strip())
            elem_start = m.end()
    raise ValueError("unterminated JSON array")


def _host(base: str) -> str:
    return urlsplit(base).netloc.lower()


def _id(s: str) -> int:
    return int(s)


def _page_records(host: str, body: str) -> tuple[list[RawRecord], list[dict[str, Any]]]:
    """Envelopes of the statuses of one timeline page, and the parsed statuses."""
    recs: list[RawRecord] = []
    statuses: list[dict[str, Any]] = []
    for text in split_json_array(body):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            recs.append(RawRecord(text.encode(), 0, error=f"malformed JSON in a timeline page: {exc}"))
            continue
        env = {"instance": host, "event": "update", "payload": obj}
        recs.append(RawRecord(envelope(host, "update", text), 0, env, "mastodon"))
        if isinstance(obj, dict):
            statuses.append(obj)
    return recs, statuses


def _created(s: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(s.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class _Wake:
    """A gap waiting for the tag timeline's next catch-up."""

    gap: state.Gap
    done: asyncio.Future[None]
    records: int = 0
    posts_new: int = 0
    note: str | None = None


@dataclass
class TagTimeline:
    """One (instance, hashtag) REST timeline: backward sweep, then forward polling."""

    ctx: Ctx
    cfg: MastodonConfig
    client: httpx.AsyncClient
    base: str
    tag: str
    st: SourceStatus
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    pending: list[_Wake] = field(default_factory=list)  # gaps to credit to the next catch-up
    active: list[_Wake] = field(default_factory=list)  # gaps credited by the running catch-up
    connection_id: int | None = None

    @property
    def host(self) -> str:
        return _host(self.base)

    @property
    def source(self) -> str:
        return f"mastodon:{self.host}"

    @property
    def key(self) -> str:
        return self.ctx.campaign.key(self.tag)

    def _c(self, name: str) -> str:
        return f"tag:{self.key}:{name}"

    def url(self) -> str:
        return f"{self.base}/api/v1/timelines/tag/{quote(self.tag, safe='')}"

    async def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        resp = await request(
            self.client,
            "GET",
            url,
            params=params,
            stop=self.ctx.stop,
            status=self.st,
            backoff=Backoff(cap=300),
        )
        return resp

    async def _page(self, resp: httpx.Response) -> tuple[list[RawRecord], list[dict[str, Any]]]:
        """The records and statuses of a timeline page. A body that is not a JSON array (an
        ``{"error": ...}`` with status 200, an HTML page, garbage) is quarantined as received
        (nothing lost) and this attempt ends: the timeline backs off, says so and tries again;
        its cursor does not move."""
        try:
            return _page_records(self.host, resp.text)
        except ValueError as exc:
            why = f"not a Mastodon timeline page ({exc}) from {self.host}"
            bad = RawRecord(resp.content, 0, error=why)
            await self.ctx.sink.put(
                Page(self.source, str(resp.url), [bad], connection_id=self.connection_id), self.st
            )
            raise GiveUp(f"{why}: {resp.text[:120]!r}") from None

    async def _store(self, url: str, recs: list[RawRecord], cursor: dict[str, str | None]) -> None:
        out = await self.ctx.sink.put(
            Page(self.source, url, recs, cursor=cursor, connection_id=self.connection_id), self.st
        )
        for w in self.active:
            w.records += out.records_in
            w.posts_new += out.posts_new

    async def sweep(self, cur: dict[str, str]) -> None:
        """Backwards from the newest status to the campaign start (resumable)."""
        if cur.get(self._c("newest")) and not cur.get(self._c("sweep_next")):
            return
        since = self.ctx.campaign.start_utc
        top = cur.get(self._c("sweep_top"))
        url = cur.get(self._c("sweep_next")) or f"{self.url()}?limit={self.cfg.limit}"
        self.st.set("backfilling", f"#{self.tag} on {self.host}")
        while True:
            resp = await self._get(url)
            recs, statuses = await self._page(resp)
            nxt = resp.links.get("next", {}).get("url")
            if statuses and top is None:
                top = max((str(s["id"]) for s in statuses if "id" in s), key=_id, default=None)
            created = [c for c in (_created(s) for s in statuses) if c is not None]
            done = not statuses or not nxt or (bool(created) and min(created) < since)
            if done:
                cursor: dict[str, str | None] = {
                    self._c("newest"): top or cur.get(self._c("newest")) or None,
                    self._c("sweep_next"): None,
                    self._c("sweep_top"): None,
                }
            else:
                cursor = {self._c("sweep_top"): top, self._c("sweep_next"): nxt}
            await self._store(str(resp.url), recs, cursor)
            if done:
                return
            url = str(nxt)

    async def forward(self, newest: str | None) -> str | None:
        """Every status newer than ``newest`` (``min_id`` pages, following ``rel="prev"``)."""
        first: dict[str, Any] = {"limit": self.cfg.limit}
        if newest:
            first["min_id"] = newest
        params: dict[str, Any] | None = first
        url: str | None = self.url()
        while url is not None:
            resp = await self._get(url, params)
            params = None  # the Link URLs carry their own query
            recs, statuses = await self._page(resp)
            ids = [str(s["id"]) for s in statuses if "id" in s]
            if ids:
                top = max(ids, key=_id)
                if newest is None or _id(top) > _id(newest):
                    newest = top
            await self._store(str(resp.url), recs, {self._c("newest"): newest} if newest else {})
            prev = resp.links.get("prev", {}).get("url")
            url = str(prev) if statuses and prev else None
        return newest

    async def run(self) -> None:
        ctx = self.ctx
        backoff = Backoff(base=2.0, cap=600.0)
        while not ctx.stop.is_set():
            try:
                self.connection_id, _gap = await ctx.open_connection(f"{self.source}:{self.key}", self.url())
                # The gaps left pending (this connection's, a failed poll's, a killed run's) are
                # covered by the sweep and the next poll from the cursor: what they store is
                # credited to the gaps, which are marked backfilled only once that poll has run
                # (``_settle``), never before.
                waits = {w.gap.gap_id: w for w in self.active + self.pending}
                for gap in await ctx.sink.call(
                    lambda arc: state.pending_gaps(arc, ctx.slug, f"{self.source}:{self.key}")
                ):
                    if gap.gap_id not in waits:
                        fut = asyncio.get_running_loop().create_future()
                        waits[gap.gap_id] = _Wake(gap, fut, note="tag timeline resumed from its cursor")
                self.active, self.pending = list(waits.values()), []
                cur = await ctx.sink.cursors(self.source)
                await self.sweep(cur)
                self.pending, self.active = self.active + self.pending, []
                cur = await ctx.sink.cursors(self.source)
                newest = cur.get(self._c("newest"))
                while not ctx.stop.is_set():
                    self.st.set("polling", f"#{self.tag} on {self.host}")
                    self.wake.clear()
                    self.active, self.pending = self.pending, []
                    if newest is None:  # the timeline was empty: sweep it again, never skip
                        await self.sweep({})
                        newest = (await ctx.sink.cursors(self.source)).get(self._c("newest"))
                    else:
                        newest = await self.forward(newest)
                    done, self.active = self.active, []
                    await self._settle(done)
                    backoff.reset()
                    if self.pending:
                        continue
                    await wake_or_stop(ctx.stop, self.wake, self.cfg.poll_seconds)
            except Exception as exc:
                # Whatever goes wrong on this timeline (a refused request, a bad page, an
                # unexpected answer) is this timeline's: shown, backed off, tried again; the
                # other hashtags, instances and sources go on.
                if ctx.stop.is_set():
                    break
                why = str(exc) if isinstance(exc, GiveUp) else f"{type(exc).__name__}: {exc}"
                self.st.problem(ctx.creds.redact(why))
                if self.connection_id is not None:
                    await ctx.close_connection(self.connection_id, str(exc))
                    self.connection_id = None
                if await pause(backoff.next(), ctx.stop, self.st, "to retry"):
                    break
        if self.connection_id is not None:
            await ctx.close_connection(self.connection_id, "stopped")
        for w in self.pending + self.active:
            if not w.done.done():
                w.done.set_result(None)

    async def _settle(self, waiting: list[_Wake]) -> None:
        now = datetime.now(UTC)
        for w in waiting:
            await self.ctx.gap_call(
                lambda arc, w=w: state.finish_backfill(  # type: ignore[misc]
                    arc,
                    w.gap.gap_id,
                    "backfilled",
                    now,
                    w.records,
                    w.posts_new,
                    note=w.note,
                    backfill_source=f"{self.source} tag timeline",
                )
            )
            if not w.done.done():
                w.done.set_result(None)

    async def backfill(self, gap: state.Gap) -> None:
        """Catch up from the cursor now and credit what comes to ``gap``."""
        now = datetime.now(UTC)
        await self.ctx.gap_call(
            lambda arc: state.start_backfill(arc, gap.gap_id, f"{self.source} tag timeline", now)
        )
        w = _Wake(gap, asyncio.get_running_loop().create_future())
        self.pending.append(w)
        self.wake.set()
        await w.done


async def _sse_events(resp: httpx.Response) -> AsyncIterator[tuple[str | None, str | None]]:
    """(event, data) pairs of a server-sent event stream; comments (heartbeats) yield nothing."""
    event: str | None = None
    data: list[str] = []
    async for line in resp.aiter_lines():
        if line == "":
            if data:
                yield event or "message", "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            yield None, None  # heartbeat: the connection is alive
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


async def stream_tag(ctx: Ctx, cfg: MastodonConfig, timeline: TagTimeline, token: Secret) -> None:
    """Listen to ``/api/v1/streaming/hashtag?tag=`` and store every update/edit/delete; a stream
    silent for ``stall_seconds`` is reopened, each gap backfilled by the tag timeline."""
    host, tag = timeline.host, timeline.tag
    source = f"mastodon-stream:{host}:{timeline.key}"
    st = ctx.board.get(f"mastodon-stream:{host}")
    url = f"{timeline.base}/api/v1/streaming/hashtag"
    ctx.backfillers[source] = timeline.backfill
    headers = {"Authorization": f"Bearer {token.reveal()}"}
    # read_events detects a stall; the read timeout only bounds the wait for the headers
    timeout = httpx.Timeout(10.0, read=cfg.stall_seconds + 5.0)

    async def attempt(link: Link) -> None:
        async with timeline.client.stream(
            "GET", url, params={"tag": tag}, headers=headers, timeout=timeout
        ) as resp:
            if resp.status_code != 200:
                await resp.aread()
                raise GiveUp(f"HTTP {resp.status_code} on {url}", resp.status_code)
            cid = await link.opened(f"{url}?tag={tag}", host)
            async with aclosing(read_events(_sse_events(resp), ctx.stop, cfg.stall_seconds)) as events:
                async for ev, data in events:
                    if ev is None or data is None or ev not in ("update", "status.update", "delete"):
                        continue
                    rec = RawRecord(
                        envelope(host, ev, data),
                        0,
                        {"instance": host, "event": ev, "payload": data},
                        "mastodon",
                    )
                    await ctx.sink.put(Page(source, f"{url}?tag={tag}", [rec], connection_id=cid), st)

    await keep_connected(
        ctx,
        source,
        attempt,
        status=st,
        backoff=Backoff(base=1.0, cap=300.0),
        target=host,
        errors=(httpx.HTTPError, OSError),
        refusal=Refusal(
            f"Mastodon streaming on {host} refused the token ({{status}}); REST polling goes on",
            "token refused",
        ),
    )


async def collect_mastodon(ctx: Ctx, cfg: MastodonConfig) -> None:
    """Poll (and stream, with a token) every official hashtag on every instance."""
    token = ctx.creds.get(cfg.token_env)
    streaming = cfg.streaming if cfg.streaming is not None else token is not None
    if streaming and token is None:
        ctx.board.say(
            f"Mastodon streaming needs a token (set ${cfg.token_env} or run `salon auth mastodon`); polling only"
        )
        streaming = False
    tags = [display for display, _key, _day in ctx.campaign.official_tags()]
    async with contextlib.AsyncExitStack() as stack:
        jobs: list[Coroutine[Any, Any, None]] = []
        for base in cfg.instances:
            # One client per instance, held to its origin: a Link header or a redirect to
            # another host is refused (its statuses would be stored as this instance's).
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    timeout=httpx.Timeout(30.0),
                    follow_redirects=True,
                    headers={"User-Agent": "salon (campaign archiver)"},
                    event_hooks={"request": [same_origin(base)]},
                )
            )
            st = ctx.board.get(f"mastodon:{_host(base)}")
            timelines = [TagTimeline(ctx, cfg, client, base, tag, st) for tag in tags]
            jobs.extend(tl.run() for tl in timelines)
            if streaming and token is not None:
                jobs.append(_stream(ctx, cfg, base, timelines, token))
        await asyncio.gather(*jobs)
        for st_key in [f"mastodon:{_host(b)}" for b in cfg.instances]:
            ctx.board.get(st_key).set("stopped")


async def _stream(
    ctx: Ctx, cfg: MastodonConfig, base: str, timelines: list[TagTimeline], token: Secret
) -> None:
    """One instance's streaming: its WebSocket, or server-sent events per hashtag (configured,
    or when the instance refuses the WebSocket upgrade)."""
    if cfg.stream_transport not in ("websocket", "sse"):
        ctx.board.say(
            f"[sources.mastodon] stream_transport {cfg.stream_transport!r}: websocket or sse; using sse"
        )
    elif cfg.stream_transport == "websocket":
        if await stream_instance(ctx, cfg, base, timelines, token) or ctx.stop.is_set():
            return
        ctx.board.say(f"{_host(base)} has no WebSocket streaming: server-sent events per hashtag instead")
    await asyncio.gather(*(stream_tag(ctx, cfg, tl, token) for tl in timelines))
