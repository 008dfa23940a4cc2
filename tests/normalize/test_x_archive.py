"""X account archive normaliser on a real 2026 archive (milahu104: data/tweets.js + manifest.js).
Expected values are computed here from the raw JSON or read from PROVENANCE.md."""

from __future__ import annotations

import copy
import html
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon import normalize as norm
from salon.model import KINDS, Author, Post
from salon.normalize import BadRecord, Context, x_archive, x_v1
from tests.conftest import corpus_path
from tests.normalize.mutation import junk, mutated

OBSERVED = datetime(2026, 3, 7, tzinfo=UTC)
CTX = Context(observed_at=OBSERVED)
ARCHIVE = "twitter-archive-milahu104"


def corpus(path: str) -> Path:
    """A file of the shared real-payload corpora (skips without ../shared: tests/conftest.py)."""
    return corpus_path(path)


def js_assignment(path: str) -> Any:
    """The JSON value assigned in an archive ``.js`` file (``window.X = <json>``)."""
    text = corpus(path).read_text("utf-8")
    return json.loads(text[text.index("=") + 1 :])


@cache
def elements() -> tuple[dict[str, Any], ...]:
    return tuple(js_assignment(f"{ARCHIVE}/data/tweets.js"))


def manifest() -> dict[str, Any]:
    return js_assignment(f"{ARCHIVE}/data/manifest.js")  # type: ignore[no-any-return]


def provenance_row(name: str) -> dict[str, str]:
    header: list[str] = []
    for line in corpus(f"{ARCHIVE}/PROVENANCE.md").read_text("utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if cells[0] == "file":
            header = cells
        elif header and cells[0].endswith(name):
            return dict(zip(header, cells, strict=False))
    raise KeyError(name)


def prov_int(cell: str) -> int:
    head = cell.split()[0]
    return 0 if head == "-" else int(head)


@cache
def all_posts() -> tuple[Post, ...]:
    out: list[Post] = []
    for e in elements():
        out.extend(p for p in x_archive.normalize(e, CTX) if isinstance(p, Post))
    return tuple(out)


def post_of(element: dict[str, Any], ctx: Context = CTX) -> Post:
    (post,) = x_archive.normalize(element, ctx)
    assert isinstance(post, Post)
    return post


@dataclass(frozen=True, slots=True)
class ArchiveContext(Context):
    """A context that knows the archive owner (what a reader can take from manifest.js)."""

    account: Author | None = None


def test_sniff() -> None:
    for e in elements():
        assert x_archive.sniff(e)
        assert norm.sniff(e) == "x-archive"
        assert not x_v1.sniff(e) and not x_v1.sniff(e["tweet"])
    tweet = elements()[0]["tweet"]
    assert not x_archive.sniff({"tweet": tweet, "extra": 1})
    assert not x_archive.sniff({"tweet": "123"})
    assert not x_archive.sniff([elements()[0]])
    assert not x_archive.sniff(tweet)


def test_counts_match_raw_json_and_provenance() -> None:
    raw = [e["tweet"] for e in elements()]
    posts = all_posts()
    row = provenance_row("tweets.js")
    top, unique = (int(x) for x in row["posts"].split("/"))
    assert len(posts) == len(raw) == top == unique
    assert {p.native_id for p in posts} == {t["id_str"] for t in raw}
    assert len({p.uid for p in posts}) == len(posts)
    assert not any(p.context for p in posts)
    raw_tagged = [t for t in raw if t["entities"]["hashtags"]]
    assert sum(bool(p.hashtags) for p in posts) == len(raw_tagged) == prov_int(row["#tags (occurrences)"])
    occurrences = int(row["#tags (occurrences)"].split("(")[1][:-1])
    assert (
        sum(len(p.hashtags) for p in posts) == sum(len(t["entities"]["hashtags"]) for t in raw) == occurrences
    )
    raw_mentioning = [t for t in raw if t["entities"]["user_mentions"]]
    assert sum(bool(p.mentions) for p in posts) == len(raw_mentioning) == prov_int(row["mentions"])
    raw_replies = {t["id_str"] for t in raw if t.get("in_reply_to_status_id_str")}
    assert {p.native_id for p in posts if p.reply_to_uid} == raw_replies
    assert len(raw_replies) == prov_int(row["replies"])
    raw_rts = {t["id_str"] for t in raw if t["full_text"].startswith("RT @")}
    assert {p.native_id for p in posts if p.kind == "repost"} == raw_rts
    assert len(raw_rts) == prov_int(row["RT"])
    assert {p.native_id for p in posts if p.kind == "reply"} == raw_replies - raw_rts
    assert all(p.kind in KINDS for p in posts)


def test_retweets_are_reposts_of_unknown_originals() -> None:
    by_id = {p.native_id: p for p in all_posts()}
    rts = [e["tweet"] for e in elements() if e["tweet"]["full_text"].startswith("RT @")]
    assert rts
    for t in rts:
        p = by_id[t["id_str"]]
        assert p.kind == "repost"
        assert p.repost_of_uid is None and p.quote_of_uid is None
        assert p.text == html.unescape(t["full_text"])
        assert p.mentions[0] == t["full_text"][4:].split(":", 1)[0]


def test_full_text_is_complete() -> None:
    longest = max((e["tweet"] for e in elements()), key=lambda t: len(t["full_text"]))
    assert len(longest["full_text"]) > 280  # a long post of a premium account
    p = post_of({"tweet": longest})
    assert p.text == html.unescape(longest["full_text"])
    assert p.text.endswith("these people are lost")
    long_posts = [e for e in elements() if len(e["tweet"]["full_text"]) > 140]
    assert len(long_posts) > 100
    for e in long_posts:
        assert post_of(e).text == html.unescape(e["tweet"]["full_text"])


def test_html_entities_are_decoded() -> None:
    e = next(e for e in elements() if "&gt;" in e["tweet"]["full_text"])
    p = post_of(e)
    assert "&gt;" not in p.text and ">" in p.text
    assert p.text == html.unescape(e["tweet"]["full_text"])


def test_numbers_written_as_strings() -> None:
    for e in elements():
        t = e["tweet"]
        p = post_of(e)
        assert isinstance(t["favorite_count"], str)
        assert p.engagement is not None
        assert p.engagement.likes == int(t["favorite_count"])
        assert p.engagement.reposts == int(t["retweet_count"])
        assert p.engagement.observed_at == OBSERVED
        assert p.created_at == datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y")
        assert p.lang == t["lang"]
        assert p.sensitive == t.get("possibly_sensitive")
    liked = max(elements(), key=lambda e: int(e["tweet"]["favorite_count"]))
    assert int(liked["tweet"]["favorite_count"]) > 0


def test_hashtags_mentions_urls_media() -> None:
    mapping = {"photo": "photo", "video": "video", "animated_gif": "gif"}
    expected: Counter[str] = Counter()
    got: Counter[str] = Counter()
    for e in elements():
        t, p = e["tweet"], post_of(e)
        assert [h.display for h in p.hashtags] == [h["text"] for h in t["entities"]["hashtags"]]
        assert all(h.source == "entities" for h in p.hashtags)
        assert p.mentions == [m["screen_name"] for m in t["entities"]["user_mentions"]]
        assert p.urls == [u["expanded_url"] for u in t["entities"]["urls"]]
        media = (t.get("extended_entities") or t["entities"]).get("media", [])
        expected.update(mapping[m["type"]] for m in media)
        got.update(m.type for m in p.media)
    assert got == expected
    assert got == Counter({"photo": 19, "video": 3, "gif": 1})
    # mixed-case hashtags keep their written form
    assert any(h.display != h.display.lower() for p in all_posts() for h in p.hashtags)


def test_author_unknown_without_context_and_owner_with_it() -> None:
    assert all(p.author is None and p.author_uid is None for p in all_posts())
    info = manifest()["userInfo"]
    owner = Author("x", info["accountId"], handle=info["userName"], display_name=info["displayName"])
    ctx = ArchiveContext(observed_at=OBSERVED, account=owner)
    e = elements()[0]
    p = post_of(e, ctx)
    assert p.author == owner and p.author_uid == f"x:{info['accountId']}"
    assert p.url == f"https://x.com/{info['userName']}/status/{e['tweet']['id_str']}"
    # self-replies in the archive name the owner: it is the same account as the manifest's
    self_replies = [
        x["tweet"] for x in elements() if x["tweet"].get("in_reply_to_screen_name") == info["userName"]
    ]
    assert self_replies and {t["in_reply_to_user_id_str"] for t in self_replies} == {info["accountId"]}


def test_edits() -> None:
    e = elements()[0]
    assert len(e["tweet"]["edit_info"]["initial"]["editTweetIds"]) == 1
    assert post_of(e).edited_at is None
    # No edited post is in this archive: a later version is added to a real one's edit history.
    edited = copy.deepcopy(e)
    edited["tweet"]["edit_info"]["initial"]["editTweetIds"].append("2029905358261509999")
    p = post_of(edited)
    assert p.edited_at == p.created_at is not None
    later = copy.deepcopy(e)
    initial = later["tweet"]["edit_info"].pop("initial")
    initial["editTweetIds"] = ["2029905358261500000", e["tweet"]["id_str"]]
    later["tweet"]["edit_info"]["edit"] = {
        "initialTweetId": "2029905358261500000",
        "editControlInitial": initial,
    }
    assert post_of(later).edited_at == p.created_at


def test_bad_elements() -> None:
    tweet = elements()[0]["tweet"]
    no_id = {"tweet": {k: v for k, v in tweet.items() if k not in ("id", "id_str")}}
    with pytest.raises(BadRecord, match="id"):
        list(x_archive.normalize(no_id, CTX))
    no_text = {"tweet": {k: v for k, v in tweet.items() if k != "full_text"}}
    with pytest.raises(BadRecord, match="text"):
        list(x_archive.normalize(no_text, CTX))
    with pytest.raises(BadRecord):
        list(x_archive.normalize({"tweet": [tweet]}, CTX))
    with pytest.raises(BadRecord):
        list(norm.normalize([elements()[0]], CTX, fmt="x-archive"))


JUNK = junk("Fri Mar 06 13:02:05 +0000 20260", "RT @", "RT @x: y", "&amp;&gt;", "12", "-3", "1e9")


# The tweets inside the elements: mutating the single-key wrapper itself is test_bad_elements' job.
@cache
def pool() -> tuple[Any, ...]:
    return tuple(e["tweet"] for e in elements()[:400])


@pytest.mark.usefixtures("needs_shared")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.deferred(lambda: mutated(pool(), JUNK)))
def test_mutated_payloads_raise_only_badrecord(tweet: Any) -> None:
    try:
        items = list(x_archive.normalize({"tweet": tweet}, CTX))
    except BadRecord:
        return
    assert len(items) == 1
    (p,) = items
    assert isinstance(p, Post)
    assert p.platform == "x" and p.native_id.isdigit()
    assert p.kind in KINDS and isinstance(p.text, str)
    assert p.created_at is None or p.created_at.tzinfo is not None
    assert (p.kind == "repost") == p.text.startswith("RT @")
