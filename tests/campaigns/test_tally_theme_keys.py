"""Themes with several hashtags: a post carrying more than one of them counts once, and the
theme's keys and dates reach SQL as bound parameters (a key with a quote is matched, not
spliced into the query)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.config import Campaign, parse_campaign
from salon.campaigns.stored import get_campaign, save_campaign
from salon.campaigns.tally import _tally, scope, tally
from salon.model import Author, Hashtag, Post
from salon.store.archive import Archive, open_archive
from salon.store.batch import Batch
from salon.store.writer import Writer

_n = itertools.count(1)

CAMPAIGN = """
[campaign]
name = "Theme keys"
slug = "themes"
timezone = "UTC"
start = 2015-03-23
end = 2015-03-26
hashtags = ["MW"]

[[days]]
date = 2015-03-23
theme = "Secrets"
hashtags = ["SecretsMW", "SecretMW"]

[[days]]
date = 2015-03-24
theme = "Secrets"
hashtags = ["ShhMW"]
"""


def _post(tags: list[str], day: int) -> Post:
    return Post(
        platform="x",
        native_id=f"p{next(_n)}",
        created_at=datetime(2015, 3, day, 12, tzinfo=UTC),
        text=" ".join("#" + t for t in tags),
        kind="original",
        author=Author("x", "a1", handle="a1"),
        hashtags=[Hashtag(t) for t in tags],
    )


def _write(arc: Archive, posts: list[Post]) -> None:
    b = Batch()
    rid = f"raw{next(_n)}"
    b.add_raw(rid, "test", rid.encode(), None, None, "test", None)
    b.add_items(posts, rid, datetime.now(UTC))
    Writer(arc).write(b)


@pytest.fixture
def arc(tmp_path: Path) -> Any:
    with open_archive(tmp_path / "t.duckdb") as a:
        save_campaign(a, parse_campaign(CAMPAIGN))
        _write(
            a,
            [
                _post(["SecretsMW", "SecretMW"], 23),  # both keys: counted once
                _post(["SecretMW"], 23),
                _post(["ShhMW"], 24),
                _post(["SecretsMW"], 25),  # the theme, not on its days
                _post(["MW"], 23),  # not the theme
            ],
        )
        yield a


def _campaign(arc: Archive) -> Campaign:
    c = get_campaign(arc, "themes")
    assert c is not None
    return c


def test_multi_key_theme_counts_each_post_once(arc: Archive) -> None:
    want = {"dates": ["2015-03-23", "2015-03-24"], "hashtags": ["SecretsMW", "SecretMW", "ShhMW"]}
    for use_index in (True, False):
        t = tally(arc, _campaign(arc), use_index=use_index)
        assert t["themes"]["Secrets"] == {**want, "posts": 4, "on_the_day": 3}, use_index


def test_theme_keys_are_bound_not_quoted(arc: Archive) -> None:
    c = _campaign(arc)
    with scope(arc, c, use_index=False) as s:
        # A key SQL would choke on were it quoted by hand (the config refuses such hashtags;
        # the tally must not depend on that).
        s.campaign.days[0].hashtags.append("it's")
        t = _tally(s, 10)
    assert t["themes"]["Secrets"]["posts"] == 4 and t["themes"]["Secrets"]["on_the_day"] == 3
    assert t["themes"]["Secrets"]["hashtags"] == ["SecretsMW", "SecretMW", "it's", "ShhMW"]
