"""The incremental campaign index against the definitions: random interleavings of imports,
deletions (before and after their posts, by alias), edits that add or drop hashtags, reposts of
posts stored later or deleted, engagement observations (newer and older), and authors renamed
into and out of the registry; after every batch the tally through the index (refreshed by
delta) must equal the tally computed from the archive tables."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.config import parse_campaign
from salon.campaigns.index import refresh
from salon.campaigns.stored import get_campaign, save_campaign
from salon.campaigns.tally import tally
from salon.model import Author, Engagement, Hashtag, Post, Tombstone
from salon.store.archive import Archive, open_archive
from tests.campaigns.test_tally_synthetic import MW, REG, both, write

TAGS = ["MuseumWeek", "MuséeDuLouvre", "SecretsMW", "FamilyMW", "Cats", "museumweek"]
HANDLES = ["MuseeLouvre", "tate", "TATE", "fan", "silent_museum", "squat", None]
KINDS = ["original", "original", "reply", "quote", "repost", "repost"]
IN = datetime(2015, 3, 25, 12, tzinfo=UTC)


def _when(rng: random.Random) -> datetime:
    if rng.random() < 0.85:  # inside the window (2015-03-23 .. 03-30 Paris), else around it
        return datetime(2015, 3, 22, 23, tzinfo=UTC) + timedelta(minutes=rng.randrange(7 * 24 * 60))
    return datetime(2015, 3, 22, 23, tzinfo=UTC) + timedelta(days=rng.choice([-3, -1, 7, 9]))


class World:
    """Random items over a small pool of post ids and authors, so that they collide."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.clock = datetime(2015, 4, 1, tzinfo=UTC)
        self.edits: dict[str, datetime] = {}

    def author(self) -> Author:
        rng = self.rng
        if rng.random() < 0.1:
            return Author("bluesky", rng.choice(["did:plc:moma", "did:plc:other"]))
        k = rng.randrange(8)
        return Author("x", f"a{k}", handle=rng.choice(HANDLES))

    def post(self) -> Post:
        rng = self.rng
        nid = f"p{rng.randrange(40)}"
        kind = rng.choice(KINDS)
        tags = rng.sample(TAGS, rng.choice([0, 1, 1, 2]))
        a = self.author()
        edited = None
        if rng.random() < 0.25:  # a newer (or older) version of the post
            prev = self.edits.get(nid, IN)
            edited = prev + timedelta(minutes=rng.choice([-5, 5, 10]))
            self.edits[nid] = max(prev, edited)
        eng = None
        if rng.random() < 0.6:
            self.clock += timedelta(minutes=rng.choice([-30, 1, 5]))
            eng = Engagement(*(rng.choice([None, 0, 1, 3, 7]) for _ in range(4)), observed_at=self.clock)
        platform = a.platform
        return Post(
            platform=platform,
            native_id=nid if platform == "x" else f"at://{a.native_id}/post/{nid}",
            created_at=_when(rng),
            text=" ".join("#" + t for t in tags),
            kind=kind,  # type: ignore[arg-type]
            author=a,
            repost_of_uid=(f"x:p{rng.randrange(45)}" if kind == "repost" and rng.random() < 0.9 else None),
            hashtags=[Hashtag(t) for t in tags],
            engagement=eng,
            edited_at=edited,
            context=rng.random() < 0.2,
        )

    def batch(self) -> list[Any]:
        rng = self.rng
        items: list[Any] = []
        for _ in range(rng.randrange(1, 7)):
            r = rng.random()
            if r < 0.65:
                items.append(self.post())
            elif r < 0.85:
                items.append(Tombstone("x", f"p{rng.randrange(45)}", IN + timedelta(days=1)))
            else:
                items.append(self.author())  # a profile seen alone (renames)
        return items


@pytest.fixture
def arc(tmp_path: Path) -> Any:
    with open_archive(tmp_path / "a.duckdb") as a:
        save_campaign(a, parse_campaign(MW.format(extra=""), participants_csv=REG))
        yield a


@pytest.mark.parametrize("seed", range(12))
def test_random_writes_index_equals_definitions(arc: Archive, seed: int) -> None:
    w = World(seed)
    # The two tallies are the cost of this test: they are compared after one, two or three
    # batches (drawn apart from the world's own draws), so a refresh folds in the delta of a
    # single batch or of several, as a live server's does between two requests.
    checks = random.Random(1000 + seed)
    both(arc, "mw-2015")  # the index exists before the first write: every later one is a delta
    due = 0
    for step in range(30):
        write(arc, w.batch(), observed=w.clock + timedelta(minutes=step))
        if step >= due or step % 10 == 9:
            both(arc, "mw-2015")
            due = step + checks.choice([1, 2, 3])
        if step % 10 == 9:  # now and then a rebuild must agree with the deltas
            c = get_campaign(arc, "mw-2015")
            assert c is not None
            before = tally(arc, c)
            refresh(arc, c, force=True)
            after = tally(arc, c)
            drop = ("computed_at",)
            assert {k: v for k, v in before.items() if k not in drop} == {
                k: v for k, v in after.items() if k not in drop
            }


def test_alias_tombstone_and_later_repost_target(arc: Archive) -> None:
    both(arc, "mw-2015")
    toot = Post(
        "mastodon",
        "https://a.example/users/m/statuses/1",
        IN,
        "#MuseumWeek",
        author=Author("mastodon", "https://a.example/users/m", handle="m@a.example"),
        hashtags=[Hashtag("MuseumWeek")],
        aliases=["mastodon:b.example/statuses/9"],
    )
    write(arc, [toot])
    assert both(arc, "mw-2015")["posts"] == 1
    # Deleted under the key another instance uses for it.
    write(arc, [Tombstone("mastodon", "b.example/statuses/9", IN + timedelta(days=1))])
    assert both(arc, "mw-2015")["posts"] == 0
    # A boost of a post not stored yet, judged on its own hashtags; then the post arrives
    # without an official hashtag: the boost leaves; then the post is deleted.
    boost = Post(
        "x",
        "b1",
        IN,
        "RT #MuseumWeek",
        kind="repost",
        author=Author("x", "r"),
        repost_of_uid="x:later",
        hashtags=[Hashtag("MuseumWeek")],
    )
    write(arc, [boost])
    assert both(arc, "mw-2015")["reposts"] == 1
    write(arc, [Post("x", "later", IN - timedelta(days=30), "no tag", author=Author("x", "o"))])
    assert both(arc, "mw-2015")["reposts"] == 0
    # An edit adds the hashtag: the boost counts again (judged on the stored post).
    write(
        arc,
        [
            Post(
                "x",
                "later",
                IN - timedelta(days=30),
                "#MuseumWeek",
                author=Author("x", "o"),
                hashtags=[Hashtag("MuseumWeek")],
                edited_at=IN,
            )
        ],
    )
    t = both(arc, "mw-2015")
    assert (t["posts"], t["reposts"]) == (0, 1)
    write(arc, [Tombstone("x", "later", IN + timedelta(days=2))])
    assert both(arc, "mw-2015")["reposts"] == 0


def test_rename_into_and_out_of_the_registry(arc: Archive) -> None:
    both(arc, "mw-2015")
    write(
        arc,
        [
            Post(
                "x",
                "r1",
                IN,
                "#MuseumWeek",
                author=Author("x", "u1", handle="fan"),
                hashtags=[Hashtag("MuseumWeek")],
            )
        ],
    )
    assert both(arc, "mw-2015")["institutions"] == 0
    # Renamed to a registry handle, seen only in a profile: matched (and the id learned at the
    # next refresh, since it is a participant).
    write(arc, [Author("x", "u1", handle="Tate")])
    t = both(arc, "mw-2015")
    assert t["institutions"] == 1 and t["top_institutions"][0]["name"] == "Tate"
    # Another account takes the handle: the id, learned, wins.
    write(
        arc,
        [
            Post(
                "x",
                "r2",
                IN,
                "#MuseumWeek",
                author=Author("x", "u2", handle="tate"),
                hashtags=[Hashtag("MuseumWeek")],
            )
        ],
    )
    t = both(arc, "mw-2015")
    assert t["top_institutions"][0]["posts"] == 1 and t["participants"] == 2
    # Two new authors with one registry handle in one batch: one learns it, the other does not
    # match (as the definitions say once the id is known).
    write(
        arc,
        [
            Post(
                "x",
                "r3",
                IN,
                "#MuseumWeek",
                author=Author("x", "u3", handle="silent_museum"),
                hashtags=[Hashtag("MuseumWeek")],
            ),
            Post(
                "x",
                "r4",
                IN,
                "#MuseumWeek",
                author=Author("x", "u4", handle="SILENT_MUSEUM"),
                hashtags=[Hashtag("MuseumWeek")],
            ),
        ],
    )
    t = both(arc, "mw-2015")
    assert t["institutions"] == 2


def test_refresh_all_after_a_batch(arc: Archive) -> None:
    from salon.campaigns.index import is_fresh, refresh_all

    assert refresh_all(arc) == {"mw-2015": "rebuilt"}
    write(
        arc, [Post("x", "z1", IN, "#MuseumWeek", author=Author("x", "z"), hashtags=[Hashtag("MuseumWeek")])]
    )
    c = get_campaign(arc, "mw-2015")
    assert c is not None and not is_fresh(arc, c)
    assert refresh_all(arc) == {"mw-2015": "updated"}
    assert is_fresh(arc, c) and refresh_all(arc) == {"mw-2015": "fresh"}
    assert both(arc, "mw-2015")["posts"] == 1


def test_read_only_uses_the_index_only_when_fresh(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    with open_archive(path) as a:
        save_campaign(a, parse_campaign(MW.format(extra=""), participants_csv=REG))
        p = Post("x", "q1", IN, "#MuseumWeek", author=Author("x", "q"), hashtags=[Hashtag("MuseumWeek")])
        write(a, [p])
        assert both(a, "mw-2015")["posts"] == 1  # refreshed
    with open_archive(path, read_only=True) as ro:
        t = tally(ro, "mw-2015")
        assert (t["source"], t["posts"]) == ("index", 1)
    with open_archive(path) as a:  # a write the index has not seen
        write(a, [Tombstone("x", "q1", IN + timedelta(days=1))])
    with open_archive(path, read_only=True) as ro:
        t = tally(ro, "mw-2015")
        assert (t["source"], t["posts"]) == ("scan", 0)
