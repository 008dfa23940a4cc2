"""The tally on real X API v2 pages (docnow-twarc-csv), checked against figures computed here in
plain Python from the raw JSON, never through Salon's code."""

from __future__ import annotations

import functools
import json
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from salon.campaigns.config import parse_campaign
from salon.campaigns.stored import save_campaign
from salon.campaigns.tally import tally
from salon.store.archive import open_archive
from tests.campaigns.twarc_corpus import BREXIT, FILES, KPOP, import_twarc
from tests.conftest import twarc


def key(tag: str) -> str:
    t = unicodedata.normalize("NFKC", tag).casefold()
    t = "".join(ch for ch in unicodedata.normalize("NFKD", t) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", t)


def when(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@functools.cache
def raw_corpus() -> tuple[dict[str, dict[str, Any]], dict[str, tuple[Any, ...]], dict[str, str]]:
    """Unique tweets (data and includes) of the files, the latest engagement observation of each
    (page retrieved_at, then the largest counts), and user id → username (read once: the
    callers only read them)."""
    tweets: dict[str, dict[str, Any]] = {}
    latest: dict[str, tuple[Any, ...]] = {}
    users: dict[str, str] = {}
    for name in FILES:
        for line in twarc(name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            page = json.loads(line)
            seen_at = when(page["__twarc"]["retrieved_at"])
            inc = page.get("includes") or {}
            for u in inc.get("users") or ():
                users[u["id"]] = u["username"]
            for t in list(page.get("data") or ()) + list(inc.get("tweets") or ()):
                tweets.setdefault(t["id"], t)
                pm = t.get("public_metrics")
                if pm:
                    obs = (
                        seen_at,
                        pm["like_count"],
                        pm["retweet_count"],
                        pm["reply_count"],
                        pm["quote_count"],
                    )
                    latest[t["id"]] = max(latest.get(t["id"], obs), obs)
    return tweets, latest, users


def tags_of(t: dict[str, Any]) -> set[str]:
    ents = (t.get("note_tweet") or {}).get("entities") or t.get("entities") or {}
    return {key(h["tag"]) for h in ents.get("hashtags") or ()}


def expected(
    official: set[str], tz: str, start: date, end: date, handles: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """The tally by DESIGN.md's definitions, in plain Python over the raw JSON. ``handles``:
    registered lowercased username → (institution, country)."""
    tweets, latest, users = raw_corpus()
    z = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), z).astimezone(UTC)
    hi = datetime.combine(end, datetime.min.time(), z).astimezone(UTC)
    posts, reposts = [], []
    for t in tweets.values():
        created = when(t["created_at"])
        if not lo <= created < hi:
            continue
        refs = {r["type"]: r["id"] for r in t.get("referenced_tweets") or ()}
        if "retweeted" in refs:
            orig = tweets.get(refs["retweeted"])
            judged = tags_of(orig) if orig is not None else tags_of(t)
            if judged & official:
                reposts.append(t)
        elif tags_of(t) & official:
            posts.append(t)
    eng = [0, 0, 0, 0]
    for t in posts:
        if t["id"] in latest:
            for i in range(4):
                eng[i] += latest[t["id"]][i + 1]
    by_day = Counter(when(t["created_at"]).astimezone(z).date().isoformat() for t in posts)
    by_hashtag = Counter(k for t in posts for k in tags_of(t) & official)
    inst = Counter()
    for t in posts:
        h = users.get(t["author_id"], "").lower()
        if h in handles:
            inst[handles[h]] += 1
    hours = Counter(
        when(t["created_at"]).replace(minute=0, second=0, microsecond=0).isoformat() for t in posts
    )
    return {
        "posts": len(posts),
        "reposts": len(reposts),
        "participants": len({t["author_id"] for t in posts}),
        "engagement": dict(zip(("likes", "reposts", "replies", "quotes"), eng, strict=True)),
        "by_day": by_day,
        "by_hashtag": by_hashtag,
        "institutions": len(inst),
        "countries": len({c for _, c in inst}),
        "inst_posts": {name: n for (name, _), n in inst.items()},
        "hours": hours,
        "posts_list": posts,
    }


@pytest.fixture(scope="module")
def corpus_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_twarc(tmp_path_factory.mktemp("corpus") / "a.duckdb", FILES)


def top_authors(official: set[str], tz: str, start: date, end: date, n: int) -> list[str]:
    e = expected(official, tz, start, end, {})
    _, _, users = raw_corpus()
    counts = Counter(users[t["author_id"]] for t in e["posts_list"] if t["author_id"] in users)
    return [h for h, _ in counts.most_common(n)]


@pytest.mark.parametrize(
    ("toml", "official", "tz", "start", "end"),
    [
        (
            BREXIT,
            {"brexit", "johnsonout", "borisjohnson", "boristheliar"},
            "Europe/London",
            date(2021, 9, 14),
            date(2021, 9, 23),
        ),
        (KPOP, {"kpop", "blackpink", "lisa", "lalisa"}, "Asia/Seoul", date(2021, 9, 21), date(2021, 9, 23)),
    ],
)
def test_tally_matches_raw_json(
    corpus_archive: Path, toml: str, official: set[str], tz: str, start: date, end: date
) -> None:
    # Register the three most active authors (one with its handle upper-cased), two countries,
    # and one institution that never posted.
    top = top_authors(official, tz, start, end, 3)
    assert len(top) == 3
    csv = "name,country,city,kind,x\n"
    csv += f"Inst A,FR,,museum,{top[0].upper()}\nInst B,FR,,museum,{top[1]}\nInst C,DE,,museum,{top[2]}\n"
    csv += "Silent,IT,,museum,nobody_posts_here_\n"
    handles = {
        top[0].lower(): ("Inst A", "FR"),
        top[1].lower(): ("Inst B", "FR"),
        top[2].lower(): ("Inst C", "DE"),
    }
    c = parse_campaign(toml, participants_csv=csv)
    exp = expected(official, tz, start, end, handles)
    assert exp["posts"] > 0
    with open_archive(corpus_archive) as arc:
        scan = tally(arc, c)
        save_campaign(arc, c)
        indexed = tally(arc, c.slug)
        assert (scan["source"], indexed["source"]) == ("scan", "index")
        for t in (scan, indexed):
            assert t["posts"] == exp["posts"]
            assert t["reposts"] == exp["reposts"]
            assert t["participants"] == exp["participants"]
            assert t["engagement"] == exp["engagement"]
            assert {d: n for d, n in t["by_day"].items() if n} == dict(exp["by_day"])
            assert {k: n for k, n in t["by_hashtag"].items() if n} == dict(exp["by_hashtag"])
            assert t["institutions"] == exp["institutions"] == 3
            assert t["countries"] == exp["countries"] == 2
            assert {r["name"]: r["posts"] for r in t["top_institutions"] if r["posts"]} == exp["inst_posts"]
            assert t["by_country"]["FR"]["institutions"] == 2
            assert {h["hour"]: h["posts"] for h in t["hourly"] if h["posts"]} == dict(exp["hours"])
            assert sum(v["posts"] for v in t["by_platform"].values()) == exp["posts"]
        # The spam part reads the verdicts stored for a stored campaign (salon.campaigns.trust):
        # a campaign file tallied by a scan has none.
        strip = ("source", "computed_at", "spam")
        assert {k: v for k, v in scan.items() if k not in strip} == {
            k: v for k, v in indexed.items() if k not in strip
        }
        # Themes: posts carrying a theme tag whatever the day; on the day in the campaign zone.
        z = ZoneInfo(tz)
        for name, th in indexed["themes"].items():
            keys = {key(h) for h in th["hashtags"]}
            mine = [t for t in exp["posts_list"] if tags_of(t) & keys]
            on_day = [
                t for t in mine if when(t["created_at"]).astimezone(z).date().isoformat() in th["dates"]
            ]
            assert (th["posts"], th["on_the_day"]) == (len(mine), len(on_day)), name


def test_at_replays_the_counter(corpus_archive: Path) -> None:
    c = parse_campaign(BREXIT)
    official = {"brexit", "johnsonout", "borisjohnson", "boristheliar"}
    exp = expected(official, "Europe/London", date(2021, 9, 14), date(2021, 9, 23), {})
    times = sorted(when(t["created_at"]) for t in exp["posts_list"])
    at = times[len(times) // 2] + timedelta(microseconds=1)
    with open_archive(corpus_archive) as arc:
        t = tally(arc, c, at)
        assert t["posts"] == sum(1 for x in times if x < at)
        assert t["hourly"][-1]["hour"] <= at.isoformat()
        # Before the pages were retrieved, no engagement had been observed.
        assert t["engagement"] == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0}
        full = tally(arc, c, datetime(2030, 1, 1, tzinfo=UTC))
        assert full["posts"] == exp["posts"] and full["engagement"] == exp["engagement"]
