"""Which quarantined records the archive already holds: the quarantine's key.

A bad record is one occurrence: its source (a file's path, a URL), its line there and its
bytes. The same bad bytes on two lines (or in two files) are two occurrences, each quarantined
with its own line; the same occurrence met again (the same file imported twice, a collector
fetching the same bad page again) is already kept: counted as a duplicate, not quarantined
twice (docs/import.md, "Bad records")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from salon.store.relations import registered

__all__ = ["known_occurrences"]

# Fields of a quarantine row (``Batch.quarantine``) that make its key.
_PATH, _LINE, _PAYLOAD = 2, 3, 5


def known_occurrences(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[Any, ...]]) -> set[int]:
    """Indexes of the quarantine ``rows`` whose occurrence (path, line, bytes) the archive
    already holds, or an earlier row of ``rows`` holds."""
    if not rows:
        return set()
    known: set[int] = set()
    seen: set[tuple[Any, Any, bytes]] = set()
    for i, r in enumerate(rows):
        key = (r[_PATH], r[_LINE], bytes(r[_PAYLOAD] or b""))
        if key in seen:
            known.add(i)
        seen.add(key)
    probe = pa.table(
        {
            "i": pa.array(range(len(rows)), pa.int64()),
            "path": pa.array([r[_PATH] for r in rows], pa.string()),
            "line": pa.array([r[_LINE] for r in rows], pa.int64()),
            "payload": pa.array([bytes(r[_PAYLOAD] or b"") for r in rows], pa.binary()),
        }
    )
    with registered(con, _probe_quarantine=probe):
        found = con.execute(
            """SELECT DISTINCT p.i FROM _probe_quarantine p JOIN quarantine q
              ON q.path IS NOT DISTINCT FROM p.path AND q.line IS NOT DISTINCT FROM p.line
             WHERE coalesce(q.payload, ''::BLOB) = p.payload"""
        ).fetchall()
    known.update(r[0] for r in found)
    return known
