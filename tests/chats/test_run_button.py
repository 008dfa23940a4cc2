"""The editors' "post the questions" button: login and CSRF like every editor form, then
``run_chat`` (the function of ``salon chat run``) in the server's background against local
recording servers; its status on the chat page; a second click posts nothing again."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salon.campaigns.chat_store import intents
from salon.store.archive import open_archive
from salon.web import auth
from salon.web.app import create_app
from tests.chats.post_servers import BlueskyStandIn, MastodonStandIn, XStandIn
from tests.chats.run_campaign import TOKENS, posting_env, run_archive

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def _editor_archive(tmp_path: Path, m: str, b: str, x: str) -> Path:
    """The chat-run campaign's archive with an editor ``ed``."""
    archive = run_archive(tmp_path, m, b, x)
    with open_archive(archive) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    return archive


def _wait_state(c: TestClient, want: str, timeout: float = 30.0) -> str:
    page = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = c.get("/chats/ms-kill").text
        m = re.search(r'data-run-state="(\w+)"', page)
        if m and m.group(1) == want:
            return page
        time.sleep(0.2)
    raise AssertionError(f"run not {want} after {timeout}s: {re.findall(r'data-run-state=.{0,300}', page)}")


def test_editor_button_posts_the_questions_in_the_background(tmp_path: Path, monkeypatch: Any) -> None:
    servers = [MastodonStandIn(), BlueskyStandIn(), XStandIn()]
    m, b, x = servers
    try:
        archive = _editor_archive(tmp_path, m.url, b.url, x.url)
        for k, v in posting_env(tmp_path).items():
            monkeypatch.setenv(k, v)

        with TestClient(create_app(str(archive))) as c:
            # Not logged in: refused, and the public page has no button.
            assert c.post("/chats/ms-kill/run", data={"csrf": "x"}, follow_redirects=False).status_code == 401
            assert "/chats/ms-kill/run" not in c.get("/chats/ms-kill").text
            c.post(
                "/login",
                data={"username": "ed", "password": PASSWORD, "csrf": _csrf(c.get("/login").text)},
                follow_redirects=False,
            )
            page = c.get("/chats/ms-kill").text
            assert 'action="/chats/ms-kill/run"' in page
            assert c.post("/chats/ms-kill/run", data={"csrf": "bad"}).status_code == 403
            assert not (m.posts_of() or b.posts_of() or x.posts_of())

            r = c.post("/chats/ms-kill/run", data={"csrf": _csrf(page)}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/chats/ms-kill")
            page = _wait_state(c, "done")
            assert "6 posted, 0 already posted, 0 failed" in page
            # The room and the posting list show the posted intents.
            assert page.count('class="intent state-posted"') == 6

            # Exactly one post per question and platform on the recording servers.
            assert len(m.posts) == 2 and len(b.records) == 2 and len(x.posts_of()) == 2

            # A second click: the same library guarantees, nothing posted again.
            c.post("/chats/ms-kill/run", data={"csrf": _csrf(page)}, follow_redirects=False)
            page = _wait_state(c, "done")
            assert "0 posted, 6 already posted" in page
            assert len(m.posts) == 2 and len(b.records) == 2 and len(x.posts_of()) == 2

            arc = c.app.state.svc.reader()  # type: ignore[attr-defined]
            assert {i["state"] for i in intents(arc, "ms-kill")} == {"posted"}
    finally:
        for s in servers:
            s.close()


def test_missing_credentials_are_shown(tmp_path: Path, monkeypatch: Any) -> None:
    nothing = "http://127.0.0.1:9"
    archive = _editor_archive(tmp_path, nothing, nothing, nothing)
    monkeypatch.setenv("SALON_CREDENTIALS", str(tmp_path / "none.toml"))
    for k in TOKENS:
        monkeypatch.delenv(k, raising=False)
    with TestClient(create_app(str(archive))) as c:
        c.post(
            "/login",
            data={"username": "ed", "password": PASSWORD, "csrf": _csrf(c.get("/login").text)},
            follow_redirects=False,
        )
        c.post("/chats/ms-kill/run", data={"csrf": _csrf(c.get("/chats/ms-kill").text)})
        page = _wait_state(c, "failed", timeout=5)
        assert "salon auth mastodon" in page and "salon auth x-user" in page


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
