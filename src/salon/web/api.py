"""The JSON API (OpenAPI at ``/api/openapi.json``): everything the pages show, CSV for every
list (``?format=csv`` or a ``.csv`` path), and the writes editors and tokens may do.

``GET /api/campaigns/{slug}/tally`` is ``salon.campaigns.tally.tally`` as ``salon tally --json``
prints it; ``GET /api/campaigns/{slug}/stream`` sends it again (server-sent event ``tally``)
whenever the archive changes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from salon.campaigns.config import CampaignError, parse_campaign
from salon.campaigns.export import participants_csv, to_toml
from salon.campaigns.stored import get_campaign, list_campaigns, save_campaign
from salon.web import explorer
from salon.web.deps import require_writer, svc
from salon.web.hardening import StreamSlots, neutralise, retry_after

__all__ = ["router", "save_campaign_text"]

router = APIRouter(prefix="/api", tags=["api"])
JsonBody = Annotated[dict[str, Any], Body()]

KEEPALIVE = 15.0
STREAMS = StreamSlots(per_ip=8)  # concurrent live-stream clients per address
POST_CSV = [*explorer.POST_KEYS, "hashtags", "media"]


def _default(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def json_response(data: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(data, default=_default), status_code=status_code, media_type="application/json"
    )


def csv_response(rows: Iterable[dict[str, Any]], filename: str, columns: list[str] | None = None) -> Response:
    """A list as CSV (UTF-8, header row); nested values are written as JSON; text cells starting
    with ``=``, ``+``, ``-`` or ``@`` get a leading apostrophe (``hardening.neutralise``)."""
    rows = list(rows)
    cols = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in rows:
        out = []
        for c in cols:
            v = r.get(c)
            if isinstance(v, list | dict):
                v = orjson.dumps(v, default=_default).decode()
            elif isinstance(v, datetime | date):
                v = v.isoformat()
            # A cell a spreadsheet would run as a formula is neutralised (as the CSV exports do).
            out.append("" if v is None else neutralise(v))
        w.writerow(out)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _want_csv(request: Request) -> bool:
    return request.query_params.get("format") == "csv"


# -- campaigns ------------------------------------------------------------------------------------


@router.get("/campaigns", summary="Stored campaigns")
async def campaigns(request: Request) -> Response:
    rows = await run_in_threadpool(lambda: list_campaigns(svc(request).reader()))
    return csv_response(rows, "campaigns.csv") if _want_csv(request) else json_response(rows)


@router.get(
    "/campaigns/{slug}/tally",
    summary="The campaign's tally, as `salon tally --json` prints it",
    responses={200: {"content": {"application/json": {}}}},
)
async def tally(request: Request, slug: str) -> Response:
    s = svc(request)
    e = s.cached(slug) or await run_in_threadpool(s.tally, slug)
    if e is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    return Response(e.body, media_type="application/json", headers={"X-Salon-Version": str(e.version)})


TALLY_LISTS = ("by_day", "hourly", "by_country", "top_institutions", "themes", "by_hashtag", "by_platform")


@router.get("/campaigns/{slug}/tally/{name}.csv", summary="One list of the tally as CSV")
async def tally_csv(request: Request, slug: str, name: str) -> Response:
    e = await run_in_threadpool(svc(request).tally, slug)
    if e is None or name not in TALLY_LISTS:
        raise HTTPException(404, "unknown campaign or list")
    v = e.data[name]
    if isinstance(v, dict):
        key = {"by_day": "day", "by_country": "country", "themes": "theme", "by_hashtag": "hashtag"}.get(
            name, "key"
        )
        rows = [{key: k, **(x if isinstance(x, dict) else {"posts": x})} for k, x in v.items()]
    else:
        rows = list(v)
    return csv_response(rows, f"{slug}-{name}.csv")


@router.get("/campaigns/{slug}/stream", summary="Server-sent events: the tally on each change")
async def stream(request: Request, slug: str) -> StreamingResponse:
    s = svc(request)
    first = await run_in_threadpool(s.tally, slug)
    if first is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    ip = request.client.host if request.client else "?"
    if not STREAMS.take(ip):
        raise HTTPException(
            429,
            f"too many live streams from this address ({STREAMS.per_ip} at most)",
            headers=retry_after(10),
        )

    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in _events():
                yield chunk
        finally:
            STREAMS.give(ip)

    async def _events() -> AsyncIterator[bytes]:
        sent = -1
        seen = s.version
        yield b"retry: 2000\n\n"
        while True:
            e = s.cached(slug) or await run_in_threadpool(s.tally, slug)
            if e is not None and e.version != sent:
                sent = e.version
                yield b"event: tally\nid: %d\ndata: %s\n\n" % (e.version, orjson.dumps(e.data, default=str))
            if await request.is_disconnected():
                return
            new = await s.wait_change(seen, KEEPALIVE)
            if new == seen:
                yield b": keepalive\n\n"
            seen = new

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/campaigns/{slug}/latest", summary="The latest campaign posts")
async def latest(request: Request, slug: str, n: int = 20) -> Response:
    if slug not in svc(request).slugs():
        raise HTTPException(404, f"no campaign {slug!r}")
    rows = await run_in_threadpool(explorer.campaign_latest, svc(request).reader(), slug, min(max(n, 1), 200))
    return csv_response(rows, f"{slug}-latest.csv") if _want_csv(request) else json_response(rows)


@router.get("/campaigns/{slug}/institutions", summary="Registered institutions with their figures")
async def institutions(request: Request, slug: str) -> Response:
    def q() -> list[dict[str, Any]]:
        arc = svc(request).reader()
        return arc.dicts(
            "SELECT p.participant_id, p.name, p.country, p.city, p.kind,"
            " count(cp.uid) FILTER (WHERE NOT cp.is_repost) AS posts, count(cp.uid) FILTER (WHERE cp.is_repost) AS reposts"
            " FROM participants p JOIN campaigns c USING (campaign_id)"
            " LEFT JOIN campaign_posts cp ON cp.campaign_id = p.campaign_id AND cp.participant_id = p.participant_id"
            " WHERE c.slug = ? GROUP BY ALL ORDER BY posts DESC, p.name",
            [slug],
        )

    if slug not in svc(request).slugs():
        raise HTTPException(404, f"no campaign {slug!r}")
    rows = await run_in_threadpool(q)
    return csv_response(rows, f"{slug}-institutions.csv") if _want_csv(request) else json_response(rows)


@router.get("/campaigns/{slug}/institutions/{pid}", summary="One institution and its posts")
async def institution(request: Request, slug: str, pid: int, after: str = "") -> Response:
    i = await run_in_threadpool(explorer.institution_page, svc(request).reader(), slug, pid, after)
    if i is None:
        raise HTTPException(404, "no such institution")
    page = i.pop("page")
    i["posts_page"] = {"items": page.items, "next": page.next}
    return json_response(i)


@router.get("/campaigns/{slug}", summary="A stored campaign as TOML and participants CSV")
async def campaign(request: Request, slug: str) -> Response:
    c = await run_in_threadpool(get_campaign, svc(request).reader(), slug)
    if c is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    return json_response(
        {"slug": c.slug, "name": c.name, "toml": to_toml(c), "participants_csv": participants_csv(c)}
    )


def save_campaign_text(
    request: Request, toml_text: str, csv_text: str | None, slug: str | None
) -> tuple[str, list[str]]:
    """Parse and store a campaign from TOML and participants CSV (on the writer thread).
    Returns (slug, problems); nothing is stored when there are problems."""
    try:
        c = parse_campaign(toml_text, path="campaign.toml", participants_csv=csv_text or "")
    except CampaignError as exc:
        return "", [str(i) for i in exc.issues]
    if slug is not None and c.slug != slug:
        return "", [f"campaign.slug: the slug is {slug!r} here; create a new campaign to change it"]
    svc(request).submit(lambda a, w: save_campaign(a, c, toml_text)).result()
    return c.slug, []


@router.post(
    "/campaigns", summary="Create a campaign (editor or token with campaigns:write)", status_code=201
)
async def create_campaign(request: Request, body: JsonBody) -> Response:
    require_writer(request)
    toml_text = body.get("toml")
    if not isinstance(toml_text, str):
        raise HTTPException(422, "send {'toml': '<campaign file>', 'participants_csv': '<csv>'}")
    slug, problems = await run_in_threadpool(
        save_campaign_text, request, toml_text, body.get("participants_csv"), None
    )
    if problems:
        return json_response({"errors": problems}, 422)
    c = get_campaign(svc(request).reader(), slug)
    return json_response({"slug": slug, "name": c.name if c else slug}, 201)


@router.put("/campaigns/{slug}", summary="Replace a campaign's definition and registry")
async def update_campaign(request: Request, slug: str, body: JsonBody) -> Response:
    require_writer(request)
    toml_text = body.get("toml")
    if not isinstance(toml_text, str):
        raise HTTPException(422, "send {'toml': '<campaign file>', 'participants_csv': '<csv>'}")
    if slug not in svc(request).slugs():
        raise HTTPException(404, f"no campaign {slug!r}")
    saved, problems = await run_in_threadpool(
        save_campaign_text, request, toml_text, body.get("participants_csv"), slug
    )
    if problems:
        return json_response({"errors": problems}, 422)
    return json_response({"slug": saved})


# -- explorer ------------------------------------------------------------------------------------


@router.get("/search", summary="Search posts (accent- and case-insensitive) with filters; keyset-paged")
async def search(
    request: Request,
    limit: Annotated[int, Query(description="Posts per page (clamped to 1-1000)")] = explorer.PAGE_SIZE,
) -> Response:
    f = explorer.Filters.from_params(request.query_params)
    limit = min(max(limit, 1), 1000)
    page = await run_in_threadpool(explorer.search, svc(request).reader(), f, limit)
    if page.error:
        raise HTTPException(400, page.error)
    if _want_csv(request):
        return csv_response(page.items, "posts.csv", POST_CSV)
    return json_response({"items": page.items, "next": page.next})


@router.get("/posts/{uid:path}", summary="A post as it was, with context and provenance")
async def post(request: Request, uid: str) -> Response:
    p = await run_in_threadpool(explorer.post_detail, svc(request).reader(), uid)
    if p is None:
        raise HTTPException(404, "no such post")
    return json_response(p)


@router.get("/authors/{uid:path}", summary="An author and their posts")
async def author(request: Request, uid: str, after: str = "") -> Response:
    a = await run_in_threadpool(explorer.author_page, svc(request).reader(), uid, after)
    if a is None:
        raise HTTPException(404, "no such author")
    page = a.pop("page")
    if _want_csv(request):
        return csv_response(page.items, "posts.csv", POST_CSV)
    a["posts_page"] = {"items": page.items, "next": page.next}
    return json_response(a)


@router.get("/version", summary="The archive version (bumped on every change) and campaigns")
async def version(request: Request) -> Response:
    s = svc(request)
    # The archive's file name only: no server path in a public response.
    from pathlib import Path

    return json_response({"version": s.version, "archive": Path(s.path).name, "campaigns": s.slugs()})
