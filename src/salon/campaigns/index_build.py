"""Building a campaign's index (see ``salon.campaigns.index`` for what it holds and how it is
kept fresh): the helpers one refresh shares, registry matching (learning account ids at a first
handle match), the rebuild from ``salon.campaigns.definitions`` and the signed aggregates
(``campaign_counts``, ``campaign_tag_counts``, ``campaign_authors``) with their compaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from salon.campaigns.config import Campaign
from salon.campaigns.definitions import member_tags_sql, members_sql, ts_literal
from salon.campaigns.stored import learn_account_ids
from salon.store.archive import Archive

__all__ = ["FLOOR", "INDEX_TABLES", "ROW", "IndexBuilder", "Marks", "accounts_table", "chunks", "lit"]

INDEX_TABLES = (
    "campaign_posts",
    "campaign_reposts",
    "campaign_authors",
    "campaign_handles",
    "campaign_counts",
    "campaign_tag_counts",
)

FLOOR = datetime(1, 1, 2, tzinfo=UTC)  # a watermark before every write
LOOKUP_CHUNK = 2000  # uids per primary-key lookup (IN list of literals)

Marks = tuple[Any, Any, int, Any]  # posts, tombstones, snapshot rows, authors

# Columns of a member row, as kept in campaign_posts (participant_id is added when stored).
ROW = "uid, is_repost, platform, author_uid, created_at, day, hour, likes, reposts, replies, quotes, eng_at, tags"


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


def lit(v: str) -> str:
    """``v`` as an SQL string literal."""
    return "'" + v.replace("'", "''") + "'"


def chunks(xs: list[Any], n: int) -> Iterable[list[Any]]:
    """``xs`` in slices of at most ``n``."""
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


class IndexBuilder:
    """One refresh of one campaign's index (inside the caller's transaction): the shared helpers,
    registry matching, the rebuild from the definitions and the signed aggregates. The
    incremental update is ``salon.campaigns.index_delta.IndexUpdater``."""

    def __init__(self, archive: Archive, c: Campaign) -> None:
        self.archive, self.c, self.con = archive, c, archive.con
        self.cid = int(c.campaign_id)  # type: ignore[arg-type]
        self.kc = c.key_column
        self.keys = ", ".join(lit(k) for k in c.official_keys())
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
        for part in chunks(sorted(set(uids)), LOOKUP_CHUNK):
            self.con.execute(
                f"INSERT INTO {name} SELECT {cols} FROM posts WHERE uid IN ({', '.join(map(lit, part))})"
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
        handles = ", ".join(f"({lit(p)}, {lit(h)})" for _pid, p, h, _u in todo)
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
