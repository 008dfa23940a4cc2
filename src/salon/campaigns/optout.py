"""Opted-out authors (DESIGN.md, Opted out): counted in every figure, never *listed* on a public
surface, in an export or a report. ``authors.indexable`` is false for them (set by the
normalisers from Mastodon ``indexable``/``discoverable``, ``#nobot``/``#noindex`` in a profile,
Bluesky's ``!no-unauthenticated``)."""

from __future__ import annotations

__all__ = ["OPTED_OUT_AUTHORS", "listable"]

# The uids of opted-out authors, as a subquery.
OPTED_OUT_AUTHORS = "SELECT uid FROM authors WHERE indexable = FALSE"


def listable(author_col: str) -> str:
    """An SQL condition: the author in ``author_col`` may be listed (not opted out; unknown
    authors may)."""
    return f"({author_col} IS NULL OR {author_col} NOT IN ({OPTED_OUT_AUTHORS}))"
