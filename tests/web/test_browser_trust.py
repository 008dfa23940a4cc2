"""In a real browser against a real `salon serve`: a deletion event at the source (a Mastodon
``delete`` streaming event, imported into the served archive) clears the post from the open
wall within one refresh, and the held count stays beside the headline. No request leaves the
machine."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from tests.web.conftest import LiveServer, shot
from tests.web.data import SLUG


def test_a_deletion_event_clears_the_wall_within_one_refresh(live: LiveServer, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live.url}/wall/{SLUG}")
    # SSE connected (locators, not wait_for_function: the page's CSP forbids eval)
    page.locator("html[data-live-version]:not([data-live-version=''])").wait_for(state="attached")
    newest = "(n°39)"  # tests/web/data.py: status 100039 is the newest post
    assert newest in page.locator("#latest").inner_text()
    before = page.locator('.counters [data-k="spam.shown.posts"]').inner_text()
    assert page.locator('[data-held] [data-k="spam.posts"]').inner_text() == "0"
    # The Mastodon streaming API's delete event for that status, as a collector records it.
    event = live.archive.parent / "delete.jsonl"
    event.write_text(
        json.dumps({"event": "delete", "payload": "100039", "instance": "mastodon.example"}) + "\n"
    )
    page.evaluate("window.__salon_no_reload = true")  # gone if the page reloaded instead of updating
    res = live.salon("import", str(event), "-a", str(live.archive))
    assert "streaming to" in res.stderr
    # The open wall clears itself (no reload): wait for that, however loaded the machine is; how
    # fast it does is a benchmark's question, not a timed assertion's.
    expect(page.locator("#latest")).not_to_contain_text(newest, timeout=30_000)
    # The figures follow: a deleted post is no campaign post (the tombstone stays in the archive).
    expect(page.locator('.counters [data-k="spam.shown.posts"]')).to_have_text(
        str(int(before) - 1), timeout=30_000
    )
    assert page.evaluate("window.__salon_no_reload === true"), "the wall reloaded instead of updating live"
    shot(page, "wall-after-deletion", full=False)
    assert not [u for u in page.requests if urlparse(u).hostname != "127.0.0.1"]
