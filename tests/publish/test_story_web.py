"""Stories in the web app: editors curate (login, CSRF, revision check), publish; the public
reads /s/<slug>/ and each version's permalink; and in a real browser, drag and drop, keyboard
moves and a visible conflict between two editors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salon.store.archive import open_archive
from salon.web.app import create_app
from tests.web.data import SLUG

PASSWORD = "correct horse battery"


@pytest.fixture
def client(archive: Path) -> Iterator[TestClient]:
    from salon.web import auth

    with open_archive(archive) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    with TestClient(create_app(str(archive))) as c:
        yield c


def _login(c: TestClient) -> str:
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/edit/stories").text).group(1)  # type: ignore[union-attr]


def _revision(c: TestClient, slug: str) -> int:
    return int(re.search(r'data-revision="(\d+)"', c.get(f"/edit/stories/{slug}").text).group(1))  # type: ignore[union-attr]


def test_editor_flow_conflict_and_public_pages(client: TestClient, archive: Path) -> None:
    c = client
    assert c.get("/edit/stories", follow_redirects=False).status_code in (401, 303)
    assert c.get("/s/week/").status_code == 404
    csrf = _login(c)
    # CSRF is checked
    assert c.post("/edit/stories", data={"slug": "week", "title": "x"}).status_code == 403
    r = c.post(
        "/edit/stories",
        data={"csrf": csrf, "slug": "week", "title": "Our week", "campaign": SLUG},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/edit/stories/week"
    urls = _post_urls(c)
    rev = _revision(c, "week")
    # add by pasted URLs, a heading and a text block (plain form, no JavaScript)
    r = c.post(
        "/edit/stories/week",
        data={
            "csrf": csrf,
            "op": "add",
            "revision": rev,
            "posts": "\n".join(urls[:3]),
            "heading": "Monday",
            "text": "Hi *all*",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get("/edit/stories/week").text
    assert page.count('class="story-item ') == 5 and "Monday" in page
    rev = _revision(c, "week")
    # move, as the JavaScript does (JSON answer), then the same revision again: a conflict
    r = c.post(
        "/edit/stories/week",
        data={"csrf": csrf, "op": "order", "revision": rev, "order": "3,4,0,1,2"},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200 and r.json()["revision"] == rev + 1
    r = c.post(
        "/edit/stories/week",
        data={"csrf": csrf, "op": "remove", "revision": rev, "index": "0"},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 409 and r.json()["conflict"]
    r = c.post(
        "/edit/stories/week",
        data={"csrf": csrf, "op": "remove", "revision": rev, "index": "0"},
        follow_redirects=False,
    )
    assert r.headers["location"].endswith("?conflict=1")
    assert "Another editor changed this story" in c.get(r.headers["location"]).text
    # a heading is edited in place
    heading_at = re.findall(
        r'name="op" value="edit">\s*<input type="hidden" name="revision" value="\d+"><input type="hidden" name="index" value="(\d+)">',
        c.get("/edit/stories/week").text,
    )
    assert len(heading_at) == 2  # the heading and the text block
    r = c.post(
        "/edit/stories/week",
        data={
            "csrf": csrf,
            "op": "edit",
            "revision": rev + 1,
            "index": heading_at[0],
            "body": "Monday, 23 March",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "Monday, 23 March" in c.get("/edit/stories/week").text
    rev += 1
    # an unknown URL is refused with a message
    r = c.post(
        "/edit/stories/week",
        data={"csrf": csrf, "op": "add", "revision": rev + 1, "posts": "https://x.com/a/status/1"},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422 and "no such post" in r.json()["detail"]
    # preview, publish, public pages and version permalinks
    pv = c.get("/edit/stories/week/preview")
    assert (
        pv.status_code == 200
        and "Monday" in pv.text
        and "script-src" not in pv.headers["content-security-policy"]
    )
    r = c.post("/edit/stories/week/publish", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/s/week/"
    c.cookies.clear()  # the public, not logged in
    pub = c.get("/s/week/")
    assert pub.status_code == 200 and "Monday" in pub.text and "h-entry" in pub.text
    csp = pub.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors *" in csp and "x-frame-options" not in pub.headers
    assert c.get("/s/week/v1/").text == pub.text
    assert c.get("/s/week/v2/").status_code == 404
    assert "&lt;iframe src=&#34;http://testserver/s/week/&#34;" in c.get("/s/week/embed").text
    # an author opts out while the story is served (a later capture of one of their statuses
    # says indexable: false): the next view no longer shows the post, and a republish follows
    import json as _json

    from salon.importer import import_paths
    from tests.web.data import status

    first = re.search(r"/(\d+)$", urls[0]).group(1)  # type: ignore[union-attr]
    n = int(first) - 100000
    st = status(n, n % 4, n % 5, n * 7)
    text_before = re.sub(r"<[^>]+>", "", st["content"])
    assert text_before.split(" (n")[0][:30] in pub.text or st["account"]["display_name"] in pub.text
    st["account"]["indexable"] = False
    f = archive.with_name("optout.jsonl")
    f.write_text(_json.dumps(st) + "\n", encoding="utf-8")
    svc_ = c.app.state.svc  # type: ignore[attr-defined]
    svc_.submit(lambda a, w: import_paths([str(f)], a)).result()
    svc_.refresh_now()
    after = c.get("/s/week/")
    assert "asked not to be shown" in after.text
    assert st["url"] not in after.text
    svc_.refresh_now()  # the queued republish has run
    with_log = c.get("/s/week/v1/").text
    assert "1 post(s) removed" in with_log and st["url"] not in with_log


def _post_urls(c: TestClient) -> list[str]:
    """Post URLs of the test archive (Mastodon statuses), read through the app's API."""
    items = c.get("/api/search", params={"limit": 10}).json()["items"]
    return [i["url"] for i in items if i.get("url")]


def test_editor_speaks_french(client: TestClient) -> None:
    from salon.web.stories_text import TEXT

    assert set(TEXT["en"]) == set(TEXT["fr"])
    csrf = _login(client)
    client.post("/edit/stories", data={"csrf": csrf, "slug": "fr", "title": "Semaine"})
    page = client.get("/edit/stories/fr", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert "À propos du récit" in page and "Ajouter au récit" in page
    assert "Enregistr\\u00e9" in page or "Enregistré" in page  # the script's messages, in French


def test_add_to_story_from_explorer(client: TestClient) -> None:
    csrf = _login(client)
    client.post("/edit/stories", data={"csrf": csrf, "slug": "picks", "title": "Picks"})
    explore = client.get("/explore").text
    link = re.search(r'href="(/edit/stories/add\?uid=[^"]+)"', explore)
    assert link, "the explorer offers 'add to a story' to editors"
    pick = client.get(link.group(1).replace("&amp;", "&")).text
    form = re.search(r'<form method="post" action="/edit/stories/picks".*?</form>', pick, re.S).group(0)  # type: ignore[union-attr]
    data = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    import html

    data = {k: html.unescape(v) for k, v in data.items()}
    r = client.post("/edit/stories/picks", data=data, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/edit/stories/picks").text.count('class="story-item ') == 1


# -- in a real browser ----------------------------------------------------------------------------


@pytest.fixture
def app_url(archive: Path) -> Iterator[str]:
    """The web app served by uvicorn in a thread on 127.0.0.1 (an ephemeral port)."""
    import socket
    import threading
    import time

    import uvicorn

    from salon.web import auth

    with open_archive(archive) as arc:
        auth.add_user(arc, "editor1", PASSWORD, "editor")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(str(archive)), log_level="warning", lifespan="on"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    t.join(timeout=10)


def _browser_login(page: Any, base: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", "editor1")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/edit$"))


def test_editor_in_browser_drag_keyboard_conflict(app_url: str, browser_context: Any) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    base = app_url
    page = browser_context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    try:
        _browser_login(page, base)
        page.goto(base + "/edit/stories")
        page.fill("input[name=title]", "Browser story")
        page.fill("input[name=slug]", "browser-story")
        page.click("text=Create the story")
        page.wait_for_url(re.compile(r".*/edit/stories/browser-story$"))
        urls = [i["url"] for i in page.request.get(base + "/api/search?limit=4").json()["items"]]
        page.fill("#add-posts", "\n".join(urls[:3]))
        page.fill("#add-heading", "A heading")
        page.click("text=Add to the story")
        page.wait_for_selector(".story-item >> nth=3")

        def order() -> list[str]:
            return [t.strip().lower()[:40] for t in page.locator(".story-item .body").all_inner_texts()]

        start = order()
        assert start[0].startswith("heading")  # added before the posts of the same form
        # keyboard: Alt+ArrowDown on the heading's handle, three times -> last; focus stays on it
        handle = page.locator(".story-item >> nth=0").locator(".handle")
        handle.focus()
        for n in range(3):
            page.keyboard.press("Alt+ArrowDown")
            expect(page.locator("#save-status")).to_contain_text(f"position {n + 2} of 4")
        assert order()[3].startswith("heading")
        assert page.evaluate("document.activeElement.classList.contains('handle')")
        page.reload()
        assert order()[3].startswith("heading")  # saved on the server
        # drag and drop: the heading back onto the first place
        src = page.locator(".story-item >> nth=3").locator(".handle")
        dst = page.locator(".story-item >> nth=0")
        src.drag_to(dst, target_position={"x": 10, "y": 5})
        expect(page.locator("#save-status")).to_contain_text("Saved")
        page.reload()
        assert order()[0].startswith("heading") and order()[1:] == start[1:]
        # another editor saves first (a second tab): this page's next change is refused, visibly
        other = browser_context.new_page()
        other.goto(base + "/edit/stories/browser-story")
        other.fill("input[name=title]", "Browser story (edited elsewhere)")
        expect(other.locator("#save-status")).to_contain_text("Saved")
        other.close()
        page.locator(".story-item >> nth=0").locator("button.remove").click()
        page.wait_for_selector("#conflict:not([hidden])")
        assert page.locator(".story-item").count() == 4  # nothing removed
        page.goto(base + "/edit/stories/browser-story")
        assert "edited elsewhere" in page.locator("input[name=title]").input_value()
        # the editor page passes axe-core (vendored, run in the page offline)
        axe = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
        page.evaluate(axe.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document)")
        bad = [(v["id"], [n["html"][:100] for n in v["nodes"][:3]]) for v in result["violations"]]
        assert bad == [], bad
        assert outside == []
    finally:
        page.close()
