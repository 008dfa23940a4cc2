"""Following a token through JSON pages: X recent search (``meta.next_token``) and Bluesky
``searchPosts`` (``cursor``). Each response is stored as received, one raw record per page, with
the resume cursor it implies; requests (retries, backoff, rate limits, sessions) are the
``fetch`` the collector gives, built on ``salon.collect.http``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from salon.collect.context import Ctx
from salon.collect.sink import Page
from salon.collect.status import SourceStatus
from salon.ingest.batches import record_from_payload

__all__ = ["Cursor", "store_pages"]

Cursor = dict[str, str | None]


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


async def store_pages(
    ctx: Ctx,
    fetch: Callable[[dict[str, Any]], Awaitable[httpx.Response]],
    params: dict[str, Any],
    *,
    source: str,
    fmt: str,
    items: str,
    token: tuple[str, ...],
    status: SourceStatus,
    cursor: Callable[[dict[str, Any]], Cursor] | None = None,
    connection_id: int | None = None,
    stop_on_empty: bool = False,
) -> tuple[int, int]:
    """Store the pages ``fetch(params)`` returns, following the token at the key path ``token``
    of each page (``("meta", "next_token")``) in the query parameter named like its last key.

    A page is stored (format ``fmt``, ``source`` its provenance URL's source key) when its
    ``items`` list is not empty, or when it is not JSON (it is quarantined, not lost), together
    with ``cursor(page)``, the resume cursor after it. Stops at a page without a token (or, with
    ``stop_on_empty``, without items) or when ``ctx.stop`` is set. Returns (records, new posts)."""
    records = posts = 0
    while not ctx.stop.is_set():
        resp = await fetch(params)
        body = resp.content
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            obj = None
        page = obj if isinstance(obj, dict) else {}
        has_items = bool(page.get(items))
        recs = [record_from_payload(body, 0, fmt)] if has_items or obj is None else []
        out = await ctx.sink.put(
            Page(
                source,
                str(resp.url),
                recs,
                cursor=cursor(page) if cursor is not None else {},
                connection_id=connection_id,
            ),
            status,
        )
        records, posts = records + out.records_in, posts + out.posts_new
        nxt = _at(page, token)
        if not nxt or (stop_on_empty and not has_items):
            break
        params = {**params, token[-1]: nxt}
    return records, posts
