"""The bulk path for X API v2 lines (twarc2 pages, stream lines, flattened tweets): the same
rows as ``salon.normalize.x_v2`` + ``Batch``, computed set-based by DuckDB.

Python only splits lines, hashes them and drops the raw ids already stored; the batch of line
strings goes to DuckDB as one Arrow column and ``json_transform`` parses each line once into
typed structs. Posts, entities, authors and engagement snapshots are then derived with SQL and
merged by the same ``Writer`` statements as the Python path (``merge_posts``,
``insert_snapshots``, ``upsert_authors``), so both paths key, deduplicate and update alike.

``salon.normalize.x_v2`` stays the definition: this module reproduces it for the shapes it
recognises (``stage`` says whether every line of a batch is one of them) and the importer sends
any other batch through the Python normaliser. ``tests/test_fast_path_parity.py`` checks both
give identical tables on every corpus file.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from salon.hashtags import tag_key, tag_norm
from salon.store.writer import BatchResult, Writer

__all__ = ["FORMAT", "stage", "write_staged"]

FORMAT = "x-v2"

_V = "VARCHAR"
_B = "BIGINT"
_ENT = {
    "hashtags": [{"tag": _V}],
    "mentions": [{"username": _V}],
    "urls": [{"url": _V, "expanded_url": _V, "unwound_url": _V}],
    "cashtags": "JSON",
    "annotations": "JSON",
}
_MEDIA = {"media_key": _V, "type": _V, "url": _V, "alt_text": _V, "preview_image_url": _V}
_USER = {
    "id": _V,
    "username": _V,
    "name": _V,
    "description": _V,
    "public_metrics": {"followers_count": _B, "following_count": _B, "tweet_count": _B},
    "verified": "BOOLEAN",
    "verified_type": _V,
    "created_at": _V,
}


def _tweet(ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _V,
        "text": _V,
        "created_at": _V,
        "author_id": _V,
        "conversation_id": _V,
        "lang": _V,
        "possibly_sensitive": "BOOLEAN",
        "edit_history_tweet_ids": [_V],
        "note_tweet": {"text": _V, "entities": _ENT},
        "entities": _ENT,
        "public_metrics": {"like_count": _B, "retweet_count": _B, "reply_count": _B, "quote_count": _B},
        "attachments": {"media_keys": [_V], "media": [_MEDIA]},
        "referenced_tweets": [ref],
        "author": _USER,
    }


# Flattened files embed referenced tweets in the reference, which may embed theirs: two levels
# are read (a third embedded level sends the batch to Python).
_T2 = _tweet({"type": _V, "id": _V, "text": _V})
_T1 = _tweet({**_T2, "type": _V})
_T0 = _tweet({**_T1, "type": _V})  # a tweet: data entry, included tweet, flattened line
_LINE_STRUCT: dict[str, Any] = {
    **_T0,
    "data": [_T0],
    "includes": {"users": [_USER], "tweets": [_T0], "media": [_MEDIA]},
    "__twarc": {"retrieved_at": _V},
    "action": _V,
    "meta": "JSON",
    "matching_rules": "JSON",
    "errors": "JSON",
    "user": "JSON",
    "id_str": "JSON",
}
_LINE = json.dumps(_LINE_STRUCT)
# A stream line ({"data": {...}, "matching_rules": ...}) parsed in one pass: ``data`` is a tweet.
_STREAM = json.dumps({**_LINE_STRUCT, "data": _T0})
# What twarc2 and the X API write at the start of a stream line (json.dumps, then compact).
_STREAM_PREFIXES = (b'{"data": {', b'{"data":{')

# Timestamps the SQL cast reads exactly as ``parse_time`` does; any other form goes to Python.
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


def _bad_ts(x: str) -> str:
    return f"(({x}) IS NOT NULL AND ({x}) <> '' AND NOT regexp_full_match({x}, '{_ISO}'))"


def _ts(expr: str) -> str:
    return f"CAST(nullif({expr}, '') AS TIMESTAMPTZ)"


def _unescape(expr: str) -> str:
    """``x_v2.unescape_x``: X escapes exactly ``&``, ``<`` and ``>`` in post text."""
    return f"replace(replace(replace({expr}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"


def _proj(x: str) -> str:
    """The columns of a tweet struct ``x`` (data, included or nested) the posts are made of."""
    note_ok = f"(coalesce({x}.note_tweet.text, '') <> '')"
    note_ent = f"{x}.note_tweet.entities"
    note_ent_truthy = (
        f"({note_ent}.hashtags IS NOT NULL OR {note_ent}.mentions IS NOT NULL OR {note_ent}.urls IS NOT NULL"
        f" OR {note_ent}.cashtags IS NOT NULL OR {note_ent}.annotations IS NOT NULL)"
    )
    ent = f"CASE WHEN {note_ok} AND {note_ent_truthy} THEN {note_ent} ELSE {x}.entities END"
    return (
        f"{x}.id AS id, {x}.created_at AS created_raw, {x}.author_id AS author_id,"
        f" {x}.conversation_id AS conv, {x}.lang AS lang, {x}.possibly_sensitive AS sensitive,"
        f" coalesce(len({x}.edit_history_tweet_ids), 0) AS n_edits,"
        f" {_unescape(f'CASE WHEN {note_ok} THEN {x}.note_tweet.text ELSE coalesce({x}.text, {chr(39) * 2}) END')}"
        " AS full_text,"
        f" {ent} AS ent, {x}.public_metrics AS pm, {x}.attachments AS att,"
        f" list_transform({x}.referenced_tweets, lambda ref_: {{'type': ref_.type, 'id': ref_.id,"
        f" 'has_text': ref_.text IS NOT NULL}}) AS refs,"
        f" CASE WHEN {x}.author.id IS NOT NULL THEN {x}.author END AS flat_author"
    )


def stage(
    con: duckdb.DuckDBPyConnection,
    lines: list[bytes],
    rids: list[str],
    linenos: list[int],
    observed_at: datetime,
) -> bool:
    """Parse a batch of lines into temporary tables. False when a line is not a shape this path
    reproduces exactly (the caller then normalises the batch in Python). ``observed_at`` is the
    observation time of payloads that carry none (the file's modification time)."""
    if not lines:
        return False
    for ln in lines:
        if ln[:1] != b"{":
            return False
    try:
        payload = pa.array(lines, pa.binary()).cast(pa.string())  # validates UTF-8
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return False
    tbl = pa.table(
        {
            "j": pa.array(range(len(lines)), pa.int32()),
            "rid": pa.array(rids, pa.string()),
            "line": pa.array(linenos, pa.int64()),
            "payload": payload,
            "stream": pa.array([ln.startswith(_STREAM_PREFIXES) for ln in lines], pa.bool_()),
        }
    )
    con.register("_fx_in", tbl)
    try:
        # One parse per line: the struct literal is inlined (a bound parameter is slower), stream
        # lines (told by their first bytes) are parsed with ``data`` as an object; only a line
        # whose ``data`` is neither a list nor announced as an object is looked at twice.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _fx_doc AS
            SELECT j, rid, d, dtype, CASE WHEN dtype = 'OBJECT' THEN [json_transform(payload, '{_STREAM}').data]
                                          ELSE d.data END AS data
            FROM (SELECT j, rid, payload, d, CASE WHEN d.data IS NULL THEN json_type(payload, '$.data') END AS dtype
                  FROM (SELECT j, rid, payload, json_transform(payload, '{_LINE}') AS d FROM _fx_in WHERE NOT stream))
            UNION ALL BY NAME
            SELECT j, rid, struct_update(d, data := [d.data]) AS d, 'OBJECT' AS dtype, [d.data] AS data
            FROM (SELECT j, rid, json_transform(payload, '{_STREAM}') AS d FROM _fx_in WHERE stream)"""
        )
    except duckdb.Error:
        return False  # malformed JSON somewhere: the Python path quarantines it
    finally:
        con.unregister("_fx_in")
    if not _eligible(con):
        return False
    con.execute("SET VARIABLE fx_observed = ?::TIMESTAMPTZ", [observed_at])
    _derive(con)
    return True


def _eligible(con: duckdb.DuckDBPyConnection) -> bool:
    bad_ts = _bad_ts

    def bad_user(u: str) -> str:
        return bad_ts(u + ".created_at")

    def tweet_bad(t: str) -> str:
        return (
            f"({t}.id IS NULL OR {bad_ts(t + '.created_at')} OR {bad_user(t + '.author')}"
            f" OR len({t}.referenced_tweets) >= 999"
            f" OR list_bool_or(list_transform({t}.referenced_tweets, lambda r: r.id IS NULL"
            f" OR (r.text IS NOT NULL AND ({bad_ts('r.created_at')} OR {bad_user('r.author')}"
            " OR len(r.referenced_tweets) >= 999"
            " OR list_bool_or(list_transform(r.referenced_tweets, lambda q: q.id IS NULL OR (q.text IS NOT NULL AND"
            f" ({bad_ts('q.created_at')} OR {bad_user('q.author')}"
            " OR list_bool_or(list_transform(q.referenced_tweets, lambda z: z.text IS NOT NULL)))))))))))"
        )

    def v2_tweet(t: str) -> str:  # x_v2._is_v2_tweet, for the keys a tweet struct holds
        return (
            f"({t}.id IS NOT NULL AND {t}.text IS NOT NULL AND ({t}.edit_history_tweet_ids IS NOT NULL"
            f" OR {t}.author_id IS NOT NULL OR {t}.public_metrics IS NOT NULL OR {t}.referenced_tweets IS NOT NULL"
            f" OR {t}.conversation_id IS NOT NULL))"
        )

    sql = f"""
    SELECT count(*) FROM _fx_doc WHERE NOT (
      -- the sniff says x-v2 (conservatively: anything else is judged by the Python sniff)
      ((data IS NOT NULL AND (d.includes IS NOT NULL OR d.meta IS NOT NULL OR d.matching_rules IS NOT NULL
         OR d.errors IS NOT NULL)) OR d.__twarc IS NOT NULL
       OR (len(data) > 0 AND {v2_tweet("data[1]")})
       OR (d.user IS NULL AND d.id_str IS NULL AND {v2_tweet("d")}))
      AND coalesce(d.action, '') NOT IN ('delete', 'scrub_geo')
      AND (data IS NOT NULL OR dtype IS NULL OR dtype = 'NULL')
      AND NOT coalesce(list_bool_or(list_transform(data, lambda t: t IS NULL OR t.text IS NULL
             OR {tweet_bad("t")})), false)
      AND NOT coalesce(list_bool_or(list_transform(d.includes.tweets, lambda t: t IS NULL OR t.text IS NULL
             OR {tweet_bad("t")})), false)
      AND NOT coalesce(list_bool_or(list_transform(d.includes.users, lambda u: {bad_user("u")})), false)
      AND NOT (data IS NULL AND dtype IS NULL AND d.id IS NOT NULL AND d.text IS NOT NULL AND {tweet_bad("d")})
      AND NOT {bad_ts("d.__twarc.retrieved_at")}
    )"""
    return con.execute(sql).fetchone()[0] == 0  # type: ignore[index]


def _derive(con: duckdb.DuckDBPyConnection) -> None:
    """From ``_fx_doc`` to the relations ``Writer.merge_posts`` and friends read."""
    # Every tweet struct of the batch with its place in the normaliser's emission order: data
    # entries (or the flattened line itself) in order, each followed by its nested references,
    # then the included tweets (first position, last value, as the normaliser's dict keeps).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_top AS
        SELECT j, rid, (i * 1000000)::BIGINT AS seq, false AS included, t AS t FROM (
          SELECT j, rid, unnest(data) AS t, generate_subscripts(data, 1) AS i FROM _fx_doc WHERE data IS NOT NULL)
        UNION ALL
        SELECT j, rid, 1000000, false, d FROM _fx_doc
          WHERE data IS NULL AND dtype IS NULL AND d.id IS NOT NULL AND d.text IS NOT NULL
        UNION ALL
        SELECT j, rid, 1000000000000 + min(i) * 1000000, true, arg_max(t, i) FROM (
          SELECT j, rid, unnest(d.includes.tweets) AS t, generate_subscripts(d.includes.tweets, 1) AS i
          FROM _fx_doc WHERE d.includes.tweets IS NOT NULL)
          GROUP BY j, rid, t.id"""
    )
    # Projections of every tweet (top-level and nested); ``emit`` marks those the normaliser
    # turns into posts (an included tweet that is also a data entry is only a lookup).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fx_proj AS
        WITH data_ids AS (SELECT DISTINCT j, t.id AS id FROM _fx_top WHERE NOT included)
        SELECT j, rid, seq, included, NOT included OR NOT EXISTS (SELECT 1 FROM data_ids x
             WHERE x.j = o.j AND x.id = o.t.id) AS emit, included AS ctx, 1000 AS step, {_proj("t")}
        FROM _fx_top o"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_n1 AS
        SELECT j, rid, seq + k * 1000 AS seq, emit, r AS t FROM (
          SELECT p.j, p.rid, p.seq, p.emit, unnest(o.t.referenced_tweets) AS r,
                 generate_subscripts(o.t.referenced_tweets, 1) AS k
          FROM _fx_top o JOIN _fx_proj p USING (j, seq)) WHERE r.text IS NOT NULL"""
    )
    con.execute(f"INSERT INTO _fx_proj SELECT j, rid, seq, false, emit, true, 1, {_proj('t')} FROM _fx_n1")
    con.execute(
        f"""INSERT INTO _fx_proj
        SELECT j, rid, seq + k, false, emit, true, 0, {_proj("r")} FROM (
          SELECT j, rid, seq, emit, unnest(t.referenced_tweets) AS r, generate_subscripts(t.referenced_tweets, 1) AS k
          FROM _fx_n1) WHERE r.text IS NOT NULL"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_users AS
        SELECT j, u.id AS id, arg_max(u, i) AS u FROM (
          SELECT j, unnest(d.includes.users) AS u, generate_subscripts(d.includes.users, 1) AS i
          FROM _fx_doc WHERE d.includes.users IS NOT NULL) WHERE u.id IS NOT NULL GROUP BY j, u.id"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_media AS
        SELECT j, m.media_key AS media_key, arg_max(m, i) AS m FROM (
          SELECT j, unnest(d.includes.media) AS m, generate_subscripts(d.includes.media, 1) AS i
          FROM _fx_doc WHERE d.includes.media IS NOT NULL) WHERE m.media_key IS NOT NULL GROUP BY j, m.media_key"""
    )
    # References: per type, the last one that carries the tweet (nested text or an included
    # tweet), else the first one (``refs.setdefault`` then overwrite, as the normaliser does).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_refs AS
        WITH r AS (
          SELECT p.j, p.seq, r.k, r.x.type AS type, r.x.id AS id, r.x.has_text AS has_text
          FROM _fx_proj p, (SELECT unnest(p.refs) AS x, generate_subscripts(p.refs, 1) AS k) r
          WHERE p.emit AND p.refs IS NOT NULL),
        inc AS (SELECT DISTINCT j, id FROM _fx_proj WHERE included)
        SELECT r.j, r.seq, r.type,
               coalesce(arg_max(r.id, r.k) FILTER (WHERE r.has_text OR inc.id IS NOT NULL), arg_min(r.id, r.k)) AS id,
               arg_max(CASE WHEN r.has_text THEN r.k END, r.k) FILTER (WHERE r.has_text OR inc.id IS NOT NULL)
                 AS nested_k
        FROM r LEFT JOIN inc ON inc.j = r.j AND inc.id = r.id GROUP BY r.j, r.seq, r.type"""
    )
    obs = (
        "CASE WHEN coalesce(d.__twarc.retrieved_at, '') <> ''"
        f" THEN {_ts('d.__twarc.retrieved_at')} ELSE getvariable('fx_observed') END"
    )
    # One row per post occurrence, with what the normaliser puts in its Post.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fx_occ AS
        SELECT p.j, p.rid, p.seq, p.ctx, 'x:' || p.id AS uid, p.id, p.ent, p.att, p.pm,
          {_ts("p.created_raw")} AS created_at, p.lang, p.sensitive,
          CASE WHEN p.n_edits > 1 THEN {_ts("p.created_raw")} END AS edited_at,
          CASE WHEN rt.id IS NOT NULL THEN 'repost' WHEN qt.id IS NOT NULL THEN 'quote'
               WHEN rp.id IS NOT NULL THEN 'reply' ELSE 'original' END AS kind,
          'x:' || rp.id AS reply_to_uid, 'x:' || qt.id AS quote_of_uid, 'x:' || rt.id AS repost_of_uid,
          CASE WHEN coalesce(p.conv, '') <> '' AND p.conv <> p.id THEN 'x:' || p.conv END AS root_uid,
          coalesce(p.flat_author, iu.u) AS author,
          CASE WHEN coalesce(p.author_id, '') <> '' THEN 'x:' || p.author_id
               ELSE 'x:' || coalesce(p.flat_author, iu.u).id END AS author_uid,
          coalesce(rtn.full_text, rti.full_text) AS rt_text,
          coalesce(rtn.ent, rti.ent) AS rt_ent,
          coalesce(rtn.author_id, rti.author_id) AS rt_author_id,
          coalesce(rtn.flat_author, rti.flat_author) AS rt_flat_author,
          (rtn.id IS NOT NULL OR rti.id IS NOT NULL) AS rt_full,
          p.full_text, {obs} AS observed_at
        FROM _fx_proj p JOIN _fx_doc d USING (j)
        LEFT JOIN _fx_users iu ON iu.j = p.j AND iu.id = p.author_id
        LEFT JOIN _fx_refs rp ON rp.j = p.j AND rp.seq = p.seq AND rp.type = 'replied_to'
        LEFT JOIN _fx_refs qt ON qt.j = p.j AND qt.seq = p.seq AND qt.type = 'quoted'
        LEFT JOIN _fx_refs rt ON rt.j = p.j AND rt.seq = p.seq AND rt.type = 'retweeted'
        LEFT JOIN _fx_proj rtn ON rt.nested_k IS NOT NULL AND rtn.j = p.j AND rtn.seq = p.seq + rt.nested_k * p.step
        LEFT JOIN _fx_proj rti ON rt.nested_k IS NULL AND rti.j = p.j AND rti.included AND rti.id = rt.id
        WHERE p.emit"""
    )
    # The batch's post per uid: the first top-level occurrence (or the first one) unless a later
    # one is a newer edit; top-level as soon as one occurrence is.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fx_win AS
        WITH o AS (SELECT *, min(CASE WHEN NOT ctx THEN j::HUGEINT * 1000000000000000 + seq END) OVER w AS first_top,
                          min(j::HUGEINT * 1000000000000000 + seq) OVER w AS first_any, bool_and(ctx) OVER w AS all_ctx
                   FROM _fx_occ WINDOW w AS (PARTITION BY uid))
        SELECT * EXCLUDE (first_top, first_any) FROM o
        WHERE j::HUGEINT * 1000000000000000 + seq >= coalesce(first_top, first_any)
        QUALIFY row_number() OVER (PARTITION BY uid ORDER BY edited_at DESC NULLS LAST, j, seq) = 1"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_posts AS
        SELECT w.uid, 'x' AS platform, w.id AS native_id, 'https://x.com/i/web/status/' || w.id AS uri,
          CASE WHEN coalesce(w.author.username, '') <> '' THEN 'https://x.com/' || w.author.username || '/status/' || w.id
               ELSE 'https://x.com/i/web/status/' || w.id END AS url,
          w.author_uid, w.created_at, NULL::TIMESTAMPTZ AS indexed_at,
          CASE WHEN w.rt_full AND coalesce(coalesce(ru.u, w.rt_flat_author).username, '') <> ''
               THEN 'RT @' || coalesce(ru.u, w.rt_flat_author).username || ': ' || w.rt_text
               ELSE w.full_text END AS text,
          w.lang, w.kind, w.reply_to_uid, w.root_uid, w.quote_of_uid, w.repost_of_uid, w.edited_at,
          w.sensitive, w.all_ctx AS is_context, w.rid AS raw_id,
          CASE WHEN w.rt_full THEN w.rt_ent.hashtags ELSE w.ent.hashtags END AS tags,
          w.ent.mentions AS mentions, w.ent.urls AS urls, w.att, w.j
        FROM _fx_win w LEFT JOIN _fx_users ru ON ru.j = w.j AND ru.id = w.rt_author_id"""
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
    con.register("_fx_keys", keys)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_tags AS
        SELECT uid, tag_key, tag_norm, ltrim(tag, '#') AS tag_display, 'entities' AS source FROM (
          SELECT s.uid, h.tag, i FROM (SELECT uid, unnest(tags) AS h, generate_subscripts(tags, 1) AS i
                                  FROM _s_posts WHERE tags IS NOT NULL) s) x
        JOIN _fx_keys k USING (tag) WHERE tag_norm <> ''
        QUALIFY row_number() OVER (PARTITION BY uid, tag_norm ORDER BY i) = 1"""
    )
    con.unregister("_fx_keys")
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
          JOIN _fx_media USING (j) WHERE _fx_media.media_key = k.key)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_snap AS
        SELECT uid, observed_at, pm.like_count AS likes, pm.retweet_count AS reposts,
               pm.reply_count AS replies, pm.quote_count AS quotes, rid AS raw_id,
               j::HUGEINT * 1000000000000000 + seq AS ord
        FROM _fx_occ WHERE pm IS NOT NULL AND (pm.like_count IS NOT NULL OR pm.retweet_count IS NOT NULL
          OR pm.reply_count IS NOT NULL OR pm.quote_count IS NOT NULL)"""
    )
    # Authors: the batch keeps the last one seen per uid (a line's included users come after
    # its posts' authors).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _s_auth AS
        SELECT 'x:' || u.id AS uid, 'x' AS platform, u.id AS native_id, u.username AS handle,
          u.name AS display_name, u.description AS bio,
          CASE WHEN coalesce(u.username, '') <> '' THEN 'https://x.com/' || u.username END AS url,
          u.public_metrics.followers_count AS followers, u.public_metrics.following_count AS following,
          u.public_metrics.tweet_count AS posts_count, NULL::BOOLEAN AS bot,
          coalesce(u.verified, CASE WHEN u.verified_type IS NOT NULL THEN u.verified_type NOT IN ('none', '') END)
            AS verified,
          CAST(nullif(u.created_at, '') AS TIMESTAMPTZ) AS created_at, NULL::BOOLEAN AS indexable,
          getvariable('fx_observed') AS observed_at
        FROM (SELECT j::HUGEINT * 1000000000000000 + seq AS ord, author AS u FROM _fx_occ WHERE author IS NOT NULL
              UNION ALL SELECT j::HUGEINT * 1000000000000000 + 900000000000000, u FROM _fx_users)
        QUALIFY row_number() OVER (PARTITION BY u.id ORDER BY ord DESC) = 1"""
    )


def write_staged(
    writer: Writer,
    *,
    file_id: int | None,
    source: str,
    now: datetime,
    lines: list[bytes],
    rids: list[str],
    linenos: list[int],
) -> BatchResult:
    """Write a staged batch (``stage`` returned True) in one transaction."""
    result = BatchResult()
    with writer.archive.transaction():
        result.raw_new = writer.insert_raw(
            rids, lines, now, format=FORMAT, file_id=file_id, line=list(linenos), source=source
        )
        writer.merge_posts(now, result)
        writer.insert_snapshots("_s_snap")
        writer.upsert_authors("_s_auth")
    return result


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for t in (
        "_fx_doc", "_fx_top", "_fx_proj", "_fx_n1", "_fx_users", "_fx_media", "_fx_refs", "_fx_occ", "_fx_win",
        "_s_posts", "_s_aliases", "_s_tags", "_s_mentions", "_s_urls", "_s_media", "_s_snap", "_s_auth",
    ):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {t}")
