"""Mastodon streaming over WebSocket (one connection per instance, a subscribe message per
hashtag) against a local streaming server replaying the recorded statuses of ../shared, the
REST tag timelines on a local Mastodon beside it; the SSE path as the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from .harness import Collector, campaign_file
from .mastodon_ws_server import MastodonStreamingServer
from .servers import MASTODON_STATUSES, MastodonServer, eventually, lines
from .test_mastodon import TAGS, sources, tagged

pytestmark = pytest.mark.usefixtures("needs_shared")


def test_one_websocket_per_instance_with_a_subscription_per_hashtag(tmp_path: Path) -> None:
    texts = lines(MASTODON_STATUSES)
    want = tagged(texts)
    rest = MastodonServer(visible=0)
    ws = MastodonStreamingServer(token=rest.token)
    with rest, ws:
        extra = f'streaming_url = "{ws.base}"\n'
        camp = campaign_file(tmp_path, TAGS, sources(rest.base, extra=extra, poll=30))
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_MASTODON_TOKEN": rest.token}) as c:
            eventually(lambda: len(ws.subscriptions) >= len(TAGS), what="a subscription per hashtag")
            first = json.loads(want[0])
            ws.push("update", want[0])
            c.wait("SELECT count(*) FROM posts WHERE NOT is_context", 1)
            # an edit, then the deletion (the id, on the stream of each hashtag it carries)
            ws.push("status.update", want[0])
            ws.push("delete", first["id"], [t["name"] for t in first["tags"]])
            c.wait("SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL", 1)
            stored = [orjson.loads(p) for p in c.payloads("mastodon")]
            # the connection drops; statuses appear meanwhile: the instance's gap is backfilled
            # by its tag timelines (they poll every 30 s: the backfill brings them)
            rest.reveal(len(texts))
            ws.drop()
            c.wait(
                "SELECT count(*) FROM collect_gaps WHERE source LIKE 'mastodon-ws:%' AND status = 'backfilled'"
                " AND records > 0",
                1,
            )
            c.wait(
                "SELECT count(*) FROM posts WHERE NOT is_context", len({json.loads(t)["uri"] for t in want})
            )
            eventually(lambda: ws.connections >= 2, what="the reconnection")
            gap = c.q(
                "SELECT max(records), any_value(backfill_source) FROM collect_gaps WHERE source LIKE 'mastodon-ws:%'"
            )[0]
            conns = c.q(
                "SELECT DISTINCT source FROM collect_connections WHERE source LIKE 'mastodon%stream%' OR source LIKE 'mastodon-ws:%'"
            )
            deleted = c.q("SELECT native_id FROM posts WHERE deleted_at IS NOT NULL")
            tokens = sum(rest.token.encode() in p for p in c.payloads())
            tokens += c.n("SELECT count(*) FROM collect_connections WHERE contains(url, ?)", [rest.token])
    assert sorted(t for n, t in ws.subscriptions if n == 1) == sorted(TAGS)  # one socket, every tag
    assert ws.auth[0] == f"Bearer {rest.token}" and all("token" not in p for p in ws.paths)
    # stored as the SSE path stores them: the envelope, the payload exactly as received; a status
    # sent on two hashtag streams is one record
    events = [(s["event"], s["payload"]) for s in stored]
    assert events.count(("update", want[0])) == 1 and events.count(("status.update", want[0])) == 1
    assert ("delete", first["id"]) in events and all(s["instance"] == rest.host for s in stored)
    assert deleted == [(first["uri"],)]
    assert conns == [(f"mastodon-ws:{rest.host}",)]
    assert gap[0] > 0 and gap[1].startswith("mastodon:")
    assert not any(r.path == "/api/v1/streaming/hashtag" for r in rest.requests)  # no SSE used
    assert tokens == 0


def test_without_websocket_streaming_the_sse_path_takes_over(tmp_path: Path) -> None:
    """An instance that refuses the WebSocket upgrade (404): server-sent events per hashtag."""
    texts = lines(MASTODON_STATUSES)
    want = tagged(texts)
    rest = MastodonServer(visible=0)
    with rest:
        camp = campaign_file(tmp_path, TAGS, sources(rest.base, poll=30))
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_MASTODON_TOKEN": rest.token}) as c:
            eventually(lambda: rest.stream_connections >= len(TAGS), what="one SSE stream per hashtag")
            rest.stream_events.put(("update", want[0]))
            c.wait("SELECT count(*) FROM posts WHERE NOT is_context", 1)
            said = list(c.board.messages)
    assert any(r.path == "/api/v1/streaming" for r in rest.requests)  # the WebSocket was tried first
    assert any("no WebSocket streaming" in m for m in said)


def test_a_refused_token_stops_the_websocket_not_the_polling(tmp_path: Path) -> None:
    rest = MastodonServer()
    ws = MastodonStreamingServer(token=rest.token)
    with rest, ws:
        camp = campaign_file(
            tmp_path, TAGS, sources(rest.base, extra=f'streaming_url = "{ws.base}"\n', poll=30)
        )
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_MASTODON_TOKEN": "wrong"}) as c:
            eventually(lambda: any("refused the token (401)" in m for m in c.board.messages))
            c.wait("SELECT count(*) FROM raw", 1)  # the tag timelines still poll
    assert ws.refused == 1 and ws.connections == 0
