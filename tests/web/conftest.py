"""Fixtures of the web tests: a small archive, an in-process client, a real `salon serve`
process and a real browser (Debian's chromium driven by Playwright, offline)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.web.data import build_archive

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts" / "web"
SALON = str(Path(sys.executable).with_name("salon"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_archive(tmp_path)


class LiveServer:
    """`salon serve` in a child process on a free port."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.info_path = Path(str(archive) + ".serve.json")
        env = {**os.environ, "SALON_PASSWORD": "correct horse battery"}
        subprocess.run(
            [SALON, "users", "add", "editor1", "--role", "editor", "-a", str(archive)],
            check=True,
            env=env,
            capture_output=True,
        )
        self.log = open(archive.with_suffix(".serve.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [SALON, "serve", "-a", str(archive), "--port", "0"], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not self.info_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(archive.with_suffix(".serve.log").read_text())
            time.sleep(0.05)
        self.info: dict[str, Any] = json.loads(self.info_path.read_text())
        self.url: str = self.info["url"]
        import httpx

        while True:
            try:
                if httpx.get(self.url + "/api/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer")
            time.sleep(0.05)

    def salon(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SALON, *args], capture_output=True, text=True, check=check, timeout=120)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    server = LiveServer(build_archive(folder))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make setup installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="salon-chromium-")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="en-US",
        )
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab that records every request it makes."""
    browser_context.clear_cookies()
    pg = browser_context.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))  # type: ignore[attr-defined]
    yield pg
    pg.close()


def shot(page: Any, name: str, full: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)
