"""The campaign figures over a Parquet export, on Apache Spark (or on DuckDB, the reference).

>>> from salon.campaigns.spark import spark_session, tally_export
>>> spark = spark_session()                                    # doctest: +SKIP
>>> t = tally_export("export/", "museumweek-2015", engine="spark", spark=spark)  # doctest: +SKIP

The figures are the ones ``salon.campaigns.tally`` computes: the same definitions
(``salon.campaigns.definitions``) and the same aggregates (``tally_of_scope``), written once in
DuckDB's SQL. ``SparkEngine`` transpiles every statement to Spark SQL with sqlglot
(``to_spark_sql``) and runs it on PySpark over the export's folders, which it exposes as views
named like the archive's tables (``salon.store.parquet.view_sql``, transpiled as well). The
session is pinned to UTC (``spark.sql.session.timeZone``): Spark otherwise reads and writes
timestamps in the JVM's zone and the days and hours shift.

A campaign is a stored slug (the export carries the registry, with the account ids learned)
or a campaign file. Needs the ``spark`` extra (``pip install 'salon[spark]'``) and Java 17+.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from salon.campaigns.compare import compare_figures
from salon.campaigns.config import Campaign
from salon.campaigns.engine import DuckDBEngine
from salon.campaigns.registry import activity_of_scope
from salon.campaigns.tally import Scope, resolve_campaign, scan_scope, spam_of_scope, tally_of_scope
from salon.store.archive import Archive
from salon.store.parquet import (
    DELETIONS,
    PARTITION_PREFIX,
    SCHEMA_FILE,
    load_schema,
    register_views,
    view_sql,
)

__all__ = [
    "ENGINES",
    "REGISTRY_TABLES",
    "SPARK_CONF",
    "SparkEngine",
    "campaign_from_export",
    "compare_export",
    "export_scope",
    "local_cores",
    "main",
    "registry_archive",
    "spark_session",
    "tally_export",
    "to_spark_sql",
]

ENGINES = ("duckdb", "spark")

# Spark settings the figures depend on (the time zone), and what suits any master. On local[N],
# spark_session also makes the shuffle partitions one per core (Spark's 200 are a cluster's:
# on one machine each costs a task); on a cluster Spark's own (200, coalesced by adaptive
# execution) stay, since two partitions there would make each task sort half the data.
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def spark_session(master: str | None = "local[2]", conf: dict[str, str] | None = None) -> Any:
    """A SparkSession pinned to UTC (``master``: ``local[2]``, a cluster's URL, or None under
    ``spark-submit``, which sets it). An existing session is reused, its time zone set to UTC."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("salon")
    if master:
        builder = builder.master(master)
    for k, v in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    cores = local_cores(spark.sparkContext.master or "")
    key = "spark.sql.shuffle.partitions"
    if cores is not None and key not in (conf or {}) and not spark.sparkContext.getConf().contains(key):
        spark.conf.set(key, str(cores))
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def local_cores(master: str) -> int | None:
    """The cores of a ``local``, ``local[N]``, ``local[*]`` or ``local[N,F]`` master; None for
    a cluster's."""
    m = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if m is None:
        return None
    n = m.group(1)
    return 1 if n is None else (os.cpu_count() or 1) if n == "*" else int(n)


def to_spark_sql(
    sql: str | Any, params: list[Any] | None = None, prune: dict[str, tuple[str, str]] | None = None
) -> str:
    """``sql`` (DuckDB dialect, ``?`` placeholders bound to ``params``; or its sqlglot tree) as
    Spark SQL.

    sqlglot does the dialect; two rules are Salon's: placeholders become literals (Spark's
    positional parameters take no dates), and ``GROUPING(a, b, ...)`` of several columns, the
    bit vector in DuckDB, is Spark's ``grouping_id(a, b, ...)`` (the same bits: the first
    column the most significant). ``prune`` ({table: (partition column, grain)}, a table
    partitioned by the UTC day or month of its ``created_at``): a scan of it bounded by
    ``created_at`` literals also gets the bounds of its partition column, so Spark reads only
    those partitions (the same rows: the partition is the day of ``created_at``)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql
    values = iter(params or [])

    def rule(node: exp.Expression) -> Any:
        if isinstance(node, exp.Placeholder):
            return exp.convert(next(values))
        if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
            return exp.Anonymous(this="grouping_id", expressions=list(node.expressions))
        if prune and isinstance(node, exp.Select):
            _prune(node, prune)
        return node

    return str(tree.transform(rule).sql(dialect="spark"))


_GRAIN_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m"}


def _prune(select: Any, prune: dict[str, tuple[str, str]]) -> None:
    """Add partition bounds to ``select``'s WHERE for each time-bounded scan of a table in
    ``prune`` (see ``to_spark_sql``)."""
    from sqlglot import exp

    where = select.args.get("where")
    if where is None:
        return
    aliases = {}
    for src in [_arg(select, "from"), *(select.args.get("joins") or [])]:
        t = src.this if src is not None else None
        if isinstance(t, exp.Table) and t.name in prune and not t.db:
            aliases[t.alias_or_name] = prune[t.name]
    if not aliases:
        return
    conds = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    extra: list[exp.Expression] = []
    for cond in conds:
        if not isinstance(cond, exp.GTE | exp.GT | exp.LT | exp.LTE):
            continue
        col, lit = cond.this, cond.expression
        if not (isinstance(col, exp.Column) and col.name == "created_at" and col.table in aliases):
            continue
        if not (isinstance(lit, exp.Cast) and isinstance(lit.this, exp.Literal) and lit.this.is_string):
            continue
        try:
            when = datetime.fromisoformat(lit.this.this)
        except ValueError:
            continue
        if when.tzinfo is None:
            continue
        part, grain = aliases[col.table]
        bound = exp.Literal.string(when.astimezone(UTC).strftime(_GRAIN_FORMAT[grain]))
        pcol = exp.column(part, table=col.table)
        extra.append(
            exp.GTE(this=pcol, expression=bound)
            if isinstance(cond, exp.GTE | exp.GT)
            else exp.LTE(this=pcol, expression=bound)
        )
    if extra:
        where.set("this", exp.and_(where.this, *extra))


class SparkEngine:
    """The definitions' SQL on Spark over a Parquet export: the export's tables are temp views
    named like the archive's (one export per session at a time).

    What keeps a tally's Spark jobs few (Spark pays per job and per stage, whatever the data):
    a table's view is made when a query first names it, with the schema ``schema.json`` gives
    (no job to infer it from the files' footers); the deletions appended by ``--since-last``
    are joined only when there are some, aggregated once; a common table expression that a
    materialized query names more than once is computed once (Spark inlines CTEs: it would
    compute them once per reference); and a scan of ``posts`` bounded in time reads only the
    partitions of those times (``prune``)."""

    name = "spark"

    def __init__(self, spark: Any, directory: str | Path) -> None:
        self.spark = spark
        if "://" in str(directory):  # object storage (s3a://, gs://, abfss://, hdfs://): Spark reads it
            base = str(directory).rstrip("/")
            text = spark.read.text(f"{base}/{SCHEMA_FILE}", wholetext=True).first()[0]
            schema = json.loads(text)
        else:
            base = str(Path(directory).resolve())
            schema = load_schema(directory)
        self.directory = base
        self.schema = schema
        self.tables = list(schema["tables"])
        self._views: set[str] = set()
        self._n = next(_views)
        self._parts: dict[str, list[str]] = {}  # a materialized relation's own parts (its CTEs)

    # -- the export's tables as views, made when first named ------------------------------------

    def _read(self, table: str) -> Any:
        """The table's files as a DataFrame (partition columns as strings)."""
        t = self.schema["tables"][table]
        ddl = _spark_ddl(t)
        if ddl is not None and t.get("rows_in_files") == 0:  # no files to read (or none at all)
            return self.spark.createDataFrame([], ddl)
        reader = self.spark.read if ddl is None else self.spark.read.schema(ddl)
        return reader.parquet(f"{self.directory}/{t.get('path', table)}")

    def _deletions(self) -> str | None:
        """The view of the deletions ``--since-last`` appended, or None when there are none."""
        t = self.schema["tables"].get(DELETIONS)
        if t is None or t.get("rows_in_files") == 0:
            return None
        name = f"_pq{self._n}_{DELETIONS}"
        if name not in self._views:
            self._read(DELETIONS).createOrReplaceTempView(name)
            self._views.add(name)
        return name

    def _view(self, table: str) -> None:
        if table in self._views:
            return
        src = f"_pq{self._n}_{table}"
        self._read(table).createOrReplaceTempView(src)
        deletions = self._deletions() if table == "posts" else None
        sql = view_sql(self.schema, table, src, deletions, keep_partitions=table in self._prunable())
        self.spark.sql(to_spark_sql(sql)).createOrReplaceTempView(table)
        self._views.add(table)

    def _sql(self, sql: str, params: list[Any] | None = None) -> Any:
        """A DataFrame of ``sql`` (DuckDB dialect), with the views it names made."""
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="duckdb")
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for t in tree.find_all(exp.Table):
            if t.name in self.schema["tables"] and t.name not in ctes and not t.db:
                self._view(t.name)
        return self.spark.sql(to_spark_sql(tree, params, prune=self._prunable()))

    def _prunable(self) -> dict[str, tuple[str, str]]:
        """Tables whose time partition is their own ``created_at``: {table: (column, grain)}."""
        t = self.schema["tables"].get("posts")
        grain = self.schema.get("partition")
        if t is None or grain not in ("day", "month") or grain not in t["partition_by"]:
            return {}
        return {"posts": (f"{PARTITION_PREFIX}{grain}", grain)}

    # -- the engine ------------------------------------------------------------------------------

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        t = self._sql(sql, params).toArrow()
        cols = [c.to_pylist() for c in t.columns]
        return list(zip(*cols, strict=True)) if cols else []

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        # Computed once (localCheckpoint): the scope's relations are read by several queries.
        # A CTE named more than once is materialized first, on its own (see the class).
        import sqlglot

        tree = sqlglot.parse_one(sql, read="duckdb")
        for cte, body in _shared_ctes(tree):
            part = f"{name}_{cte}"
            self.materialize(part, body)
            self._parts.setdefault(name, []).append(part)
            _rename_table(tree, cte, part)
        df = self._sql(tree.sql(dialect="duckdb")).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        for part in self._parts.pop(name, []):
            self.drop(part)
        self.spark.catalog.dropTempView(name)

    def arrow(self, table: str) -> pa.Table:
        """A (small) table of the export, collected to the driver."""
        return self._sql(f"SELECT * FROM {table}").toArrow()


_views = itertools.count(1)

# Arrow types of schema.json as Spark SQL types (a table with any other type: Spark infers it).
_SPARK_TYPES = {
    "string": "STRING",
    "large_string": "STRING",
    "bool": "BOOLEAN",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date32[day]": "DATE",
    "timestamp[us, tz=UTC]": "TIMESTAMP",
    "binary": "BINARY",
}


def _spark_ddl(t: dict[str, Any]) -> str | None:
    """The Spark schema (DDL) of an exported table's files and partition columns, or None."""
    cols = []
    for col in t["columns"]:
        if col["name"] in t["partition_by"]:
            continue
        typ = _SPARK_TYPES.get(str(col.get("arrow")))
        if typ is None:
            return None
        cols.append(f"`{col['name']}` {typ}")
    cols += [f"`{p}` STRING" for p in t["partition_by"]]
    return ", ".join(cols)


def _shared_ctes(tree: Any) -> list[tuple[str, str]]:
    """(name, SQL) of the top-level CTEs that the query names more than once (in order), removed
    from ``tree``'s WITH."""
    from sqlglot import exp

    with_ = _arg(tree, "with")
    if with_ is None:
        return []
    names = [c.alias_or_name for c in with_.expressions]
    uses = {n: 0 for n in names}
    for t in tree.find_all(exp.Table):
        if t.name in uses and not t.db:
            uses[t.name] += 1
    out = []
    for cte in list(with_.expressions):
        if uses[cte.alias_or_name] > 1 and not any(
            t.name in names for t in cte.this.find_all(exp.Table) if not t.db
        ):  # a CTE naming another stays: it is computed inside
            out.append((cte.alias_or_name, cte.this.sql(dialect="duckdb")))
            cte.pop()
    if not with_.expressions:
        with_.pop()
    return out


def _arg(node: Any, name: str) -> Any:
    # sqlglot names some arguments with a trailing underscore (``from_``, ``with_``) since 26.x
    return node.args.get(name) or node.args.get(f"{name}_")


def _rename_table(tree: Any, old: str, new: str) -> None:
    from sqlglot import exp

    for t in tree.find_all(exp.Table):
        if t.name == old and not t.db:
            alias = t.alias or old
            t.set("this", exp.to_identifier(new))
            t.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))


def _export_archive(directory: str | Path) -> Archive:
    """An in-memory DuckDB with the export's tables as views, as a read-only Archive."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    register_views(con, directory)
    return Archive(str(directory), con, read_only=True)


REGISTRY_TABLES: tuple[str, ...] = (
    "series",
    "campaigns",
    "campaign_days",
    "campaign_hashtags",
    "participants",
    "participant_accounts",
)


def campaign_from_export(
    directory: str | Path, campaign: Campaign | str, engine: SparkEngine | None = None
) -> Campaign:
    """A campaign stored in the export (by slug, with its learned account ids) or a campaign
    file, as ``salon.campaigns.tally.resolve_campaign`` reads them from an archive (the registry
    read as ``registry_archive`` says)."""
    if isinstance(campaign, Campaign):
        return campaign
    with registry_archive(directory, engine) as arc:
        return resolve_campaign(arc, campaign)


def registry_archive(directory: str | Path, engine: SparkEngine | None = None) -> Archive:
    """The export's campaign registry (its campaigns, with their chats) as a read-only Archive
    for ``salon.campaigns.stored``: an in-memory DuckDB over the export's files when they are
    local (a few small tables, read without a Spark job each), or, for an export on object
    storage, over the registry tables collected by ``engine`` (Spark)."""
    if engine is None or "://" not in str(directory):
        return _export_archive(directory)
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in REGISTRY_TABLES:
        con.register(table, engine.arrow(table))
    return Archive(str(directory), con, read_only=True)


@contextmanager
def export_scope(
    directory: str | Path,
    campaign: Campaign | str,
    *,
    engine: str = "spark",
    spark: Any = None,
    at: datetime | None = None,
    basis: str = "created",
) -> Iterator[Scope]:
    """The campaign's members over the export, computed by ``engine`` (``spark`` or
    ``duckdb``), ready for ``tally_of_scope`` and the other figures of a scope."""
    if engine not in ENGINES:
        raise ValueError(f"engine is one of {', '.join(ENGINES)}")
    if engine == "spark":
        eng = SparkEngine(spark if spark is not None else spark_session(), directory)
        c = campaign_from_export(directory, campaign, eng)
        with scan_scope(eng, c, at, basis=basis) as s:
            yield s
        return
    c = campaign_from_export(directory, campaign)
    with _export_archive(directory) as arc, scan_scope(DuckDBEngine(arc.con), c, at, basis=basis) as s:
        yield s


def tally_export(
    directory: str | Path,
    campaign: Campaign | str,
    *,
    engine: str = "spark",
    spark: Any = None,
    at: datetime | None = None,
    basis: str = "created",
    top: int = 10,
) -> dict[str, Any]:
    """``salon.campaigns.tally.tally`` over a Parquet export, on Spark (or DuckDB): the same
    figures, ``source`` says which engine computed them."""
    with export_scope(directory, campaign, engine=engine, spark=spark, at=at, basis=basis) as s:
        out = tally_of_scope(s, top)
        out["spam"] = spam_of_scope(s)  # the export's trust_spam verdicts over the members
    out["source"] = engine
    return out


def compare_export(
    directory: str | Path, a: Campaign | str, b: Campaign | str, *, engine: str = "spark", spark: Any = None
) -> dict[str, Any]:
    """``salon.campaigns.compare.compare`` (editions) over a Parquet export."""
    figures = []
    for c in (a, b):
        with export_scope(directory, c, engine=engine, spark=spark) as s:
            figures.append((tally_of_scope(s), activity_of_scope(s)))
    (ta, act_a), (tb, act_b) = figures
    return compare_figures(ta, tb, act_a, act_b)


def main(argv: list[str] | None = None) -> None:
    """``spark-submit .../salon/campaigns/spark.py DIR CAMPAIGN [CAMPAIGN_B]``: the tally (or,
    with two campaigns, the editions compared) as JSON on stdout, on the cluster spark-submit
    names (``DIR`` may be on object storage: ``s3a://bucket/export``)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="salon-spark", description=main.__doc__)
    ap.add_argument("directory")
    ap.add_argument("campaign")
    ap.add_argument("campaign_b", nargs="?")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--master", default=None, help="Default: what spark-submit set.")
    args = ap.parse_args(argv)
    spark = spark_session(args.master)
    if args.campaign_b:
        out = compare_export(args.directory, args.campaign, args.campaign_b, spark=spark)
    else:
        out = tally_export(args.directory, args.campaign, spark=spark, top=args.top)
    sys.stdout.write(json.dumps(out, default=str, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
