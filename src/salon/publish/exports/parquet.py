"""The Parquet export: every normalised table of the archive as zstd Parquet, hive-partitioned.

>>> from salon.store.archive import open_archive
>>> from salon.publish.exports.parquet import export_parquet
>>> with open_archive("salon.duckdb", read_only=True) as arc:          # doctest: +SKIP
...     export_parquet(arc, "export/")                                  # everything
...     export_parquet(arc, "export/", since_last=True)                 # later: only what changed

Layout of ``DIR`` (docs/parquet.md):

- one folder per table (``posts/``, ``post_hashtags/``, ...), its files ``e<N>_<...>.parquet``
  written by export number N; posts and the tables of a post (hashtags, mentions, URLs, media)
  are partitioned ``platform=<p>/day=<YYYY-MM-DD>`` by the post's platform and UTC day,
  ``metrics_snapshots`` by the post's platform and the UTC day observed, ``authors`` by
  platform; the other tables are small and not partitioned;
- ``schema.json``: every table's columns (DuckDB and Arrow types), partition columns, row counts
  and the exports made; ``README.md``: how to read it from pandas, pyarrow, DuckDB and Spark;
- ``_salon_export.json``: the watermarks ``--since-last`` resumes from (files and folders whose
  name starts with ``_`` or ``.`` are skipped by Spark and pyarrow).

``since_last=True`` appends only what changed since the previous export into the same folders:
new posts (``posts.collected_at`` past the mark) with their hashtags, mentions, URLs and media,
the rows appended since to ``metrics_snapshots``, ``author_snapshots``, ``post_aliases`` and
``tombstones``, and, for posts already exported that were deleted since, tombstone rows in
``post_deletions`` (uid, deleted_at, export): a reader's current ``posts.deleted_at`` is
``coalesce(posts.deleted_at, post_deletions.deleted_at)``, which ``view_sql`` applies. The
small tables that are updated in place (``authors``: the latest snapshot per author, the
campaign registry, the spam verdicts ``trust_spam``, the moderation log and account statuses,
the chats' tables) are rewritten whole at every export.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salon import __version__
from salon.campaigns.definitions import members_sql
from salon.campaigns.stored import list_campaigns
from salon.campaigns.tally import resolve_campaign
from salon.campaigns.trust import pipeline
from salon.store.archive import Archive
from salon.store.parquet import (
    DELETIONS,
    SCHEMA_FILE,
    ExportError,
    duckdb_source,
    load_schema,
    register_views,
    view_sql,
)

__all__ = [
    "DELETIONS",
    "STATE_FILE",
    "TABLES",
    "ExportError",
    "TableSpec",
    "duckdb_source",
    "export_parquet",
    "load_schema",
    "register_views",
    "view_sql",
]

STATE_FILE = "_salon_export.json"
PARTIAL_FILE = "_salon_export.partial"  # a full export under way, or one that failed
_PARTIAL_TEXT = "A full Salon export began here and has not finished: the next full export replaces it.\n"
FORMAT = "salon-parquet"
FORMAT_VERSION = 1

Progress = Callable[[str, int, int], None]  # (table, rows written, tables done)


@dataclass(frozen=True)
class TableSpec:
    """How one archive table is exported.

    ``part``: ``post`` (partitioned by its post's platform and UTC day), ``self`` (the table's
    own platform and UTC day of ``created_at``), ``observed`` (post platform and UTC day of
    ``observed_at``), ``platform`` (its platform column), or ``""`` (one folder, no partitions).
    ``mode``: how ``--since-last`` finds what is new: ``posts`` (rows of new posts), ``rowid``
    (rows appended since: the table is append-only), ``recorded`` (``recorded_at`` past the
    mark), ``replace`` (rewritten whole)."""

    name: str
    part: str
    mode: str
    uid_col: str = "uid"  # the column naming a post (filters by campaign)


TABLES: tuple[TableSpec, ...] = (
    TableSpec("posts", "self", "posts"),
    TableSpec("post_hashtags", "post", "posts"),
    TableSpec("post_mentions", "post", "posts"),
    TableSpec("post_urls", "post", "posts"),
    TableSpec("post_media", "post", "posts"),
    TableSpec("post_aliases", "", "rowid"),
    TableSpec("metrics_snapshots", "observed", "rowid"),
    TableSpec("tombstones", "", "recorded"),
    TableSpec("authors", "platform", "replace", uid_col=""),
    TableSpec("author_snapshots", "", "rowid", uid_col=""),
    # the campaign registry (salon.campaigns): what a tally over the export needs besides posts
    TableSpec("series", "", "replace", uid_col=""),
    TableSpec("campaigns", "", "replace", uid_col=""),
    TableSpec("campaign_days", "", "replace", uid_col=""),
    TableSpec("campaign_hashtags", "", "replace", uid_col=""),
    TableSpec("participants", "", "replace", uid_col=""),
    TableSpec("participant_accounts", "", "replace", uid_col=""),
    # the trust rules (salon.campaigns.trust): the spam verdicts (the tally's ``spam`` part), the
    # moderation log (editors' decisions: consent, hidden posts) and accounts inactive at the
    # source (who a chat may show); derived or updated in place, small: rewritten whole
    TableSpec("trust_spam", "", "replace"),
    TableSpec("moderation_log", "", "replace", uid_col=""),
    TableSpec("account_status", "", "replace", uid_col=""),
    # chats (salon.campaigns.chat_*): their materialised definitions and the questions Salon posted
    TableSpec("chats", "", "replace", uid_col=""),
    TableSpec("chat_questions", "", "replace", uid_col=""),
    TableSpec("chat_post_intents", "", "replace", uid_col=""),
)
# What ``--campaign`` keeps of the tables above that are neither a post's rows nor the registry
# (``{cid}``: the campaign's id; ``_x_keep``: its posts).
_KEPT_AUTHORS = "SELECT author_uid FROM posts WHERE uid IN (SELECT uid FROM _x_keep)"
_CAMPAIGN_ROWS = {
    "trust_spam": "t.campaign_id = {cid} AND t.uid IN (SELECT uid FROM _x_keep)",
    # decisions about its posts and authors, whichever campaign's page they were made on (a
    # post hidden or an author shown is so everywhere), and the campaign's own (lists)
    "moderation_log": f"(t.campaign_id = {{cid}} OR t.target IN (SELECT uid FROM _x_keep) OR t.target IN ({_KEPT_AUTHORS}))",
    "account_status": f"t.author_uid IN ({_KEPT_AUTHORS})",
    "chats": "t.campaign_id = {cid}",
    "chat_questions": "t.slug IN (SELECT slug FROM chats WHERE campaign_id = {cid})",
    "chat_post_intents": "t.slug IN (SELECT slug FROM chats WHERE campaign_id = {cid})",
}
# Left out on purpose: raw/raw_blocks (``salon export raw`` gives the payloads byte-identical),
# imports/import_files/quarantine (this machine's runs), the campaign index and search tables
# (derived: rebuilt from these), the web app's users/sessions/tokens (secrets), collect_* state.

_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B)", re.IGNORECASE)
EXPORT_MEMORY_LIMIT: str | None = None  # DuckDB's own default (export_parquet, memory_limit)
GRAINS = ("day", "month", "none")  # the time partition: UTC day (default), UTC month, or none


def _partitions(part: str, grain: str) -> tuple[str, ...]:
    """The partition columns of a table exported as ``part`` with time partition ``grain``."""
    if part == "platform" or (part and grain == "none"):
        return ("platform",)
    if part:
        return ("platform", grain)
    return ()


def _time_part(expr: str, grain: str) -> str:
    # The UTC day (or month) of an instant whatever the session's zone (Salon's sessions are UTC).
    if grain == "month":
        return f"strftime(timezone('UTC', {expr}), '%Y-%m') AS month"
    return f"CAST(timezone('UTC', {expr}) AS DATE) AS day"


def _lit(v: Any) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _select(spec: TableSpec, grain: str) -> str:
    """The table's rows with the partition columns it lacks (``t`` is the table)."""
    when = {"self": "t.created_at", "post": "p.created_at", "observed": "t.observed_at"}.get(spec.part)
    extra = f", {_time_part(when, grain)}" if when and grain != "none" else ""
    if spec.part == "self":
        return f"SELECT t.*{extra} FROM posts t"
    if spec.part == "post":
        return (
            f"SELECT t.*, coalesce(p.platform, split_part(t.uid, ':', 1)) AS platform{extra}"
            f" FROM {spec.name} t LEFT JOIN posts p ON p.uid = t.uid"
        )
    if spec.part == "observed":
        return f"SELECT t.*, split_part(t.uid, ':', 1) AS platform{extra} FROM {spec.name} t"
    return f"SELECT t.* FROM {spec.name} t"


def _columns(con: Any, table: str) -> list[dict[str, Any]]:
    rows = con.execute(f"DESCRIBE {table}").fetchall()
    return [{"name": r[0], "type": r[1], "nullable": r[2] == "YES"} for r in rows]


def _arrow_types(con: Any, table: str) -> dict[str, str]:
    t = con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table()
    return {f.name: str(f.type) for f in t.schema}


def _load_state(out: Path) -> dict[str, Any] | None:
    p = out / STATE_FILE
    if not p.exists():
        return None
    return dict(json.loads(p.read_text()))


def _marks(con: Any) -> dict[str, Any]:
    row = con.execute(
        "SELECT (SELECT max(collected_at) FROM posts), (SELECT max(recorded_at) FROM tombstones),"
        " (SELECT count(*) FROM metrics_snapshots), (SELECT count(*) FROM author_snapshots),"
        " (SELECT count(*) FROM post_aliases)"
    ).fetchall()[0]
    return {
        "posts": row[0].astimezone(UTC).isoformat() if row[0] else None,
        "tombstones": row[1].astimezone(UTC).isoformat() if row[1] else None,
        "metrics_snapshots": int(row[2]),
        "author_snapshots": int(row[3]),
        "post_aliases": int(row[4]),
    }


def _filters(
    con: Any, spec: TableSpec, campaign: Any | None, prev: dict[str, Any] | None, out: Path
) -> str | None:
    """The WHERE clause (over ``t``) selecting what this export writes of ``spec``, or None
    when nothing of it is written this time."""
    conds: list[str] = []
    keep = campaign is not None
    if campaign is not None and spec.name in _CAMPAIGN_ROWS:
        conds.append(_CAMPAIGN_ROWS[spec.name].format(cid=int(campaign.campaign_id)))
    elif keep and spec.uid_col:
        conds.append("t.uid IN (SELECT uid FROM _x_keep)")
    elif keep and spec.name in ("authors", "author_snapshots"):
        conds.append("t.uid IN (SELECT author_uid FROM posts WHERE uid IN (SELECT uid FROM _x_keep))")
    elif campaign is not None and spec.name.startswith(("campaign", "participant")):
        conds.append(f"t.campaign_id = {int(campaign.campaign_id)}")
    elif campaign is not None and spec.name == "series":
        conds.append(f"t.series = {_lit(campaign.series)}" if campaign.series else "false")
    if prev is not None and spec.mode != "replace":
        m = prev["marks"]
        if spec.mode == "posts":
            conds.append("t.uid IN (SELECT uid FROM _x_new)")
        elif spec.mode == "recorded":
            since = f"t.recorded_at > {_lit(m['tombstones'])}::TIMESTAMPTZ" if m["tombstones"] else "true"
            conds.append(since)
        elif spec.mode == "rowid":
            since = f"t.rowid >= {int(m[spec.name])}"
            if keep and spec.uid_col:  # rows of posts kept for the first time, whatever their age
                since = f"({since} OR t.uid IN (SELECT uid FROM _x_new))"
            elif keep and spec.name == "author_snapshots":
                since = f"({since} OR t.uid IN (SELECT author_uid FROM _x_new_authors))"
            conds.append(since)
    return " AND ".join(conds) if conds else "true"


def _register_selection(arc: Archive, campaign: Any | None, prev: dict[str, Any] | None, out: Path) -> int:
    """Register ``_x_keep`` (a campaign's posts) and ``_x_new`` (posts this export adds);
    returns how many posts are new."""
    con = arc.con
    if campaign is not None:
        # The campaign's members and the posts its reposts repost (the repost definition reads
        # them), so the tally over the export equals the archive's.
        members = members_sql(campaign)
        keep = con.sql(
            f"WITH m AS ({members}) SELECT uid FROM m UNION SELECT p.repost_of_uid FROM posts p"
            " WHERE p.uid IN (SELECT uid FROM m) AND p.repost_of_uid IN (SELECT uid FROM posts)"
        ).to_arrow_table()
        con.register("_x_keep", keep)
    if prev is None:
        new = con.sql("SELECT uid FROM posts WHERE false").to_arrow_table()
    elif campaign is not None:
        # Kept posts not in the export yet (a post may join a campaign's selection late).
        done = (out / "posts").as_posix()
        new = con.sql(
            "SELECT uid FROM _x_keep WHERE uid IS NOT NULL AND uid NOT IN"
            f" (SELECT uid FROM read_parquet('{done}/**/*.parquet', hive_partitioning = false))"
        ).to_arrow_table()
    else:
        mark = prev["marks"]["posts"]
        where = f"collected_at > {_lit(mark)}::TIMESTAMPTZ" if mark else "true"
        new = con.sql(f"SELECT uid FROM posts WHERE {where}").to_arrow_table()
    con.register("_x_new", new)
    old_authors = (
        "SELECT author_uid FROM posts WHERE uid IN (SELECT uid FROM _x_keep) AND uid NOT IN (SELECT uid FROM _x_new)"
        if campaign is not None
        else "SELECT NULL AS author_uid WHERE false"
    )
    con.register(
        "_x_new_authors",
        con.sql(
            "SELECT DISTINCT author_uid FROM posts WHERE uid IN (SELECT uid FROM _x_new)"
            f" AND author_uid NOT IN ({old_authors}) AND author_uid IS NOT NULL"
        ).to_arrow_table(),
    )
    return int(new.num_rows)


def _copy(con: Any, spec: TableSpec, grain: str, where: str, dest: Path, n: int, append: bool) -> int:
    """COPY the selected rows of ``spec`` into ``dest`` (streaming, partitioned); rows written."""
    sel = f"SELECT * FROM ({_select(spec, grain)} WHERE {where})"
    rows = int(con.execute(f"SELECT count(*) FROM ({sel})").fetchall()[0][0])
    parts = _partitions(spec.part, grain)
    if rows == 0:
        if not append:  # an empty table still has its schema: one empty file
            dest.mkdir(parents=True, exist_ok=True)
            sub = dest.joinpath(*(f"{c}=__HIVE_DEFAULT_PARTITION__" for c in parts))
            sub.mkdir(parents=True, exist_ok=True)
            drop = ", ".join(parts)
            cols = f"* EXCLUDE ({drop})" if parts else "*"
            con.execute(
                f"COPY (SELECT {cols} FROM ({sel}) LIMIT 0) TO '{(sub / f'e{n}_empty.parquet').as_posix()}'"
                " (FORMAT parquet, COMPRESSION zstd)"
            )
        return 0
    opts = ["FORMAT parquet", "COMPRESSION zstd", "ROW_GROUP_SIZE 122880"]
    if parts:
        opts.append(f"PARTITION_BY ({', '.join(parts)})")
        opts.append(f"FILENAME_PATTERN 'e{n}_{{uuid}}'")
        opts.append("APPEND" if append else "OVERWRITE_OR_IGNORE")
        con.execute(f"COPY ({sel}) TO '{dest.as_posix()}' ({', '.join(opts)})")
    else:
        dest.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({sel}) TO '{(dest / f'e{n}_0.parquet').as_posix()}' ({', '.join(opts)})")
    return rows


def _deletions(con: Any, campaign: Any | None, prev: dict[str, Any], dest: Path, n: int) -> int:
    """Tombstone rows for posts exported before and deleted since the previous export."""
    tm = prev["marks"]["tombstones"]
    since = f"t.recorded_at > {_lit(tm)}::TIMESTAMPTZ" if tm else "true"
    pm = prev["marks"]["posts"]
    old = (
        "p.uid IN (SELECT uid FROM _x_keep) AND p.uid NOT IN (SELECT uid FROM _x_new)"
        if campaign is not None
        else (f"p.collected_at <= {_lit(pm)}::TIMESTAMPTZ" if pm else "false")
    )
    sel = (
        f"SELECT p.uid, p.deleted_at, {n} AS export FROM posts p WHERE p.deleted_at IS NOT NULL AND {old}"
        " AND p.uid IN (SELECT coalesce(a.uid, t.uid) FROM tombstones t"
        f" LEFT JOIN post_aliases a ON a.alias_uid = t.uid WHERE {since})"
    )
    rows = int(con.execute(f"SELECT count(*) FROM ({sel})").fetchall()[0][0])
    if rows:
        con.execute(
            f"COPY ({sel}) TO '{(dest / f'e{n}_0.parquet').as_posix()}' (FORMAT parquet, COMPRESSION zstd)"
        )
    return rows


def export_parquet(
    arc: Archive,
    directory: str | Path,
    *,
    campaign: Any | None = None,
    since_last: bool = False,
    partition: str = "day",
    progress: Progress | None = None,
    memory_limit: str | None = EXPORT_MEMORY_LIMIT,
) -> dict[str, Any]:
    """Export every normalised table of ``arc`` to ``directory`` (see the module docstring).

    ``campaign`` (a stored ``Campaign`` or slug) keeps only its campaign posts and reposts (and
    the posts its reposts repost), their rows in the other tables, their authors and the
    campaign's registry. ``since_last`` appends what changed since the last export to the
    same folder (same filter). ``partition``: the time partition after the platform, ``day``
    (UTC), ``month`` (fewer, larger files for a sparse archive) or ``none`` (platform only).
    ``memory_limit``: DuckDB's memory during the export (it spills to disk beyond it; rows
    are then written in any order within a file); None leaves the archive's setting. Returns a summary: the export number, rows written per table."""
    out = Path(directory)
    c = resolve_campaign(arc, campaign) if campaign is not None else None
    if c is not None and c.campaign_id is None:
        raise ExportError("--campaign takes a campaign stored in the archive (salon campaign add)")
    if partition not in GRAINS:
        raise ExportError(f"partition is one of {', '.join(GRAINS)}")
    if memory_limit is not None and not _SIZE.fullmatch(memory_limit):
        raise ExportError(f"memory limit {memory_limit!r}: a size such as 512MB, 2GB or 1.5GiB")
    prev = _load_state(out)
    if since_last and prev is not None:
        partition = prev.get("partition", "day")  # appended files follow the folder's layout
    grain = partition
    if since_last:
        if prev is None:
            raise ExportError(f"{out}: no previous export here (run without --since-last first)")
        if prev.get("campaign") != (c.slug if c else None):
            raise ExportError(f"{out}: the previous export's campaign was {prev.get('campaign')!r}")
    else:
        failed = (out / PARTIAL_FILE).exists()  # a full export that did not finish
        if out.exists() and any(out.iterdir()) and prev is None and not failed:
            raise ExportError(f"{out}: not empty and not a Salon Parquet export; choose another folder")
        # The marker first, then the state, then the tables: were this export to fail,
        # --since-last must not append to tables that are gone, and the marker lets the next
        # full export take the folder. A full export replaces the previous (or unfinished) one.
        out.mkdir(parents=True, exist_ok=True)
        (out / PARTIAL_FILE).write_text(_PARTIAL_TEXT)
        if prev is not None or failed:
            (out / STATE_FILE).unlink(missing_ok=True)
            for spec in (*TABLES, TableSpec(DELETIONS, "", "")):
                shutil.rmtree(out / spec.name, ignore_errors=True)
                shutil.rmtree(out / f"_{spec.name}.tmp", ignore_errors=True)
            prev = None
    con = arc.con
    if not arc.read_only:
        _refresh_trust(arc, c)
    specs = _present(con)
    n = int(prev["exports"][-1]["export"]) + 1 if prev else 1
    if prev is not None:  # files an unfinished export numbered n appended (it recorded nothing)
        for f in out.rglob(f"e{n}_*.parquet"):
            f.unlink()
    marks = _marks(con)  # read first: rows arriving during the export go to the next one
    written: dict[str, int] = {}
    names = ["_x_new", "_x_new_authors"] + (["_x_keep"] if c is not None else [])
    new_posts = _register_selection(arc, c, prev, out)
    # DuckDB takes up to 80% of the machine's memory by default (20 GB of 24 exporting 100M
    # posts). Under a limit, rows need not keep the table's order (partitioned writes then
    # buffer less): 100M posts exported in 4GB so, 1.3x the time; 2GB was too little.
    limit = (
        arc.settings(memory_limit=memory_limit, preserve_insertion_order="false")
        if memory_limit
        else contextlib.nullcontext()
    )
    with limit:
        try:
            for i, spec in enumerate(specs):
                dest = out / spec.name
                where = _filters(con, spec, c, prev, out) or "true"
                if spec.mode == "replace" or prev is None:
                    tmp = out / f"_{spec.name}.tmp"
                    shutil.rmtree(tmp, ignore_errors=True)
                    written[spec.name] = _copy(con, spec, grain, where, tmp, n, append=False)
                    shutil.rmtree(dest, ignore_errors=True)
                    tmp.rename(dest)  # readers see the old table or the new one, never half
                else:
                    written[spec.name] = _copy(con, spec, grain, where, dest, n, append=True)
                if progress:
                    progress(spec.name, written[spec.name], i + 1)
            dest = out / DELETIONS
            if prev is None:
                dest.mkdir(parents=True, exist_ok=True)
                con.execute(
                    "COPY (SELECT uid, deleted_at, 0 AS export FROM posts LIMIT 0) TO"
                    f" '{(dest / 'e0_empty.parquet').as_posix()}' (FORMAT parquet, COMPRESSION zstd)"
                )
                written[DELETIONS] = 0
            else:
                written[DELETIONS] = _deletions(con, c, prev, dest, n)
        finally:
            for name in names:
                con.unregister(name)
    entry = {
        "export": n,
        "at": datetime.now(UTC).isoformat(),
        "since_last": since_last,
        "new_posts": new_posts if prev else written["posts"],
        "rows": written,
    }
    state = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "archive": str(Path(arc.path).resolve()) if arc.path != ":memory:" else arc.path,
        "campaign": c.slug if c else None,
        "partition": partition,
        "marks": marks,
        "exports": [*(prev["exports"] if prev else []), entry],
    }
    _write_schema(con, out, state, specs)
    (out / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    (out / PARTIAL_FILE).unlink(missing_ok=True)
    _write_readme(out)
    return entry


def _refresh_trust(arc: Archive, c: Any | None) -> None:
    """Bring the trust tables of the exported campaigns up to date first, as a tally does
    (``salon.campaigns.trust.pipeline.refresh``): the spam verdicts exported are then the ones
    ``salon tally`` gives on the archive."""
    for slug in [c.slug] if c is not None else [r["slug"] for r in list_campaigns(arc)]:
        pipeline.refresh(arc, resolve_campaign(arc, slug))


def _present(con: Any) -> list[TableSpec]:
    """The tables of ``TABLES`` this archive has (one from before a migration, opened
    read-only, may lack the newer ones: they are left out of its export)."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    return [spec for spec in TABLES if spec.name in have]


def _write_schema(con: Any, out: Path, state: dict[str, Any], specs: list[TableSpec]) -> None:
    tables: dict[str, Any] = {}
    for spec in (*specs, TableSpec(DELETIONS, "", "")):
        if spec.name == DELETIONS:
            cols = [
                {"name": "uid", "type": "VARCHAR", "nullable": False},
                {"name": "deleted_at", "type": "TIMESTAMP WITH TIME ZONE", "nullable": True},
                {"name": "export", "type": "INTEGER", "nullable": False},
            ]
            arrow = {"uid": "string", "deleted_at": "timestamp[us, tz=UTC]", "export": "int32"}
        else:
            cols = _columns(con, spec.name)
            arrow = _arrow_types(con, spec.name)
        for col in cols:
            col["arrow"] = arrow.get(str(col["name"]))
        parts = list(_partitions(spec.part, state["partition"]))
        own = {col["name"] for col in cols}
        rows = con.execute(
            f"SELECT count(*) FROM read_parquet('{(out / spec.name).as_posix()}/**/*.parquet')"
        ).fetchall()[0][0]
        tables[spec.name] = {
            "path": spec.name,
            "columns": cols,
            "partition_by": parts,
            "added_partition_columns": [p for p in parts if p not in own],
            "rows_in_files": int(rows),
            "since_last": spec.mode or "tombstones",
        }
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "salon_version": __version__,
        "compression": "zstd",
        "timestamps": "UTC (Parquet timestamp, isAdjustedToUTC = true, microseconds)",
        "campaign": state["campaign"],
        "partition": state["partition"],
        "exports": state["exports"],
        "tables": tables,
    }
    (out / SCHEMA_FILE).write_text(json.dumps(doc, indent=2) + "\n")


_README = """# Salon Parquet export

Every normalised table of a Salon archive, one folder per table, zstd-compressed Parquet, with
hive partitions (`platform=<p>/day=<YYYY-MM-DD>`: the post's platform and UTC day; `authors` by
`platform`). `schema.json` lists every table's columns (with their DuckDB and Arrow types), its
partition columns (those a table does not have are *added*: `day` on `posts`, `platform` and
`day` on the tables of a post and on `metrics_snapshots`), and the exports made into this
folder. Timestamps are UTC. Ids are strings. `__HIVE_DEFAULT_PARTITION__` is a NULL value.

Made with `salon export parquet -o DIR`; `salon export parquet -o DIR --since-last` appends what
changed since: new files `e<N>_*.parquet` (N: the export's number), and tombstone rows in
`post_deletions/` for posts exported earlier and deleted since. A post's current `deleted_at`
is `coalesce(posts.deleted_at, post_deletions.deleted_at)`. `authors` (the latest snapshot of
each author), the campaign registry, the spam verdicts (`trust_spam`), the moderation log,
the account statuses and the chats' tables are rewritten whole at each export.

## Reading it

DuckDB (views named like the archive's tables, deletions applied):

    import duckdb
    from salon.publish.exports.parquet import register_views
    con = duckdb.connect(); register_views(con, "DIR")
    con.sql("SELECT platform, count(*) FROM posts GROUP BY ALL")

    -- or plain SQL
    SELECT * FROM read_parquet('DIR/posts/**/*.parquet', hive_partitioning = true);

pyarrow and pandas:

    import pyarrow as pa, pyarrow.dataset as ds
    part = ds.partitioning(pa.schema([("platform", pa.string()), ("day", pa.date32())]), flavor="hive")
    posts = ds.dataset("DIR/posts", format="parquet", partitioning=part).to_table()
    df = posts.to_pandas()
    # pandas alone: pd.read_parquet("DIR/posts") gives the partition columns as categories

Spark (session time zone UTC, or timestamps shift):

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    posts = spark.read.parquet("DIR/posts")          # platform and day from the folders

Salon's figures on Spark over this folder: `salon tally CAMPAIGN --engine spark --parquet DIR`.
"""


def _write_readme(out: Path) -> None:
    (out / "README.md").write_text(_README)
