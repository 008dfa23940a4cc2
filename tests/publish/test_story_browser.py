"""Published stories in a real browser (Debian's chromium), opened from disk: the folder and the
single file, with JavaScript on and off. Every request that is not ``file:`` is blocked and
counted (0 expected); every post's name, time, image and alt text is visible; axe-core
(vendored, injected offline) finds no violation; print CSS keeps posts whole and prints URLs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salon.collect.media import fetch_media, media_targets
from salon.publish.stories.publish import publish
from salon.store.archive import open_archive
from salon.store.media import MediaStore
from tests.publish.conftest import make_story
from tests.publish.test_media import LocalOnly, MediaServer, _point_media_at
from tests.web.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make setup installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def published(demo_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo story with its media fetched (from a local server, then stopped), published as
    a folder and as a single file."""
    tmp_path = tmp_path_factory.mktemp("browser")
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_archive, path)
    make_story(path)
    store = MediaStore(tmp_path / "media")
    with MediaServer() as srv:
        _point_media_at(path, srv.base)
        with open_archive(path) as arc:
            targets = media_targets(arc, story="day-one")
            assert any(role == "avatar" for _, role in targets)
            rep = fetch_media(arc, store, targets, transport=LocalOnly(srv.base))
            assert rep.fetched == len(targets) and rep.failed == 0
    os.environ["SALON_MEDIA"] = str(store.root)
    try:
        with open_archive(path) as arc:
            publish(arc, "day-one", tmp_path / "story")
            publish(arc, "day-one", tmp_path / "story.html", single_file=True)
    finally:
        del os.environ["SALON_MEDIA"]
    data = json.loads((tmp_path / "story" / "story.json").read_text())
    return {"folder": tmp_path / "story" / "index.html", "single": tmp_path / "story.html", "data": data}


def _open(browser: Any, file: Path, js: bool, csp: bool = False) -> tuple[Any, Any, list[str]]:
    # Without the page's own CSP (which would block remote loads anyway) the count proves the page
    # asks for nothing remote in the first place; with it, that the CSP lets the page's own
    # stylesheet and images through.
    ctx = browser.new_context(
        java_script_enabled=js, bypass_csp=not csp, viewport={"width": 1100, "height": 900}
    )
    outside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    page = ctx.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url))
    page.goto(file.as_uri(), wait_until="load")
    return ctx, page, outside


def _check_everything_visible(page: Any, data: dict[str, Any]) -> None:
    body = page.locator("body").inner_text()
    posts = [i["post"] for i in data["items"] if i["kind"] == "post"]
    assert posts and all("removed" not in p for p in posts)
    for it in data["items"]:
        if it["kind"] == "heading":
            assert page.get_by_role("heading", name=it["body"]).is_visible()
    entries = page.locator("article.h-entry")
    assert entries.count() == len(posts)
    images = 0
    for n, p in enumerate(posts):
        art = entries.nth(n)
        assert art.is_visible()
        head = art.locator(".byline").inner_text()
        assert p["author"]["name"] in head
        if p["author"]["handle"]:
            assert "@" + p["author"]["handle"] in head
        assert p["platform_name"] in head
        when = art.locator("footer.when").inner_text()
        assert p["created_utc"][11:16] + " UTC" in when
        assert p["created_local"]["text"] in when
        for m in p["media"]:
            if m["file"]:
                images += 1
        own_figs = art.locator(":scope > .media figure")
        for k, m in enumerate(p["media"]):
            fig = own_figs.nth(k)
            cap = fig.locator("figcaption").inner_text()
            assert (m["alt"] in cap) if m["alt"] else ("no description" in cap)
            if m["file"]:
                img = fig.locator("img")
                assert img.is_visible()
                assert img.get_attribute("alt") == (m["alt"] or "Image without a description")
                box = img.bounding_box()
                assert box and box["width"] > 20 and box["height"] > 20  # really drawn
    assert images > 0
    avatars = page.locator("article.h-entry img.avatar")
    assert avatars.count() == sum(1 for p in posts if p["author"]["avatar"]) > 0
    assert "static copy, not live" in body


@pytest.mark.parametrize("form", ["folder", "single"])
@pytest.mark.parametrize("js", [True, False])
def test_published_story_offline(browser: Any, published: dict[str, Any], form: str, js: bool) -> None:
    ctx, page, outside = _open(browser, published[form], js, csp=js)
    try:
        _check_everything_visible(page, published["data"])
        # images really decoded (naturalWidth) — readable with JS on; the layout check above
        # covers JS off
        if js:
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert widths and all(w > 0 for w in widths)
        if form == "folder" and js:
            page.screenshot(path=str(ARTIFACTS / "story-folder.png"), full_page=True)
        assert outside == []
    finally:
        ctx.close()


def test_axe_no_violations_and_print_css(browser: Any, published: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for form in ("folder", "single"):
        ctx, page, outside = _open(browser, published[form], True)
        try:
            page.evaluate(AXE.read_text(encoding="utf-8"))
            result = page.evaluate("async () => await axe.run(document)")
            bad = [
                (v["id"], v["help"], [n["html"][:120] for n in v["nodes"][:3]]) for v in result["violations"]
            ]
            assert bad == [], bad
            assert len(result["passes"]) > 10
            page.emulate_media(media="print")
            assert page.eval_on_selector("article.post", "e => getComputedStyle(e).breakInside") == "avoid"
            after = page.eval_on_selector(
                "a.mention, a.hashtag, a.link", "e => getComputedStyle(e, '::after').content"
            )
            assert "http" in after, (
                form,
                after,
                page.eval_on_selector("a.mention, a.hashtag, a.link", "e => e.outerHTML"),
            )
            if form == "folder":
                page.pdf(path=str(ARTIFACTS / "story-print.pdf"))
            assert outside == []
        finally:
            ctx.close()
