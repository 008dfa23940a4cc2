"""A fresh clone has no ``../shared`` beside it: the suite must still collect and run there, the
tests that need ``../shared`` skipping with its name as their reason (tests/conftest.py).

CI has ``../shared``, so these guards copy the checkout to a temporary folder away from it and run
pytest there: collection of the whole suite, and every test marked ``needs_shared``. The full run
without ``../shared`` is done by hand (see docs/development.md); this is the cheap CI guard.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, REQUIRE_ENV, SHARED_REASON

# What a checkout holds that the suite needs (used when the checkout is not a git work tree).
PARTS = ("pyproject.toml", "src", "tests", "bench", "docs", "deps", "Makefile", "README.md")
SKIPPED = re.compile(r"^SKIPPED \[\d+\] (?P<where>\S+): (?P<reason>.*)$", re.M)


def _checkout_files() -> list[str]:
    """The checkout's files (tracked, plus new ones not ignored), relative to the repository."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [f for f in out.decode().split("\0") if f and (REPO / f).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout in a temporary folder with no ``shared`` beside it."""
    dest = tmp_path_factory.mktemp("fresh-clone") / "repo"
    assert not (dest.parent / "shared").exists()
    files = _checkout_files()
    if files:
        for f in files:
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, dest / f)
    else:  # an exported tree (git archive): copy what the suite needs
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*_cache")
        for part in PARTS:
            src = REPO / part
            if src.is_dir():
                shutil.copytree(src, dest / part, ignore=ignore)
            elif src.is_file():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / part)
    return dest


def _pytest(clone: Path, *args: str, require: str = "0") -> subprocess.CompletedProcess[str]:
    """pytest run in the copy, on the copy's own sources, as a user's machine would run it."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    env[REQUIRE_ENV] = require
    env["PYTHONPATH"] = str(clone / "src")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_shared_the_suite_collects_and_every_shared_test_skips_naming_it(clone: Path) -> None:
    """Collection of the whole suite succeeds (a module reading ../shared at import time fails it),
    and the tests needing ../shared, run there, all skip with the one reason naming it."""
    proc = _pytest(clone, "-m", "needs_shared")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    skips = SKIPPED.findall(out)
    assert skips, out[-4000:]
    assert all(reason == SHARED_REASON for _, reason in skips), [s for s in skips if s[1] != SHARED_REASON]
    assert " passed" not in out and " failed" not in out, out[-4000:]


def test_where_shared_is_required_its_absence_fails_instead(clone: Path) -> None:
    """With SALON_REQUIRE_SHARED=1 (.ci/run sets it) a test needing ../shared fails, never skips."""
    proc = _pytest(clone, "tests/test_fast_path_parity.py::test_every_corpus_file_is_compared", require="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "1 error" in out and REQUIRE_ENV in out, out[-4000:]


def test_no_test_builds_its_own_path_to_shared() -> None:
    """Every test reaches ../shared through tests/conftest.py's helpers, which skip without it: a
    path built by hand would fail in a fresh clone instead (the guard above cannot run them all)."""
    hand_made = re.compile(r"""["']shared["']|/\s*["']\.\.["']\s*/""")
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in sorted((REPO / "tests").rglob("*.py"))
        if p.name != "conftest.py" or p.parent != REPO / "tests"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if hand_made.search(line) and p.name != "test_fresh_clone.py"
    ]
    assert offenders == []
