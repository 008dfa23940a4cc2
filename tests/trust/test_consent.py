"""Consent and deletions on the real payloads of each platform (../shared/corpora): opted-out
authors are counted but never publicly visible (unless an editor overrides it with a logged
reason); account takedowns at the source and takedown requests remove posts, tombstones stay."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.trust import consent, log, takedown
from salon.campaigns.trust.visibility import publicly_visible
from salon.importer import import_paths
from salon.store.archive import open_archive
from tests.conftest import corpus_path


def _mastodon() -> Path:
    return corpus_path("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl")


def _thread_view() -> Path:
    return corpus_path(
        "atproto-python",
        "tests",
        "test_atproto_client",
        "models",
        "test_data",
        "thread_view_post_with_embed_media.json",
    )


def _jetstream() -> Path:
    return corpus_path("bluesky-jetstream", "internal", "corpus", "testdata", "expected_v1.jsonl")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def _uids(arc: Any) -> set[str]:
    return {r[0] for r in arc.query("SELECT uid FROM posts WHERE NOT is_context")}


def test_mastodon_indexable_noindex_discoverable_and_bio_tags(tmp_path: Path) -> None:
    statuses = _lines(_mastodon())
    # One status per (account, indexable) as served: the real opt-out field values.
    closed = next(s for s in statuses if s["account"]["indexable"] is False and not s.get("reblog"))
    open_ = next(s for s in statuses if s["account"]["indexable"] is True and not s.get("reblog"))
    noindex = copy.deepcopy(open_)  # the real field, set as an opted-out account has it
    discoverable = copy.deepcopy(open_)
    nobot = copy.deepcopy(open_)
    for k, (s, field, value) in enumerate(
        [
            (noindex, "noindex", True),
            (discoverable, "discoverable", False),
            (nobot, "note", "<p>Hi #NoSearch</p>"),
        ]
    ):
        s["id"] = s["id"] + str(k)
        s["uri"] = s["uri"] + f"-{k}"
        s["url"] = s["url"] + f"-{k}"
        s["account"] = {**s["account"], "id": f"9{k}", "acct": f"user{k}", "username": f"user{k}"}
        s["account"]["url"] = s["account"]["url"].rsplit("@", 1)[0] + f"@user{k}"
        s["account"]["uri"] = s["account"]["url"]
        s["account"][field] = value
    path = _write(tmp_path / "m.jsonl", [closed, open_, noindex, discoverable, nobot])
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        by_text = {
            r[0]: r[1] for r in arc.query("SELECT p.uid, p.author_uid FROM posts p WHERE NOT p.is_context")
        }
        assert len(by_text) == 5
        visible = publicly_visible(arc, by_text)
        authors_out = {a for u, a in by_text.items() if u not in visible}
        assert authors_out == {
            a for u, a in by_text.items() if consent.opted_out(arc, a)
        }  # visibility and consent agree
        assert len(authors_out) == 4  # indexable false, noindex true, discoverable false, #NoSearch
        assert len(visible) == 1  # only the indexable author's post
        # An editor's override, with a reason, publishes the author again; logged.
        author = next(a for u, a in by_text.items() if u not in visible)
        with pytest.raises(ValueError, match="reason"):
            consent.override(arc, author, "show", reason=" ", by="ed")
        consent.override(arc, author, "show", reason="written consent on file", by="ed")
        assert len(publicly_visible(arc, by_text)) == 2
        assert log.history(arc, target=author)[0]["reason"] == "written consent on file"


def test_bluesky_no_unauthenticated_self_label(tmp_path: Path) -> None:
    raw = json.loads(_thread_view().read_text(encoding="utf-8"))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(raw), encoding="utf-8")
    author = raw["thread"]["post"]["author"]
    assert author["labels"] == []  # the real field; an opted-out profile carries the self-label
    label = {
        "src": author["did"],
        "uri": f"at://{author['did']}/app.bsky.actor.profile/self",
        "val": "!no-unauthenticated",
        "cts": raw["thread"]["post"]["indexedAt"],
    }

    def put(o: Any) -> None:  # on every view of this profile in the payload (it quotes itself)
        if isinstance(o, dict):
            if o.get("did") == author["did"] and "labels" in o:
                o["labels"] = [label]
            for v in o.values():
                put(v)
        elif isinstance(o, list):
            for v in o:
                put(v)

    put(raw)
    labelled = tmp_path / "labelled.json"
    labelled.write_text(json.dumps(raw), encoding="utf-8")
    post_uid = "bluesky:" + raw["thread"]["post"]["uri"]
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(plain)], arc)
        assert post_uid in publicly_visible(arc, [post_uid])
        import_paths([str(labelled)], arc)  # a newer snapshot of the author, now opted out
        assert consent.opted_out(arc, "bluesky:" + author["did"])
        assert publicly_visible(arc, [post_uid]) == set()
        assert arc.scalar("SELECT deleted_at FROM posts WHERE uid = ?", [post_uid]) is None  # kept, counted


def test_jetstream_account_takedown_and_deactivation(tmp_path: Path) -> None:
    events = _lines(_jetstream())
    posts = [e for e in events if e["kind"] == "commit" and e["commit"]["collection"] == "app.bsky.feed.post"]
    real_account = next(e for e in events if e["kind"] == "account")
    a, b = posts[0]["did"], next(e["did"] for e in posts if e["did"] != posts[0]["did"])
    # The account event as Jetstream sends it for an account taken down / deactivated (the
    # subscribeRepos#account fields active + status), after the posts.
    last = max(e["time_us"] for e in events)

    def account(did: str, active: bool, status: str | None, dt: int) -> dict[str, Any]:
        ev = copy.deepcopy(real_account)
        ev["did"] = ev["account"]["did"] = did
        ev["account"]["active"] = active
        if status:
            ev["account"]["status"] = status
        ev["time_us"] = last + dt
        return ev

    path = _write(
        tmp_path / "js.jsonl",
        [*events, account(a, False, "takendown", 1), account(b, False, "deactivated", 2)],
    )
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        assert takedown.scan_account_events(arc) >= 2
        a_posts = {r[0] for r in arc.query("SELECT uid FROM posts WHERE author_uid = ?", [f"bluesky:{a}"])}
        b_posts = {r[0] for r in arc.query("SELECT uid FROM posts WHERE author_uid = ?", [f"bluesky:{b}"])}
        assert a_posts and b_posts
        assert arc.scalar(
            "SELECT count(*) FROM posts WHERE uid IN (SELECT unnest(?)) AND deleted_at IS NOT NULL",
            [list(a_posts)],
        ) == len(a_posts)
        assert arc.scalar(
            "SELECT count(*) FROM tombstones WHERE uid IN (SELECT unnest(?))", [list(a_posts)]
        ) == len(a_posts)
        assert publicly_visible(arc, b_posts) == set()  # deactivated: hidden, not deleted
        assert arc.scalar(
            "SELECT count(*) FROM posts WHERE uid IN (SELECT unnest(?)) AND deleted_at IS NULL",
            [list(b_posts)],
        ) == len(b_posts)
        # The account comes back: its posts show again.
        _write(tmp_path / "js2.jsonl", [account(b, True, None, 3)])
        import_paths([str(tmp_path / "js2.jsonl")], arc)
        takedown.scan_account_events(arc)
        assert publicly_visible(arc, b_posts) == b_posts


def test_takedown_request_by_url_and_account(tmp_path: Path) -> None:
    statuses = [s for s in _lines(_mastodon()) if not s.get("reblog")][:6]
    path = _write(tmp_path / "m.jsonl", statuses)
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        target = statuses[0]["url"]
        uid = arc.scalar("SELECT uid FROM posts WHERE url = ?", [target])
        with pytest.raises(ValueError, match="reason"):
            takedown.takedown(arc, target, reason="", by="ed")
        with pytest.raises(LookupError):
            takedown.takedown(arc, "https://nowhere.example/1", reason="x", by="ed")
        t = takedown.takedown(arc, target, reason="copyright notice 42", by="ed")
        assert (t.kind, t.uid, t.posts) == ("post", uid, 1)
        assert arc.scalar("SELECT deleted_at IS NOT NULL FROM posts WHERE uid = ?", [uid])
        assert arc.scalar("SELECT count(*) FROM tombstones WHERE uid = ?", [uid]) == 1
        assert publicly_visible(arc, [uid]) == set()
        assert arc.dicts("SELECT kind, reason, by_user, posts FROM takedowns") == [
            {"kind": "post", "reason": "copyright notice 42", "by_user": "ed", "posts": 1}
        ]
        author = arc.scalar("SELECT author_uid FROM posts WHERE uid = ?", [uid])
        alive = arc.scalar("SELECT count(*) FROM posts WHERE author_uid = ? AND deleted_at IS NULL", [author])
        t2 = takedown.takedown(arc, author, reason="account request", by="ed")
        assert (t2.kind, t2.posts) == ("account", alive)
        assert (
            arc.scalar("SELECT count(*) FROM posts WHERE author_uid = ? AND deleted_at IS NULL", [author])
            == 0
        )
        assert [r["action"] for r in log.history(arc)] == ["takedown", "takedown"]


def test_subscribe_events_account_frame(tmp_path: Path) -> None:
    """A subscribeEvents ``#account`` frame, built from the lexicon in the corpus (no captured
    frame exists there): an account taken down has its posts tombstoned."""
    lexicon = json.loads(
        corpus_path("bluesky-jetstream", "lexicons", "subscribeEvents.json").read_text(encoding="utf-8")
    )
    assert lexicon["defs"]["account"]["required"] == ["seq", "did", "time", "account"]
    events = _lines(_jetstream())
    post = next(
        e for e in events if e["kind"] == "commit" and e["commit"]["collection"] == "app.bsky.feed.post"
    )
    did = post["did"]
    frame = {
        "$type": "message",
        "payload": {
            "$type": "network.bsky.jetstream.subscribeEvents#account",
            "seq": 1,
            "did": did,
            "time": "2030-01-01T00:00:00.000000Z",
            "account": {
                "seq": 9,
                "did": did,
                "time": "2030-01-01T00:00:00.000Z",
                "active": False,
                "status": "takendown",
            },
        },
    }
    path = _write(tmp_path / "js.jsonl", [post])
    frames = _write(tmp_path / "frames.jsonl", [frame])
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(path)], arc)
        import_paths([str(frames)], arc)
        assert arc.scalar("SELECT format FROM raw WHERE format = 'jetstream-events'") == "jetstream-events"
        assert takedown.scan_account_events(arc) == 1
        assert (
            arc.scalar(
                "SELECT count(*) FROM posts WHERE author_uid = ? AND deleted_at IS NULL", [f"bluesky:{did}"]
            )
            == 0
        )
        assert (
            arc.scalar("SELECT status FROM account_status WHERE author_uid = ?", [f"bluesky:{did}"])
            == "takendown"
        )
