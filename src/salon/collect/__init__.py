"""Live collection from Mastodon, Bluesky and X (see ``salon.collect.runner``), with resume
cursors, gap backfills and coverage reports (``salon.collect.coverage``)."""

from __future__ import annotations

from typing import Any

__all__ = ["coverage", "run", "run_async"]


def run(*args: Any, **kwargs: Any) -> Any:
    """See ``salon.collect.runner.run``."""
    from salon.collect.runner import run as _run

    return _run(*args, **kwargs)


async def run_async(*args: Any, **kwargs: Any) -> Any:
    """See ``salon.collect.runner.run_async``."""
    from salon.collect.runner import run_async as _run_async

    return await _run_async(*args, **kwargs)


def coverage(*args: Any, **kwargs: Any) -> Any:
    """See ``salon.collect.coverage.coverage``."""
    from salon.collect.coverage import coverage as _coverage

    return _coverage(*args, **kwargs)
