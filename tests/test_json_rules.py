"""One reading of JSON, whatever the container and the path (docs/import.md, "One reading of
JSON"): a key written twice in one object keeps its LAST value, in JSON lines (the X v2 bulk
path and the Python path), one-line and pretty-printed arrays, concatenated documents, a
compressed file and the web ingest alike; and each bad line is its own occurrence, quarantined
once with its line, by both paths, never twice by a re-import."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

from salon.importer import import_paths, ingest_batch, record_from_payload
from salon.sources.files import iter_inputs, read_records
from salon.store.archive import open_archive
from salon.store.writer import Writer
from tests.conftest import twarc

pytestmark = pytest.mark.usefixtures("needs_shared")

ORIGINAL = 2  # flat.jsonl's third line: an original post (no reference), id 1380242596900044806


def _flat() -> list[bytes]:
    return [ln for ln in twarc("flat.jsonl").read_bytes().split(b"\n") if ln.strip()][:8]


def _posts(arc: Path) -> tuple[int, list[tuple[str, str]]]:
    with open_archive(arc, read_only=True) as a:
        n = int(a.scalar("SELECT count(*) FROM posts"))
        rows = a.query(
            "SELECT native_id, text FROM posts WHERE native_id IN ('1380242596900044806', '999000111')"
        )
    return n, sorted(rows)


def _with_duplicates(line: bytes) -> bytes:
    """The line with ``id`` and ``text`` written a second time, last, with other values."""
    assert line.endswith(b"}")
    return line[:-1] + b', "id": "999000111", "text": "the last value #wins"}'


def _pretty_with_duplicates(line: bytes) -> bytes:
    text = json.dumps(json.loads(line), indent=2)
    assert text.endswith("\n}")
    return (text[:-2] + ',\n  "id": "999000111",\n  "text": "the last value #wins"\n}').encode()


def test_a_key_written_twice_keeps_its_last_value_on_every_path(tmp_path: Path) -> None:
    lines = _flat()
    dup = _with_duplicates(lines[ORIGINAL])
    assert orjson.loads(dup)["id"] == "999000111"  # the rule: the last value
    body = [*lines[:ORIGINAL], dup, *lines[ORIGINAL + 1 :]]
    pretty = [json.dumps(json.loads(ln), indent=2).encode() for ln in body]
    pretty[ORIGINAL] = _pretty_with_duplicates(lines[ORIGINAL])
    files = {
        "lines.jsonl": b"\n".join(body) + b"\n",
        "lines.jsonl.gz": gzip.compress(b"\n".join(body) + b"\n"),
        "one_line_array.json": b"[" + b",".join(body) + b"]\n",
        "array_a_line_each.json": b"[\n" + b",\n".join(body) + b"\n]\n",
        "pretty_array.json": b"[\n" + b",\n".join(pretty) + b"\n]\n",
        "pretty_documents.json": b"\n".join(pretty) + b"\n",
    }
    seen: dict[str, tuple[int, list[tuple[str, str]], int]] = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        # JSON lines by the X v2 bulk path and by the Python path; the other containers are
        # read by the Python path only.
        for fast in (True, False) if name == "lines.jsonl" else (True,):
            arc = tmp_path / f"{name}.{fast}.duckdb"
            rep = import_paths([str(tmp_path / name)], arc, fast=fast)
            assert rep.records_bad == 0, rep.problems
            n, rows = _posts(arc)
            seen[f"{name} fast={fast}"] = (n, rows, rep.records_new)
    # The web ingest (and the live collectors) parse each payload with the same parser.
    arc = tmp_path / "web.duckdb"
    with open_archive(arc) as a:
        ingest_batch(Writer(a), [record_from_payload(p, i + 1) for i, p in enumerate(body)], source="web")
    n, rows = _posts(arc)
    seen["web ingest"] = (n, rows, len(body))
    expected = seen["lines.jsonl fast=False"]
    assert expected[1] == [("999000111", "the last value #wins")]
    for where, got in seen.items():
        assert got == expected, where


def _bad_lines_file(path: Path) -> list[int]:
    """Good X v2 lines with the same bad line three times and a ``NaN`` line (DuckDB reads
    it, the one parser does not): the bad lines' numbers."""
    lines = _flat()
    bad = b'{"data": [ this is not json'
    nan = lines[5][:-1] + b', "possibly_sensitive": NaN}'
    body = [*lines[:3], bad, bad, *lines[3:6], bad, nan, *lines[6:]]
    path.write_bytes(b"\n".join(body) + b"\n")
    return [i + 1 for i, ln in enumerate(body) if ln in (bad, nan)]


def test_each_bad_line_is_quarantined_once_with_its_line_by_both_paths(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    bad_lines = _bad_lines_file(src)
    assert bad_lines == [4, 5, 9, 10]
    got = {}
    for fast in (True, False):
        arc = tmp_path / f"{fast}.duckdb"
        rep = import_paths([str(src)], arc, fast=fast)
        with open_archive(arc, read_only=True) as a:
            rows = a.query("SELECT path, line, reason, payload FROM quarantine ORDER BY line")
        assert [r[1] for r in rows] == bad_lines
        assert rep.records_bad == len(bad_lines) and rep.records_duplicate == 0
        got[fast] = (rep.counts(), rows, [str(p) for p in rep.problems])
        # The same file again: every record, good or bad, is already kept.
        again = import_paths([str(src)], arc, fast=fast)
        assert (again.records_new, again.records_bad, again.records_duplicate) == (0, 0, again.records_in)
        with open_archive(arc, read_only=True) as a:
            assert a.query("SELECT path, line, reason, payload FROM quarantine ORDER BY line") == rows
            assert a.query("SELECT records_bad, records_duplicate FROM imports ORDER BY import_id") == [
                (len(bad_lines), 0),
                (0, again.records_in),
            ]
    assert got[True] == got[False]


def test_the_same_bad_bytes_in_another_file_are_another_occurrence(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    bad_lines = _bad_lines_file(a)
    b.write_bytes(a.read_bytes())
    arc = tmp_path / "x.duckdb"
    import_paths([str(a)], arc)
    rep = import_paths([str(b)], arc)
    assert rep.records_bad == len(bad_lines)
    with open_archive(arc, read_only=True) as x:
        assert x.scalar("SELECT count(*) FROM quarantine") == 2 * len(bad_lines)


def _pretty(objs: list[dict[str, object]], bad: int, corrupt: str, layout: str) -> tuple[bytes, int]:
    """Real records pretty-printed as an array (indent 2) or as concatenated documents, the
    ``bad``-th corrupted: a string cut by a raw newline, its closing brace dropped, or garbage
    between two keys. Returns the bytes and the line where the corrupted record starts."""
    texts = [json.dumps(o, indent=2, ensure_ascii=False) for o in objs]
    t = texts[bad]
    if corrupt == "cut string":
        t = t.replace('"text": "', '"text": "abc\n', 1)
    elif corrupt == "dropped brace":
        t = t[: t.rindex("}")]
    else:
        t = t.replace('"lang"', 'GARBAGE "lang"', 1)
    texts[bad] = t
    if layout == "array":
        parts = ["\n".join("  " + x for x in t.split("\n")) for t in texts]
        body = "[\n" + ",\n".join(parts) + "\n]\n"
        start = 2 + sum(p.count("\n") + 1 for p in parts[:bad])
    else:
        body = "\n".join(texts) + "\n"
        start = 1 + sum(t.count("\n") + 1 for t in texts[:bad])
    return body.encode(), start


@pytest.mark.parametrize("layout", ["array", "documents"])
@pytest.mark.parametrize("corrupt", ["cut string", "dropped brace", "garbage"])
def test_a_malformed_record_in_a_pretty_printed_file_is_quarantined_alone(
    tmp_path: Path, layout: str, corrupt: str
) -> None:
    objs = [json.loads(ln) for ln in _flat()]
    data, start = _pretty(objs, 4, corrupt, layout)
    path = tmp_path / "pretty.json"
    path.write_bytes(data)
    (inp,) = list(iter_inputs([str(path)]))
    recs = list(read_records(inp))
    bad = [r for r in recs if r.error]
    assert [r.obj["id"] for r in recs if not r.error] == [o["id"] for i, o in enumerate(objs) if i != 4]
    assert len(bad) == 1 and bad[0].line == start, [(r.line, r.error) for r in bad]
    assert f"lines {start}-" in (bad[0].error or "")
    assert bad[0].payload.lstrip().startswith(b"{") and b'"id"' in bad[0].payload
    assert bad[0].payload.decode().count("\n") < data.decode().count("\n") // 5  # itself, not the rest


def test_a_pretty_printed_array_with_a_bad_element_imports_the_rest(tmp_path: Path) -> None:
    objs = [json.loads(ln) for ln in _flat()]
    data, start = _pretty(objs, 4, "dropped brace", "array")
    (tmp_path / "pretty.json").write_bytes(data)
    arc = tmp_path / "a.duckdb"
    rep = import_paths([str(tmp_path / "pretty.json")], arc)
    assert (rep.records_in, rep.records_new, rep.records_bad) == (len(objs), len(objs) - 1, 1)
    with open_archive(arc, read_only=True) as a:
        assert a.query("SELECT line FROM quarantine") == [(start,)]
        ids = {r[0] for r in a.query("SELECT native_id FROM posts")}
    assert {o["id"] for i, o in enumerate(objs) if i != 4} <= ids


@pytest.mark.parametrize(
    "record",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": "\\ud800"}', b'{"id": 123456789012345678901234567890}'],
)
def test_a_record_reads_the_same_in_json_lines_and_in_an_array(tmp_path: Path, record: bytes) -> None:
    """The one parser decides what a record is (``NaN`` and lone surrogates refused, integers
    past 64 bits read as orjson reads them), whether the record is a line or an element."""
    got = []
    for name, data in {
        "l.jsonl": record + b"\n" + b'{"b": 1}\n',
        "a.json": b"[" + record + b', {"b": 1}]',
        "p.json": b"[\n  " + record + b',\n  {"b": 1}\n]\n',
    }.items():
        (tmp_path / name).write_bytes(data)
        (inp,) = list(iter_inputs([str(tmp_path / name)]))
        recs = list(read_records(inp))
        got.append([(r.obj, r.error is None) for r in recs])
    assert got[0] == got[1] == got[2]


A, B, C = {"a": 1}, {"b": 2}, {"c": 3}


@pytest.mark.parametrize(
    ("data", "bad", "good"),
    [
        (b'[{"a":1},\x00{"b":2},{"c":3}]', [1], [A, B, C]),  # a NUL between elements, one line
        (b'[{"a":1},\xef\xbb\xbf{"b":2},{"c":3}]', [], [A, B, C]),  # a byte order mark there: a blank
        (b'[{"a":"x\x00y"},{"b":2},{"c":3}]', [1], [B, C]),  # a NUL inside a string
        (b'[{"a":1},{"b":2 x},{"c":3}]', [1], [A, C]),  # a malformed element of a one-line page
        (b'[\n{"a":1},\n\x00{"b":2},\n{"c":3}\n]', [3], [A, B, C]),
        (b'[\n{"a":1},\n\xef\xbb\xbf{"b":2},\n{"c":3}\n]', [], [A, B, C]),
        (b'{"a":1}\n\xef\xbb\xbf{"b":2}\n{"c":3}\n', [], [A, B, C]),  # JSON lines joined by cat
        (b'{\n "a":1\n}\n\xef\xbb\xbf{\n "b":2\n}\n{\n "c":3\n}\n', [], [A, B, C]),  # documents, cat
    ],
)
def test_noise_between_values_loses_no_record(
    tmp_path: Path, data: bytes, bad: list[int], good: list[dict[str, int]]
) -> None:
    (tmp_path / "f.json").write_bytes(data)
    (inp,) = list(iter_inputs([str(tmp_path / "f.json")]))
    recs = list(read_records(inp))
    assert [r.line for r in recs if r.error] == bad
    assert [r.obj for r in recs if not r.error] == good


def test_a_gzip_file_is_sniffed_from_a_full_head(tmp_path: Path) -> None:
    """``peek`` on a gzip stream reads once and may give a few KB: a JSON lines file whose
    first line is garbage was sniffed from less than its first good line, taken for binary
    data, and lost whole."""
    lines = [ln for ln in twarc("flat.jsonl").read_bytes().split(b"\n") if len(ln) > 9000][:3]
    (tmp_path / "g.jsonl.gz").write_bytes(
        gzip.compress(b"\x00\x01\xff garbage\n" + b"\n".join(lines) + b"\n")
    )
    (inp,) = list(iter_inputs([str(tmp_path / "g.jsonl.gz")]))
    recs = list(read_records(inp))
    assert [r.line for r in recs if r.error] == [1]
    assert [r.payload for r in recs if not r.error] == lines
