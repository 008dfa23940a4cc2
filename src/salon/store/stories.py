"""The SQL of stories and fetched media (tables of migration ``0040_stories_media``).

Only this module writes those tables; ``salon.publish.stories`` and ``salon.collect.media`` call
it. Every change of a story's fields or items bumps its ``revision`` in the same transaction, so
two editors saving the same revision cannot both win (``StaleRevision``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from salon.store.archive import Archive
from salon.store.rawstore import payload_of

__all__ = [
    "STORY_FIELDS",
    "StaleRevision",
    "add_changelog",
    "add_version",
    "author_payloads",
    "changelog",
    "create_story",
    "delete_story",
    "forget_output",
    "media_rows",
    "media_set",
    "media_upsert_pending",
    "outputs",
    "post_payloads",
    "record_output",
    "set_version_html",
    "story_items",
    "story_row",
    "story_rows",
    "update_story",
    "versions",
]

STORY_FIELDS = ("title", "description", "campaign_slug", "chat_slug", "curator", "institution", "lang")


class StaleRevision(Exception):
    """The story changed since the revision the caller read (another editor saved first)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the story was changed meanwhile (now at revision {current})")
        self.current = current


def _now() -> datetime:
    return datetime.now(UTC)


def story_row(arc: Archive, slug: str) -> dict[str, Any] | None:
    rows = arc.dicts("SELECT * FROM stories WHERE slug = ?", [slug])
    return rows[0] if rows else None


def story_rows(arc: Archive) -> list[dict[str, Any]]:
    return arc.dicts(
        "SELECT s.*, (SELECT count(*) FROM story_items i WHERE i.story_id = s.story_id) AS items,"
        " (SELECT max(version) FROM story_versions v WHERE v.story_id = s.story_id) AS version"
        " FROM stories s ORDER BY s.slug"
    )


def story_items(arc: Archive, story_id: int) -> list[dict[str, Any]]:
    return arc.dicts(
        "SELECT kind, post_uid, body FROM story_items WHERE story_id = ? ORDER BY position", [story_id]
    )


def _write_items(arc: Archive, story_id: int, items: Sequence[dict[str, Any]]) -> None:
    arc.con.execute("DELETE FROM story_items WHERE story_id = ?", [story_id])
    if items:
        arc.con.executemany(
            "INSERT INTO story_items VALUES (?, ?, ?, ?, ?)",
            [[story_id, i, it["kind"], it.get("post_uid"), it.get("body")] for i, it in enumerate(items)],
        )


def create_story(
    arc: Archive, slug: str, fields: dict[str, Any], items: Sequence[dict[str, Any]] = ()
) -> int:
    """Insert a story (``fields``: the ``STORY_FIELDS``) at revision 1; returns its id."""
    now = _now()
    with arc.transaction():
        sid = int(arc.scalar("SELECT nextval('story_id_seq')"))
        arc.con.execute(
            "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [sid, slug, *[fields.get(f) for f in STORY_FIELDS], now, now],
        )
        _write_items(arc, sid, items)
    return sid


def update_story(
    arc: Archive,
    story_id: int,
    *,
    expected_revision: int | None,
    fields: dict[str, Any] | None = None,
    items: Sequence[dict[str, Any]] | None = None,
) -> int:
    """Change a story's fields and/or replace its items, if it is still at ``expected_revision``
    (None: whatever it is at). Returns the new revision; raises ``StaleRevision``."""
    with arc.transaction():
        current = int(arc.scalar("SELECT revision FROM stories WHERE story_id = ?", [story_id]))
        if expected_revision is not None and current != expected_revision:
            raise StaleRevision(current)
        sets = [f for f in STORY_FIELDS if fields and f in fields]
        arc.con.execute(
            "UPDATE stories SET "
            + "".join(f"{f} = ?, " for f in sets)
            + "revision = revision + 1, updated_at = ? WHERE story_id = ?",
            [*[fields[f] for f in sets if fields], _now(), story_id],
        )
        if items is not None:
            _write_items(arc, story_id, items)
    return current + 1


def delete_story(arc: Archive, story_id: int) -> None:
    with arc.transaction():
        for t in ("story_items", "story_versions", "story_changelog", "story_outputs", "stories"):
            arc.con.execute(f"DELETE FROM {t} WHERE story_id = ?", [story_id])


def versions(arc: Archive, story_id: int, *, with_html: bool = False) -> list[dict[str, Any]]:
    cols = "version, published_at, published_by, snapshot, rendered_at, removed_uids" + (
        ", html" if with_html else ""
    )
    return arc.dicts(f"SELECT {cols} FROM story_versions WHERE story_id = ? ORDER BY version", [story_id])


def add_version(
    arc: Archive, story_id: int, snapshot: str, by: str | None, at: datetime | None = None
) -> int:
    """Record a new version with ``snapshot`` (JSON); returns its number."""
    with arc.transaction():
        n = int(
            arc.scalar(
                "SELECT coalesce(max(version), 0) + 1 FROM story_versions WHERE story_id = ?", [story_id]
            )
        )
        arc.con.execute(
            "INSERT INTO story_versions VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [story_id, n, at or _now(), by, snapshot],
        )
    return n


def set_version_html(arc: Archive, story_id: int, version: int, html: bytes, removed_uids: str) -> None:
    """Replace the stored rendering of a version (republish overwrites what was served)."""
    arc.con.execute(
        "UPDATE story_versions SET html = ?, rendered_at = ?, removed_uids = ? WHERE story_id = ? AND version = ?",
        [html, _now(), removed_uids, story_id, version],
    )


def changelog(arc: Archive, story_id: int) -> list[dict[str, Any]]:
    return arc.dicts(
        "SELECT entry_at AS at, entry FROM story_changelog WHERE story_id = ? ORDER BY entry_at, entry",
        [story_id],
    )


def add_changelog(arc: Archive, story_id: int, entry: str, at: datetime | None = None) -> None:
    arc.con.execute("INSERT INTO story_changelog VALUES (?, ?, ?)", [story_id, at or _now(), entry])


def outputs(arc: Archive, story_id: int) -> list[dict[str, Any]]:
    return arc.dicts(
        "SELECT path, kind, version FROM story_outputs WHERE story_id = ? ORDER BY path", [story_id]
    )


def record_output(arc: Archive, story_id: int, path: str, kind: str, version: int) -> None:
    arc.con.execute(
        "INSERT OR REPLACE INTO story_outputs VALUES (?, ?, ?, ?, ?)", [story_id, path, kind, version, _now()]
    )


def author_payloads(
    arc: Archive, post_uids: Iterable[str], per_author: int = 3
) -> Iterator[tuple[str, str, bytes | None]]:
    """``(author_uid, author native id, raw payload)`` of up to ``per_author`` posts (newest
    first) of each author of ``post_uids``: where ``salon.normalize.avatars`` finds avatars."""
    rows = arc.query(
        "SELECT author_uid, native_id, raw_id FROM (SELECT p.author_uid, a.native_id, p.raw_id,"
        " row_number() OVER (PARTITION BY p.author_uid ORDER BY p.collected_at DESC, p.uid) AS n"
        " FROM posts p JOIN authors a ON a.uid = p.author_uid WHERE p.raw_id IS NOT NULL"
        " AND p.author_uid IN (SELECT author_uid FROM posts WHERE uid IN (SELECT unnest(?))))"
        " WHERE n <= ? ORDER BY author_uid, n",
        [sorted(set(post_uids)), per_author],
    )
    for author, native, raw_id in rows:
        yield author, native, payload_of(arc.con, raw_id)


def post_payloads(arc: Archive, post_uids: Iterable[str]) -> Iterator[tuple[str, str, bytes | None]]:
    """``(uid, native_id, raw payload)`` of each of ``post_uids`` that has a raw record."""
    rows = arc.query(
        "SELECT uid, native_id, raw_id FROM posts WHERE uid IN (SELECT unnest(?)) AND raw_id IS NOT NULL"
        " ORDER BY uid",
        [sorted(set(post_uids))],
    )
    for uid, native, raw_id in rows:
        yield uid, native, payload_of(arc.con, raw_id)


def forget_output(arc: Archive, story_id: int, path: str) -> None:
    arc.con.execute("DELETE FROM story_outputs WHERE story_id = ? AND path = ?", [story_id, path])


# -- media ------------------------------------------------------------------------------------------


def media_upsert_pending(arc: Archive, rows: Iterable[tuple[str, str]]) -> int:
    """Add (url, role) rows not known yet as ``pending``; returns how many were new."""
    rows = list(rows)
    if not rows:
        return 0
    before = int(arc.scalar("SELECT count(*) FROM media_files"))
    arc.con.executemany(
        "INSERT OR IGNORE INTO media_files (url, role, status) VALUES (?, ?, 'pending')", rows
    )
    return int(arc.scalar("SELECT count(*) FROM media_files")) - before


def media_rows(arc: Archive, urls: Sequence[str] | None = None) -> list[dict[str, Any]]:
    if urls is None:
        return arc.dicts("SELECT * FROM media_files ORDER BY url")
    return arc.dicts("SELECT * FROM media_files WHERE url IN (SELECT unnest(?)) ORDER BY url", [list(urls)])


def media_set(
    arc: Archive,
    url: str,
    *,
    status: str,
    sha256: str | None = None,
    mime: str | None = None,
    size: int | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome of one fetch attempt of ``url``."""
    arc.con.execute(
        "UPDATE media_files SET status = ?, sha256 = coalesce(?, sha256), mime = coalesce(?, mime),"
        " size_bytes = coalesce(?, size_bytes), attempts = attempts + 1, error = ?,"
        " fetched_at = CASE WHEN ? = 'done' THEN ? ELSE fetched_at END WHERE url = ?",
        [status, sha256, mime, size, error, status, _now(), url],
    )
