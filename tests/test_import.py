"""The import pipeline end to end on the real corpora: counts, idempotence, provenance, raw export,
compressed inputs, stdin. Expected values are computed from the raw files in the test."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import zstandard

from salon.importer import import_paths
from salon.store.rawstore import iter_payloads
from tests.conftest import corpus_path, twarc

X_FILES = ["2sets.jsonl", "flat.jsonl", "noflat.jsonl", "withheld.jsonl", "kpop.jsonl"]


def tweet_ids(path: Path) -> set[str]:
    """Every tweet id in a twarc2 file (data, flattened references, includes), from the JSON."""
    ids: set[str] = set()
    for raw in path.read_bytes().splitlines():
        if not raw.strip():
            continue
        obj = json.loads(raw)
        data = obj.get("data")
        top = data if isinstance(data, list) else [data] if isinstance(data, dict) else [obj]
        for t in top:
            ids.add(t["id"])
            ids.update(r["id"] for r in t.get("referenced_tweets") or () if "text" in r)
        ids.update(t["id"] for t in (obj.get("includes") or {}).get("tweets") or ())
    return ids


def counts(archive: Path) -> dict[str, Any]:
    con = duckdb.connect(str(archive), read_only=True)
    out = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
        for t in (
            "raw",
            "posts",
            "post_hashtags",
            "post_mentions",
            "post_urls",
            "post_media",
            "authors",
            "author_snapshots",
            "metrics_snapshots",
            "tombstones",
        )
    }
    con.close()
    return out


def test_corpus_import_counts_and_idempotence(archive_path: Path, tmp_path: Path) -> None:
    files = [str(twarc(f)) for f in X_FILES]
    report = import_paths(files, archive_path)
    expected = set().union(*(tweet_ids(twarc(f)) for f in X_FILES))
    con = duckdb.connect(str(archive_path), read_only=True)
    stored = {r[0] for r in con.execute("SELECT native_id FROM posts WHERE platform = 'x'").fetchall()}
    con.close()
    assert stored == expected
    assert report.posts_new == len(expected)
    before = counts(archive_path)
    # The same files again, and the same posts in another shape (flat vs noflat), change nothing.
    again = import_paths(files, archive_path)
    assert again.posts_new == 0 and again.records_new == 0
    assert again.records_duplicate == report.records_in
    assert counts(archive_path) == before


def test_overlapping_collection_adds_no_post(archive_path: Path, tmp_path: Path) -> None:
    import_paths([str(twarc("noflat.jsonl"))], archive_path)
    before = counts(archive_path)
    report = import_paths([str(twarc("flat.jsonl"))], archive_path)  # same tweets, flattened
    assert report.records_new > 0 and report.posts_new == 0
    after = counts(archive_path)
    assert after["posts"] == before["posts"]
    assert after["post_hashtags"] == before["post_hashtags"]


def test_provenance_and_byte_identical_raw_export(archive_path: Path, tmp_path: Path) -> None:
    src = twarc("withheld.jsonl")
    import_paths([str(src)], archive_path)
    con = duckdb.connect(str(archive_path), read_only=True)
    rows = con.execute(
        "SELECT r.raw_id, r.line, r.source, f.sha256, r.salon_version FROM raw r JOIN import_files f USING (file_id)"
    ).fetchall()
    payloads = dict(iter_payloads(con))
    con.close()
    lines = src.read_bytes().split(b"\n")
    assert len(rows) == sum(1 for line in lines if line.strip())
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    for rid, line, source, sha, version in rows:
        assert payloads[rid] == lines[line - 1]
        assert source == str(src) and sha == digest and version
    out = tmp_path / "raw.jsonl"
    subprocess.run(
        [sys.executable, "-m", "salon.cli", "export", "raw", "-a", str(archive_path), "-o", str(out)],
        check=True,
    )
    assert sorted(out.read_bytes().split(b"\n")[:-1]) == sorted(line for line in lines if line.strip())


def test_compressed_and_zipped_inputs_give_the_same_posts(archive_path: Path, tmp_path: Path) -> None:
    src = twarc("2sets.jsonl")
    data = src.read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as zf:
        zf.writestr("inner/2sets.jsonl", data)
    expected = len(tweet_ids(src))
    for name in ("a.jsonl.gz", "b.zst", "c.zip"):
        arc = tmp_path / f"{name}.duckdb"
        report = import_paths([str(tmp_path / name)], arc)
        assert report.posts_new == expected, name
        assert not report.problems


def test_directory_recursion_and_stdin(archive_path: Path, tmp_path: Path) -> None:
    d = tmp_path / "in" / "nested"
    d.mkdir(parents=True)
    shutil.copy(twarc("kpop.jsonl"), d)
    report = import_paths([str(tmp_path / "in")], archive_path)
    assert report.posts_new == len(tweet_ids(twarc("kpop.jsonl")))
    arc2 = tmp_path / "stdin.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "salon.cli", "import", "-", "-a", str(arc2), "--json"],
        input=twarc("kpop.jsonl").read_bytes(),
        capture_output=True,
        check=True,
    )
    assert json.loads(proc.stdout)["posts_new"] == report.posts_new


def test_x_account_archive_folder_and_zip_get_the_owner_as_author(tmp_path: Path) -> None:
    root = corpus_path("twitter-archive-milahu104")
    raw = (root / "data" / "tweets.js").read_text(encoding="utf-8")
    expected = len(json.loads(raw.split("=", 1)[1]))
    manifest = json.loads((root / "data" / "manifest.js").read_text(encoding="utf-8").split("=", 1)[1])
    owner = "x:" + manifest["userInfo"]["accountId"]
    with zipfile.ZipFile(tmp_path / "twitter-archive.zip", "w") as zf:
        for name in ("data/tweets.js", "data/manifest.js"):
            zf.write(root / name, name)
    for src in (root, tmp_path / "twitter-archive.zip"):
        arc = tmp_path / f"{src.name}.duckdb"
        report = import_paths([str(src)], arc)
        assert report.posts_new == expected and not report.problems, report.problems
        con = duckdb.connect(str(arc), read_only=True)
        assert con.execute("SELECT DISTINCT author_uid FROM posts").fetchall() == [(owner,)]
        assert con.execute("SELECT handle FROM authors").fetchall() == [(manifest["userInfo"]["userName"],)]
        con.close()


def test_x_account_archive_names_are_matched_in_any_case(tmp_path: Path) -> None:
    """Zips made on other systems may change the case of member names: the tweets file and its
    manifest are still found, and the other ``.js`` files are still skipped, in any case."""
    root = corpus_path("twitter-archive-milahu104")
    raw = (root / "data" / "tweets.js").read_text(encoding="utf-8")
    expected = len(json.loads(raw.split("=", 1)[1]))
    manifest = json.loads((root / "data" / "manifest.js").read_text(encoding="utf-8").split("=", 1)[1])
    owner = "x:" + manifest["userInfo"]["accountId"]
    # A likes file as the archive writes it (window.YTD.like.part0 = [{"like": {...}}]); it holds
    # no posts of the owner and must be skipped like data/like.js.
    like = 'window.YTD.like.part0 = [{"like": {"tweetId": "1", "fullText": "x"}}]'
    members = {"Data/Tweets.JS": raw, "DATA/MANIFEST.JS": (root / "data" / "manifest.js").read_text("utf-8")}
    members["DATA/LIKE.JS"] = like
    with zipfile.ZipFile(tmp_path / "TWITTER-ARCHIVE.ZIP", "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    folder = tmp_path / "unpacked"
    for name, text in members.items():
        (folder / name.upper()).parent.mkdir(parents=True, exist_ok=True)
        (folder / name.upper()).write_text(text, encoding="utf-8")
    for src in (tmp_path / "TWITTER-ARCHIVE.ZIP", folder):
        arc = tmp_path / f"{src.name}.duckdb"
        report = import_paths([str(src)], arc)
        assert report.records_in == expected and report.records_bad == 0, report.problems
        assert report.posts_new == expected and not report.problems, report.problems
        con = duckdb.connect(str(arc), read_only=True)
        assert con.execute("SELECT DISTINCT author_uid FROM posts").fetchall() == [(owner,)]
        assert con.execute("SELECT handle FROM authors").fetchall() == [(manifest["userInfo"]["userName"],)]
        con.close()


def test_x_archive_member_rule_is_one_rule_in_any_case() -> None:
    """Which archive ``.js`` files are read and which get the owner from manifest.js: the same
    names, compared case-insensitively."""
    from salon.sources.inputs import InputFile, _wanted_member, x_archive_owner

    manifest = b'window.__THAR_CONFIG = {"userInfo": {"accountId": "42", "userName": "me"}}'
    posts = [
        "tweets.js",
        "tweets-part1.js",
        "tweet.js",
        "tweet-part2.js",
        "community-tweet.js",
        "note-tweet.js",
    ]
    others = ["like.js", "tweetdeck.js", "tweet-headers.js", "manifest.js", "account.js"]
    for base in posts + others:
        for name in (base, base.upper(), base.title()):
            inp = InputFile(f"a.zip!data/{name}", lambda: io.BytesIO(b""), sibling=lambda rel: manifest)
            assert _wanted_member(f"data/{name}") is (base in posts), name
            assert (x_archive_owner(inp) is not None) is (base in posts), name
