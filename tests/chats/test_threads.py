"""`salon chat threads`: the reply threads under question posts are fetched (Mastodon status
context, Bluesky getPostThread, X search on conversation_id) from local servers replaying
recorded real payloads (../shared/corpora), stored raw with their URL, and the replies without
the chat's hashtag come out *untagged*, never as answers."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from salon.campaigns.chat_answers import chat_assignment
from salon.campaigns.chat_store import record_intent, update_intent
from salon.campaigns.chats import Chat
from salon.collect.chat_threads import fetch_threads
from salon.collect.credentials import Secret
from salon.importer import import_paths
from salon.store.archive import Archive, open_archive
from tests.conftest import corpus_path, twarc


class Replay:
    """Serves ``routes[path]`` (bytes exactly as recorded, JSON framing only) and records requests."""

    def __init__(self, routes: dict[str, bytes]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, dict[str, list[str]], str]] = []
        app = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                u = urlsplit(self.path)
                app.seen.append((u.path, parse_qs(u.query), self.headers.get("Authorization", "")))
                body = app.routes.get(u.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                data = body if body is not None else b'{"error": "not found"}'
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _chat_on(arc: Archive, root_uid: str, platform: str, created: datetime | None = None) -> Chat:
    created = created or arc.scalar("SELECT created_at FROM posts WHERE uid = ?", [root_uid])
    chat = Chat(
        slug=f"t-{platform}",
        hashtags=["zzsalonchattest"],
        start=created - timedelta(seconds=1),
        minutes=60 * 24 * 365 * 5,  # real replies can come years later
        hosts=[f"{platform}:somebody"],
        questions=["q"],
    )
    # As if `salon chat run` had posted question 1 as this post.
    key = f"{chat.slug}/1/{platform}/{chat.hosts[0]}"
    record_intent(arc, key, chat.slug, 1, platform, chat.hosts[0], "q")
    update_intent(arc, key, "posted", uid=root_uid, url=None)
    return chat


def test_mastodon_context(tmp_path: Path) -> None:
    src = corpus_path("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl")
    statuses = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    by_id = {s["id"]: s for s in statuses}
    root = next(by_id[s["in_reply_to_id"]] for s in statuses if s.get("in_reply_to_id") in by_id)
    replies = [s for s in statuses if s.get("in_reply_to_id") == root["id"]]
    only_root = tmp_path / "root.jsonl"
    only_root.write_text(json.dumps(root) + "\n", encoding="utf-8")
    server = Replay(
        {
            f"/api/v1/statuses/{root['id']}/context": json.dumps(
                {"ancestors": [], "descendants": replies}
            ).encode()
        }
    )
    try:
        with open_archive(tmp_path / "a.duckdb") as arc:
            import_paths([str(only_root)], arc)
            chat = _chat_on(arc, f"mastodon:{root['uri']}", "mastodon")
            assert chat_assignment(arc, chat).untagged == {}
            host = urlsplit(root["uri"]).netloc
            rep = fetch_threads(arc, chat, mastodon_base={host: server.url})
            assert rep.errors == [] and rep.requests == 1 and rep.posts_new == len(replies)
            a = chat_assignment(arc, chat)
            assert set(a.untagged) == {f"mastodon:{s['uri']}" for s in replies}
            assert not a.answers
            src_url = arc.scalar("SELECT source FROM raw ORDER BY received_at DESC LIMIT 1")
            assert src_url == f"{server.url}/api/v1/statuses/{root['id']}/context"
    finally:
        server.close()


def test_x_conversation_search(tmp_path: Path) -> None:
    path = twarc("withheld.jsonl")
    pages = path.read_text(encoding="utf-8").splitlines()
    tweets = [t for line in pages for t in json.loads(line).get("data", [])]
    ids = {t["id"] for t in tweets}
    from collections import Counter

    conv = Counter(
        t["conversation_id"]
        for t in tweets
        if t["conversation_id"] != t["id"] and t["conversation_id"] in ids
    )
    root_id = conv.most_common(1)[0][0]
    page = next(
        line
        for line in pages
        if any(t.get("conversation_id") == root_id for t in json.loads(line).get("data", []))
    )
    root = next(t for t in tweets if t["id"] == root_id)
    only_root = tmp_path / "root.jsonl"
    only_root.write_text(
        json.dumps({"data": [root], "includes": json.loads(page).get("includes", {})}) + "\n",
        encoding="utf-8",
    )
    server = Replay({"/2/tweets/search/recent": page.encode()})
    try:
        with open_archive(tmp_path / "a.duckdb") as arc:
            import_paths([str(only_root)], arc)
            chat = _chat_on(arc, f"x:{root_id}", "x")
            rep = fetch_threads(arc, chat, x_api=server.url, x_token=Secret("bearer-x"))
            # The recorded page names a next page; the replay serves the same page again, whose
            # token repeats: the fetch stops there instead of going round.
            assert rep.errors == [] and rep.requests == 2
            assert server.seen[1][1]["next_token"] == [json.loads(page)["meta"]["next_token"]]
            (_, query, auth) = server.seen[0]
            assert query["query"] == [f"conversation_id:{root_id}"] and auth == "Bearer bearer-x"
            want = {
                f"x:{t['id']}"
                for t in json.loads(page)["data"]
                if t.get("conversation_id") == root_id and t["id"] != root_id
            }
            assert want and set(chat_assignment(arc, chat).untagged) >= want
    finally:
        server.close()


def test_bluesky_get_post_thread(tmp_path: Path) -> None:
    src = corpus_path(
        "atproto-python",
        "tests",
        "test_atproto_client",
        "models",
        "test_data",
        "thread_view_post_with_embed_media.json",
    )
    body = src.read_bytes()
    anchor = json.loads(body)["thread"]["post"]
    server = Replay({"/xrpc/app.bsky.feed.getPostThread": body})
    try:
        with open_archive(tmp_path / "a.duckdb") as arc:
            # Salon posted the question; the archive has not collected it yet: the thread fetch
            # brings the post itself (the anchor of the thread view).
            uid = f"bluesky:{anchor['uri']}"
            chat = _chat_on(
                arc, uid, "bluesky", created=datetime.fromisoformat(anchor["record"]["createdAt"])
            )
            assert chat_assignment(arc, chat).questions[0].uid is None
            rep = fetch_threads(arc, chat, bluesky_appview=server.url)
            assert rep.errors == [] and rep.requests == 1
            (_, query, _) = server.seen[0]
            assert query["uri"] == [anchor["uri"]] and query["depth"] == ["1000"]
            assert arc.scalar("SELECT count(*) FROM raw WHERE source LIKE ?", [server.url + "%"]) == 1
            assert chat_assignment(arc, chat).questions[0].uid == uid
    finally:
        server.close()
