"""A post an editor hides in a chat room is the trust rules' post hide: gone from every public
surface (search API, explorer, post page and its API, the wall, exports, stories, chats' transcripts,
``publicly_visible``), kept in the archive, logged with who and when; "show" brings it back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salon.web.app import create_app
from tests.chats.conftest import chats_around_now

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    import dataclasses
    from datetime import date, timedelta

    from salon.campaigns.config import load_campaign
    from salon.campaigns.index import refresh_all
    from salon.campaigns.stored import save_campaign
    from salon.store.archive import open_archive
    from salon.web import auth

    path, truth = chats_around_now(tmp_path_factory.mktemp("chathide"))
    # The campaign's window moved with its chats (around now), so the wall shows their posts.
    c = load_campaign(path.parent / "musesocial.toml")
    today = date.today()
    c = dataclasses.replace(c, start=today - timedelta(days=20), end=today + timedelta(days=10))
    with open_archive(path) as arc:
        save_campaign(arc, c)
        auth.add_user(arc, "ed", PASSWORD, "editor")
        refresh_all(arc)  # the campaign index the wall reads
    with TestClient(create_app(str(path))) as c:
        yield c, truth


def _surfaces(c: TestClient, uid: str, author: str) -> dict[str, bool]:
    """Where ``uid`` shows publicly now."""
    from salon.campaigns import shown
    from salon.campaigns.trust.visibility import publicly_visible
    from salon.publish.exports.select import Filters, selection
    from salon.web import explorer

    arc = c.app.state.svc.reader()  # type: ignore[attr-defined]
    search = c.get("/api/search", params={"author": author, "limit": 1000}).json()["items"]
    with selection(arc, Filters()) as sel:
        exported = {r[0] for r in arc.con.execute(f"SELECT uid FROM {sel.uids}").fetchall()}
    wall = explorer.campaign_latest(arc, "musesocial", limit=100000)
    transcript = c.get("/chats/musesocial-1/transcript.json").json()
    return {
        "search": uid in {p["uid"] for p in search},
        "explore": uid in c.get("/explore", params={"author": author}).text,
        "post_page": c.get(f"/posts/{uid}").status_code == 200,
        "post_api": c.get(f"/api/posts/{uid}").status_code == 200,
        "wall": uid in {p["uid"] for p in wall},
        "export": uid in exported,
        "transcript": uid in {x["uid"] for q in transcript["questions"] for x in q["answers"]},
        "visible": bool(publicly_visible(arc, [uid])),
        "story": uid not in shown.hidden_posts(arc, [uid]),  # a story's placeholder rule
    }


def test_a_chat_hide_reaches_every_public_surface(served: Any) -> None:
    c, truth = served
    from salon.web import explorer

    arc = c.app.state.svc.reader()  # type: ignore[attr-defined]
    on_wall = {p["uid"] for p in explorer.campaign_latest(arc, "musesocial", limit=100000)}
    uid = next(
        u
        for u, t in truth["posts"].items()
        if t["chat"] == "musesocial-1" and t["role"] == "answer" and not t["deleted"] and u in on_wall
    )
    author = arc.scalar("SELECT author_uid FROM posts WHERE uid = ?", [uid])
    before = _surfaces(c, uid, author)
    assert all(before.values()), before  # shown everywhere to start with: the test can fail

    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    room = c.get("/chats/musesocial-1").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', room).group(1)  # type: ignore[union-attr]
    r = c.post(
        "/chats/musesocial-1/hide",
        data={"uid": uid, "hidden": "1", "csrf": csrf, "reason": "personal data"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    c.cookies.clear()

    after = _surfaces(c, uid, author)
    assert not any(after.values()), after
    arc = c.app.state.svc.reader()  # type: ignore[attr-defined]
    assert arc.scalar("SELECT count(*) FROM posts WHERE uid = ? AND deleted_at IS NULL", [uid]) == 1  # kept
    from salon.campaigns.trust import log

    entry = log.history(arc, target=uid)[0]
    assert (entry["family"], entry["action"], entry["by_user"], entry["reason"]) == (
        "post",
        "hide",
        "ed",
        "personal data",
    )
    assert entry["campaign_id"] == arc.scalar("SELECT campaign_id FROM chats WHERE slug = 'musesocial-1'")
    assert entry["at"] is not None

    # Shown again: back everywhere.
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    room = c.get("/chats/musesocial-1").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', room).group(1)  # type: ignore[union-attr]
    assert (
        c.post("/chats/musesocial-1/hide", data={"uid": uid, "hidden": "0", "csrf": csrf}).status_code == 200
    )
    c.cookies.clear()
    assert all(_surfaces(c, uid, author).values())
