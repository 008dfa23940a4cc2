"""Jetstream normaliser on the real Jetstream v1 captures of bluesky-social/jetstream
(PROVENANCE.md: ``expected_v1.jsonl`` 152 events, ``golden_v1.jsonl`` 10). Expected values are
counted here from the raw events by collection and operation."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.model import KINDS, Post, Tombstone
from salon.normalize import BadRecord, Context
from salon.normalize import jetstream as j
from tests.conftest import corpus_path
from tests.normalize.mutation import JSON, mutate, paths


def corpora() -> Path:
    """../shared/corpora, inside a test only (it skips without it: tests/conftest.py)."""
    return corpus_path()


FILES = {
    "expected": "bluesky-jetstream/internal/corpus/testdata/expected_v1.jsonl",
    "golden": "bluesky-jetstream/internal/subscribe/testdata/golden_v1.jsonl",
}
POST, REPOST = "app.bsky.feed.post", "app.bsky.feed.repost"


@cache
def events(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(
        json.loads(line)
        for line in (corpora() / FILES[name]).read_text(encoding="utf-8").splitlines()
        if line.strip()
    )


def op(ev: dict[str, Any]) -> tuple[str | None, str | None]:
    c = ev.get("commit") or {}
    return c.get("collection"), c.get("operation")


def items(ev: dict[str, Any]) -> list[Any]:
    return list(j.normalize(copy.deepcopy(ev), Context()))


@pytest.mark.parametrize("name", ["expected", "golden"])
def test_counts_by_collection_and_operation(name: str) -> None:
    evs = events(name)
    assert len(evs) == {"expected": 152, "golden": 10}[name]  # manifest.json: v1_events 152
    counts = Counter(op(e) for e in evs)
    got: Counter[str] = Counter()
    for ev in evs:
        assert j.sniff(ev)
        for it in items(ev):
            got[it.kind if isinstance(it, Post) else "tombstone"] += 1
    posts = counts[(POST, "create")] + counts[(POST, "update")]
    replies = sum(1 for e in evs if op(e) == (POST, "create") and "reply" in e["commit"]["record"])
    assert got["original"] + got["reply"] + got["quote"] == posts
    assert got["reply"] == replies
    assert got["repost"] == counts[(REPOST, "create")]
    assert got["tombstone"] == counts[(POST, "delete")] + counts[(REPOST, "delete")]
    if name == "expected":  # PROVENANCE.md: 17 posts, 8 replies, 15 reposts; manifest: 1 post delete
        assert (posts, got["reply"], got["repost"], got["tombstone"]) == (17, 8, 15, 1)


def test_post_keys_and_fields() -> None:
    for ev in events("expected"):
        if op(ev) != (POST, "create"):
            continue
        (p,) = items(ev)
        uri = f"at://{ev['did']}/{POST}/{ev['commit']['rkey']}"
        assert p.uid == f"bluesky:{uri}" and p.uri == uri
        assert p.author_uid == f"bluesky:{ev['did']}"
        assert p.author is not None and p.author.native_id == ev["did"] and p.author.handle is None
        assert p.text == ev["commit"]["record"]["text"]
        assert p.indexed_at == datetime.fromtimestamp(ev["time_us"] / 1e6, UTC)
        assert p.created_at is not None and p.edited_at is None


def test_hashtags_counted_from_facets() -> None:
    occurrences = tagged = 0
    got_occ = got_tagged = 0
    for ev in events("expected"):
        if op(ev) != (POST, "create"):
            continue
        tags = [
            f["tag"]
            for fc in ev["commit"]["record"].get("facets") or []
            for f in fc["features"]
            if f["$type"] == "app.bsky.richtext.facet#tag"
        ]
        occurrences += len(tags)
        tagged += bool(tags)
        (p,) = items(ev)
        got_occ += len(p.hashtags)
        got_tagged += bool(p.hashtags)
    assert (tagged, occurrences) == (got_tagged, got_occ) == (2, 4)  # PROVENANCE.md: 2 (4)


def test_reposts() -> None:
    for ev in events("expected"):
        if op(ev) != (REPOST, "create"):
            continue
        (p,) = items(ev)
        rec = ev["commit"]["record"]
        assert p.kind == "repost" and p.text == ""
        assert p.native_id == f"at://{ev['did']}/{REPOST}/{ev['commit']['rkey']}"
        assert p.repost_of_uid == f"bluesky:{rec['subject']['uri']}"
        assert p.created_at == datetime.fromisoformat(rec["createdAt"].replace("Z", "+00:00"))


def test_deletes_are_tombstones() -> None:
    deletes = [e for e in events("expected") if op(e) == (POST, "delete")]
    assert len(deletes) == 1
    ev = deletes[0]
    (t,) = items(ev)
    assert isinstance(t, Tombstone)
    assert t.uid == f"bluesky:at://{ev['did']}/{POST}/{ev['commit']['rkey']}"
    assert t.deleted_at == datetime.fromtimestamp(ev["time_us"] / 1e6, UTC)
    rp = dict(ev, commit=dict(ev["commit"], collection=REPOST))
    assert items(rp) == [
        Tombstone("bluesky", f"at://{ev['did']}/{REPOST}/{ev['commit']['rkey']}", t.deleted_at)
    ]


def test_update_sets_edited_at() -> None:
    ev = copy.deepcopy(next(e for e in events("expected") if op(e) == (POST, "create")))
    ev["commit"]["operation"] = "update"
    (p,) = items(ev)
    assert p.edited_at == datetime.fromtimestamp(ev["time_us"] / 1e6, UTC)


def test_other_events_yield_nothing() -> None:
    others = [e for e in events("expected") + events("golden") if op(e)[0] not in (POST, REPOST)]
    assert {e["kind"] for e in others} == {"commit", "identity", "account"}
    assert all(items(e) == [] for e in others)


def test_bad_events() -> None:
    ev = copy.deepcopy(next(e for e in events("expected") if op(e) == (POST, "create")))
    del ev["commit"]["record"]
    with pytest.raises(BadRecord):
        items(ev)
    with pytest.raises(BadRecord):
        list(j.normalize({"text": "hi"}, Context()))


def test_sniff_rejects_other_formats() -> None:
    assert not j.sniff({"data": [{"id": "1", "text": "hi", "author_id": "2"}], "includes": {}})
    assert not j.sniff({"id_str": "1", "text": "hi", "user": {"id_str": "2"}})
    assert not j.sniff({"uri": "https://m.example/1", "account": {}, "content": "<p>hi</p>"})
    assert not j.sniff({"posts": []})


# -- property: mutated real events raise nothing but BadRecord -----------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_events_raise_only_bad_record(data: st.DataObject) -> None:
    pool = [e for e in events("expected") + events("golden") if op(e)[0] in (POST, REPOST)]
    ev = copy.deepcopy(data.draw(st.sampled_from(pool)))
    candidates = paths(ev)
    for _ in range(data.draw(st.integers(1, 4))):
        mutate(ev, data.draw(st.sampled_from(candidates)), data.draw(JSON), data.draw(st.booleans()))
    try:
        out = list(j.normalize(ev, Context()))
    except BadRecord:
        return
    for it in out:
        assert isinstance(it, (Post, Tombstone))
        if isinstance(it, Post):
            assert it.kind in KINDS and isinstance(it.text, str)
