"""Reading a Salon Parquet export (``salon.publish.exports.parquet`` writes it) as the
archive's tables: the SQL that gives each table back with its columns, in order, and the
deletions appended by ``--since-last`` applied. DuckDB runs it on the files; the Spark engine
(``salon.campaigns.spark``) runs the same text, transpiled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "DELETIONS",
    "PARTITION_PREFIX",
    "SCHEMA_FILE",
    "ExportError",
    "duckdb_source",
    "load_schema",
    "register_views",
    "view_sql",
]

DELETIONS = "post_deletions"
SCHEMA_FILE = "schema.json"
PARTITION_PREFIX = "_part_"  # view_sql(keep_partitions=True): a partition column the table lacks


class ExportError(ValueError):
    """The export cannot run or be read as asked (a folder that is no Salon export, a changed
    filter)."""


def load_schema(directory: str | Path) -> dict[str, Any]:
    """The export's ``schema.json``."""
    p = Path(directory) / SCHEMA_FILE
    if not p.exists():
        raise ExportError(f"{directory}: no schema.json here (not a Salon Parquet export)")
    return dict(json.loads(p.read_text()))


def view_sql(
    schema: dict[str, Any],
    table: str,
    source: str,
    deletions: str | None = None,
    *,
    keep_partitions: bool = False,
) -> str:
    """DuckDB SQL giving ``table`` back as it is in the archive (its columns, in order, without
    the partition columns it lacks; ``posts`` with the exported deletions applied) from
    ``source``, a relation of its files read with hive partitioning (``deletions``: of
    ``post_deletions``). The Spark engine runs the same text, transpiled, with
    ``keep_partitions``: the partition columns the archive lacks follow the table's own, named
    ``_part_<column>`` (so a query bounded in time can name them and read only those
    partitions)."""
    t = schema["tables"][table]
    cols: list[str] = []
    for col in t["columns"]:
        name = col["name"]
        if name == "deleted_at" and table == "posts" and deletions:
            cols.append("coalesce(t.deleted_at, d.deleted_at) AS deleted_at")
        elif name in t["partition_by"]:  # values from folder names: give the column its type
            cols.append(f"CAST(t.{name} AS VARCHAR) AS {name}")
        else:
            cols.append(f"t.{name}")
    if keep_partitions:
        cols += [f"t.{name} AS {PARTITION_PREFIX}{name}" for name in t.get("added_partition_columns", [])]
    sql = f"SELECT {', '.join(cols)} FROM {source} t"
    if table == "posts" and deletions:
        sql += f" LEFT JOIN (SELECT uid, min(deleted_at) AS deleted_at FROM {deletions} GROUP BY uid) d ON d.uid = t.uid"
    return sql


def duckdb_source(directory: str | Path, table: str) -> str:
    """``read_parquet`` of a table's files with hive partitioning (for ``view_sql``)."""
    path = (Path(directory) / table).as_posix()
    return f"read_parquet('{path}/**/*.parquet', hive_partitioning = true, union_by_name = true)"


def register_views(con: Any, directory: str | Path) -> list[str]:
    """Create (temporary) DuckDB views named like the archive's tables over an export, so the
    archive's queries run on it unchanged. Returns the names."""
    schema = load_schema(directory)
    names = []
    for table in schema["tables"]:
        deletions = duckdb_source(directory, DELETIONS) if table == "posts" else None
        sql = view_sql(schema, table, duckdb_source(directory, table), deletions)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {sql}")
        names.append(table)
    return names
