"""X (API v2) live collection with a bearer token: recent search (resume by ``since_id``, pages
by ``next_token``) and the filtered stream with rules; stream gaps are backfilled by a recent
search over the gap. Without a token, the collector says how to import exports instead.

Every response page and stream line is stored exactly as received (format ``x-v2``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from salon.collect import state
from salon.collect.config import XConfig
from salon.collect.context import Ctx
from salon.collect.http import Backoff, GiveUp, pause, request, same_origin, wake_or_stop
from salon.collect.paging import Cursor, store_pages
from salon.collect.reconnect import Link, Refusal, keep_connected, read_events
from salon.collect.sink import Page
from salon.collect.status import SourceStatus
from salon.ingest.batches import record_from_payload

__all__ = ["FIELDS", "NO_TOKEN", "RecentSearch", "collect_x", "query_of"]

SEARCH, STREAM = "x:search", "x:stream"
NO_TOKEN = (
    "X collection needs an API bearer token (set ${env} or run `salon auth x`). Without API access,"
    " export the posts another way (twarc2 JSONL, an X account archive, TAGS, Zeeschuimer) and load"
    " them with `salon import FILE`."
)
# The fields twarc2 asks for, so what is stored is as complete as a twarc2 collection.
FIELDS = {
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username,"
    "attachments.media_keys,in_reply_to_user_id,geo.place_id,edit_history_tweet_ids",
    "tweet.fields": "attachments,author_id,context_annotations,conversation_id,created_at,edit_controls,"
    "edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,note_tweet,public_metrics,"
    "possibly_sensitive,referenced_tweets,reply_settings,source,text,withheld",
    "user.fields": "created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,"
    "protected,public_metrics,url,username,verified,verified_type,withheld",
    "media.fields": "alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,width",
    "place.fields": "contained_within,country,country_code,full_name,geo,id,name,place_type",
}


def query_of(ctx: Ctx) -> str:
    tags = [f"#{d}" for d, _k, _day in ctx.campaign.official_tags()]
    return tags[0] if len(tags) == 1 else "(" + " OR ".join(tags) + ")"


class RecentSearch:
    """``/2/tweets/search/recent`` sweeps: newest first by ``next_token``; the next sweep
    starts after the newest id of the last complete one (``since_id``)."""

    def __init__(self, ctx: Ctx, cfg: XConfig, client: httpx.AsyncClient) -> None:
        self.ctx, self.cfg, self.client = ctx, cfg, client
        self.st: SourceStatus = ctx.board.get(SEARCH)
        self.url = f"{cfg.api.rstrip('/')}{cfg.search_path}"
        self.window = timedelta(days=cfg.search_days)
        self.wake = asyncio.Event()
        self.connection_id: int | None = None

    def _start_time(self) -> datetime:
        floor = datetime.now(UTC) - self.window + timedelta(minutes=1)
        return max(self.ctx.campaign.start_utc, floor)

    async def _get(self, params: dict[str, Any]) -> httpx.Response:
        return await request(
            self.client,
            "GET",
            self.url,
            params=params,
            stop=self.ctx.stop,
            status=self.st,
            backoff=Backoff(cap=900),
        )

    async def _pages(
        self, params: dict[str, Any], cursor_of: Callable[[dict[str, Any]], Cursor]
    ) -> tuple[int, int]:
        """Follow ``next_token`` from ``params``; store each page with ``cursor_of(page)``."""
        return await store_pages(
            self.ctx,
            self._get,
            params,
            source=SEARCH,
            fmt="x-v2",
            items="data",
            token=("meta", "next_token"),
            status=self.st,
            cursor=cursor_of,
            connection_id=self.connection_id,
        )

    async def sweep(self) -> tuple[int, int]:
        """One resumable sweep of everything newer than the saved ``since_id``: (records, new
        posts) it stored."""
        cur = await self.ctx.sink.cursors(SEARCH)
        params: dict[str, Any] = {"query": query_of(self.ctx), "max_results": 100, **FIELDS}
        since = cur.get("since_id")
        if since:
            params["since_id"] = since
        else:
            params["start_time"] = self._start_time().isoformat().replace("+00:00", "Z")
        if cur.get("next_token"):
            params["next_token"] = cur["next_token"]
        top = cur.get("sweep_newest")

        def cursor_of(page: dict[str, Any]) -> Cursor:
            nonlocal top
            meta = page.get("meta") or {}
            if top is None and meta.get("newest_id"):
                top = str(meta["newest_id"])
            if meta.get("next_token"):
                return {"sweep_newest": top, "next_token": str(meta["next_token"])}
            return {"since_id": top or since, "sweep_newest": None, "next_token": None}

        try:
            return await self._pages(params, cursor_of)
        except GiveUp as exc:
            if exc.status_code == 400 and "next_token" in params:
                # an expired pagination token: sweep again from since_id (duplicates are skipped)
                await self.ctx.sink.put(Page(SEARCH, self.url, [], cursor={"next_token": None}))
                return 0, 0
            raise

    async def backfill(self, gap: state.Gap) -> None:
        """Search the time range of a stream gap (widened by 30 s each side)."""
        now = datetime.now(UTC)
        await self.ctx.gap_call(lambda arc: state.start_backfill(arc, gap.gap_id, SEARCH, now))
        start = max(gap.start - timedelta(seconds=30), now - self.window + timedelta(minutes=1))
        end = min(gap.end + timedelta(seconds=30), now - timedelta(seconds=10))
        params: dict[str, Any] = {
            "query": query_of(self.ctx),
            "max_results": 100,
            "start_time": start.isoformat().replace("+00:00", "Z"),
            **FIELDS,
        }
        if end > start:
            params["end_time"] = end.isoformat().replace("+00:00", "Z")
        status, note, records, posts = "backfilled", None, 0, 0
        try:
            records, posts = await self._pages(params, lambda page: {})
        except GiveUp as exc:
            status, note = "failed", self.ctx.creds.redact(str(exc))
        done = datetime.now(UTC)
        await self.ctx.gap_call(
            lambda arc: state.finish_backfill(arc, gap.gap_id, status, done, records, posts, note=note)
        )

    async def run(self) -> None:
        ctx = self.ctx
        backoff = Backoff(base=5.0, cap=900.0)
        resumed = False
        while not ctx.stop.is_set():
            try:
                if self.connection_id is None:
                    self.connection_id, _gap = await ctx.open_connection(SEARCH, self.url)
                self.st.set("polling", query_of(ctx))
                records, posts = await self.sweep()
                if not resumed:  # the first sweep resumed from since_id: it covers the gaps
                    await ctx.resumed(
                        SEARCH,
                        "recent search resumed from since_id",
                        SEARCH,
                        records=records,
                        posts_new=posts,
                    )
                    resumed = True
                backoff.reset()
                self.wake.clear()
                await wake_or_stop(ctx.stop, self.wake, self.cfg.poll_seconds)
            except GiveUp as exc:
                if ctx.stop.is_set():
                    break
                msg = ctx.creds.redact(str(exc))
                self.st.problem(msg)
                if exc.status_code in (401, 403):
                    ctx.board.say(f"X refused the bearer token for recent search ({exc.status_code}): {msg}")
                    self.st.set("failed", "token refused")
                    break
                if await pause(backoff.next(), ctx.stop, self.st, "to retry"):
                    break
        if self.connection_id is not None:
            await ctx.close_connection(self.connection_id, "stopped")
        if self.st.state != "failed":
            self.st.set("stopped")


async def sync_rules(ctx: Ctx, client: httpx.AsyncClient, api: str, st: SourceStatus) -> None:
    """Make the stream's rules hold exactly this campaign's rule (tagged ``salon:<slug>``)."""
    url = f"{api}/2/tweets/search/stream/rules"
    tag, value = f"salon:{ctx.slug}", query_of(ctx).strip("()")
    resp = await request(client, "GET", url, stop=ctx.stop, status=st, max_attempts=5)
    rules = resp.json().get("data") or []
    mine = [r for r in rules if r.get("tag") == tag]
    stale = [r["id"] for r in mine if r.get("value") != value]
    if stale:
        await request(
            client, "POST", url, json={"delete": {"ids": stale}}, stop=ctx.stop, status=st, max_attempts=5
        )
    if not any(r.get("value") == value for r in mine):
        await request(
            client,
            "POST",
            url,
            json={"add": [{"value": value, "tag": tag}]},
            stop=ctx.stop,
            status=st,
            max_attempts=5,
        )


async def stream(ctx: Ctx, cfg: XConfig, client: httpx.AsyncClient, search: RecentSearch) -> None:
    """The filtered stream: every line stored; a stream silent past ``stall_seconds`` reconnects
    (X sends a heartbeat every 20 s); each gap is backfilled by a recent search."""
    st = ctx.board.get(STREAM)
    api = cfg.api.rstrip("/")
    url = f"{api}/2/tweets/search/stream"
    ctx.backfillers[STREAM] = search.backfill
    # read_events detects a stall; the read timeout only bounds the wait for the headers
    timeout = httpx.Timeout(10.0, read=cfg.stall_seconds + 5.0)

    async def attempt(link: Link) -> None:
        await sync_rules(ctx, client, api, st)
        async with client.stream("GET", url, params=FIELDS, timeout=timeout) as resp:
            if resp.status_code != 200:
                await resp.aread()
                raise GiveUp(f"HTTP {resp.status_code} on {url}: {resp.text[:200]}", resp.status_code)
            cid = await link.opened(url)
            async with aclosing(read_events(resp.aiter_lines(), ctx.stop, cfg.stall_seconds)) as lines:
                async for line in lines:
                    if not line.strip():
                        continue  # keep-alive heartbeat
                    rec = record_from_payload(line.encode(), 0, "x-v2")
                    await ctx.sink.put(Page(STREAM, url, [rec], connection_id=cid), st)

    await keep_connected(
        ctx,
        STREAM,
        attempt,
        status=st,
        backoff=Backoff(base=1.0, cap=320.0),
        target=api,
        errors=(httpx.HTTPError, OSError),
        refusal=Refusal("X refused the filtered stream ({status}); recent search goes on", "not allowed"),
    )


async def collect_x(ctx: Ctx, cfg: XConfig) -> None:
    token = ctx.creds.get(cfg.token_env)
    if token is None:
        ctx.board.say(NO_TOKEN.replace("${env}", f"${cfg.token_env}"))
        ctx.board.get(SEARCH).set("failed", "no bearer token")
        return
    headers = {"Authorization": f"Bearer {token.reveal()}", "User-Agent": "salon (campaign archiver)"}
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(30.0), headers=headers, event_hooks={"request": [same_origin(cfg.api)]}
    ) as client:
        search = RecentSearch(ctx, cfg, client)
        jobs = [search.run()] if cfg.search else []
        if cfg.stream:
            jobs.append(stream(ctx, cfg, client, search))
        await asyncio.gather(*jobs)
