"""Names, not identifiers: Bluesky DIDs resolved to handles and display names.

Jetstream events name their authors by DID only. Two things put names on them:

- the ``identity`` events Jetstream passes along (a handle change), kept for the authors of
  kept posts (``salon.collect.jetstream``) and read as author snapshots;
- batched ``app.bsky.actor.getProfiles`` lookups on a public AppView (``refresh_profiles``):
  25 actors per call (the lexicon's maximum), each response stored as a raw record (format
  ``bluesky``, its request URL as provenance) and normalised like any import, so ``authors``
  holds the latest name and ``author_snapshots`` every distinct one (the history). A
  ``ProfileCache`` remembers what was asked, so a DID is looked up again only when due.
  Requests go through ``salon.collect.http.request`` (retries, backoff, Bluesky's
  ``ratelimit-*`` headers waited out), with a pause between calls.

During collection ``collect_profiles`` runs every ``profiles_seconds``; ``salon authors
refresh`` runs ``refresh_profiles`` once (``refresh_archive`` in a notebook).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import orjson

from salon.collect.config import BlueskyConfig
from salon.collect.context import Ctx
from salon.collect.http import Backoff, GiveUp, pause, request
from salon.collect.sink import Page, Sink, ThreadWriter
from salon.collect.status import SourceStatus
from salon.sources.files import RawRecord
from salon.store.archive import Archive

__all__ = [
    "BATCH",
    "DEFAULT_APPVIEW",
    "SOURCE",
    "ProfileCache",
    "RefreshReport",
    "collect_profiles",
    "dids_to_resolve",
    "refresh_archive",
    "refresh_profiles",
]

BATCH = 25  # app.bsky.actor.getProfiles takes at most 25 actors
SOURCE = "bluesky:profiles"
DEFAULT_APPVIEW = "https://public.api.bsky.app"  # answers getProfiles without a login
NSID = "app.bsky.actor.getProfiles"


def dids_to_resolve(
    archive: Archive,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[str]:
    """DIDs of the archive's Bluesky authors with no handle yet (never resolved) and, with
    ``older_than``, those whose last snapshot naming them is older than that: unnamed first,
    then the longest unrefreshed."""
    cutoff = (now or datetime.now(UTC)) - older_than if older_than is not None else None
    rows = archive.con.execute(
        "SELECT a.native_id FROM authors a LEFT JOIN (SELECT uid, max(observed_at) AS named"
        " FROM author_snapshots WHERE handle IS NOT NULL GROUP BY uid) s USING (uid)"
        " WHERE a.platform = 'bluesky' AND starts_with(a.native_id, 'did:')"
        " AND (a.handle IS NULL OR (CAST(? AS TIMESTAMPTZ) IS NOT NULL AND (s.named IS NULL OR s.named < ?)))"
        " ORDER BY a.handle IS NOT NULL, s.named NULLS FIRST, a.native_id"
        + (f" LIMIT {int(limit)}" if limit else ""),
        [cutoff, cutoff],
    ).fetchall()
    return [r[0] for r in rows]


@dataclass
class ProfileCache:
    """When each DID was last asked for (monotonic seconds), found or not: not again before
    ``refresh`` seconds, so an account the AppView does not know is not asked for in a loop."""

    refresh: float = 86_400.0
    asked: dict[str, float] = field(default_factory=dict)

    def due(self, dids: list[str], now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        return [d for d in dids if d not in self.asked or now - self.asked[d] >= self.refresh]

    def mark(self, dids: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.asked.update(dict.fromkeys(dids, now))


@dataclass
class RefreshReport:
    asked: int = 0  # DIDs looked up
    found: int = 0  # profiles the AppView returned
    calls: int = 0
    failed: list[str] = field(default_factory=list)  # why a batch could not be fetched


async def refresh_profiles(
    sink: Sink,
    dids: list[str],
    *,
    appview: str = DEFAULT_APPVIEW,
    stop: asyncio.Event | None = None,
    status: SourceStatus | None = None,
    cache: ProfileCache | None = None,
    gap_seconds: float = 0.2,
    client: httpx.AsyncClient | None = None,
) -> RefreshReport:
    """Look ``dids`` up by ``getProfiles``, 25 per call, and store each response through
    ``sink``. DIDs ``cache`` says are not due are skipped; a batch that fails (after the
    retries ``request`` makes) is reported, never raised."""
    stop = stop or asyncio.Event()
    todo = cache.due(list(dict.fromkeys(dids))) if cache is not None else list(dict.fromkeys(dids))
    report = RefreshReport()
    own = client is None
    http = client or httpx.AsyncClient(timeout=30.0)
    backoff = Backoff(base=1.0, cap=60.0)
    url = f"{appview.rstrip('/')}/xrpc/{NSID}"
    try:
        for i in range(0, len(todo), BATCH):
            if stop.is_set():
                break
            batch = todo[i : i + BATCH]
            params = [("actors", d) for d in batch]
            report.asked += len(batch)
            report.calls += 1
            try:
                resp = await request(
                    http, "GET", url, params=params, stop=stop, status=status, backoff=backoff, max_attempts=6
                )
                body = resp.content
                obj = orjson.loads(body)
            except (GiveUp, orjson.JSONDecodeError) as exc:
                if stop.is_set():
                    break
                report.failed.append(f"{len(batch)} DIDs: {exc}")
                if status is not None:
                    status.problem(f"getProfiles: {exc}")
            else:
                profiles = obj.get("profiles") if isinstance(obj, dict) else None
                report.found += len(profiles) if isinstance(profiles, list) else 0
                page = Page(SOURCE, f"{url}?{urlencode(params)}", [RawRecord(body, 0, obj, "bluesky")])
                await sink.put(page, status)
            if cache is not None:
                cache.mark(batch)
            if i + BATCH < len(todo) and await pause(gap_seconds, stop):  # polite between calls
                break
    finally:
        if own:
            await http.aclose()
    return report


async def collect_profiles(ctx: Ctx, cfg: BlueskyConfig) -> None:
    """During collection: every ``profiles_seconds``, name the Bluesky authors still unnamed,
    and refresh the names older than ``profiles_refresh_hours``, until ``ctx.stop``."""
    if not cfg.profiles:
        return
    st = ctx.board.get(SOURCE)
    refresh = timedelta(hours=cfg.profiles_refresh_hours)
    cache = ProfileCache(refresh=refresh.total_seconds())
    st.set("live", "names from getProfiles")
    async with httpx.AsyncClient(timeout=30.0) as client:
        while not ctx.stop.is_set():
            dids = await ctx.sink.call(
                lambda arc: dids_to_resolve(arc, refresh, limit=cfg.profiles_per_round)
            )
            due = cache.due(dids)
            if due:
                st.set("live", f"naming {len(due)} author(s)")
                await refresh_profiles(
                    ctx.sink, due, appview=cfg.profiles, stop=ctx.stop, status=st, cache=cache, client=client
                )
                st.set("live", "names from getProfiles")
            if await pause(cfg.profiles_seconds, ctx.stop):
                break
    st.set("stopped")


def refresh_archive(
    archive: Archive,
    *,
    appview: str = DEFAULT_APPVIEW,
    older_than: timedelta | None = None,
    limit: int | None = None,
    status: SourceStatus | None = None,
) -> RefreshReport:
    """``salon authors refresh``: name the archive's unnamed Bluesky authors (and, with
    ``older_than``, refresh the names older than that) by ``getProfiles``, once."""

    async def go() -> RefreshReport:
        writer = ThreadWriter(archive)
        try:
            sink = Sink(writer, campaign="")
            dids = await sink.call(lambda arc: dids_to_resolve(arc, older_than, limit=limit))
            return await refresh_profiles(sink, dids, appview=appview, status=status)
        finally:
            writer.close()

    return asyncio.run(go())
