"""Institution and chat reports in the web app, beside the campaign report (``salon.web.reports``):
editors (login) preview each registered institution's report and each chat's report, as HTML and
PDF from the archive as it is now, and publish or unpublish it (forms with CSRF); once published
it is public, read-only, with the same no-script Content-Security-Policy:

- ``/edit/{slug}/report/institutions/{n}`` (``n``: the institution's place in the registry, from
  1) -> ``/reports/{slug}/institutions/{n}`` and ``.pdf``;
- ``/edit/chats/{chat}/report`` -> ``/reports/chats/{chat}`` and ``.pdf``.

Published reports are kept in the archive's ``published_reports`` under the keys
``{slug}/institutions/{n}`` and ``chats/{chat}`` (a campaign's own report is keyed by its slug,
which never holds a ``/``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from salon.campaigns.chat_store import chat_by_slug
from salon.campaigns.stored import get_campaign
from salon.publish.reports.campaign import write_pdf
from salon.publish.reports.chat import chat_report_data, render_chat
from salon.publish.reports.institutions import institution_html
from salon.store.reports import get_published, publish, published_status, unpublish
from salon.web.deps import csrf_form, editor_of, render, svc
from salon.web.reports import _html_response, _pdf_response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _pdf(html: str) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        write_pdf(html, path, Path(tmp))
        return path.read_bytes()


# -- what each kind of report is -----------------------------------------------------------------


def _institution(request: Request, slug: str, n: int) -> tuple[str, str, Callable[[], str]]:
    """(store key, heading, html generator) of institution ``n`` of campaign ``slug``; 404 when
    the campaign or the institution is not there."""
    arc = svc(request).reader()
    c = get_campaign(arc, slug)
    if c is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    if not 1 <= n <= len(c.participants):
        raise HTTPException(404, f"no institution {n} in the registry of {slug}")
    return (
        f"{slug}/institutions/{n}",
        f"{c.participants[n - 1].name} ({slug})",
        lambda: institution_html(svc(request).reader(), slug, n - 1),
    )


def _chat(request: Request, chat: str) -> tuple[str, str, Callable[[], str]]:
    ch = chat_by_slug(svc(request).reader(), chat)
    if ch is None:
        raise HTTPException(404, f"no chat {chat!r}")
    return (
        f"chats/{chat}",
        ch.title or ch.slug,
        lambda: render_chat(chat_report_data(svc(request).reader(), ch)),
    )


# -- the shared handlers ---------------------------------------------------------------------------


async def _page(
    request: Request,
    what: Callable[[], tuple[str, str, Callable[[], str]]],
    base: str,
    public: str,
    back: str,
) -> Response:
    editor_of(request)
    key, heading, _ = await run_in_threadpool(what)
    status = await run_in_threadpool(lambda: published_status(svc(request).reader(), key))
    return render(
        request, "edit_report_of.html", heading=heading, base=base, public=public, back=back, status=status
    )


async def _preview(
    request: Request, what: Callable[[], tuple[str, str, Callable[[], str]]], pdf: bool, name: str
) -> Response:
    editor_of(request)
    _key, _h, gen = await run_in_threadpool(what)
    html = await run_in_threadpool(gen)
    if pdf:
        return _pdf_response(await run_in_threadpool(_pdf, html), name)
    return _html_response(html)


async def _publish(
    request: Request, what: Callable[[], tuple[str, str, Callable[[], str]]], base: str
) -> Response:
    user = editor_of(request)
    await csrf_form(request)
    key, _h, gen = await run_in_threadpool(what)
    html = await run_in_threadpool(gen)
    pdf = await run_in_threadpool(_pdf, html)
    await svc(request).write(lambda a, w: publish(a, key, html, pdf, user.username), changes=False)
    return RedirectResponse(base, status_code=303)


async def _unpublish(
    request: Request, what: Callable[[], tuple[str, str, Callable[[], str]]], base: str
) -> Response:
    editor_of(request)
    await csrf_form(request)
    key, _h, _g = await run_in_threadpool(what)
    await svc(request).write(lambda a, w: unpublish(a, key), changes=False)
    return RedirectResponse(base, status_code=303)


async def _public(request: Request, key: str, pdf: bool, name: str) -> Response:
    got: Any = await run_in_threadpool(lambda: get_published(svc(request).reader(), key, pdf=pdf))
    if got is None:
        raise HTTPException(404, "no published report")
    return _pdf_response(got, name) if pdf else _html_response(got)


# -- institutions ----------------------------------------------------------------------------------


def _ib(slug: str, n: int) -> tuple[str, str]:
    return f"/edit/{slug}/report/institutions/{n}", f"/reports/{slug}/institutions/{n}"


@router.get("/edit/{slug}/report/institutions/{n:int}.html")
async def institution_preview(request: Request, slug: str, n: int) -> Response:
    return await _preview(request, lambda: _institution(request, slug, n), False, f"{slug}-{n}")


@router.get("/edit/{slug}/report/institutions/{n:int}.pdf")
async def institution_preview_pdf(request: Request, slug: str, n: int) -> Response:
    return await _preview(request, lambda: _institution(request, slug, n), True, f"{slug}-{n}")


@router.get("/edit/{slug}/report/institutions/{n:int}")
async def institution_page(request: Request, slug: str, n: int) -> Response:
    """An institution's report page for editors: preview, PDF, publish or unpublish."""
    base, public = _ib(slug, n)
    return await _page(request, lambda: _institution(request, slug, n), base, public, f"/edit/{slug}/report")


@router.post("/edit/{slug}/report/institutions/{n:int}/publish")
async def institution_publish(request: Request, slug: str, n: int) -> Response:
    return await _publish(request, lambda: _institution(request, slug, n), _ib(slug, n)[0])


@router.post("/edit/{slug}/report/institutions/{n:int}/unpublish")
async def institution_unpublish(request: Request, slug: str, n: int) -> Response:
    return await _unpublish(request, lambda: _institution(request, slug, n), _ib(slug, n)[0])


@router.get("/reports/{slug}/institutions/{n:int}.pdf")
async def institution_public_pdf(request: Request, slug: str, n: int) -> Response:
    return await _public(request, f"{slug}/institutions/{n}", True, f"{slug}-{n}")


@router.get("/reports/{slug}/institutions/{n:int}")
async def institution_public(request: Request, slug: str, n: int) -> Response:
    return await _public(request, f"{slug}/institutions/{n}", False, f"{slug}-{n}")


# -- chats -------------------------------------------------------------------------------------------


@router.get("/edit/chats/{chat}/report.html")
async def chat_preview(request: Request, chat: str) -> Response:
    return await _preview(request, lambda: _chat(request, chat), False, chat)


@router.get("/edit/chats/{chat}/report.pdf")
async def chat_preview_pdf(request: Request, chat: str) -> Response:
    return await _preview(request, lambda: _chat(request, chat), True, chat)


@router.get("/edit/chats/{chat}/report")
async def chat_page(request: Request, chat: str) -> Response:
    """A chat's report page for editors: preview, PDF, publish or unpublish."""
    ch = await run_in_threadpool(lambda: chat_by_slug(svc(request).reader(), chat))
    back = f"/edit/{ch.campaign_slug}/report" if ch is not None and ch.campaign_slug else "/edit"
    return await _page(
        request, lambda: _chat(request, chat), f"/edit/chats/{chat}/report", f"/reports/chats/{chat}", back
    )


@router.post("/edit/chats/{chat}/report/publish")
async def chat_publish(request: Request, chat: str) -> Response:
    return await _publish(request, lambda: _chat(request, chat), f"/edit/chats/{chat}/report")


@router.post("/edit/chats/{chat}/report/unpublish")
async def chat_unpublish(request: Request, chat: str) -> Response:
    return await _unpublish(request, lambda: _chat(request, chat), f"/edit/chats/{chat}/report")


@router.get("/reports/chats/{chat}.pdf")
async def chat_public_pdf(request: Request, chat: str) -> Response:
    return await _public(request, f"chats/{chat}", True, chat)


@router.get("/reports/chats/{chat}")
async def chat_public(request: Request, chat: str) -> Response:
    return await _public(request, f"chats/{chat}", False, chat)
