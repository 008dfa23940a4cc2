"""Chat pages in-process: before (questions ahead, times, how to take part, .ics), during (the
room, its fragment and its events), after (figures, transcript page and downloads), series, and
editors hiding a post (logged; gone from every public surface; figures unchanged)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salon.web.app import create_app
from tests.chats.conftest import chats_around_now

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any], Path]]:
    from salon.store.archive import open_archive
    from salon.web import auth

    path, truth = chats_around_now(tmp_path_factory.mktemp("chatweb"))
    with open_archive(path) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    with TestClient(create_app(str(path))) as c:
        yield c, truth, path


def test_before_page_lists_questions_and_how_to_take_part(served: Any) -> None:
    c, _, _ = served
    r = c.get("/chats/musesocial-3")
    assert r.status_code == 200
    html = r.text
    assert 'data-chat-state="before"' in html and "The questions, published ahead" in html
    assert html.count('<span class="qn">Q') == 5
    assert "How to take part" in html and "Hosts on Mastodon" in html and "Hosts on Bluesky" in html
    assert "America/New_York" in html and "data-local-datetime" in html
    assert 'id="room"' not in html  # no room before the chat
    ics = c.get("/chats/musesocial-3.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert (
        "BEGIN:VEVENT" in ics.text and "DTSTART:" in ics.text and "SUMMARY:#musesocial\\, week 3" in ics.text
    )
    assert all(len(line.encode()) <= 75 for line in ics.text.split("\r\n"))
    fr = c.get("/chats/musesocial-3?lang=fr")
    assert "Comment participer" in fr.text and "Les questions, publiées" in fr.text


def test_live_room_groups_posts_under_questions(served: Any) -> None:
    c, truth, _ = served
    r = c.get("/chats/musesocial-2")
    assert 'data-chat-state="live"' in r.text and 'id="room"' in r.text
    room = c.get("/chats/musesocial-2/room").text
    for uid, t in truth["posts"].items():
        if t["chat"] == "musesocial-2" and t["role"] == "answer" and not t["later"] and not t["deleted"]:
            section = re.search(rf'<section class="cquestion" id="q{t["n"]}".*?</section>', room, re.S)
            assert section and f'data-uid="{uid}"' in section.group(0)
    with c.stream("GET", "/api/chats/musesocial-2/stream") as s:
        first = b""
        for chunk in s.iter_bytes():
            first += chunk
            if b"event: chat" in first:
                break
    assert b"event: chat" in first
    assert c.get("/chats/nope").status_code == 404


def test_after_page_transcript_and_downloads(served: Any) -> None:
    c, truth, _ = served
    html = c.get("/chats/musesocial-1").text
    assert 'data-chat-state="after"' in html and "/chats/musesocial-1/transcript" in html
    assert "first-time" in html and "returning" in html and "Top contributors" in html
    tr = c.get("/chats/musesocial-1/transcript").text
    assert '<section class="question" id="q1">' in tr and "Conversation" in tr
    assert c.get("/chats/musesocial-1/transcript?by=time").status_code == 200
    j = c.get("/chats/musesocial-1/transcript.json").json()
    assert set(j) == {"chat", "questions", "conversation", "untagged"}
    deleted = {u for u, t in truth["posts"].items() if t["deleted"]}
    public = {x["uid"] for q in j["questions"] for x in q["answers"]} | set(j["conversation"])
    assert not public & deleted
    assert c.get("/chats/musesocial-1/transcript.csv").text.startswith("uid,created_at,platform")
    assert c.get("/chats/musesocial-1/transcript.md").text.startswith("# #musesocial, week 1")
    series = c.get("/chats/series/musesocial")
    assert series.status_code == 200 and series.text.count('class="card"') == 3
    assert c.get("/chats/series/musesocial.ics").text.count("BEGIN:VEVENT") == 3


def test_editor_hides_a_post(served: Any) -> None:
    c, truth, _ = served
    uid = next(
        u
        for u, t in truth["posts"].items()
        if t["chat"] == "musesocial-1" and t["role"] == "answer" and not t["deleted"]
    )
    r = c.post(
        "/chats/musesocial-1/hide", data={"uid": uid, "hidden": "1", "csrf": "x"}, follow_redirects=False
    )
    assert r.status_code == 401
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    room = c.get("/chats/musesocial-1").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', room).group(1)  # type: ignore[union-attr]
    assert (
        c.post("/chats/musesocial-1/hide", data={"uid": uid, "hidden": "1", "csrf": "bad"}).status_code == 403
    )
    r = c.post(
        "/chats/musesocial-1/hide", data={"uid": uid, "hidden": "1", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "hidden from the public" in c.get("/chats/musesocial-1/room").text  # editors still see it
    c.cookies.clear()
    room = c.get("/chats/musesocial-1/room").text
    assert f'data-uid="{uid}"' in room and "post hidden by the editors" in room
    j = c.get("/chats/musesocial-1/transcript.json").json()
    assert uid not in {x["uid"] for q in j["questions"] for x in q["answers"]}
    from salon.campaigns.chat_store import hidden_log

    arc = c.app.state.svc.reader()  # type: ignore[attr-defined]
    log = hidden_log(arc, "musesocial-1")
    assert log[0]["uid"] == uid and log[0]["by_user"] == "ed" and log[0]["hidden"] is True
    assert json.dumps(log, default=str)


def test_web_editor_edits_chats(served: Any) -> None:
    c, _, _ = served
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    form = c.get("/edit/new")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    toml = """[campaign]
name = "Ask a curator"
slug = "askacurator"
timezone = "Europe/Paris"
start = 2030-09-01
end = 2030-09-30
hashtags = ["AskACurator"]

[[chats]]
slug = "askacurator-2030"
hashtag = "AskACurator"
start = 2030-09-18T14:00:00
minutes = 60
hosts = ["mastodon:curator@museum.example", "bluesky:curator.example"]
questions = ["%s", "What do you keep in the stores?"]
post_questions = ["bluesky"]
"""
    bad = c.post("/edit/new", data={"toml": toml % ("é" * 290), "csv": "", "csrf": csrf})
    assert bad.status_code == 422 and "chats[1].questions[1]: too long for bluesky" in bad.text
    ok = c.post(
        "/edit/new",
        data={"toml": toml % "Which object would you save first?", "csv": "", "csrf": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = c.get("/chats/askacurator-2030")
    assert page.status_code == 200 and "Which object would you save first?" in page.text
    assert "14:00" in page.text and "Europe/Paris" in page.text  # the campaign's zone
    exported = c.get("/edit/askacurator/campaign.toml").text
    assert "[[chats]]" in exported and 'slug = "askacurator-2030"' in exported
    c.cookies.clear()
