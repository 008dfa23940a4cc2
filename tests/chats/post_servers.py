"""Local stand-ins (127.0.0.1, ephemeral port) for the endpoints `salon chat run` posts to,
recording every request. Each behaves as the platform documents it: Mastodon answers a repeated
``Idempotency-Key`` with the status it already made; a Bluesky PDS refuses a second record with
the same key; X makes a new tweet for every POST (so only the runner's own care prevents a
double post there). ``hold`` keeps the answer to the first POST back for that many seconds
(the post is made at once): the window in which a test kills the runner."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class PostServer:
    hold: float = 0.0
    fail_first: int = 0  # answer the first N POSTs with 503 (without making a post)
    requests: list[Seen] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    idem: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted_event: threading.Event = field(default_factory=threading.Event)
    _held: bool = False
    _failed: int = 0

    def __post_init__(self) -> None:
        app = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _go(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                body = json.loads(raw) if raw else None
                seen = Seen(
                    method, u.path, parse_qs(u.query), {k.lower(): v for k, v in self.headers.items()}, body
                )
                app.requests.append(seen)
                status, out = app.route(seen)
                data = json.dumps(out).encode()
                if method == "POST" and app.hold and not app._held and status == 200 and app.posts:
                    app._held = True
                    app.posted_event.set()
                    time.sleep(app.hold)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def posts_of(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    def route(self, r: Seen) -> tuple[int, Any]:
        if r.method == "POST" and self._failed < self.fail_first and not r.path.endswith("createSession"):
            self._failed += 1
            return 503, {"error": "unavailable"}
        return self.handle(r)

    def handle(self, r: Seen) -> tuple[int, Any]:
        raise NotImplementedError


class MastodonStandIn(PostServer):
    def handle(self, r: Seen) -> tuple[int, Any]:
        if r.path == "/api/v1/accounts/verify_credentials":
            return 200, {"id": "1090", "username": "erin", "acct": "erin"}
        if r.path == "/api/v1/accounts/1090/statuses":
            return 200, list(reversed(self.posts))
        if r.method == "POST" and r.path == "/api/v1/statuses":
            key = r.headers.get("idempotency-key", "")
            if key and key in self.idem:
                return 200, self.idem[key]
            n = 1100 + len(self.posts)
            text = r.body["status"]
            status = {
                "id": str(n),
                "uri": f"{self.url}/users/erin/statuses/{n}",
                "url": f"{self.url}/@erin/{n}",
                "content": "<p>" + text.replace("&", "&amp;").replace("<", "&lt;") + "</p>",
                "visibility": "public",
            }
            self.posts.append(status)
            if key:
                self.idem[key] = status
            return 200, status
        return 404, {"error": "not found"}


class BlueskyStandIn(PostServer):
    did = "did:plc:hostabcdefghijklmnop"

    def handle(self, r: Seen) -> tuple[int, Any]:
        if r.path == "/xrpc/com.atproto.server.createSession":
            return 200, {"did": self.did, "handle": "erin.test", "accessJwt": "jwt-a", "refreshJwt": "jwt-r"}
        if r.path == "/xrpc/com.atproto.repo.getRecord":
            rkey = r.query["rkey"][0]
            if rkey in self.records:
                return 200, {"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "value": self.records[rkey]}
            return 400, {"error": "RecordNotFound", "message": "Could not locate record"}
        if r.path == "/xrpc/com.atproto.repo.createRecord":
            rkey = r.body["rkey"]
            if rkey in self.records:
                return 400, {"error": "InvalidRequest", "message": "Record already exists"}
            self.records[rkey] = r.body["record"]
            self.posts.append(r.body)
            return 200, {"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "cid": "bafyreicid" + rkey}
        return 404, {"error": "not found"}


class XStandIn(PostServer):
    def handle(self, r: Seen) -> tuple[int, Any]:
        if r.path == "/2/users/me":
            return 200, {"data": {"id": "4242", "name": "Erin", "username": "erinhost"}}
        if r.path == "/2/users/4242/tweets":
            return 200, {"data": [{"id": t["id"], "text": t["text"]} for t in reversed(self.posts)]}
        if r.method == "POST" and r.path == "/2/tweets":
            t = {"id": str(1900000000000000000 + len(self.posts)), "text": r.body["text"]}
            self.posts.append(t)
            return 200, {"data": {"id": t["id"], "text": t["text"], "edit_history_tweet_ids": [t["id"]]}}
        return 404, {"title": "Not Found Error"}
