"""Chat pages (docs/chats.md): a public page per chat (before: the questions ahead, the start in
the visitor's and the campaign's time zone, how to take part on each platform, an ``.ics``;
during: the live room; after: the transcript and the figures), a page per series, the live
room fragment and its server-sent events, transcript downloads, and the editors' hide/show.

Who answered what comes from ``salon.campaigns.chat_answers.chat_assignment`` and every figure
from ``salon.campaigns.chat_stats``; nothing here decides or counts on its own. Deleted posts,
posts of authors who opted out and posts editors hid are placeholders on every public surface.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from salon.campaigns.chat_answers import Assignment, ChatPost, chat_assignment
from salon.campaigns.chat_stats import chat_report
from salon.campaigns.chat_store import chat_by_slug, hidden_uids, hide_post, intents, series_chats
from salon.campaigns.chats import Chat
from salon.hashtags import tag_key
from salon.publish.chat_ics import chats_ics
from salon.publish.chat_transcript import placeholder_code, post_link
from salon.publish.chat_transcript import render as render_transcript
from salon.web.api import KEEPALIVE
from salon.web.chat_runs import start_run, status_of
from salon.web.deps import check_csrf, csrf_form, editor_of, render, svc, user_of

__all__ = ["room_view", "router"]

router = APIRouter(include_in_schema=False)

PROFILE = {
    "x": "https://x.com/{h}",
    "bluesky": "https://bsky.app/profile/{h}",
}
PLATFORM_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def _chat_or_404(request: Request, slug: str) -> Chat:
    chat = chat_by_slug(svc(request).reader(), slug)
    if chat is None:
        raise HTTPException(404, f"no chat {slug!r}")
    return chat


def state_of(chat: Chat, now: datetime | None = None) -> str:
    """before | live | after (the grace period counts as after)."""
    now = now or datetime.now(UTC)
    if now < chat.start_utc:
        return "before"
    return "live" if now < chat.end_utc else "after"


def profile_url(platform: str, handle: str) -> str:
    if platform == "mastodon" and "@" in handle:
        user, host = handle.split("@", 1)
        return f"https://{host}/@{user}"
    return PROFILE.get(platform, "").format(h=handle)


def _placeholder(p: ChatPost, hidden: set[str]) -> str | None:
    # The one rule of the transcripts (publish.chat_transcript.placeholder_code), as an i18n key.
    code = placeholder_code(p, hidden)
    return f"chat.placeholder.{code}" if code else None


def _post(a: Assignment, uid: str, hidden: set[str], editor: bool) -> dict[str, Any]:
    p = a.posts[uid]
    ans = a.answers.get(uid)
    ph = _placeholder(p, hidden)
    show = ph is None or (editor and ph == "chat.placeholder.hidden")
    return {
        "uid": uid,
        "platform": p.platform,
        "who": (("@" + p.handle) if p.handle else (p.author_uid or "?")) if show else "",
        "name": p.display_name if show else None,
        "time": p.created_at,
        "text": p.text if show else None,
        "url": post_link(p) if show else None,
        "host": p.is_host,
        "rule": ans.rule if ans else None,
        "flag": ans.flag if ans else None,
        "placeholder": ph,
        "hidden": uid in hidden,
        "deleted": p.deleted,
    }


def room_view(a: Assignment, hidden: set[str], editor: bool = False) -> dict[str, Any]:
    """What the room shows: each question with its post(s) and answers (newest last), the
    conversation and the untagged thread posts. Reposts are never listed."""
    questions = []
    for q in a.questions:
        questions.append(
            {
                "n": q.n,
                "text": q.text,
                "at": q.at,
                "uid": q.uid,
                "posted": bool(q.uids),
                "answers": [_post(a, x.uid, hidden, editor) for x in a.answers_to(q.n)],
                "untagged": [
                    _post(a, u, hidden, editor)
                    for u in sorted(a.untagged, key=lambda u: (a.posts[u].created_at, u))
                    if a.untagged[u] == q.n
                ],
            }
        )
    return {
        "questions": questions,
        "conversation": [_post(a, u, hidden, editor) for u in a.conversation],
        "count": len(a.answers) + len(a.conversation) + len(a.untagged),
    }


def _context(request: Request, slug: str, *, full: bool = True) -> dict[str, Any]:
    """The page's context; ``full=False`` (the room alone) skips the figures and the series,
    which the room does not show: it is fetched again on every change during a chat."""
    arc = svc(request).reader()
    chat = _chat_or_404(request, slug)
    editor = user_of(request) is not None
    a = chat_assignment(arc, chat)
    hidden = hidden_uids(arc, chat.slug)
    tz = ZoneInfo(chat.timezone)
    hosts = []
    for platform in ("x", "mastodon", "bluesky"):
        accs = [h for p, h in (x.split(":", 1) for x in chat.hosts) if p == platform]
        if accs:
            hosts.append(
                {
                    "platform": platform,
                    "name": PLATFORM_NAMES[platform],
                    "accounts": [{"handle": h, "url": profile_url(platform, h)} for h in accs],
                }
            )
    state = state_of(chat)
    return {
        "chat": chat,
        "state": state,
        "start_campaign": chat.start_utc.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "question_times": [t.astimezone(tz).strftime("%H:%M") for t in chat.question_times()],
        "hosts": hosts,
        "room": room_view(a, hidden, editor),
        "stats": chat_report(arc, chat) if full and state != "before" else None,
        "series": [c for c in series_chats(arc, chat) if c.slug != chat.slug] if full else [],
        "version": svc(request).version,
        "editor": editor,
        "with_csrf": editor,
        "posting": intents(arc, chat.slug) if editor else [],
        "run": status_of(svc(request), chat.slug) if editor else None,
    }


# Routes with a suffix or a fixed segment come first: ``/chats/{slug}`` would take them.


@router.get("/chats/{slug}.ics")
async def chat_ics(request: Request, slug: str) -> Response:
    chat = await run_in_threadpool(_chat_or_404, request, slug)
    return Response(
        chats_ics([chat], str(request.base_url)),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.ics"'},
    )


def _series(request: Request, key: str) -> list[Chat]:
    chats = series_chats(svc(request).reader(), tag_key(key))
    if not chats:
        raise HTTPException(404, f"no chat series #{key}")
    return chats


@router.get("/chats/series/{key}.ics")
async def series_ics(request: Request, key: str) -> Response:
    chats = await run_in_threadpool(_series, request, key)
    return Response(
        chats_ics(chats, str(request.base_url)),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{key}.ics"'},
    )


@router.get("/chats/series/{key}", response_class=HTMLResponse)
async def series_page(request: Request, key: str) -> Response:
    """Every chat of a series (sharing the main hashtag), upcoming first, with their questions."""

    def build() -> Any:
        chats = _series(request, key)
        now = datetime.now(UTC)
        rows = [
            {
                "chat": c,
                "state": state_of(c, now),
                "local": c.start_utc.astimezone(ZoneInfo(c.timezone)).strftime("%Y-%m-%d %H:%M"),
            }
            for c in chats
        ]
        upcoming = [r for r in rows if r["state"] != "after"]
        past = [r for r in rows if r["state"] == "after"][::-1]
        return render(
            request, "chat_series.html", key=key, tag=chats[0].hashtag, upcoming=upcoming, past=past
        )

    return await run_in_threadpool(build)


@router.get("/chats/{slug}", response_class=HTMLResponse)
async def chat_page(request: Request, slug: str) -> Response:
    """The chat's public page: before, during and after."""
    return await run_in_threadpool(lambda: render(request, "chat.html", **_context(request, slug)))


@router.get("/chats/{slug}/room", response_class=HTMLResponse)
async def room_fragment(request: Request, slug: str) -> Response:
    """The live room alone (what the page's script swaps in on each change)."""
    return await run_in_threadpool(
        lambda: render(request, "_chat_room.html", **_context(request, slug, full=False))
    )


@router.get("/api/chats/{slug}/stream")
async def room_stream(request: Request, slug: str) -> StreamingResponse:
    """Server-sent events: ``event: chat`` with the archive version on each change."""
    s = svc(request)
    await run_in_threadpool(_chat_or_404, request, slug)

    async def events() -> AsyncIterator[bytes]:
        seen = s.version
        yield b'retry: 1000\n\nevent: chat\nid: %d\ndata: {"version": %d}\n\n' % (seen, seen)
        while True:
            if await request.is_disconnected():
                return
            new = await s.wait_change(seen, KEEPALIVE)
            if new == seen:
                yield b": keepalive\n\n"
            else:
                seen = new
                yield b'event: chat\nid: %d\ndata: {"version": %d}\n\n' % (seen, seen)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/chats/{slug}/transcript", response_class=HTMLResponse)
async def transcript_page(request: Request, slug: str, by: str = "question") -> Response:
    """The transcript on the web: by question (answers, each followed by its threaded replies)
    or by time."""
    if by not in ("question", "time"):
        raise HTTPException(400, "by must be question or time")

    def build() -> Any:
        arc = svc(request).reader()
        chat = _chat_or_404(request, slug)
        a = chat_assignment(arc, chat)
        body = render_transcript(a, by=by, fmt="html", hidden=hidden_uids(arc, chat.slug))
        return render(request, "chat_transcript.html", chat=chat, by=by, body=Markup(body))

    return await run_in_threadpool(build)


@router.get("/chats/{slug}/transcript.{fmt}")
async def transcript_file(request: Request, slug: str, fmt: str, by: str = "question") -> Response:
    """The transcript as md, csv or json (the documented shape; deleted, opted-out and hidden
    posts as placeholders, exactly as ``salon chat transcript``)."""

    types = {"md": "text/markdown", "csv": "text/csv", "json": "application/json"}
    if fmt not in types or by not in ("question", "time"):
        raise HTTPException(404, "unknown format")

    def build() -> Response:
        arc = svc(request).reader()
        chat = _chat_or_404(request, slug)
        a = chat_assignment(arc, chat)
        hidden = hidden_uids(arc, chat.slug)
        # Every format, JSON included, through the one renderer the CLI uses (placeholders alike).
        text = render_transcript(a, by=by, fmt=fmt, hidden=hidden)
        return Response(
            text,
            media_type=f"{types[fmt]}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{slug}-transcript.{fmt}"'},
        )

    return await run_in_threadpool(build)


@router.post("/chats/{slug}/hide")
async def hide(request: Request, slug: str) -> Response:
    """An editor hides a post from the chat's public surfaces (or shows it again); logged with
    who and when, the post stays in the archive and in every figure."""
    u = editor_of(request)
    data = await csrf_form(request)
    await run_in_threadpool(_chat_or_404, request, slug)
    uid = data.get("uid", "")
    if not uid:
        raise HTTPException(400, "which post?")
    hidden = data.get("hidden", "1") == "1"
    await svc(request).write(
        lambda arc, w: hide_post(arc, slug, uid, u.username, hidden=hidden, reason=data.get("reason") or None)
    )
    return RedirectResponse(f"/chats/{slug}#room", status_code=303)


@router.post("/chats/{slug}/run")
async def run_questions(request: Request, slug: str) -> Response:
    """An editor posts the chat's questions: ``run_chat`` (as ``salon chat run``) in the server's
    background; its status is on the chat page."""
    u = editor_of(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    chat = await run_in_threadpool(_chat_or_404, request, slug)
    await run_in_threadpool(start_run, svc(request), chat, u.username)
    return RedirectResponse(f"/chats/{slug}#h-posting", status_code=303)
