"""X API v2 collection against a real HTTP server replaying recorded twarc2 pages and stream
lines: next_token paging, since_id resume, 429/503, stream rules, a dropped stream."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .harness import Collector, campaign_file
from .servers import TWARC, XServer, eventually, lines

TAGS = ["kpop", "brexit"]
PAGES = ["2sets.jsonl", "brexit.jsonl", "kpop.jsonl", "noflat.jsonl", "entities_test.jsonl", "withheld.jsonl"]


def pool() -> list[str]:
    return [ln for f in PAGES for ln in lines(f"{TWARC}/{f}")]


def matching_ids(pages: list[str]) -> set[str]:
    out = set()
    for p in pages:
        for t in json.loads(p).get("data") or ():
            if any(h["tag"].casefold() in TAGS for h in (t.get("entities") or {}).get("hashtags") or ()):
                out.add(t["id"])
    return out


def sources(api: str, stream: bool = False) -> str:
    return (
        f'[sources.x]\napi = "{api}"\nstream = {"true" if stream else "false"}\npoll_seconds = 0.2\n'
        "stall_seconds = 2\nsearch_days = 10000\n"
    )


def test_recent_search_pages_resume_and_rate_limits(tmp_path: Path) -> None:
    want = matching_ids(pool())
    assert len(want) > 150
    srv = XServer(pool())
    srv.page_size = 25
    srv.faults = [429, 503]
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        env = {"SALON_X_BEARER_TOKEN": srv.token}
        db = tmp_path / "a.duckdb"
        with Collector(db, camp, env=env) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'x' AND NOT is_context", len(want), 20)
            eventually(lambda: c.n("SELECT count(*) FROM collect_cursors WHERE name = 'since_id'") == 1)
            got = {r[0] for r in c.q("SELECT native_id FROM posts WHERE platform = 'x' AND NOT is_context")}
            since = c.q("SELECT value FROM collect_cursors WHERE name = 'since_id'")[0][0]
            raws = c.n("SELECT count(*) FROM raw")
        assert got == want
        assert since == max(want, key=int)
        assert any(r.q("next_token") for r in srv.requests)
        n = len(srv.requests)
        with Collector(db, camp, env=env) as c:
            eventually(lambda: len(srv.requests) > n + 1)
            assert c.n("SELECT count(*) FROM raw") == raws  # nothing new, nothing twice
        assert all(r.q("since_id") == since for r in srv.requests[n:] if r.path.endswith("recent"))


def test_stream_rules_drop_and_gap_backfill(tmp_path: Path) -> None:
    stream_lines = [
        XServer.strip(ln) if ln.startswith("{") else ln for ln in lines(f"{TWARC}/streaming_output.jsonl")
    ]
    srv = XServer(pool(), stream_lines=[*stream_lines[:4], "heartbeat", "drop", *stream_lines[4:]])
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, stream=True))
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_X_BEARER_TOKEN": srv.token}) as c:
            c.wait("SELECT count(*) FROM collect_gaps WHERE source = 'x:stream' AND status = 'backfilled'", 2)
            c.wait(
                "SELECT (SELECT count(*) FROM raw WHERE source LIKE '%/stream') + (SELECT count(*) FROM quarantine)",
                len(set(stream_lines)),
            )
            streamed = c.n("SELECT count(*) FROM raw WHERE source LIKE '%/stream'")
            bad = c.n("SELECT count(*) FROM quarantine")
            conns = c.n("SELECT count(*) FROM collect_connections WHERE source = 'x:stream'")
    # every distinct line kept once (the recording repeats one line): stored, or quarantined
    assert streamed + bad == len(set(stream_lines))
    assert conns >= 2
    assert [r["tag"] for r in srv.rules] == ["salon:live-test"] and srv.rules[0][
        "value"
    ] == "#kpop OR #brexit"


def test_without_token_points_to_import(tmp_path: Path) -> None:
    camp = campaign_file(tmp_path, TAGS, sources("http://127.0.0.1:9"))
    with Collector(tmp_path / "a.duckdb", camp) as c:
        eventually(lambda: bool(c.board.messages))
        msgs = list(c.board.messages)
    assert any("salon import" in m and "SALON_X_BEARER_TOKEN" in m for m in msgs)


def _stream_status(c: Collector) -> dict[str, object]:
    return next((s for s in c.board.snapshot() if s["source"] == "x:stream"), {})


def test_quiet_stream_stays_connected(tmp_path: Path) -> None:
    """A stream quiet for less than ``stall_seconds`` is not reopened (heartbeats or not)."""
    srv = XServer(pool())
    with srv:
        src = (
            sources(srv.base, stream=True).replace("stall_seconds = 2", "stall_seconds = 30")
            + "search = false\n"
        )
        camp = campaign_file(tmp_path, TAGS, src)
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_X_BEARER_TOKEN": srv.token}) as c:
            c.wait("SELECT count(*) FROM collect_connections WHERE source = 'x:stream'", 1)
            time.sleep(3)
            rows = c.q("SELECT closed_at IS NULL FROM collect_connections WHERE source = 'x:stream'")
            st = _stream_status(c)
    assert rows == [(True,)]
    assert st["disconnects"] == 0


def test_refused_stream_counts_a_disconnect(tmp_path: Path) -> None:
    """A refused stream (401 on the rules: a GiveUp before any connection) counts a disconnect."""
    srv = XServer(pool())
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, stream=True) + "search = false\n")
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_X_BEARER_TOKEN": "not-the-token"}) as c:
            eventually(lambda: _stream_status(c).get("state") == "failed")
            st = _stream_status(c)
            messages = list(c.board.messages)
    assert st["disconnects"] == 1 and st["connections"] == 0
    assert any("X refused the filtered stream (401)" in m for m in messages)
