"""The X v2 bulk path (``salon.store.x_v2_sql``) gives the same archive as the Python normaliser.

Every docnow-twarc-csv corpus file is imported both ways into two archives and every table is
compared row for row (ingest timestamps aside)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from salon import importer
from salon.importer import import_paths
from salon.ingest import batches, bulk, pipeline
from salon.store import x_v2_sql
from salon.store.archive import open_archive
from salon.store.rawstore import iter_payloads
from tests.conftest import twarc

# Every test here reads the twarc test data of ../shared (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("needs_shared")

# Every table an import writes, without the columns holding the time of the import itself.
TABLES = {
    "raw": "raw_id, format, block_offset, block_length, file_id, line, source, retrieved_at, salon_version",
    "posts": "* EXCLUDE (collected_at)",
    "post_hashtags": "* EXCLUDE (collected_at)",
    "post_mentions": "*",
    "post_urls": "*",
    "post_media": "*",
    "authors": "* EXCLUDE (handle_changed_at)",
    "author_snapshots": "*",
    "metrics_snapshots": "*",
    "tombstones": "* EXCLUDE (recorded_at)",
    "quarantine": "* EXCLUDE (recorded_at)",
    "import_files": "*",
    "imports": "* EXCLUDE (started_at, finished_at)",
}

# The corpus files the bulk path takes (tweet pages and flat tweets). The others (counts, users,
# lists, compliance jobs, an empty file, stream captures whose lines vary in shape) go to Python.
BULK = {
    "2sets.jsonl",
    "brexit.jsonl",
    "cashtags.jsonl",
    "cotweet.jsonl",
    "edited.jsonl",
    "edited_after.jsonl",
    "edited_before.jsonl",
    "entities_test.jsonl",
    "flat.jsonl",
    "geo_tweets.jsonl",
    "kpop.jsonl",
    "many_urls.jsonl",
    "media_policy_violation_off.jsonl",
    "media_policy_violation_on.jsonl",
    "media_tweet.jsonl",
    "mentions_tweet.jsonl",
    "noflat.jsonl",
    "quoted_edit.jsonl",
    "small_sample.json",
    "two_tweets.jsonl",
    "verified_type.jsonl",
    "withheld.jsonl",
}
# The other files of the corpus (counts, users, lists, compliance jobs, an empty file, captures).
OTHERS = {
    "counts.jsonl",
    "empty.json",
    "lists.jsonl",
    "streaming_output.jsonl",
    "streaming_output_with_error.jsonl",
    "tweets_compliance.jsonl",
    "users.jsonl",
    "users_compliance.jsonl",
}
FILES = sorted(BULK | OTHERS)


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with open_archive(path, read_only=True) as arc:
        tables = {t: sorted(arc.query(f"SELECT {cols} FROM {t}"), key=repr) for t, cols in TABLES.items()}
        tables["payloads"] = sorted(iter_payloads(arc.con))
        return tables


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = x_v2_sql.write_staged

    def counting(*args: Any, **kw: Any) -> Any:
        calls.append(len(kw["lines"]))
        return real(*args, **kw)

    monkeypatch.setattr(x_v2_sql, "write_staged", counting)
    return calls


@pytest.mark.parametrize("name", FILES)
def test_fast_path_gives_identical_tables(name: str, tmp_path: Path, fast_calls: list[int]) -> None:
    path = twarc(name)
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    rf = import_paths([str(path)], fast, fast=True)
    rs = import_paths([str(path)], slow, fast=False)
    assert (rf.records_in, rf.records_new, rf.records_duplicate, rf.records_bad, rf.posts_new) == (
        rs.records_in,
        rs.records_new,
        rs.records_duplicate,
        rs.records_bad,
        rs.posts_new,
    )
    assert [str(p) for p in rf.problems] == [str(p) for p in rs.problems]
    if path.name in BULK:
        assert fast_calls, f"{path.name} did not take the bulk path (parity checked nothing)"
    a, b = _dump(fast), _dump(slow)
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


def test_every_corpus_file_is_compared() -> None:
    """FILES is the corpus folder's listing (written out so that collection reads nothing of
    ../shared): a file added to or gone from the corpus shows here."""
    assert {p.name for p in twarc().glob("*.json*")} == set(FILES)


def test_stream_lines_through_the_bulk_path(tmp_path: Path, fast_calls: list[int]) -> None:
    """Filtered-stream lines (one tweet, ``includes`` and ``matching_rules`` each) are not a
    corpus file of their own the bulk path takes: the tweet lines of the capture alone are."""
    keep = [
        ln
        for ln in twarc("streaming_output.jsonl").read_bytes().splitlines(keepends=True)
        if ln.strip() and "data" in (obj := json.loads(ln)) and "errors" not in obj
    ]
    assert len(keep) == 8
    src = tmp_path / "stream_tweets.jsonl"
    src.write_bytes(b"".join(keep))
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    rf = import_paths([str(src)], fast, fast=True)
    rs = import_paths([str(src)], slow, fast=False)
    assert fast_calls, "stream tweet lines did not take the bulk path"
    assert rf.counts() == rs.counts()
    assert rf.posts_new > 0
    a, b = _dump(fast), _dump(slow)
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


def test_whole_corpus_in_one_archive(tmp_path: Path, fast_calls: list[int]) -> None:
    """All files into one archive (posts met again across files: context promotion, edits).
    One import per file: an import's batches run across files, and where a post met again is
    taken from (its ``raw_id``) follows the batch boundaries, which the bulk path moves when it
    turns a file down (``bulk.write_bulk``); per file, both paths cut the same batches."""
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    with open_archive(fast) as arc_fast, open_archive(slow) as arc_slow:
        for n in FILES:
            import_paths([str(twarc(n))], arc_fast, fast=True)
            import_paths([str(twarc(n))], arc_slow, fast=False)
    assert fast_calls, "the bulk path was never taken"
    a, b = _dump(fast), _dump(slow)
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


@pytest.mark.parametrize("name", ["2sets.jsonl", "flat.jsonl", "noflat.jsonl", "withheld.jsonl"])
def test_fast_path_is_taken(name: str, tmp_path: Path, fast_calls: list[int]) -> None:
    import_paths([str(twarc(name))], tmp_path / "a.duckdb", fast=True)
    assert fast_calls, f"{name} did not take the bulk path"


def test_reimport_via_fast_path_changes_nothing(tmp_path: Path, fast_calls: list[int]) -> None:
    arc_path = tmp_path / "a.duckdb"
    path = str(twarc("2sets.jsonl"))
    first = import_paths([path], arc_path, fast=True)
    assert fast_calls and first.posts_new > 0
    before = _dump(arc_path)
    again = import_paths([path], arc_path, fast=True)
    assert again.records_new == 0 and again.posts_new == 0
    assert again.records_duplicate == again.records_in == first.records_in
    after = _dump(arc_path)
    for table in [*TABLES, "payloads"]:
        if table not in ("imports", "import_files"):
            assert after[table] == before[table], f"{table} changed"


def test_a_duplicate_key_in_a_page_is_read_alike_by_both_paths(tmp_path: Path, fast_calls: list[int]) -> None:
    """Inside a page's data tweet (the bulk path's page structure) the last value wins too,
    and the batch holding that line is read by the Python path, the others by the bulk path
    (docs/import.md, "One reading of JSON")."""
    lines = [ln for ln in twarc("2sets.jsonl").read_bytes().split(b"\n") if ln.strip()]
    # An original post of the first page, whose ``text`` comes before its ``id``: a second
    # ``text`` written before ``id`` is the last one.
    at = lines[0].index(b'"id": "1440717124545114123"')
    lines[0] = lines[0][:at] + b'"text": "the last value #wins", ' + lines[0][at:]
    last = orjson.loads(lines[0])["data"][4]
    assert last["id"] == "1440717124545114123" and last["text"] == "the last value #wins"
    src = tmp_path / "pages.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    rf = import_paths([str(src)], tmp_path / "fast.duckdb", fast=True, batch_size=1)
    rs = import_paths([str(src)], tmp_path / "slow.duckdb", fast=False, batch_size=1)
    assert fast_calls == [1], "the other page did not take the bulk path"
    assert rf.counts() == rs.counts()
    a, b = _dump(tmp_path / "fast.duckdb"), _dump(tmp_path / "slow.duckdb")
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"
    for arc in ("fast", "slow"):
        with open_archive(tmp_path / f"{arc}.duckdb", read_only=True) as a:
            assert a.scalar("SELECT text FROM posts WHERE native_id = ?", [last["id"]]) == last["text"], arc


def test_small_batches_match(tmp_path: Path, fast_calls: list[int]) -> None:
    """Batch boundaries inside a file (posts, authors and snapshots merged across batches)."""
    fast, slow = tmp_path / "fast.duckdb", tmp_path / "slow.duckdb"
    paths = [
        str(twarc(n)) for n in ("flat.jsonl", "noflat.jsonl", "edited_before.jsonl", "edited_after.jsonl")
    ]
    import_paths(paths, fast, batch_size=7, fast=True)
    import_paths(paths, slow, batch_size=7, fast=False)
    assert fast_calls
    a, b = _dump(fast), _dump(slow)
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


def test_bulk_path_is_the_default(tmp_path: Path, fast_calls: list[int]) -> None:
    import_paths([str(twarc("2sets.jsonl"))], tmp_path / "a.duckdb")
    assert fast_calls, "an X v2 file did not take the bulk path by default"


def test_a_file_the_bulk_path_turns_down_goes_to_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A users page looks like X v2 but has no tweets: the bulk path turns the batch down, and
    the rest of the file is not tried again (it would likely be parsed twice for nothing)."""
    tried: list[int] = []
    real = x_v2_sql.prepare_lines

    def counting(*args: Any, **kw: Any) -> Any:
        tried.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(x_v2_sql, "prepare_lines", counting)
    path = tmp_path / "users_then_tweets.jsonl"
    path.write_bytes(twarc("users.jsonl").read_bytes() + Path(_flat(tmp_path, 12)).read_bytes())
    rep = import_paths([str(path)], tmp_path / "a.duckdb", batch_size=1)
    ref = import_paths([str(path)], tmp_path / "b.duckdb", batch_size=1, fast=False)
    # Batches already made ready when the first was turned down were tried too (pipeline depth).
    assert 1 <= len(tried) <= pipeline.AHEAD + 2 < rep.records_in
    assert rep.counts() == ref.counts()
    a, b = _dump(tmp_path / "a.duckdb"), _dump(tmp_path / "b.duckdb")
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


def _flat(tmp_path: Path, lines: int) -> str:
    """The first ``lines`` tweets of the corpus's flat.jsonl (100 lines): these tests cut batches
    of one to ten lines, and each batch is a transaction of its own; a few batches more than the
    behaviour needs show it as well as a hundred."""
    dest = tmp_path / f"flat-{lines}.jsonl"
    dest.write_bytes(b"".join(twarc("flat.jsonl").read_bytes().splitlines(keepends=True)[:lines]))
    return str(dest)


def _short_of_memory(monkeypatch: pytest.MonkeyPatch, max_lines: int) -> list[int]:
    """Make the bulk parse fail for memory on batches of more than ``max_lines`` lines (as
    DuckDB's limit would on too large a batch); returns the sizes of the batches parsed."""
    real = x_v2_sql._parse
    parsed: list[int] = []

    def parse(con: Any) -> int:
        n = int(con.execute("SELECT count(*) FROM _fx_in").fetchall()[0][0])
        if n > max_lines:
            raise duckdb.OutOfMemoryException("Out of Memory Error: test")
        parsed.append(n)
        return real(con)

    monkeypatch.setattr(x_v2_sql, "_parse", parse)
    return parsed


def _python_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches the import normalises in Python."""
    real = batches.prepare_batch
    sizes: list[int] = []

    def prepare(records: Any, *a: Any, **kw: Any) -> Any:
        sizes.append(len(records))
        return real(records, *a, **kw)

    monkeypatch.setattr(batches, "prepare_batch", prepare)
    return sizes


def _same_archives(a_path: Path, b_path: Path) -> None:
    """Every table the same, but where a payload sits in its compressed block: a batch written
    in parts packs each part's payloads into blocks of its own (the payloads, decompressed, are
    compared)."""
    a, b = _dump(a_path), _dump(b_path)
    raw_cols = TABLES["raw"].replace("block_offset, ", "")
    for arc, path in ((a, a_path), (b, b_path)):
        with open_archive(path, read_only=True) as db:
            arc["raw"] = sorted(db.query(f"SELECT {raw_cols} FROM raw"), key=repr)
    for table in [*TABLES, "payloads"]:
        assert a[table] == b[table], f"{table} differs"


def test_a_batch_short_of_memory_is_written_in_halves_by_the_bulk_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's memory limit stopping a batch's parse is not the lines' fault: the batch is
    written in halves (and halves of halves) by the bulk path, never by the Python path, and
    the archive is the same as the Python path's with batches of those halves (which raw record
    a post points to depends on which lines share a batch)."""
    path = _flat(tmp_path, 24)
    ref = import_paths([path], tmp_path / "b.duckdb", batch_size=2, fast=False)
    parsed = _short_of_memory(monkeypatch, max_lines=2)
    in_python = _python_batches(monkeypatch)
    rep = import_paths([path], tmp_path / "a.duckdb", batch_size=4)
    assert rep.records_in % 4 in (0, 1, 2), "the last batch would not split as the reference's"
    assert in_python == [], "lines went to the Python path"
    assert parsed and max(parsed) == 2 and sum(parsed) == rep.records_new == ref.records_new
    assert rep.counts() == ref.counts()
    _same_archives(tmp_path / "a.duckdb", tmp_path / "b.duckdb")


def test_a_line_short_of_memory_alone_goes_to_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When even one line does not fit, that line alone is normalised in Python."""
    path = _flat(tmp_path, 12)
    ref = import_paths([path], tmp_path / "b.duckdb", batch_size=1, fast=False)
    parsed = _short_of_memory(monkeypatch, max_lines=0)
    in_python = _python_batches(monkeypatch)
    rep = import_paths([path], tmp_path / "a.duckdb", batch_size=5)
    assert parsed == []
    assert in_python and set(in_python) == {1} and len(in_python) == rep.records_new
    assert rep.counts() == ref.counts()
    _same_archives(tmp_path / "a.duckdb", tmp_path / "b.duckdb")


def test_batches_are_parsed_by_the_preparing_thread_and_written_by_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk path's work is shared by both threads: the preparing thread parses a batch on a
    connection of its own while the writer derives and writes the previous one."""
    threads: dict[str, set[str]] = {"parse": set(), "derive": set(), "stage": set()}
    for name in threads:
        real = getattr(x_v2_sql, name)

        def spy(*a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            threads[_name].add(threading.current_thread().name)
            return _real(*a, **kw)

        monkeypatch.setattr(x_v2_sql, name, spy)
    path = _flat(tmp_path, 40)
    ref = import_paths([path], tmp_path / "b.duckdb", batch_size=10, fast=False)
    rep = import_paths([path], tmp_path / "a.duckdb", batch_size=10)
    assert threads["parse"] == {"salon-import-prepare"}
    assert threads["derive"] == {threading.current_thread().name}
    assert threads["stage"] == set(), "the writer parsed a batch itself"
    assert rep.counts() == ref.counts()
    _same_archives(tmp_path / "a.duckdb", tmp_path / "b.duckdb")


def test_a_write_short_of_memory_is_retried_in_halves_and_the_writer_parses_alone_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's memory limit may stop the writer's merge while the next batch is parsed beside
    it: the transaction is rolled back, the batch is written in halves, and the next batches
    are parsed by the writer itself (one statement at a time in the memory budget) until a few
    were written without running short."""
    path = _flat(tmp_path, 48)
    ref = import_paths([path], tmp_path / "b.duckdb", batch_size=4, fast=False)
    real_merge = importer.Writer.merge_posts
    failed: list[int] = []

    def merge(self: Any, *a: Any, **kw: Any) -> Any:
        n = int(self.con.execute("SELECT count(*) FROM _s_posts").fetchall()[0][0])
        if not failed and n > 4:
            failed.append(n)
            raise duckdb.OutOfMemoryException("Out of Memory Error: test")
        return real_merge(self, *a, **kw)

    monkeypatch.setattr(importer.Writer, "merge_posts", merge)
    staged_by_writer: list[int] = []
    real_stage = x_v2_sql.stage

    def stage(con: Any, lines: Any, observed: Any) -> bool:
        staged_by_writer.append(len(lines))
        return bool(real_stage(con, lines, observed))

    monkeypatch.setattr(x_v2_sql, "stage", stage)
    in_python = _python_batches(monkeypatch)
    rep = import_paths([path], tmp_path / "a.duckdb", batch_size=4)
    assert failed, "no merge failed"
    assert in_python == [], "lines went to the Python path"
    # The failed batch's two halves, then the next few batches, parsed by the writer; after
    # _CLEAN_BATCHES batches written without running short, the preparing thread parses again.
    later = len(staged_by_writer) - 2
    assert staged_by_writer[:2] == [2, 2] and 2 <= later <= bulk.CLEAN_BATCHES + 1
    assert rep.records_in > 4 * (later + 6), "too few batches left to see the parse resume"
    assert rep.counts() == ref.counts()
    with (
        open_archive(tmp_path / "a.duckdb", read_only=True) as a,
        open_archive(tmp_path / "b.duckdb", read_only=True) as b,
    ):
        for table in ("posts", "post_hashtags", "metrics_snapshots", "authors"):
            assert a.scalar(f"SELECT count(*) FROM {table}") == b.scalar(f"SELECT count(*) FROM {table}"), (
                table
            )


def test_a_commit_short_of_memory_is_retried_in_halves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reports a commit that cannot pin a block within its memory limit as a failed
    commit (``TransactionException``), not as out of memory: the batch is written in halves all
    the same, and the archive is the same as the Python path's."""
    path = _flat(tmp_path, 24)
    ref = import_paths([path], tmp_path / "b.duckdb", batch_size=4, fast=False)
    real = importer.Writer.upsert_authors
    failed: list[int] = []

    def upsert(self: Any, rel: str) -> Any:
        if not failed:
            failed.append(1)
            raise duckdb.TransactionException(
                "TransactionContext Error: Failed to commit: failed to pin block of size 256.0 KiB"
            )
        return real(self, rel)

    monkeypatch.setattr(importer.Writer, "upsert_authors", upsert)
    rep = import_paths([path], tmp_path / "a.duckdb", batch_size=4)
    assert failed
    assert rep.counts() == ref.counts()
    with (
        open_archive(tmp_path / "a.duckdb", read_only=True) as a,
        open_archive(tmp_path / "b.duckdb", read_only=True) as b,
    ):
        for table in ("raw", "posts", "post_hashtags", "metrics_snapshots", "authors", "author_snapshots"):
            assert a.scalar(f"SELECT count(*) FROM {table}") == b.scalar(f"SELECT count(*) FROM {table}"), (
                table
            )


def test_another_failed_commit_is_not_taken_for_want_of_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upsert(self: Any, rel: str) -> Any:
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update")

    monkeypatch.setattr(importer.Writer, "upsert_authors", upsert)
    with pytest.raises(duckdb.TransactionException, match="Conflict"):
        import_paths([str(twarc("flat.jsonl"))], tmp_path / "a.duckdb", batch_size=4)
