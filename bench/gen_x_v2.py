"""Build a large twarc2 JSONL file from the real docnow-twarc-csv corpus, streaming.

Every X v2 tweet page and flattened tweet line of the corpus is a *template*; the output repeats
the templates with fresh tweet ids (every tweet id, referenced id, conversation id and edit
history id is rewritten consistently inside a replica, and differently across replicas), so no
two replicas share a line or a post. Inside a replica the corpus' own overlaps remain: some tweets
appear both in a page and as a stream or flattened line (900 MB: 290,152 data-tweet entries,
245,952 distinct tweets). Each template line is tokenised once; a replica is
a join of its segments with the replica's ids, written straight to disk (never held in memory).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "docnow-twarc-csv" / "test-data"
GENERATOR_VERSION = 1
ID_BASE = 5 * 10**18  # fresh ids stay inside int64 and never meet a real tweet id
_DIGITS = re.compile(rb"(?<![0-9])[0-9]{6,20}(?![0-9])")


@dataclass
class Template:
    segments: list[bytes]  # text between ids; len(segments) == len(ids) + 1
    ids: list[int]  # index of each id in the id table
    tweets: int  # data tweets in the line (a repetition holds some tweet both as page and stream line)


def _tweet_ids(obj: Any, out: set[str]) -> None:
    """Collect tweet ids (not user or media ids) from a page, stream line or flattened tweet."""

    def tweet(t: Any) -> None:
        if not isinstance(t, dict) or "id" not in t or "text" not in t:
            return
        out.add(str(t["id"]))
        if t.get("conversation_id"):
            out.add(str(t["conversation_id"]))
        for e in t.get("edit_history_tweet_ids") or ():
            out.add(str(e))
        for r in t.get("referenced_tweets") or ():
            if isinstance(r, dict) and "id" in r:
                out.add(str(r["id"]))
                tweet(r)

    if not isinstance(obj, dict):
        return
    data = obj.get("data")
    for t in data if isinstance(data, list) else [data] if isinstance(data, dict) else [obj]:
        tweet(t)
    for t in (obj.get("includes") or {}).get("tweets") or ():
        tweet(t)


def _data_tweets(obj: dict[str, Any]) -> int:
    data = obj.get("data")
    if isinstance(data, list):
        return sum(1 for t in data if isinstance(t, dict) and "text" in t)
    if isinstance(data, dict):
        return 1 if "text" in data else 0
    return 1 if "id" in obj and "text" in obj else 0


def templates(corpus: Path = CORPUS) -> tuple[list[Template], int]:
    """The corpus' tweet lines as templates, and the size of the id table."""
    lines: list[bytes] = []
    seen: set[bytes] = set()
    for path in sorted(corpus.glob("*.json*")):
        for raw in path.read_bytes().splitlines():
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            digest = hashlib.blake2b(raw, digest_size=16).digest()
            if not isinstance(obj, dict) or _data_tweets(obj) == 0 or digest in seen:
                continue  # users pages, counts, compliance lines, errors, identical copies
            seen.add(digest)
            lines.append(raw)
    ids: set[str] = set()
    for raw in lines:
        _tweet_ids(json.loads(raw), ids)
    table = {tid: i for i, tid in enumerate(sorted(ids, key=int))}
    out = []
    for raw in lines:
        segments: list[bytes] = []
        refs: list[int] = []
        pos = 0
        for m in _DIGITS.finditer(raw):
            i = table.get(m.group().decode())
            if i is None:
                continue
            segments.append(raw[pos : m.start()])
            refs.append(i)
            pos = m.end()
        segments.append(raw[pos:])
        out.append(Template(segments, refs, _data_tweets(json.loads(raw))))
    return out, len(table)


def replica_lines(tpls: list[Template], n_ids: int, replica: int) -> Iterator[tuple[bytes, int]]:
    base = ID_BASE + replica * n_ids
    for t in tpls:
        parts = [t.segments[0]]
        for seg, i in zip(t.segments[1:], t.ids, strict=True):
            parts.append(str(base + i).encode())
            parts.append(seg)
        yield b"".join(parts) + b"\n", t.tweets


def generate(path: Path, size_mb: float) -> dict[str, Any]:
    """Write at least ``size_mb`` MB (10^6 bytes) of twarc2 JSONL to ``path`` (reused when a file
    of the same size and generator version exists). Returns its metadata."""
    meta_path = path.with_suffix(".meta.json")
    target = int(size_mb * 1_000_000)
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("version") == GENERATOR_VERSION and meta.get("target_bytes") == target:
            return meta  # type: ignore[no-any-return]
    tpls, n_ids = templates()
    path.parent.mkdir(parents=True, exist_ok=True)
    size = lines = tweets = replica = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb", buffering=8 << 20) as out:
        while size < target:
            for line, n in replica_lines(tpls, n_ids, replica):
                out.write(line)
                size += len(line)
                lines += 1
                tweets += n
                if size >= target:
                    break
            replica += 1
    tmp.replace(path)
    meta = {
        "version": GENERATOR_VERSION,
        "target_bytes": target,
        "bytes": size,
        "lines": lines,
        "tweets": tweets,
        "replicas": replica,
        "templates": len(tpls),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta
