"""Read-only SQL over an archive: the library function behind ``salon sql`` (and the server's
answer to it while ``salon serve`` holds the archive).

Read-only is enforced by three things, each enough for its own class of harm:
- only ``SELECT`` (incl. ``WITH``, ``FROM``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``) and
  ``EXPLAIN`` statements are run (DuckDB's own parser tells them apart);
- they run in a transaction that is always rolled back;
- the archive is opened with DuckDB's ``enable_external_access = false`` (``open_archive(...,
  external_access=False)``), so no statement reads or writes another file or reaches the
  network (``COPY ... TO``, ``EXPORT DATABASE``, ``read_text('/etc/...')``, ``ATTACH``,
  ``INSTALL``). Writing a result to a file is ``salon sql --out FILE``, done by Salon itself.
"""

from __future__ import annotations

from typing import Any

import duckdb

__all__ = ["QueryError", "QueryResult", "read_query"]

_READ_ONLY = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})

QueryResult = tuple[list[str], list[tuple[Any, ...]]]


class QueryError(Exception):
    """The query is not a read-only query, or DuckDB refused it."""


def read_query(con: duckdb.DuckDBPyConnection, query: str) -> QueryResult:
    """Run ``query`` (one or more read-only statements) on ``con`` and return the column names
    and rows of the last one. Nothing it does is kept."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from None
    if not statements:
        raise QueryError("empty query")
    for st in statements:
        if st.type not in _READ_ONLY:
            raise QueryError(
                f"{st.type.name} statements are not run: `salon sql` runs read-only queries "
                "(SELECT, WITH, DESCRIBE, SHOW, EXPLAIN); to write a result to a file use --out FILE"
            )
    con.execute("BEGIN TRANSACTION")
    try:
        cur = con.execute(query)
        if cur.description is None:
            return [], []
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from None
    finally:
        con.execute("ROLLBACK")
