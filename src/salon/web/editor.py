"""Editors' pages: log in and out, create and edit campaigns (the campaign file and its
participants CSV, so what is edited here is exactly what exports back to TOML), add a
participant with a form. Every form checks its CSRF token; every page needs a session."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from salon.campaigns.export import participants_csv, to_toml
from salon.campaigns.stored import get_campaign, list_campaigns
from salon.web import auth
from salon.web.api import save_campaign_text
from salon.web.deps import csrf_form, editor_of, render, secure, session_cookie, session_value, svc
from salon.web.hardening import LoginThrottle, normalise_username, retry_after

__all__ = ["NEW_CAMPAIGN", "router", "throttle"]

router = APIRouter(include_in_schema=False)
# Failed logins back off per (address, normalised user name); the account itself is never locked.
throttle = LoginThrottle()

NEW_CAMPAIGN = """[campaign]
name = "MuseumWeek 2026"
slug = "museumweek-2026"
timezone = "Europe/Paris"
start = 2026-03-23
end = 2026-03-30          # exclusive
hashtags = ["MuseumWeek"]

[[days]]
date = 2026-03-23
theme = "Secrets"
hashtags = ["SecretsMW"]
"""


@router.get("/login")
async def login_page(request: Request) -> Response:
    return render(request, "login.html", with_csrf=True, error=None, username="")


@router.post("/login")
async def login(request: Request) -> Response:
    data = await csrf_form(request)
    # The name as the user table compares it (" Bob" is bob): one back-off counter per user.
    username, password = normalise_username(data.get("username", "")), data.get("password", "")
    ip = request.client.host if request.client else "?"
    wait = throttle.wait(ip, username)
    if wait > 0:
        resp = render(request, "login.html", 429, with_csrf=True, error="login.limited", username=username)
        resp.headers.update(retry_after(wait))
        return resp
    s = svc(request)
    user = await run_in_threadpool(auth.check_password, s.reader(), username, password)
    if user is None:
        throttle.failed(ip, username)
        return render(request, "login.html", 401, with_csrf=True, error="login.failed", username=username)
    throttle.succeeded(ip, username)
    old = session_value(request)
    # Sessions rotate at login: a new session id, and the one the browser had (if any) is ended.
    value, _csrf = await s.write(lambda a, w: _rotate(a, user, old))
    nxt = request.query_params.get("next", "/edit")
    resp = RedirectResponse(
        nxt if nxt.startswith("/") and not nxt.startswith("//") else "/edit", status_code=303
    )
    resp.set_cookie(
        session_cookie(request),
        value,
        max_age=auth.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    return resp


def _rotate(arc: Any, user: auth.User, old: str | None) -> tuple[str, str]:
    if old:
        auth.delete_session(arc, old)
    return auth.create_session(arc, user)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await csrf_form(request)
    value = session_value(request)
    if value:
        await svc(request).write(lambda a, w: auth.delete_session(a, value))
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(session_cookie(request), path="/", secure=secure(request))
    return resp


@router.get("/edit")
async def edit_home(request: Request) -> Response:
    editor_of(request)
    campaigns = await run_in_threadpool(list_campaigns, svc(request).reader())
    return render(request, "edit_list.html", campaigns=campaigns)


@router.get("/edit/new")
async def new_page(request: Request) -> Response:
    editor_of(request)
    return render(request, "edit.html", slug=None, toml=NEW_CAMPAIGN, csv="", errors=[], saved=False)


@router.post("/edit/new")
async def new_save(request: Request) -> Response:
    return await _save(request, None)


async def _save(request: Request, slug: str | None) -> Response:
    """Validate and store the posted campaign texts (a new one when ``slug`` is None); on errors
    show the form again with them, as typed."""
    editor_of(request)
    data = await csrf_form(request)
    saved, errors = await run_in_threadpool(
        save_campaign_text, request, data.get("toml", ""), data.get("csv"), slug
    )
    if errors:
        return render(
            request,
            "edit.html",
            422,
            slug=slug,
            toml=data.get("toml", ""),
            csv=data.get("csv", ""),
            errors=errors,
            saved=False,
        )
    return RedirectResponse(f"/edit/{saved}?saved=1", status_code=303)


def _texts(request: Request, slug: str) -> tuple[str, str]:
    c = get_campaign(svc(request).reader(), slug)
    if c is None:
        raise HTTPException(404, f"no campaign {slug!r}")
    return to_toml(c), participants_csv(c)


@router.get("/edit/{slug}")
async def edit_page(request: Request, slug: str) -> Response:
    editor_of(request)
    toml_text, csv_text = await run_in_threadpool(_texts, request, slug)
    return render(
        request,
        "edit.html",
        slug=slug,
        toml=toml_text,
        csv=csv_text,
        errors=[],
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/edit/{slug}")
async def edit_save(request: Request, slug: str) -> Response:
    return await _save(request, slug)


@router.post("/edit/{slug}/participants")
async def add_participant(request: Request, slug: str) -> Response:
    """Append one participant (a CSV row built from the form) and save."""
    editor_of(request)
    data = await csrf_form(request)
    toml_text, csv_text = await run_in_threadpool(_texts, request, slug)
    cols = ("name", "country", "city", "kind", "x", "mastodon", "bluesky")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not csv_text.strip():
        w.writerow(cols)
    w.writerow([data.get(c, "").strip() for c in cols])
    new_csv = (csv_text if csv_text.endswith("\n") or not csv_text else csv_text + "\n") + buf.getvalue()
    if "[participants]" not in toml_text:
        toml_text = toml_text.rstrip("\n") + '\n\n[participants]\nfile = "participants.csv"\n'
    saved, errors = await run_in_threadpool(save_campaign_text, request, toml_text, new_csv, slug)
    if errors:
        return render(
            request, "edit.html", 422, slug=slug, toml=toml_text, csv=new_csv, errors=errors, saved=False
        )
    return RedirectResponse(f"/edit/{saved}?saved=1", status_code=303)


@router.get("/edit/{slug}/campaign.toml")
async def export_toml(request: Request, slug: str) -> Response:
    editor_of(request)
    toml_text, _ = await run_in_threadpool(_texts, request, slug)
    return Response(
        toml_text,
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.toml"'},
    )


@router.get("/edit/{slug}/participants.csv")
async def export_csv(request: Request, slug: str) -> Response:
    editor_of(request)
    _, csv_text = await run_in_threadpool(_texts, request, slug)
    return Response(
        csv_text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="participants.csv"'},
    )
