"""Real servers on 127.0.0.1 that replay recorded payloads of ``../shared/corpora`` with each
platform's paging, cursor and rate-limit semantics, plus fault injection (dropped connections,
429s, 5xx, malformed frames, stalls). The payload texts are served exactly as recorded; only
the framing (JSON array, SSE, WebSocket, zstd) is added, as each platform's server does."""

from __future__ import annotations

import inspect
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.conftest import corpus_path

# Real payload files, as paths relative to ../shared/corpora: ``lines`` finds them through
# tests/conftest.py inside a test (it skips there when ../shared is absent).
MASTODON_STATUSES = "mastodon-py/extracted/statuses_test_instance_localhost.jsonl"
JETSTREAM_EVENTS = "bluesky-jetstream/internal/corpus/testdata/expected_v1.jsonl"
JETSTREAM_GOLDEN = "bluesky-jetstream/internal/subscribe/testdata/golden_v1.jsonl"
TWARC = "docnow-twarc-csv/test-data"
ATPROTO_THREAD = "atproto-python/tests/test_atproto_client/models/test_data"


def lines(path: str | Path) -> list[str]:
    """The non-empty lines of a file: a ``str`` is a path under ../shared/corpora."""
    p = corpus_path(path) if isinstance(path, str) else path
    return [ln.rstrip("\n") for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]


# -- plain HTTP ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app: HttpApp

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.app.handle(self, "GET", b"")

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        self.app.handle(self, "POST", self.rfile.read(n) if n else b"")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    def q(self, name: str) -> str | None:
        v = self.query.get(name)
        return v[0] if v else None


class HttpApp:
    """A threaded HTTP server; subclasses implement ``route``. Faults: ``faults`` is a list of
    actions consumed one per request: an int (an error status), ``"drop"`` (close without a
    response). ``too_many`` counts the 429 responses sent (injected or not)."""

    def __init__(self) -> None:
        handler = type("H", (_Handler,), {"app": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.faults: list[int | str] = []
        self.requests: list[Request] = []
        self.too_many = 0
        self.closing = threading.Event()
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host(self) -> str:
        return self.base.split("://", 1)[1]

    def __enter__(self) -> HttpApp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, h: _Handler, method: str, body: bytes) -> None:
        parts = urlsplit(h.path)
        req = Request(
            method,
            unquote(parts.path),
            parse_qs(parts.query),
            {k.lower(): v for k, v in h.headers.items()},
            body,
        )
        with self.lock:
            self.requests.append(req)
            fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if isinstance(fault, int):
            self.send(h, fault, b'{"error":"injected"}', self.fault_headers(fault))
            return
        self.route(h, req)

    def fault_headers(self, status: int) -> dict[str, str]:
        return {}

    def route(self, h: _Handler, req: Request) -> None:
        raise NotImplementedError

    def send(
        self,
        h: _Handler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        ctype: str = "application/json; charset=utf-8",
    ) -> None:
        if status == 429:
            with self.lock:
                self.too_many += 1
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def start_stream(self, h: _Handler, ctype: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True


# -- Mastodon -----------------------------------------------------------------------------------


class MastodonServer(HttpApp):
    """Tag timelines (``max_id``/``min_id``/``since_id``, ``Link`` headers, ``X-RateLimit-*``)
    over the recorded statuses, and the hashtag SSE stream (needs ``token``).

    ``visible`` is how many statuses (oldest first) exist so far; ``reveal(n)`` makes more
    appear, as new posts do. ``stream_events`` feeds the open streams (an event, ``"heartbeat"``,
    or ``"drop"``: the stream that reads it ends); ``drop_streams()`` ends them all. ``rate_limit``: requests allowed per ``rate_window`` seconds;
    ``quota_used_up`` counts the responses that said it was used up (``X-RateLimit-Remaining: 0``,
    a 2xx for the last allowed request or a 429 after it)."""

    def __init__(
        self, statuses: list[str] | None = None, token: str = "test-token", visible: int | None = None
    ) -> None:
        super().__init__()
        texts = statuses if statuses is not None else lines(MASTODON_STATUSES)
        objs = [json.loads(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: int(objs[i]["id"]))
        self.texts = [texts[i] for i in order]
        self.objs = [objs[i] for i in order]
        self.visible = len(self.texts) if visible is None else visible
        self.token = token
        self.rate_limit: int | None = None
        self.rate_window = 1.0
        self._window_start = time.time()
        self._used = 0
        self.quota_used_up = 0
        self.page_size_cap = 40
        self.stream_events: queue.Queue[tuple[str, str] | str] = queue.Queue()
        self.stream_connections = 0
        self._stream_generation = 0

    def drop_streams(self) -> None:
        """End every stream connection open now, as a restarting server does ("drop" in
        ``stream_events`` ends only the connection that reads it)."""
        with self.lock:
            self._stream_generation += 1

    def reveal(self, n: int) -> None:
        self.visible = min(len(self.texts), self.visible + n)

    def tagged(self, tag: str) -> list[int]:
        t = tag.casefold()
        return [
            i
            for i in range(self.visible)
            if any(x.get("name", "").casefold() == t for x in self.objs[i].get("tags") or ())
        ]

    def _rate(self) -> tuple[bool, dict[str, str]]:
        if self.rate_limit is None:
            return True, {}
        now = time.time()
        if now - self._window_start >= self.rate_window:
            self._window_start, self._used = now, 0
        self._used += 1
        reset = (
            datetime.fromtimestamp(self._window_start + self.rate_window, UTC)
            .isoformat()
            .replace("+00:00", "Z")
        )
        remaining = max(0, self.rate_limit - self._used)
        if remaining == 0:
            self.quota_used_up += 1
        hdrs = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset,
        }
        return self._used <= self.rate_limit, hdrs

    def route(self, h: _Handler, req: Request) -> None:
        if req.path.startswith("/api/v1/timelines/tag/"):
            self.timeline(h, req, req.path.rsplit("/", 1)[1])
        elif req.path == "/api/v1/streaming/hashtag":
            self.stream(h, req)
        else:
            self.send(h, 404, b'{"error":"Record not found"}')

    def timeline(self, h: _Handler, req: Request, tag: str) -> None:
        with self.lock:  # handler threads run at once: count each request once
            ok, hdrs = self._rate()
        if not ok:
            self.send(h, 429, b'{"error":"Too many requests"}', hdrs)
            return
        limit = min(int(req.q("limit") or 20), self.page_size_cap)
        idx = self.tagged(tag)
        ids = {i: int(self.objs[i]["id"]) for i in idx}
        max_id, min_id, since_id = (
            int(v) if v else None for v in (req.q("max_id"), req.q("min_id"), req.q("since_id"))
        )
        cand = [i for i in idx if (max_id is None or ids[i] < max_id)]
        if min_id is not None:
            page = [i for i in cand if ids[i] > min_id][:limit]  # the oldest ones after min_id
        else:
            cand = [i for i in cand if since_id is None or ids[i] > since_id]
            page = cand[::-1][:limit]  # the newest ones
        page.sort(key=lambda i: -ids[i])
        body = ("[" + ",".join(self.texts[i] for i in page) + "]").encode()
        if page:
            url = f"{self.base}/api/v1/timelines/tag/{tag}"
            hdrs["Link"] = (
                f'<{url}?limit={limit}&max_id={ids[page[-1]]}>; rel="next", '
                f'<{url}?limit={limit}&min_id={ids[page[0]]}>; rel="prev"'
            )
        self.send(h, 200, body, hdrs)

    def stream(self, h: _Handler, req: Request) -> None:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            self.send(h, 401, b'{"error":"The access token is invalid"}')
            return
        self.start_stream(h, "text/event-stream")
        self.stream_connections += 1
        generation = self._stream_generation
        try:
            h.wfile.write(b":)\n")
            h.wfile.flush()
            while not self.closing.is_set() and self._stream_generation == generation:
                try:
                    item = self.stream_events.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item == "drop":
                    return
                if item == "heartbeat":
                    h.wfile.write(b":thump\n")
                else:
                    ev, data = item
                    h.wfile.write(f"event: {ev}\ndata: {data}\n\n".encode())
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


# -- X API v2 -------------------------------------------------------------------------------------


class XServer(HttpApp):
    """``/2/tweets/search/recent`` over the tweets of recorded twarc2 pages (newest first,
    ``since_id``, ``start_time``/``end_time``, ``next_token``), the stream rules endpoints and
    ``/2/tweets/search/stream`` replaying recorded stream lines with ``\\r\\n`` heartbeats.
    twarc's own ``__twarc`` key is removed: X does not send it."""

    def __init__(
        self, pages: list[str], stream_lines: list[str] | None = None, token: str = "x-token"
    ) -> None:
        super().__init__()
        self.token = token
        self.tweets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for p in pages:
            o = json.loads(p)
            for t in o.get("data") or ():
                self.tweets.setdefault(t["id"], (t, o.get("includes") or {}))
        self.order = sorted(self.tweets, key=int, reverse=True)
        self.page_size = 100
        self.rules: list[dict[str, str]] = []
        self.rule_seq = 100
        self.stream_lines: queue.Queue[str] = queue.Queue()
        for ln in stream_lines or ():
            self.stream_lines.put(ln)
        self.rate_reset_in = 1

    def fault_headers(self, status: int) -> dict[str, str]:
        if status == 429:
            return {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + self.rate_reset_in),
            }
        return {}

    @staticmethod
    def strip(text: str) -> str:
        o = json.loads(text)
        o.pop("__twarc", None)
        return json.dumps(o, ensure_ascii=False)

    def route(self, h: _Handler, req: Request) -> None:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            self.send(
                h, 401, b'{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}'
            )
            return
        if req.path == "/2/tweets/search/recent":
            self.search(h, req)
        elif req.path == "/2/tweets/search/stream/rules":
            self.rules_endpoint(h, req)
        elif req.path == "/2/tweets/search/stream":
            self.stream(h)
        else:
            self.send(h, 404, b"{}")

    def search(self, h: _Handler, req: Request) -> None:
        since, until = req.q("since_id"), req.q("until_id")
        start, end = req.q("start_time"), req.q("end_time")
        ids = [
            i
            for i in self.order
            if (since is None or int(i) > int(since)) and (until is None or int(i) < int(until))
        ]

        def at(i: str) -> str:
            return self.tweets[i][0].get("created_at", "")

        query = (req.q("query") or "").replace("(", " ").replace(")", " ")
        wanted = {w[1:].casefold() for w in query.split() if w.startswith("#")}

        def has_tag(i: str) -> bool:
            tags = (self.tweets[i][0].get("entities") or {}).get("hashtags") or ()
            return any(t.get("tag", "").casefold() in wanted for t in tags)

        ids = [i for i in ids if has_tag(i)]
        if start:
            ids = [i for i in ids if at(i) >= start]
        if end:
            ids = [i for i in ids if at(i) < end]
        offset = int((req.q("next_token") or "t0")[1:])
        size = min(int(req.q("max_results") or 10), self.page_size)
        page = ids[offset : offset + size]
        hdrs = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        if not page:
            self.send(h, 200, b'{"meta":{"result_count":0}}', hdrs)
            return
        inc: dict[str, list[Any]] = {}
        seen: set[tuple[str, str]] = set()
        for i in page:
            for k, items in self.tweets[i][1].items():
                for it in items:
                    key = (k, str(it.get("id") or it.get("media_key")))
                    if key not in seen:
                        seen.add(key)
                        inc.setdefault(k, []).append(it)
        meta: dict[str, Any] = {"newest_id": page[0], "oldest_id": page[-1], "result_count": len(page)}
        if offset + size < len(ids):
            meta["next_token"] = f"t{offset + size}"
        body = {"data": [self.tweets[i][0] for i in page], "includes": inc, "meta": meta}
        self.send(h, 200, json.dumps(body, ensure_ascii=False).encode(), hdrs)

    def rules_endpoint(self, h: _Handler, req: Request) -> None:
        if req.method == "GET":
            body: dict[str, Any] = {
                "meta": {"sent": datetime.now(UTC).isoformat(), "result_count": len(self.rules)}
            }
            if self.rules:
                body["data"] = self.rules
            self.send(h, 200, json.dumps(body).encode())
            return
        cmd = json.loads(req.body)
        for r in cmd.get("add") or ():
            self.rule_seq += 1
            self.rules.append({"id": str(self.rule_seq), "value": r["value"], "tag": r.get("tag", "")})
        if "delete" in cmd:
            gone = set(cmd["delete"]["ids"])
            self.rules = [r for r in self.rules if r["id"] not in gone]
        self.send(h, 200, json.dumps({"meta": {"sent": datetime.now(UTC).isoformat()}}).encode())

    def stream(self, h: _Handler) -> None:
        self.start_stream(h, "application/json")
        try:
            while not self.closing.is_set():
                try:
                    item = self.stream_lines.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item == "drop":
                    return
                if item == "heartbeat":
                    h.wfile.write(b"\r\n")
                else:
                    h.wfile.write(item.encode() + b"\r\n")
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def qs(d: dict[str, str]) -> str:
    return urlencode(d)


Wait = Callable[[], bool]


def _describe(cond: Wait) -> str:
    """The condition's source text (from ``lambda`` on), for a timeout message."""
    try:
        src = " ".join(inspect.getsource(cond).split())
    except (OSError, TypeError):
        return repr(cond)
    return src[src.find("lambda") :] if "lambda" in src else src


def eventually(
    cond: Wait, timeout: float = 10.0, every: float = 0.02, what: str | Callable[[], str] | None = None
) -> bool:
    """Wait until ``cond()`` is true; raise ``AssertionError`` naming ``what`` (or the condition's
    source) if it is still false after ``timeout`` seconds. A wait that ran out is a failure, never
    something a caller may forget to check."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(every)
    if cond():
        return True
    desc = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout:g}s waiting for {desc or _describe(cond)}")


# -- Bluesky auth + searchPosts -----------------------------------------------------------------


class BlueskyServer(HttpApp):
    """``createSession``/``refreshSession`` (an access token expires after ``uses_per_token``
    requests: ``400 ExpiredToken``, as the PDS answers) and ``app.bsky.feed.searchPosts`` pages
    made of the recorded post view (``{"posts": [...], "cursor"}``, the lexicon's output)."""

    def __init__(self, handle: str = "museum.test", password: str = "app-pass-1234") -> None:
        super().__init__()
        self.user, self.password = handle, password
        thread = json.loads(
            corpus_path(ATPROTO_THREAD, "thread_view_post_with_embed_media.json").read_text(encoding="utf-8")
        )
        self.post_view = thread["thread"]["post"]
        self.uses_per_token = 3
        self.created = self.refreshed = 0
        self._n = 0
        self.access: str | None = None
        self.refresh: str | None = None
        self.uses = 0
        self.searches: list[Request] = []

    def _issue(self) -> bytes:
        self._n += 1
        self.access, self.refresh, self.uses = f"acc-{self._n}", f"ref-{self._n}", 0
        return json.dumps(
            {"accessJwt": self.access, "refreshJwt": self.refresh, "handle": self.user, "did": "did:plc:test"}
        ).encode()

    def route(self, h: _Handler, req: Request) -> None:
        auth = req.headers.get("authorization", "")
        if req.path == "/xrpc/com.atproto.server.createSession":
            body = json.loads(req.body)
            if body.get("identifier") != self.user or body.get("password") != self.password:
                self.send(
                    h, 401, b'{"error":"AuthenticationRequired","message":"Invalid identifier or password"}'
                )
                return
            self.created += 1
            self.send(h, 200, self._issue())
        elif req.path == "/xrpc/com.atproto.server.refreshSession":
            if auth != f"Bearer {self.refresh}":
                self.send(h, 400, b'{"error":"ExpiredToken","message":"Token has expired"}')
                return
            self.refreshed += 1
            self.send(h, 200, self._issue())
        elif req.path == "/xrpc/app.bsky.feed.searchPosts":
            if auth != f"Bearer {self.access}" or self.uses >= self.uses_per_token:
                self.send(h, 400, b'{"error":"ExpiredToken","message":"Token has expired"}')
                return
            self.uses += 1
            self.searches.append(req)
            if req.q("cursor"):
                self.send(h, 200, b'{"posts":[]}', {"ratelimit-limit": "3000", "ratelimit-remaining": "2999"})
            else:
                page = {"posts": [self.post_view], "cursor": "1"}
                self.send(h, 200, json.dumps(page, ensure_ascii=False).encode())
        else:
            self.send(h, 404, b'{"error":"MethodNotImplemented"}')


# -- Bluesky getProfiles --------------------------------------------------------------------------


class ProfilesServer(HttpApp):
    """``app.bsky.actor.getProfiles`` as the AppView answers it: ``{"profiles": [...]}``, one per
    known actor (unknown ones left out), at most 25 actors per call (more: ``400 InvalidRequest``,
    the lexicon's maxLength). Each profile is the recorded profile view of atproto's test data
    (the thread's post author: did, handle, displayName, avatar, associated, viewer, labels,
    createdAt) with the asked DID and the name ``names`` gives it (default: derived from the
    DID). ``rate_limited``: that many next calls answer 429 with Bluesky's ``ratelimit-*``
    headers, the reset one second away."""

    def __init__(
        self, names: dict[str, tuple[str, str]] | None = None, unknown: set[str] | None = None
    ) -> None:
        super().__init__()
        thread = json.loads(
            corpus_path(ATPROTO_THREAD, "thread_view_post_with_embed_media.json").read_text(encoding="utf-8")
        )
        self.recorded = thread["thread"]["post"]["author"]
        self.names = names or {}
        self.unknown = unknown or set()
        self.rate_limited = 0
        self.calls: list[list[str]] = []

    def name(self, did: str) -> tuple[str, str]:
        short = did.rsplit(":", 1)[-1][:10]
        return self.names.get(did, (f"{short}.bsky.social", f"Museum {short}"))

    def route(self, h: Any, req: Request) -> None:
        if req.path != "/xrpc/app.bsky.actor.getProfiles":
            self.send(h, 404, b'{"error":"MethodNotImplemented"}')
            return
        actors = req.query.get("actors", [])
        if self.rate_limited:
            self.rate_limited -= 1
            reset = str(int(time.time()) + 1)
            headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": reset}
            self.send(h, 429, b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}', headers)
            return
        if not actors or len(actors) > 25:
            self.send(h, 400, b'{"error":"InvalidRequest","message":"actors must have 1 to 25 items"}')
            return
        self.calls.append(actors)
        profiles = []
        for did in actors:
            if did in self.unknown:
                continue
            p = json.loads(json.dumps(self.recorded))
            p["did"] = did
            p["handle"], p["displayName"] = self.name(did)
            p["avatar"] = p["avatar"].replace(self.recorded["did"], did)
            profiles.append(p)
        self.send(h, 200, json.dumps({"profiles": profiles}, ensure_ascii=False).encode())
