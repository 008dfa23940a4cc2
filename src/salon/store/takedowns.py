"""Tombstones that come from no raw record: takedown requests and account takedowns or
deletions seen at the source (``salon.campaigns.trust.takedown`` decides; this writes). Like a
deletion event, the tombstone stays and the post leaves every public surface and the tally at
the next refresh (the campaign index follows ``tombstones.recorded_at``)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from salon.store.archive import registered

__all__ = ["tombstone_posts"]


def tombstone_posts(
    con: duckdb.DuckDBPyConnection, uids: list[str], deleted_at: datetime | None = None
) -> int:
    """Tombstone these posts (those not deleted yet); returns how many posts were deleted."""
    if not uids:
        return 0
    now = datetime.now(UTC)
    when = deleted_at or now
    tbl = pa.table({"uid": pa.array(list(dict.fromkeys(uids)), pa.string())})
    with registered(con, _td_uids=tbl):
        con.execute(
            "INSERT INTO tombstones SELECT uid, ?, NULL, ? FROM _td_uids WHERE uid NOT IN (SELECT uid FROM tombstones)",
            [when, now],
        )
        n = con.execute(
            "UPDATE posts SET deleted_at = ? WHERE uid IN (SELECT uid FROM _td_uids) AND deleted_at IS NULL",
            [when],
        ).fetchall()[0][0]
    return int(n)
