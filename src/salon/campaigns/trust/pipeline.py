"""Bringing a stored campaign's trust tables up to date, in order (the tally calls this)."""

from __future__ import annotations

from salon.campaigns import index
from salon.campaigns.config import Campaign
from salon.campaigns.trust import lookalikes, spam, takedown
from salon.store.archive import Archive

__all__ = ["refresh"]


def refresh(archive: Archive, c: Campaign) -> None:
    """Bring stored campaign ``c`` up to date: account events at the source first (they may
    tombstone posts), then the campaign index, then the spam verdicts and the lookalike flags
    (each recomputed only when what it depends on changed)."""
    if c.campaign_id is None or archive.read_only:
        return
    takedown.scan_account_events(archive)
    index.refresh(archive, c)
    spam.refresh(archive, c)  # when the members, settings, lists or decisions changed
    lookalikes.refresh(archive, c)  # when the authors or the registry changed
