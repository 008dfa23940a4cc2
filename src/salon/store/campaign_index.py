"""The campaign index: each stored campaign's current members (campaign posts and reposts, with
local day, UTC hour, latest engagement and registry match), kept exact incrementally.

It is a cache of ``salon.campaigns.definitions.members_sql`` and nothing else: the tally reads it
instead of scanning the archive, and tests check both give the same figures.

Freshness is judged by watermarks the archive core already keeps, so any path that writes
(``Writer.write``, a bulk fast path, plain SQL) is seen without hooks:

- ``posts.collected_at``: every inserted or replaced (edited) post gets the batch's time;
- ``tombstones.recorded_at``: every deletion (the post's ``deleted_at`` is set in the same batch);
- ``raw.received_at``: every new raw record, hence every new engagement snapshot and author
  snapshot (snapshots are only ever written from a new raw record).

When one of them moved past what the index saw, ``refresh`` recomputes the members among the
changed uids (new/replaced posts, deleted posts, posts with new snapshots, and reposts of any of
these, whose judgement depends on the reposted post) and re-matches the campaign's authors to
the registry (author snapshots change handles). A changed campaign definition (window, hashtags,
registry) rebuilds the campaign's index. This relies on a single writer whose batch times
increase, as ``salon.store.writer`` guarantees.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from salon.campaigns.config import Campaign
from salon.campaigns.definitions import author_match_sql, member_tags_sql, members_sql
from salon.store.archive import Archive
from salon.store.campaigns import learn_account_ids

__all__ = ["accounts_table", "digest", "index_state", "marks", "refresh"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def digest(c: Campaign) -> str:
    """Digest of what the index depends on (learned account ids excluded: learning them never
    changes a match)."""
    d = c.definition()
    d["accounts"] = [(i, p, h) for i, p, h, _uid in d["accounts"]]
    return hashlib.blake2b(json.dumps(d, sort_keys=True).encode(), digest_size=12).hexdigest()


def marks(archive: Archive) -> tuple[Any, Any, Any]:
    """The archive's watermarks: max posts.collected_at, tombstones.recorded_at, raw.received_at."""
    row = archive.con.execute(
        "SELECT (SELECT max(collected_at) FROM posts), (SELECT max(recorded_at) FROM tombstones),"
        " (SELECT max(received_at) FROM raw)"
    ).fetchall()[0]
    return row[0], row[1], row[2]


def index_state(archive: Archive, campaign_id: int) -> tuple[Any, ...] | None:
    rows = archive.con.execute(
        "SELECT digest, posts_mark, tombs_mark, raw_mark FROM campaign_index_state WHERE campaign_id = ?",
        [campaign_id],
    ).fetchall()
    return rows[0] if rows else None


def is_fresh(archive: Archive, c: Campaign, current: tuple[Any, Any, Any] | None = None) -> bool:
    """Does the index of stored campaign ``c`` reflect the archive as it is now?"""
    if c.campaign_id is None:
        return False
    st = index_state(archive, c.campaign_id)
    if st is None or st[0] != digest(c):
        return False
    return tuple(st[1:]) == (current or marks(archive))


def accounts_table(c: Campaign) -> pa.Table:
    """The registry's accounts as (participant_id, platform, handle_norm, account_uid)."""
    rows = c.accounts()
    return pa.table(
        {
            "participant_id": pa.array([i for i, _ in rows], pa.int32()),
            "platform": pa.array([a.platform for _, a in rows], pa.string()),
            "handle_norm": pa.array([a.handle_norm for _, a in rows], pa.string()),
            "account_uid": pa.array([a.account_uid for _, a in rows], pa.string()),
        }
    )


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
        now_marks = marks(archive)
        st = index_state(archive, cid)
        dg = digest(c)
        if not force and st is not None and st[0] == dg and tuple(st[1:]) == now_marks:
            return "fresh"
        rebuild = force or st is None or st[0] != dg
        con.register("_ix_accounts", accounts_table(c))
        try:
            if rebuild:
                for t in ("campaign_posts", "campaign_post_tags", "campaign_authors"):
                    con.execute(f"DELETE FROM {t} WHERE campaign_id = ?", [cid])
                _insert_members(archive, c, None)
            else:
                pm, tm, rm = (m or _EPOCH for m in st[1:])  # type: ignore[index]
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _ix_changed0 AS"
                    " SELECT uid FROM posts WHERE collected_at > ?"
                    " UNION SELECT uid FROM tombstones WHERE recorded_at > ?"
                    " UNION SELECT s.uid FROM metrics_snapshots s WHERE s.raw_id IN"
                    " (SELECT raw_id FROM raw WHERE received_at > ?)",
                    [pm, tm, rm],
                )
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _ix_changed AS SELECT uid FROM _ix_changed0"
                    " UNION SELECT r.uid FROM posts r WHERE r.kind = 'repost'"
                    " AND r.repost_of_uid IN (SELECT uid FROM _ix_changed0)"
                )
                for t in ("campaign_posts", "campaign_post_tags"):
                    con.execute(
                        f"DELETE FROM {t} WHERE campaign_id = ? AND uid IN (SELECT uid FROM _ix_changed)",
                        [cid],
                    )
                _insert_members(archive, c, "_ix_changed")
                con.execute("DROP TABLE _ix_changed0")
                con.execute("DROP TABLE _ix_changed")
            _match_authors(archive, c)
        finally:
            con.unregister("_ix_accounts")
        con.execute(
            "INSERT INTO campaign_index_state VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET"
            " digest = excluded.digest, posts_mark = excluded.posts_mark, tombs_mark = excluded.tombs_mark,"
            " raw_mark = excluded.raw_mark, refreshed_at = excluded.refreshed_at",
            [cid, dg, *now_marks, datetime.now(UTC)],
        )
    return "rebuilt" if rebuild else "updated"


def _insert_members(archive: Archive, c: Campaign, only: str | None) -> None:
    con = archive.con
    cid = int(c.campaign_id)  # type: ignore[arg-type]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ix_members AS {members_sql(c, only=only)}")
    con.execute(
        "INSERT INTO campaign_posts SELECT ?, m.uid, m.is_repost, m.platform, m.author_uid, ca.participant_id,"
        " m.created_at, m.day, m.hour, m.likes, m.reposts, m.replies, m.quotes FROM _ix_members m"
        " LEFT JOIN campaign_authors ca ON ca.campaign_id = ? AND ca.author_uid = m.author_uid",
        [cid, cid],
    )
    con.execute(
        f"INSERT INTO campaign_post_tags SELECT {cid}, t.uid, t.tag_key, t.day FROM ({member_tags_sql(c, '_ix_members')}) t"
    )
    con.execute("DROP TABLE _ix_members")


def _match_authors(archive: Archive, c: Campaign) -> None:
    """Re-match every author of the campaign to the registry; learn account ids matched by
    handle; fix the participant of members whose author's match changed."""
    con = archive.con
    cid = int(c.campaign_id)  # type: ignore[arg-type]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ix_authors AS SELECT DISTINCT author_uid FROM campaign_posts"
        " WHERE campaign_id = ?",
        [cid],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _ix_match AS {author_match_sql('_ix_authors', '_ix_accounts')}"
    )
    learned = con.execute(
        "SELECT participant_id, learn_platform, learn_handle, author_uid FROM _ix_match"
        " WHERE learn_platform IS NOT NULL ORDER BY author_uid"
    ).fetchall()
    # One id per account: the first author (by uid) matched by that handle.
    seen: set[tuple[int, str, str]] = set()
    todo = []
    for pid, platform, hn, uid in learned:
        if (pid, platform, hn) not in seen:
            seen.add((pid, platform, hn))
            todo.append((int(pid), platform, hn, uid))
    learn_account_ids(archive, cid, todo)
    for pid, platform, hn, uid in todo:
        for a in c.participants[pid].accounts:
            if a.platform == platform and a.handle_norm == hn and a.account_uid is None:
                a.account_uid = uid
    # Members whose author's match changed.
    con.execute(
        "UPDATE campaign_posts SET participant_id = m.participant_id FROM _ix_match m"
        " WHERE campaign_posts.campaign_id = ? AND campaign_posts.author_uid = m.author_uid"
        " AND campaign_posts.participant_id IS DISTINCT FROM m.participant_id",
        [cid],
    )
    con.execute("DELETE FROM campaign_authors WHERE campaign_id = ?", [cid])
    con.execute("INSERT INTO campaign_authors SELECT ?, author_uid, participant_id FROM _ix_match", [cid])
    con.execute("DROP TABLE _ix_authors")
    con.execute("DROP TABLE _ix_match")
