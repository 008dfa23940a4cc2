"""The ASGI app (``create_app``) and the server (``serve``) behind ``salon serve``.

>>> from salon.web.app import create_app, serve
>>> app = create_app("salon.duckdb")          # doctest: +SKIP  (any ASGI server can run it)
>>> serve("salon.duckdb", port=8000)          # doctest: +SKIP  (what `salon serve` does)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from salon import __version__
from salon.store.archive import default_archive_path
from salon.web import api, chat_pages, editor, explorer, ingest, pages, stories
from salon.web.deps import HERE, render
from salon.web.replay import Replay
from salon.web.service import ArchiveService

__all__ = ["CSP", "create_app", "serve"]

log = logging.getLogger("salon.web")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self';"
    " frame-ancestors 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


_CSP_EMBED = CSP.replace("frame-ancestors 'self'", "frame-ancestors *")


class SecurityHeaders:
    """Pure ASGI middleware adding CSP and friends to every response (cheaper than
    ``BaseHTTPMiddleware`` on the hot path). The embeddable widget may be framed anywhere."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        # the widget and published stories (/s/<slug>/: no script, CSP of their own) may be framed
        embed = path.startswith(("/embed/", "/s/"))
        extra = [
            (b"content-security-policy", (_CSP_EMBED if embed else CSP).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if not embed:
            extra.append((b"x-frame-options", b"SAMEORIGIN"))
        if path.startswith("/static/"):
            extra.append((b"cache-control", b"public, max-age=3600"))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    archive: str | None = None, *, service: ArchiveService | None = None, local_token: str | None = None
) -> FastAPI:
    """The web app over ``archive`` (or an already built ``service``). The service starts and
    stops with the app's lifespan when the app built it."""
    own = service is None
    svc = service or ArchiveService(archive or default_archive_path())
    if explorer.refresh_search not in svc.hooks:
        svc.hooks.append(explorer.refresh_search)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if own:
            svc.start()
        yield
        if own:
            svc.close()

    app = FastAPI(
        title="Salon",
        version=__version__,
        description="Live campaign tallies and the archive explorer. Public GETs are read-only; writes need an "
        "editor's session (with X-CSRF-Token) or an API token (Authorization: Bearer ...).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.svc = svc
    app.state.local_token = local_token
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(ingest.router)
    app.include_router(stories.router)  # before editor: /edit/stories is not a campaign slug
    app.include_router(editor.router)
    app.include_router(chat_pages.router)
    app.include_router(pages.router)

    app.add_middleware(SecurityHeaders)

    def _wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        code = (
            exc.status_code
            if exc.status_code in (401, 403, 404, 429)
            else 500
            if exc.status_code >= 500
            else 400
        )
        if code == 401:
            from urllib.parse import quote

            target = "/login?next=" + quote(request.url.path)
            return render(request, "error.html", 401, code=401, detail=exc.detail, login=target)
        return render(request, "error.html", exc.status_code, code=code, detail=exc.detail, login=None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        return render(request, "error.html", 400, code=400, detail=str(exc.errors()[:1]), login=None)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("error on %s", request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return render(request, "error.html", 500, code=500, detail=None, login=None)

    return app


def serve(
    archive: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    replay: list[str] | None = None,
    replay_rate: float = 200.0,
    on_ready: Callable[[str], Any] | None = None,
    log_level: str = "warning",
) -> None:
    """Run the server until interrupted. Holds the archive, advertises itself in
    ``<archive>.serve.json`` so ``salon import`` streams to it, and optionally replays files
    (``replay``, ``replay_rate`` records/s) into the archive. ``on_ready(url)`` is called once
    the server listens (the demo opens a browser there)."""
    import socket

    import uvicorn

    path = archive or default_archive_path()
    svc = ArchiveService(path)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small responses without Nagle delays
    sock.bind((host, port))
    port = sock.getsockname()[1]
    info = ingest.write_server_file(path, host, port)
    app = create_app(service=svc, local_token=info["token"])
    svc.start()
    rep = Replay(svc, replay, replay_rate).start() if replay else None
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    url = f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}"
    if on_ready is not None:
        orig_startup = server.startup

        async def startup(sockets: Any = None) -> None:
            await orig_startup(sockets=sockets)
            on_ready(url)

        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        if rep is not None:
            rep.stop()
        ingest.remove_server_file(path)
        svc.close()
