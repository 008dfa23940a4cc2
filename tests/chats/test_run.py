"""`salon chat run`: exact payloads on each platform, Bluesky facets in UTF-8 bytes with accents
and emoji, retries that check the host's timeline first, and no double post across a kill -9
of the runner (local servers recording every request)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.chat_store import intents
from salon.campaigns.chats import Chat, question_text
from salon.collect.chat_post import BlueskyPoster, MastodonPoster, Poster, XPoster, bluesky_facets
from salon.collect.chat_run import run_chat
from salon.collect.credentials import Secret
from salon.store.archive import open_archive
from tests.chats.post_servers import BlueskyStandIn, MastodonStandIn, XStandIn
from tests.chats.run_campaign import posting_env, run_archive

SALON = str(Path(sys.executable).with_name("salon"))
QUESTIONS = [
    "Qu'en pensez-vous, au musée 🎨 ? Voir https://exemple.fr/été",
    "Which platform works best? 👩‍👩‍👧",
]


def test_facets_are_utf8_byte_offsets() -> None:
    text = "Q1 Café 🎨 et #muséeSocial, voir https://exemple.fr/été #musesocial"
    facets = bluesky_facets(text)
    raw = text.encode()
    got = [(raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0]) for f in facets]
    assert got == [
        ("#muséeSocial", {"$type": "app.bsky.richtext.facet#tag", "tag": "muséeSocial"}),
        (
            "https://exemple.fr/été",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://exemple.fr/été"},
        ),
        ("#musesocial", {"$type": "app.bsky.richtext.facet#tag", "tag": "musesocial"}),
    ]
    # Byte offsets, not characters: "é" is 2 bytes, the emoji 4 (13 characters, 17 bytes).
    assert text.index("#muséeSocial") == 13 and facets[0]["index"]["byteStart"] == 17


def _chat(start: datetime) -> Chat:
    return Chat(
        slug="ms-run",
        hashtags=["musesocial"],
        start=start,
        minutes=60,
        hosts=["x:erinhost", "mastodon:erin@museum.example", "bluesky:erin.test"],
        questions=QUESTIONS,
        question_minutes=[0, 10],
        post_questions=["mastodon", "bluesky", "x"],
    )


@pytest.fixture
def servers() -> Any:
    s = (MastodonStandIn(fail_first=1), BlueskyStandIn(), XStandIn())
    yield s
    for x in s:
        x.close()


def test_run_posts_each_question_once_with_exact_payloads(tmp_path: Path, servers: Any) -> None:
    m, b, x = servers
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    chat = _chat(start)
    clock = [datetime.now(UTC)]
    slept: list[float] = []

    def sleep(s: float) -> None:  # a clock that jumps instead of waiting
        slept.append(s)
        clock[0] += timedelta(seconds=s)

    posters: dict[str, Poster] = {
        "mastodon": MastodonPoster(m.url, Secret("m-token")),
        "bluesky": BlueskyPoster(b.url, "erin.test", Secret("app-pass")),
        "x": XPoster(x.url, Secret("x-user-token")),
    }
    with open_archive(tmp_path / "a.duckdb") as arc:
        report = run_chat(arc, chat, posters, now=lambda: clock[0], sleep=sleep)
        assert len(report.posted) == 6 and not report.failed
        # Question 2 waited for its time (10 minutes after the start).
        assert any(
            abs(s - ((start + timedelta(minutes=10)) - (start + timedelta(minutes=1))).total_seconds()) < 120
            for s in slept
        )
        again = run_chat(arc, chat, posters, now=lambda: clock[0], sleep=sleep)
        assert again.posted == [] and len(again.already) == 6
        rows = intents(arc, "ms-run")
    assert {r["state"] for r in rows} == {"posted"}
    texts = [question_text(chat, 1), question_text(chat, 2)]
    assert texts[0] == f"Q1 {QUESTIONS[0]} #musesocial"

    # Mastodon: the first POST got a 503; the retry checked the timeline, then posted once, with
    # the same Idempotency-Key.
    posts = m.posts_of()
    assert [p.body for p in posts] == [
        {"status": texts[0], "visibility": "public"},
        {"status": texts[0], "visibility": "public"},
        {"status": texts[1], "visibility": "public"},
    ]
    assert (
        posts[0].headers["idempotency-key"]
        == posts[1].headers["idempotency-key"]
        != posts[2].headers["idempotency-key"]
    )
    assert posts[0].headers["authorization"] == "Bearer m-token"
    gets = [r.path for r in m.requests if r.method == "GET"]
    assert gets == ["/api/v1/accounts/verify_credentials", "/api/v1/accounts/1090/statuses"]
    assert len(m.posts) == 2

    # Bluesky: a session, then one createRecord per question with tag and link facets.
    creates = [r for r in b.posts_of() if r.path.endswith("createRecord")]
    assert len(creates) == 2 and len(b.records) == 2
    rec = creates[0].body
    assert rec["repo"] == b.did and rec["collection"] == "app.bsky.feed.post" and len(rec["rkey"]) == 13
    assert rec["record"]["text"] == texts[0] and rec["record"]["$type"] == "app.bsky.feed.post"
    raw = texts[0].encode()
    spans = [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in rec["record"]["facets"]]
    assert spans == ["https://exemple.fr/été", "#musesocial"]
    assert creates[0].headers["authorization"] == "Bearer jwt-a"

    # X: exactly the text, with the user-context token.
    assert [p.body for p in x.posts_of()] == [{"text": texts[0]}, {"text": texts[1]}]
    assert x.posts_of()[0].headers["authorization"] == "Bearer x-user-token"


def test_no_double_post_across_kill_9(tmp_path: Path) -> None:
    servers = [MastodonStandIn(hold=60), BlueskyStandIn(hold=60), XStandIn(hold=60)]
    m, b, x = servers
    try:
        archive = run_archive(tmp_path, m.url, b.url, x.url)
        env = {**os.environ, **posting_env(tmp_path)}
        for server in servers:
            proc = subprocess.Popen(
                [SALON, "chat", "run", "ms-kill", "-a", str(archive)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            # Kill -9 while the first post is made on this platform but its answer has not come back.
            assert server.posted_event.wait(60), proc.communicate(timeout=5)[0]
            time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            server.hold = 0  # from now on the platform answers at once
        done = subprocess.run(
            [SALON, "chat", "run", "ms-kill", "-a", str(archive)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "already on" in done.stdout
        for server in servers:
            made = [p for p in server.posts]
            assert len(made) == 2, (type(server).__name__, made)  # one post per question, never two
        with open_archive(archive, read_only=True) as arc:
            rows = intents(arc, "ms-kill")
        assert len(rows) == 6 and {r["state"] for r in rows} == {"posted"}
        assert all(r["uid"] for r in rows)
    finally:
        for s in servers:
            s.close()
