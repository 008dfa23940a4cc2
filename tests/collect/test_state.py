"""Collection bookkeeping (``salon.collect.state``) on a real archive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from salon.collect import state
from salon.store.archive import Archive, open_archive
from salon.store.writer import Writer, finish_import_row

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SOURCE = "bluesky:jetstream"


@pytest.fixture
def arc(tmp_path: Path) -> Iterator[Archive]:
    with open_archive(tmp_path / "a.duckdb") as archive:
        yield archive


def a_gap(arc: Archive, source: str = SOURCE, at: datetime = T0) -> state.Gap:
    """A gap of ``source`` up to a connection opened ``at``: since the campaign start (an hour
    before ``T0``) for its first connection, since the previous connection for the next ones."""
    _cid, gap = state.open_connection(
        arc, None, "live-test", source, "wss://example", at, T0 - timedelta(hours=1)
    )
    assert gap is not None
    return gap


def gap_row(arc: Archive, gap_id: int) -> tuple[str, str | None, str | None, int]:
    row = arc.con.execute(
        "SELECT status, note, backfill_source, records FROM collect_gaps WHERE gap_id = ?", [gap_id]
    ).fetchall()[0]
    return row[0], row[1], row[2], row[3]


def test_a_successful_retry_drops_the_failure_note(arc: Archive) -> None:
    gap = a_gap(arc)
    state.start_backfill(arc, gap.gap_id, "bluesky:search", T0)
    state.finish_backfill(arc, gap.gap_id, "failed", T0, note="HTTP 401 from searchPosts")
    assert gap_row(arc, gap.gap_id)[:2] == ("failed", "HTTP 401 from searchPosts")
    # the next run's retry: started, then finished without a note
    state.start_backfill(arc, gap.gap_id, "bluesky:search", T0 + timedelta(hours=1))
    state.finish_backfill(arc, gap.gap_id, "backfilled", T0 + timedelta(hours=1), records=3, posts_new=2)
    assert gap_row(arc, gap.gap_id) == ("backfilled", None, "bluesky:search", 3)


def test_a_finish_without_a_start_drops_the_failure_note_too(arc: Archive) -> None:
    gap = a_gap(arc)
    state.finish_backfill(arc, gap.gap_id, "failed", T0, note="HTTP 503 after 5 attempts")
    state.finish_backfill(arc, gap.gap_id, "backfilled", T0, backfill_source="x:search")
    assert gap_row(arc, gap.gap_id)[:3] == ("backfilled", None, "x:search")


def test_a_failed_retry_records_its_own_failure(arc: Archive) -> None:
    gap = a_gap(arc)
    state.finish_backfill(arc, gap.gap_id, "failed", T0, note="first failure")
    state.start_backfill(arc, gap.gap_id, "bluesky:search", T0)
    state.finish_backfill(arc, gap.gap_id, "failed", T0, note="second failure")
    assert gap_row(arc, gap.gap_id)[:2] == ("failed", "second failure")


def test_a_replay_note_is_kept_by_a_search_backfill_without_a_note(arc: Archive) -> None:
    gap = a_gap(arc)
    replay = "replayed from cursor 2026-03-01T11:30:00+00:00 (after the gap start)"
    state.finish_backfill(
        arc, gap.gap_id, "partial", T0, note=replay, backfill_source="jetstream cursor replay"
    )
    state.start_backfill(arc, gap.gap_id, "jetstream replay + bluesky:search", T0)
    state.finish_backfill(arc, gap.gap_id, "backfilled", T0, records=1)
    assert gap_row(arc, gap.gap_id) == ("backfilled", replay, "jetstream replay + bluesky:search", 1)


def test_pending_gaps_include_partial_ones(arc: Archive) -> None:
    done, partial, failed = (a_gap(arc, at=T0 + timedelta(hours=h)) for h in range(3))
    other = a_gap(arc, source="x:search")
    state.finish_backfill(arc, done.gap_id, "backfilled", T0, note="replayed from cursor")
    state.finish_backfill(
        arc, partial.gap_id, "partial", T0, note="replayed from cursor (after the gap start)"
    )
    state.finish_backfill(arc, failed.gap_id, "failed", T0, note="HTTP 401")
    pending = state.pending_gaps(arc, "live-test", SOURCE)
    assert sorted(g.gap_id for g in pending) == [partial.gap_id, failed.gap_id]
    assert other.gap_id not in {g.gap_id for g in pending}


def test_a_run_ends_its_imports_row_as_an_import_does(arc: Archive) -> None:
    """``finish_run`` and ``Writer.finish_import`` write the row through ``finish_import_row``."""
    writer = Writer(arc)
    run_id = state.start_run(writer, "collect live-test bluesky")
    import_id = writer.start_import("file", "posts.jsonl")
    counts = {"in": 7, "new": 5, "duplicate": 1, "bad": 1, "posts_new": 4}
    state.finish_run(arc, run_id, "interrupted", T0, counts)
    before = datetime.now(UTC)
    writer.finish_import(import_id, "interrupted", counts)
    cols = "status, records_in, records_new, records_duplicate, records_bad, posts_new"
    row = f"SELECT {cols} FROM imports WHERE import_id = ?"
    assert arc.con.execute(row, [run_id]).fetchall() == [("interrupted", 7, 5, 1, 1, 4)]
    assert arc.con.execute(row, [import_id]).fetchall() == arc.con.execute(row, [run_id]).fetchall()
    when = "SELECT finished_at FROM imports WHERE import_id = ?"
    assert arc.con.execute(when, [run_id]).fetchall() == [(T0,)]
    assert arc.con.execute(when, [import_id]).fetchall()[0][0] >= before  # the current time
    finish_import_row(arc.con, import_id, "failed", {}, T0 + timedelta(hours=1))
    assert arc.con.execute(row, [import_id]).fetchall() == [("failed", 0, 0, 0, 0, 0)]
    assert arc.con.execute(when, [import_id]).fetchall() == [(T0 + timedelta(hours=1),)]
