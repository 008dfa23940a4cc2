"""``salon media fetch``: download the images and video posters posts reference (X media URLs,
Mastodon attachments, Bluesky blobs on the CDN) into the content-addressed media store, so
stories publish them as files instead of pointing at platforms that will not last.

It lives in ``collect`` (the layer that talks to the platforms, with the shared HTTP helpers;
``publish`` may not reach the network) and writes only the media store and ``media_files``. It
is polite and resumable:

- a few downloads at a time (``concurrency``), each through ``salon.collect.http.request``:
  network errors and 5xx retried with exponential backoff, a 429's ``Retry-After`` (or rate-limit
  headers) waited out;
- each file is written to a temporary name while hashed, then renamed to its SHA-256 (so a
  ``kill -9`` leaves no half file under a digest), and its ``media_files`` row committed at once:
  a new run fetches only what is not ``done``;
- a medium that cannot be fetched (404, not an image) is ``failed`` with its error; stories show
  a placeholder with its alt text. Permanent failures (403/404/410, not an image) are not tried
  again unless ``retry_failed``.

Avatars are found in the raw records of the authors' posts (``salon.normalize.avatars``): the
normalisers do not keep them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from salon import __version__
from salon.campaigns.index import refresh
from salon.campaigns.shown import hidden_posts
from salon.campaigns.stored import get_campaign
from salon.collect.http import Backoff, GiveUp, request
from salon.normalize.avatars import avatars_from
from salon.store import stories as db
from salon.store.archive import Archive
from salon.store.media import EXTENSIONS, MediaStore

__all__ = ["FetchReport", "fetch_media", "media_targets", "sniff"]

MAX_BYTES = 50 * 1024 * 1024
PERMANENT = ("HTTP 403", "HTTP 404", "HTTP 410", "not an image", "too large")


def sniff(body: bytes) -> str | None:
    """The image type of ``body`` from its first bytes (None: not an image we publish). The
    server's Content-Type is not trusted: a CDN error page served as 200 must not pass."""
    if body[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    return None


def media_targets(
    arc: Archive, *, campaign: str | None = None, story: str | None = None, avatars: bool = True
) -> list[tuple[str, str]]:
    """``(url, role)`` of every medium of the campaign's posts (``campaign``), or of the story's
    posts with their replied-to and quoted posts (``story``), or of every post (neither), and
    their authors' avatars (role ``avatar``).
    Posts deleted or opted out are left out: their media will never be shown."""
    if story:
        uids = [
            r[0]
            for r in arc.query(
                "SELECT i.post_uid FROM story_items i JOIN stories s USING (story_id)"
                " WHERE s.slug = ? AND i.kind = 'post'",
                [story],
            )
        ]
        uids += [
            u
            for r in arc.query(
                "SELECT reply_to_uid, quote_of_uid FROM posts WHERE uid IN (SELECT unnest(?))", [uids]
            )
            for u in r
            if u
        ]
    elif campaign:
        c = get_campaign(arc, campaign)
        if c is not None and not arc.read_only:
            refresh(arc, c)  # the index may lag behind the last import
        uids = [
            r[0]
            for r in arc.query(
                "SELECT cp.uid FROM campaign_posts cp JOIN campaigns c USING (campaign_id)"
                " WHERE c.slug = ? AND NOT cp.is_repost",
                [campaign],
            )
        ]
    else:
        uids = [r[0] for r in arc.query("SELECT DISTINCT uid FROM post_media")]
    hidden = hidden_posts(arc, uids)
    keep = sorted(set(uids) - set(hidden))
    out: list[tuple[str, str]] = []
    for url, preview, typ in arc.query(
        "SELECT url, preview_url, type FROM post_media WHERE uid IN (SELECT unnest(?)) ORDER BY uid, position",
        [keep],
    ):
        # A photo's own URL is the image; a video's is the video, so its poster is the preview.
        if typ in ("video", "gifv", "animated_gif"):
            if preview:
                out.append((preview, "preview"))
        else:
            if url:
                out.append((url, "media"))
            elif preview:
                out.append((preview, "preview"))
    if avatars:
        found = avatars_from(db.author_payloads(arc, keep))
        out += [(url, "avatar") for _author, url in sorted(found.items())]
    seen: set[str] = set()
    unique = []
    for url, role in out:
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            unique.append((url, role))
    return unique


@dataclass
class FetchReport:
    total: int = 0
    already: int = 0
    fetched: int = 0
    failed: int = 0
    bytes: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


def _clean_tmp(store: MediaStore) -> None:
    tmp = store.root / ".tmp"
    if tmp.is_dir():
        for f in tmp.iterdir():
            f.unlink(missing_ok=True)


async def _fetch_one(
    client: httpx.AsyncClient, store: MediaStore, url: str, stop: asyncio.Event, max_attempts: int
) -> tuple[str, str, int]:
    """Download ``url`` into the store; returns (sha256, mime, size). Raises GiveUp."""
    resp = await request(
        client, "GET", url, stop=stop, backoff=Backoff(base=0.5, cap=30.0), max_attempts=max_attempts
    )
    body = resp.content
    if len(body) > MAX_BYTES:
        raise GiveUp(f"too large ({len(body)} bytes)")
    mime = sniff(body)
    if mime is None:
        raise GiveUp(f"not an image (Content-Type {resp.headers.get('content-type', '?')})")
    sha = hashlib.sha256(body).hexdigest()
    final = store.path(sha)
    if not final.is_file():
        tmpdir = store.root / ".tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        tmp = tmpdir / uuid.uuid4().hex
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(final)
    return sha, mime, len(body)


def fetch_media(
    arc: Archive,
    store: MediaStore,
    targets: list[tuple[str, str]],
    *,
    concurrency: int = 4,
    max_attempts: int = 5,
    retry_failed: bool = False,
    timeout: float = 30.0,
    progress: Callable[[str, str], Any] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchReport:
    """Fetch every target not fetched yet. ``progress(url, outcome)`` is called after each
    (outcome ``done``, ``already`` or ``failed``). Safe to interrupt at any point."""
    db.media_upsert_pending(arc, targets)
    rows = {r["url"]: r for r in db.media_rows(arc, [u for u, _ in targets])}
    rep = FetchReport(total=len(targets))
    todo = []
    for url, _role in targets:
        r = rows[url]
        if r["status"] == "done" and r["sha256"] and store.has(r["sha256"]):
            rep.already += 1
            if progress:
                progress(url, "already")
        elif r["status"] == "failed" and not retry_failed and any(p in (r["error"] or "") for p in PERMANENT):
            rep.failed += 1
            if progress:
                progress(url, "failed")
        else:
            todo.append(url)
    store.root.mkdir(parents=True, exist_ok=True)
    _clean_tmp(store)
    if todo:
        job = _run(arc, store, todo, rep, concurrency, max_attempts, timeout, progress, transport)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(job)
        else:  # called from async code (a notebook, a web handler): its own loop in a thread
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, job).result()
    return rep


async def _run(
    arc: Archive,
    store: MediaStore,
    todo: list[str],
    rep: FetchReport,
    concurrency: int,
    max_attempts: int,
    timeout: float,
    progress: Callable[[str, str], Any] | None,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    stop = asyncio.Event()
    sem = asyncio.Semaphore(max(1, concurrency))
    headers = {"User-Agent": f"Salon/{__version__} (media for published stories)"}
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=True, headers=headers, transport=transport
    ) as client:

        async def one(url: str) -> None:
            async with sem:
                try:
                    sha, mime, size = await _fetch_one(client, store, url, stop, max_attempts)
                except GiveUp as exc:
                    db.media_set(arc, url, status="failed", error=str(exc)[:300])
                    rep.failed += 1
                    rep.errors.append((url, str(exc)[:300]))
                    if progress:
                        progress(url, "failed")
                    return
                db.media_set(arc, url, status="done", sha256=sha, mime=mime, size=size, error=None)
                rep.fetched += 1
                rep.bytes += size
                if progress:
                    progress(url, "done")

        await asyncio.gather(*(one(u) for u in todo))


def extension(mime: str) -> str:
    return EXTENSIONS.get(mime, "bin")
