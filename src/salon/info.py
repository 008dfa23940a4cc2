"""What an archive holds: the library function behind ``salon info``."""

from __future__ import annotations

from typing import Any

from salon.store.archive import Archive

__all__ = ["archive_info"]


def archive_info(arc: Archive, *, top: int = 10, history: int = 10) -> dict[str, Any]:
    """Posts by platform and kind, date range, authors, top hashtags, import history and
    quarantine. Posts only seen nested in other payloads (context) are counted apart."""
    totals = arc.dicts(
        "SELECT count(*) FILTER (WHERE NOT is_context AND deleted_at IS NULL) AS posts,"
        " count(*) FILTER (WHERE is_context AND deleted_at IS NULL) AS context_posts,"
        " count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted_posts,"
        " min(created_at) FILTER (WHERE NOT is_context) AS first_post_at,"
        " max(created_at) FILTER (WHERE NOT is_context) AS last_post_at,"
        " count(DISTINCT author_uid) AS authors FROM posts",
    )[0]
    by = arc.dicts(
        "SELECT platform, kind, count(*) AS posts FROM posts WHERE NOT is_context AND deleted_at IS NULL"
        " GROUP BY ALL ORDER BY platform, kind",
    )
    tags = arc.dicts(
        "SELECT h.tag_key, mode(h.tag_display) AS display, count(*) AS posts"
        " FROM post_hashtags h JOIN posts p USING (uid) WHERE NOT p.is_context AND p.deleted_at IS NULL"
        f" GROUP BY h.tag_key ORDER BY posts DESC, h.tag_key LIMIT {int(top)}",
    )
    imports = arc.dicts(
        "SELECT import_id, kind, started_at, finished_at, status, records_in, records_new, records_duplicate,"
        f" records_bad, posts_new, arguments FROM imports ORDER BY import_id DESC LIMIT {int(history)}",
    )
    quarantine = arc.dicts(
        "SELECT path, line, reason, octet_length(payload) AS bytes FROM quarantine ORDER BY recorded_at DESC,"
        f" path, line LIMIT {int(top)}",
    )
    counts = arc.dicts(
        "SELECT (SELECT count(*) FROM raw) AS raw_records, (SELECT count(*) FROM quarantine) AS quarantined,"
        " (SELECT count(*) FROM tombstones) AS tombstones, (SELECT count(*) FROM authors) AS author_profiles,"
        " (SELECT count(*) FROM metrics_snapshots) AS engagement_snapshots",
    )[0]
    for row in imports:
        for k in ("started_at", "finished_at"):
            row[k] = row[k].isoformat() if row[k] else None
    for k in ("first_post_at", "last_post_at"):
        totals[k] = totals[k].isoformat() if totals[k] else None
    return {
        "archive": arc.path,
        **totals,
        **counts,
        "by_platform_kind": by,
        "top_hashtags": tags,
        "imports": imports,
        "quarantine": quarantine,
    }
