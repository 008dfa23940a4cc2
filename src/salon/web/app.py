"""The ASGI app (``create_app``) and the server (``serve``) behind ``salon serve``.

>>> from salon.web.app import create_app, serve
>>> app = create_app("salon.duckdb")          # doctest: +SKIP  (any ASGI server can run it)
>>> serve("salon.duckdb", port=8000)          # doctest: +SKIP  (what `salon serve` does)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from salon import __version__
from salon.store.archive import default_archive_path
from salon.web import (
    api,
    chat_pages,
    editor,
    explorer,
    ingest,
    pages,
    report_pages,
    reports,
    served,
    stories,
    trust,
)
from salon.web.deps import HERE, render
from salon.web.hardening import BodyLimit, SecurityHeaders
from salon.web.replay import Replay
from salon.web.service import ArchiveService

__all__ = ["create_app", "serve"]

log = logging.getLogger("salon.web")


def create_app(
    archive: str | None = None,
    *,
    service: ArchiveService | None = None,
    local_token: str | None = None,
    frame_ancestors: list[str] | None = None,
) -> FastAPI:
    """The web app over ``archive`` (or an already built ``service``). The service starts and
    stops with the app's lifespan when the app built it. ``frame_ancestors``: the sites that may
    frame the embed and wall pages (CSP source expressions; default ``$SALON_FRAME_ANCESTORS``,
    space-separated, else any site); every other page may not be framed."""
    import os

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
    app.include_router(served.router)
    app.include_router(stories.router)  # before editor: /edit/stories is not a campaign slug
    app.include_router(editor.router)
    app.include_router(reports.router)
    app.include_router(report_pages.router)
    app.include_router(chat_pages.router)
    app.include_router(trust.router)
    app.include_router(pages.router)

    # Outermost first: bodies are bounded before anything (routes, authentication) reads them.
    fa = (
        frame_ancestors
        if frame_ancestors is not None
        else os.environ.get("SALON_FRAME_ANCESTORS", "*").split()
    )
    app.add_middleware(SecurityHeaders, frame_ancestors=fa)
    app.add_middleware(BodyLimit)

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
        # Where and why, without echoing the input (it may be bytes, or not JSON-serialisable).
        errors = [
            {k: v for k, v in e.items() if k in ("loc", "msg", "type")}
            for e in exc.errors()
            if isinstance(e, dict)
        ]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        return render(request, "error.html", 400, code=400, detail=str(errors[:1]), login=None)

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
    rep = None
    with _stop_on_sigterm():
        info = ingest.write_server_file(path, host, port)
        try:
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
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # Ctrl-C or SIGTERM: uvicorn has shut down gracefully; a stop, not an error
        finally:
            if rep is not None:
                rep.stop()
            ingest.remove_server_file(path)
            svc.close()


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (``kill``, ``docker stop``, systemd) stops the server as Ctrl-C does.

    uvicorn catches both signals, shuts down, then re-raises the signal it caught against the
    handler that was in place before it started. Python's default for SIGTERM ends the process
    at once (exit 143), skipping the clean-up (``<archive>.serve.json`` stayed behind); this
    handler turns it into the KeyboardInterrupt that SIGINT gives, so both take the same path."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
