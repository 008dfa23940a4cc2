"""``salon media fetch`` against a real HTTP server on 127.0.0.1: images land in the
content-addressed store, a 429 is waited out, a kill -9 loses nothing and the next run
fetches only the rest, a broken image keeps its placeholder with the alt text."""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from salon.collect.media import fetch_media, media_targets
from salon.publish.stories.publish import publish
from salon.store.archive import open_archive
from salon.store.media import MediaStore, media_dir
from tests.collect.servers import HttpApp
from tests.publish.conftest import SALON


def png(seed: int) -> bytes:
    """A real 8x8 PNG of one colour (distinct per seed)."""
    raw = b"".join(b"\x00" + bytes([seed % 256, (seed * 7) % 256, (seed * 13) % 256]) * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class MediaServer(HttpApp):
    """/img/N.png: an image; /broken/N.png: an HTML error page served as 200; anything else 404.
    ``delay`` seconds before each answer; a 429 fault says Retry-After: 1."""

    delay = 0.0

    def __init__(self) -> None:
        super().__init__()
        # the killed client leaves broken pipes behind: expected, not worth a traceback
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def fault_headers(self, status: int) -> dict[str, str]:
        return {"Retry-After": "1"} if status == 429 else {}

    def route(self, h: Any, req: Any) -> None:
        if self.delay:
            time.sleep(self.delay)
        if req.path.startswith("/img/"):
            n = int(req.path.rsplit("/", 1)[1].split(".")[0])
            self.send(h, 200, png(n), ctype="image/png")
        elif req.path.startswith("/ext/"):  # any other host's file (LocalOnly below): an image
            self.send(h, 200, png(zlib.crc32(req.path.encode())), ctype="image/png")
        elif req.path.startswith("/broken/"):
            self.send(h, 200, b"<html>oops</html>", ctype="image/png")
        else:
            self.send(h, 404, b"not found", ctype="text/plain")


class LocalOnly(httpx.AsyncBaseTransport):
    """Sends every request to the local server instead (``/ext/<host>/<path>``): the avatar URLs
    read from the raw records name the platforms' hosts, which no test may reach."""

    def __init__(self, base: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.base = httpx.URL(base)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != self.base.host:
            request.url = self.base.copy_with(path=f"/ext/{request.url.host}{request.url.path}")
            request.headers["host"] = self.base.netloc.decode()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _point_media_at(arc_path: Path, base: str, broken: int = 0, gone: int = 0) -> list[tuple[str, str]]:
    """Point every medium of the archive at the local server (test set-up), the first
    ``broken`` at a broken image and the next ``gone`` at a 404. Returns the targets."""
    with open_archive(arc_path) as arc:
        rows = arc.query("SELECT DISTINCT url FROM post_media WHERE url IS NOT NULL ORDER BY url")
        for n, (url,) in enumerate(rows):
            kind = "broken" if n < broken else "gone" if n < broken + gone else "img"
            arc.con.execute(
                "UPDATE post_media SET url = ?, preview_url = NULL WHERE url = ?",
                [f"{base}/{kind}/{n}.png", url],
            )
        return media_targets(arc, avatars=False)


def test_fetch_429_broken_and_placeholder(demo_story: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, uids = demo_story
    with MediaServer() as srv:
        _point_media_at(path, srv.base)
        with open_archive(path) as arc:
            # one medium of the story with a description is broken, one is gone (404)
            uid, pos, alt = arc.query(
                "SELECT uid, position, alt_text FROM post_media WHERE uid IN (SELECT unnest(?))"
                " AND alt_text IS NOT NULL ORDER BY uid, position LIMIT 1",
                [uids],
            )[0]
            arc.con.execute(
                "UPDATE post_media SET url = ? WHERE uid = ? AND position = ?",
                [f"{srv.base}/broken/1.png", uid, pos],
            )
            uid2, pos2 = arc.query(
                "SELECT uid, position FROM post_media WHERE uid IN (SELECT unnest(?)) AND uid <> ? ORDER BY uid LIMIT 1",
                [uids, uid],
            )[0]
            arc.con.execute(
                "UPDATE post_media SET url = ? WHERE uid = ? AND position = ?",
                [f"{srv.base}/gone/2.png", uid2, pos2],
            )
            targets = media_targets(arc, story="day-one", avatars=False)
        srv.faults = [429]
        store = MediaStore(tmp_path / "media")
        t0 = time.monotonic()
        with open_archive(path) as arc:
            rep = fetch_media(arc, store, targets, concurrency=2)
        assert srv.too_many == 1
        assert time.monotonic() - t0 >= 0.9  # the Retry-After was honoured
        assert rep.failed == 2 and rep.fetched == len(targets) - 2
        for url, _ in targets:
            if "/img/" in url:
                n = int(url.rsplit("/", 1)[1].split(".")[0])
                assert store.path(hashlib.sha256(png(n)).hexdigest()).read_bytes() == png(n)
        with open_archive(path) as arc:
            errors = dict(arc.query("SELECT url, error FROM media_files WHERE status = 'failed'"))
            assert any("not an image" in e for e in errors.values())
            assert any("HTTP 404" in e for e in errors.values())
            # a second run asks nothing: done stays done, permanent failures are not retried
            asked = len(srv.requests)
            rep2 = fetch_media(arc, store, targets)
            assert len(srv.requests) == asked and rep2.already == len(targets) - 2
            # the story publishes fetched images as files and keeps a placeholder for the broken one
            arc.con.execute("UPDATE media_files SET url = url")  # no-op; keeps the connection fresh
            os.environ["SALON_MEDIA"] = str(store.root)
            try:
                publish(arc, "day-one", tmp_path / "out")
                publish(arc, "day-one", tmp_path / "one.html", single_file=True)
            finally:
                del os.environ["SALON_MEDIA"]
    html = (tmp_path / "out" / "index.html").read_text()
    files = list((tmp_path / "out" / "media").iterdir())
    assert files and all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)
    assert 'src="media/' in html
    single = (tmp_path / "one.html").read_text()
    assert 'src="data:image/png;base64,' in single
    # the broken medium keeps a placeholder with its description, in both forms
    import html as html_mod

    for page in (html, single):
        assert "Photo not archived" in page
        assert f"Description: {html_mod.escape(alt)}" in page


def test_fetch_resumes_after_kill_9(story_archive: Path, tmp_path: Path) -> None:
    with MediaServer() as srv:
        srv.delay = 0.15
        targets = _point_media_at(story_archive, srv.base)
        with open_archive(story_archive) as arc:  # 40 media are enough here
            arc.con.execute(
                "DELETE FROM post_media WHERE url NOT IN (SELECT unnest(?))", [[u for u, _ in targets[:40]]]
            )
            targets = media_targets(arc, avatars=False)
        assert len(targets) == 40
        env = {**os.environ, "SALON_MEDIA": str(tmp_path / "media")}
        cmd = [SALON, "media", "fetch", "--concurrency", "2", "--no-avatars", "-a", str(story_archive)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(srv.requests) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = len(srv.requests)
        assert first < len(targets)
        srv.delay = 0.0
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        second = len(srv.requests) - first
    # what the killed run finished is not fetched again (one in flight per slot may be)
    assert second <= len(targets) - first + 2 + 2
    assert second < len(targets)
    store = MediaStore(tmp_path / "media")
    with open_archive(story_archive, read_only=True) as arc:
        rows = arc.dicts("SELECT url, status, sha256 FROM media_files")
    assert len(rows) == len(targets) and all(r["status"] == "done" for r in rows)
    for r in rows:
        body = store.path(r["sha256"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == r["sha256"]  # no half file under a digest
    assert not any((tmp_path / "media" / ".tmp").iterdir())
    assert f"{len(targets)} media:" in rerun.stdout and "fetched" in rerun.stdout


def test_media_dir_default(tmp_path: Path) -> None:
    assert media_dir(str(tmp_path / "a.duckdb")) == Path(str(tmp_path / "a.duckdb") + ".media")
