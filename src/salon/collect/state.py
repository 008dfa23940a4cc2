"""Collection state in the archive (tables of migration ``0003_collection``): resume cursors,
connections (the time each source was listening) and gaps (the time it was not) with their
backfills. Every function here runs on the writer thread (see ``salon.collect.sink``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from salon.store.archive import Archive
from salon.store.writer import Writer, finish_import_row

__all__ = [
    "Gap",
    "close_connection",
    "close_orphans",
    "finish_backfill",
    "get_cursors",
    "heartbeat",
    "open_connection",
    "pending_gaps",
    "set_cursors",
    "start_backfill",
]

# Every disconnect leaves a gap record, however short (its backfill is recorded with it).
MIN_GAP = timedelta(0)


@dataclass(frozen=True)
class Gap:
    """A time range a source was not connected."""

    gap_id: int
    source: str
    start: datetime
    end: datetime
    reason: str | None = None


def get_cursors(archive: Archive, campaign: str, source: str) -> dict[str, str]:
    rows = archive.con.execute(
        "SELECT name, value FROM collect_cursors WHERE campaign = ? AND source = ?", [campaign, source]
    ).fetchall()
    return {r[0]: r[1] for r in rows if r[1] is not None}


def set_cursors(
    archive: Archive, campaign: str, source: str, values: dict[str, str | None], now: datetime
) -> None:
    """Upsert cursors (a None value deletes the cursor)."""
    con = archive.con
    for name, value in values.items():
        if value is None:
            con.execute(
                "DELETE FROM collect_cursors WHERE campaign = ? AND source = ? AND name = ?",
                [campaign, source, name],
            )
        else:
            con.execute(
                "INSERT INTO collect_cursors VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign, source, name)"
                " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [campaign, source, name, value, now],
            )


def close_orphans(archive: Archive, campaign: str) -> int:
    """Close the connections a killed process left open, at their last heartbeat."""
    con = archive.con
    n = con.execute(
        "SELECT count(*) FROM collect_connections WHERE campaign = ? AND closed_at IS NULL", [campaign]
    ).fetchall()[0]
    con.execute(
        "UPDATE collect_connections SET closed_at = last_seen_at, close_reason = 'process ended without"
        " closing it (killed?)' WHERE campaign = ? AND closed_at IS NULL",
        [campaign],
    )
    return int(n[0]) if n else 0


def open_connection(
    archive: Archive,
    run_id: int | None,
    campaign: str,
    source: str,
    url: str,
    now: datetime,
    first_start: datetime | None = None,
) -> tuple[int, Gap | None]:
    """Record a new connection of ``source``; return its id and the gap since the previous one
    ended (or since ``first_start``, the campaign start, for a source never connected before)."""
    con = archive.con
    row = con.execute(
        "SELECT max(coalesce(closed_at, last_seen_at)) FROM collect_connections WHERE campaign = ? AND source = ?",
        [campaign, source],
    ).fetchall()[0]
    prev_end = row[0]
    cid = int(con.execute("SELECT nextval('collect_connection_seq')").fetchall()[0][0])
    con.execute(
        "INSERT INTO collect_connections (connection_id, run_id, campaign, source, url, opened_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [cid, run_id, campaign, source, url, now, now],
    )
    reason = "disconnected"
    if prev_end is None:
        prev_end, reason = first_start, "collection started after the campaign began"
    if prev_end is None or now - prev_end <= MIN_GAP:
        return cid, None
    gid = int(con.execute("SELECT nextval('collect_gap_seq')").fetchall()[0][0])
    con.execute(
        "INSERT INTO collect_gaps (gap_id, campaign, source, gap_start, gap_end, reason, detected_at, status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'open')",
        [gid, campaign, source, prev_end, now, reason, now],
    )
    return cid, Gap(gid, source, prev_end, now, reason)


def heartbeat(
    archive: Archive, connection_id: int, now: datetime, records: int = 0, posts_new: int = 0
) -> None:
    archive.con.execute(
        "UPDATE collect_connections SET last_seen_at = ?, records = records + ?, posts_new = posts_new + ?"
        " WHERE connection_id = ?",
        [now, records, posts_new, connection_id],
    )


def close_connection(archive: Archive, connection_id: int, now: datetime, reason: str) -> None:
    archive.con.execute(
        "UPDATE collect_connections SET last_seen_at = ?, closed_at = ?, close_reason = ? WHERE connection_id = ?",
        [now, now, reason[:500], connection_id],
    )


def pending_gaps(archive: Archive, campaign: str, source: str) -> list[Gap]:
    """Gaps of ``source`` not fully backfilled yet (open, interrupted, failed, or ``partial``: a
    Jetstream cursor replay that started after the gap start and no search after it), oldest
    first: what ``Ctx.backfill_pending`` backfills again when a stream starts (if the stream has
    a backfiller), and ``Ctx.resumed`` closes when a poller has resumed from its cursor."""
    rows = archive.con.execute(
        "SELECT gap_id, source, gap_start, gap_end, reason FROM collect_gaps WHERE campaign = ? AND source = ?"
        " AND status IN ('open', 'backfilling', 'failed', 'partial') ORDER BY gap_start",
        [campaign, source],
    ).fetchall()
    return [Gap(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def start_backfill(archive: Archive, gap_id: int, backfill_source: str, now: datetime) -> None:
    """Mark ``gap_id`` as being backfilled. A failed gap's note (the failure) is dropped: the new
    attempt supersedes it, and its finish records its own outcome; any other note (a cursor
    replay's) is kept."""
    archive.con.execute(
        "UPDATE collect_gaps SET status = 'backfilling', backfill_source = ?, backfill_started_at = ?,"
        " note = CASE WHEN status = 'failed' THEN NULL ELSE note END WHERE gap_id = ?",
        [backfill_source, now, gap_id],
    )


def finish_backfill(
    archive: Archive,
    gap_id: int,
    status: str,
    now: datetime,
    records: int = 0,
    posts_new: int = 0,
    note: str | None = None,
    backfill_source: str | None = None,
) -> None:
    """Record the end of a backfill of ``gap_id``: its ``status``, what it brought (added to what
    earlier backfills of the gap brought) and, when given, its ``note`` and ``backfill_source``.
    Without a note the earlier one is kept (a cursor replay's note stays when a search backfill
    follows it), except a failure's: a finish that is not a failure drops it (as
    ``start_backfill`` does when a retry starts)."""
    archive.con.execute(
        "UPDATE collect_gaps SET status = ?, backfill_finished_at = ?, records = records + ?,"
        " posts_new = posts_new + ?,"
        " note = CASE WHEN ? IS NOT NULL THEN ? WHEN status = 'failed' AND ? <> 'failed' THEN NULL ELSE note END,"
        " backfill_source = coalesce(?, backfill_source) WHERE gap_id = ?",
        [status, now, records, posts_new, note, note, status, backfill_source, gap_id],
    )


def start_run(writer: Writer, arguments: str) -> int:
    """A row of ``imports`` (kind ``collect``) for this run, made by ``Writer.start_import`` like
    every import's; earlier collect runs of the same arguments still marked running were killed:
    they are marked interrupted."""
    writer.con.execute(
        "UPDATE imports SET status = 'interrupted' WHERE kind = 'collect' AND status = 'running' AND arguments = ?",
        [arguments],
    )
    return writer.start_import("collect", arguments)


def finish_run(archive: Archive, run_id: int, status: str, now: datetime, counts: dict[str, int]) -> None:
    """End the run's ``imports`` row as every import's ends (``salon.store.writer.finish_import_row``).
    A collect run leaves the campaign indexes to the next tally's refresh, as it always has."""
    finish_import_row(archive.con, run_id, status, counts, now)
