"""bandit finds no high-severity issue in Salon's code (the web app's hardening, CI)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_bandit_no_high_severity() -> None:
    exe = shutil.which("bandit", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("bandit is not installed (make setup installs the dev dependencies)")
    r = subprocess.run(
        [exe, "-q", "-r", str(REPO / "src" / "salon"), "--severity-level", "high", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = json.loads(r.stdout)
    high = [(x["filename"], x["line_number"], x["test_id"], x["issue_text"]) for x in out["results"]]
    assert high == []
    assert not out["errors"]
