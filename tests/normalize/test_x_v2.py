"""X API v2 (twarc2) normaliser on the real docnow corpus; expected values are counted from the
raw JSON here, independently of the code under test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.model import KINDS, Author, Post, Tombstone
from salon.normalize import BadRecord, Context, normalize, sniff
from tests.conftest import twarc
from tests.normalize.mutation import junk, mutated


def lines(name: str) -> Iterator[dict[str, Any]]:
    for raw in twarc(name).read_bytes().splitlines():
        if raw.strip():
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                continue


def posts_of(name: str) -> list[Post]:
    return [i for obj in lines(name) for i in normalize(obj, Context()) if isinstance(i, Post)]


def raw_tweets(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every tweet object in a page or flattened line, nested ones included."""
    data = obj.get("data")
    top = (
        data
        if isinstance(data, list)
        else [data]
        if isinstance(data, dict)
        else [obj]
        if "text" in obj
        else []
    )
    for t in top:
        yield t
        for ref in t.get("referenced_tweets") or ():
            if "text" in ref:
                yield ref
    yield from (obj.get("includes") or {}).get("tweets") or ()


@pytest.mark.parametrize(
    "name,unique",
    [
        ("2sets.jsonl", 276),
        ("brexit.jsonl", 155),
        ("flat.jsonl", 164),
        ("withheld.jsonl", 284),
        ("kpop.jsonl", 121),
    ],
)
def test_unique_posts_match_provenance_and_raw_count(name: str, unique: int) -> None:
    expected = {t["id"] for obj in lines(name) for t in raw_tweets(obj)}
    got = {p.native_id for p in posts_of(name)}
    assert got == expected
    assert len(got) == unique  # PROVENANCE.md


def test_kinds_follow_referenced_tweets_precedence() -> None:
    for obj in lines("2sets.jsonl"):
        by_id = {p.native_id: p for p in normalize(obj, Context()) if isinstance(p, Post)}
        for t in raw_tweets(obj):
            types = {r["type"] for r in t.get("referenced_tweets") or ()}
            want = (
                "repost"
                if "retweeted" in types
                else "quote"
                if "quoted" in types
                else "reply"
                if "replied_to" in types
                else "original"
            )
            assert by_id[t["id"]].kind == want


def test_retweet_text_is_the_full_original() -> None:
    obj = next(lines("2sets.jsonl"))
    inc = {t["id"]: t for t in obj["includes"]["tweets"]}
    users = {u["id"]: u["username"] for u in obj["includes"]["users"]}
    checked = 0
    for p in normalize(obj, Context()):
        if isinstance(p, Post) and p.kind == "repost" and not p.context:
            orig = inc[p.repost_of_uid.removeprefix("x:")]  # type: ignore[union-attr]
            # X escapes & < > in text; Salon stores the plain characters.
            plain = orig["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            assert p.text == f"RT @{users[orig['author_id']]}: {plain}"
            checked += 1
    assert checked > 50


def test_hashtags_mentions_engagement_authors() -> None:
    obj = next(lines("2sets.jsonl"))
    items = list(normalize(obj, Context()))
    posts = {p.native_id: p for p in items if isinstance(p, Post) and not p.context}
    for t in obj["data"]:
        p = posts[t["id"]]
        if "retweeted" not in {r["type"] for r in t.get("referenced_tweets") or ()}:
            assert [h.display for h in p.hashtags] == [
                h["tag"] for h in t.get("entities", {}).get("hashtags", [])
            ]
        assert p.mentions == [m["username"] for m in t.get("entities", {}).get("mentions", [])]
        assert p.engagement is not None and p.engagement.likes == t["public_metrics"]["like_count"]
        assert p.engagement.reposts == t["public_metrics"]["retweet_count"]
        assert p.author_uid == f"x:{t['author_id']}"
    authors = {a.native_id for a in items if isinstance(a, Author)}
    assert authors >= {u["id"] for u in obj["includes"]["users"]}


def test_note_tweet_full_text_and_media_alt() -> None:
    found = False
    for name in ("media_tweet.jsonl", "entities_test.jsonl", "edited.jsonl"):
        for obj in lines(name):
            for p in normalize(obj, Context()):
                if isinstance(p, Post):
                    assert p.created_at is not None and p.created_at.tzinfo is not None
                    found = found or bool(p.media)
    assert found


def test_compliance_lines_become_tombstones() -> None:
    items = [i for obj in lines("tweets_compliance.jsonl") for i in normalize(obj, Context())]
    raw = [o for o in lines("tweets_compliance.jsonl") if o.get("action") == "delete"]
    assert [i.uid for i in items if isinstance(i, Tombstone)] == [f"x:{o['id']}" for o in raw]


def test_counts_pages_yield_nothing_but_are_recognised() -> None:
    obj = next(lines("counts.jsonl"))
    assert sniff(obj) == "x-v2"
    assert list(normalize(obj, Context())) == []


# Whole real pages, mutated at any depth: the registry's normaliser raises nothing but BadRecord.


@cache
def pool() -> list[dict[str, Any]]:
    return [next(lines("2sets.jsonl")), next(lines("flat.jsonl")), next(lines("quoted_edit.jsonl"))]


JUNK = junk("2021-13-45T99:00:00.000Z", "retweeted", "quoted", "replied_to", "&amp;&lt;", "0", "-1")


@pytest.mark.usefixtures("needs_shared")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.deferred(lambda: mutated(pool(), JUNK)))
def test_mutated_pages_raise_only_badrecord(page: Any) -> None:
    try:
        posts = [p for p in normalize(page, Context(), "x-v2") if isinstance(p, Post)]
    except BadRecord:
        return
    for p in posts:
        assert p.kind in KINDS
        assert p.uid.startswith("x:")
