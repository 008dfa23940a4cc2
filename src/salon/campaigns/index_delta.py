"""The incremental update of a campaign's index: what changed since the last refresh is read
from the end of the archive tables (the watermarks of ``salon.campaigns.index``), judged again
by the definitions, and the signed change of every aggregate is appended."""

from __future__ import annotations

import pyarrow as pa

from salon.campaigns.definitions import day_expr, ts_literal
from salon.campaigns.index_build import FLOOR, ROW, IndexBuilder, Marks, chunks, lit
from salon.store.relations import registered

__all__ = ["IndexUpdater"]


class IndexUpdater(IndexBuilder):
    """One refresh of one campaign's index that can also update it by delta (``update``)."""

    def update(self, old: Marks) -> None:
        con, cid, kc = self.con, self.cid, self.kc
        pm, tm, sm, am = old
        pm, tm, am = pm or FLOOR, tm or FLOOR, am or FLOOR
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
            f"SELECT rowid AS rid, {ROW}, participant_id FROM campaign_posts WHERE campaign_id = {cid}"
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
                    f" AND uid IN ({', '.join(map(lit, us))})"
                    for t, us in rest
                    if t is not None
                ]
                for part in chunks(branches, 200):
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
                f"SELECT rowid AS rid, {ROW}, participant_id FROM campaign_posts WHERE campaign_id = {cid}"
                " AND author_uid IN (SELECT uid FROM _ix_ra) AND rowid NOT IN (SELECT rid FROM _ix_old)"
            )
            if first:
                self.temp("_ix_mrows", sql)
            else:
                con.execute(f"INSERT INTO _ix_mrows {sql}")
            con.execute(
                f"INSERT INTO _ix_old SELECT rid, {ROW}, participant_id FROM _ix_mrows"
                " WHERE rid NOT IN (SELECT rid FROM _ix_old)"
            )
            con.execute(
                f"INSERT INTO _ix_add SELECT {ROW} FROM _ix_mrows m WHERE m.uid NOT IN (SELECT uid FROM _ix_add)"
            )
