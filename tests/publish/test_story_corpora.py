"""A story of real posts (../shared corpora: twarc2 pages from the X API v2, Mastodon statuses as
mastodon.py recorded them) published as one file: every post is an h-entry with its author,
date, URL and content; X's t.co links are written out; the page asks for nothing remote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from salon.importer import import_paths
from salon.publish.stories import model
from salon.publish.stories.publish import publish
from salon.store.archive import open_archive
from tests.conftest import corpus_path, twarc


def test_story_of_real_posts(tmp_path: Path) -> None:
    mf2py = pytest.importorskip("mf2py")
    files = [
        twarc("media_tweet.jsonl"),
        twarc("many_urls.jsonl"),
        twarc("mentions_tweet.jsonl"),
        corpus_path("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl"),
    ]
    path = tmp_path / "real.duckdb"
    with open_archive(path) as arc:
        import_paths([str(f) for f in files], arc)
        uids = [
            r[0]
            for r in arc.query(
                "SELECT uid FROM posts WHERE NOT is_context AND kind <> 'repost' AND deleted_at IS NULL"
                " QUALIFY row_number() OVER (PARTITION BY platform ORDER BY created_at, uid) <= 8"
                " ORDER BY platform, created_at, uid"
            )
        ]
        assert {u.split(":")[0] for u in uids} == {"x", "mastodon"}
        model.new_story(arc, "real", "Real posts", curator="Tests")
        model.add_items(arc, "real", [model.heading("From the corpora")] + [model.post(u) for u in uids])
        publish(arc, "real", tmp_path / "real")
        tco = arc.scalar(
            "SELECT count(*) FROM posts WHERE uid IN (SELECT unnest(?)) AND text LIKE '%https://t.co/%'",
            [uids],
        )
    html = (tmp_path / "real" / "index.html").read_text()
    data = json.loads((tmp_path / "real" / "story.json").read_text())
    shown = [i["post"] for i in data["items"] if i["kind"] == "post" and "removed" not in i["post"]]
    parsed = mf2py.parse(doc=html, url="file:///real/index.html")
    entries = [i for i in parsed["items"] if "h-entry" in i["type"]]
    assert len(entries) == len(shown) > 8
    for e, p in zip(entries, shown, strict=True):
        props = e["properties"]
        assert props["author"][0]["properties"]["name"][0] == p["author"]["name"]
        assert props["published"][0] == p["created_utc"]
        assert props["url"][0] == p["url"]
        assert props["content"][0]["value"].strip()
    # nothing the page loads is remote: no src/link to http(s), only <a href> links
    assert not re.search(r'<(?:img|link|script|iframe|video|audio|source)[^>]+(?:src|href)="https?:', html)
    assert tco, "these corpus tweets carry t.co links"
    visible = re.sub(r"<[^>]+>", "", html)  # X's short links are written out from the entities
    assert "https://t.co/" not in visible
