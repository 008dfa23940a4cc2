"""Opted-out authors (DESIGN.md, Opted out): counted in every figure, never *listed* on a public
surface, in an export or a report.

The rule itself lives in ``salon.campaigns.trust`` (docs/trust.md, "For other code"): an author
is opted out when the latest snapshot says so (``authors.indexable`` false, from Mastodon
``indexable``/``discoverable``/``noindex`` and Bluesky's ``!no-unauthenticated``; ``#nobot``,
``#nosearch``, ``#noindex`` in the profile), unless an editor published them with a logged
reason; an editor may also hide any author, and an account inactive at the source is not
listed. This module keeps the names exports and reports already call."""

from __future__ import annotations

from salon.campaigns.trust.consent import author_visible_sql, opted_out_sql

__all__ = ["OPTED_OUT_AUTHORS", "listable"]

# The uids of opted-out authors, as a subquery (whatever an editor decided).
OPTED_OUT_AUTHORS = f"SELECT a.uid FROM authors a WHERE {opted_out_sql('a')}"


def listable(author_col: str) -> str:
    """An SQL condition: the author in ``author_col`` may be listed (not opted out unless an
    editor published them, not hidden, not inactive at the source; unknown authors may)."""
    return f"({author_col} IS NULL OR ({author_visible_sql(author_col)}))"
