"""Reports in the web app: editors preview a campaign's report (HTML and PDF, generated from the
archive as it is now) and publish it; the published version is public, read-only, at
``/reports/<slug>`` and ``/reports/<slug>.pdf``, until an editor unpublishes it.

The report is Salon's own HTML (data escaped by Jinja2, no script): it is served with its own
Content-Security-Policy that allows its inline style and data-URI charts and nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from salon.campaigns.chats import chats_of
from salon.campaigns.stored import get_campaign
from salon.campaigns.tally import CampaignNotFound
from salon.collect.coverage import coverage
from salon.publish.reports.campaign import render as render_report
from salon.publish.reports.campaign import report_data, write_pdf
from salon.store.reports import get_published, publish, published_status, unpublish
from salon.web.deps import csrf_form, editor_of, render, svc

__all__ = ["REPORT_CSP", "router"]

router = APIRouter(include_in_schema=False)

# No script at all; the report's <style> and its charts (data: URIs) only; framed by Salon only.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self';"
    " base-uri 'none'; form-action 'none'"
)


def _html_response(html: str) -> Response:
    return Response(
        html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": REPORT_CSP}
    )


def _pdf_response(pdf: bytes, slug: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{slug}-report.pdf"'},
    )


def _generate(request: Request, slug: str, pdf: bool) -> tuple[str, bytes | None]:
    """The report of ``slug`` from the archive as it is now: (html, pdf bytes or None)."""
    import tempfile
    from pathlib import Path

    arc = svc(request).reader()
    try:
        html = render_report(report_data(arc, slug, coverage=coverage(arc, slug)))
    except CampaignNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if not pdf:
        return html, None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        write_pdf(html, path, Path(tmp))
        return html, path.read_bytes()


def _status(request: Request, slug: str) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The campaign report's publication, and its institutions' and chats' reports (each with
    its number or slug, name and publication) for the editor's page."""
    arc = svc(request).reader()
    c = get_campaign(arc, slug)
    if c is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    published = {
        r[0]: r[1]
        for r in arc.query(
            "SELECT slug, published_at FROM published_reports WHERE slug LIKE ?", [f"{slug}/%"]
        )
    }
    insts = [
        {
            "n": i + 1,
            "name": p.name,
            "country": p.country,
            "published": published.get(f"{slug}/institutions/{i + 1}"),
        }
        for i, p in enumerate(c.participants)
    ]
    chats = [
        {
            "slug": ch.slug,
            "title": ch.title or ch.slug,
            "published": published_status(arc, f"chats/{ch.slug}"),
        }
        for ch in chats_of(c)
    ]
    return published_status(arc, slug), insts, chats


@router.get("/edit/{slug}/report")
async def report_page(request: Request, slug: str) -> Response:
    """The editor's report page: preview, PDF, publish or unpublish; links to the report of
    every registered institution and of every chat of the campaign (``salon.web.report_pages``)."""
    editor_of(request)
    status, insts, chats = await run_in_threadpool(_status, request, slug)
    return render(request, "edit_report.html", slug=slug, status=status, institutions=insts, chats=chats)


@router.get("/edit/{slug}/report.html")
async def report_preview(request: Request, slug: str) -> Response:
    editor_of(request)
    html, _ = await run_in_threadpool(_generate, request, slug, False)
    return _html_response(html)


@router.get("/edit/{slug}/report.pdf")
async def report_preview_pdf(request: Request, slug: str) -> Response:
    editor_of(request)
    _, pdf = await run_in_threadpool(_generate, request, slug, True)
    assert pdf is not None
    return _pdf_response(pdf, slug)


@router.post("/edit/{slug}/report/publish")
async def report_publish(request: Request, slug: str) -> Response:
    """Generate the report now and publish it (replacing an earlier publication)."""
    user = editor_of(request)
    await csrf_form(request)
    html, pdf = await run_in_threadpool(_generate, request, slug, True)
    await svc(request).write(lambda a, w: publish(a, slug, html, pdf, user.username), changes=False)
    return RedirectResponse(f"/edit/{slug}/report", status_code=303)


@router.post("/edit/{slug}/report/unpublish")
async def report_unpublish(request: Request, slug: str) -> Response:
    editor_of(request)
    await csrf_form(request)
    await svc(request).write(lambda a, w: unpublish(a, slug), changes=False)
    return RedirectResponse(f"/edit/{slug}/report", status_code=303)


def _published(request: Request, slug: str, pdf: bool) -> Any:
    return get_published(svc(request).reader(), slug, pdf=pdf)


@router.get("/reports/{slug}.pdf")
async def published_pdf(request: Request, slug: str) -> Response:
    pdf = await run_in_threadpool(_published, request, slug, True)
    if pdf is None:
        raise HTTPException(404, "no published report")
    return _pdf_response(pdf, slug)


@router.get("/reports/{slug}")
async def published_html(request: Request, slug: str) -> Response:
    html = await run_in_threadpool(_published, request, slug, False)
    if html is None:
        raise HTTPException(404, "no published report")
    return _html_response(html)
