"""Where the definitions' SQL runs: an engine names relations and runs queries over them.

The metric SQL (``salon.campaigns.definitions``, the tally's aggregates) is written once, in
DuckDB's dialect. ``DuckDBEngine`` runs it as it is, on an archive's connection (or on the
views of a Parquet export); ``salon.campaigns.spark.SparkEngine`` transpiles the same text to
Spark SQL with sqlglot and runs it on PySpark. Nothing above an engine knows which one it has.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa

__all__ = ["DuckDBEngine", "Engine"]


class Engine(Protocol):
    """What the campaign figures need from a SQL engine."""

    name: str

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` (DuckDB dialect, ``?`` placeholders) and return every row."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table visible to SQL as ``name``."""
        ...

    def materialize(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep its result as relation ``name``."""
        ...

    def drop(self, name: str) -> None:
        """Forget relation ``name`` (registered or materialized)."""
        ...


class DuckDBEngine:
    """The definitions on a DuckDB connection (an archive's, or one over a Parquet export)."""

    name = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        # All rows, not fetchone: an unfinished result makes DuckDB refuse the next register.
        return list(self.con.execute(sql, params or []).fetchall())

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def materialize(self, name: str, sql: str) -> None:
        # An Arrow table, not a TEMP TABLE: read-only archives cannot create tables.
        self.con.register(name, self.con.sql(sql).to_arrow_table())

    def drop(self, name: str) -> None:
        self.con.unregister(name)
