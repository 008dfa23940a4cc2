"""Editors' trust and safety pages (``/edit/{slug}/trust``): the spam review queue, the wall's
queues (pending approval, trash with restore), block/allow lists with CSV import, flagged
lookalike accounts with their evidence, takedowns, opt-out overrides and the moderation log.
Every page needs an editor's session, every form its CSRF token; every action is logged with
the editor's name (``salon.campaigns.trust``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from salon.campaigns.stored import get_campaign
from salon.campaigns.trust import consent, lists, log, lookalikes, moderation, spam, takedown
from salon.campaigns.trust.settings import ModerationError, moderation_of
from salon.campaigns.trust.verify import cached_registry
from salon.web.deps import check_csrf, editor_of, render, svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TABS = ("spam", "wall", "lists", "lookalikes", "takedown", "log")
_MAX_CSV = 2_000_000  # bytes of an uploaded list


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for k, v in form.items():
        if isinstance(v, UploadFile):
            raw = await v.read(_MAX_CSV + 1)
            if len(raw) > _MAX_CSV:
                raise HTTPException(413, "the file is too large (2 MB at most)")
            data[k] = raw.decode("utf-8", "replace")
        else:
            data[k] = str(v)
    check_csrf(request, data.get("csrf"))
    return data


def _campaign(arc: Any, slug: str) -> Any:
    c = get_campaign(arc, slug)
    if c is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    return c


def _page(request: Request, slug: str, tab: str) -> dict[str, Any]:

    arc = svc(request).reader()
    c = _campaign(arc, slug)
    try:
        mod = moderation_of(c)
        mod_error = None
    except ModerationError as exc:
        mod, mod_error = None, str(exc)
    ctx: dict[str, Any] = {"slug": slug, "c": c, "tab": tab, "tabs": TABS, "mod": mod, "mod_error": mod_error}
    status = request.query_params.get("status", "held")
    if tab == "spam":
        ctx["status"] = status if status in ("held", "reviewed", "all") else "held"
        ctx["rows"] = spam.review_queue(arc, c, status=ctx["status"], limit=200)
        ctx["explain"] = {code: spam.explain(code, mod) for code in spam.REASONS}
    elif tab == "wall":
        q = request.query_params.get("queue", "pending" if mod and mod.mode == "pre" else "trash")
        ctx["queue"] = q if q in ("pending", "trash", "shown") else "trash"
        ctx["rows"] = moderation.queue(arc, c, ctx["queue"], limit=200)
    elif tab == "lists":
        ctx["entries"] = lists.entries(arc, c.campaign_id)
        ctx["lists"] = lists.LISTS
    elif tab == "lookalikes":
        ctx["flags"] = lookalikes.flagged(arc, c)
        ctx["verified"] = cached_registry(arc, c)
    elif tab == "takedown":
        ctx["takedowns"] = arc.dicts(
            "SELECT target, kind, reason, by_user, acted_at, posts FROM takedowns ORDER BY acted_at DESC LIMIT 100"
        )
        ctx["overrides"] = consent.overrides(arc)
    else:
        ctx["history"] = log.history(arc, c.campaign_id, limit=300)
    return ctx


@router.get("/edit/{slug}/trust")
async def trust_page(request: Request, slug: str, tab: str = "spam") -> Response:
    editor_of(request)
    if tab not in TABS:
        raise HTTPException(404, "no such tab")
    ctx = await run_in_threadpool(_page, request, slug, tab)
    return render(request, "trust.html", done=request.query_params.get("done") == "1", **ctx)


def _back(slug: str, tab: str, **params: str) -> RedirectResponse:
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items() if v)
    return RedirectResponse(f"/edit/{quote(slug)}/trust?tab={tab}&done=1{extra}", status_code=303)


async def _do(request: Request, fn: Any) -> Any:
    """Run a trust action on the writer thread; a bad request is a 400 with its reason."""
    try:
        return await svc(request).write(fn)
    except LookupError as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


async def _action(request: Request, slug: str, tab: str, act: Any, keep: tuple[str, ...] = ()) -> Response:
    """Every trust form's round: an editor's session, the CSRF-checked form, ``act(archive,
    form, editor's name)`` on the writer thread, then back to ``tab`` (with the form's ``keep``
    fields, so the editor stays on the same queue)."""
    u = editor_of(request)
    data = await _form(request)
    await _do(request, lambda a, w: act(a, data, u.username))
    return _back(slug, tab, **{k: data.get(k, "") for k in keep})


@router.post("/edit/{slug}/trust/spam")
async def decide_spam(request: Request, slug: str) -> Response:
    def act(a: Any, data: dict[str, Any], by: str) -> Any:
        c = _campaign(a, slug)
        return spam.decide(
            a, c, data.get("uid", ""), data.get("decision", ""), by=by, note=data.get("note") or None
        )

    return await _action(request, slug, "spam", act, keep=("status",))


@router.post("/edit/{slug}/trust/wall")
async def wall_action(request: Request, slug: str) -> Response:
    def act(a: Any, data: dict[str, Any], by: str) -> Any:
        c = _campaign(a, slug)
        return moderation.act(
            a, c, data.get("uid", ""), data.get("action", ""), by=by, reason=data.get("reason") or None
        )

    return await _action(request, slug, "wall", act, keep=("queue",))


@router.post("/edit/{slug}/trust/lists")
async def list_action(request: Request, slug: str) -> Response:
    def act(a: Any, data: dict[str, Any], by: str) -> Any:
        name, op = data.get("list", ""), data.get("op", "add")
        if name not in lists.LISTS:
            raise ValueError("unknown list")
        cid = _campaign(a, slug).campaign_id
        if op == "import":
            return lists.import_csv(a, cid, name, data.get("file") or data.get("csv") or "", by=by)
        if op == "remove":
            return lists.remove(a, cid, name, data.get("value", ""), by=by)
        return lists.add(a, cid, name, data.get("value", ""), by=by, note=data.get("note") or None)

    return await _action(request, slug, "lists", act)


@router.post("/edit/{slug}/trust/takedown")
async def takedown_action(request: Request, slug: str) -> Response:
    def act(a: Any, data: dict[str, Any], by: str) -> Any:
        return takedown.takedown(a, data.get("target", ""), reason=data.get("reason", ""), by=by)

    return await _action(request, slug, "takedown", act)


@router.post("/edit/{slug}/trust/consent")
async def consent_action(request: Request, slug: str) -> Response:
    def act(a: Any, data: dict[str, Any], by: str) -> Any:
        return consent.override(
            a, data.get("author", ""), data.get("action", ""), reason=data.get("reason", ""), by=by
        )

    return await _action(request, slug, "takedown", act)
