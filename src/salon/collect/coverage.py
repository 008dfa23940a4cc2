"""What live collection covered, per source and hour: posts captured, time connected, the gaps
(time without a connection) and the backfills that covered them. Read-only; the CLI prints it
as a Rich table (``salon coverage``) and the web app can show the same data.

Posts are the campaign's posts and reposts (carrying an official hashtag, or reposting a post
that does) by UTC hour of creation, credited to the source that first stored them (from the
provenance URL of the raw record they were first read from).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.tally import resolve_campaign
from salon.store.archive import Archive

__all__ = ["SOURCE_SQL", "coverage"]

# The collector source of a raw record, from its provenance URL (see salon.collect.*).
SOURCE_SQL = """CASE
  WHEN contains(r.source, '/api/v1/streaming') THEN 'mastodon-stream:' || regexp_extract(r.source, '://([^/]+)', 1)
  WHEN contains(r.source, '/api/v1/timelines/tag/') THEN 'mastodon:' || regexp_extract(r.source, '://([^/]+)', 1)
  WHEN contains(r.source, 'app.bsky.feed.searchPosts') THEN 'bluesky:search'
  WHEN contains(r.source, '/subscribe') AND r.format = 'jetstream' THEN 'bluesky:jetstream'
  WHEN contains(r.source, '/2/tweets/search/stream') THEN 'x:stream'
  WHEN contains(r.source, '/2/tweets/search/') THEN 'x:search'
  ELSE NULL END"""


def _family(source: str) -> str:
    """Connection sources carry a hashtag suffix (``mastodon:host:tag``); posts do not."""
    return source.rsplit(":", 1)[0] if source.startswith("mastodon") else source


def coverage(archive: Archive, campaign: Campaign | str, now: datetime | None = None) -> dict[str, Any]:
    """Per source and hour: posts, connected seconds; the gaps and their backfills."""
    c = resolve_campaign(archive, campaign)
    now = now or datetime.now(UTC)
    con = archive.con
    keys = c.official_keys()
    marks = ", ".join("?" for _ in keys)
    rows = con.execute(
        f"""WITH tagged AS (SELECT DISTINCT uid FROM post_hashtags WHERE {c.key_column} IN ({marks})),
        members AS (SELECT p.uid, p.created_at, p.raw_id FROM posts p
            WHERE NOT p.is_context AND p.created_at >= ? AND p.created_at < ?
              AND (p.uid IN (SELECT uid FROM tagged) OR p.repost_of_uid IN (SELECT uid FROM tagged)))
        SELECT {SOURCE_SQL} AS src, date_trunc('hour', m.created_at) AS hour, count(*)
        FROM members m JOIN raw r ON r.raw_id = m.raw_id GROUP BY ALL""",
        [*keys, c.start_utc, c.end_utc],
    ).fetchall()
    posts: dict[tuple[str, datetime], int] = {}
    for src, hour, n in rows:
        if src is not None:
            posts[(src, hour)] = int(n)
    conns = con.execute(
        "SELECT source, opened_at, coalesce(closed_at, last_seen_at), closed_at IS NULL FROM collect_connections"
        " WHERE campaign = ? ORDER BY opened_at",
        [c.slug],
    ).fetchall()
    connected: dict[tuple[str, datetime], float] = {}
    for src, start, end, is_open in conns:
        fam = _family(src)
        end = now if is_open and end is not None and now - end < timedelta(minutes=2) else end
        t = start
        while t < end:
            hour = t.replace(minute=0, second=0, microsecond=0)
            nxt = min(end, hour + timedelta(hours=1))
            connected[(fam, hour)] = connected.get((fam, hour), 0.0) + (nxt - t).total_seconds()
            t = nxt
    hours = sorted({h for _s, h in posts} | {h for _s, h in connected})
    sources = sorted({s for s, _h in posts} | {s for s, _h in connected})
    table = [
        {
            "source": s,
            "hour": h,
            "posts": posts.get((s, h), 0),
            "connected_seconds": min(3600.0, connected.get((s, h), 0.0)),
        }
        for h in hours
        for s in sources
        if (s, h) in posts or (s, h) in connected
    ]
    gaps = [
        dict(zip(_GAP_COLS, r, strict=True))
        for r in con.execute(
            f"SELECT {', '.join(_GAP_COLS)} FROM collect_gaps WHERE campaign = ? ORDER BY gap_start, source",
            [c.slug],
        ).fetchall()
    ]
    for g in gaps:
        g["seconds"] = (g["gap_end"] - g["gap_start"]).total_seconds()
    summary = [
        {
            "source": s,
            "posts": sum(v for (s2, _h), v in posts.items() if s2 == s),
            "connected_seconds": sum(v for (s2, _h), v in connected.items() if s2 == s),
            "gaps": sum(1 for g in gaps if _family(g["source"]) == s),
            "gaps_open": sum(1 for g in gaps if _family(g["source"]) == s and g["status"] != "backfilled"),
        }
        for s in sources
    ]
    return {"campaign": c.slug, "sources": summary, "hours": table, "gaps": gaps}


_GAP_COLS = (
    "gap_id",
    "source",
    "gap_start",
    "gap_end",
    "reason",
    "status",
    "backfill_source",
    "backfill_finished_at",
    "records",
    "posts_new",
    "note",
)
