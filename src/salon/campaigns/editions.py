"""Which stored campaign is the previous edition of another: the same ``series``, the latest
start before this one's."""

from __future__ import annotations

from salon.campaigns.config import Campaign
from salon.store.archive import Archive

__all__ = ["previous_edition"]


def previous_edition(archive: Archive, campaign: Campaign) -> str | None:
    """The slug of ``campaign``'s previous edition, or None (no series, or none before it)."""
    if not campaign.series:
        return None
    rows = archive.query(
        "SELECT slug FROM campaigns WHERE series = ? AND start_utc < ? AND slug <> ? ORDER BY start_utc DESC LIMIT 1",
        [campaign.series, campaign.start_utc, campaign.slug],
    )
    return str(rows[0][0]) if rows else None
