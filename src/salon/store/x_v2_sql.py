"""The bulk path for X API v2 lines (twarc2 pages, stream lines, flattened tweets): the same
rows as ``salon.normalize.x_v2`` + ``Batch``, computed set-based by DuckDB.

The importer hashes the lines and drops the raw ids already stored; ``prepare_lines`` (off the
writer's thread) tells each line's shape, from its bytes where they tell (``line_shape``) and by
DuckDB for the rest, checks the lines are UTF-8, builds one Arrow table of them from a single
buffer and packs the raw blocks. DuckDB parses each line once with a struct made for its shape
(page, stream line, flattened tweet): pages and stream lines in one pass whose row ``r`` holds a
line's r-th data tweet, included tweet, user and media (``_fx_rows``), the tweets kept as structs
until ``_fx_proj`` projects them to flat columns (materialising wide nested structs, not parsing,
is what costs). Posts, entities, authors and engagement snapshots are then derived with SQL and
merged by the same ``Writer`` statements as the Python path (``merge_posts``,
``insert_snapshots``, ``upsert_authors``), so both paths key, deduplicate and update alike.

``salon.normalize.x_v2`` stays the definition: this module reproduces it for the shapes it
recognises (``stage`` says whether every line of a batch is one of them) and the importer sends
any other batch through the Python normaliser. ``tests/test_fast_path_parity.py`` checks both
give identical tables on every corpus file. What DuckDB reads of a line (its shape, the structs
it is parsed with, the SQL forms of the normaliser's rules) is in ``salon.store.x_v2_read``.
"""

from __future__ import annotations

from array import array
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

import duckdb
import pyarrow as pa

from salon.hashtags import tag_key, tag_norm
from salon.store import rawstore
from salon.store.batch import TS, Origin
from salon.store.relations import registered
from salon.store.writer import BatchResult, Writer
from salon.store.x_v2_read import (
    FLAT_STRUCT,
    LINE_SPAN,
    ORD,
    PAGE_STRUCT,
    STREAM_STRUCT,
    bad_flat_tweet,
    bad_page_tweet,
    bad_ts,
    line_shape,
    proj,
    shapes_by_duckdb,
    ts,
    v2_tweet,
)

__all__ = ["FORMAT", "Lines", "drop", "file_cut", "prepare_lines", "stage", "write_staged"]

FORMAT = "x-v2"


@dataclass
class Lines:
    """A batch of new X v2 lines made ready for DuckDB by ``prepare_lines`` (which needs no
    writer, so it runs while the previous batch is written). The payloads are held once, in
    the Arrow table's buffer."""

    table: pa.Table  # j, rid, payload (text), shape
    rids: list[str]
    linenos: list[int]
    packed: rawstore.Packed  # the raw blocks
    # The connection whose temporary tables hold the batch parsed (``parse``), when it was
    # parsed on another connection than the writer's.
    parsed_on: duckdb.DuckDBPyConnection | None = None
    # False when ``parse`` found a line of a shape this path does not reproduce.
    readable: bool = True
    # Each line's file, when the batch holds lines of several files (``prepare_lines``).
    origins: list[Origin] | None = None

    def __len__(self) -> int:
        return len(self.rids)

    def _views(self) -> list[memoryview]:
        """Each line's bytes, as views of the Arrow buffer (no copy)."""
        text = self.table.column("payload").chunk(0)
        offsets, data = text.buffers()[1], text.buffers()[2]
        ends = memoryview(offsets).cast("q")
        first = text.offset  # a slice (``split``) shares its parent's buffers
        buf = memoryview(data)
        return [buf[ends[first + i] : ends[first + i + 1]] for i in range(len(text))]

    def payloads(self) -> list[bytes]:
        """Each line's bytes (for the Python normaliser, when the bulk path turns them down)."""
        return [bytes(v) for v in self._views()]

    def split(self, at: int | None = None) -> tuple[Lines, Lines]:
        """The batch in two halves, in order (when DuckDB's memory limit stops a parse of the
        whole), or cut before line ``at``. Each keeps its lines' ``j`` (their order in the
        batch) and gets its own raw blocks."""
        half = len(self) // 2 if at is None else at
        views = self._views()

        def part(a: int, b: int) -> Lines:
            # A slice shares the buffers (``_views`` reads its offset).
            table = self.table.slice(a, b - a)
            origins = self.origins[a:b] if self.origins is not None else None
            return Lines(table, self.rids[a:b], self.linenos[a:b], rawstore.pack(views[a:b]), origins=origins)

        return part(0, half), part(half, len(self))


def file_cut(lines: Lines) -> int | None:
    """Where to cut a batch of several files' lines in two, at the file boundary nearest its
    middle (None for the lines of one file): a file the bulk path turns down is then found
    by halves, and the other files' lines still take the bulk path."""
    if lines.origins is None:
        return None
    bounds = [
        i for i in range(1, len(lines.origins)) if lines.origins[i].file_id != lines.origins[i - 1].file_id
    ]
    if not bounds:
        return None
    return min(bounds, key=lambda i: abs(2 * i - len(lines.origins or ())))


def prepare_lines(
    con: duckdb.DuckDBPyConnection,
    payloads: list[bytes],
    rids: list[str],
    linenos: list[int],
    origins: list[Origin] | None = None,
) -> Lines | None:
    """The lines as one Arrow table (shapes told, UTF-8 checked) and their raw blocks; None
    when their bytes already show this path cannot read them (not JSON objects, not UTF-8).
    ``con`` (any cursor of the archive) tells the shape of the rare lines whose bytes do not.
    ``origins`` gives each line's file when the batch spans several (its provenance and
    observation time; otherwise the caller's, given when writing)."""
    if not payloads:
        return None
    shapes: list[str | None] = []
    for ln in payloads:
        if ln[:1] != b"{":
            return None
        shapes.append(line_shape(ln))
    try:
        # One buffer and its offsets: 6x faster than converting a list of bytes objects.
        offsets = array("q", [0])
        offsets.extend(accumulate(map(len, payloads)))
        buf = b"".join(payloads)
        text = pa.Array.from_buffers(
            pa.large_string(), len(payloads), [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
        )
        text.validate(full=True)  # UTF-8
        unknown = [i for i, sh in enumerate(shapes) if sh is None]
        if unknown:
            for i, sh in zip(unknown, shapes_by_duckdb(con, text.take(unknown)), strict=True):
                shapes[i] = sh
    except (duckdb.Error, pa.ArrowInvalid):
        return None
    table = pa.table(
        {
            "j": pa.array(range(len(payloads)), pa.int32()),
            "rid": pa.array(rids, pa.string()),
            "payload": text,
            "shape": pa.array(shapes, pa.string()),
            "observed": pa.array([o.observed_at for o in origins] if origins else [None] * len(payloads), TS),
        }
    )
    view = memoryview(buf)
    packed = rawstore.pack([view[offsets[i] : offsets[i + 1]] for i in range(len(payloads))])
    return Lines(table, rids, linenos, packed, origins=origins)


def stage(con: duckdb.DuckDBPyConnection, lines: Lines, observed_at: datetime) -> bool:
    """Parse a batch of lines into temporary tables (``parse``, then ``derive``). False when a
    line is not a shape this path reproduces exactly (the caller then normalises the batch in
    Python); DuckDB running out of memory raises ``duckdb.OutOfMemoryException``.
    ``observed_at`` is the observation time of payloads that carry none (the file's
    modification time)."""
    if not parse(con, lines):
        return False
    derive(con, observed_at)
    return True


def parse(con: duckdb.DuckDBPyConnection, lines: Lines) -> bool:
    """The first half of ``stage``, which needs nothing of the archive: parse the lines into
    temporary tables of ``con`` and tell whether this path reproduces every one. The importer
    runs it on the preparing thread's connection while the writer writes the previous batch."""
    try:
        with registered(con, _fx_in=lines.table):
            bad_users = _parse(con)
    except duckdb.OutOfMemoryException:
        raise  # not the lines' fault: the caller decides
    except duckdb.Error:
        return False  # malformed JSON somewhere: the Python path quarantines it
    return _eligible(con, bad_users)


def derive(con: duckdb.DuckDBPyConnection, observed_at: datetime) -> None:
    """The second half of ``stage``: from the parsed tables to those ``write_staged`` reads."""
    con.execute("SET VARIABLE fx_observed = ?::TIMESTAMPTZ", [observed_at])
    _derive(con)


# What ``derive`` makes for ``write_staged``.
STAGED = ("_s_posts", "_s_tags", "_s_mentions", "_s_urls", "_s_aliases", "_s_media", "_s_snap", "_s_auth")


def staged_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """What ``derive`` made on ``con``, as Arrow tables, for ``write_staged`` on another
    connection (temporary tables are their connection's own)."""
    return {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in STAGED}


def _parse(con: duckdb.DuckDBPyConnection) -> int:
    """From the lines (``_fx_in``) to flat relations: every tweet (``_fx_proj``) and its
    references (``_fx_reflist``), the lines (``_fx_lines``), the included users and media
    (``_fx_users``, ``_fx_media``). Returns how many included users this path cannot read."""
    src = "_fx_in"
    # Pages and stream lines in one pass (each parse of the lines costs as much as what is read
    # from it): row ``r`` of a line holds its r-th data tweet, included tweet, user and media.
    # Lists unnested side by side are zipped (the shorter padded with NULL): cheaper than
    # indexing each list by ``r``, and the tweets stay structs until ``_fx_proj`` reads them
    # once (measured on a 16 MB batch: this pass and ``_fx_proj`` 168 ms -> 135 ms).
    rows = []
    for shape, struct, data in (("P", PAGE_STRUCT, "d.data"), ("S", STREAM_STRUCT, "[d.data]")):
        rows.append(
            f"""SELECT j, rid, '{shape}' AS shape, len({data}) AS n_data, len(d.includes.tweets) AS n_inc,
              len(d.includes.users) AS n_users, d.__twarc.retrieved_at AS retrieved_at, d.action AS action,
              (d.includes IS NOT NULL OR d.meta IS NOT NULL OR d.matching_rules IS NOT NULL
                OR d.errors IS NOT NULL OR d.__twarc IS NOT NULL) AS sniffed,
              unnest(range(1, greatest(len({data}), len(d.includes.tweets), len(d.includes.users),
                len(d.includes.media), 1) + 1)) AS r,
              unnest({data}) AS t, unnest(d.includes.tweets) AS i, unnest(d.includes.users) AS u,
              unnest(d.includes.media) AS m
            FROM (SELECT j, rid, json_transform(payload, '{struct}') AS d FROM {src} WHERE shape = '{shape}')"""
        )
    con.execute("CREATE OR REPLACE TEMP TABLE _fx_rows AS " + " UNION ALL ".join(rows))

    # Every tweet with its place in the normaliser's emission order (``seq``, ``ord``): data
    # entries (or the flattened line itself) in order, each followed by the tweets it embeds,
    # then the included tweets. ``emit``: the normaliser makes a post of it; ``bad``: this path
    # cannot reproduce it; ``origin``: P for a page or stream line, F for a flattened one.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fx_proj AS
        SELECT j, rid, seq, {ORD} AS ord, false AS included, true AS emit, false AS ctx, 1000 AS step,
          'P' AS origin, {proj("t", False)}, {v2_tweet("t")} AS v2, {bad_page_tweet("t")} AS bad
        FROM (SELECT j, rid, t, (r * 1000000)::BIGINT AS seq FROM _fx_rows WHERE r <= n_data)
        UNION ALL
        SELECT j, rid, seq, {ORD}, true, true, true, 1000, 'P', {proj("i", False)}, false, {bad_page_tweet("i")}
        FROM (SELECT j, rid, i, (1000000000000 + r * 1000000)::BIGINT AS seq FROM _fx_rows WHERE r <= n_inc)"""
    )
    # One included tweet per id: first position, last value (the normaliser's dict by id).
    if _count(con, "SELECT count(*) - count(DISTINCT (j, id)) FROM _fx_proj WHERE included"):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _fx_incdup AS
            SELECT j, id, min(seq) AS first_seq, max(seq) AS last_seq FROM _fx_proj WHERE included
            GROUP BY j, id HAVING count(*) > 1"""
        )
        con.execute(
            """DELETE FROM _fx_proj WHERE included AND (j, id, seq) IN
            (SELECT (j, id, seq) FROM _fx_proj JOIN _fx_incdup USING (j, id) WHERE included AND seq <> last_seq)"""
        )
        con.execute(
            f"""UPDATE _fx_proj SET seq = d.first_seq, ord = d.j::BIGINT * {LINE_SPAN} + d.first_seq
            FROM _fx_incdup d WHERE _fx_proj.included AND _fx_proj.j = d.j AND _fx_proj.id = d.id"""
        )
        con.execute("DROP TABLE _fx_incdup")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fx_flat AS SELECT j, rid, json_transform(payload, '{FLAT_STRUCT}') AS t"
        f" FROM {src} WHERE shape = 'F'"
    )
    con.execute(
        f"""INSERT INTO _fx_proj
        SELECT j, rid, 1000000, j::BIGINT * {LINE_SPAN} + 1000000, false, true, false, 1000, 'F', {proj("t", True)},
          t.__twarc IS NOT NULL OR (t.user IS NULL AND t.id_str IS NULL AND {v2_tweet("t")}),
          {bad_flat_tweet("t")}
        FROM _fx_flat"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_n1 AS
        SELECT j, rid, 1000000 + k * 1000 AS seq, r AS t FROM (
          SELECT j, rid, unnest(t.referenced_tweets) AS r, generate_subscripts(t.referenced_tweets, 1) AS k
          FROM _fx_flat WHERE t.referenced_tweets IS NOT NULL) WHERE r.text IS NOT NULL"""
    )
    con.execute(
        f"""INSERT INTO _fx_proj SELECT j, rid, seq, {ORD}, false, true, true, 1, 'F', {proj("t", True)}, false,
          {bad_flat_tweet("t")} FROM _fx_n1"""
    )
    con.execute(
        f"""INSERT INTO _fx_proj
        SELECT j, rid, seq, {ORD}, false, true, true, 0, 'F', {proj("r", True)}, false, {bad_flat_tweet("r")}
        FROM (SELECT j, rid, seq + k AS seq, r FROM (
          SELECT j, rid, seq, unnest(t.referenced_tweets) AS r, generate_subscripts(t.referenced_tweets, 1) AS k
          FROM _fx_n1 WHERE t.referenced_tweets IS NOT NULL) WHERE r.text IS NOT NULL)"""
    )
    # An included tweet that is also a data entry is only a lookup.
    con.execute(
        """UPDATE _fx_proj SET emit = false WHERE included AND (j, id) IN
        (SELECT (j, id) FROM _fx_proj WHERE NOT included)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_reflist AS
        SELECT j, ord, step, origin, k, r.type AS type, r.id AS id, r.text IS NOT NULL AS has_text FROM (
          SELECT j, ord, step, origin, unnest(refs) AS r, generate_subscripts(refs, 1) AS k
          FROM _fx_proj WHERE refs IS NOT NULL)"""
    )
    # Included users and media by key (last value wins, as the normaliser's dicts).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fx_users AS SELECT j, r AS i, u.id AS id, u, {bad_ts('u.created_at')} AS bad"
        " FROM _fx_rows"
        " WHERE r <= n_users"
    )
    bad_users = _count(con, "SELECT count(*) FROM _fx_users WHERE bad")
    con.execute("DELETE FROM _fx_users WHERE id IS NULL")
    _keep_last(con, "_fx_users", "j, id")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _fx_media AS SELECT j, r AS i, m.media_key AS media_key, m FROM _fx_rows"
        " WHERE m.media_key IS NOT NULL"
    )
    _keep_last(con, "_fx_media", "j, media_key")
    # The lines: when each was retrieved, and whether the Python sniff would call it X v2.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fx_lines AS
        SELECT j, shape, retrieved_at, action, sniffed FROM _fx_rows WHERE r = 1
        UNION ALL SELECT j, 'F', t.__twarc.retrieved_at, t.action, false FROM _fx_flat
        UNION ALL SELECT j, shape, NULL, NULL, false FROM {src} WHERE shape = 'X'"""
    )
    con.execute("DROP TABLE _fx_rows")
    # Each line's observation time when its batch spans several files (else the batch's).
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fx_obs AS SELECT j, observed FROM {src}")
    return bad_users


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def _keep_last(con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    """Keep the last row (largest ``i``) per ``key`` of ``table``: rarely more than one."""
    if _count(con, f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}"):
        con.execute(
            f"DELETE FROM {table} WHERE ({key}, i) IN (SELECT ({key}, i) FROM {table}"
            f" QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY i DESC) > 1)"
        )


def _eligible(con: duckdb.DuckDBPyConnection, bad_users: int) -> bool:
    """Whether every line of the batch is a shape this path reproduces exactly."""
    sql = f"""
    SELECT (SELECT count(*) FROM _fx_lines l WHERE shape = 'X' OR coalesce(action, '') IN ('delete', 'scrub_geo')
              OR {bad_ts("retrieved_at")}
              OR NOT (sniffed OR j IN (SELECT j FROM _fx_proj WHERE v2)))
         + (SELECT count(*) FROM _fx_proj WHERE bad)
         -- references without id, too many to number, or embedding a tweet where this path
         -- does not read one (inside a page, or a third level in a flattened line)
         + (SELECT count(*) FROM _fx_reflist WHERE id IS NULL OR k >= 999 OR (has_text AND (origin = 'P' OR step = 0)))"""
    return bad_users == 0 and _count(con, sql) == 0


def _derive(con: duckdb.DuckDBPyConnection) -> None:
    """From the parsed relations (``_parse``) to those ``Writer.merge_posts`` and friends read."""
    # The batch's post per uid: the first top-level occurrence (or the first one) unless a later
    # one is a newer edit; top-level as soon as one occurrence is.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fx_win AS
        WITH o AS (SELECT 'x:' || id AS uid, ord, ctx, CASE WHEN n_edits > 1 THEN {ts("created_raw")} END AS edited_at
                   FROM _fx_proj WHERE emit),
        g AS (SELECT uid, min(ord) FILTER (WHERE NOT ctx) AS first_top, min(ord) AS first_any,
                     bool_and(ctx) AS all_ctx, count(*) AS n FROM o GROUP BY uid)
        SELECT ord, all_ctx, edited_at FROM o JOIN g USING (uid) WHERE n = 1
        UNION ALL
        SELECT ord, all_ctx, edited_at FROM o JOIN g USING (uid) WHERE n > 1 AND ord >= coalesce(first_top, first_any)
        QUALIFY row_number() OVER (PARTITION BY uid ORDER BY edited_at DESC NULLS LAST, ord) = 1"""
    )
    # References of those posts: per type, the last one that carries the tweet (nested text or
    # an included tweet), else the first one (``refs.setdefault`` then overwrite).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_refs AS
        SELECT r.ord, r.type,
               coalesce(arg_max(r.id, r.k) FILTER (WHERE r.has_text OR inc.id IS NOT NULL), arg_min(r.id, r.k)) AS id,
               arg_max(CASE WHEN r.has_text THEN r.k END, r.k) FILTER (WHERE r.has_text OR inc.id IS NOT NULL)
                 AS nested_k
        FROM (SELECT * FROM _fx_reflist WHERE ord IN (SELECT ord FROM _fx_win)) r
        LEFT JOIN (SELECT DISTINCT j, id FROM _fx_proj WHERE included) inc ON inc.j = r.j AND inc.id = r.id
        GROUP BY r.ord, r.type"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _s_posts AS
        WITH w AS (
          SELECT p.*, w.all_ctx, w.edited_at, coalesce(p.flat_author, iu.u) AS author,
            rp.id AS rp_id, qt.id AS qt_id, rt.id AS rt_id,
            coalesce(rtn.full_text, rti.full_text) AS rt_text, coalesce(rtn.ent, rti.ent) AS rt_ent,
            coalesce(rtn.author_id, rti.author_id) AS rt_author_id,
            coalesce(rtn.flat_author, rti.flat_author) AS rt_flat_author,
            (rtn.id IS NOT NULL OR rti.id IS NOT NULL) AS rt_full
          FROM _fx_win w JOIN _fx_proj p USING (ord)
          LEFT JOIN _fx_users iu ON iu.j = p.j AND iu.id = p.author_id
          LEFT JOIN _fx_refs rp ON rp.ord = p.ord AND rp.type = 'replied_to'
          LEFT JOIN _fx_refs qt ON qt.ord = p.ord AND qt.type = 'quoted'
          LEFT JOIN _fx_refs rt ON rt.ord = p.ord AND rt.type = 'retweeted'
          LEFT JOIN _fx_proj rtn ON rt.nested_k IS NOT NULL AND rtn.ord = p.ord + rt.nested_k * p.step
          LEFT JOIN _fx_proj rti ON rt.nested_k IS NULL AND rti.j = p.j AND rti.included AND rti.id = rt.id)
        SELECT 'x:' || w.id AS uid, 'x' AS platform, w.id AS native_id, 'https://x.com/i/web/status/' || w.id AS uri,
          CASE WHEN coalesce(w.author.username, '') <> '' THEN 'https://x.com/' || w.author.username || '/status/' || w.id
               ELSE 'https://x.com/i/web/status/' || w.id END AS url,
          CASE WHEN coalesce(w.author_id, '') <> '' THEN 'x:' || w.author_id ELSE 'x:' || w.author.id END AS author_uid,
          {ts("w.created_raw")} AS created_at, NULL::TIMESTAMPTZ AS indexed_at,
          CASE WHEN w.rt_full AND coalesce(coalesce(ru.u, w.rt_flat_author).username, '') <> ''
               THEN 'RT @' || coalesce(ru.u, w.rt_flat_author).username || ': ' || w.rt_text
               ELSE w.full_text END AS text,
          w.lang,
          CASE WHEN w.rt_id IS NOT NULL THEN 'repost' WHEN w.qt_id IS NOT NULL THEN 'quote'
               WHEN w.rp_id IS NOT NULL THEN 'reply' ELSE 'original' END AS kind,
          'x:' || w.rp_id AS reply_to_uid,
          CASE WHEN coalesce(w.conv, '') <> '' AND w.conv <> w.id THEN 'x:' || w.conv END AS root_uid,
          'x:' || w.qt_id AS quote_of_uid, 'x:' || w.rt_id AS repost_of_uid, w.edited_at,
          w.sensitive, w.all_ctx AS is_context, w.rid AS raw_id,
          CASE WHEN w.rt_full THEN w.rt_ent.hashtags ELSE w.ent.hashtags END AS tags,
          w.ent.mentions AS mentions, w.ent.urls AS urls, w.att, w.j
        FROM w LEFT JOIN _fx_users ru ON ru.j = w.j AND ru.id = w.rt_author_id"""
    )
    # Hashtag keys are Python's (NFKC, casefold, accent folding): computed once per distinct tag.
    tags = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT h.tag FROM (SELECT unnest(tags) AS h FROM _s_posts) WHERE coalesce(h.tag, '') <> ''"
        ).fetchall()
    ]
    keys = pa.table(
        {
            "tag": pa.array(tags, pa.string()),
            "tag_norm": pa.array([tag_norm(t) for t in tags], pa.string()),
            "tag_key": pa.array([tag_key(t) for t in tags], pa.string()),
        }
    )
    with registered(con, _fx_keys=keys):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _s_tags AS
            SELECT uid, tag_key, tag_norm, ltrim(tag, '#') AS tag_display, 'entities' AS source FROM (
              SELECT s.uid, h.tag, i FROM (SELECT uid, unnest(tags) AS h, generate_subscripts(tags, 1) AS i
                                      FROM _s_posts WHERE tags IS NOT NULL) s) x
            JOIN _fx_keys k USING (tag) WHERE tag_norm <> ''
            QUALIFY row_number() OVER (PARTITION BY uid, tag_norm ORDER BY i) = 1"""
        )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_mentions AS
        SELECT DISTINCT uid, m.username AS handle FROM (SELECT uid, unnest(mentions) AS m FROM _s_posts
          WHERE mentions IS NOT NULL) WHERE coalesce(m.username, '') <> ''"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_urls AS
        SELECT DISTINCT uid, url FROM (
          SELECT uid, CASE WHEN coalesce(u.unwound_url, '') <> '' THEN u.unwound_url
                           WHEN coalesce(u.expanded_url, '') <> '' THEN u.expanded_url ELSE u.url END AS url
          FROM (SELECT uid, unnest(urls) AS u FROM _s_posts WHERE urls IS NOT NULL)
          WHERE coalesce(u.expanded_url, '') <> '' OR coalesce(u.url, '') <> '')
        WHERE coalesce(url, '') <> ''"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _s_aliases (alias_uid VARCHAR, uid VARCHAR)")  # X has none
    media_cols = (
        "CASE WHEN m.type = 'animated_gif' THEN 'gif' ELSE coalesce(nullif(m.type, ''), 'other') END AS type,"
        " m.url AS url, m.alt_text AS alt_text, m.preview_image_url AS preview_url"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _s_media AS
        SELECT uid, (row_number() OVER (PARTITION BY uid ORDER BY part, i) - 1)::INTEGER AS position,
               type, url, alt_text, preview_url FROM (
          SELECT uid, 0 AS part, i, {media_cols} FROM (
            SELECT uid, unnest(att.media) AS m, generate_subscripts(att.media, 1) AS i FROM _s_posts
            WHERE att.media IS NOT NULL) WHERE m IS NOT NULL
          UNION ALL
          SELECT uid, 1 AS part, i, {media_cols} FROM (
            SELECT s.uid, s.j, unnest(s.att.media_keys) AS key, generate_subscripts(s.att.media_keys, 1) AS i
            FROM _s_posts s WHERE s.att.media_keys IS NOT NULL) k
          JOIN (SELECT j, media_key, m FROM _fx_media) x USING (j) WHERE x.media_key = k.key)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _s_snap AS
        SELECT 'x:' || p.id AS uid,
          CASE WHEN coalesce(d.retrieved_at, '') <> '' THEN {ts("d.retrieved_at")}
            ELSE coalesce(o.observed, getvariable('fx_observed')) END AS observed_at,
          p.pm.like_count AS likes, p.pm.retweet_count AS reposts, p.pm.reply_count AS replies,
          p.pm.quote_count AS quotes, p.rid AS raw_id, p.ord
        FROM _fx_proj p JOIN _fx_lines d USING (j) JOIN _fx_obs o USING (j)
        WHERE p.emit AND p.pm IS NOT NULL AND (p.pm.like_count IS NOT NULL OR p.pm.retweet_count IS NOT NULL
          OR p.pm.reply_count IS NOT NULL OR p.pm.quote_count IS NOT NULL)"""
    )
    # Authors: the batch keeps the last one seen per uid (a line's included users come after
    # its posts' authors, which in a page are those users: only flattened tweets embed others).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _s_auth AS
        SELECT 'x:' || u.id AS uid, 'x' AS platform, u.id AS native_id, u.username AS handle,
          u.name AS display_name, u.description AS bio,
          CASE WHEN coalesce(u.username, '') <> '' THEN 'https://x.com/' || u.username END AS url,
          u.public_metrics.followers_count AS followers, u.public_metrics.following_count AS following,
          u.public_metrics.tweet_count AS posts_count, NULL::BOOLEAN AS bot,
          coalesce(u.verified, CASE WHEN u.verified_type IS NOT NULL THEN u.verified_type NOT IN ('none', '') END)
            AS verified,
          CAST(nullif(u.created_at, '') AS TIMESTAMPTZ) AS created_at, NULL::BOOLEAN AS indexable,
          coalesce(a.observed, getvariable('fx_observed')) AS observed_at
        FROM (SELECT x.ord, x.u, o.observed FROM
               (SELECT ord, j, flat_author AS u FROM _fx_proj WHERE emit AND flat_author IS NOT NULL
                UNION ALL SELECT j::BIGINT * {LINE_SPAN} + {LINE_SPAN - 1}, j, u FROM _fx_users WHERE id IS NOT NULL) x
               JOIN _fx_obs o USING (j)) a
        QUALIFY row_number() OVER (PARTITION BY u.id ORDER BY ord DESC) = 1"""
    )


def write_staged(
    writer: Writer,
    *,
    file_id: int | None,
    source: str,
    now: datetime,
    lines: Lines,
    staged: dict[str, pa.Table] | None = None,
    commit_lock: AbstractContextManager[Any] | None = None,
) -> BatchResult:
    """Write a staged batch in one transaction: staged on the writer's connection (``stage``
    returned True), or elsewhere and handed over as ``staged`` (``staged_tables``).
    ``commit_lock`` is held while committing (``Archive.transaction``). The lines' provenance
    is ``file_id`` and ``source``, or each line's own (``lines.origins``)."""
    result = BatchResult()
    file_ids: Any = file_id
    sources: Any = source
    if lines.origins is not None:
        file_ids = [o.file_id for o in lines.origins]
        sources = [o.source for o in lines.origins]
    several = lines.origins is not None and len(set(file_ids)) > 1
    by_raw: dict[str, int] | None = {} if several else None
    with registered(writer.con, **(staged or {})), writer.transaction(commit_lock):
        result.raw_new = writer.insert_raw(
            lines.rids,
            now,
            packed=lines.packed,
            format=FORMAT,
            file_id=file_ids,
            line=list(lines.linenos),
            source=sources,
        )
        writer.merge_posts(now, result, by_raw)
        if several:
            writer.split_by_file(result, lines.rids, file_ids, by_raw or {})
        else:
            fid = file_ids[0] if isinstance(file_ids, list) else file_ids
            result.raw_new_by_file[fid] = result.raw_new
            result.posts_new_by_file[fid] = result.posts_new
        writer.insert_snapshots("_s_snap")
        writer.upsert_authors("_s_auth")
    return result


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for t in (
        "_fx_rows", "_fx_incdup", "_fx_flat", "_fx_lines", "_fx_proj", "_fx_n1", "_fx_reflist", "_fx_users",
        "_fx_media", "_fx_refs", "_fx_win", "_fx_obs", *STAGED,
    ):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {t}")
