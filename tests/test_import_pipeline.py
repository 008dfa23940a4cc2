"""The two-stage import (a thread prepares the next batch while the previous one is written)
counts and stores exactly what a one-batch-at-a-time import does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import salon.importer as importer
from salon.importer import import_paths
from salon.store.archive import open_archive
from salon.store.rawstore import iter_payloads
from tests.conftest import TWARC

COUNTED = ("raw", "raw_blocks", "posts", "post_hashtags", "metrics_snapshots", "authors", "author_snapshots")


def _counts(path: Path) -> dict[str, int]:
    with open_archive(path, read_only=True) as arc:
        return {t: arc.scalar(f"SELECT count(*) FROM {t}") for t in COUNTED if t != "raw_blocks"}


def test_duplicates_in_batches_still_being_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line met again one or two batches later, before the earlier batch is committed, is a
    duplicate, not a second raw record."""
    real_write = importer.write_batch

    def slow_write(*args: Any, **kw: Any) -> Any:
        time.sleep(0.05)  # the preparing thread is then always a batch ahead of the writer
        return real_write(*args, **kw)

    monkeypatch.setattr(importer, "write_batch", slow_write)
    lines = [ln for ln in (TWARC / "flat.jsonl").read_bytes().split(b"\n") if ln.strip()][:6]
    src = tmp_path / "repeats.jsonl"
    # Every line twice: right after itself, and again two batches later.
    order = [lines[0], lines[0], lines[1], lines[0], lines[2], lines[1], *lines[3:], lines[5]]
    src.write_bytes(b"\n".join(order) + b"\n")
    rep = import_paths([str(src)], tmp_path / "a.duckdb", batch_size=1)
    assert (rep.records_in, rep.records_new, rep.records_duplicate) == (
        len(order),
        len(lines),
        len(order) - 6,
    )
    with open_archive(tmp_path / "a.duckdb", read_only=True) as arc:
        stored = [p for _rid, p in iter_payloads(arc.con)]
    assert stored == lines  # each once, in the order first seen


def test_same_tables_whatever_the_batch_size(tmp_path: Path) -> None:
    files = [
        str(TWARC / n) for n in ("flat.jsonl", "streaming_output.jsonl", "edited.jsonl", "withheld.jsonl")
    ]
    small = import_paths(files, tmp_path / "small.duckdb", batch_size=3)
    big = import_paths(files, tmp_path / "big.duckdb", batch_size=100_000)
    assert small.counts() == big.counts()
    assert _counts(tmp_path / "small.duckdb") == _counts(tmp_path / "big.duckdb")


def test_a_failure_while_preparing_stops_the_import_and_keeps_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importer.prepare_batch
    calls = {"n": 0}

    def failing(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kw)

    monkeypatch.setattr(importer, "prepare_batch", failing)
    path = tmp_path / "a.duckdb"
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_paths([str(TWARC / "flat.jsonl")], path, batch_size=5)
    with open_archive(path) as arc:
        assert arc.scalar("SELECT count(*) FROM raw") == 10  # the two batches written before it
        assert arc.scalar("SELECT status FROM import_files") == "failed"
    monkeypatch.setattr(importer, "prepare_batch", real)
    rep = import_paths([str(TWARC / "flat.jsonl")], path, batch_size=5)
    assert rep.records_duplicate == 10 and rep.records_new == rep.records_in - 10
