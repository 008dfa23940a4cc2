"""The campaign index: each stored campaign's current members (campaign posts and reposts, with
local day, UTC hour, latest engagement, registry match and official keys) and aggregates of them
(signed counts by day/hour/platform/participant/kind, by official key and day, and per author),
kept exact incrementally (migration ``0005_campaign_index_delta``).

It is a cache of ``salon.campaigns.definitions.members_sql`` (and ``author_match_sql``) and
nothing else: the tally reads the aggregates instead of scanning the archive, and tests check
both give the same figures after any sequence of writes.

What changed since a refresh is read from the *end* of the archive tables, so a refresh costs
what the change costs, not what the archive holds. The watermarks (``campaign_index_state``):

- ``posts.collected_at``: every inserted or replaced (edited) post gets its batch's time, and its
  hashtag rows the same time (``post_hashtags.collected_at``); rows are appended, so zone maps
  skip everything older;
- ``tombstones.recorded_at``: every deletion (the post's ``deleted_at`` is set in the same batch;
  a tombstone keyed by an alias is resolved through ``post_aliases``);
- the row count of ``metrics_snapshots``, an append-only table: new engagement observations are
  the rows past it (``rowid``);
- ``authors.handle_changed_at``: a new author row or a changed handle (registry matching only
  depends on an author's uid and handle).

A refresh re-judges the new/replaced posts, the window reposts of those and of deleted posts
(``campaign_reposts``, all reposts created in the window, found by the post they repost), merges
new engagement observations into the members' latest, re-matches only the authors whose handle
changed (``campaign_handles`` holds the archive authors whose handle matches a registry account
without a known id) or whose match moved when an id was learned, and appends the signed change
of every aggregate. Posts are looked up by uid through the primary key of ``posts``, and their
hashtags by their batch time. A changed campaign definition (window, hashtags, registry)
rebuilds the campaign's index from the definitions. This relies on a single writer whose batch
times increase, as ``salon.store.writer`` guarantees.

Who writes refreshes: the store knows nothing of campaigns, so the code that finishes a write
(the importer, the web app's ingest and demo replay) calls ``refresh_after_import``; a tally
refreshes a stale index itself. The rebuild lives in ``salon.campaigns.index_build``, the
incremental update in ``salon.campaigns.index_delta``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.index_build import FLOOR, INDEX_TABLES, Marks, accounts_table
from salon.campaigns.index_delta import IndexUpdater
from salon.campaigns.stored import get_campaign, list_campaigns
from salon.store.archive import Archive
from salon.store.relations import registered

__all__ = [
    "INDEX_TABLES",
    "Marks",
    "accounts_table",
    "digest",
    "index_state",
    "is_fresh",
    "marks",
    "refresh",
    "refresh_after_import",
    "refresh_all",
]


def digest(c: Campaign) -> str:
    """Digest of what the index depends on (learned account ids excluded: learning them never
    changes a match)."""
    d = c.definition()
    d["accounts"] = [(i, p, h) for i, p, h, _uid in d["accounts"]]
    return hashlib.blake2b(json.dumps(d, sort_keys=True).encode(), digest_size=12).hexdigest()


def _current_marks(con: Any, old: Marks | None) -> Marks:
    """The archive's watermarks, read only past ``old`` (zone maps make this cheap); a mark that
    did not move stays as it was."""
    pm, tm, _sm, am = old if old is not None else (None, None, 0, None)
    row = con.execute(
        "SELECT (SELECT max(collected_at) FROM posts WHERE collected_at > ?),"
        " (SELECT max(recorded_at) FROM tombstones WHERE recorded_at > ?),"
        " (SELECT count(*) FROM metrics_snapshots),"
        " (SELECT max(handle_changed_at) FROM authors WHERE handle_changed_at > ?)",
        [pm or FLOOR, tm or FLOOR, am or FLOOR],
    ).fetchall()[0]
    return (row[0] or pm, row[1] or tm, int(row[2]), row[3] or am)


def marks(archive: Archive) -> Marks:
    """The archive's watermarks: max posts.collected_at, max tombstones.recorded_at, rows of
    metrics_snapshots, max authors.handle_changed_at."""
    return _current_marks(archive.con, None)


def index_state(archive: Archive, campaign_id: int) -> tuple[Any, ...] | None:
    """(digest, posts_mark, tombs_mark, snaps_mark, authors_mark, compacted) of a campaign."""
    rows = archive.con.execute(
        "SELECT digest, posts_mark, tombs_mark, snaps_mark, authors_mark, compacted FROM campaign_index_state"
        " WHERE campaign_id = ?",
        [campaign_id],
    ).fetchall()
    return rows[0] if rows else None


def is_fresh(archive: Archive, c: Campaign) -> bool:
    """Does the index of stored campaign ``c`` reflect the archive as it is now?"""
    if c.campaign_id is None:
        return False
    st = index_state(archive, c.campaign_id)
    if st is None or st[0] != digest(c):
        return False
    old: Marks = (st[1], st[2], int(st[3]), st[4])
    return _current_marks(archive.con, old) == old


def refresh(archive: Archive, c: Campaign, *, force: bool = False) -> str:
    """Bring the index of stored campaign ``c`` up to date: "fresh" (nothing to do),
    "rebuilt" or "updated"."""
    if c.campaign_id is None:
        raise ValueError("only a stored campaign has an index")
    if archive.read_only:
        raise ValueError("the archive is open read-only")
    cid = c.campaign_id
    con = archive.con
    with archive.transaction():
        st = index_state(archive, cid)
        dg = digest(c)
        rebuild = force or st is None or st[0] != dg
        old: Marks | None = None if rebuild or st is None else (st[1], st[2], int(st[3]), st[4])
        new = _current_marks(con, old)
        if not rebuild and new == old:
            return "fresh"
        ix = IndexUpdater(archive, c)
        try:
            with registered(con, _ix_accounts=accounts_table(c)):  # IndexBuilder.learn replaces it
                if rebuild:
                    ix.rebuild()
                    compacted = ix.compact()
                else:
                    assert old is not None and st is not None
                    ix.update(old)
                    compacted = int(st[5])
                    if ix.count_rows() > 2 * compacted + 20_000:
                        compacted = ix.compact()
        finally:
            ix.close()
        con.execute(
            "INSERT INTO campaign_index_state VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET"
            " digest = excluded.digest, posts_mark = excluded.posts_mark, tombs_mark = excluded.tombs_mark,"
            " snaps_mark = excluded.snaps_mark, authors_mark = excluded.authors_mark,"
            " compacted = excluded.compacted, refreshed_at = excluded.refreshed_at",
            [cid, dg, *new, compacted, datetime.now(UTC)],
        )
    return "rebuilt" if rebuild else "updated"


def refresh_all(archive: Archive) -> dict[str, str]:
    """Refresh the index of every stored campaign (what a writer can call after committing a
    batch, so that the next tally finds it fresh): slug -> "fresh" | "updated" | "rebuilt"."""
    out: dict[str, str] = {}
    for row in list_campaigns(archive):
        c = get_campaign(archive, row["slug"])
        if c is not None:
            out[c.slug] = refresh(archive, c)
    return out


def refresh_after_import(archive: Archive) -> dict[str, str] | None:
    """Bring every stored campaign's index up to date after a finished import (one delta for the
    whole import), so that the first tally after it finds the index fresh; what the code that
    finishes a write calls, with the writer (single writer). A failure is logged and left to the
    next tally's refresh: it never fails an import that is committed. Returns ``refresh_all``'s
    answer, or None when it failed."""
    try:
        return refresh_all(archive)
    except Exception:  # never fail an import that is committed
        logging.getLogger("salon.campaigns").exception("campaign index refresh after the import failed")
        return None
