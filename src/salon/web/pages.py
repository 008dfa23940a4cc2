"""Public HTML pages: campaigns, the live campaign page, its embeddable widget and full-screen
wall, the archive explorer, posts, authors and institutions. All read-only; anonymous pages
are cached per archive version and language."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from salon.campaigns.stored import list_campaigns
from salon.web import explorer
from salon.web.deps import LANG_COOKIE, csp_nonce, lang_of, render, session_value, svc
from salon.web.i18n import LANGS
from salon.web.worldmap import HEIGHT, WIDTH, country_paths

__all__ = ["chart", "router"]

router = APIRouter(include_in_schema=False)

CHART_W, CHART_H = 800, 180
_locks: dict[tuple[Any, ...], asyncio.Lock] = {}


def chart(hourly: list[dict[str, Any]]) -> dict[str, Any]:
    """The hourly time series as an SVG area path (same maths as ``static/app.js``)."""
    vals = [h["posts"] for h in hourly]
    if not vals:
        return {"area": "", "line": "", "max": 0, "w": CHART_W, "h": CHART_H}
    top = max(max(vals), 1)
    step = CHART_W / max(len(vals) - 1, 1)
    pts = [(round(i * step, 1), round(CHART_H - v / top * (CHART_H - 4), 1)) for i, v in enumerate(vals)]
    line = "M" + "L".join(f"{x:g},{y:g}" for x, y in pts)
    area = line + f"L{pts[-1][0]:g},{CHART_H}L0,{CHART_H}Z"
    return {"area": area, "line": line, "max": top, "w": CHART_W, "h": CHART_H}


def map_levels(by_country: dict[str, dict[str, int]]) -> dict[str, int]:
    """Country → shade 1..5 by institutions (same thresholds as ``static/app.js``)."""
    out = {}
    top = max((v["institutions"] for v in by_country.values()), default=0)
    for cc, v in by_country.items():
        n = v["institutions"]
        if n > 0 and top:
            out[cc] = min(5, 1 + int(4 * n / top))
    return out


def _tally_or_404(request: Request, slug: str) -> Any:
    e = svc(request).tally(slug)
    if e is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    return e


async def _cached(request: Request, key: tuple[Any, ...], build: Any) -> Response:
    """A page rendered once per archive version and language for anonymous visitors."""
    if session_value(request) or request.query_params:
        return await run_in_threadpool(build)
    nonce = csp_nonce(request)
    s = svc(request)
    full = (*key, lang_of(request), s.version)
    hit = s.cache.get(full)
    if hit is None:
        # One render per page and version, however many visitors arrive at once.
        lock = _locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = s.cache.get(full)
            if hit is None:
                resp = await run_in_threadpool(build)
                if resp.status_code != 200:
                    return resp
                # The cached body carries a marker where this response's CSP nonce was, so
                # every later response gets its own nonce (salon.web.hardening).
                body = bytes(resp.body)
                if nonce:
                    body = body.replace(nonce.encode(), _NONCE_MARK)
                hit = (body, resp.media_type)
                s.cache[full] = hit
    return Response(hit[0].replace(_NONCE_MARK, nonce.encode()) if nonce else hit[0], media_type=hit[1])


_NONCE_MARK = b"\x00csp-nonce\x00"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    def build() -> Any:
        s = svc(request)
        campaigns = list_campaigns(s.reader())
        for c in campaigns:
            e = s.cached(c["slug"])
            c["tally"] = e.data if e else None
        return render(request, "home.html", campaigns=campaigns)

    return await _cached(request, ("home",), build)


def _campaign_ctx(request: Request, slug: str) -> dict[str, Any]:
    e = _tally_or_404(request, slug)
    d = e.data
    s = svc(request)
    return {
        "slug": slug,
        "tl": d,
        "version": e.version,
        "chart": chart(d["hourly"]),
        "levels": map_levels(d["by_country"]),
        "paths": country_paths(),
        "map_w": WIDTH,
        "map_h": HEIGHT,
        "latest": explorer.campaign_latest(s.reader(), slug),
        "day_max": max(d["by_day"].values(), default=0) or 1,
    }


@router.get("/c/{slug}", response_class=HTMLResponse)
async def campaign_page(request: Request, slug: str) -> Response:
    return await _cached(
        request, ("c", slug), lambda: render(request, "campaign.html", **_campaign_ctx(request, slug))
    )


@router.get("/c/{slug}/latest", response_class=HTMLResponse)
async def campaign_latest(request: Request, slug: str, n: int = 12) -> Response:
    """The latest ``n`` campaign posts (1..200, like ``/api/campaigns/{slug}/latest``)."""
    n = min(max(n, 1), 200)

    def build() -> Any:
        _tally_or_404(request, slug)
        items = explorer.campaign_latest(svc(request).reader(), slug, limit=n)
        return render(request, "_latest.html", latest=items, slug=slug)

    return await _cached(request, ("latest", slug, n), build)


@router.get("/embed/{slug}", response_class=HTMLResponse)
async def embed(request: Request, slug: str) -> Response:
    """A compact live counter other sites may frame (``<iframe src=".../embed/slug">``)."""
    return await _cached(
        request, ("embed", slug), lambda: render(request, "embed.html", **_campaign_ctx(request, slug))
    )


@router.get("/wall/{slug}", response_class=HTMLResponse)
async def wall(request: Request, slug: str) -> Response:
    return await _cached(
        request, ("wall", slug), lambda: render(request, "wall.html", **_campaign_ctx(request, slug))
    )


@router.get("/explore", response_class=HTMLResponse)
async def explore(request: Request) -> Response:
    f = explorer.Filters.from_params(request.query_params)

    def build() -> Any:
        arc = svc(request).reader()
        page = explorer.search(arc, f) if f.active() or f.after else explorer.search(arc, f, limit=20)
        campaigns = list_campaigns(arc)
        partial = (
            request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "results"
        )
        return render(
            request,
            "_results.html" if partial else "explore.html",
            f=f,
            page=page,
            campaigns=campaigns,
            status_code=400 if page.error else 200,
        )

    return await run_in_threadpool(build)


@router.get("/posts/{uid:path}", response_class=HTMLResponse)
async def post_page(request: Request, uid: str) -> Response:
    def build() -> Any:
        p = explorer.post_detail(svc(request).reader(), uid)
        if p is None:
            raise HTTPException(404, "no such post")
        return render(request, "post.html", p=p)

    return await run_in_threadpool(build)


@router.get("/authors/{uid:path}", response_class=HTMLResponse)
async def author(request: Request, uid: str) -> Response:
    def build() -> Any:
        a = explorer.author_page(svc(request).reader(), uid, request.query_params.get("after", ""))
        if a is None:
            raise HTTPException(404, "no such author")
        return render(request, "author.html", a=a)

    return await run_in_threadpool(build)


@router.get("/c/{slug}/institutions/{pid}", response_class=HTMLResponse)
async def institution(request: Request, slug: str, pid: int) -> Response:
    def build() -> Any:
        i = explorer.institution_page(svc(request).reader(), slug, pid, request.query_params.get("after", ""))
        if i is None:
            raise HTTPException(404, "no such institution")
        return render(request, "institution.html", i=i, slug=slug)

    return await run_in_threadpool(build)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/lang/{code}")
async def set_lang(request: Request, code: str, next: str = "/") -> Response:
    if code not in LANGS:
        raise HTTPException(404, "unknown language")
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return resp
