"""Mastodon normaliser on the real statuses of the Mastodon.py test suite (272 statuses, one per
line, PROVENANCE.md). Expected values are computed here from the raw JSON, never from the code
under test. Streaming events, delete events and the account opt-out cases are built from the
documented shapes (Mastodon streaming API: ``{"event", "payload"}`` with the status as a JSON
string, the status id for ``delete``) around the real statuses."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.model import KINDS, Post, Tombstone
from salon.normalize import BadRecord, Context
from salon.normalize import mastodon as m
from tests.conftest import corpus_path
from tests.normalize.mutation import JSON, mutate, paths


def corpora() -> Path:
    """../shared/corpora, inside a test only (it skips without it: tests/conftest.py)."""
    return corpus_path()


STATUSES = "mastodon-py/extracted/statuses_test_instance_localhost.jsonl"


@cache
def statuses() -> tuple[dict[str, Any], ...]:
    with (corpora() / STATUSES).open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def raw(pred: Any) -> list[dict[str, Any]]:
    return [copy.deepcopy(s) for s in statuses() if pred(s)]


def posts(obj: Any, ctx: Context | None = None) -> list[Post]:
    return [i for i in m.normalize(obj, ctx or Context()) if isinstance(i, Post)]


def main(obj: Any) -> Post:
    return posts(obj)[0]


def test_corpus_has_the_documented_size() -> None:
    assert len(statuses()) == 272  # PROVENANCE.md


def test_every_status_normalises_keyed_by_uri() -> None:
    reblogs = sum(1 for s in statuses() if s.get("reblog"))
    quoted = sum(
        1 for s in statuses() if isinstance(s.get("quote"), dict) and s["quote"].get("quoted_status")
    )
    top, context = [], []
    for s in statuses():
        assert m.sniff(s)
        out = posts(s)
        assert out[0].uid == f"mastodon:{s['uri']}"
        assert not out[0].context
        top.append(out[0])
        context.extend(out[1:])
    assert len(top) == 272
    assert len(context) == reblogs + quoted
    assert all(p.context for p in context)
    assert sum(p.kind == "repost" for p in top) == reblogs == 7


def test_page_of_statuses_equals_lines() -> None:
    page = list(statuses()[:40])
    assert m.sniff(page)
    assert [p.uid for p in posts(page) if not p.context] == [f"mastodon:{s['uri']}" for s in page]


def test_kinds_follow_precedence() -> None:
    for s in statuses():
        p = main(copy.deepcopy(s))
        if s.get("reblog"):
            want = "repost"
        elif s.get("quote"):
            want = "quote"
        elif s.get("in_reply_to_id"):
            want = "reply"
        else:
            want = "original"
        assert p.kind == want
        assert p.kind in KINDS


def test_html_to_text_on_real_content() -> None:
    for s in statuses():
        p = main(copy.deepcopy(s))
        assert "<" not in p.text and "&gt;" not in p.text and "&amp;" not in p.text
    # link text keeps the hidden parts: the whole URL is in the text, and in urls
    linked = raw(lambda s: 'href="http://example.org/"' in s["content"])
    assert linked
    for s in linked:
        p = main(s)
        assert "http://example.org/" in p.text
        assert "http://example.org/" in p.urls
    # paragraphs become blank lines
    s = raw(lambda s: s["content"].count("<p>") == 1 and "<br" not in s["content"])[0]
    s["content"] = "<p>one</p><p>two<br>three</p>"
    assert main(s).text == "one\n\ntwo\nthree"


def test_mentions_and_hashtags_are_not_urls() -> None:
    for s in raw(lambda s: s["mentions"] or s["tags"]):
        p = main(s)
        tag_urls = {t["url"] for t in s["tags"]}
        mention_urls = {x["url"] for x in s["mentions"]}
        assert not (set(p.urls) & (tag_urls | mention_urls))


def test_quote_inline_fallback_is_dropped() -> None:
    quotes = raw(lambda s: s.get("quote"))
    assert len(quotes) == 3
    for s in quotes:
        p = main(s)
        assert p.kind == "quote"
        assert not p.text.startswith("RE:")
        assert p.quote_of_uid == f"mastodon:{s['quote']['quoted_status']['uri']}"
        assert p.urls == []  # the only link was the RE: fallback


def test_hashtags_from_tags() -> None:
    tagged = raw(lambda s: s["tags"])
    assert len(tagged) == 62
    for s in tagged:
        p = main(s)
        assert [(h.display, h.source) for h in p.hashtags] == [(t["name"], "tags") for t in s["tags"]]


def test_mentions_are_absolute() -> None:
    for s in raw(lambda s: s["mentions"]):
        want = [
            x["acct"] if "@" in x["acct"] else f"{x['acct']}@{urlsplit(x['url']).netloc}"
            for x in s["mentions"]
        ]
        assert main(s).mentions == want


def test_spoiler_text_precedes_text() -> None:
    cws = raw(lambda s: s["spoiler_text"])
    assert len(cws) == 5
    for s in cws:
        assert main(s).text.startswith(s["spoiler_text"] + "\n\n")


def test_reblog_is_repost_with_context_post() -> None:
    for s in raw(lambda s: s.get("reblog")):
        out = posts(s)
        rp, orig = out[0], out[1]
        assert rp.kind == "repost"
        assert rp.repost_of_uid == f"mastodon:{s['reblog']['uri']}"
        assert orig.uid == rp.repost_of_uid and orig.context
        assert rp.text == orig.text
        assert rp.author is not None and rp.author.native_id == s["account"]["uri"]
        assert orig.author is not None and orig.author.native_id == s["reblog"]["account"]["uri"]


def test_reply_to_uses_the_serving_instance_key() -> None:
    replies = raw(lambda s: s.get("in_reply_to_id"))
    assert len(replies) == 5
    for s in replies:
        host = urlsplit(s["account"]["url"]).netloc  # local account: the serving instance
        assert "@" not in s["account"]["acct"]
        assert main(s).reply_to_uid == f"mastodon:{host}/statuses/{s['in_reply_to_id']}"
        assert (
            m.status_key(f"http://{host}/", s["in_reply_to_id"]) == f"{host}/statuses/{s['in_reply_to_id']}"
        )


def test_posts_carry_their_instance_key_as_alias() -> None:
    for s in raw(lambda s: s.get("reblog")):
        host = urlsplit(s["account"]["url"]).netloc
        rp, orig = posts(s)
        assert rp.aliases == [f"mastodon:{host}/statuses/{s['id']}"]
        assert orig.aliases == [f"mastodon:{host}/statuses/{s['reblog']['id']}"]
    s = raw(lambda s: not s.get("reblog"))[0]
    s["account"]["acct"] += "@remote.example"
    assert main(s).aliases == []  # serving instance unknown


def test_reply_to_resolves_inside_a_page() -> None:
    parent, child = raw(lambda s: not s.get("reblog") and not s.get("in_reply_to_id"))[:2]
    child["in_reply_to_id"] = parent["id"]
    out = posts([parent, child])
    assert out[1].reply_to_uid == f"mastodon:{parent['uri']}"


def test_remote_reply_without_instance_has_no_parent_uid() -> None:
    s = raw(lambda s: s.get("in_reply_to_id"))[0]
    s["account"]["acct"] += "@remote.example"
    s["mentions"] = []
    p = main(s)
    assert p.kind == "reply" and p.reply_to_uid is None
    s["instance"] = "https://mastodon.example/"
    assert main(s).reply_to_uid == f"mastodon:mastodon.example/statuses/{s['in_reply_to_id']}"


def test_author_fields_and_handle() -> None:
    s = raw(lambda s: not s.get("reblog"))[0]
    a = main(s).author
    assert a is not None
    acc = s["account"]
    assert a.native_id == acc["uri"]
    assert a.handle == f"{acc['acct']}@{urlsplit(acc['url']).netloc}"
    assert (a.followers, a.following, a.posts_count, a.bot) == (
        acc["followers_count"],
        acc["following_count"],
        acc["statuses_count"],
        acc["bot"],
    )
    assert a.bio == "I walk funny"  # <p>I walk funny</p>
    # old Mastodon accounts have no uri: the url is the id
    old = raw(lambda s: "uri" not in s["account"])[0]
    assert main(old).author.native_id == old["account"]["url"]  # type: ignore[union-attr]


def test_author_opt_out() -> None:
    not_indexable = sum(1 for s in statuses() if s["account"].get("indexable") is False)
    assert not_indexable == 54
    got = sum(1 for s in statuses() if main(copy.deepcopy(s)).author.indexable is False)  # type: ignore[union-attr]
    assert got == not_indexable
    s = raw(lambda s: s["account"].get("indexable") is True and s["account"].get("discoverable") is None)[0]
    assert main(copy.deepcopy(s)).author.indexable is True  # type: ignore[union-attr]
    for change in (
        {"discoverable": False},
        {"note": "<p>museum person #NoBot</p>"},
        {"display_name": "Anne #nobot"},
    ):
        t = copy.deepcopy(s)
        t["account"].update(change)
        assert main(t).author.indexable is False, change  # type: ignore[union-attr]


def test_media_attachments() -> None:
    with_media = raw(lambda s: s["media_attachments"])
    assert len(with_media) == 9
    mapping = {"image": "photo", "video": "video", "gifv": "gif", "audio": "audio"}
    for s in with_media:
        p = main(s)
        assert [(x.type, x.url, x.alt_text) for x in p.media] == [
            (mapping[a["type"]], a["url"], a["description"]) for a in s["media_attachments"]
        ]


def test_engagement_and_times() -> None:
    from datetime import UTC, datetime

    seen = datetime(2026, 8, 2, tzinfo=UTC)
    s = raw(lambda s: "quotes_count" in s and s.get("edited_at"))[0]
    p = posts(s, Context(observed_at=seen))[0]
    assert p.engagement is not None
    assert (p.engagement.likes, p.engagement.reposts, p.engagement.replies, p.engagement.quotes) == (
        s["favourites_count"],
        s["reblogs_count"],
        s["replies_count"],
        s["quotes_count"],
    )
    assert p.engagement.observed_at == seen
    assert p.edited_at is not None and p.created_at is not None
    assert p.lang == s["language"] and p.sensitive == s["sensitive"]


def test_streaming_update_events() -> None:
    s = raw(lambda s: s["tags"])[0]
    ev = {"stream": ["hashtag", "x"], "event": "update", "payload": json.dumps(s)}
    assert m.sniff(ev)
    assert main(ev).uid == f"mastodon:{s['uri']}"
    assert main({"event": "status.update", "payload": s}).uid == f"mastodon:{s['uri']}"
    assert list(m.normalize({"event": "notification", "payload": "{}"}, Context())) == []
    with pytest.raises(BadRecord):
        list(m.normalize({"event": "update", "payload": "{not json"}, Context()))


def test_delete_event_is_a_tombstone() -> None:
    ev = {"event": "delete", "payload": "109876543210", "instance": "https://mastodon.social"}
    out = list(m.normalize(ev, Context()))
    assert out == [Tombstone("mastodon", "mastodon.social/statuses/109876543210")]
    assert out[0].native_id == m.status_key("mastodon.social", "109876543210")
    with pytest.raises(BadRecord, match="instance"):
        list(m.normalize({"event": "delete", "payload": "109876543210"}, Context()))


def test_context_response() -> None:
    a, b = raw(lambda s: not s.get("reblog"))[:2]
    assert [p.uid for p in posts({"ancestors": [a], "descendants": [b]})] == [
        f"mastodon:{a['uri']}",
        f"mastodon:{b['uri']}",
    ]


def test_sniff_rejects_other_formats() -> None:
    assert not m.sniff({"data": [{"id": "1", "text": "hi", "author_id": "2"}], "includes": {}})
    assert not m.sniff({"id_str": "1", "text": "hi", "user": {"id_str": "2"}})
    assert not m.sniff({"uri": "at://did:plc:x/app.bsky.feed.post/1", "author": {}, "record": {}})
    assert not m.sniff({"did": "did:plc:x", "time_us": 1, "kind": "commit"})
    assert not m.sniff([])
    assert not m.sniff("x")


# -- property: mutated real payloads raise nothing but BadRecord ---------------------------------


def check(payload: Any) -> None:
    try:
        items = list(m.normalize(payload, Context()))
    except BadRecord:
        return
    for item in items:
        if isinstance(item, Post):
            assert item.kind in KINDS
            assert isinstance(item.text, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_payloads_raise_only_bad_record(data: st.DataObject) -> None:
    interesting = [
        s for s in statuses() if s.get("reblog") or s.get("quote") or s["tags"] or s["media_attachments"]
    ]
    status = copy.deepcopy(data.draw(st.sampled_from(interesting)))
    wrap = data.draw(st.sampled_from(["status", "list", "event"]))
    payload: Any = status
    if wrap == "list":
        payload = [status]
    elif wrap == "event":
        payload = {"event": data.draw(st.sampled_from(["update", "delete"])), "payload": status}
    candidates = paths(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(candidates))
        mutate(payload, path, data.draw(JSON), data.draw(st.booleans()))
    check(payload)
