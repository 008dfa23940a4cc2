"""Many small files (issue 15): an import's batches run across files, so a folder of one-record
files is written in a few transactions, not one (or three) per file, while every record keeps
its own file and line, every file its own ``import_files`` row and counts, a bad or cut file in
the middle is reported with its name while the others import, and a re-import changes nothing.
Speed is measured by ``bench/small_files_bench.py``, not here."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import zstandard

from salon.demo.generator import generate
from salon.importer import import_paths
from salon.store.archive import Archive, open_archive
from salon.store.writer import Writer
from tests.conftest import twarc

TABLES = ("raw", "posts", "post_hashtags", "post_mentions", "post_urls", "authors", "metrics_snapshots")


def counts(path: Path) -> dict[str, int]:
    with open_archive(path, read_only=True) as arc:
        return {t: int(arc.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with open_archive(path, read_only=True) as arc:
        return arc.query(sql)


def x_lines() -> list[bytes]:
    """The 100 lines of the real twarc2 file ``flat.jsonl`` (one X v2 tweet each)."""
    return [ln for ln in twarc("flat.jsonl").read_bytes().splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def statuses(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Mastodon statuses from the synthetic generator (normalised in Python, not the bulk path)."""
    out = tmp_path_factory.mktemp("demo")
    generate(out, posts=150, platforms=("mastodon",))
    return [
        ln for f in sorted((out / "data" / "mastodon").glob("*.jsonl")) for ln in f.read_bytes().splitlines()
    ]


def one_record_files(folder: Path, lines: list[bytes], newline: bool = True) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, line in enumerate(lines):
        p = folder / f"r{i:04d}.jsonl"
        p.write_bytes(line + (b"\n" if newline else b""))
        # One modification time (the observation time of payloads without one): the archive
        # can then be compared with the same records in one file.
        os.utime(p, (MTIME, MTIME))
        paths.append(p)
    return paths


MTIME = 1_700_000_000


class Counted:
    """Counts the archive's write transactions and the per-file bookkeeping statements that
    commit on their own (``Writer.start_file``/``finish_file``) during an import."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        real_tx = Archive.transaction
        real_start, real_finish = Writer.start_file, Writer.finish_file

        def tx(arc: Archive, *a: Any, **kw: Any) -> Any:
            self.n += 1
            return real_tx(arc, *a, **kw)

        def start(w: Writer, *a: Any, **kw: Any) -> Any:
            self.n += 1
            return real_start(w, *a, **kw)

        def finish(w: Writer, *a: Any, **kw: Any) -> Any:
            self.n += 1
            return real_finish(w, *a, **kw)

        monkeypatch.setattr(Archive, "transaction", tx)
        monkeypatch.setattr(Writer, "start_file", start)
        monkeypatch.setattr(Writer, "finish_file", finish)


def test_many_small_files_are_not_one_transaction_each(
    tmp_path: Path, needs_shared: Path, statuses: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 one-record files (100 X v2 lines for the bulk path, 100 Mastodon statuses for the
    Python normaliser): a handful of commits, and the same archive as the records in one file."""
    folder = tmp_path / "many"
    one_record_files(folder / "x", x_lines())
    # Half of them without a final newline, as files written by a script often are.
    one_record_files(folder / "m", statuses[:50])
    one_record_files(folder / "n", statuses[50:100], newline=False)
    single = tmp_path / "one.jsonl"
    single.write_bytes(b"".join(ln + b"\n" for ln in x_lines() + statuses[:100]))
    os.utime(single, (MTIME, MTIME))

    commits = Counted(monkeypatch)
    rep = import_paths([str(folder)], tmp_path / "many.duckdb")
    assert len(rep.files) == 200 and rep.records_new == 200 and rep.records_bad == 0
    assert commits.n <= 10, f"{commits.n} commits for 200 files"
    import_paths([str(single)], tmp_path / "one.duckdb")
    assert counts(tmp_path / "many.duckdb") == counts(tmp_path / "one.duckdb")
    # The bulk path took the X v2 files (their raw rows carry its format for every line).
    assert rows(tmp_path / "many.duckdb", "SELECT count(*) FROM raw WHERE format = 'x-v2'") == [(100,)]


def test_each_record_keeps_its_file_and_line(
    tmp_path: Path, needs_shared: Path, statuses: list[bytes]
) -> None:
    """Files of three records, all in one batch: each raw row names its own file and line; each
    file has its own import_files row with its hash and counts; observation times (engagement
    snapshots of statuses, which carry none) are each file's modification time."""
    lines = x_lines()[:60]
    folder = tmp_path / "three"
    folder.mkdir()
    files: dict[str, list[bytes]] = {}
    for k in range(20):
        p = folder / f"x{k:02d}.jsonl"
        p.write_bytes(b"\n".join(lines[3 * k : 3 * k + 3]) + b"\n")
        files[str(p)] = lines[3 * k : 3 * k + 3]
    for k in range(10):
        p = folder / f"m{k:02d}.jsonl"
        p.write_bytes(b"\n".join(statuses[3 * k : 3 * k + 3]) + b"\n")
        os.utime(p, (1_600_000_000 + 3600 * k, 1_600_000_000 + 3600 * k))
        files[str(p)] = statuses[3 * k : 3 * k + 3]
    arc = tmp_path / "a.duckdb"
    rep = import_paths([str(folder)], arc)
    assert rep.records_new == 90 and len(rep.files) == 30
    with open_archive(arc, read_only=True) as a:
        from salon.store.rawstore import payload_of

        got = a.query(
            "SELECT r.raw_id, r.line, r.source, f.path FROM raw r JOIN import_files f USING (file_id) ORDER BY 3, 2"
        )
        assert len(got) == 90
        for rid, line, source, path in got:
            assert source == path
            assert payload_of(a.con, rid) == files[path][line - 1]
        table = a.query(
            "SELECT path, sha256, status, records_in, records_new, records_duplicate, records_bad, format"
            " FROM import_files ORDER BY path"
        )
        for path, sha, status, n_in, n_new, n_dup, n_bad, fmt in table:
            assert sha == hashlib.sha256(Path(path).read_bytes()).hexdigest()
            assert (status, n_in, n_new, n_dup, n_bad) == ("done", 3, 3, 0, 0)
            assert fmt == ("x-v2" if Path(path).name.startswith("x") else "mastodon")
        observed = a.query(
            "SELECT DISTINCT f.path, m.observed_at FROM metrics_snapshots m"
            " JOIN raw r ON r.raw_id = m.raw_id JOIN import_files f USING (file_id) WHERE f.path LIKE '%/m%'"
        )
    assert observed and all(
        when == datetime.fromtimestamp(Path(path).stat().st_mtime, UTC) for path, when in observed
    )
    per_file = {f.path: (f.records_in, f.records_new, f.posts_new > 0) for f in rep.files}
    assert set(per_file.values()) == {(3, 3, True)}


def _cut_zstd(data: bytes) -> bytes:
    whole = zstandard.ZstdCompressor().compress(data)
    return whole[: len(whole) * 2 // 3]


def test_a_bad_or_cut_file_among_many_is_reported_and_the_others_import(
    tmp_path: Path, needs_shared: Path, statuses: list[bytes]
) -> None:
    """In the middle of a folder: a file with a malformed line, a cut zstd file and an empty file.
    Their good records and every other file's are kept, the bad line is quarantined with its
    file and line, the cut file is recorded incomplete, the import too (exit code non-zero)."""
    lines = x_lines()
    folder = tmp_path / "f"
    one_record_files(folder / "a", lines[:40])
    bad = folder / "b" / "bad.jsonl"
    bad.parent.mkdir()
    bad.write_bytes(lines[40] + b"\n" + b'{"data": {"id": "1", "text": oops}\n' + lines[41] + b"\n")
    cut = folder / "b" / "cut.jsonl.zst"
    cut.write_bytes(_cut_zstd(b"\n".join(statuses[:100]) + b"\n"))
    (folder / "b" / "empty.jsonl").write_bytes(b"")
    one_record_files(folder / "c", lines[42:80])
    arc = tmp_path / "a.duckdb"
    rep = import_paths([str(folder)], arc)

    assert rep.incomplete and not rep.ok
    by_name = {Path(f.path).name: f for f in rep.files}
    assert (
        by_name["bad.jsonl"].records_in,
        by_name["bad.jsonl"].records_new,
        by_name["bad.jsonl"].records_bad,
    ) == (
        3,
        2,
        1,
    )
    assert by_name["cut.jsonl.zst"].incomplete and 0 < by_name["cut.jsonl.zst"].records_new < 100
    assert rows(arc, "SELECT path, line FROM quarantine") == [(str(bad), 2)]
    assert any(str(p).startswith(f"{bad}:2: ") for p in rep.problems)
    assert any(str(p).startswith(f"{cut}: incomplete: ") for p in rep.problems)
    assert any(str(p).startswith(f"{folder / 'b' / 'empty.jsonl'}: empty file") for p in rep.problems)
    status = dict(rows(arc, "SELECT path, status FROM import_files"))
    assert status.pop(str(cut)) == "incomplete" and set(status.values()) == {"done"}
    assert len(status) == 40 + 2 + 38
    assert rows(arc, "SELECT status FROM imports") == [("incomplete",)]
    # Every good X v2 line is kept: the 80 single files and the two good lines of the bad file.
    assert rows(arc, "SELECT count(*) FROM raw WHERE format = 'x-v2'") == [(80,)]
    kept = rows(arc, f"SELECT count(*) FROM raw WHERE source = '{cut}'")[0][0]
    assert kept == by_name["cut.jsonl.zst"].records_new


def test_reimporting_the_folder_changes_no_count(
    tmp_path: Path, needs_shared: Path, statuses: list[bytes]
) -> None:
    folder = tmp_path / "f"
    one_record_files(folder / "x", x_lines()[:50])
    one_record_files(folder / "m", statuses[:50])
    # A bad line among them: quarantined once, met again as a duplicate of its file.
    (folder / "m" / "r0020.jsonl").write_bytes(statuses[60] + b"\n{broken\n")
    arc = tmp_path / "a.duckdb"
    first = import_paths([str(folder)], arc)
    before = counts(arc)
    again = import_paths([str(folder)], arc)
    assert counts(arc) == before
    assert rows(arc, "SELECT count(*) FROM quarantine") == [(1,)]
    assert (again.records_in, again.records_new, again.records_duplicate, again.posts_new) == (101, 0, 101, 0)
    assert (first.records_new, first.records_bad) == (100, 1) and again.records_bad == 0
    second = rows(
        arc,
        "SELECT count(*), sum(records_in), sum(records_duplicate), sum(records_new), sum(records_bad)"
        " FROM import_files WHERE import_id = (SELECT max(import_id) FROM imports)",
    )
    assert second == [(100, 101, 101, 0, 0)]
    bad_file = rows(
        arc,
        "SELECT records_in, records_duplicate FROM import_files WHERE path LIKE '%r0020.jsonl'"
        " AND path LIKE '%/m/%' ORDER BY file_id",
    )
    assert bad_file == [(2, 0), (2, 2)]


def test_glob_and_many_arguments_share_batches(
    tmp_path: Path, needs_shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``salon import a b c ...`` (what a shell glob gives) batches across its arguments too."""
    from typer.testing import CliRunner

    from salon.cli import app

    paths = one_record_files(tmp_path / "f", x_lines()[:60])
    commits = Counted(monkeypatch)
    res = CliRunner().invoke(app, ["import", *map(str, paths), "-a", str(tmp_path / "a.duckdb"), "-q"])
    assert res.exit_code == 0, res.output
    assert commits.n <= 6, f"{commits.n} commits for 60 files"
    assert rows(tmp_path / "a.duckdb", "SELECT count(*), count(DISTINCT file_id) FROM raw") == [(60, 60)]


def _lines_of(folder: Path) -> Iterator[bytes]:
    for p in sorted(folder.rglob("*.jsonl")):
        yield from p.read_bytes().splitlines()


def test_a_failed_import_records_the_files_it_was_reading(
    tmp_path: Path, needs_shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails to write (disk full): the batches before it are kept with their files'
    rows, the files of the failed batch are recorded failed, the import too."""
    from salon.ingest import batches

    folder = tmp_path / "f"
    one_record_files(folder, x_lines()[:30])
    real = batches.write_batch
    calls = []

    def failing(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise duckdb.IOException("IO Error: No space left on device")
        return real(*a, **kw)

    monkeypatch.setattr(batches, "write_batch", failing)
    arc = tmp_path / "a.duckdb"
    with pytest.raises(duckdb.IOException):
        import_paths([str(folder)], arc, batch_size=10, fast=False)
    assert rows(arc, "SELECT status FROM imports") == [("failed",)]
    got = rows(arc, "SELECT status, count(*), sum(records_new) FROM import_files GROUP BY 1 ORDER BY 1")
    assert got[0] == ("done", 10, 10)
    assert got[1][0] == "failed" and got[1][2] == 0
    assert rows(arc, "SELECT count(*) FROM raw") == [(10,)]
    assert rows(arc, "SELECT count(*) FROM raw WHERE file_id NOT IN (SELECT file_id FROM import_files)") == [
        (0,)
    ]
