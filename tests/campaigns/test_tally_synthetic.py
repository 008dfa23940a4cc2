"""The tally on small synthetic archives with known ground truth: hashtag keys (accents, case,
NFKC), Bluesky tags[], truncated retweets, hashtags inside URLs, window bounds in the campaign
zone across a DST change, deletions, engagement snapshots, the registry (ids learned, handles
that change), and the index staying exact after every write."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.compare import compare
from salon.campaigns.config import parse_campaign
from salon.campaigns.registry import candidates, participant_activity, silent_participants
from salon.campaigns.stored import get_campaign, save_campaign
from salon.campaigns.tally import tally
from salon.hashtags import hashtags_in_text
from salon.model import Author, Engagement, Hashtag, Post, Tombstone
from salon.store.archive import Archive, open_archive
from salon.store.batch import Batch
from salon.store.writer import Writer

_n = itertools.count(1)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)  # type: ignore[misc]


def post(
    tags: list[str] | list[Hashtag],
    at: datetime,
    author: str = "a1",
    *,
    platform: str = "x",
    kind: str = "original",
    repost_of: str | None = None,
    nid: str | None = None,
    eng: Engagement | None = None,
    handle: str | None = None,
    context: bool = False,
) -> Post:
    hs = [t if isinstance(t, Hashtag) else Hashtag(t) for t in tags]
    return Post(
        platform=platform,
        native_id=nid or f"p{next(_n)}",
        created_at=at,
        text=" ".join("#" + h.display for h in hs),
        kind=kind,  # type: ignore[arg-type]
        author=Author(platform, author, handle=handle or author),
        repost_of_uid=repost_of,
        hashtags=hs,
        engagement=eng,
        context=context,
    )


def write(arc: Archive, items: list[Any], observed: datetime | None = None) -> None:
    """One batch, as the importer writes it (a raw record carries the items)."""
    b = Batch()
    rid = f"raw{next(_n)}"
    b.add_raw(rid, "test", rid.encode(), None, None, "test", None)
    b.add_items(items, rid, observed or datetime.now(UTC))
    Writer(arc).write(b)


MW = """
[campaign]
name = "MuseumWeek 2015"
slug = "mw-2015"
series = "MuseumWeek"
timezone = "Europe/Paris"
start = 2015-03-23
end = 2015-03-30
hashtags = ["MuseumWeek", "MuséeDuLouvre"]
{extra}

[[days]]
date = 2015-03-23
theme = "Secrets"
hashtags = ["SecretsMW"]

[[days]]
date = 2015-03-29
theme = "Family"
hashtags = ["FamilyMW"]
"""

REG = """name,country,city,kind,x,mastodon,bluesky
Louvre,FR,Paris,museum,MuseeLouvre,,
Tate,GB,London,museum,Tate,,
Silent Museum,IT,Rome,museum,silent_museum,,
MoMA,US,,museum,,,did:plc:moma
"""

IN = utc(2015, 3, 25, 12)


def both(arc: Archive, slug: str, **kw: Any) -> dict[str, Any]:
    """Tally through the index and through a scan of the archive; they must agree."""
    c = get_campaign(arc, slug)
    assert c is not None
    a = tally(arc, c, **kw)
    b = tally(arc, c, use_index=False, **kw)
    assert a["source"] == ("index" if kw.get("at") is None else "scan") and b["source"] == "scan"
    drop = ("source", "computed_at")
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    return a


@pytest.fixture
def arc(tmp_path: Path) -> Any:
    with open_archive(tmp_path / "a.duckdb") as a:
        save_campaign(a, parse_campaign(MW.format(extra=""), participants_csv=REG))
        yield a


def test_hashtag_keys(arc: Archive) -> None:
    write(
        arc,
        [
            post(["MuséeDuLouvre"], IN),
            post(["MuseeDuLouvre"], IN),
            post(["MUSEEDULOUVRE"], IN),
            post(["ＭｕｓｅｕｍＷｅｅｋ"], IN),  # fullwidth: NFKC
            post(["Muse\u0301eDuLouvre"], IN),  # combining accent: NFKC composes it
            post(["MuseumWeek2015"], IN),  # another hashtag
            # A post carrying both spellings counts once, for one key.
            post(["MuséeDuLouvre", "MuseeDuLouvre"], IN),
        ],
    )
    t = both(arc, "mw-2015")
    assert t["posts"] == 6
    assert t["by_hashtag"] == {"museumweek": 1, "museedulouvre": 5, "secretsmw": 0, "familymw": 0}


def test_accent_sensitive_campaign(tmp_path: Path) -> None:
    with open_archive(tmp_path / "b.duckdb") as a:
        c = parse_campaign(MW.format(extra="accent_sensitive = true"))
        save_campaign(a, c)
        write(
            a,
            [
                post(["MuséeDuLouvre"], IN),
                post(["MUSÉEDULOUVRE"], IN),
                post(["Muse\u0301eDuLouvre"], IN),
                post(["MuseeDuLouvre"], IN),
            ],
        )
        t = both(a, "mw-2015")
        assert t["by_hashtag"]["muséedulouvre"] == 3 and t["posts"] == 3


def test_bluesky_tags_and_text_parsing(arc: Archive) -> None:
    write(
        arc,
        [
            # Only in the record's tags[]: no "#" in the text at all.
            Post(
                "bluesky",
                "at://did:plc:x/app.bsky.feed.post/1",
                IN,
                "A day at the museum",
                author=Author("bluesky", "did:plc:x", handle="x.bsky.social"),
                hashtags=[Hashtag("MuseumWeek", "tags")],
            ),
            # A format without entities: hashtags parsed from text, a #fragment in a URL is none.
            post(
                [Hashtag(h, "text") for h in hashtags_in_text("see https://example.org/page#MuseumWeek")],
                IN,
            ),
            post([Hashtag(h, "text") for h in hashtags_in_text("so good #MuseumWeek https://t.co/x")], IN),
        ],
    )
    t = both(arc, "mw-2015")
    assert t["posts"] == 2
    assert t["by_platform"] == {"bluesky": {"posts": 1, "reposts": 0}, "x": {"posts": 1, "reposts": 0}}


def test_reposts(arc: Archive) -> None:
    orig = post(["MuseumWeek"], IN, "author", nid="orig", context=True)
    other = post(["Cats"], IN, "author", nid="other")
    write(
        arc,
        [
            orig,
            other,
            # Truncated retweet text lost the hashtag: judged on the stored original.
            post([], IN, "r1", kind="repost", repost_of="x:orig"),
            # Original not stored: judged on the repost's own hashtags.
            post(["MuseumWeek"], IN, "r2", kind="repost", repost_of="x:missing"),
            post([], IN, "r3", kind="repost", repost_of="x:missing2"),
            # Original stored without an official hashtag: not a campaign repost.
            post(["MuseumWeek"], IN, "r4", kind="repost", repost_of="x:other"),
            # Outside the window.
            post([], utc(2015, 4, 2), "r5", kind="repost", repost_of="x:orig"),
        ],
    )
    t = both(arc, "mw-2015")
    assert (t["posts"], t["reposts"], t["participants"]) == (1, 2, 1)
    # The original of r3 arrives later and carries the hashtag: r3 now counts.
    write(arc, [post(["museumweek"], IN, "author2", nid="missing2")])
    t = both(arc, "mw-2015")
    assert (t["posts"], t["reposts"]) == (2, 3)
    # Deleting the original removes its reposts from the tally.
    write(arc, [Tombstone("x", "orig", utc(2015, 3, 26))])
    t = both(arc, "mw-2015")
    assert (t["posts"], t["reposts"]) == (1, 2)


def test_window_bounds_across_dst(arc: Archive) -> None:
    # Paris: CET (+1) until 2015-03-29 02:00 local, then CEST (+2). Window 03-23 00:00 → 03-30 00:00.
    cases = [
        (utc(2015, 3, 22, 22, 59, 59), None),  # 23:59:59 local on the 22nd: out
        (utc(2015, 3, 22, 23), "2015-03-23"),  # local midnight: in
        (utc(2015, 3, 28, 23, 30), "2015-03-29"),  # 00:30 CET on the 29th
        (utc(2015, 3, 29, 0, 59), "2015-03-29"),  # 01:59 CET
        (utc(2015, 3, 29, 1, 0), "2015-03-29"),  # 03:00 CEST
        (utc(2015, 3, 29, 21, 59, 59), "2015-03-29"),  # 23:59:59 CEST: in
        (utc(2015, 3, 29, 22), None),  # local midnight of the 30th: out
    ]
    write(arc, [post(["SecretsMW"], t) for t, _ in cases] + [post(["FamilyMW"], utc(2015, 3, 29, 1, 0))])
    t = both(arc, "mw-2015")
    want: dict[str, int] = {}
    for _, d in cases:
        if d:
            want[d] = want.get(d, 0) + 1
    want["2015-03-29"] += 1
    assert {d: n for d, n in t["by_day"].items() if n} == want
    assert list(t["by_day"]) == [f"2015-03-{d}" for d in range(23, 30)]
    assert t["themes"]["Secrets"] == {
        "dates": ["2015-03-23"],
        "hashtags": ["SecretsMW"],
        "posts": 5,
        "on_the_day": 1,
    }
    assert t["themes"]["Family"]["on_the_day"] == 1
    # 7 days minus the hour lost to DST.
    assert len(t["hourly"]) == 7 * 24 - 1
    assert t["hourly"][0]["local"] == "2015-03-23T00:00:00+01:00"


def test_deleted_posts_leave_and_at_replays(arc: Archive) -> None:
    p1, p2 = post(["MuseumWeek"], IN, nid="d1"), post(["MuseumWeek"], IN + timedelta(hours=1), nid="d2")
    write(arc, [p1, p2])
    assert both(arc, "mw-2015")["posts"] == 2
    write(arc, [Tombstone("x", "d1", utc(2015, 3, 27))])
    assert both(arc, "mw-2015")["posts"] == 1
    # As the counter stood: before the deletion both counted; before p2 only one.
    assert both(arc, "mw-2015", at=utc(2015, 3, 26))["posts"] == 2
    assert both(arc, "mw-2015", at=IN + timedelta(minutes=30))["posts"] == 1
    # A tombstone seen before its post: the post never enters the tally.
    write(arc, [Tombstone("x", "d3", utc(2015, 3, 27))])
    write(arc, [post(["MuseumWeek"], IN, nid="d3")])
    assert both(arc, "mw-2015")["posts"] == 1


def test_engagement_latest_snapshot(arc: Archive) -> None:
    p = post(["MuseumWeek"], IN, nid="e1", eng=Engagement(5, 1, 0, 0, utc(2015, 3, 25)))
    write(arc, [p, post(["MuseumWeek"], IN, nid="e2", eng=Engagement(2, 2, 2, 2, utc(2015, 3, 25)))])
    assert both(arc, "mw-2015")["engagement"] == {"likes": 7, "reposts": 3, "replies": 2, "quotes": 2}
    # A later observation of e1 (a new payload) replaces its counts; an older one does not.
    p2 = post(["MuseumWeek"], IN, nid="e1", eng=Engagement(50, 10, 1, 1, utc(2015, 3, 28)))
    write(arc, [p2])
    p3 = post(["MuseumWeek"], IN, nid="e1", eng=Engagement(1, 1, 1, 1, utc(2015, 3, 24)))
    write(arc, [p3])
    assert both(arc, "mw-2015")["engagement"] == {"likes": 52, "reposts": 12, "replies": 3, "quotes": 3}
    assert both(arc, "mw-2015", at=utc(2015, 3, 26))["engagement"]["likes"] == 7


def test_registry_matching(arc: Archive) -> None:
    write(
        arc,
        [
            post(["MuseumWeek"], IN, "u-louvre", handle="MUSEELOUVRE"),  # case-insensitive
            post(["MuseumWeek"], IN, "u-louvre", handle="MUSEELOUVRE"),
            post(["MuseumWeek"], IN, "u-tate", handle="tate"),
            post([], IN, "u-tate", handle="tate", kind="repost", repost_of="x:nope"),
            Post(
                "bluesky",
                "at://did:plc:moma/app.bsky.feed.post/1",
                IN,
                "#MuseumWeek",
                author=Author("bluesky", "did:plc:moma"),  # no handle known: matched by DID
                hashtags=[Hashtag("MuseumWeek", "facet")],
            ),
        ]
        + [post(["MuseumWeek"], IN, "u-fan", handle="fan") for _ in range(3)],
    )
    t = both(arc, "mw-2015")
    assert (t["participants"], t["institutions"], t["countries"]) == (4, 3, 3)
    assert [(r["name"], r["posts"]) for r in t["top_institutions"]] == [
        ("Louvre", 2),
        ("MoMA", 1),
        ("Tate", 1),
    ]
    assert t["by_country"] == {
        "FR": {"posts": 2, "institutions": 1},
        "GB": {"posts": 1, "institutions": 1},
        "US": {"posts": 1, "institutions": 1},
    }
    # The id was learned at the first match.
    c = get_campaign(arc, "mw-2015")
    assert c is not None and c.participants[0].accounts[0].account_uid == "x:u-louvre"
    assert [p["name"] for p in silent_participants(arc, "mw-2015")] == ["Silent Museum"]
    cand = candidates(arc, "mw-2015", min_posts=2)
    assert [(x["handle"], x["posts"]) for x in cand] == [("fan", 3)]
    # The Louvre renames its account; another account takes the old handle: ids win.
    write(
        arc,
        [
            post(["MuseumWeek"], IN, "u-louvre", handle="LouvreOfficial"),
            post(["MuseumWeek"], IN, "u-squatter", handle="museelouvre"),
        ],
    )
    t = both(arc, "mw-2015")
    assert t["top_institutions"][0] == {"name": "Louvre", "country": "FR", "posts": 3, "reposts": 0}
    assert t["institutions"] == 3
    acts = {p["name"]: p["posts"] for p in participant_activity(arc, "mw-2015")}
    assert acts == {"Louvre": 3, "Tate": 1, "Silent Museum": 0, "MoMA": 1}


def test_compare_editions(arc: Archive) -> None:
    mw16 = MW.format(extra="").replace("2015", "2016").replace("mw-2016", "mw-2016")
    mw16 = mw16.replace("2016-03-23", "2016-03-28").replace("2016-03-30", "2016-04-04")
    mw16 = mw16.replace("2016-03-29", "2016-04-03")
    reg16 = "name,country,x\nLouvre,FR,museelouvre\nPrado,ES,museodelprado\n"
    save_campaign(arc, parse_campaign(mw16, participants_csv=reg16))
    write(
        arc,
        [
            post(["MuseumWeek"], IN, "u-louvre", handle="museelouvre"),
            post(["MuseumWeek"], IN, "u-tate", handle="tate"),
            post(["SecretsMW"], utc(2016, 3, 28, 12), "u-louvre", handle="museelouvre"),
            post(["SecretsMW"], utc(2016, 3, 29, 12), "u-prado", handle="museodelprado"),
            post(["MuseumWeek"], utc(2016, 3, 30, 12), "u-prado", handle="museodelprado"),
        ],
    )
    r = compare(arc, "mw-2015", "mw-2016")
    assert r["figures"]["posts"] == {"a": 2, "b": 3, "change": 1, "pct": 50.0}
    assert r["figures"]["institutions"]["b"] == 2
    assert [x["name"] for x in r["institutions"]["new"]] == ["Prado"]
    assert [x["name"] for x in r["institutions"]["returning"]] == ["Louvre"]
    assert [x["name"] for x in r["institutions"]["lost"]] == ["Tate"]
    secrets = next(x for x in r["themes"] if x["theme"] == "Secrets")
    assert secrets["posts"]["b"] == 2 and secrets["on_the_day"]["b"] == 1
    assert r["countries_new"] == ["ES"]
