"""Shared fixtures: the real corpora beside the repo (``../shared``), and fresh archives.

``../shared`` (real payload corpora and format schemas) sits beside this repository on the
project's machines and in CI, never in a user's clone, and may not be copied into it. Every test
that reads it goes through ONE helper here, inside a test or fixture and never at import time:

- :func:`shared_path` (``shared_path("corpora", "tweepy", ...)``, or :func:`twarc` for the twarc
  test data) returns a path under ``../shared``;
- the session fixture ``needs_shared`` (as an argument or
  ``pytestmark = pytest.mark.usefixtures("needs_shared")``) guards a whole test.

Both skip with the one reason :data:`SHARED_REASON` when ``../shared`` is absent, so a fresh clone
runs the rest of the suite. Where ``../shared`` must be there (``SALON_REQUIRE_SHARED=1``, which
``.ci/run`` sets; ``CI=true`` implies it unless ``SALON_REQUIRE_SHARED=0``) the same call fails
instead: in CI those tests run, never skip. tests/test_fresh_clone.py guards all this cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_REASON = "needs ../shared (the real corpora beside the repository), absent in this checkout"
REQUIRE_ENV = "SALON_REQUIRE_SHARED"


def shared_required() -> bool:
    """Whether a missing ``../shared`` is a failure here rather than a reason to skip."""
    flag = os.environ.get(REQUIRE_ENV, "").strip().lower()
    if flag:
        return flag not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() == "true"


def require_shared() -> Path:
    """``../shared``; skips the current test (fails it where required) when it is absent."""
    if SHARED.is_dir():
        return SHARED
    if shared_required():
        pytest.fail(
            f"{SHARED} is absent but {REQUIRE_ENV}/CI requires it: these tests must run here", pytrace=False
        )
    pytest.skip(SHARED_REASON)


def shared_path(*parts: str) -> Path:
    """A path under ``../shared`` (``shared_path("corpora", "mastodon-py", ...)``).

    Call it inside a test or fixture only: it skips (or fails, see :func:`require_shared`) when
    ``../shared`` is absent. A missing file under a present ``../shared`` is left to fail loudly.
    """
    return require_shared().joinpath(*parts)


def corpus_path(*parts: str) -> Path:
    """A path under ``../shared/corpora``."""
    return shared_path("corpora", *parts)


def twarc(*parts: str) -> Path:
    """A path under the docnow twarc test data (``../shared/corpora/docnow-twarc-csv/test-data``)."""
    return corpus_path("docnow-twarc-csv", "test-data", *parts)


@pytest.fixture(scope="session")
def needs_shared() -> Path:
    """``../shared`` for a test that reads it; skips (or fails where required) when absent."""
    return require_shared()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests using ``needs_shared`` get the ``needs_shared`` mark (tests/test_fresh_clone.py runs
    them without ../shared) and set it up first, so a heavier fixture never runs before the skip.
    Under pytest-xdist (``make test``), the ``spark`` tests go to one worker (``--dist loadgroup``),
    which starts one JVM for them all rather than one per worker."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
        names = getattr(item, "fixturenames", None)
        if names and "needs_shared" in names:
            item.add_marker("needs_shared")
            names.remove("needs_shared")
            names.insert(0, "needs_shared")


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """Path of a fresh (not yet created) archive file."""
    return tmp_path / "archive.duckdb"
