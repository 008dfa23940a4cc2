"""Mastodon's streaming API over WebSocket on 127.0.0.1 (``/api/v1/streaming``), replaying the
recorded statuses of ../shared (mastodon-py) as Mastodon's streaming server sends them.

The token must come in the ``Authorization`` header (else 401 before the upgrade). A client
subscribes with ``{"type": "subscribe", "stream": "hashtag", "tag": ...}`` messages (an unknown
stream gets ``{"error": ...}``). ``push(event, status_text)`` sends, to each connection, one
``{"stream": ["hashtag", tag], "event", "payload"}`` message per subscribed hashtag the status
carries (the payload: the status JSON text; for ``delete``, pass the id and its tags);
``drop()`` aborts every connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response


class MastodonStreamingServer:
    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.subscriptions: list[tuple[int, str]] = []  # (connection number, tag) in order
        self.messages: list[dict[str, Any]] = []  # every message clients sent
        self.connections = 0
        self.refused = 0
        self.auth: list[str | None] = []
        self.paths: list[str] = []
        self._live: dict[ServerConnection, set[str]] = {}
        self.port = 0

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> MastodonStreamingServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    async def _start(self) -> None:
        self.server = await serve(self._handler, "127.0.0.1", 0, process_request=self._check)
        self.port = self.server.sockets[0].getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _check(self, _conn: ServerConnection, request: WsRequest) -> Response | None:
        self.auth.append(request.headers.get("Authorization"))
        self.paths.append(request.path)
        if request.path.split("?")[0] != "/api/v1/streaming":
            return Response(404, "Not Found", Headers([("Content-Length", "0")]), b"")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused += 1
            body = b'{"error":"The access token is invalid"}'
            return Response(401, "Unauthorized", Headers([("Content-Length", str(len(body)))]), body)
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        n = self.connections
        tags: set[str] = set()
        self._live[ws] = tags
        try:
            async for msg in ws:
                obj = json.loads(msg)
                self.messages.append(obj)
                if obj.get("type") == "subscribe" and obj.get("stream") == "hashtag":
                    tags.add(str(obj["tag"]).casefold())
                    self.subscriptions.append((n, str(obj["tag"])))
                elif obj.get("type") == "subscribe":
                    await ws.send(json.dumps({"error": "Unknown stream type"}))
        except Exception:
            return
        finally:
            self._live.pop(ws, None)

    def push(self, event: str, payload: str, tags: list[str] | None = None) -> None:
        """Send ``payload`` (a status text, or a deleted id with its ``tags``) as ``event``."""
        names = tags if tags is not None else [t["name"] for t in json.loads(payload).get("tags") or ()]

        async def go() -> None:
            for ws, subscribed in list(self._live.items()):
                for name in names:
                    if name.casefold() in subscribed:
                        await ws.send(
                            json.dumps({"stream": ["hashtag", name], "event": event, "payload": payload})
                        )

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)

    def drop(self) -> None:
        def go() -> None:
            for ws in list(self._live):
                ws.transport.abort()

        self.loop.call_soon_threadsafe(go)
