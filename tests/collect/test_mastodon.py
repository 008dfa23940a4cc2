"""Mastodon collection against real HTTP servers replaying recorded statuses: tag timelines
with Link and rate-limit headers, two instances, faults, the SSE stream and kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

from salon.collect.mastodon import split_json_array

from .harness import Collector, campaign_file
from .servers import MASTODON_STATUSES, MastodonServer, eventually, lines

TAGS = ["fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp", "hoot", "ringtones"]


def tagged(texts: list[str]) -> list[str]:
    keys = {t.casefold() for t in TAGS}
    return [t for t in texts if any(x["name"].casefold() in keys for x in json.loads(t).get("tags") or ())]


def sources(*bases: str, extra: str = "", poll: float = 0.2) -> str:
    inst = ", ".join(f'"{b}"' for b in bases)
    return f"[sources.mastodon]\ninstances = [{inst}]\npoll_seconds = {poll}\nlimit = 40\n{extra}"


def stored_payloads(c: Collector) -> list[str]:
    """The exact status texts kept in the stored envelopes."""
    return [orjson.loads(p)["payload"] for p in c.payloads("mastodon")]


def test_split_json_array_keeps_exact_texts() -> None:
    texts = lines(MASTODON_STATUSES)[:5]
    body = "[" + ",".join(texts) + "]"
    assert split_json_array(body) == texts
    assert split_json_array(" [ ] ") == []
    assert split_json_array('[{"a":"],[\\"{"}, [1,2] ,"x"]') == ['{"a":"],[\\"{"}', "[1,2]", '"x"']


def rate_limit_waits(c: Collector, source: str) -> tuple[list[str], threading.Event]:
    """Watch the board (every 5 ms, until the returned event is set) and keep each status line
    of ``source`` that waits for the rate limit (those waits last 0.5 s or more)."""
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.005):
            seen.extend(
                s["status"]
                for s in c.board.snapshot()
                if s["source"] == source and "for the rate limit" in s["status"]
            )

    threading.Thread(target=watch, daemon=True).start()
    return seen, done


def test_two_instances_paged_by_link_with_faults_and_rate_limits(tmp_path: Path) -> None:
    texts = lines(MASTODON_STATUSES)
    want = tagged(texts)
    uris = {json.loads(t)["uri"] for t in want}
    assert len(want) == 62
    a, b = MastodonServer(), MastodonServer()
    a.page_size_cap = 7  # many pages
    a.rate_limit, a.rate_window = 5, 0.5  # 429s with X-RateLimit-Reset
    a.faults = [500, "drop", 503]
    b.faults = [429]
    with a, b:
        camp = campaign_file(tmp_path, TAGS, sources(a.base, b.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            waits, watched = rate_limit_waits(c, f"mastodon:{a.host}")
            c.wait("SELECT count(*) FROM posts WHERE platform = 'mastodon' AND NOT is_context", len(uris), 30)
            eventually(lambda: len(c.q("SELECT * FROM collect_cursors WHERE name LIKE '%newest'")) == 6)
            posts = c.q("SELECT native_id FROM posts WHERE platform = 'mastodon' AND NOT is_context")
            payloads = stored_payloads(c)
            aliases = c.n("SELECT count(*) FROM post_aliases")
            # forward polling (3 tags every 0.2 s) keeps using up a's 5 requests per 0.5 s
            eventually(lambda: bool(waits), what=f"a wait for the rate limit of {a.host} on the board")
            watched.set()
    assert {p[0] for p in posts} == uris  # one post per uri, whichever instance served it
    # each status stored once per instance, byte-exact (same bytes twice are one raw record)
    assert sorted(payloads) == sorted(want * 2)
    assert aliases >= len(uris)  # per-instance status keys resolve deletes and replies
    assert b.too_many == 1  # the injected 429 was sent, and retried (b's statuses are all stored)
    assert a.quota_used_up >= 1  # a's rate limit was reached ...
    assert waits  # ... and the collector waited for its reset, saying so on the board
    assert any("max_id=" in r.path or r.q("max_id") for r in a.requests)  # followed Link rel=next
    assert sum(1 for r in a.requests if r.q("min_id")) >= 3  # then polled forward with min_id


def test_forward_polling_catches_new_statuses_and_resumes(tmp_path: Path) -> None:
    texts = lines(MASTODON_STATUSES)
    srv = MastodonServer(visible=100)
    srv.page_size_cap = 5
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        db = tmp_path / "a.duckdb"
        first = len({json.loads(t)["uri"] for t in tagged(srv.texts[:100])})
        with Collector(db, camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE NOT is_context", first)
            srv.reveal(100)  # new statuses appear while the collector polls
            second = len({json.loads(t)["uri"] for t in tagged(srv.texts[:200])})
            c.wait("SELECT count(*) FROM posts WHERE NOT is_context", second)
            # Every post stored is not a finished sweep: the sweep knows it reached the bottom only
            # from one more (empty) page, and a collector stopped before it resumes that sweep
            # (rightly). Stop once the first tag's sweep is over and its cursor is the newest id.
            top = str(max(int(srv.objs[i]["id"]) for i in srv.tagged(TAGS[0])))
            eventually(
                lambda: (
                    dict(
                        c.q("SELECT name, value FROM collect_cursors WHERE name LIKE ?", [f"tag:{TAGS[0]}:%"])
                    )
                    == {f"tag:{TAGS[0]}:newest": top}
                ),
                timeout=15,
                what=f"#{TAGS[0]}: sweep finished, cursor at the newest status {top}",
            )
        n_before = len(srv.requests)
        srv.reveal(100)
        with Collector(db, camp) as c:  # a restart resumes from the saved min_id
            c.wait(
                "SELECT count(*) FROM posts WHERE NOT is_context",
                len({json.loads(t)["uri"] for t in tagged(texts)}),
            )
            raws = c.n("SELECT count(*) FROM raw")
    assert raws == len(tagged(texts))
    resumed = srv.requests[n_before:]
    resumed = [r for r in resumed if r.path.endswith(TAGS[0])]  # a tag that had a cursor
    swept = [r.query for r in resumed if r.q("max_id") is not None]
    assert resumed and not swept, f"a restart must not sweep again: {swept}"


def test_stream_events_update_edit_delete_and_gap_backfill(tmp_path: Path) -> None:
    texts = lines(MASTODON_STATUSES)
    want = tagged(texts)
    srv = MastodonServer(visible=0)
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, poll=30))
        env = {"SALON_MASTODON_TOKEN": srv.token}
        with Collector(tmp_path / "a.duckdb", camp, env=env) as c:
            eventually(lambda: srv.stream_connections >= 3)  # one stream per hashtag
            first = json.loads(want[0])
            srv.stream_events.put(("update", want[0]))
            srv.stream_events.put("heartbeat")
            c.wait("SELECT count(*) FROM posts WHERE NOT is_context", 1)
            srv.stream_events.put(("delete", first["id"]))
            c.wait("SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL", 1)
            # the streams drop; meanwhile statuses appear: each stream's gap is backfilled by its
            # tag timeline (the timelines poll every 30 s: the backfills bring the statuses)
            srv.reveal(len(texts))
            srv.drop_streams()
            c.wait(
                "SELECT count(*) FROM collect_gaps WHERE source LIKE 'mastodon-stream:%' AND status = 'backfilled'",
                1,
            )
            c.wait(
                "SELECT count(*) FROM posts WHERE NOT is_context", len({json.loads(t)["uri"] for t in want})
            )
            # Several gaps may be backfilled (one per hashtag stream, some with nothing new):
            # the one that covered the drop brought the statuses revealed meanwhile.
            gap = c.q(
                "SELECT any_value(backfill_source), max(records) FROM collect_gaps"
                " WHERE source LIKE 'mastodon-stream:%' AND status = 'backfilled'"
            )[0]
            deleted = c.q("SELECT native_id FROM posts WHERE deleted_at IS NOT NULL")
            tokens_in_db = sum(srv.token.encode() in p for p in c.payloads())
            tokens_in_db += c.n(
                "SELECT count(*) FROM collect_connections WHERE contains(url, ?)", [srv.token]
            )
    assert deleted == [(first["uri"],)]
    assert gap[0].startswith("mastodon:") and gap[1] > 0
    assert tokens_in_db == 0


def test_kill_9_resumes_without_gap_or_duplicate(tmp_path: Path) -> None:
    texts = lines(MASTODON_STATUSES)
    srv = MastodonServer()
    srv.page_size_cap = 2
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        db = tmp_path / "a.duckdb"
        code = (
            "import sys; from salon.collect.credentials import Credentials; from salon.collect import run;"
            f"run({str(db)!r}, {str(camp)!r}, credentials=Credentials(env={{}}))"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env={**os.environ, "SALON_CREDENTIALS": "/nonexistent"}
        )
        try:
            # kill it in the middle of the backward sweep
            eventually(lambda: len(srv.requests) >= 8, 20)
            time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with Collector(db, camp) as c:
            before = c.n("SELECT count(*) FROM raw")
            c.wait(
                "SELECT count(*) FROM posts WHERE NOT is_context",
                len({json.loads(t)["uri"] for t in tagged(texts)}),
                30,
            )
            eventually(lambda: c.n("SELECT count(*) FROM collect_cursors WHERE name LIKE '%sweep%'") == 0)
            # the sweeps the kill interrupted left their gaps open: resumed, they are covered
            c.wait("SELECT count(*) FROM collect_gaps WHERE status = 'backfilled'", 6)
            open_gaps = c.q("SELECT source, status FROM collect_gaps WHERE status != 'backfilled'")
            raws = c.n("SELECT count(*) FROM raw")
            runs = c.q("SELECT status FROM imports WHERE kind = 'collect' ORDER BY import_id")
            orphan = c.q("SELECT close_reason FROM collect_connections ORDER BY connection_id LIMIT 1")
    assert 0 < before < len(tagged(texts))
    assert raws == len(tagged(texts))  # nothing twice
    assert runs[0][0] == "interrupted"
    assert "killed" in orphan[0][0]
    assert open_gaps == []


def _stream_status(c: Collector, host: str) -> dict[str, object]:
    return next((s for s in c.board.snapshot() if s["source"] == f"mastodon-stream:{host}"), {})


def test_stream_stall_seconds_is_configurable_and_a_quiet_stream_stays_open(tmp_path: Path) -> None:
    """``stall_seconds`` is read from ``[sources.mastodon]`` like the other sources: a stream
    quiet for less stays connected, one silent for longer is reopened."""
    srv = MastodonServer(visible=0)
    env = {"SALON_MASTODON_TOKEN": srv.token}
    stream_rows = "SELECT count(*) FROM collect_connections WHERE source LIKE 'mastodon-stream:%'"
    with srv:
        quiet = campaign_file(
            tmp_path, TAGS, sources(srv.base, extra="stall_seconds = 30\n", poll=30), "quiet"
        )
        with Collector(tmp_path / "q.duckdb", quiet, env=env) as c:
            c.wait(stream_rows, 3)  # one stream per hashtag
            time.sleep(3)  # quiet (no event, no heartbeat), but for less than 30 s
            kept_open = c.n(stream_rows + " AND closed_at IS NULL")
            opened = c.n(stream_rows)
            messages = list(c.board.messages)
        assert (opened, kept_open) == (3, 3)
        assert not any("stall_seconds" in m for m in messages)  # a known key, not ignored
        stall = campaign_file(
            tmp_path, TAGS, sources(srv.base, extra="stall_seconds = 1\n", poll=30), "stall"
        )
        with Collector(tmp_path / "s.duckdb", stall, env=env) as c:
            c.wait(stream_rows + " AND close_reason LIKE 'Stalled%'", 3)  # each stream reopened
            c.wait(stream_rows, 6)
            reasons = {
                r[0] for r in c.q("SELECT close_reason FROM collect_connections WHERE closed_at IS NOT NULL")
            }
    assert reasons <= {"Stalled: no event for 1s", "stopped"}


def test_refused_stream_counts_a_disconnect(tmp_path: Path) -> None:
    """A stream the server refuses (401: a GiveUp) is a disconnect too, as on X and Jetstream."""
    srv = MastodonServer(visible=0)
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, poll=30))
        with Collector(tmp_path / "a.duckdb", camp, env={"SALON_MASTODON_TOKEN": "not-the-token"}) as c:
            eventually(
                lambda: _stream_status(c, srv.host).get("disconnects") == 3,
                what=lambda: f"3 disconnects (one per hashtag stream): {_stream_status(c, srv.host)}",
            )
            time.sleep(0.5)
            st = _stream_status(c, srv.host)
            messages = list(c.board.messages)
    assert st["disconnects"] == 3 and st["connections"] == 0 and st["state"] == "failed"
    assert sum(r.path == "/api/v1/streaming/hashtag" for r in srv.requests) == 3  # refused: never retried
    assert sum("refused the token (401)" in m for m in messages) == 3
