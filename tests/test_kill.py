"""kill -9 in the middle of an import leaves a consistent archive, and running the same command
again completes it to exactly what an uninterrupted import gives."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import twarc

TABLES = ("raw", "posts", "post_hashtags", "post_mentions", "post_urls", "authors", "metrics_snapshots")


def big_file(path: Path, copies: int) -> None:
    """Copies of a real twarc2 file with every id made distinct per copy."""
    src = twarc("flat.jsonl").read_bytes()
    with path.open("wb") as out:
        for k in range(copies):
            out.write(re.sub(rb'"(\d{9,19})"', lambda m, k=k: b'"9%04d' % k + m.group(1) + b'"', src))


def snapshot(archive: Path) -> dict[str, int]:
    con = duckdb.connect(str(archive), read_only=True)
    out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
    orphans = con.execute(
        "SELECT (SELECT count(*) FROM posts WHERE raw_id NOT IN (SELECT raw_id FROM raw))"
        " + (SELECT count(*) FROM post_hashtags WHERE uid NOT IN (SELECT uid FROM posts))"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    assert orphans == 0, "derived rows without their source"
    return out


def salon_import(path: Path, archive: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salon.cli",
            "import",
            str(path),
            "-a",
            str(archive),
            "--batch-size",
            "100",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_mid_import(src: Path, tmp_path: Path, wal_bytes: int) -> tuple[dict[str, int], Path, dict[str, int]]:
    """Import ``src`` once whole (the reference snapshot, and how long it takes), then again
    into a second archive killed -9 once some batches are committed (its write-ahead log past
    ``wal_bytes``), well before the end. Returns the reference, the killed archive and its
    snapshot, which holds some but not all of the records."""
    clean = tmp_path / "clean.duckdb"
    t0 = time.monotonic()
    assert salon_import(src, clean).wait() == 0
    elapsed = time.monotonic() - t0
    reference = snapshot(clean)
    archive = tmp_path / "killed.duckdb"
    proc = salon_import(src, archive)
    wal = Path(f"{archive}.wal")
    deadline = time.monotonic() + elapsed * 3 + 10
    while time.monotonic() < deadline and not (wal.exists() and wal.stat().st_size > wal_bytes):
        time.sleep(0.01)
    assert proc.poll() is None, "import finished before it could be killed: make the input bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = snapshot(archive)
    assert 0 < partial["raw"] < reference["raw"]
    return reference, archive, partial


def test_kill_9_mid_import_then_rerun_completes(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    big_file(src, 30)
    reference, killed, _partial = kill_mid_import(src, tmp_path, wal_bytes=2_000_000)
    assert salon_import(src, killed).wait() == 0
    assert snapshot(killed) == reference
    con = duckdb.connect(str(killed), read_only=True)
    statuses = [r[0] for r in con.execute("SELECT status FROM imports ORDER BY import_id").fetchall()]
    con.close()
    assert statuses == ["interrupted", "done"]


def test_concurrent_runs_stay_running_until_the_archive_is_reopened(tmp_path: Path) -> None:
    """A server runs a replay, collectors and client imports at once through one writer: starting
    one must not mark the others interrupted. Only a reopen (the old process is gone) does."""
    from salon.store.archive import open_archive
    from salon.store.writer import Writer

    path = tmp_path / "a.duckdb"
    with open_archive(path) as arc:
        w = Writer(arc)
        first = w.start_import("replay", "serve --replay demo")
        w.start_import("import", "import x.jsonl")
        assert arc.query("SELECT status FROM imports WHERE import_id = ?", [first]) == [("running",)]
    with open_archive(path) as arc:
        assert {r[0] for r in arc.query("SELECT status FROM imports")} == {"interrupted"}


def test_kill_9_mid_import_of_many_small_files_then_rerun_completes(tmp_path: Path) -> None:
    """The same with a folder of one-record files, whose batches run across files: every kept
    record's file has its row (written in the transaction of its first records), and the rerun
    ends with exactly the archive of an uninterrupted import."""
    src = tmp_path / "big.jsonl"
    big_file(src, 6)
    folder = tmp_path / "many"
    folder.mkdir()
    for i, line in enumerate(src.read_bytes().splitlines()):
        (folder / f"{i:05d}.jsonl").write_bytes(line + b"\n")
    reference, killed, partial = kill_mid_import(folder, tmp_path, wal_bytes=500_000)
    con = duckdb.connect(str(killed))  # read-write, as salon would: no dead-run repair here
    orphans = con.execute(
        "SELECT count(*) FROM raw WHERE file_id NOT IN (SELECT file_id FROM import_files)"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    assert orphans == 0, "kept records whose file has no import_files row"

    assert salon_import(folder, killed).wait() == 0
    assert snapshot(killed) == reference
    con = duckdb.connect(str(killed), read_only=True)
    statuses = [r[0] for r in con.execute("SELECT status FROM imports ORDER BY import_id").fetchall()]
    kept = con.execute(
        "SELECT sum(records_new) FROM import_files WHERE import_id = (SELECT min(import_id) FROM imports)"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    assert statuses == ["interrupted", "done"]
    assert kept == partial["raw"], "the killed import's files say what they kept"
