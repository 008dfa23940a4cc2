"""Stories in the web app.

Public (read-only): ``/s/<slug>/`` serves the last published version, ``/s/<slug>/v<N>/`` each
version at its own permalink, ``/s/<slug>/embed`` the snippet for a museum's website; they are
the stored single-file renderings (republish replaces them), served with a CSP that allows no
script and no remote load, and may be framed anywhere. A post deleted or opted out after the
rendering is never served: the page is rendered afresh and a republish is queued (``_served``).

Editors (login, CSRF): ``/edit/stories`` lists and creates stories, ``/edit/stories/<slug>``
curates one: add posts (pasted URLs or uids; "Add to a story" from the explorer, search results
and post pages leads to ``/edit/stories/add?uid=``), headings and Markdown text, reorder (drag
and drop, or the move buttons and Alt+Arrow keys), remove, preview, publish. Every change is a
POST carrying the revision the editor saw: a stale revision is refused with 409 and the page
shows the conflict instead of overwriting the other editor's work. Without JavaScript every
action is a plain form; ``story-editor.js`` (vendored, no inline script) adds drag and drop,
keyboard moves and autosave of the fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from salon.campaigns.shown import hidden_posts
from salon.publish.stories import model
from salon.publish.stories.model import Item, StaleRevision, StoryError
from salon.publish.stories.publish import publish, render_version, republish, snapshot_of
from salon.store.archive import Archive
from salon.web.deps import csrf_form, editor_of, lang_of, render, svc
from salon.web.stories_text import TEXT, st

__all__ = ["STORY_CSP", "router"]

router = APIRouter(include_in_schema=False)

# The stored renderings are self-contained: inline CSS, images as data: URIs, no script.
STORY_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none';"
    " frame-ancestors *"
)


# -- public ---------------------------------------------------------------------------------------


def _version_html(arc: Archive, slug: str, version: int | None) -> bytes | None:
    sql = (
        "SELECT v.html FROM story_versions v JOIN stories s USING (story_id) WHERE s.slug = ?"
        + (" AND v.version = ?" if version is not None else "")
        + " AND v.html IS NOT NULL ORDER BY v.version DESC LIMIT 1"
    )
    rows = arc.query(sql, [slug] if version is None else [slug, version])
    return bytes(rows[0][0]) if rows else None


_republishing: set[str] = set()


def _served(request: Request, slug: str, version: int | None) -> bytes | None:
    """The stored rendering of the version, unless a post of it was deleted or opted out since
    it was rendered: then a fresh rendering (never the stored one) while a republish of the
    story is queued on the writer, which replaces the stored copies and the files on disk."""
    s_ = svc(request)
    key = ("story", slug, version, s_.version)
    hit = s_.cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    arc = s_.reader()
    rows = arc.dicts(
        "SELECT v.version, v.published_at, v.snapshot, v.html, v.removed_uids FROM story_versions v"
        " JOIN stories s USING (story_id) WHERE s.slug = ?"
        + (" AND v.version = ?" if version is not None else "")
        + " AND v.html IS NOT NULL ORDER BY v.version DESC LIMIT 1",
        [slug] if version is None else [slug, version],
    )
    if not rows:
        return None
    row = rows[0]
    body = bytes(row["html"])
    uids = [i["post_uid"] for i in json.loads(row["snapshot"])["items"] if i["kind"] == "post"]
    around = [
        u
        for r in arc.query(
            "SELECT reply_to_uid, quote_of_uid FROM posts WHERE uid IN (SELECT unnest(?))", [uids]
        )
        for u in r
        if u
    ]
    if not set(hidden_posts(arc, uids + around)) <= set(json.loads(row["removed_uids"] or "[]")):
        story = model.get_story(arc, slug)
        if story is not None:
            body = render_version(arc, story, row).single
            if slug not in _republishing:
                _republishing.add(slug)

                def job(a: Archive, _w: Any) -> None:
                    try:
                        republish(a, slug)
                    finally:
                        _republishing.discard(slug)

                s_.submit(job)
    s_.cache[key] = body
    return body


def _story_response(body: bytes) -> Response:
    return HTMLResponse(
        body,
        headers={
            "content-security-policy": STORY_CSP,
            "cache-control": "public, max-age=300",
            "referrer-policy": "no-referrer",
        },
    )


@router.get("/s/{slug}")
async def story_redirect(slug: str) -> Response:
    return RedirectResponse(f"/s/{slug}/", status_code=308)


@router.get("/s/{slug}/")
async def story_latest(request: Request, slug: str) -> Response:
    body = await run_in_threadpool(_served, request, slug, None)
    if body is None:
        raise HTTPException(404, "no published story here")
    return _story_response(body)


@router.get("/s/{slug}/v{version:int}/")
async def story_version(request: Request, slug: str, version: int) -> Response:
    body = await run_in_threadpool(_served, request, slug, version)
    if body is None:
        raise HTTPException(404, "no such version of this story")
    return _story_response(body)


@router.get("/s/{slug}/embed")
async def story_embed(request: Request, slug: str) -> Response:
    """The snippet to paste into a museum's page (an iframe of the public story)."""
    body = await run_in_threadpool(_version_html, svc(request).reader(), slug, None)
    if body is None:
        raise HTTPException(404, "no published story here")
    return _render(request, "story_embed.html", slug=slug, snippet=_snippet(request, slug))


def _render(request: Request, name: str, *args: Any, **ctx: Any) -> Any:
    """``render`` with the editor's strings (``st``) and, for the script, its messages."""
    lang = lang_of(request)
    msgs = {k[3:]: v for k, v in {**TEXT["en"], **TEXT.get(lang, {})}.items() if k.startswith("js.")}
    return render(request, name, *args, st=lambda key, **v: st(lang, key, **v), msgs=msgs, **ctx)


def _snippet(request: Request, slug: str) -> str:
    base = str(request.base_url).rstrip("/")
    return (
        f'<iframe src="{base}/s/{slug}/" title="Story: {slug}" loading="lazy" '
        'style="width:100%;height:80vh;border:1px solid #ccc" referrerpolicy="no-referrer"></iframe>'
    )


# -- editors --------------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.get("/edit/stories")
async def stories_home(request: Request) -> Response:
    editor_of(request)

    def build() -> Any:
        arc = svc(request).reader()
        stories = model.list_stories(arc)
        campaigns = arc.query("SELECT slug, name FROM campaigns ORDER BY name")
        return _render(request, "story_list.html", stories=stories, campaigns=campaigns, error=None)

    return await run_in_threadpool(build)


@router.post("/edit/stories")
async def stories_create(request: Request) -> Response:
    who = editor_of(request).username
    data = await csrf_form(request)
    slug = data.get("slug", "").strip().lower()

    def create(arc: Archive, _w: Any) -> str | None:
        try:
            model.new_story(
                arc,
                slug,
                data.get("title", "").strip() or slug,
                campaign=data.get("campaign") or None,
                chat=data.get("chat") or None,
                curator=data.get("curator") or who,
                institution=data.get("institution") or None,
            )
        except StoryError as exc:
            return str(exc)
        return None

    error = await svc(request).write(create)
    if error:
        arc = svc(request).reader()
        return _render(
            request,
            "story_list.html",
            422,
            stories=model.list_stories(arc),
            campaigns=arc.query("SELECT slug, name FROM campaigns ORDER BY name"),
            error=error,
        )
    return RedirectResponse(f"/edit/stories/{slug}", status_code=303)


def _editor_context(arc: Archive, slug: str) -> dict[str, Any]:
    s = model.get_story(arc, slug)
    if s is None:
        raise HTTPException(404, f"no story {slug!r}")
    uids = [i.post_uid for i in s.items if i.kind == "post" and i.post_uid]
    posts = {
        r["uid"]: r
        for r in arc.dicts(
            "SELECT p.uid, p.platform, p.text, p.created_at, p.url, p.deleted_at, a.handle, a.display_name"
            " FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid IN (SELECT unnest(?))",
            [uids],
        )
    }
    hidden = hidden_posts(arc, uids)
    versions = arc.query(
        "SELECT version, published_at FROM story_versions WHERE story_id = ? ORDER BY version DESC",
        [s.story_id],
    )
    campaigns = arc.query("SELECT slug, name FROM campaigns ORDER BY name")
    return {"s": s, "posts": posts, "hidden": hidden, "versions": versions, "campaigns": campaigns}


@router.get("/edit/stories/add")
async def add_from_archive(request: Request) -> Response:
    """Choose the story a post (``?uid=``, from the explorer, search results or a post page)
    goes into."""
    editor_of(request)
    uid = request.query_params.get("uid", "")

    def build() -> Any:
        arc = svc(request).reader()
        return _render(request, "story_pick.html", uid=uid, stories=model.list_stories(arc))

    return await run_in_threadpool(build)


@router.get("/edit/stories/{slug}")
async def story_edit(request: Request, slug: str) -> Response:
    editor_of(request)

    def build() -> Any:
        ctx = _editor_context(svc(request).reader(), slug)
        return _render(
            request,
            "story_edit.html",
            **ctx,
            conflict=request.query_params.get("conflict") == "1",
            error=request.query_params.get("error"),
            snippet=_snippet(request, slug),
        )

    return await run_in_threadpool(build)


def _items_after(op: str, items: list[Item], data: dict[str, str]) -> list[Item]:
    """The story's items after one editing operation (``op`` with its form fields)."""
    items = list(items)

    def index(name: str = "index") -> int:
        try:
            i = int(data.get(name, ""))
        except ValueError:
            raise StoryError("bad item position") from None
        if not 0 <= i < len(items):
            raise StoryError("no item at that position (the story changed: reload)")
        return i

    if op in ("up", "down"):
        i = index()
        j = i - 1 if op == "up" else i + 1
        if 0 <= j < len(items):
            items[i], items[j] = items[j], items[i]
    elif op == "move":
        i = index()
        to = max(0, min(int(data.get("to") or 0), len(items) - 1))
        items.insert(to, items.pop(i))
    elif op == "remove":
        items.pop(index())
    elif op == "edit":
        i = index()
        if items[i].kind == "post":
            raise StoryError("a post is not edited here: remove it or add another")
        items[i] = Item(items[i].kind, body=data.get("body", ""))
    elif op == "order":
        # the whole order at once (drag and drop): a permutation of the current positions
        order = [int(x) for x in re.findall(r"\d+", data.get("order", ""))]
        if sorted(order) != list(range(len(items))):
            raise StoryError("the new order does not match the story (it changed: reload)")
        items = [items[k] for k in order]
    elif op == "add":
        new: list[Item] = []
        if data.get("heading", "").strip():
            new.append(model.heading(data["heading"]))
        if data.get("text", "").strip():
            new.append(model.text(data["text"]))
        for ref in re.split(r"\s+", data.get("posts", "").strip()):
            if ref:
                new.append(model.post(ref))
        if not new:
            raise StoryError("nothing to add")
        have = {i.post_uid for i in items if i.kind == "post"}
        for it in new:
            if it.kind == "post":
                if it.post_uid in have:
                    continue
                have.add(it.post_uid)
            items.append(it)
    else:
        raise StoryError(f"unknown operation {op!r}")
    return items


_FIELDS = ("title", "description", "curator", "institution", "campaign_slug", "chat_slug", "lang")


@router.post("/edit/stories/{slug}")
async def story_change(request: Request, slug: str) -> Response:
    """One editing operation (form field ``op``) at the revision the editor saw (``revision``)."""
    editor_of(request)
    data = await csrf_form(request)
    op = data.get("op", "")
    try:
        revision = int(data.get("revision", ""))
    except ValueError:
        raise HTTPException(400, "missing revision") from None

    def change(arc: Archive, _w: Any) -> tuple[int, int]:
        s = model.get_story(arc, slug)
        if s is None:
            raise HTTPException(404, f"no story {slug!r}")
        if op == "fields":
            fields = {k: (data.get(k) or None) for k in _FIELDS if k in data}
            if "title" in fields and not fields["title"]:
                raise StoryError("a story needs a title")
            s2 = model.save_story(arc, slug, revision=revision, fields=fields)
        else:
            # resolve pasted URLs to uids before saving (unknown ones are refused)
            s2 = model.save_story(arc, slug, revision=revision, items=_items_after(op, s.items, data))
        return s2.revision, len(s2.items)

    try:
        new_rev, count = await svc(request).write(change)
    except StaleRevision as exc:
        if _wants_json(request):
            return JSONResponse(
                {"conflict": True, "revision": exc.current, "detail": str(exc)}, status_code=409
            )
        return RedirectResponse(f"/edit/stories/{slug}?conflict=1", status_code=303)
    except StoryError as exc:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        from urllib.parse import quote

        return RedirectResponse(f"/edit/stories/{slug}?error={quote(str(exc))}", status_code=303)
    if _wants_json(request):
        return JSONResponse({"revision": new_rev, "items": count})
    return RedirectResponse(f"/edit/stories/{slug}#items", status_code=303)


@router.get("/edit/stories/{slug}/state")
async def story_state(request: Request, slug: str) -> Response:
    """The story's revision (the editor polls it to show another editor's save early)."""
    editor_of(request)
    row = await run_in_threadpool(
        svc(request).reader().query, "SELECT revision FROM stories WHERE slug = ?", [slug]
    )
    if not row:
        raise HTTPException(404, "no such story")
    return JSONResponse({"revision": row[0][0]})


@router.get("/edit/stories/{slug}/preview")
async def story_preview(request: Request, slug: str) -> Response:
    """The story as it would be published now (not stored, no version made)."""
    editor_of(request)

    def build() -> bytes:
        from datetime import UTC, datetime

        arc = svc(request).reader()
        s = model.get_story(arc, slug)
        if s is None:
            raise HTTPException(404, f"no story {slug!r}")
        row = {
            "version": 0,
            "published_at": s.updated_at or datetime.now(UTC),
            "snapshot": json.dumps(snapshot_of(s)),
        }
        return render_version(arc, s, row).single

    body = await run_in_threadpool(build)
    return _story_response(body)


@router.post("/edit/stories/{slug}/publish")
async def story_publish(request: Request, slug: str) -> Response:
    who = editor_of(request).username
    await csrf_form(request)

    def pub(arc: Archive, _w: Any) -> str | None:
        try:
            publish(arc, slug, None, by=f"user:{who}")
        except StoryError as exc:
            return str(exc)
        return None

    error = await svc(request).write(pub)
    if error:
        from urllib.parse import quote

        return RedirectResponse(f"/edit/stories/{slug}?error={quote(error)}", status_code=303)
    return RedirectResponse(f"/s/{slug}/", status_code=303)
