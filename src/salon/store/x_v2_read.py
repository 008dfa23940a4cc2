"""What DuckDB reads of an X API v2 line, for the bulk path (``salon.store.x_v2_sql``): a
line's shape (page, stream line, flattened tweet), the ``json_transform`` structures each shape
is parsed with (only the fields it uses), and the SQL expressions that reproduce
``salon.normalize.x_v2``'s rules on them (timestamps, text, entities, which tweets the bulk path
does not reproduce and leaves to Python)."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import duckdb
import pyarrow as pa

from salon.store.relations import registered

__all__ = [
    "FLAT_STRUCT",
    "LINE_SPAN",
    "ORD",
    "PAGE_STRUCT",
    "STREAM_STRUCT",
    "bad_flat_tweet",
    "bad_page_tweet",
    "bad_ts",
    "line_shape",
    "proj",
    "read_once",
    "shapes_by_duckdb",
    "ts",
    "v2_tweet",
]

_V = "VARCHAR"
_B = "BIGINT"
_ENT = {
    "hashtags": [{"tag": _V}],
    "mentions": [{"username": _V}],
    "urls": [{"url": _V, "expanded_url": _V, "unwound_url": _V}],
}
# Only whether a long post's entities object is empty matters for these two keys (the
# normaliser falls back to the short text's entities when it is): read as JSON, where rare.
_NOTE_ENT = {**_ENT, "cashtags": "JSON", "annotations": "JSON"}
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
# A key that must merely be present: any non-null JSON value reads as a non-null struct.
_PRESENT = {"_x": "BOOLEAN"}


def _tweet(ref: Any, author: Any) -> dict[str, Any]:
    return {
        "id": _V,
        "text": _V,
        "created_at": _V,
        "author_id": _V,
        "conversation_id": _V,
        "lang": _V,
        "possibly_sensitive": "BOOLEAN",
        "edit_history_tweet_ids": [_V],
        "note_tweet": {"text": _V, "entities": _NOTE_ENT},
        "entities": _ENT,
        "public_metrics": {"like_count": _B, "retweet_count": _B, "reply_count": _B, "quote_count": _B},
        "attachments": {"media_keys": [_V], "media": [_MEDIA]},
        "referenced_tweets": [ref],
        "author": author,
    }


# Lines are parsed by shape, each with only the fields its shape uses: materialising wide nested
# structs, not parsing, is what costs in DuckDB (measured: 0.7 s against 0.22 s per 100 MB).
# A page or stream tweet references others by id; an embedded referenced tweet or author there
# (flattened tweets inside a page) sends the batch to the Python normaliser.
_TP = _tweet({"type": _V, "id": _V, "text": _V}, _PRESENT)
# Flattened lines embed referenced tweets in the reference, which may embed theirs: two levels
# are read (a third embedded level sends the batch to Python).
_T2 = _tweet({"type": _V, "id": _V, "text": _V}, _USER)
_T1 = {**_tweet({**_T2, "type": _V}, _USER), "type": _V}
_FLAT = {
    **_tweet({**_T1, "type": _V}, _USER),
    "__twarc": {"retrieved_at": _V},
    "action": _V,
    "user": "JSON",
    "id_str": "JSON",
}
# A page or stream line: its tweets, what it includes, and the keys the Python sniff looks at.
_ENVELOPE = {
    "includes": {"users": [_USER], "tweets": [_TP], "media": [_MEDIA]},
    "__twarc": {"retrieved_at": _V},
    "action": _V,
    "meta": _PRESENT,
    "matching_rules": [_PRESENT],
    "errors": [_PRESENT],
}
PAGE_STRUCT = json.dumps({"data": [_TP], **_ENVELOPE})
STREAM_STRUCT = json.dumps({"data": _TP, **_ENVELOPE})
FLAT_STRUCT = json.dumps(_FLAT)
# What twarc2 and the X API write at the start of a page or a stream line (json.dumps, then
# compact); other lines are told apart by DuckDB (``json_type`` of ``data``).
_PAGE_PREFIXES = (b'{"data": [', b'{"data":[')
_STREAM_PREFIXES = (b'{"data": {', b'{"data":{')


def line_shape(line: bytes) -> str | None:
    """A line's shape from its bytes where they tell: ``P`` a page (``data`` array), ``S`` a
    stream line (``data`` object), ``F`` a flattened tweet (no ``data`` key: the bytes
    ``"data":`` cannot occur inside a JSON string, where quotes are escaped), None: ask DuckDB."""
    if line.startswith(_PAGE_PREFIXES):
        return "P"
    if line.startswith(_STREAM_PREFIXES):
        return "S"
    return None if b'"data"' in line else "F"


def read_once(con: duckdb.DuckDBPyConnection, table: pa.Table) -> bool:
    """Whether DuckDB reads each line of a batch (``table``: payload, shape) as the Python path
    does. ``json_transform`` keeps the FIRST value of a key written twice in one object, the
    Python path (orjson, like ECMAScript's ``JSON.parse``) the LAST: the one rule is the last
    (docs/import.md, "One reading of JSON"). DuckDB's JSON reader, unlike ``json_transform``,
    refuses an object with a key twice among those it reads, and a malformed line, so the
    lines are read once more by it, with the structure of their shape; on False the batch goes
    to the Python path whole (its bad lines quarantined one by one, as there). Costs about what
    the parse does (the reader needs a file: the lines are written to a temporary one)."""
    text = table.column("payload").combine_chunks()
    offsets = memoryview(text.buffers()[1]).cast("q")[text.offset : text.offset + len(text) + 1]
    data = memoryview(text.buffers()[2])
    shapes = table.column("shape").to_pylist()
    structs = {"P": PAGE_STRUCT, "S": STREAM_STRUCT, "F": FLAT_STRUCT}
    for shape, struct in structs.items():
        rows = [i for i, sh in enumerate(shapes) if sh == shape]
        if not rows:
            continue
        try:
            fd, name = tempfile.mkstemp(prefix="salon-keys-", suffix=".jsonl")
        except OSError:
            return False  # no room for the check: the Python path reads the batch
        try:
            longest = 0
            with os.fdopen(fd, "wb") as f:
                for i in rows:
                    f.write(data[offsets[i] : offsets[i + 1]])
                    f.write(b"\n")
                    longest = max(longest, offsets[i + 1] - offsets[i])
            con.execute(
                f"SELECT count(d) FROM read_json(?, columns = {{d: '{_duck_type(json.loads(struct))}'}},"
                " records = false, format = 'newline_delimited', auto_detect = false, maximum_object_size = ?)",
                [name, longest + 1024],
            ).fetchall()
        except (duckdb.Error, OSError):
            # A key twice among those read, or malformed (or no memory or disk left to tell):
            # the Python path reads the batch.
            return False
        finally:
            os.unlink(name)
    return True


def shapes_by_duckdb(con: duckdb.DuckDBPyConnection, text: pa.Array) -> list[str]:
    """The shape of lines whose bytes did not tell: ``X`` for one this path does not read."""
    tbl = pa.table({"payload": text})
    with registered(con, _fx_unknown=tbl):
        rows = con.execute(
            """SELECT CASE json_type(payload, '$.data') WHEN 'ARRAY' THEN 'P' WHEN 'OBJECT' THEN 'S'
              ELSE CASE WHEN json_type(payload, '$.data') IS NULL THEN 'F' ELSE 'X' END END FROM _fx_unknown"""
        ).fetchall()
    return [r[0] for r in rows]


def _duck_type(spec: Any) -> str:
    """The DuckDB type a ``json_transform`` structure gives."""
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {_duck_type(v)}' for k, v in spec.items()) + ")"
    if isinstance(spec, list):
        return _duck_type(spec[0]) + "[]"
    return str(spec)


_USER_TYPE = _duck_type(_USER)

# Timestamps the SQL cast reads exactly as ``parse_time`` does; any other form goes to Python.
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


# A tweet's place in the normaliser's emission order within the batch: line ``j``, then ``seq``
# (data entry * 10^6 + nested reference * 1000 + its own nested reference; included tweets from
# 10^12 on). Up to 2^21 lines per batch.
LINE_SPAN = 1 << 42
ORD = f"(j::BIGINT * {LINE_SPAN} + seq)"


def bad_ts(x: str) -> str:
    # X's own form is told by a LIKE (much cheaper than the regular expression, which DuckDB
    # then evaluates on the other rows only); non-digits there make the cast fail, and the
    # batch goes to Python.
    return (
        f"(({x}) IS NOT NULL AND ({x}) <> '' AND NOT (({x}) LIKE '____-__-__T__:__:__.___Z'"
        f" OR regexp_full_match({x}, '{_ISO}')))"
    )


def ts(expr: str) -> str:
    return f"CAST(nullif({expr}, '') AS TIMESTAMPTZ)"


def _unescape(expr: str) -> str:
    """``x_v2.unescape_x``: X escapes exactly ``&``, ``<`` and ``>`` in post text."""
    return f"replace(replace(replace({expr}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"


_PROJ_COLS = (
    "id", "created_raw", "author_id", "conv", "lang", "sensitive", "n_edits", "full_text", "ent", "pm", "att",
    "refs", "flat_author",
)  # fmt: skip


def proj(x: str, flat: bool) -> str:
    """The columns (``_PROJ_COLS``) of a tweet struct ``x`` the posts are made of; ``flat``: it
    may embed its author (flattened lines), else it never does."""
    note_ok = f"(coalesce({x}.note_tweet.text, '') <> '')"
    note_ent = f"{x}.note_tweet.entities"
    note_ent_truthy = (
        f"({note_ent}.hashtags IS NOT NULL OR {note_ent}.mentions IS NOT NULL OR {note_ent}.urls IS NOT NULL"
        f" OR {note_ent}.cashtags IS NOT NULL OR {note_ent}.annotations IS NOT NULL)"
    )
    ent = (
        f"CASE WHEN {note_ok} AND {note_ent_truthy} THEN {{'hashtags': {note_ent}.hashtags,"
        f" 'mentions': {note_ent}.mentions, 'urls': {note_ent}.urls}} ELSE {x}.entities END"
    )
    author = f"CASE WHEN {x}.author.id IS NOT NULL THEN {x}.author END" if flat else f"NULL::{_USER_TYPE}"
    # A page tweet's references are already (type, id, text); a lambda costs (3x the column).
    refs = (
        f"list_transform({x}.referenced_tweets, lambda ref_: {{'type': ref_.type, 'id': ref_.id,"
        " 'text': ref_.text})"
        if flat
        else f"{x}.referenced_tweets"
    )
    exprs = (
        f"{x}.id",
        f"{x}.created_at",
        f"{x}.author_id",
        f"{x}.conversation_id",
        f"{x}.lang",
        f"{x}.possibly_sensitive",
        f"coalesce(len({x}.edit_history_tweet_ids), 0)",
        _unescape(f"CASE WHEN {note_ok} THEN {x}.note_tweet.text ELSE coalesce({x}.text, '') END"),
        ent,
        f"{x}.public_metrics",
        f"{x}.attachments",
        refs,
        author,
    )
    return ", ".join(f"{e} AS {n}" for e, n in zip(exprs, _PROJ_COLS, strict=True))


def v2_tweet(t: str) -> str:
    """``x_v2._is_v2_tweet`` for the keys a tweet struct holds."""
    return (
        f"({t}.id IS NOT NULL AND {t}.text IS NOT NULL AND ({t}.edit_history_tweet_ids IS NOT NULL"
        f" OR {t}.author_id IS NOT NULL OR {t}.public_metrics IS NOT NULL OR {t}.referenced_tweets IS NOT NULL"
        f" OR {t}.conversation_id IS NOT NULL))"
    )


def bad_page_tweet(t: str) -> str:
    """A page or stream tweet this path does not reproduce (the batch goes to Python; its
    references are checked in ``_eligible``)."""
    return (
        f"({t} IS NULL OR {t}.id IS NULL OR {t}.text IS NULL OR {bad_ts(t + '.created_at')}"
        f" OR {t}.author IS NOT NULL)"
    )


def bad_flat_tweet(t: str) -> str:
    """A flattened tweet (or one it embeds) this path does not reproduce."""
    return (
        f"({t}.id IS NULL OR {t}.text IS NULL OR {bad_ts(t + '.created_at')}"
        f" OR {bad_ts(t + '.author.created_at')})"
    )
