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

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from salon.campaigns.compare import compare_figures
from salon.campaigns.config import Campaign
from salon.campaigns.engine import DuckDBEngine
from salon.campaigns.registry import activity_of_scope
from salon.campaigns.tally import Scope, resolve_campaign, scan_scope, spam_of_scope, tally_of_scope
from salon.store.archive import Archive
from salon.store.parquet import DELETIONS, SCHEMA_FILE, load_schema, register_views, view_sql

__all__ = [
    "ENGINES",
    "REGISTRY_TABLES",
    "SPARK_CONF",
    "SparkEngine",
    "campaign_from_export",
    "compare_export",
    "export_scope",
    "main",
    "registry_archive",
    "spark_session",
    "tally_export",
    "to_spark_sql",
]

ENGINES = ("duckdb", "spark")

# Spark settings the figures depend on (the time zone), and what suits one machine's local[N].
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",  # one per core of local[2]; the default 200 is for clusters
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
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_spark_sql(sql: str, params: list[Any] | None = None) -> str:
    """``sql`` (DuckDB dialect, ``?`` placeholders bound to ``params``) as Spark SQL.

    sqlglot does the dialect; two rules are Salon's: placeholders become literals (Spark's
    positional parameters take no dates), and ``GROUPING(a, b, ...)`` of several columns, the
    bit vector in DuckDB, is Spark's ``grouping_id(a, b, ...)`` (the same bits: the first
    column the most significant)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    values = iter(params or [])

    def rule(node: exp.Expression) -> Any:
        if isinstance(node, exp.Placeholder):
            return exp.convert(next(values))
        if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
            return exp.Anonymous(this="grouping_id", expressions=list(node.expressions))
        return node

    return str(tree.transform(rule).sql(dialect="spark"))


class SparkEngine:
    """The definitions' SQL on Spark over a Parquet export: the export's tables are temp views
    named like the archive's (one export per session at a time)."""

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
        self.tables = list(schema["tables"])
        for table in schema["tables"]:
            spark.read.parquet(f"{base}/{table}").createOrReplaceTempView(f"_pq_{table}")
        for table in schema["tables"]:
            deletions = f"_pq_{DELETIONS}" if table == "posts" else None
            sql = view_sql(schema, table, f"_pq_{table}", deletions)
            spark.sql(to_spark_sql(sql)).createOrReplaceTempView(table)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        t = self.spark.sql(to_spark_sql(sql, params)).toArrow()
        cols = [c.to_pylist() for c in t.columns]
        return list(zip(*cols, strict=True)) if cols else []

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        # Computed once: the scope's relations are read by several queries.
        df = self.spark.sql(to_spark_sql(sql)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def arrow(self, table: str) -> pa.Table:
        """A (small) table of the export, collected to the driver."""
        return self.spark.sql(f"SELECT * FROM {table}").toArrow()


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
    file, as ``salon.campaigns.tally.resolve_campaign`` reads them from an archive (with
    ``engine``, the registry tables are read by Spark: an export on object storage)."""
    if isinstance(campaign, Campaign):
        return campaign
    with registry_archive(directory, engine) as arc:
        return resolve_campaign(arc, campaign)


def registry_archive(directory: str | Path, engine: SparkEngine | None = None) -> Archive:
    """The export's campaign registry (its campaigns, with their chats) as a read-only Archive
    for ``salon.campaigns.stored``: an in-memory DuckDB over the export's files, or (with
    ``engine``) over the registry tables collected from Spark (an export on object storage)."""
    if engine is None:
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
