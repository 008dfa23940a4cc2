"""Arrow tables visible to SQL for the duration of a block (``registered``): the one way the
store hands Arrow data to DuckDB, shared by the archive, the writer and the raw store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

__all__ = ["registered"]


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: Any) -> Iterator[None]:
    """Arrow tables (or other relations DuckDB can scan) visible to SQL under these names for the
    duration of the block, unregistered even when it fails."""
    for name, tbl in tables.items():
        con.register(name, tbl)
    try:
        yield
    except BaseException:
        # The block's error is what matters: in a transaction it aborted, DuckDB refuses the
        # unregister too ("current transaction is aborted"), which would hide it.
        for name in tables:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
        raise
    for name in tables:
        con.unregister(name)
