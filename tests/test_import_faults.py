"""Import under bad input: cut or corrupt containers, records over the size limit, deep nesting,
bytes that are not UTF-8, UTF-16, and failures of the archive itself. Each good record is
imported, each bad one quarantined with file and line, an incomplete file is said to be, and
the imports table says what happened."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import duckdb
import pytest
import zstandard
from typer.testing import CliRunner

from salon.cli import app
from salon.importer import import_paths
from salon.sources.streams import KEEP
from salon.store.archive import open_archive
from tests.conftest import twarc

runner = CliRunner()


def good_lines() -> list[bytes]:
    return [ln for ln in twarc("flat.jsonl").read_bytes().split(b"\n") if ln.strip()]


def counts(arc: Path) -> tuple[int, int]:
    con = duckdb.connect(str(arc), read_only=True)
    try:
        raw = con.execute("SELECT count(*) FROM raw").fetchone()[0]  # type: ignore[index]
        bad = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return int(raw), int(bad)


def rows(arc: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(arc), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("tweets.jsonl", data)
    return buf.getvalue()


def _corrupt_zip(data: bytes) -> bytes:
    z = bytearray(_zip(data))
    z[len(z) // 2] ^= 0xFF  # inside the member's deflate data: a CRC or inflate error
    return bytes(z)


CUTS = {
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d)[
        : len(zstandard.ZstdCompressor().compress(d)) // 2
    ],
    "zstd-frames": lambda d: (
        zstandard.ZstdCompressor().compress(d[: len(d) // 2])
        + zstandard.ZstdCompressor().compress(d[len(d) // 2 :])
    )[:-20],
    "gzip": lambda d: gzip.compress(d)[: len(gzip.compress(d)) // 2],
    "gzip-corrupt": lambda d: gzip.compress(d)[:-8] + b"\x00" * 8,
    "zip-corrupt": _corrupt_zip,
    "zip-cut": lambda d: _zip(d)[: len(_zip(d)) // 2],
}


@pytest.mark.parametrize("kind", list(CUTS))
def test_a_cut_or_corrupt_container_is_reported_incomplete(
    tmp_path: Path, needs_shared: Path, kind: str
) -> None:
    data = b"\n".join(good_lines()) + b"\n"
    f = tmp_path / f"cut-{kind}.bin"
    f.write_bytes(CUTS[kind](data))
    nxt = tmp_path / "next.jsonl"
    nxt.write_bytes(good_lines()[0] + b"\n")
    arc = tmp_path / "a.duckdb"
    res = runner.invoke(app, ["import", str(f), str(nxt), "-a", str(arc), "--json"])
    assert res.exit_code == 1, res.output
    warning = next(ln for ln in res.stderr.splitlines() if ln.startswith(f"warning: {f}"))
    assert ": incomplete: " in warning and "truncated or corrupt" in warning, res.stderr
    assert "bytes" in res.stderr  # where it broke
    assert rows(arc, "SELECT status FROM imports") == [("incomplete",)]
    files = dict(rows(arc, "SELECT path, status FROM import_files"))  # type: ignore[arg-type]
    assert files[str(nxt)] == "done"
    assert files.get(str(f), files.get(f"{f}!tweets.jsonl")) == "incomplete"
    assert counts(arc)[0] >= 1  # the next file and what came before the break are kept


def test_a_record_over_the_limit_is_streamed_past_and_the_next_files_import(
    tmp_path: Path, needs_shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALON_MAX_RECORD_MB", "1")
    lines = good_lines()
    huge = b'{"data": "' + b"x" * (3 << 20) + b'"}'  # 3 MB, no newline in it
    f = tmp_path / "big.jsonl"
    f.write_bytes(lines[0] + b"\n" + huge + b"\n" + b"\n".join(lines[1:10]) + b"\n")
    nolf = tmp_path / "nolf.jsonl"
    nolf.write_bytes(lines[10] + b"\n" + huge)  # the huge line is the last, without a newline
    arr = tmp_path / "array.json"
    arr.write_bytes(b"[" + lines[11] + b"," + huge + b"," + lines[12] + b"]")
    z = tmp_path / "bomb.zip"
    z.write_bytes(_zip(b"{" + b" " * (5 << 20) + b"}\n" + lines[13] + b"\n"))
    nxt = tmp_path / "next.jsonl"
    nxt.write_bytes(b"\n".join(lines[14:20]) + b"\n")
    arc = tmp_path / "a.duckdb"
    report = import_paths([str(f), str(nolf), str(arr), str(z), str(nxt)], arc)
    assert counts(arc) == (20, 4)
    big = rows(arc, "SELECT path, line, reason, octet_length(payload) FROM quarantine ORDER BY path")
    assert {(p, ln) for p, ln, _r, _n in big} == {
        (str(f), 2),
        (str(nolf), 2),
        (str(arr), 1),
        (f"{z}!tweets.jsonl", 1),
    }
    assert all("over the 1,048,576-byte limit" in str(r) and n == KEEP for _p, _l, r, n in big)
    assert report.records_bad == 4 and not report.incomplete


def test_deep_nesting_is_quarantined_in_arrays_and_documents(tmp_path: Path, needs_shared: Path) -> None:
    lines = good_lines()
    deep = b"[" * 100_000 + b"]" * 100_000
    arr = tmp_path / "array.json"
    arr.write_bytes(b"[" + lines[0] + b",\n" + deep + b",\n" + lines[1] + b"]")
    doc = tmp_path / "doc.json"
    doc.write_bytes(b'{\n  "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"\n}\n")
    jl = tmp_path / "lines.jsonl"
    jl.write_bytes(lines[2] + b"\n" + b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}\n" + lines[3] + b"\n")
    arc = tmp_path / "a.duckdb"
    res = runner.invoke(app, ["import", str(arr), str(doc), str(jl), "-a", str(arc)])
    assert ("Traceback" not in res.output and res.exception is None) or isinstance(res.exception, SystemExit)
    assert counts(arc) == (4, 3)
    reasons = rows(arc, "SELECT path, line, reason FROM quarantine ORDER BY path")
    assert [(p, ln) for p, ln, _ in reasons] == [(str(arr), 2), (str(doc), 1), (str(jl), 2)]


def test_bad_bytes_are_quarantined_line_by_line(tmp_path: Path, needs_shared: Path) -> None:
    lines = good_lines()
    bad = [b'{"text": "caf\xe9 latin-1"}', b"\xff\xfe\x00garbage\x80", b'{"id": "\xc3\x28"}']
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(b"\n".join(bad + lines[:50]) + b"\n")
    arr = tmp_path / "mixed.json"
    arr.write_bytes(b"[" + lines[50] + b"," + bad[0] + b"," + lines[51] + b"]")
    arc = tmp_path / "a.duckdb"
    import_paths([str(f), str(arr)], arc)
    assert counts(arc) == (52, 4)
    q = rows(arc, "SELECT path, line, payload FROM quarantine ORDER BY path, line")
    assert [(p, ln) for p, ln, _ in q] == [(str(arr), 1), (str(f), 1), (str(f), 2), (str(f), 3)]
    assert bytes(q[0][2]) == bad[0] and bytes(q[1][2]) == bad[0]  # exact bytes kept


def test_utf16_with_bom_is_decoded(tmp_path: Path, needs_shared: Path) -> None:
    lines = good_lines()[:30]
    text = b"\n".join(lines).decode("utf-8") + "\n"
    for enc in ("utf-16-le", "utf-16-be"):
        f = tmp_path / f"{enc}.jsonl"
        f.write_bytes(("\ufeff" + text).encode(enc))
    arc = tmp_path / "a.duckdb"
    report = import_paths([str(tmp_path / "utf-16-le.jsonl"), str(tmp_path / "utf-16-be.jsonl")], arc)
    assert counts(arc) == (30, 0)  # the same records twice: stored once
    assert report.records_duplicate == 30
    assert any("UTF-16" in n for n in report.files[0].notes)


def test_a_failed_import_is_recorded_failed_with_a_clear_message(
    tmp_path: Path, needs_shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salon.ingest import pipeline

    def full(*a: object, **k: object) -> object:
        raise duckdb.IOException('IO Error: Could not write file "a.duckdb.wal": No space left on device')

    f = tmp_path / "a.jsonl"
    f.write_bytes(b"\n".join(good_lines()[:5]) + b"\n")
    arc = tmp_path / "a.duckdb"
    monkeypatch.setattr(pipeline, "pipelined", full)
    res = runner.invoke(app, ["import", str(f), "-a", str(arc)])
    assert res.exit_code == 1
    assert res.stderr.startswith("error: import stopped: the disk is full"), res.stderr
    assert "Traceback" not in res.output
    assert rows(arc, "SELECT status FROM imports") == [("failed",)]
    assert rows(arc, "SELECT status FROM import_files") == [("failed",)]


def test_a_killed_import_is_recorded_with_what_it_kept(tmp_path: Path, needs_shared: Path) -> None:
    from salon.importer import ingest_batch
    from salon.sources.files import RawRecord
    from salon.store.writer import Writer

    arc_path = tmp_path / "a.duckdb"
    lines = good_lines()[:7]
    arc = open_archive(arc_path)
    w = Writer(arc)
    iid = w.start_import("import", "import a.jsonl")
    fid = w.start_file(iid, "a.jsonl", None)
    recs = [RawRecord(ln, i + 1, json.loads(ln)) for i, ln in enumerate(lines)]
    out = ingest_batch(w, recs, source="a.jsonl", file_id=fid, import_id=iid)
    arc.close()  # as if killed: never finished
    with open_archive(arc_path) as arc:  # the next read-write open closes it
        row = arc.query("SELECT status, records_new, posts_new, records_in FROM imports")[0]
        frow = arc.query("SELECT status, records_new FROM import_files")[0]
    assert row == ("interrupted", 7, out.posts_new, 7)
    assert out.posts_new > 0
    assert frow == ("interrupted", 7)


def test_a_fifo_is_read_once_as_a_stream(tmp_path: Path, needs_shared: Path) -> None:
    import os
    import threading

    lines = good_lines()[:12]
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(b"\n".join(lines) + b"\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    arc = tmp_path / "a.duckdb"
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(import_paths([str(fifo)], arc)), daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "the import hangs on a FIFO"
    assert counts(arc) == (12, 0)


def test_names_with_newlines_and_escapes_are_printed_escaped(tmp_path: Path) -> None:
    f = tmp_path / "evil\nname\x1b[2J\u202e.jsonl"
    f.write_bytes(b"{not json\n")
    res = runner.invoke(app, ["import", str(f), "-a", str(tmp_path / "a.duckdb"), "-q"])
    assert "\x1b" not in res.stderr and "\u202e" not in res.stderr
    shown = str(f).replace("\n", "\\n").replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")
    assert f"warning: {shown}:1: malformed" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
