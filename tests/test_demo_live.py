"""The main job's live mode: `salon demo --live` serves the campaign page and replays the
synthetic campaign into a fresh archive, so the tally grows while one watches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _tally(url: str, slug: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{url}/api/campaigns/{slug}/tally", timeout=5) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_live_demo_counters_tick(tmp_path: Path) -> None:
    archive = tmp_path / "live.duckdb"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salon.cli",
            "demo",
            "--live",
            "--sample",
            "--port",
            "0",
            "--rate",
            "40",
            "-a",
            str(archive),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        server_file = Path(f"{archive}.serve.json")
        deadline = time.monotonic() + 60
        while not server_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            time.sleep(0.1)
        url = json.loads(server_file.read_text())["url"]
        from salon.demo.run import sample

        with sample() as data:
            slug = data.truth["campaign"]["slug"]
            total = data.truth["posts"]["total"]
        seen = []
        while time.monotonic() < deadline:
            try:
                seen.append(_tally(url, slug)["posts"])
            except OSError:  # advertised before it accepts connections: try again
                time.sleep(0.1)
                continue
            if len(set(seen)) >= 3:
                break
            time.sleep(0.3)
        assert len(set(seen)) >= 3, f"the counters did not tick: {seen}"
        assert seen == sorted(seen) and seen[-1] <= total
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
