"""The single writer: normalised items in, Arrow batches out, one transaction per batch.

Idempotence is by key: a raw record by the hash of its bytes, a post by its uid, a tombstone by
uid, an engagement snapshot by (uid, observed_at, counts), an author snapshot by a digest of its
fields. A batch is all-or-nothing, so a process killed mid-import leaves the archive as it was
after the last committed batch and a re-run completes it. What a batch holds, and the Arrow
tables it is written from, is ``salon.store.batch``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from salon import __version__
from salon.store import rawstore
from salon.store.archive import Archive
from salon.store.batch import AUTHOR_FIELDS, TS, Batch, raw_id
from salon.store.relations import registered

# Batch and raw_id live in salon.store.batch; still importable from here for one release (code
# written before the split imports them from the writer).
__all__ = ["Batch", "BatchResult", "Writer", "finish_import_row", "raw_id"]


@dataclass
class BatchResult:
    raw_new: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    tombstones_new: int = 0
    # A batch of records from several files (``Writer.write`` and the bulk path's
    # ``write_staged``): the new raw records and new posts of each file, by file id.
    raw_new_by_file: dict[int | None, int] = field(default_factory=dict)
    posts_new_by_file: dict[int | None, int] = field(default_factory=dict)


# Digest of an author snapshot's content (uid and fields), computed in SQL so every write path
# (the Python batch and the bulk X v2 path) keys snapshots the same way.
_AUTHOR_DIGEST = (
    "substr(md5(to_json(struct_pack(uid, handle, display_name, bio, url, followers, following, posts_count,"
    " bot, verified, created_at, indexable))), 1, 24)"
)


def finish_import_row(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    status: str,
    counts: dict[str, int],
    now: datetime | None = None,
) -> None:
    """Record the end of an import (its ``imports`` row): ``status``, the finish time (``now``,
    default the current time) and ``counts`` (keys ``in``, ``new``, ``duplicate``, ``bad``,
    ``posts_new``; a missing one is 0). ``Writer.finish_import`` and a collect run's
    ``salon.collect.state.finish_run`` both end with it."""
    con.execute(
        "UPDATE imports SET finished_at = ?, status = ?, records_in = ?, records_new = ?, records_duplicate = ?,"
        " records_bad = ?, posts_new = ? WHERE import_id = ?",
        [
            now if now is not None else datetime.now(UTC),
            status,
            counts.get("in", 0),
            counts.get("new", 0),
            counts.get("duplicate", 0),
            counts.get("bad", 0),
            counts.get("posts_new", 0),
            import_id,
        ],
    )


def _finish_row(
    file_id: int, sha256: str | None, fmt: str | None, status: str, counts: dict[str, int]
) -> tuple[Any, ...]:
    """A file's finished ``import_files`` values: file id, sha256, format, status, then its
    records in, new, duplicate and bad."""
    return (file_id, sha256, fmt, status, *(counts.get(k, 0) for k in ("in", "new", "duplicate", "bad")))


class Writer:
    """Writes batches to an archive. Every write of imported or collected records goes through
    one instance of this."""

    def __init__(self, archive: Archive) -> None:
        if archive.read_only:
            raise ValueError("cannot write to an archive opened read-only")
        self.archive = archive
        self.con = archive.con
        # ``import_files`` rows waiting for the next batch's transaction (``queue_file_start``,
        # ``queue_file_finish``): a folder of many small files costs no transaction per file.
        self._file_starts: list[tuple[int, int, str, int | None]] = []
        self._file_finishes: list[tuple[Any, ...]] = []
        self.commits = 0  # transactions committed by ``transaction`` (tests count them)

    # -- imports bookkeeping ------------------------------------------------------------------

    def start_import(self, kind: str, arguments: str) -> int:
        iid = int(self.con.execute("SELECT nextval('import_id_seq')").fetchone()[0])  # type: ignore[index]
        self.con.execute(
            "INSERT INTO imports (import_id, kind, started_at, salon_version, arguments, status)"
            " VALUES (?, ?, ?, ?, ?, 'running')",
            [iid, kind, datetime.now(UTC), __version__, arguments],
        )
        return iid

    def finish_import(self, import_id: int, status: str, counts: dict[str, int]) -> None:
        """End the import's row (``finish_import_row``). The store knows no campaigns: the code
        that finishes an import refreshes their indexes (``salon.campaigns.index.refresh_after_import``)."""
        finish_import_row(self.con, import_id, status, counts)

    def start_file(self, import_id: int, path: str, size: int | None) -> int:
        fid = int(self.con.execute("SELECT nextval('file_id_seq')").fetchone()[0])  # type: ignore[index]
        self.con.execute(
            "INSERT INTO import_files (import_id, file_id, path, size_bytes, status) VALUES (?, ?, ?, ?, 'reading')",
            [import_id, fid, path, size],
        )
        return fid

    def finish_file(
        self, file_id: int, sha256: str | None, fmt: str | None, status: str, counts: dict[str, int]
    ) -> None:
        fid, *values = _finish_row(file_id, sha256, fmt, status, counts)
        self.con.execute(
            "UPDATE import_files SET sha256 = ?, format = ?, status = ?, records_in = ?, records_new = ?,"
            " records_duplicate = ?, records_bad = ? WHERE file_id = ?",
            [*values, fid],
        )

    def new_file_ids(self, n: int) -> list[int]:
        """``n`` file ids for ``import_files`` rows, in one statement (a folder's files are
        numbered before any is read)."""
        if n <= 0:
            return []
        rows = self.con.execute("SELECT nextval('file_id_seq') FROM range(?)", [n]).fetchall()
        return [int(r[0]) for r in rows]

    def queue_file_start(self, import_id: int, file_id: int, path: str, size: int | None) -> None:
        """``start_file`` for a file id from ``new_file_ids``, written in the transaction of the
        next batch (``transaction``), before the batch's records: its row and its first records
        commit together, so a file's row never misses while its records are kept."""
        self._file_starts.append((import_id, file_id, path, size))

    def queue_file_finish(
        self, file_id: int, sha256: str | None, fmt: str | None, status: str, counts: dict[str, int]
    ) -> None:
        """``finish_file``, written in the transaction of the next batch or by ``flush_files``."""
        self._file_finishes.append(_finish_row(file_id, sha256, fmt, status, counts))

    def flush_files(self) -> None:
        """Write the queued ``import_files`` rows now, in a transaction of their own (at the end
        of an import: its last files' rows)."""
        if self._file_starts or self._file_finishes:
            with self.transaction():
                pass

    @contextmanager
    def transaction(
        self, commit_lock: AbstractContextManager[Any] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A batch's transaction (``Archive.transaction``), which first writes the queued
        ``import_files`` rows. They are kept queued when the transaction fails."""
        starts, finishes = self._file_starts, self._file_finishes
        self._file_starts, self._file_finishes = [], []
        try:
            with self.archive.transaction(commit_lock) as con:
                self._write_files(starts, finishes)
                yield con
        except BaseException:
            self._file_starts[:0] = starts
            self._file_finishes[:0] = finishes
            raise
        self.commits += 1

    def _write_files(self, starts: list[tuple[Any, ...]], finishes: list[tuple[Any, ...]]) -> None:
        con = self.con
        if starts:
            tbl = pa.table(
                {
                    "import_id": pa.array([r[0] for r in starts], pa.int64()),
                    "file_id": pa.array([r[1] for r in starts], pa.int64()),
                    "path": pa.array([r[2] for r in starts], pa.string()),
                    "size_bytes": pa.array([r[3] for r in starts], pa.int64()),
                }
            )
            with registered(con, _q_files=tbl):
                con.execute(
                    "INSERT INTO import_files (import_id, file_id, path, size_bytes, status)"
                    " SELECT import_id, file_id, path, size_bytes, 'reading' FROM _q_files"
                )
        if finishes:
            cols = ("file_id", "sha256", "format", "status", "rin", "rnew", "rdup", "rbad")
            types = [pa.int64(), pa.string(), pa.string(), pa.string()] + [pa.int64()] * 4
            tbl = pa.table(
                {
                    c: pa.array([r[i] for r in finishes], t)
                    for i, (c, t) in enumerate(zip(cols, types, strict=True))
                }
            )
            with registered(con, _q_done=tbl):
                con.execute(
                    "UPDATE import_files SET sha256 = q.sha256, format = q.format, status = q.status,"
                    " records_in = q.rin, records_new = q.rnew, records_duplicate = q.rdup, records_bad = q.rbad"
                    " FROM _q_done q WHERE import_files.file_id = q.file_id"
                )

    def existing_raw_ids(self, ids: list[str], con: duckdb.DuckDBPyConnection | None = None) -> set[str]:
        """Which of these raw ids the archive already holds (read through ``con``, a cursor of
        this archive, when another thread asks)."""
        if not ids:
            return set()
        con = con or self.con
        with registered(con, _probe_raw=pa.table({"raw_id": pa.array(ids, pa.string())})):
            rows = con.execute("SELECT r.raw_id FROM raw r SEMI JOIN _probe_raw p USING (raw_id)").fetchall()
        return {r[0] for r in rows}

    # -- the batch ------------------------------------------------------------------------------

    def write(self, batch: Batch, import_id: int | None = None) -> BatchResult:
        """Write one batch in one transaction."""
        result = BatchResult()
        now = datetime.now(UTC)
        file_ids = batch.raw["file_id"]
        several = len(set(file_ids)) > 1
        by_raw: dict[str, int] | None = {} if several else None
        with self.transaction() as con:
            if batch.raw["raw_id"]:
                result.raw_new = self.insert_raw(
                    batch.raw["raw_id"],
                    now,
                    packed=batch.built("raw"),
                    format=batch.raw["format"],
                    file_id=batch.raw["file_id"],
                    line=batch.raw["line"],
                    source=batch.raw["source"],
                    retrieved_at=batch.raw["retrieved_at"],
                )
            if batch.posts:
                self._write_posts(batch, now, result, by_raw)
            if several:
                self.split_by_file(result, batch.raw["raw_id"], file_ids, by_raw or {})
            elif file_ids:
                result.raw_new_by_file[file_ids[0]] = result.raw_new
                result.posts_new_by_file[file_ids[0]] = result.posts_new
            if batch.tombstones:
                self._write_tombstones(batch, now, result)
            if batch.snapshots:
                self._write_snapshots(batch)
            if batch.authors:
                self._write_authors(batch)
            if batch.quarantine:
                con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)", batch.quarantine)
        return result

    def insert_raw(
        self,
        raw_ids: list[str],
        now: datetime,
        *,
        packed: rawstore.Packed,
        format: str | list[str],
        file_id: int | list[int | None] | None,
        line: list[int | None],
        source: str | list[str | None] | None,
        retrieved_at: datetime | list[datetime | None] | None = None,
    ) -> int:
        """Store new raw records (the caller has left out those already stored): their payloads,
        which the caller packed into compressed blocks (``packed``, from ``rawstore.pack``), into
        ``raw_blocks``, and one ``raw`` row each with its provenance.
        Scalars stand for the same value on every row. Runs inside the caller's transaction.
        Returns how many were new."""
        n = len(raw_ids)

        def col(v: Any, typ: pa.DataType) -> pa.Array:
            return pa.array(v if isinstance(v, list) else [v] * n, typ)

        block_ids = rawstore.store_blocks(self.con, packed)
        tbl = pa.table(
            {
                "raw_id": pa.array(raw_ids, pa.string()),
                "format": col(format, pa.string()),
                "block_id": pa.array(block_ids, pa.int64()),
                "block_offset": pa.array(packed.offset, pa.int64()),
                "block_length": pa.array(packed.length, pa.int64()),
                "file_id": col(file_id, pa.int64()),
                "line": pa.array(line, pa.int64()),
                "source": col(source, pa.string()),
                "retrieved_at": col(retrieved_at, TS),
            }
        )
        with registered(self.con, _b_raw=tbl):
            # The key's index keeps a record stored once even if a caller sends one twice (an
            # anti-join would read every stored raw id at each batch).
            row = self.con.execute(
                "INSERT OR IGNORE INTO raw SELECT raw_id, format, block_id, block_offset, block_length, file_id,"
                " line, source, retrieved_at, ?, ? FROM _b_raw",
                [__version__, now],
            ).fetchone()
        return int(row[0]) if row else 0

    def split_by_file(
        self, result: BatchResult, raw_ids: list[str], file_ids: list[Any], posts_by_raw: dict[str, int]
    ) -> None:
        """Give a batch of several files' records each file's new raw records and new posts
        (``result.raw_new_by_file``, ``posts_new_by_file``), inside the batch's transaction:
        ``raw_ids``/``file_ids`` are the batch's raw records and their files, ``posts_by_raw``
        the new posts of each raw record (``merge_posts``)."""
        of_file = dict(zip(raw_ids, file_ids, strict=True))
        if result.raw_new == len(raw_ids):  # every record was new (the caller left out the stored ones)
            result.raw_new_by_file = dict(Counter(file_ids))
        else:  # some were stored meanwhile by another writer: those rows carry another file id
            tbl = pa.table(
                {"raw_id": pa.array(raw_ids, pa.string()), "file_id": pa.array(file_ids, pa.int64())}
            )
            with registered(self.con, _b_split=tbl):
                rows = self.con.execute(
                    "SELECT b.file_id, count(*) FROM _b_split b JOIN raw r USING (raw_id)"
                    " WHERE r.file_id IS NOT DISTINCT FROM b.file_id GROUP BY b.file_id"
                ).fetchall()
            result.raw_new_by_file = {r[0]: int(r[1]) for r in rows}
        posts: Counter[Any] = Counter()
        for rid, n in posts_by_raw.items():
            posts[of_file.get(rid)] += n
        result.posts_new_by_file = dict(posts)

    def _write_posts(
        self, batch: Batch, now: datetime, result: BatchResult, by_raw: dict[str, int] | None = None
    ) -> None:
        with registered(self.con, **batch.built("posts")):
            self.merge_posts(now, result, by_raw)

    def merge_posts(self, now: datetime, result: BatchResult, by_raw: dict[str, int] | None = None) -> None:
        """Merge a batch's posts into the archive, set-based. The batch is in relations
        ``_s_posts`` (one row per uid, the batch's best observation), ``_s_tags``,
        ``_s_mentions``, ``_s_urls``, ``_s_media`` (its entities) and ``_s_aliases`` (other keys
        of its posts, ``alias_uid, uid``): a new uid is inserted, a
        newer version of an edited post replaces the stored one (entities included), and a
        post stored only as context becomes top-level when seen top-level. ``by_raw``, when
        given, receives the number of new posts of each raw record (``split_by_file``)."""
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _s_class AS SELECT s.uid,"
            " CASE WHEN p.uid IS NULL THEN 'insert'"
            " WHEN s.edited_at IS NOT NULL AND (p.edited_at IS NULL OR s.edited_at > p.edited_at) THEN 'replace'"
            " WHEN p.is_context AND NOT s.is_context THEN 'promote' END AS action,"
            " p.is_context AS old_context"
            " FROM _s_posts s LEFT JOIN posts p ON p.uid = s.uid"
        )
        counts = dict(
            con.execute(
                "SELECT action, count(*) FROM _s_class WHERE action IS NOT NULL GROUP BY action"
            ).fetchall()
        )
        changed = "(SELECT uid FROM _s_class WHERE action IN ('insert', 'replace'))"
        if counts.get("replace"):
            repl = "(SELECT uid FROM _s_class WHERE action = 'replace')"
            for table in ("post_hashtags", "post_mentions", "post_urls", "post_media"):
                con.execute(f"DELETE FROM {table} WHERE uid IN {repl}")
            con.execute(f"DELETE FROM posts WHERE uid IN {repl}")
            result.posts_updated += counts["replace"]
        if counts.get("insert") or counts.get("replace"):
            # A replaced post stays top-level once it was stored top-level.
            con.execute(
                f"INSERT INTO posts ({_POST_COLUMNS}) SELECT s.uid, s.platform, s.native_id, s.uri, s.url,"
                " s.author_uid, s.created_at, s.indexed_at, ?, s.text, s.lang, s.kind, s.reply_to_uid, s.root_uid,"
                " s.quote_of_uid, s.repost_of_uid, s.edited_at, NULL, s.sensitive,"
                " s.is_context AND coalesce(c.old_context, true), s.raw_id"
                " FROM _s_posts s JOIN _s_class c ON c.uid = s.uid WHERE c.action IN ('insert', 'replace')",
                [now],
            )
            # Hashtag rows carry their post's batch time: the campaign index reads the new ones
            # by it (salon.campaigns.index).
            con.execute(
                "INSERT INTO post_hashtags (uid, tag_key, tag_norm, tag_display, source, collected_at)"
                f" SELECT uid, tag_key, tag_norm, tag_display, source, ? FROM _s_tags WHERE uid IN {changed}",
                [now],
            )
            for table, src, cols in (
                ("post_mentions", "_s_mentions", "uid, handle"),
                ("post_urls", "_s_urls", "uid, url"),
                ("post_media", "_s_media", "uid, position, type, url, alt_text, preview_url"),
            ):
                con.execute(f"INSERT INTO {table} SELECT {cols} FROM {src} WHERE uid IN {changed}")
            # Other keys of the new posts (Mastodon per-instance ids): replies stored earlier
            # under an alias now point at the real uid.
            n_alias = con.execute(
                "CREATE OR REPLACE TEMP TABLE _s_alias_new AS SELECT alias_uid, uid FROM _s_aliases"
                f" WHERE alias_uid <> uid AND uid IN {changed}"
            ).fetchone()[0]  # type: ignore[index]
            if n_alias:
                con.execute(
                    "INSERT INTO post_aliases SELECT DISTINCT ON (alias_uid) alias_uid, uid FROM _s_alias_new"
                    " WHERE alias_uid NOT IN (SELECT alias_uid FROM post_aliases)"
                )
                con.execute(
                    "UPDATE posts SET reply_to_uid = a.uid FROM _s_alias_new a WHERE posts.reply_to_uid = a.alias_uid"
                )
            con.execute("DROP TABLE _s_alias_new")
            con.execute(
                "UPDATE posts SET reply_to_uid = a.uid FROM post_aliases a"
                f" WHERE posts.reply_to_uid = a.alias_uid AND posts.uid IN {changed}"
            )
            # A deletion may have arrived before the post itself.
            con.execute(
                "UPDATE posts SET deleted_at = coalesce(t.deleted_at, t.recorded_at) FROM"
                " (SELECT coalesce(a.uid, t.uid) AS uid, t.deleted_at, t.recorded_at FROM tombstones t"
                "  LEFT JOIN post_aliases a ON a.alias_uid = t.uid) t"
                f" WHERE posts.uid = t.uid AND posts.uid IN {changed}"
            )
        result.posts_new += counts.get("insert", 0)
        if by_raw is not None and counts.get("insert"):
            by_raw.update(
                con.execute(
                    "SELECT s.raw_id, count(*) FROM _s_posts s JOIN _s_class c ON c.uid = s.uid"
                    " WHERE c.action = 'insert' GROUP BY s.raw_id"
                ).fetchall()
            )
        if counts.get("promote"):
            con.execute(
                "UPDATE posts SET is_context = false WHERE uid IN"
                " (SELECT uid FROM _s_class WHERE action = 'promote')"
            )
        con.execute("DROP TABLE _s_class")

    def _write_tombstones(self, batch: Batch, now: datetime, result: BatchResult) -> None:
        con = self.con
        tbl = pa.table(
            {
                "uid": pa.array(list(batch.tombstones), pa.string()),
                "deleted_at": pa.array([v[0] for v in batch.tombstones.values()], TS),
                "raw_id": pa.array([v[1] for v in batch.tombstones.values()], pa.string()),
            }
        )
        with registered(con, _b_tomb=tbl):
            # DuckDB's INSERT returns how many rows it inserted.
            result.tombstones_new = con.execute(
                "INSERT INTO tombstones SELECT uid, deleted_at, raw_id, ? FROM _b_tomb"
                " WHERE uid NOT IN (SELECT uid FROM tombstones)",
                [now],
            ).fetchone()[0]  # type: ignore[index]
            con.execute(
                "UPDATE posts SET deleted_at = coalesce(t.deleted_at, t.recorded_at) FROM"
                " (SELECT coalesce(a.uid, t.uid) AS uid, t.deleted_at, t.recorded_at FROM tombstones t"
                "  LEFT JOIN post_aliases a ON a.alias_uid = t.uid WHERE t.uid IN (SELECT uid FROM _b_tomb)) t"
                " WHERE posts.uid = t.uid AND posts.deleted_at IS NULL"
            )

    def _write_snapshots(self, batch: Batch) -> None:
        with registered(self.con, _b_snap=batch.built("snapshots")):
            self.insert_snapshots("_b_snap")

    def insert_snapshots(self, rel: str) -> None:
        """Insert engagement observations from relation ``rel`` (uid, observed_at, likes,
        reposts, replies, quotes, raw_id, ord). The same observation read again (an overlapping
        file) adds nothing; within a batch the first one (by ``ord``) is kept."""
        self.con.execute(
            "INSERT INTO metrics_snapshots SELECT b.uid, b.observed_at, b.likes, b.reposts, b.replies, b.quotes,"
            " b.raw_id FROM (SELECT DISTINCT ON (uid, observed_at, likes, reposts, replies, quotes) *"
            f" FROM {rel} ORDER BY uid, observed_at, likes, reposts, replies, quotes, ord) b"
            # Only the stored snapshots of the batch's posts are compared (a semi-join on uid):
            # an anti-join on the whole table would hash every stored snapshot at each batch.
            " WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM metrics_snapshots"
            f" WHERE uid IN (SELECT uid FROM {rel})) m WHERE"
            " m.uid = b.uid AND m.observed_at = b.observed_at AND m.likes IS NOT DISTINCT FROM b.likes AND"
            " m.reposts IS NOT DISTINCT FROM b.reposts AND m.replies IS NOT DISTINCT FROM b.replies AND"
            " m.quotes IS NOT DISTINCT FROM b.quotes)"
        )

    def _write_authors(self, batch: Batch) -> None:
        with registered(self.con, _b_auth=batch.built("authors")):
            self.upsert_authors("_b_auth")

    def upsert_authors(self, rel: str) -> None:
        """Author snapshots from relation ``rel`` (one row per uid: uid, platform, native_id, the
        author fields, observed_at): a snapshot row when its content is new (by digest), and the
        ``authors`` row updated to the latest."""
        con = self.con
        fields = ", ".join(AUTHOR_FIELDS)
        con.execute(
            f"INSERT INTO author_snapshots SELECT uid, observed_at, {fields}, digest FROM"
            f" (SELECT *, {_AUTHOR_DIGEST} AS digest FROM {rel}) b"
            " WHERE NOT EXISTS (SELECT 1 FROM (SELECT digest FROM author_snapshots"
            f" WHERE uid IN (SELECT uid FROM {rel})) s WHERE s.digest = b.digest)"
        )
        # The latest snapshot wins; a sparse snapshot (a Jetstream DID with no profile) never
        # erases what a fuller one said.
        sets = ", ".join(f"{f} = coalesce(excluded.{f}, authors.{f})" for f in AUTHOR_FIELDS)
        con.execute(
            f"INSERT INTO authors SELECT uid, platform, native_id, {fields}, observed_at, current_timestamp FROM {rel}"
            f" ON CONFLICT (uid) DO UPDATE SET {sets}, observed_at = excluded.observed_at,"
            # When the row is new or its handle changes (the campaign index re-matches these).
            " handle_changed_at = CASE WHEN coalesce(excluded.handle, authors.handle) IS DISTINCT FROM authors.handle"
            " THEN excluded.handle_changed_at ELSE authors.handle_changed_at END"
            " WHERE excluded.observed_at >= authors.observed_at"
        )


_POST_COLUMNS = (
    "uid, platform, native_id, uri, url, author_uid, created_at, indexed_at, collected_at, text, lang, kind,"
    " reply_to_uid, root_uid, quote_of_uid, repost_of_uid, edited_at, deleted_at, sensitive, is_context, raw_id"
)
