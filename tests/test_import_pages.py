"""A file holding several top-level JSON values (API pages one per line, an array then object
lines, concatenated pretty-printed arrays) imports every record, not only the first value's:
nothing is dropped silently, a bad page is quarantined with its line and the next pages read.
Built from the real Mastodon statuses of ../shared (the shape ``GET /api/v1/timelines/tag/X``
returns: a JSON array of statuses per page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from salon.importer import import_paths
from salon.sources.files import iter_inputs, read_records
from tests.conftest import corpus_path

PAGE = 20


@pytest.fixture
def statuses() -> list[dict[str, Any]]:
    src = corpus_path("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl")
    return [json.loads(line) for line in src.read_text().splitlines() if line.strip()]


def pages(statuses: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [statuses[i : i + PAGE] for i in range(0, len(statuses), PAGE)]


def counts(archive: Path) -> tuple[int, int, int]:
    con = duckdb.connect(str(archive), read_only=True)
    try:
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]  # type: ignore[index]
        raw = con.execute("SELECT count(*) FROM raw").fetchone()[0]  # type: ignore[index]
        bad = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return posts, raw, bad


def write_pages_per_line(path: Path, statuses: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(p) + "\n" for p in pages(statuses)))


def test_api_pages_one_per_line_import_every_status(
    tmp_path: Path, archive_path: Path, statuses: list[dict[str, Any]]
) -> None:
    f = tmp_path / "tag_timeline.jsonl"
    write_pages_per_line(f, statuses)
    report = import_paths([str(f)], str(archive_path))
    assert report.records_in == len(statuses)
    assert counts(archive_path) == (len(statuses), len(statuses), 0)
    # every status keeps the line of its page
    [inp] = list(iter_inputs([str(f)]))
    lines = [r.line for r in read_records(inp)]
    assert lines == [1 + i // PAGE for i in range(len(statuses))]
    # re-importing changes no count
    again = import_paths([str(f)], str(archive_path))
    assert again.records_new == 0 and again.posts_new == 0
    assert counts(archive_path) == (len(statuses), len(statuses), 0)


@pytest.mark.parametrize(
    "shape", ["array-then-objects", "objects-then-pages", "two-pretty-arrays", "object-then-array"]
)
def test_every_top_level_value_is_read(
    shape: str, tmp_path: Path, archive_path: Path, statuses: list[dict[str, Any]]
) -> None:
    f = tmp_path / f"{shape}.json"
    n = len(statuses)
    if shape == "array-then-objects":
        f.write_text(
            json.dumps(statuses[:PAGE]) + "\n" + "".join(json.dumps(s) + "\n" for s in statuses[PAGE:])
        )
    elif shape == "objects-then-pages":
        head = "".join(json.dumps(s) + "\n" for s in statuses[:12])
        f.write_text(head + "".join(json.dumps(p) + "\n" for p in pages(statuses[12:])))
    elif shape == "two-pretty-arrays":
        f.write_text(json.dumps(statuses[:100], indent=2) + "\n" + json.dumps(statuses[100:], indent=2))
    else:
        f.write_text(json.dumps(statuses[0], indent=2) + "\n" + json.dumps(statuses[1:], indent=2))
    report = import_paths([str(f)], str(archive_path))
    assert report.records_in == n, report.problems
    assert counts(archive_path) == (n, n, 0)


def test_pretty_printed_single_array_still_imports(
    tmp_path: Path, archive_path: Path, statuses: list[dict[str, Any]]
) -> None:
    f = tmp_path / "statuses.json"
    f.write_text(json.dumps(statuses, indent=2))
    import_paths([str(f)], str(archive_path))
    assert counts(archive_path) == (len(statuses), len(statuses), 0)


def test_a_bad_page_is_quarantined_and_the_next_pages_read(
    tmp_path: Path, archive_path: Path, statuses: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(p) for p in pages(statuses)]
    bad = '[{"id": "1", broken'
    lines.insert(3, bad)  # line 4
    lines.insert(6, "not json at all")  # line 7, between pages
    f = tmp_path / "pages.jsonl"
    f.write_text("\n".join(lines) + "\n")
    report = import_paths([str(f)], str(archive_path))
    assert counts(archive_path) == (len(statuses), len(statuses), 2)
    assert sorted(p.line for p in report.problems) == [4, 7]
    con = duckdb.connect(str(archive_path), read_only=True)
    rows = con.execute("SELECT line, payload FROM quarantine ORDER BY line").fetchall()
    con.close()
    assert [(n, bytes(b).strip()) for n, b in rows] == [(4, bad[1:].encode()), (7, b"not json at all")]


def test_trailing_garbage_after_an_array_is_quarantined_not_dropped(
    tmp_path: Path, archive_path: Path, statuses: list[dict[str, Any]]
) -> None:
    f = tmp_path / "statuses.json"
    f.write_text(json.dumps(statuses[:5], indent=2) + "\n}} trailing\n")
    report = import_paths([str(f)], str(archive_path))
    assert counts(archive_path)[:2] == (5, 5)
    assert [p.line for p in report.problems] == [len(json.dumps(statuses[:5], indent=2).splitlines()) + 1]


def test_x_v1_timeline_pages_one_per_line_import_every_status(tmp_path: Path, archive_path: Path) -> None:
    """The same class for X v1.1: the real timeline pages (JSON arrays of statuses) of tweepy's
    recorded responses, one page per line."""
    src = corpus_path("tweepy", "extracted", "cassette_bodies.jsonl")
    bodies = [json.loads(line)["body"] for line in src.read_text().splitlines() if line.strip()]
    timeline = [
        b
        for b in bodies
        if isinstance(b, list) and b and isinstance(b[0], dict) and ("text" in b[0] or "full_text" in b[0])
    ]
    assert len(timeline) >= 5
    f = tmp_path / "x_v1_pages.jsonl"
    f.write_text("".join(json.dumps(p) + "\n" for p in timeline))
    statuses = sum(len(p) for p in timeline)
    report = import_paths([str(f)], str(archive_path))
    assert report.records_in == statuses and report.records_bad == 0
    ids = {s["id_str"] for p in timeline for s in p}
    con = duckdb.connect(str(archive_path), read_only=True)
    stored = {r[0] for r in con.execute("SELECT native_id FROM posts WHERE platform = 'x'").fetchall()}
    con.close()
    assert ids <= stored  # every status of every page, not only the first page's
    before = counts(archive_path)
    import_paths([str(f)], str(archive_path))
    assert counts(archive_path) == before
