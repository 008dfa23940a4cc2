"""Zeeschuimer normaliser. No real Zeeschuimer NDJSON is public (corpora README), so the lines
are built here from the documented shapes:

- the envelope Zeeschuimer writes for each captured item (``js/zs-background.js``: ``nav_index``,
  ``item_id``, ``timestamp_collected`` = ``Date.now()``, ``source_platform`` = module id,
  ``source_platform_url``, ``source_url``, ``user_agent``, ``data``; exports add the row ``id``);
- X items as Zeeschuimer's ``twitter.com`` module captures them (the GraphQL tweet result, with
  ``id`` and ``promoted`` added) and as 4CAT's ``twitter-import`` datasource reads them
  (``rest_id``, ``legacy.*``, ``core.user_results.result.legacy``, ``legacy.retweeted_status_result``,
  ``quoted_status_result``, ``note_tweet``); also the 2025 user layout
  (``core.user_results.result.core.screen_name``) and the older ``{"type": "adaptive"}`` items.

The tweet values inside are real X API v1.1 statuses from the tweepy cassettes (their ``legacy``
block is the v1.1 status with ``full_text``); Bluesky and Mastodon items wrap the real atproto
thread post view and Mastodon.py statuses. Expected values are computed from that raw JSON."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.model import KINDS, Post
from salon.normalize import BadRecord, Context
from salon.normalize import zeeschuimer as z
from tests.conftest import corpus_path
from tests.normalize.mutation import JSON, mutate, paths


def corpora() -> Path:
    """../shared/corpora, inside a test only (it skips without it: tests/conftest.py)."""
    return corpus_path()


COLLECTED_MS = 1711184400123  # 2024-03-23T09:00:00.123Z


@cache
def v11_statuses() -> tuple[dict[str, Any], ...]:
    """Top-level v1.1 statuses in the tweepy cassette bodies."""
    out: list[dict[str, Any]] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if "id_str" in x and "user" in x and "text" in x and "entities" in x:
                out.append(x)
                return
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    path = corpora() / "tweepy" / "extracted" / "cassette_bodies.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        walk(json.loads(line)["body"])
    return tuple(out)


def pick(pred: Any) -> dict[str, Any]:
    return copy.deepcopy(next(s for s in v11_statuses() if pred(s)))


def graphql(status: dict[str, Any], layout_2025: bool = False) -> dict[str, Any]:
    """A v1.1 status lifted into the GraphQL tweet result shape."""
    s = copy.deepcopy(status)
    user = s.pop("user")
    rt = s.pop("retweeted_status", None)
    qt = s.pop("quoted_status", None)
    legacy = dict(s, full_text=s.pop("text"), user_id_str=user["id_str"])
    legacy.setdefault("conversation_id_str", s.get("in_reply_to_status_id_str") or s["id_str"])
    legacy.setdefault("reply_count", 0)
    legacy.setdefault("quote_count", 0)
    user_result: dict[str, Any] = {
        "__typename": "User",
        "rest_id": user["id_str"],
        "is_blue_verified": False,
        "legacy": user,
    }
    if layout_2025:
        user_result["core"] = {k: user.pop(k) for k in ("screen_name", "name", "created_at")}
    result: dict[str, Any] = {
        "__typename": "Tweet",
        "rest_id": s["id_str"],
        "core": {"user_results": {"result": user_result}},
        "legacy": legacy,
        "source": s.get("source", ""),
        "views": {"count": "42", "state": "EnabledWithCount"},
    }
    if rt:
        legacy["retweeted_status_result"] = {"result": graphql(rt, layout_2025)}
    if qt:
        result["quoted_status_result"] = {"result": graphql(qt, layout_2025)}
    result["id"] = legacy["id_str"]  # added by Zeeschuimer's twitter module
    result["promoted"] = False
    return result


def envelope(
    data: Any, platform: str = "twitter.com", page: str = "https://x.com/search?q=%23python"
) -> dict[str, Any]:
    return {
        "id": 7,
        "nav_index": "1:12:0",
        "item_id": str(data.get("id") or data.get("uri") or data.get("post", {}).get("uri")),
        "timestamp_collected": COLLECTED_MS,
        "source_platform": platform,
        "source_platform_url": page,
        "source_url": "https://x.com/i/api/graphql/abc/SearchTimeline?variables=%7B%7D",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
        "data": data,
    }


def posts(line: Any) -> list[Post]:
    return [p for p in z.normalize(line, Context()) if isinstance(p, Post)]


@pytest.mark.parametrize("layout_2025", [False, True])
def test_x_tweet_fields(layout_2025: bool) -> None:
    s = pick(
        lambda s: (
            s["entities"]["hashtags"] and s["entities"]["user_mentions"] and not s.get("retweeted_status")
        )
    )
    line = envelope(graphql(s, layout_2025))
    assert z.sniff(line)
    (p,) = posts(line)
    assert p.uid == f"x:{s['id_str']}"
    assert p.author is not None
    assert (p.author.native_id, p.author.handle, p.author.display_name) == (
        s["user"]["id_str"],
        s["user"]["screen_name"],
        s["user"]["name"],
    )
    assert p.author.followers == s["user"]["followers_count"]
    assert [h.display for h in p.hashtags] == [h["text"] for h in s["entities"]["hashtags"]]
    assert p.mentions == [m["screen_name"] for m in s["entities"]["user_mentions"]]
    assert p.urls == [u["expanded_url"] for u in s["entities"]["urls"]]
    assert p.created_at == datetime.strptime(s["created_at"], "%a %b %d %H:%M:%S %z %Y")
    assert p.engagement is not None
    assert (p.engagement.likes, p.engagement.reposts) == (s["favorite_count"], s["retweet_count"])
    assert p.engagement.observed_at == datetime(2024, 3, 23, 9, 0, 0, 123000, tzinfo=UTC)
    assert p.url == f"https://x.com/{s['user']['screen_name']}/status/{s['id_str']}"


def test_x_text_is_unescaped() -> None:
    s = pick(lambda s: "&amp;" in s["text"] or "&gt;" in s["text"] or "&lt;" in s["text"])
    (p,) = posts(envelope(graphql(s)))
    assert "&amp;" not in p.text and "&gt;" not in p.text and "&lt;" not in p.text


def test_x_non_ascii_hashtag() -> None:
    s = pick(lambda s: any(h["text"] == "Área51" for h in s["entities"]["hashtags"]))
    assert "Área51" in [h.display for h in posts(envelope(graphql(s)))[0].hashtags]


def test_x_retweet_is_repost_with_context() -> None:
    s = pick(lambda s: s.get("retweeted_status") and s["retweeted_status"]["entities"]["user_mentions"])
    rt = s["retweeted_status"]
    out = posts(envelope(graphql(s)))
    assert [p.uid for p in out] == [f"x:{s['id_str']}", f"x:{rt['id_str']}"]
    main, orig = out
    assert main.kind == "repost" and main.repost_of_uid == f"x:{rt['id_str']}"
    assert main.text.startswith(f"RT @{rt['user']['screen_name']}: ")
    assert [h.display for h in main.hashtags] == [h["text"] for h in rt["entities"]["hashtags"]]
    assert orig.context and not main.context


def test_x_quote_and_reply() -> None:
    s = pick(lambda s: s.get("quoted_status"))
    out = posts(envelope(graphql(s)))
    assert out[0].kind == "quote" and out[0].quote_of_uid == f"x:{s['quoted_status']['id_str']}"
    assert out[1].uid == f"x:{s['quoted_status']['id_str']}" and out[1].context
    r = pick(lambda s: s.get("in_reply_to_status_id_str") and not s.get("quoted_status"))
    (p,) = posts(envelope(graphql(r)))
    assert p.kind == "reply" and p.reply_to_uid == f"x:{r['in_reply_to_status_id_str']}"


def test_x_media() -> None:
    s = pick(
        lambda s: (
            s.get("extended_entities", {}).get("media")
            and not s.get("retweeted_status")
            and not s.get("quoted_status")
        )
    )
    (p,) = posts(envelope(graphql(s)))
    media = s["extended_entities"]["media"]
    assert [m.type for m in p.media] == [{"animated_gif": "gif"}.get(m["type"], m["type"]) for m in media]
    assert [m.preview_url or m.url for m in p.media] == [m["media_url_https"] for m in media]


def test_x_note_tweet_and_visibility_wrapper() -> None:
    s = pick(lambda s: not s.get("retweeted_status") and not s.get("quoted_status"))
    tweet = graphql(s)
    long_text = "A long post about #MuseumWeek & friends " * 10
    tweet["note_tweet"] = {
        "is_expandable": True,
        "note_tweet_results": {
            "result": {
                "id": "Tm90ZTox",
                "text": long_text,
                "entity_set": {
                    "hashtags": [{"indices": [18, 29], "text": "MuseumWeek"}],
                    "urls": [],
                    "user_mentions": [],
                },
            }
        },
    }
    wrapped = {"__typename": "TweetWithVisibilityResults", "tweet": tweet, "id": tweet["id"]}
    (p,) = posts(envelope(wrapped))
    assert p.text == long_text
    assert [h.display for h in p.hashtags] == ["MuseumWeek"]


def test_x_adaptive_items() -> None:
    s = pick(lambda s: s["entities"]["hashtags"] and not s.get("retweeted_status"))
    user = s.pop("user")
    legacy = dict(
        s,
        full_text=s.pop("text"),
        user_id_str=user["id_str"],
        conversation_id_str=s["id_str"],
        reply_count=0,
        quote_count=0,
    )
    (p,) = posts(envelope({"id": int(s["id_str"]), "legacy": legacy, "type": "adaptive", "user": user}))
    assert p.uid == f"x:{s['id_str']}"
    assert p.author is not None and p.author.handle == user["screen_name"]


def test_x_item_without_tweet_is_bad() -> None:
    with pytest.raises(BadRecord):
        posts(envelope({"__typename": "TweetTombstone", "tombstone": {}, "id": "1"}))


def test_bluesky_item() -> None:
    thread = json.loads(
        (
            corpora()
            / "atproto-python/tests/test_atproto_client/models/test_data/thread_view_post_with_embed_media.json"
        ).read_text()
    )
    view = thread["thread"]["post"]
    line = envelope(view, platform="bsky.app", page="https://bsky.app/search?q=%23museumweek")
    out = posts(line)
    assert out[0].uid == f"bluesky:{view['uri']}" and out[0].kind == "quote"
    assert out[0].engagement is not None and out[0].engagement.observed_at == datetime(
        2024, 3, 23, 9, 0, 0, 123000, tzinfo=UTC
    )
    feed_item = envelope({"post": view}, platform="bsky.app")
    assert posts(feed_item)[0].uid == out[0].uid


def test_mastodon_item_uses_the_page_instance() -> None:
    path = corpora() / "mastodon-py" / "extracted" / "statuses_test_instance_localhost.jsonl"
    status = next(s for s in map(json.loads, path.read_text().splitlines()) if s.get("in_reply_to_id"))
    status["account"]["acct"] += "@elsewhere.example"  # remote author: only the page tells the instance
    line = envelope(status, platform="mastodon.social", page="https://mastodon.social/tags/museumweek")
    (p,) = posts(line)
    assert p.uid == f"mastodon:{status['uri']}"
    assert p.reply_to_uid == f"mastodon:mastodon.social/statuses/{status['in_reply_to_id']}"


@pytest.mark.parametrize(
    "platform", ["instagram.com", "tiktok.com", "linkedin.com", "truthsocial.com", "gab.com"]
)
def test_other_platforms_are_bad_records(platform: str) -> None:
    # TikTok/Instagram items (shape of Zeeschuimer's tiktok.js / instagram.js captures, abridged)
    other = {
        "id": "7300000000000000000",
        "desc": "#museumweek",
        "author": {"uniqueId": "a"},
        "createTime": 1711184400,
    }
    # Truth Social and Gab items are Mastodon-API statuses, but not the Mastodon network
    path = corpora() / "mastodon-py" / "extracted" / "statuses_test_instance_localhost.jsonl"
    status = json.loads(path.read_text().splitlines()[0])
    data = status if platform in ("truthsocial.com", "gab.com") else other
    with pytest.raises(BadRecord, match="unsupported"):
        posts(envelope(data, platform=platform))


def test_sniff() -> None:
    s = pick(lambda s: True)
    assert z.sniff(envelope(graphql(s)))
    assert not z.sniff({"data": [{"id": "1", "text": "hi", "author_id": "2"}], "includes": {}})
    assert not z.sniff({"id_str": "1", "text": "hi", "user": {"id_str": "2"}})
    assert not z.sniff(graphql(s))
    assert not z.sniff({"did": "did:plc:x", "time_us": 1, "kind": "commit"})


# -- property: mutated payloads raise nothing but BadRecord --------------------------------------


@cache
def samples() -> list[dict[str, Any]]:
    out = [
        envelope(graphql(pick(lambda s: s.get("retweeted_status")))),
        envelope(graphql(pick(lambda s: s.get("quoted_status")), layout_2025=True)),
        envelope(graphql(pick(lambda s: s.get("extended_entities")))),
    ]
    thread = json.loads(
        (
            corpora()
            / "atproto-python/tests/test_atproto_client/models/test_data/thread_view_post_with_embed_media.json"
        ).read_text()
    )
    out.append(envelope(thread["thread"]["post"], platform="bsky.app"))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_lines_raise_only_bad_record(data: st.DataObject) -> None:
    line = copy.deepcopy(data.draw(st.sampled_from(samples())))
    candidates = paths(line)
    for _ in range(data.draw(st.integers(1, 4))):
        mutate(line, data.draw(st.sampled_from(candidates)), data.draw(JSON), data.draw(st.booleans()))
    try:
        out = list(z.normalize(line, Context()))
    except BadRecord:
        return
    for item in out:
        assert isinstance(item, Post) and item.kind in KINDS and isinstance(item.text, str)
