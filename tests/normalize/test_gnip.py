"""Gnip Activity Streams normaliser on the real examples of twitterdev/tweet_parser. Expected
values are computed from the raw JSON or read from PROVENANCE.md; the same 25 posts also exist
in Gnip original format, which gives a cross-format consistency check."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon import normalize as norm
from salon.model import KINDS, Post, Tombstone
from salon.normalize import BadRecord, Context, gnip, x_v1
from tests.conftest import corpus_path
from tests.normalize.mutation import junk, mutated

OBSERVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CTX = Context(observed_at=OBSERVED)
EXAMPLES = "twitterdev-tweet_parser/test/tweet_payload_examples"


def corpus(path: str) -> Path:
    """A file of the shared real-payload corpora (skips without ../shared: tests/conftest.py)."""
    return corpus_path(path)


def json_lines(path: str) -> list[Any]:
    return [json.loads(line) for line in corpus(path).read_text("utf-8").splitlines() if line.strip()]


def activities() -> list[dict[str, Any]]:
    return json_lines(f"{EXAMPLES}/activity_streams_examples.json")


def provenance_row(folder: str, name: str) -> dict[str, str]:
    """One file's row of a corpus folder's PROVENANCE.md table."""
    header: list[str] = []
    for line in corpus(f"{folder}/PROVENANCE.md").read_text("utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if cells[0] == "file":
            header = cells
        elif header and cells[0].endswith(name):
            return dict(zip(header, cells, strict=False))
    raise KeyError(name)


def prov_int(cell: str) -> int:
    head = cell.split()[0]
    return 0 if head == "-" else int(head)


def tag_id(value: str) -> str:
    assert value.startswith(("tag:search.twitter.com,2005:", "object:search.twitter.com,2005:"))
    return value.rsplit(":", 1)[1]


def raw_nested(act: dict[str, Any]) -> list[dict[str, Any]]:
    """An activity and the activities nested in it (a share's object, a quoted status)."""
    out = [act]
    if act["verb"] == "share":
        out += raw_nested(act["object"])
    if "twitter_quoted_status" in act:
        out += raw_nested(act["twitter_quoted_status"])
    return out


def posts_of(obj: Any) -> list[Post]:
    return [i for i in gnip.normalize(obj, CTX) if isinstance(i, Post)]


def merged(payloads: list[Any], normalizer: Any = gnip.normalize) -> dict[str, Post]:
    out: dict[str, Post] = {}
    for obj in payloads:
        for p in normalizer(obj, CTX):
            if isinstance(p, Post) and (p.uid not in out or (out[p.uid].context and not p.context)):
                out[p.uid] = p
    return out


def raw_full_body(act: dict[str, Any]) -> str:
    return html.unescape((act.get("long_object") or {}).get("body") or act["body"])


def test_sniff() -> None:
    for act in activities():
        assert gnip.sniff(act)
        assert norm.sniff(act) == "gnip-activity"
        assert not x_v1.sniff(act)
    for line in json_lines(f"{EXAMPLES}/original_format_examples.json"):
        assert not gnip.sniff(line)
    for bad in (None, [], {}, {"verb": "post", "actor": {}, "body": "x", "id": "123"}):
        assert not gnip.sniff(bad)


def test_counts_match_raw_json_and_provenance() -> None:
    acts = activities()
    posts = merged(acts)
    raw = {tag_id(n["id"]): n for a in acts for n in raw_nested(a)}
    assert set(posts) == {f"x:{i}" for i in raw}
    row = provenance_row("twitterdev-tweet_parser", "activity_streams_examples.json")
    top, unique = (int(x) for x in row["posts"].split("/"))
    assert sum(not p.context for p in posts.values()) == len(acts) == top
    assert len(posts) == unique
    assert sum(bool(p.hashtags) for p in posts.values()) == prov_int(row["#tags (occurrences)"])
    assert sum(len(p.hashtags) for p in posts.values()) == int(row["#tags (occurrences)"].split("(")[1][:-1])
    assert sum(bool(p.mentions) for p in posts.values()) == prov_int(row["mentions"])
    assert sum(p.reply_to_uid is not None for p in posts.values()) == prov_int(row["replies"])
    shares = {tag_id(a["id"]) for a in acts if a["verb"] == "share"}
    assert {p.native_id for p in posts.values() if p.kind == "repost"} == shares
    assert len(shares) == prov_int(row["RT"])
    quotes = {tag_id(n["id"]) for a in acts for n in raw_nested(a) if "twitter_quoted_status" in n}
    assert {p.native_id for p in posts.values() if p.kind == "quote"} == quotes
    # PROVENANCE says 5 quotes: it kept the first copy of each post, and three quote posts are
    # first seen nested as a quoted status, where Activity Streams drops their own quote.
    first_seen: dict[str, dict[str, Any]] = {}
    for a in acts:
        for n in raw_nested(a):
            first_seen.setdefault(tag_id(n["id"]), n)
    assert sum("twitter_quoted_status" in n for n in first_seen.values()) == prov_int(row["quotes"])
    assert len(quotes) == 8


def test_long_object_full_text() -> None:
    longs = [a for a in activities() if "long_object" in a]
    assert longs
    for act in longs:
        post = posts_of(act)[0]
        assert post.text == html.unescape(act["long_object"]["body"])
        assert len(post.text) > 140
        assert "…" in act["body"] and "…" not in post.text  # the body is the truncated form
    emoji = next(a for a in longs if a["id"].endswith(":867473446648676352"))
    text = posts_of(emoji)[0].text
    assert text.startswith("@notFromShrek @ericmbudd H) 140 chars + replies + media!")
    assert text.endswith("🐇🐈 https://t.co/eAQvI8SV57")
    amp = next(a for a in longs if "&amp;" in a["long_object"]["body"])
    assert "140 chars & replies" in posts_of(amp)[0].text


def test_share_is_a_repost_with_full_text_and_context_original() -> None:
    shares = [a for a in activities() if a["verb"] == "share"]
    assert len(shares) == 3
    for act in shares:
        orig = act["object"]
        items = posts_of(act)
        repost, original = items[0], items[1]
        assert repost.kind == "repost" and not repost.context
        assert repost.repost_of_uid == f"x:{tag_id(orig['id'])}"
        assert repost.quote_of_uid is None
        handle = orig["actor"]["preferredUsername"]
        assert repost.text == f"RT @{handle}: {raw_full_body(orig)}"
        assert repost.mentions[0] == handle
        assert original.native_id == tag_id(orig["id"]) and original.context
        assert original.text == raw_full_body(orig)
        assert original.author is not None and original.author.handle == handle
    long_rt = next(a for a in shares if "long_object" in a["object"])
    assert len(posts_of(long_rt)[0].text) > 140 + len("RT @: ")


def test_quotes_replies_and_context() -> None:
    for act in activities():
        post = posts_of(act)[0]
        q = act.get("twitter_quoted_status")
        reply = (act.get("inReplyTo") or {}).get("link")
        assert post.quote_of_uid == (f"x:{tag_id(q['id'])}" if q else None)
        assert post.reply_to_uid == (f"x:{reply.rsplit('/', 1)[1]}" if reply else None)
        expected = "repost" if act["verb"] == "share" else "quote" if q else "reply" if reply else "original"
        assert post.kind == expected
        nested = {tag_id(n["id"]) for n in raw_nested(act)[1:]} - {tag_id(act["id"])}
        assert {p.native_id for p in posts_of(act) if p.context} == nested
    # a quote that also replies is a quote
    both = next(a for a in activities() if "twitter_quoted_status" in a and "inReplyTo" in a)
    assert posts_of(both)[0].kind == "quote"


def test_entities_engagement_author() -> None:
    mapping = {"photo": "photo", "video": "video", "animated_gif": "gif"}
    for act in activities():
        if act["verb"] == "share":
            continue
        post = posts_of(act)[0]
        src = act.get("long_object") or act
        ent = src["twitter_entities"]
        assert [h.display for h in post.hashtags] == [h["text"] for h in ent["hashtags"]]
        assert [m for m in post.mentions] == [m["screen_name"] for m in ent["user_mentions"]]
        assert post.urls == [u["expanded_url"] for u in ent["urls"]]
        media = (src.get("twitter_extended_entities") or ent).get("media", [])
        assert [m.type for m in post.media] == [mapping[m["type"]] for m in media]
        assert post.engagement is not None
        assert (post.engagement.likes, post.engagement.reposts) == (
            act["favoritesCount"],
            act["retweetCount"],
        )
        assert post.engagement.observed_at == OBSERVED
        assert post.created_at == datetime.fromisoformat(act["postedTime"].replace("Z", "+00:00"))
        assert post.lang == act["twitter_lang"]
        actor = act["actor"]
        a = post.author
        assert a is not None and a.native_id == actor["id"].rsplit(":", 1)[1]
        assert (a.handle, a.display_name, a.bio) == (
            actor["preferredUsername"],
            actor["displayName"],
            actor["summary"],
        )
        assert (a.followers, a.following, a.posts_count, a.verified) == (
            actor["followersCount"],
            actor["friendsCount"],
            actor["statusesCount"],
            actor["verified"],
        )
    tagged = next(a for a in activities() if a["id"].endswith(":872836479608733696"))
    assert [h.display for h in posts_of(tagged)[0].hashtags] == ["QuoteTweet", "hashtags"]


def test_same_posts_as_original_format() -> None:
    """The tweet_parser examples hold the same 25 posts in both formats: both normalisers must
    agree on every field the two formats share."""
    from_gnip = merged(activities())
    from_v1 = merged(json_lines(f"{EXAMPLES}/original_format_examples.json"), x_v1.normalize)
    assert set(from_gnip) == set(from_v1)
    fields = (
        "text",
        "kind",
        "reply_to_uid",
        "repost_of_uid",
        "hashtags",
        "mentions",
        "urls",
        "media",
        "lang",
    )
    for uid, p in from_gnip.items():
        q = from_v1[uid]
        for f in fields:
            assert getattr(p, f) == getattr(q, f), (uid, f)
        assert p.created_at == q.created_at
        assert p.author_uid == q.author_uid
        # v1.1 knows that a quote nested in another quote quotes; Activity Streams does not
        if not p.context:
            assert p.quote_of_uid == q.quote_of_uid


def test_broken_payloads() -> None:
    base = f"{EXAMPLES}/broken_and_unsupported_payloads"
    missing = json.loads(corpus(f"{base}/activity_streams_missing_field.json").read_text())
    assert "summary" not in missing["actor"]
    (post,) = posts_of(missing)
    assert post.author is not None and post.author.bio is None
    assert post.native_id == tag_id(missing["id"])
    # despite its name this file is in original (v1.1) format: not an activity
    other = json.loads(corpus(f"{base}/activity_streams_additional_field.json").read_text())
    assert not gnip.sniff(other) and norm.sniff(other) == "x-v1"
    no_actor = {k: v for k, v in missing.items() if k != "actor"}
    with pytest.raises(BadRecord, match="actor"):
        list(gnip.normalize(no_actor, CTX))
    bad_id = {**missing, "id": "tag:search.twitter.com,2005:"}
    with pytest.raises(BadRecord, match="id"):
        list(gnip.normalize(bad_id, CTX))
    with pytest.raises(BadRecord):
        list(gnip.normalize([missing], CTX))


def test_delete_activity_is_a_tombstone() -> None:
    # No delete activity is in the corpora: built from the documented Activity Streams compliance
    # shape around a real activity.
    act = activities()[0]
    delete = {
        "id": act["id"],
        "objectType": "activity",
        "verb": "delete",
        "actor": {"id": act["actor"]["id"], "objectType": "person"},
        "object": {"id": act["id"], "objectType": "activity"},
        "postedTime": "2017-07-19T00:00:00.000Z",
    }
    assert gnip.sniff(delete)
    (item,) = gnip.normalize(delete, CTX)
    assert isinstance(item, Tombstone)
    assert item.uid == f"x:{tag_id(act['id'])}"
    assert item.deleted_at == datetime(2017, 7, 19, tzinfo=UTC)


JUNK = junk("tag:search.twitter.com,2005:", "id:twitter.com:", "share", "post", "delete", "2017-13-45T")


@cache
def pool() -> list[Any]:
    return json_lines(f"{EXAMPLES}/activity_streams_examples.json")


@pytest.mark.usefixtures("needs_shared")
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.deferred(lambda: mutated(pool(), JUNK)))
def test_mutated_payloads_raise_only_badrecord(obj: Any) -> None:
    try:
        items = list(gnip.normalize(obj, CTX))
    except BadRecord:
        return
    assert len({(type(i).__name__, i.uid) for i in items}) == len(items)
    for i in items:
        assert i.platform == "x" and i.native_id.isdigit()
        if isinstance(i, Post):
            assert i.kind in KINDS
            assert isinstance(i.text, str)
            assert i.created_at is None or i.created_at.tzinfo is not None
            assert (i.kind == "repost") == (i.repost_of_uid is not None)
