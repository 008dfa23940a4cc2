"""Thread linking on real reply chains (../shared/corpora): Mastodon ``in_reply_to_id``, X
``conversation_id`` and Bluesky ``reply.root``/``reply.parent``. A real post is made question 1
of a chat (as if Salon had posted it); every post whose raw reply chain leads to it, worked out
here from the raw files, must be in question 1's thread, and no other post. The chat's hashtag
is one no real post carries, so every thread post is *untagged* (listed apart, never an answer).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

from salon.campaigns.chat_answers import ChatPost, assign, load_chat_posts
from salon.campaigns.chats import Chat
from salon.importer import import_paths
from salon.store.archive import Archive, open_archive
from tests.conftest import corpus_path


def corpus(rel: str) -> Path:
    """A corpus file (the test skips cleanly without ../shared)."""
    return corpus_path(*rel.split("/"))


def thread_of(arc: Archive, root_uid: str, expected: set[str]) -> tuple[dict[str, int], dict[str, ChatPost]]:
    """Assign with ``root_uid`` as question 1's post; the untagged posts and every loaded post."""
    created, handle, platform, author = arc.query(
        "SELECT p.created_at, a.handle, p.platform, p.author_uid FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid"
        " WHERE p.uid = ?",
        [root_uid],
    )[0]
    last = max(
        r[0]
        for r in arc.query(
            f"SELECT created_at FROM posts WHERE uid IN ({', '.join('?' for _ in expected)})", list(expected)
        )
    )
    minutes = int((last - created).total_seconds() // 60) + 2
    chat = Chat(
        slug="real",
        hashtags=["zzsalonchattest"],
        start=created - timedelta(seconds=1),
        minutes=minutes,
        hosts=[f"{platform}:{handle or author.split(':', 1)[1]}"],
        questions=["q"],
        grace_hours=0,
    )
    posts = load_chat_posts(arc, chat, [root_uid])
    a = assign(chat, posts, {1: [root_uid]})
    assert a.questions[0].uid == root_uid
    return a.untagged, a.posts


def test_x_conversation_id(tmp_path: Path) -> None:
    path = corpus("docnow-twarc-csv/test-data/withheld.jsonl")
    tweets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        tweets += page.get("data", []) + (page.get("includes") or {}).get("tweets", [])
    ids = {t["id"] for t in tweets}
    convs = Counter(
        t["conversation_id"] for t in tweets if t.get("conversation_id") and t["conversation_id"] != t["id"]
    )
    root = next(c for c, _ in convs.most_common() if c in ids)
    expected = {
        f"x:{t['id']}"
        for t in tweets
        if t.get("conversation_id") == root
        and t["id"] != root
        and not any(r["type"] == "retweeted" for r in t.get("referenced_tweets", []))
    }
    assert len(expected) >= 3
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        untagged, _ = thread_of(arc, f"x:{root}", expected)
    assert set(untagged) == expected
    assert set(untagged.values()) == {1}


def test_mastodon_in_reply_to_id(tmp_path: Path) -> None:
    path = corpus("mastodon-py/extracted/statuses_test_instance_localhost.jsonl")
    statuses = {s["id"]: s for s in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    parents = Counter(s["in_reply_to_id"] for s in statuses.values() if s.get("in_reply_to_id") in statuses)
    results = []
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        for root_id, _ in parents.most_common(3):

            def leads_to_root(s: dict, root_id: str = root_id) -> bool:
                seen = 0
                while s.get("in_reply_to_id") in statuses and seen < 50:
                    if s["in_reply_to_id"] == root_id:
                        return True
                    s, seen = statuses[s["in_reply_to_id"]], seen + 1
                return False

            expected = {f"mastodon:{s['uri']}" for s in statuses.values() if leads_to_root(s)}
            untagged, _ = thread_of(arc, f"mastodon:{statuses[root_id]['uri']}", expected)
            results.append((set(untagged), expected))
    assert results and all(got == want for got, want in results)


def test_bluesky_reply_root_and_parent(tmp_path: Path) -> None:
    path = corpus("bluesky-jetstream/internal/corpus/testdata/expected_v1.jsonl")
    posts: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        c = e.get("commit") or {}
        if c.get("collection") == "app.bsky.feed.post" and c.get("operation") == "create":
            posts[f"at://{e['did']}/app.bsky.feed.post/{c['rkey']}"] = c["record"]
    roots = Counter(
        r["reply"]["root"]["uri"]
        for r in posts.values()
        if r.get("reply") and r["reply"]["root"]["uri"] in posts
    )
    assert roots, "a stored thread root"
    root = roots.most_common(1)[0][0]
    expected = {
        f"bluesky:{u}" for u, r in posts.items() if r.get("reply") and r["reply"]["root"]["uri"] == root
    }
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        untagged, _ = thread_of(arc, f"bluesky:{root}", expected)
    assert set(untagged) == expected
