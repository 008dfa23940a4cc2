"""Chat pages in a real browser (Debian's chromium via Playwright) against a real `salon serve`:
before (the questions listed, times in the visitor's zone), during (a post imported while the
room is open appears under the question it answers within 2 s), after (the transcript by
question). No request leaves the machine. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.chats.conftest import chats_around_now
from tests.web.conftest import LiveServer, browser_context, page, shot

__all__ = ["browser_context", "page"]  # the fixtures, used by name


@pytest.fixture(scope="module")
def chat_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("chatlive")
    path, truth = chats_around_now(folder)
    server = LiveServer(path)
    yield server, truth
    server.stop()


def _local_only(urls: list[str]) -> None:
    outside = [u for u in urls if urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"requests left the machine: {outside}"


def test_before_the_chat_questions_are_listed(chat_live: Any, page: Any) -> None:
    live, _ = chat_live
    page.goto(f"{live.url}/chats/musesocial-3")
    items = page.locator(".questions-ahead li")
    assert items.count() == 5
    assert "worth it?" in items.nth(0).inner_text()
    # The start is rewritten in the visitor's own zone (the page says UTC before the script runs).
    # (the server writes "YYYY-MM-DD HH:MM UTC"; the script a long date in the browser's zone)
    server_form = re.compile(r"^\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\s*$")
    expect(page.locator("time[data-local-datetime]").first).not_to_have_text(server_form)
    assert page.get_by_role("heading", name="How to take part").is_visible()
    shot(page, "chat-before")
    _local_only(page.requests)


def test_during_the_chat_a_post_appears_under_its_question(chat_live: Any, page: Any) -> None:
    live, truth = chat_live
    page.goto(f"{live.url}/chats/musesocial-2")
    # SSE connected (a locator, not wait_for_function: the page's CSP forbids eval)
    page.locator("html[data-live-version]").wait_for(state="attached")
    later = sorted(
        (u, t)
        for u, t in truth["posts"].items()
        if t["chat"] == "musesocial-2"
        and t["later"]
        and t["role"] == "answer"
        and t["rule"] == "thread"
        and not t["deleted"]
    )
    assert later, "the live chat has posts still to come"
    uid, t = later[0]
    assert page.locator(f'[data-uid="{uid}"]').count() == 0
    page.evaluate("window.__salon_no_reload = true")  # gone if the page reloaded instead of updating
    res = live.salon("import", str(live.archive.parent / "later" / "data"), "-a", str(live.archive))
    imported = time.monotonic()
    assert "streaming to" in res.stderr
    # The room updates itself over server-sent events, with no reload. How fast (the 2 s target) is
    # measured by benchmarks, not by a timed test (DEVELOPERS.md): a loaded CI machine must not fail
    # this test, so it only bounds the wait and reports the delay it saw.
    page.locator(f'#q{t["n"]} [data-uid="{uid}"]').wait_for(timeout=15000)
    print(f"the post showed {time.monotonic() - imported:.2f}s after the import returned")
    assert page.evaluate("window.__salon_no_reload === true"), "the page reloaded instead of updating live"
    assert page.locator(f'#q{t["n"]} [data-uid="{uid}"]').count() == 1
    assert page.locator(".room-conversation .cpost.host").count() > 0  # hosts highlighted
    shot(page, "chat-live", full=False)
    _local_only(page.requests)


def test_after_the_chat_transcript_by_question(chat_live: Any, page: Any) -> None:
    live, truth = chat_live
    page.goto(f"{live.url}/chats/musesocial-1")
    page.get_by_role("link", name="By question").click()
    page.wait_for_url("**/chats/musesocial-1/transcript")
    assert page.locator("section.question").count() == 5
    q1 = page.locator("#q1")
    uid = next(
        u
        for u, x in truth["posts"].items()
        if x["chat"] == "musesocial-1" and x["role"] == "answer" and x["n"] == 1 and not x["deleted"]
    )
    assert q1.locator(f'[data-uid="{uid}"]').count() == 1
    assert page.locator(".chat-post.host").count() > 0
    shot(page, "chat-transcript")
    _local_only(page.requests)
