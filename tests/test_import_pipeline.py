"""The two-stage import (a thread prepares the next batch while the previous one is written)
counts and stores exactly what a one-batch-at-a-time import does."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

import salon.importer as importer
from salon.importer import import_paths
from salon.ingest import batches, bulk, pipeline
from salon.store import x_v2_sql
from salon.store.archive import open_archive
from salon.store.rawstore import iter_payloads
from tests.conftest import corpus_path, twarc

COUNTED = ("raw", "raw_blocks", "posts", "post_hashtags", "metrics_snapshots", "authors", "author_snapshots")


def _counts(path: Path) -> dict[str, int]:
    with open_archive(path, read_only=True) as arc:
        return {t: arc.scalar(f"SELECT count(*) FROM {t}") for t in COUNTED if t != "raw_blocks"}


# Both ways a batch is made ready: X v2 lines for DuckDB (the bulk path), or parsed and
# normalised in Python; the function that writes each kind of batch.
PATHS = {True: (bulk, "write_lines"), False: (batches, "write_batch")}
PREPARE = {True: (x_v2_sql, "prepare_lines"), False: (batches, "prepare_batch")}


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_duplicates_in_batches_still_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    """A line met again one or two batches later, before the earlier batch is committed, is a
    duplicate, not a second raw record."""
    real_write = getattr(*PATHS[fast])
    writes = []

    def slow_write(*args: Any, **kw: Any) -> Any:
        time.sleep(0.05)  # the preparing thread is then always a batch ahead of the writer
        writes.append(1)
        return real_write(*args, **kw)

    monkeypatch.setattr(*PATHS[fast], slow_write)
    lines = [ln for ln in twarc("flat.jsonl").read_bytes().split(b"\n") if ln.strip()][:6]
    src = tmp_path / "repeats.jsonl"
    # Every line twice: right after itself, and again two batches later.
    order = [lines[0], lines[0], lines[1], lines[0], lines[2], lines[1], *lines[3:], lines[5]]
    src.write_bytes(b"\n".join(order) + b"\n")
    rep = import_paths([str(src)], tmp_path / "a.duckdb", batch_size=1, fast=fast)
    assert writes, "the batches did not take the path under test"
    assert (rep.records_in, rep.records_new, rep.records_duplicate) == (
        len(order),
        len(lines),
        len(order) - 6,
    )
    with open_archive(tmp_path / "a.duckdb", read_only=True) as arc:
        stored = [p for _rid, p in iter_payloads(arc.con)]
    assert stored == lines  # each once, in the order first seen


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_same_tables_whatever_the_batch_size(tmp_path: Path, fast: bool) -> None:
    files = [
        str(twarc(n)) for n in ("flat.jsonl", "streaming_output.jsonl", "edited.jsonl", "withheld.jsonl")
    ]
    small = import_paths(files, tmp_path / "small.duckdb", batch_size=3, fast=fast)
    big = import_paths(files, tmp_path / "big.duckdb", batch_size=100_000, fast=fast)
    assert small.counts() == big.counts()
    assert _counts(tmp_path / "small.duckdb") == _counts(tmp_path / "big.duckdb")


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_a_failure_while_preparing_stops_the_import_and_keeps_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    owner, name = PREPARE[fast]
    real = getattr(owner, name)
    calls = {"n": 0}

    def failing(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kw)

    monkeypatch.setattr(owner, name, failing)
    path = tmp_path / "a.duckdb"
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_paths([str(twarc("flat.jsonl"))], path, batch_size=5, fast=fast)
    with open_archive(path) as arc:
        assert arc.scalar("SELECT count(*) FROM raw") == 10  # the two batches written before it
        assert arc.scalar("SELECT status FROM import_files") == "failed"
    monkeypatch.setattr(owner, name, real)
    rep = import_paths([str(twarc("flat.jsonl"))], path, batch_size=5, fast=fast)
    assert rep.records_duplicate == 10 and rep.records_new == rep.records_in - 10


def test_a_full_memory_budget_makes_the_preparing_thread_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preparing thread's lookup of stored raw ids may find DuckDB's memory limit used up by
    the batch being written: it waits and asks again instead of failing the import."""
    real = importer.Writer.existing_raw_ids
    failures = {"left": 3}

    def sometimes_full(self: Any, ids: list[str], con: Any = None) -> set[str]:
        if con is not None and failures["left"]:
            failures["left"] -= 1
            raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")
        return real(self, ids, con)

    monkeypatch.setattr(importer.Writer, "existing_raw_ids", sometimes_full)
    rep = import_paths([str(twarc("flat.jsonl"))], tmp_path / "a.duckdb", batch_size=10)
    assert failures["left"] == 0
    monkeypatch.setattr(importer.Writer, "existing_raw_ids", real)
    ref = import_paths([str(twarc("flat.jsonl"))], tmp_path / "b.duckdb", batch_size=10)
    assert rep.counts() == ref.counts() and rep.records_new > 0
    assert _counts(tmp_path / "a.duckdb") == _counts(tmp_path / "b.duckdb")


@pytest.mark.parametrize(
    ("parts", "size"),
    [
        (("docnow-twarc-csv", "test-data", "flat.jsonl"), pipeline.BULK_BATCH_BYTES),
        (("bluesky-jetstream",), pipeline.DEFAULT_BATCH_BYTES),
    ],
    ids=["x-v2", "other"],
)
def test_batch_size_follows_the_file_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: tuple[str, ...], size: int
) -> None:
    """X v2 files get the bulk path's bigger batches; other formats, normalised in Python (many
    objects per byte), keep the smaller ones."""
    real = pipeline.max_batch_bytes
    sizes: list[int] = []

    def spying(x_v2: bool, batch_bytes: int | None = None) -> int:
        sizes.append(real(x_v2, batch_bytes))
        return sizes[-1]

    monkeypatch.setattr(pipeline, "max_batch_bytes", spying)
    rep = import_paths([str(corpus_path(*parts))], tmp_path / "a.duckdb")
    assert rep.records_new > 0 and sizes and set(sizes) == {size}


def test_the_import_settings_last_only_as_long_as_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import runs DuckDB on one thread with a small memory budget (``_IMPORT_SETTINGS``),
    gives the threads back for the campaign-index refresh that ends it, and leaves an archive
    it was handed as it found it."""
    keys = list(importer._IMPORT_SETTINGS)
    seen: dict[str, Any] = {}
    real_finish = importer.Writer.finish_import

    def finish(self: Any, *a: Any, **kw: Any) -> Any:
        seen.update({k: self.archive.scalar(f"SELECT current_setting('{k}')") for k in keys})
        return real_finish(self, *a, **kw)

    monkeypatch.setattr(importer.Writer, "finish_import", finish)
    with open_archive(tmp_path / "a.duckdb") as arc:
        arc.con.execute("SET threads = 2")
        before = {k: arc.scalar(f"SELECT current_setting('{k}')") for k in keys}
        during: dict[str, Any] = {}
        real_write = bulk.write_lines

        def spying(writer: Any, *a: Any, **kw: Any) -> Any:
            during.update({k: writer.archive.scalar(f"SELECT current_setting('{k}')") for k in keys})
            return real_write(writer, *a, **kw)

        monkeypatch.setattr(bulk, "write_lines", spying)
        import_paths([str(twarc("flat.jsonl"))], arc)
        after = {k: arc.scalar(f"SELECT current_setting('{k}')") for k in keys}
    assert during["threads"] == 1 and seen["threads"] == before["threads"] == 2
    assert (
        during["memory_limit"] != before["memory_limit"] and after["memory_limit"] != during["memory_limit"]
    )
    # DuckDB shows the limit rounded to 0.1 GiB, so setting it back may move it by that much.
    assert {k: v for k, v in after.items() if k != "memory_limit"} == {
        k: v for k, v in before.items() if k != "memory_limit"
    }


def test_the_import_checkpoints_within_its_memory_budget(tmp_path: Path) -> None:
    """The import ends with a checkpoint made under its own memory budget: left to the close of
    the archive, DuckDB would make it with its default budget (a peak of 625-683 MB instead of
    about 450 on the 900 MB benchmark file)."""
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(twarc("flat.jsonl"))], arc)
        wal = tmp_path / "a.duckdb.wal"
        assert not wal.exists() or wal.stat().st_size == 0, "what the import wrote is still in the WAL"


def test_a_failed_commit_leaves_the_connection_usable(tmp_path: Path) -> None:
    """A COMMIT that fails (DuckDB out of memory while writing the WAL) is rolled back, so the
    next transaction on the connection starts clean."""

    class FailingCommit:
        def __init__(self, con: Any) -> None:
            self._con = con
            self.failed = False

        def execute(self, sql: str, *a: Any) -> Any:
            if sql == "COMMIT" and not self.failed:
                self.failed = True
                raise duckdb.TransactionException("Failed to commit: failed to pin block")
            return self._con.execute(sql, *a)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

    with open_archive(tmp_path / "a.duckdb") as arc:
        arc.con.execute("CREATE TABLE t (x INTEGER)")
        real = arc.con
        arc.con = FailingCommit(real)  # type: ignore[assignment]
        with pytest.raises(duckdb.TransactionException), arc.transaction() as con:
            con.execute("INSERT INTO t VALUES (1)")
        with arc.transaction() as con:
            con.execute("INSERT INTO t VALUES (2)")
        arc.con = real
        assert arc.query("SELECT x FROM t") == [(2,)]


def test_the_parse_beside_the_writer_and_its_commits_are_kept_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preparing thread's parse and the writer's commits take turns (together they overshoot
    DuckDB's memory budget): each parse and each bulk commit holds the same lock."""
    holds: list[tuple[str, str]] = []

    class Recording:
        def __init__(self) -> None:
            self._lock = threading.Lock()

        def __enter__(self) -> None:
            self._lock.acquire()
            holds.append((threading.current_thread().name, "in"))

        def __exit__(self, *exc: object) -> None:
            holds.append((threading.current_thread().name, "out"))
            self._lock.release()

    real_init = bulk.MemoryWatch.__init__

    def init(self: Any) -> None:
        real_init(self)
        self.apart = Recording()

    monkeypatch.setattr(bulk.MemoryWatch, "__init__", init)
    parses: list[str] = []
    real_parse = x_v2_sql.parse

    def parse(con: Any, lines: Any) -> bool:
        parses.append(threading.current_thread().name)
        assert holds and holds[-1] == (threading.current_thread().name, "in"), "parsed without the lock"
        return bool(real_parse(con, lines))

    monkeypatch.setattr(x_v2_sql, "parse", parse)
    rep = import_paths([str(twarc("flat.jsonl"))], tmp_path / "a.duckdb", batch_size=10)
    batches = -(-rep.records_new // 10)
    by_writer = [h for h in holds if h == (threading.current_thread().name, "in")]
    by_preparer = [h for h in holds if h == ("salon-import-prepare", "in")]
    assert len(by_writer) == batches, "a bulk commit was made without the lock"
    assert len(by_preparer) == len(parses) == batches


def test_an_error_in_a_registered_block_is_not_hidden_by_the_aborted_transaction(tmp_path: Path) -> None:
    """In a transaction a failing statement aborted, DuckDB refuses to unregister an Arrow table
    too; the block's own error is what the caller gets (an out-of-memory error there must
    reach the importer, which then writes the batch in halves)."""
    import pyarrow as pa

    from salon.store.archive import registered

    with open_archive(tmp_path / "a.duckdb") as arc:
        arc.con.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        arc.con.execute("INSERT INTO t VALUES (1)")
        with (
            pytest.raises(duckdb.ConstraintException),
            arc.transaction() as con,
            registered(con, _in=pa.table({"x": [1]})),
        ):
            con.execute("INSERT INTO t SELECT x FROM _in")
        assert arc.query("SELECT x FROM t") == [(1,)]
