"""Every normaliser, fuzzed (a bounded number of examples each): any JSON value, and any JSON
object carrying the keys its sniffer looks for, gives items or BadRecord -- never another
exception; through the importer such input becomes a quarantined record with file and line."""

from __future__ import annotations

import contextlib
import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.normalize import FORMAT_MODULES, BadRecord, Context, get
from tests.normalize.mutation import JSON

CTX = Context(observed_at=datetime(2024, 1, 1, tzinfo=UTC))
# Keys each format's sniffer and normaliser read, so the fuzz reaches past the first check.
HINTS: dict[str, list[str]] = {
    "x_v2": [
        "data",
        "includes",
        "meta",
        "id",
        "text",
        "author_id",
        "referenced_tweets",
        "entities",
        "action",
    ],
    "x_archive": ["tweet", "id_str", "full_text", "entities", "created_at"],
    "gnip": ["verb", "actor", "object", "body", "postedTime", "id", "twitter_entities"],
    "x_v1": ["id_str", "text", "full_text", "user", "entities", "created_at", "retweeted_status"],
    "mastodon": ["uri", "account", "content", "created_at", "tags", "event", "payload", "reblog", "instance"],
    "jetstream": ["did", "time_us", "kind", "commit", "operation", "collection", "rkey", "record"],
    "jetstream_events": [
        "$type",
        "payload",
        "seq",
        "did",
        "time",
        "operation",
        "collection",
        "rkey",
        "record",
        "identity",
        "handle",
    ],
    "bluesky": ["uri", "cid", "record", "author", "value", "thread", "post", "posts", "feed", "$type"],
    "zeeschuimer": ["item_id", "data", "source_platform", "timestamp_collected"],
    "tags_csv": ["id_str", "from_user", "text", "created_at", "time", "entities_str"],
}
VALUES = JSON | st.sampled_from(
    [
        "did:plc:abc",
        "at://did:plc:abc/app.bsky.feed.post/x",
        "2024-01-01T00:00:00Z",
        "message",
        "network.bsky.jetstream.subscribeEvents#commit",
        "network.bsky.jetstream.subscribeEvents#identity",
    ]
)


def objects(fmt: str) -> Any:
    keys = st.sampled_from(HINTS.get(fmt) or ["id", "text", "data", "payload", "uri", "did"])
    return st.dictionaries(keys, VALUES, min_size=1, max_size=6)


# Modules whose own function may still raise something else on garbage (x_v2 on a "flattened
# tweet" with fields of the wrong type): the importer's guard (``salon.normalize.get``) turns
# that into BadRecord, so such input is still quarantined, never a crash.
GUARDED_ONLY = {"x_v2"}


def _run(fmt: str, obj: Any) -> None:
    mod = importlib.import_module(f"salon.normalize.{fmt}")
    fn = get(mod.FORMAT) if fmt in GUARDED_ONLY else mod.normalize
    with contextlib.suppress(BadRecord):
        list(fn(obj, CTX))


@pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
def test_normaliser_raises_only_bad_record(fmt: str) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(obj=JSON | objects(fmt))
    def run(obj: Any) -> None:
        _run(fmt, obj)

    run()


def test_bad_input_is_quarantined_with_file_and_line(tmp_path: Path) -> None:
    from salon.importer import import_paths
    from salon.store.archive import open_archive

    lines = [
        json.dumps(
            {
                "did": "did:plc:x",
                "time_us": "soon",
                "kind": "commit",
                "commit": {
                    "operation": "create",
                    "collection": "app.bsky.feed.post",
                    "rkey": "r1",
                    "record": {},
                },
            }
        ),
        "{not json",
        json.dumps({"uri": "https://m.example/1", "account": 3, "content": None}),
    ]
    f = tmp_path / "bad.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open_archive(tmp_path / "a.duckdb") as arc:
        import_paths([str(f)], arc)
        rows = arc.query("SELECT path, line, reason FROM quarantine ORDER BY line")
    assert [r[1] for r in rows] == [1, 2, 3]
    assert all(r[0].endswith("bad.jsonl") and r[2] for r in rows)
