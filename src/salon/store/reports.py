"""Published campaign reports (table ``published_reports``, migration 0017): the store's
writes and reads for the web app's report pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from salon.store.archive import Archive

__all__ = ["get_published", "publish", "published_status", "unpublish"]


def publish(arc: Archive, slug: str, html: str, pdf: bytes | None, by: str) -> datetime:
    """Store (or replace) the published report of campaign ``slug``; returns when."""
    now = datetime.now(UTC)
    with arc.transaction() as con:
        con.execute("DELETE FROM published_reports WHERE slug = ?", [slug])
        con.execute(
            "INSERT INTO published_reports (slug, html, pdf, published_at, published_by) VALUES (?, ?, ?, ?, ?)",
            [slug, html, pdf, now, by],
        )
    return now


def unpublish(arc: Archive, slug: str) -> None:
    """Remove campaign ``slug``'s published report (nothing when there is none)."""
    arc.con.execute("DELETE FROM published_reports WHERE slug = ?", [slug])


def get_published(arc: Archive, slug: str, *, pdf: bool = False) -> Any:
    """The published report's HTML (or PDF bytes with ``pdf``), or None."""
    rows = arc.query(f"SELECT {'pdf' if pdf else 'html'} FROM published_reports WHERE slug = ?", [slug])
    if not rows or rows[0][0] is None:
        return None
    return bytes(rows[0][0]) if pdf else rows[0][0]


def published_status(arc: Archive, slug: str) -> dict[str, Any] | None:
    """When and by whom ``slug``'s report was published, or None."""
    rows = arc.query("SELECT published_at, published_by FROM published_reports WHERE slug = ?", [slug])
    return {"published_at": rows[0][0], "published_by": rows[0][1]} if rows else None
