"""Bluesky backfill through ``app.bsky.feed.searchPosts`` with an app password.

The session is created once (``com.atproto.server.createSession`` at ``auth_service``) and
reused; an expired access token is refreshed with ``com.atproto.server.refreshSession`` (a new
session is created only when the refresh token is refused too). Each search page is stored
exactly as received (a ``{"posts": [...], "cursor"}`` body, read by the bluesky normaliser).
Jetstream gaps (a disconnect, or collection starting after the campaign began) are backfilled
here for every official hashtag over the gap widened by ``overlap_seconds``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from salon.collect import state
from salon.collect.config import BlueskyConfig
from salon.collect.context import Ctx
from salon.collect.credentials import Secret
from salon.collect.http import Backoff, GiveUp, request, same_origin
from salon.collect.paging import store_pages
from salon.collect.status import SourceStatus

__all__ = ["SOURCE", "BskySession", "register_backfill", "search_range"]

SOURCE = "bluesky:search"


class BskySession:
    """One login reused for every request, refreshed when the access token expires."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        service: str,
        handle: Secret,
        password: Secret,
        stop: asyncio.Event,
        status: SourceStatus | None = None,
    ) -> None:
        self.client, self.service, self.stop, self.status = client, service.rstrip("/"), stop, status
        self._handle, self._password = handle, password
        self._access: str | None = None
        self._refresh: str | None = None
        self._lock = asyncio.Lock()
        self.created = 0
        self.refreshed = 0

    async def _login(self) -> None:
        resp = await request(
            self.client,
            "POST",
            f"{self.service}/xrpc/com.atproto.server.createSession",
            json={"identifier": self._handle.reveal(), "password": self._password.reveal()},
            stop=self.stop,
            status=self.status,
            max_attempts=5,
        )
        body = resp.json()
        self._access, self._refresh = body["accessJwt"], body["refreshJwt"]
        self.created += 1

    async def _renew(self) -> None:
        try:
            resp = await request(
                self.client,
                "POST",
                f"{self.service}/xrpc/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {self._refresh}"},
                stop=self.stop,
                status=self.status,
                max_attempts=3,
            )
        except GiveUp:
            await self._login()
            return
        body = resp.json()
        self._access, self._refresh = body["accessJwt"], body["refreshJwt"]
        self.refreshed += 1

    async def get(self, url: str, params: dict[str, Any]) -> httpx.Response:
        """GET with the session's token, refreshing it once if the server says it expired."""
        async with self._lock:
            if self._access is None:
                await self._login()
        for attempt in (0, 1):
            token = self._access
            resp = await request(
                self.client,
                "GET",
                url,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                stop=self.stop,
                status=self.status,
                ok_statuses=(400, 401),
                backoff=Backoff(cap=300),
            )
            if resp.is_success:
                return resp
            expired = resp.status_code == 401 or b"ExpiredToken" in resp.content
            if not expired or attempt:
                raise GiveUp(f"HTTP {resp.status_code} from searchPosts: {resp.text[:200]}", resp.status_code)
            async with self._lock:
                if self._access == token:  # nobody refreshed it meanwhile
                    await self._renew()
        raise AssertionError("unreachable")


async def search_range(
    ctx: Ctx,
    session: BskySession,
    appview: str,
    tag: str,
    since: datetime,
    until: datetime,
    status: SourceStatus,
) -> tuple[int, int]:
    """Store every searchPosts page for ``#tag`` in ``[since, until)``; (records, new posts)."""
    url = f"{appview.rstrip('/')}/xrpc/app.bsky.feed.searchPosts"
    params: dict[str, Any] = {
        "q": f"#{tag}",
        "sort": "latest",
        "since": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "until": until.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "limit": 100,
    }
    return await store_pages(
        ctx,
        lambda p: session.get(url, p),
        params,
        source=SOURCE,
        fmt="bluesky",
        items="posts",
        token=("cursor",),
        status=status,
        stop_on_empty=True,
    )


def register_backfill(ctx: Ctx, cfg: BlueskyConfig) -> None:
    """Make Jetstream gaps backfill through searchPosts when a login is configured."""
    handle, password = ctx.creds.get(cfg.handle_env), ctx.creds.get(cfg.password_env)
    if not cfg.appview:
        return
    if handle is None or password is None:
        ctx.board.say(
            f"no Bluesky login (${cfg.handle_env}, ${cfg.password_env}, or `salon auth bluesky`):"
            " Jetstream gaps are covered by its cursor replay only, without a searchPosts backfill"
        )
        return
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0),
        headers={"User-Agent": "salon (campaign archiver)"},
        event_hooks={"request": [same_origin(cfg.auth_service, cfg.appview)]},
    )
    st = ctx.board.get(SOURCE)
    session = BskySession(client, cfg.auth_service, handle, password, ctx.stop, st)
    appview = cfg.appview
    overlap = timedelta(seconds=max(cfg.overlap_seconds, 60))
    tags = [display for display, _k, _d in ctx.campaign.official_tags()]
    lock = asyncio.Lock()

    async def backfill(gap: state.Gap) -> None:
        async with lock:  # one search backfill at a time: searchPosts is rate limited
            start, end = gap.start - overlap, gap.end + overlap
            now = datetime.now(UTC)
            await ctx.gap_call(
                lambda arc: state.start_backfill(arc, gap.gap_id, "jetstream replay + " + SOURCE, now)
            )
            st.set("backfilling", f"{gap.start:%Y-%m-%d %H:%M} → {gap.end:%H:%M}")
            records = posts = 0
            status, note = "backfilled", None
            try:
                for tag in tags:
                    r, p = await search_range(ctx, session, appview, tag, start, end, st)
                    records, posts = records + r, posts + p
            except GiveUp as exc:
                status, note = (
                    ("failed", ctx.creds.redact(str(exc))) if not ctx.stop.is_set() else ("open", "stopped")
                )
            done = datetime.now(UTC)
            await ctx.gap_call(
                lambda arc: state.finish_backfill(arc, gap.gap_id, status, done, records, posts, note=note)
            )
            st.set("idle")

    async def close_when_stopped() -> None:
        await ctx.stop.wait()
        await client.aclose()

    ctx.backfillers["bluesky"] = backfill
    ctx.spawn(close_when_stopped())
    ctx.session = session  # type: ignore[attr-defined]
