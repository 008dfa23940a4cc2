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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from salon.campaigns.config import Campaign
from salon.campaigns.definitions import day_expr, member_tags_sql, members_sql, ts_literal
from salon.store.archive import Archive, registered
from salon.store.campaigns import learn_account_ids

__all__ = [
    "INDEX_TABLES",
    "accounts_table",
    "digest",
    "index_state",
    "is_fresh",
    "marks",
    "refresh",
    "refresh_all",
]

INDEX_TABLES = (
    "campaign_posts",
    "campaign_reposts",
    "campaign_authors",
    "campaign_handles",
    "campaign_counts",
    "campaign_tag_counts",
)

_FLOOR = datetime(1, 1, 2, tzinfo=UTC)
_LOOKUP_CHUNK = 2000  # uids per primary-key lookup (IN list of literals)


def digest(c: Campaign) -> str:
    """Digest of what the index depends on (learned account ids excluded: learning them never
    changes a match)."""
    d = c.definition()
    d["accounts"] = [(i, p, h) for i, p, h, _uid in d["accounts"]]
    return hashlib.blake2b(json.dumps(d, sort_keys=True).encode(), digest_size=12).hexdigest()


Marks = tuple[Any, Any, int, Any]  # posts, tombstones, snapshot rows, authors


def _current_marks(con: Any, old: Marks | None) -> Marks:
    """The archive's watermarks, read only past ``old`` (zone maps make this cheap); a mark that
    did not move stays as it was."""
    pm, tm, _sm, am = old if old is not None else (None, None, 0, None)
    row = con.execute(
        "SELECT (SELECT max(collected_at) FROM posts WHERE collected_at > ?),"
        " (SELECT max(recorded_at) FROM tombstones WHERE recorded_at > ?),"
        " (SELECT count(*) FROM metrics_snapshots),"
        " (SELECT max(handle_changed_at) FROM authors WHERE handle_changed_at > ?)",
        [pm or _FLOOR, tm or _FLOOR, am or _FLOOR],
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
        st = index_state(archive, cid)
        dg = digest(c)
        rebuild = force or st is None or st[0] != dg
        old: Marks | None = None if rebuild or st is None else (st[1], st[2], int(st[3]), st[4])
        new = _current_marks(con, old)
        if not rebuild and new == old:
            return "fresh"
        ix = _Index(archive, c)
        try:
            with registered(con, _ix_accounts=accounts_table(c)):  # _Index.learn replaces it
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
    from salon.store.campaigns import get_campaign, list_campaigns

    out: dict[str, str] = {}
    for row in list_campaigns(archive):
        c = get_campaign(archive, row["slug"])
        if c is not None:
            out[c.slug] = refresh(archive, c)
    return out


def _lit(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def _chunks(xs: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


# Columns of a member row, as kept in campaign_posts (participant_id is added when stored).
_ROW = "uid, is_repost, platform, author_uid, created_at, day, hour, likes, reposts, replies, quotes, eng_at, tags"


class _Index:
    """One refresh of one campaign's index (inside the caller's transaction)."""

    def __init__(self, archive: Archive, c: Campaign) -> None:
        self.archive, self.c, self.con = archive, c, archive.con
        self.cid = int(c.campaign_id)  # type: ignore[arg-type]
        self.kc = c.key_column
        self.keys = ", ".join(_lit(k) for k in c.official_keys())
        self.lo, self.hi = ts_literal(c.start_utc), ts_literal(c.end_utc)
        self.temps: list[str] = []

    # -- helpers ---------------------------------------------------------------------------

    def close(self) -> None:
        for t in self.temps:  # the small ones stay until the next refresh replaces them
            if t in ("_ix_members", "_ix_mtags", "_ix_cc", "_ix_ct"):
                self.con.execute(f"DROP TABLE IF EXISTS {t}")

    def temp(self, name: str, sql: str, params: list[Any] | None = None) -> int:
        """CREATE OR REPLACE TEMP TABLE name AS sql; returns its row count (which DuckDB's
        CREATE TABLE AS returns)."""
        if name not in self.temps:
            self.temps.append(name)
        row = self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params or []).fetchone()
        return int(row[0]) if row else 0

    def window(self, alias: str) -> str:
        return f"{alias}.created_at >= {self.lo} AND {alias}.created_at < {self.hi}"

    def pid_joins(self, col: str) -> tuple[str, str]:
        """(joins, expression) of the participant matched to author ``col`` (definitions'
        author_match_sql: by account id first, else by handle among accounts without an id)."""
        return (
            " LEFT JOIN (SELECT account_uid, min(participant_id) AS pid FROM _ix_accounts"
            f" WHERE account_uid IS NOT NULL GROUP BY account_uid) _bi ON _bi.account_uid = {col}"
            f" LEFT JOIN (SELECT author_uid, participant_id FROM campaign_handles WHERE campaign_id = {self.cid})"
            f" _bh ON _bh.author_uid = {col}",
            "coalesce(_bi.pid, _bh.participant_id)",
        )

    def lookup_posts(self, name: str, uids: list[str], cols: str) -> int:
        """Rows of ``posts`` for ``uids`` through its primary key (an IN list of literals is an
        index lookup; a join would scan the table)."""
        self.temp(name, f"SELECT {cols} FROM posts WHERE false")
        for part in _chunks(sorted(set(uids)), _LOOKUP_CHUNK):
            self.con.execute(
                f"INSERT INTO {name} SELECT {cols} FROM posts WHERE uid IN ({', '.join(map(_lit, part))})"
            )
        return int(self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])

    def uids(self, sql: str) -> list[str]:
        return [r[0] for r in self.con.execute(sql).fetchall() if r[0] is not None]

    # -- registry matching -----------------------------------------------------------------

    def match_handles(self, authors_sql: str) -> None:
        """Insert the handle matches of authors (uid, platform, handle_norm) into
        campaign_handles."""
        self.con.execute(
            f"INSERT INTO campaign_handles SELECT {self.cid}, a.uid, a.platform, a.handle_norm,"
            f" min(ra.participant_id) FROM ({authors_sql}) a JOIN _ix_accounts ra ON ra.account_uid IS NULL"
            " AND ra.platform = a.platform AND ra.handle_norm = a.handle_norm"
            " GROUP BY a.uid, a.platform, a.handle_norm"
        )

    def learn(self, authors_rel: str) -> list[str]:
        """Learn the account ids of registry accounts first matched by handle by an author of
        ``authors_rel`` (column author_uid): one id per account, the first author by uid. Returns
        the authors whose handle match changed because of it."""
        rows = self.con.execute(
            "SELECT h.participant_id, h.platform, h.handle_norm, h.author_uid FROM campaign_handles h"
            f" WHERE h.campaign_id = {self.cid} AND h.author_uid IN (SELECT author_uid FROM {authors_rel})"
            " AND h.author_uid NOT IN (SELECT account_uid FROM _ix_accounts WHERE account_uid IS NOT NULL)"
            " ORDER BY h.author_uid"
        ).fetchall()
        seen: set[tuple[int, str, str]] = set()
        todo: list[tuple[int, str, str, str]] = []
        for pid, platform, hn, uid in rows:
            if (pid, platform, hn) not in seen:
                seen.add((pid, platform, hn))
                todo.append((int(pid), platform, hn, uid))
        if not todo:
            return []
        learn_account_ids(self.archive, self.cid, todo)
        for pid, platform, hn, uid in todo:
            for a in self.c.participants[pid].accounts:
                if a.platform == platform and a.handle_norm == hn and a.account_uid is None:
                    a.account_uid = uid
        # Registering again replaces the registry accounts of ``_ix_accounts`` (which ``refresh``
        # registered and unregisters).
        self.con.register("_ix_accounts", accounts_table(self.c))
        # Authors whose handle matched a learned account: match them again.
        handles = ", ".join(f"({_lit(p)}, {_lit(h)})" for _pid, p, h, _u in todo)
        self.temp(
            "_ix_relearn",
            f"SELECT author_uid AS uid, platform, handle_norm, participant_id FROM campaign_handles"
            f" WHERE campaign_id = {self.cid} AND (platform, handle_norm) IN ({handles})",
        )
        self.con.execute(
            f"DELETE FROM campaign_handles WHERE campaign_id = {self.cid} AND (platform, handle_norm) IN ({handles})"
        )
        self.match_handles("SELECT uid, platform, handle_norm FROM _ix_relearn")
        # A learner keeps its participant (now by id); the others with its handle may not.
        learners = {uid for _pid, _p, _h, uid in todo}
        return [u for u in self.uids("SELECT uid FROM _ix_relearn") if u not in learners]

    # -- rebuild ---------------------------------------------------------------------------

    def rebuild(self) -> None:
        con, cid = self.con, self.cid
        for t in INDEX_TABLES:
            con.execute(f"DELETE FROM {t} WHERE campaign_id = ?", [cid])
        self.temp("_ix_members", members_sql(self.c))
        self.temp(
            "_ix_mtags",
            f"SELECT uid, list_sort(list(DISTINCT tag_key)) AS tags FROM ({member_tags_sql(self.c, '_ix_members')}) t"
            " GROUP BY uid",
        )
        con.execute(
            f"INSERT INTO campaign_reposts SELECT {cid}, r.uid, r.repost_of_uid, r.uid IN (SELECT h.uid FROM"
            f" post_hashtags h WHERE h.{self.kc} IN ({self.keys})) FROM posts r WHERE r.kind = 'repost'"
            f" AND {self.window('r')}"
        )
        self.match_handles(
            "SELECT uid, platform, lower(handle) AS handle_norm FROM authors WHERE handle IS NOT NULL"
        )
        self.learn("(SELECT DISTINCT author_uid FROM _ix_members)")
        joins, pid = self.pid_joins("m.author_uid")
        con.execute(
            f"INSERT INTO campaign_posts SELECT {cid}, m.uid, m.is_repost, m.platform, m.author_uid, {pid},"
            " m.created_at, m.day, m.hour, m.likes, m.reposts, m.replies, m.quotes, m.eng_at, t.tags"
            f" FROM _ix_members m LEFT JOIN _ix_mtags t ON t.uid = m.uid AND NOT m.is_repost{joins}"
            " ORDER BY m.created_at"
        )
        self.add_aggregates(f"(SELECT 1 AS s, * FROM campaign_posts WHERE campaign_id = {cid})")

    # -- aggregates ------------------------------------------------------------------------

    def add_aggregates(self, rows: str) -> None:
        """Append the signed contribution of member rows ``rows`` (campaign_posts columns and
        ``s``, the sign: 1 added, -1 removed) to the aggregates."""
        con, cid = self.con, self.cid
        sums = ", ".join(
            f"sum(s * coalesce({k}, 0)) AS {k}" for k in ("likes", "reposts", "replies", "quotes")
        )
        con.execute(
            f"INSERT INTO campaign_counts SELECT {cid}, day, hour, platform, participant_id, is_repost, n, likes,"
            f" reposts, replies, quotes FROM (SELECT day, hour, platform, participant_id, is_repost, sum(s) AS n, {sums}"
            f" FROM {rows} x GROUP BY day, hour, platform, participant_id, is_repost)"
            " WHERE n <> 0 OR likes <> 0 OR reposts <> 0 OR replies <> 0 OR quotes <> 0"
        )
        con.execute(
            f"INSERT INTO campaign_tag_counts SELECT {cid}, tag_key, day, sum(s) FROM"
            f" (SELECT s, unnest(tags) AS tag_key, day FROM {rows} x WHERE NOT is_repost)"
            " GROUP BY tag_key, day HAVING sum(s) <> 0"
        )
        # Per author: merge into campaign_authors with one probe of it.
        self.temp(
            "_ix_da",
            "SELECT author_uid, sum(s * CASE WHEN is_repost THEN 0 ELSE 1 END) AS dp,"
            f" sum(s * CASE WHEN is_repost THEN 1 ELSE 0 END) AS dr FROM {rows} x WHERE author_uid IS NOT NULL"
            " GROUP BY author_uid HAVING dp <> 0 OR dr <> 0",
        )
        n = self.temp(
            "_ix_da2",
            "SELECT d.author_uid, d.dp, d.dr, ca.rowid AS rid FROM _ix_da d LEFT JOIN"
            f" (SELECT rowid, author_uid FROM campaign_authors WHERE campaign_id = {cid}) ca"
            " ON ca.author_uid = d.author_uid",
        )
        if n:
            con.execute(
                "UPDATE campaign_authors SET posts = campaign_authors.posts + d.dp, reposts = campaign_authors.reposts"
                " + d.dr FROM _ix_da2 d WHERE d.rid IS NOT NULL AND campaign_authors.rowid = d.rid"
            )
            con.execute(
                f"INSERT INTO campaign_authors SELECT {cid}, author_uid, dp, dr FROM _ix_da2 WHERE rid IS NULL"
            )

    def count_rows(self) -> int:
        return int(
            self.con.execute(
                f"SELECT (SELECT count(*) FROM campaign_counts WHERE campaign_id = {self.cid})"
                f" + (SELECT count(*) FROM campaign_tag_counts WHERE campaign_id = {self.cid})"
            ).fetchall()[0][0]
        )

    def compact(self) -> int:
        """Sum the appended signed rows of the aggregates into one row per group."""
        con, cid = self.con, self.cid
        self.temp(
            "_ix_cc",
            "SELECT campaign_id, day, hour, platform, participant_id, is_repost, sum(n) AS n, sum(likes) AS likes,"
            " sum(reposts) AS reposts, sum(replies) AS replies, sum(quotes) AS quotes FROM campaign_counts"
            f" WHERE campaign_id = {cid} GROUP BY ALL HAVING sum(n) <> 0",
        )
        con.execute(f"DELETE FROM campaign_counts WHERE campaign_id = {cid}")
        con.execute("INSERT INTO campaign_counts SELECT * FROM _ix_cc")
        self.temp(
            "_ix_ct",
            "SELECT campaign_id, tag_key, day, sum(n) AS n FROM campaign_tag_counts"
            f" WHERE campaign_id = {cid} GROUP BY ALL HAVING sum(n) <> 0",
        )
        con.execute(f"DELETE FROM campaign_tag_counts WHERE campaign_id = {cid}")
        con.execute("INSERT INTO campaign_tag_counts SELECT * FROM _ix_ct")
        con.execute(f"DELETE FROM campaign_authors WHERE campaign_id = {cid} AND posts = 0 AND reposts = 0")
        return self.count_rows()

    # -- incremental update ----------------------------------------------------------------

    def update(self, old: Marks) -> None:
        con, cid, kc = self.con, self.cid, self.kc
        pm, tm, sm, am = old
        pm, tm, am = pm or _FLOOR, tm or _FLOOR, am or _FLOOR
        # What changed: all read from the end of the tables.
        n_posts = self.temp(
            "_d_posts",
            "SELECT uid, platform, author_uid, created_at, kind, repost_of_uid, deleted_at, edited_at"
            " FROM posts WHERE collected_at > ?",
            [pm],
        )
        self.temp(
            "_d_tags",
            f"SELECT uid, list_sort(list(DISTINCT {kc})) AS tags FROM post_hashtags WHERE collected_at > ?"
            f" AND {kc} IN ({self.keys}) GROUP BY uid",
            [pm],
        )
        n_tombs = self.temp(
            "_d_tombs",
            "SELECT uid FROM tombstones WHERE recorded_at > ? UNION SELECT a.uid FROM post_aliases a"
            " WHERE a.alias_uid IN (SELECT uid FROM tombstones WHERE recorded_at > ?)",
            [tm, tm],
        )
        self.temp(
            "_d_snaps",
            "SELECT uid, observed_at, likes, reposts, replies, quotes FROM metrics_snapshots WHERE rowid >= ?",
            [sm],
        )
        n_authors = self.temp(
            "_d_authors",
            "SELECT uid, platform, lower(handle) AS handle_norm FROM authors WHERE handle_changed_at > ?",
            [am],
        )

        # Window reposts: the new ones (a replaced post is replaced here too).
        edited = n_posts and self.uids("SELECT uid FROM _d_posts WHERE edited_at IS NOT NULL")
        if edited:
            con.execute(
                f"DELETE FROM campaign_reposts WHERE campaign_id = {cid} AND uid IN"
                " (SELECT uid FROM _d_posts WHERE edited_at IS NOT NULL)"
            )
        if n_posts:
            con.execute(
                f"INSERT INTO campaign_reposts SELECT {cid}, p.uid, p.repost_of_uid, t.uid IS NOT NULL FROM _d_posts p"
                f" LEFT JOIN _d_tags t ON t.uid = p.uid WHERE p.kind = 'repost' AND {self.window('p')}"
            )
        # Window reposts of changed or deleted posts: judged again.
        n_r = 0
        if n_posts or n_tombs:
            n_r = self.temp(
                "_ix_r",
                f"SELECT uid, own_tagged FROM campaign_reposts WHERE campaign_id = {cid} AND repost_of_uid IN"
                " (SELECT uid FROM _d_posts UNION ALL SELECT uid FROM _d_tombs)"
                " AND uid NOT IN (SELECT uid FROM _d_posts)",
            )
        cols = "uid, platform, author_uid, created_at, kind, repost_of_uid, deleted_at"
        self.temp(
            "_ix_cand",
            f"SELECT p.uid, p.platform, p.author_uid, p.created_at, p.kind, p.repost_of_uid, p.deleted_at,"
            " t.uid IS NOT NULL AS own_tagged, t.tags, p.edited_at IS NULL AS brand_new FROM _d_posts p"
            f" LEFT JOIN _d_tags t ON t.uid = p.uid WHERE {self.window('p')}",
        )
        if n_r:
            self.lookup_posts("_ix_rposts", self.uids("SELECT uid FROM _ix_r"), cols)
            con.execute(
                "INSERT INTO _ix_cand SELECT p.uid, p.platform, p.author_uid, p.created_at, p.kind, p.repost_of_uid,"
                " p.deleted_at, r.own_tagged, NULL, false FROM _ix_rposts p JOIN _ix_r r ON r.uid = p.uid"
                f" WHERE {self.window('p')}"
            )
        # The reposted posts of candidate reposts: stored? alive? carrying an official key?
        self.temp(
            "_ix_o",
            "SELECT p.uid, p.deleted_at IS NULL AS alive, t.uid IS NOT NULL AS tagged FROM _d_posts p"
            " LEFT JOIN _d_tags t ON t.uid = p.uid WHERE p.uid IN (SELECT repost_of_uid FROM _ix_cand"
            " WHERE kind = 'repost')",
        )
        n_t = self.temp(
            "_ix_otgt",
            "SELECT DISTINCT repost_of_uid AS uid FROM _ix_cand WHERE kind = 'repost' AND repost_of_uid IS NOT NULL"
            " AND repost_of_uid NOT IN (SELECT uid FROM _d_posts)",
        )

        # Old member rows of everything that may have changed, and the reposted posts that are
        # members (stored, alive, tagged): one probe of the index.
        self.temp(
            "_ix_x",
            "SELECT uid FROM _d_posts WHERE edited_at IS NOT NULL UNION SELECT uid FROM _d_tombs"
            " UNION SELECT uid FROM _ix_cand WHERE NOT brand_new UNION (SELECT uid FROM _d_snaps"
            " EXCEPT SELECT uid FROM _d_posts WHERE edited_at IS NULL)",
        )
        probe = "SELECT uid FROM _ix_x" + (" UNION SELECT uid FROM _ix_otgt" if n_t else "")
        self.temp(
            "_ix_probe",
            f"SELECT rowid AS rid, {_ROW}, participant_id FROM campaign_posts WHERE campaign_id = {cid}"
            f" AND uid IN ({probe})",
        )
        self.temp("_ix_old", "SELECT * FROM _ix_probe WHERE uid IN (SELECT uid FROM _ix_x)")
        others: list[str] = []
        if n_t:
            con.execute(
                "INSERT INTO _ix_o SELECT uid, true, true FROM _ix_probe WHERE NOT is_repost"
                " AND uid IN (SELECT uid FROM _ix_otgt) AND uid NOT IN (SELECT uid FROM _d_tombs)"
            )
            others = self.uids("SELECT uid FROM _ix_otgt WHERE uid NOT IN (SELECT uid FROM _ix_o)")
        # The others, through the primary key of posts.
        n_o = others and self.lookup_posts(
            "_ix_oposts",
            others,
            "uid, deleted_at, collected_at, kind <> 'repost' AND deleted_at IS NULL"
            f" AND {self.window('posts')} AS in_window, kind = 'repost' AND deleted_at IS NULL"
            f" AND {self.window('posts')} AS window_repost",
        )
        if n_o:
            con.execute(
                "INSERT INTO _ix_o SELECT o.uid, o.deleted_at IS NULL, false FROM _ix_oposts o"
                " WHERE o.in_window OR o.deleted_at IS NOT NULL"
            )
            # Window reposts carry their own judgement (campaign_reposts.own_tagged).
            con.execute(
                "INSERT INTO _ix_o SELECT r.uid, true, r.own_tagged FROM campaign_reposts r"
                f" WHERE r.campaign_id = {cid} AND r.uid IN (SELECT uid FROM _ix_oposts WHERE window_repost"
                " AND uid NOT IN (SELECT uid FROM _ix_o))"
            )
            rest = con.execute(
                "SELECT collected_at, list(uid) FROM _ix_oposts WHERE uid NOT IN (SELECT uid FROM _ix_o)"
                " GROUP BY collected_at"
            ).fetchall()
            if rest:
                # Their hashtags: the rows written with them (same batch time), found by zone maps:
                # about a millisecond per batch at 10M posts (what is left to make cheaper).
                tagged: set[str] = set()
                branches = [
                    f"SELECT uid FROM post_hashtags WHERE collected_at = {ts_literal(t)} AND {kc} IN ({self.keys})"
                    f" AND uid IN ({', '.join(map(_lit, us))})"
                    for t, us in rest
                    if t is not None
                ]
                for part in _chunks(branches, 200):
                    tagged.update(self.uids(" UNION ALL ".join(part)))
                with registered(con, _ix_otagged=pa.table({"uid": pa.array(sorted(tagged), pa.string())})):
                    con.execute(
                        "INSERT INTO _ix_o SELECT o.uid, true, o.uid IN (SELECT uid FROM _ix_otagged)"
                        " FROM _ix_oposts o WHERE o.uid NOT IN (SELECT uid FROM _ix_o)"
                    )

        # Judge the candidates (definitions: campaign_posts_sql, reposts_sql).
        day = day_expr(self.c, "c.created_at")
        self.temp(
            "_ix_new",
            f"SELECT c.uid, c.kind = 'repost' AS is_repost, c.platform, c.author_uid, c.created_at, {day} AS day,"
            " date_trunc('hour', c.created_at) AS hour, c.tags, c.brand_new FROM _ix_cand c"
            " LEFT JOIN _ix_o o ON o.uid = c.repost_of_uid AND c.kind = 'repost'"
            " WHERE c.deleted_at IS NULL AND CASE WHEN c.kind <> 'repost' THEN c.own_tagged"
            " ELSE (o.uid IS NULL AND c.own_tagged) OR (o.uid IS NOT NULL AND o.alive AND o.tagged) END",
        )

        # Latest engagement of the new campaign posts, and of members with new observations.
        order = (
            "ORDER BY observed_at DESC, likes DESC NULLS LAST, reposts DESC NULLS LAST,"
            " replies DESC NULLS LAST, quotes DESC NULLS LAST"
        )
        hist = self.uids("SELECT uid FROM _ix_new WHERE NOT is_repost AND NOT brand_new")
        self.temp(
            "_ix_obs",
            "SELECT uid, observed_at, likes, reposts, replies, quotes FROM _d_snaps"
            " UNION ALL SELECT uid, eng_at, likes, reposts, replies, quotes FROM _ix_old"
            " WHERE NOT is_repost AND eng_at IS NOT NULL",
        )
        if hist:  # an edited post: its whole history (rare)
            con.execute(
                "INSERT INTO _ix_obs SELECT uid, observed_at, likes, reposts, replies, quotes FROM metrics_snapshots"
                " WHERE uid IN (SELECT uid FROM _ix_new WHERE NOT is_repost AND NOT brand_new)"
            )
        self.temp(
            "_ix_eng",
            "SELECT uid, likes, reposts, replies, quotes, observed_at AS eng_at FROM (SELECT *,"
            f" row_number() OVER (PARTITION BY uid {order}) AS rn FROM _ix_obs) WHERE rn = 1",
        )
        # New rows: the judged candidates, and the unchanged members with new observations.
        self.temp(
            "_ix_add",
            "SELECT n.uid, n.is_repost, n.platform, n.author_uid, n.created_at, n.day, n.hour,"
            " e.likes, e.reposts, e.replies, e.quotes, e.eng_at, CASE WHEN n.is_repost THEN NULL ELSE n.tags END"
            " AS tags FROM _ix_new n LEFT JOIN _ix_eng e ON e.uid = n.uid AND NOT n.is_repost"
            " UNION ALL SELECT o.uid, o.is_repost, o.platform, o.author_uid, o.created_at, o.day, o.hour,"
            " coalesce(e.likes, o.likes), coalesce(e.reposts, o.reposts), coalesce(e.replies, o.replies),"
            " coalesce(e.quotes, o.quotes), coalesce(e.eng_at, o.eng_at), o.tags FROM _ix_old o"
            " LEFT JOIN _ix_eng e ON e.uid = o.uid AND NOT o.is_repost"
            " WHERE o.uid NOT IN (SELECT uid FROM _ix_cand) AND o.uid NOT IN (SELECT uid FROM _d_tombs)"
            " AND o.uid NOT IN (SELECT uid FROM _d_posts)",
        )

        # Registry: authors whose handle changed, then ids learned by new members' authors.
        rematch: set[str] = set()
        if n_authors:
            self.temp(
                "_ix_hold",
                f"SELECT author_uid, participant_id FROM campaign_handles WHERE campaign_id = {cid}"
                " AND author_uid IN (SELECT uid FROM _d_authors)",
            )
            con.execute(
                f"DELETE FROM campaign_handles WHERE campaign_id = {cid} AND author_uid IN (SELECT uid FROM _d_authors)"
            )
            self.match_handles(
                "SELECT uid, platform, handle_norm FROM _d_authors WHERE handle_norm IS NOT NULL"
            )
            rematch.update(
                self.uids(
                    "SELECT coalesce(o.author_uid, n.author_uid) FROM _ix_hold o FULL JOIN"
                    f" (SELECT author_uid, participant_id FROM campaign_handles WHERE campaign_id = {cid}"
                    " AND author_uid IN (SELECT uid FROM _d_authors)) n ON n.author_uid = o.author_uid"
                    " WHERE o.participant_id IS DISTINCT FROM n.participant_id"
                )
            )
        if rematch:
            self._rematch_rows(rematch)
        learners = (
            "(SELECT author_uid FROM _ix_add UNION SELECT author_uid FROM _ix_mrows)"
            if rematch
            else "_ix_add"
        )
        moved = set(self.learn(learners)) - rematch
        if moved:
            self._rematch_rows(moved)

        # Apply: remove the old rows, add the new ones (with their final participant).
        n_old = int(con.execute("SELECT count(*) FROM _ix_old").fetchall()[0][0])
        if n_old:
            con.execute("DELETE FROM campaign_posts WHERE rowid IN (SELECT rid FROM _ix_old)")
        joins, pid = self.pid_joins("a.author_uid")
        self.temp(
            "_ix_final",
            f"SELECT a.uid, a.is_repost, a.platform, a.author_uid, {pid} AS participant_id, a.created_at, a.day,"
            f" a.hour, a.likes, a.reposts, a.replies, a.quotes, a.eng_at, a.tags FROM _ix_add a{joins}",
        )
        con.execute(f"INSERT INTO campaign_posts SELECT {cid}, * FROM _ix_final")
        self.add_aggregates(
            "(SELECT -1 AS s, * EXCLUDE (rid) FROM _ix_old UNION ALL BY NAME SELECT 1 AS s, * FROM _ix_final)"
        )

    def _rematch_rows(self, authors: set[str]) -> None:
        """Members of ``authors`` whose match may have changed: removed and added again (their
        participant is recomputed when added)."""
        con, cid = self.con, self.cid
        with registered(con, _ix_ra=pa.table({"uid": pa.array(sorted(authors), pa.string())})):
            first = "_ix_mrows" not in self.temps
            sql = (
                f"SELECT rowid AS rid, {_ROW}, participant_id FROM campaign_posts WHERE campaign_id = {cid}"
                " AND author_uid IN (SELECT uid FROM _ix_ra) AND rowid NOT IN (SELECT rid FROM _ix_old)"
            )
            if first:
                self.temp("_ix_mrows", sql)
            else:
                con.execute(f"INSERT INTO _ix_mrows {sql}")
            con.execute(
                f"INSERT INTO _ix_old SELECT rid, {_ROW}, participant_id FROM _ix_mrows"
                " WHERE rid NOT IN (SELECT rid FROM _ix_old)"
            )
            con.execute(
                f"INSERT INTO _ix_add SELECT {_ROW} FROM _ix_mrows m WHERE m.uid NOT IN (SELECT uid FROM _ix_add)"
            )
