"""Bad input never aborts an import nor corrupts what is stored: a one-line message with file and
line, the record quarantined with its bytes, everything else imported, exit code non-zero only
when nothing at all could be read."""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
import sys
from pathlib import Path

import duckdb

from salon.importer import import_paths
from tests.conftest import corpus_path, twarc


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "salon.cli", *args], input=stdin, capture_output=True)


def quarantine(archive: Path) -> list[tuple[str, int, str, bytes]]:
    con = duckdb.connect(str(archive), read_only=True)
    rows = con.execute("SELECT path, line, reason, payload FROM quarantine ORDER BY line").fetchall()
    con.close()
    return [(p, n, r, bytes(b) if b is not None else b"") for p, n, r, b in rows]


def test_malformed_line_is_quarantined_and_the_rest_imported(tmp_path: Path, archive_path: Path) -> None:
    good = twarc("flat.jsonl").read_bytes().splitlines()
    bad = b'{"id": "1", "text": broken'
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(b"\n".join([*good[:10], bad, *good[10:20]]) + b"\n")
    proc = run_cli("import", str(f), "-a", str(archive_path))
    assert proc.returncode == 0
    assert f"{f}:11: malformed JSON".encode() in proc.stderr
    assert b"Traceback" not in proc.stderr
    [(path, line, _reason, payload)] = quarantine(archive_path)
    assert (path, line, payload) == (str(f), 11, bad)
    con = duckdb.connect(str(archive_path), read_only=True)
    assert con.execute("SELECT count(*) FROM raw").fetchone()[0] == 20  # type: ignore[index]
    con.close()


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path, archive_path: Path) -> None:
    data = gzip.compress(twarc("flat.jsonl").read_bytes())
    f = tmp_path / "cut.jsonl.gz"
    f.write_bytes(data[: len(data) // 2])
    report = import_paths([str(f)], archive_path)
    assert report.posts_new > 0
    assert any("truncated or corrupt" in p.reason for p in report.problems)
    assert not report.ok and report.incomplete  # kept what was read, but says the file was cut


def test_utf8_bom_is_skipped(tmp_path: Path, archive_path: Path) -> None:
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + twarc("kpop.jsonl").read_bytes())
    report = import_paths([str(f)], archive_path)
    assert report.posts_new == 121 and not report.problems


def tags_csv(encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id_str", "from_user", "text", "created_at", "time", "from_user_id_str", "status_url"])
    w.writerow(
        [
            "1394735776701816833",
            "musee",
            "Visite au #MuséeDuLouvre\nsur deux lignes",
            "Tue May 18 19:24:56 +0000 2021",
            "18/05/2021 20:24:56",
            "42",
            "https://twitter.com/musee/status/1394735776701816833",
        ]
    )
    w.writerow(
        [
            "1.39474E+18",
            "musee",
            "Une id abîmée #MuseumWeek",
            "Tue May 18 19:25:56 +0000 2021",
            "18/05/2021 20:25:56",
            "42",
            "",
        ]
    )
    return buf.getvalue().encode(encoding)


def test_tags_csv_in_utf16_and_cp1252(tmp_path: Path) -> None:
    for enc in ("utf-16", "cp1252", "utf-8-sig"):
        f = tmp_path / f"tags-{enc}.csv"
        f.write_bytes(tags_csv(enc))
        arc = tmp_path / f"{enc}.duckdb"
        report = import_paths([str(f)], arc)
        assert report.posts_new == 1, enc
        [problem] = report.problems
        assert problem.line == 4 and "scientific notation" in problem.reason, enc
        con = duckdb.connect(str(arc), read_only=True)
        text, tag = con.execute(
            "SELECT text, tag_display FROM posts JOIN post_hashtags USING (uid)"
        ).fetchone()  # type: ignore[misc]
        con.close()
        assert text == "Visite au #MuséeDuLouvre\nsur deux lignes" and tag == "MuséeDuLouvre", enc


def test_empty_junk_and_unknown_files(tmp_path: Path, archive_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_bytes(b'{"hello": "world"}\n{"foo": 1}\n')
    for f, message in (
        (empty, b"empty file"),
        (junk, b"unknown format: binary data"),
        (unknown, b":1: unknown format"),
    ):
        proc = run_cli("import", str(f), "-a", str(archive_path))
        assert proc.returncode == 1, f
        assert message in proc.stderr and b"Traceback" not in proc.stderr, proc.stderr
    # With one good file beside them, the import succeeds and only the bad ones are reported.
    proc = run_cli(
        "import", str(empty), str(junk), str(unknown), str(twarc("kpop.jsonl")), "-a", str(archive_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert {q[0] for q in quarantine(archive_path)} == {str(junk), str(unknown)}


def test_missing_path_and_unknown_format_are_clear_errors(tmp_path: Path, archive_path: Path) -> None:
    proc = run_cli("import", str(tmp_path / "nope.jsonl"), "-a", str(archive_path))
    assert (
        proc.returncode == 1
        and b"no such file or directory" in proc.stderr
        and b"Traceback" not in proc.stderr
    )
    proc = run_cli("import", str(twarc("kpop.jsonl")), "--format", "nonsense", "-a", str(archive_path))
    assert proc.returncode == 2 and b"unknown format 'nonsense'" in proc.stderr


def test_an_archive_that_cannot_be_opened_is_a_one_line_error(tmp_path: Path) -> None:
    """Every command that opens the archive says why it cannot, on one line, without a traceback."""
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    missing = tmp_path / "missing.duckdb"
    for args in (
        ("campaign", "list", "--json", "-a", str(missing)),
        ("campaign", "participants", "x", "--silent", "-a", str(junk)),
        ("tally", "x", "-a", str(junk)),
        ("coverage", "x", "-a", str(missing)),
        ("collect", "x", "-a", str(junk)),
    ):
        proc = run_cli(*args)
        lines = proc.stderr.decode().splitlines()
        archive = str(missing) if str(missing) in args else str(junk)
        assert proc.returncode == 1 and proc.stdout == b"", (args, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"error: {archive}: "), (args, lines)


def test_truncated_json_array_and_document(tmp_path: Path, archive_path: Path) -> None:
    doc = corpus_path("docnow-flatten-tweet", "test-data", "response.json").read_bytes()
    f = tmp_path / "cut.json"
    f.write_bytes(doc[: len(doc) // 2])
    report = import_paths([str(f)], archive_path)
    assert not report.ok and "truncated" in report.problems[0].reason
    whole = tmp_path / "whole.json"
    whole.write_bytes(doc)
    report = import_paths([str(whole)], archive_path)
    assert report.posts_new == 164 and report.ok  # PROVENANCE.md: 90 / 164
