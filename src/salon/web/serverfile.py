"""The file a running ``salon serve`` leaves beside its archive (``<archive>.serve.json``: pid,
URL, token), and the check that it still answers. Apart from the ingest routes
(``salon.web.ingest``) because every read command looks for it first: reading it must not load
FastAPI and the web app into each CLI start-up."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salon import __version__

__all__ = [
    "PROBE_TIMEOUT",
    "TOKEN_HEADER",
    "ServerFile",
    "read_server_file",
    "remove_server_file",
    "server_file_path",
    "write_server_file",
]

TOKEN_HEADER = "x-salon-local-token"


def server_file_path(archive: str) -> Path:
    return Path(str(archive) + ".serve.json")


ServerFile = dict[str, Any]


def write_server_file(archive: str, host: str, port: int) -> ServerFile:
    """Advertise the running server beside the archive (mode 0600: only this user may read the
    token). Returns what was written."""
    info: ServerFile = {
        "pid": os.getpid(),
        "url": f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}",
        "token": secrets.token_urlsafe(32),
        "archive": str(Path(archive).resolve()),
        "started_at": datetime.now(UTC).isoformat(),
        "salon_version": __version__,
    }
    path = server_file_path(archive)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2)
    os.replace(tmp, path)
    return info


def remove_server_file(archive: str) -> None:
    """Remove the file if this process wrote it."""
    path = server_file_path(archive)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


PROBE_TIMEOUT = 3.0  # seconds a live server has to answer the probe


def read_server_file(archive: str, *, probe: bool = True) -> ServerFile | None:
    """The advertised server of ``archive`` if it is there, else None.

    There means: the file names a live process and (with ``probe``) a server at its URL answers
    with its token. A file left behind by a server killed with -9 whose pid now belongs to
    another process (a container's PID 1 is always alive) is then treated as absent, and the
    command opens the archive itself (DuckDB's lock still refuses it if a hung server holds it)."""
    path = server_file_path(archive)
    try:
        info: ServerFile = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        url, token = str(info["url"]), str(info["token"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if probe and not _answers(url, token):
        return None
    return info


def _answers(url: str, token: str) -> bool:
    import httpx

    try:
        r = httpx.get(
            f"{url}/api/local/ping", headers={TOKEN_HEADER: token}, timeout=PROBE_TIMEOUT, trust_env=False
        )
    except (httpx.HTTPError, ValueError):
        return False
    return r.status_code == 200
