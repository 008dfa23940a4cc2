"""Jetstream's XRPC ``subscribeEvents`` against a real local server (tests/collect/jetstream_server.py)
replaying the recorded events of ../shared as the lexicon's frames: the default endpoint, the
404 fallback both ways, run-time zstd with both real dictionaries and a rotation mid-run, resync
duplicates, CursorTooOld / OutdatedCursor / ConsumerTooSlow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salon.collect.jetstream import POST, REPOST
from tests.conftest import corpus_path

from .harness import Collector, campaign_file
from .jetstream_server import EVENTS_PATH, JetstreamServer, dict_id, xrpc_frame
from .servers import JETSTREAM_EVENTS, eventually, lines
from .test_jetstream import TAGS, expected

pytestmark = pytest.mark.usefixtures("needs_shared")

DICTS = "bluesky-jetstream/dictionaries"
START_US = 1451606400000000  # the campaign start (2016-01-01) in unix microseconds


def sources(base: str, extra: str = "") -> str:
    return f'[sources.bluesky]\njetstream = "{base}"\nappview = ""\nprofiles = ""\nbatch_seconds = 0.05\nstall_seconds = 2\n{extra}'


def frames_of(srv: JetstreamServer, v1_events: list[str]) -> list[bytes]:
    """The subscribeEvents frames the server sends for these recorded events (first sending)."""
    want, out = set(v1_events), []
    for e in srv.log:
        if e.v1 in want:
            want.discard(e.v1)  # a resync sends the same event again: the first sending only
            out.append(xrpc_frame(e.obj, e.seq, e.time_us).encode())
    return out


def last_sent(srv: JetstreamServer) -> int:
    """The seq of the last event the collector's subscription receives."""
    return [e for e in srv.log if e.kind == "identity" or e.collection in (POST, REPOST)][-1].seq


def cursors(c: Collector) -> dict[str, str]:
    return dict(c.q("SELECT name, value FROM collect_cursors"))


def test_subscribe_events_is_the_default_and_keeps_campaign_posts_once(tmp_path: Path) -> None:
    events = lines(JETSTREAM_EVENTS)
    with JetstreamServer(events) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            last = last_sent(srv)
            c.wait(f"SELECT count(*) FROM collect_cursors WHERE name = 'seq' AND value = '{last}'", 1)
            got = c.payloads("jetstream-events")
            kinds = dict(c.q("SELECT kind, count(*) FROM posts GROUP BY kind"))
            eventually_seq = cursors(c)
    first = srv.connections[0]
    assert first.startswith(EVENTS_PATH + "?") and srv.subprotocols[0] == "xrpc.v1.json"
    for param in (
        "kinds=commit",
        "kinds=identity",
        f"collections={POST}",
        f"collections={REPOST}",
        f"cursor={START_US}",  # a time (>= 1e15): the campaign start
    ):
        assert param in first
    assert sorted(got) == sorted(frames_of(srv, expected(events, TAGS)))  # byte-exact, once each
    assert kinds == {"original": 2}
    assert eventually_seq["seq"] == str(last) and eventually_seq["seq_host"] == srv.base


@pytest.mark.parametrize("served", ["subscribe", "subscribeEvents"])
def test_a_404_switches_to_the_other_endpoint(tmp_path: Path, served: str) -> None:
    """A host serving only one wire: the configured other one answers 404, the collector
    switches and keeps the same posts."""
    events = lines(JETSTREAM_EVENTS)
    asked = "subscribe" if served == "subscribeEvents" else "subscribeEvents"
    with JetstreamServer(events, endpoints=(served,)) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, f'endpoint = "{asked}"\n'))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            fmt = c.q("SELECT DISTINCT format FROM raw")
    assert srv.refused and srv.refused[0][0] == 404
    path = EVENTS_PATH if served == "subscribeEvents" else "/subscribe"
    assert srv.connections and all(p.startswith(path + "?") for p in srv.connections)
    assert fmt == [("jetstream-events" if served == "subscribeEvents" else "jetstream",)]


def test_compressed_frames_with_both_real_dictionaries_and_a_rotation(tmp_path: Path) -> None:
    """zstd negotiated at run time: the server's current dictionary is fetched and cached by id,
    frames compressed with it; the server rotates to the other real dictionary mid-run, the
    reconnection is refused (UnknownZstdDictionary), the new one is fetched and used."""
    events = sorted(lines(JETSTREAM_EVENTS), key=lambda s: json.loads(s)["time_us"])
    first = corpus_path(DICTS, "subscribe_events_20260811.zdict").read_bytes()
    second = corpus_path(DICTS, "legacy_subscribe.zdict").read_bytes()
    want = expected(events, TAGS)
    cut = events.index(want[-1])  # the last kept post comes after the rotation
    with JetstreamServer(events[:cut], dictionaries=[first]) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, "compress = true\noverlap_seconds = 0.05\n"))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 1)
            srv.rotate(second)
            srv.publish(events[cut:])
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            got = c.payloads("jetstream-events")
            bad = c.n("SELECT count(*) FROM quarantine")
    assert f"zstdDictionary={dict_id(first)}" in srv.connections[0]
    assert ("400", "UnknownZstdDictionary") in {(str(s), e) for s, e in srv.refused}
    assert any(f"zstdDictionary={dict_id(second)}" in p for p in srv.connections[1:])
    # the current dictionary fetched twice (at the start and after the rotation), never by id
    assert srv.dictionary_requests == ["/xrpc/network.bsky.jetstream.getZstdDictionary"] * 2
    assert sorted(got) == sorted(frames_of(srv, want)) and bad == 0


def test_without_a_dictionary_from_the_server_frames_stay_uncompressed(tmp_path: Path) -> None:
    events = lines(JETSTREAM_EVENTS)
    with JetstreamServer(events) as srv:  # no dictionary: getZstdDictionary answers 404
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, "compress = true\n"))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            got = c.payloads("jetstream-events")
    assert "zstdDictionary" not in srv.connections[0] and srv.dictionary_requests
    assert sorted(got) == sorted(frames_of(srv, expected(events, TAGS)))


def test_resync_creates_are_stored_once(tmp_path: Path) -> None:
    """After a resync the server sends every create again as new events (new seq, new time, so
    other bytes): they are deduplicated by (did, collection, rkey), nothing is counted twice."""
    events = lines(JETSTREAM_EVENTS)
    with JetstreamServer(events, resyncs=[10**6]) as srv:  # resync once the backlog is sent
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            eventually(lambda: len(srv.log) > len(events), what="the resync")
            resent = len(srv.log) - len(events)
            c.wait("SELECT count(*) FROM collect_cursors WHERE name = 'seq' AND value::BIGINT = "
                   f"{srv.log[-1].seq}", 1)  # fmt: skip
            got = c.payloads("jetstream-events")
            posts = c.n("SELECT count(*) FROM posts")
    assert resent > 2  # the resync did send the kept creates again
    assert sorted(got) == sorted(frames_of(srv, expected(events, TAGS))) and posts == 2


def test_cursor_too_old_outdated_cursor_and_a_consumer_too_slow(tmp_path: Path) -> None:
    events = sorted(lines(JETSTREAM_EVENTS), key=lambda s: json.loads(s)["time_us"])
    half = len(events) // 2
    db = tmp_path / "a.duckdb"
    # 1. the campaign start is below the floor: the time cursor is clamped up (#info
    #    OutdatedCursor), so the gap since the campaign start is covered only in part;
    # 2. a ConsumerTooSlow error frame ends the first connection: reconnect from the saved seq
    srv = JetstreamServer(events[:half], floor_us=json.loads(events[1])["time_us"], too_slow=[5])
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        with Collector(db, camp) as c:
            c.wait("SELECT count(*) FROM collect_connections", 2)
            last = last_sent(srv)
            c.wait(f"SELECT count(*) FROM collect_cursors WHERE name = 'seq' AND value = '{last}'", 1)
            gaps = c.q("SELECT status, note FROM collect_gaps ORDER BY gap_id")
            closes = [
                r[0] for r in c.q("SELECT close_reason FROM collect_connections ORDER BY connection_id")
            ]
        assert gaps[0][0] == "partial" and "OutdatedCursor" in gaps[0][1]
        assert closes[0] and "ConsumerTooSlow" in closes[0]
        resumed = int(srv.connections[1].split("cursor=")[1].split("&")[0])
        assert resumed < 10**15  # a seq, not a time
        # 3. a later run whose saved seq is now below the server's retention floor: CursorTooOld
        #    (HTTP 400 naming the floor), resumed from the floor, the gap since then partial
        srv.floor_seq = last + 3
        srv.publish(events[half:])
        with Collector(db, camp) as c:
            c.wait("SELECT count(*) FROM collect_connections", 3)
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            gap = c.q("SELECT status, note FROM collect_gaps ORDER BY gap_id DESC LIMIT 1")[0]
    assert ("400", "CursorTooOld") in {(str(s), e) for s, e in srv.refused}
    # the saved seq was refused before the upgrade (never connected); the floor was used
    assert srv.connections[2].endswith(f"cursor={last + 3}")
    assert gap[0] == "partial" and "CursorTooOld" in gap[1]
