"""Jetstream collection against a real WebSocket server replaying recorded Jetstream events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from salon.collect.jetstream import POST, REPOST
from salon.hashtags import tag_key
from salon.store.archive import open_archive
from tests.conftest import corpus_path

from .harness import Collector, campaign_file
from .jetstream_server import JetstreamServer
from .servers import JETSTREAM_EVENTS, eventually, lines

TAGS = ["IndieRebellion", "talesatwonderworld"]


def _tags(rec: dict) -> list[str]:
    out = [
        f["tag"]
        for fc in rec.get("facets") or ()
        for f in fc.get("features") or ()
        if f.get("$type", "").endswith("#tag")
    ]
    return out + list(rec.get("tags") or ())


def expected(events: list[str], tags: list[str]) -> list[str]:
    """The events a campaign of ``tags`` must keep, worked out from the corpus itself."""
    keys = {tag_key(t) for t in tags}
    kept: set[str] = set()
    out = []
    for e in sorted(events, key=lambda s: json.loads(s)["time_us"]):
        o = json.loads(e)
        c = o.get("commit") or {}
        if o["kind"] != "commit" or c.get("collection") not in (POST, REPOST):
            continue
        uri = f"at://{o['did']}/{c['collection']}/{c['rkey']}"
        rec = c.get("record") or {}
        if c["operation"] == "delete":
            keep = uri in kept
        elif c["collection"] == POST:
            keep = uri in kept or any(tag_key(t) in keys for t in _tags(rec))
        else:
            keep = (rec.get("subject") or {}).get("uri") in kept
        if keep:
            kept.add(uri)
            out.append(e)
    return out


def delivered(events: list[str]) -> list[str]:
    """What Jetstream sends a subscriber of posts and reposts (identity/account events too)."""
    return [
        e
        for e in events
        if json.loads(e)["kind"] != "commit" or json.loads(e)["commit"]["collection"] in (POST, REPOST)
    ]


def sources(url: str, extra: str = "", window_hours: float = 1e6) -> str:
    """The test server replays every event it has from any cursor: its replay window is
    unbounded, and said so (``replay_window_hours``), unlike a real Jetstream's."""
    return (
        f'[sources.bluesky]\njetstream = "{url}"\nappview = ""\nprofiles = ""\nbatch_seconds = 0.05\n'
        f"stall_seconds = 2\nreplay_window_hours = {window_hours:g}\n{extra}"
    )


def raw_payloads(c: Collector) -> list[bytes]:
    return c.payloads("jetstream")


def test_replay_keeps_campaign_posts_exactly_once(tmp_path: Path) -> None:
    events = lines(JETSTREAM_EVENTS)
    want = expected(events, TAGS)
    assert len(want) == 2  # the corpus holds two posts with these hashtags
    with JetstreamServer(events) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.url))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            assert c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2) == 2
            c.wait("SELECT count(*) FROM collect_cursors WHERE name = 'time_us'", 1)
            got = raw_payloads(c)
            cursor = c.q("SELECT value FROM collect_cursors WHERE name = 'time_us'")[0][0]
        report = c.report
    assert sorted(got) == sorted(w.encode() for w in want)  # byte-exact, once each
    assert int(cursor) == max(json.loads(e)["time_us"] for e in delivered(events))
    assert report is not None and report.totals.records_bad == 0
    # the subscription asked for posts and reposts only, from the campaign start
    assert "wantedCollections=app.bsky.feed.post" in srv.connections[0]
    assert "wantedCollections=app.bsky.feed.repost" in srv.connections[0]
    assert "cursor=1451606400000000" in srv.connections[0]


def test_drop_stall_and_malformed_frames_lose_nothing(tmp_path: Path) -> None:
    events = lines(JETSTREAM_EVENTS)
    want = expected(events, TAGS)
    # first connection: two malformed frames then a drop mid-stream; second: a stall; third: all
    srv = JetstreamServer(events, drops=[20], stalls=[60], malformed=["{not json", b"\x00\xff"])
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.url, "overlap_seconds = 0.05\n"))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM collect_connections", 3, timeout=20)
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            got = raw_payloads(c)
            quarantined = c.n("SELECT count(*) FROM quarantine")
            conns = c.q("SELECT close_reason FROM collect_connections ORDER BY connection_id")
            gaps = c.n("SELECT count(*) FROM collect_gaps WHERE reason = 'disconnected'")
    assert sorted(got) == sorted(w.encode() for w in want)
    assert quarantined == 2  # the malformed frames are kept in quarantine, not dropped
    assert len(conns) >= 3 and conns[0][0] and conns[1][0]
    assert gaps >= 1
    # each reconnection resumed from the saved cursor, not from the campaign start
    assert all("cursor=1451606400000000" not in p for p in srv.connections[1:])


def test_resume_after_restart_replays_with_overlap(tmp_path: Path) -> None:
    events = sorted(lines(JETSTREAM_EVENTS), key=lambda s: json.loads(s)["time_us"])
    half = len(events) // 2
    with JetstreamServer(events[:half]) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.url))
        db = tmp_path / "a.duckdb"
        with Collector(db, camp) as c:
            c.wait("SELECT count(*) FROM collect_cursors WHERE name = 'time_us'", 1)
            first_cursor = int(c.q("SELECT value FROM collect_cursors")[0][0])
        srv.publish(events[half:])
        with Collector(db, camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            got = raw_payloads(c)
    assert first_cursor == max(json.loads(e)["time_us"] for e in delivered(events[:half]))
    assert f"cursor={first_cursor - 5_000_000}" in srv.connections[1]
    assert sorted(got) == sorted(w.encode() for w in expected(events, TAGS))


def test_legacy_compression_uses_the_legacy_dictionary_by_id_else_the_file_else_none(tmp_path: Path) -> None:
    """/subscribe?compress=true only with the legacy dictionary: handed out by the server by its
    id, else the configured file, else frames stay uncompressed (no compress=true asked)."""
    legacy = corpus_path("bluesky-jetstream", "dictionaries", "legacy_subscribe.zdict")
    want = expected(lines(JETSTREAM_EVENTS), TAGS)
    cases = [
        ({"dictionaries": [legacy.read_bytes()]}, "", True),  # the server hands it out by id
        ({}, f'zstd_dictionary = "{legacy}"\n', True),  # a configured file
        ({}, "", False),  # neither: uncompressed
    ]
    for i, (server, extra, compressed) in enumerate(cases):
        srv = JetstreamServer(lines(JETSTREAM_EVENTS), legacy_dictionary=legacy.read_bytes(), **server)
        with srv:
            camp = campaign_file(tmp_path, TAGS, sources(srv.url, "compress = true\n" + extra), slug=f"z{i}")
            with Collector(tmp_path / f"z{i}.duckdb", camp) as c:
                c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
                got = raw_payloads(c)
                bad = c.n("SELECT count(*) FROM quarantine")
        assert ("compress=true" in srv.connections[0]) is compressed, (i, srv.connections)
        if server:
            assert srv.dictionary_requests == ["/xrpc/network.bsky.jetstream.getZstdDictionary?id=1612007021"]
        # stored decompressed: the exact JSON text the server compressed
        assert sorted(got) == sorted(w.encode() for w in want) and bad == 0
        assert all(orjson.loads(g)["kind"] == "commit" for g in got)


def test_reposts_and_deletes_of_kept_posts(tmp_path: Path) -> None:
    """A repost of a kept post and the deletion of a kept post arriving live are kept."""
    events = lines(JETSTREAM_EVENTS)
    want = expected(events, TAGS)
    post = json.loads(want[0])
    uri = f"at://{post['did']}/{POST}/{post['commit']['rkey']}"
    # reuse recorded repost and delete events, pointed at the kept post (only ids changed)
    repost = next(json.loads(e) for e in events if '"app.bsky.feed.repost"' in e)
    repost["time_us"] = post["time_us"] + 10
    repost["commit"]["record"]["subject"]["uri"] = uri
    delete = next(
        json.loads(e) for e in events if '"operation":"delete","collection":"app.bsky.feed.post"' in e
    )
    delete.update(did=post["did"], time_us=post["time_us"] + 20)
    delete["commit"]["rkey"] = post["commit"]["rkey"]
    with JetstreamServer(events) as srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.url))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            srv.publish([json.dumps(repost), json.dumps(delete)])
            c.wait("SELECT count(*) FROM tombstones", 1)
            kinds = dict(c.q("SELECT kind, count(*) FROM posts GROUP BY kind"))
            deleted = c.q("SELECT native_id FROM posts WHERE deleted_at IS NOT NULL")
    assert kinds.get("repost") == 1
    assert deleted == [(uri,)]


def test_gaps_backfilled_by_search_with_one_reused_session(tmp_path: Path) -> None:
    from .servers import BlueskyServer

    events = lines(JETSTREAM_EVENTS)
    bsky = BlueskyServer()
    with JetstreamServer(events, drops=[20]) as srv, bsky:
        extra = f'auth_service = "{bsky.base}"\n'
        src = sources(srv.url, extra).replace('appview = ""', f'appview = "{bsky.base}"')
        camp = campaign_file(tmp_path, TAGS, src)
        env = {"SALON_BSKY_HANDLE": bsky.user, "SALON_BSKY_APP_PASSWORD": bsky.password}
        with Collector(tmp_path / "a.duckdb", camp, env=env) as c:
            c.wait(
                "SELECT count(*) FROM collect_gaps WHERE status = 'backfilled' AND records > 0", 2, timeout=20
            )
            gaps = c.q("SELECT reason, backfill_source, records FROM collect_gaps ORDER BY gap_id")
            found = c.n("SELECT count(*) FROM posts WHERE native_id = ?", [bsky.post_view["uri"]])
            leaked = sum(bsky.password.encode() in p for p in c.payloads())
            leaked += c.n(
                "SELECT count(*) FROM collect_gaps WHERE contains(coalesce(note, ''), ?)", [bsky.password]
            )
    assert [g[0] for g in gaps][:2] == ["collection started after the campaign began", "disconnected"]
    assert all("search" in g[1] for g in gaps[:2])
    assert found == 1 and leaked == 0
    assert bsky.created == 1 and bsky.refreshed >= 2  # one login, refreshed, never re-created
    assert {r.q("q") for r in bsky.searches} == {f"#{t}" for t in TAGS}
    assert all(r.q("since") and r.q("until") for r in bsky.searches)


def test_a_failed_gap_backfill_is_retried_by_the_next_run(tmp_path: Path) -> None:
    """A searchPosts backfill that failed (a refused login) is started again, and closed, when
    the next run starts."""
    from datetime import UTC, timedelta

    from .servers import BlueskyServer

    bsky = BlueskyServer()
    with JetstreamServer(lines(JETSTREAM_EVENTS)) as srv, bsky:
        extra = f'auth_service = "{bsky.base}"\n'
        src = sources(srv.url, extra).replace('appview = ""', f'appview = "{bsky.base}"')
        camp = campaign_file(tmp_path, TAGS, src)
        db = tmp_path / "a.duckdb"
        env = {"SALON_BSKY_HANDLE": bsky.user, "SALON_BSKY_APP_PASSWORD": "not-the-password"}
        with Collector(db, camp, env=env) as c:
            c.wait("SELECT count(*) FROM collect_gaps WHERE status = 'failed'", 1)
            failed = c.q("SELECT gap_id, gap_start, note FROM collect_gaps WHERE status = 'failed'")
        assert bsky.searches == [] and "401" in failed[0][2]
        gap_id, gap_start = failed[0][0], failed[0][1]
        env["SALON_BSKY_APP_PASSWORD"] = bsky.password
        with Collector(db, camp, env=env) as c:
            c.wait(f"SELECT count(*) FROM collect_gaps WHERE gap_id = {gap_id} AND status = 'backfilled'", 1)
            gap = c.q("SELECT backfill_source, records FROM collect_gaps WHERE gap_id = ?", [gap_id])[0]
            # this run's own gap (since the first run stopped) is backfilled too: none is left
            pending = "SELECT count(*) FROM collect_gaps WHERE status IN ('open', 'backfilling', 'failed', 'partial')"
            eventually(lambda: c.n(pending) == 0, what="no gap left pending")
    assert gap[0] == "jetstream replay + bluesky:search" and gap[1] > 0  # it brought the post
    since = (gap_start - timedelta(seconds=60)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert {r.q("q") for r in bsky.searches if r.q("since") == since} == {f"#{t}" for t in TAGS}


def _partial_gap(db: Path, replay_note: str) -> tuple[int, datetime]:
    """Leave in ``db`` what an earlier run without a Bluesky login leaves: a Jetstream gap its
    cursor replay covered only in part (status ``partial``). Its id and start."""
    from salon.collect import state
    from salon.collect.jetstream import SOURCE

    now = datetime.now(UTC) - timedelta(hours=1)
    with open_archive(db) as arc:
        _cid, gap = state.open_connection(
            arc, None, "live-test", SOURCE, "ws://earlier", now, now - timedelta(hours=2)
        )
        assert gap is not None
        state.finish_backfill(
            arc, gap.gap_id, "partial", now, note=replay_note, backfill_source="jetstream cursor replay"
        )
    return gap.gap_id, gap.start


def test_a_partial_gap_is_backfilled_by_search_in_the_next_run(tmp_path: Path) -> None:
    """A gap the cursor replay covered only in part is searched by the next run with a login;
    the replay's note stays."""
    from .servers import BlueskyServer

    db = tmp_path / "a.duckdb"
    note = "replayed from cursor 2026-03-01T11:30:00+00:00 (after the gap start)"
    gap_id, gap_start = _partial_gap(db, note)
    bsky = BlueskyServer()
    with JetstreamServer(lines(JETSTREAM_EVENTS)) as srv, bsky:
        extra = f'auth_service = "{bsky.base}"\n'
        src = sources(srv.url, extra).replace('appview = ""', f'appview = "{bsky.base}"')
        camp = campaign_file(tmp_path, TAGS, src)
        env = {"SALON_BSKY_HANDLE": bsky.user, "SALON_BSKY_APP_PASSWORD": bsky.password}
        with Collector(db, camp, env=env) as c:
            c.wait(f"SELECT count(*) FROM collect_gaps WHERE gap_id = {gap_id} AND status = 'backfilled'", 1)
            gap = c.q("SELECT backfill_source, records, note FROM collect_gaps WHERE gap_id = ?", [gap_id])[0]
            said = list(c.board.messages)
    assert gap[0] == "jetstream replay + bluesky:search" and gap[1] > 0 and gap[2] == note
    since = (gap_start - timedelta(seconds=60)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert {r.q("q") for r in bsky.searches if r.q("since") == since} == {f"#{t}" for t in TAGS}
    assert any("backfilling again 1 gap(s)" in m for m in said)


def test_a_partial_gap_stays_partial_without_a_search_backfill(tmp_path: Path) -> None:
    """Without a Bluesky login nothing can cover a partial gap: the next run leaves it as it is
    (no replay from its start, no retry)."""
    db = tmp_path / "a.duckdb"
    note = "replayed from cursor 2026-03-01T11:30:00+00:00 (after the gap start)"
    gap_id, _start = _partial_gap(db, note)
    with JetstreamServer(lines(JETSTREAM_EVENTS)) as srv:
        src = sources(srv.url).replace('appview = ""', 'appview = "http://127.0.0.1:9"')
        camp = campaign_file(tmp_path, TAGS, src)
        with Collector(db, camp) as c:
            # this run's own gap (since the earlier connection) is replayed: the run is under way
            c.wait("SELECT count(*) FROM collect_gaps WHERE backfill_source = 'jetstream cursor replay'", 2)
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            said = list(c.board.messages)
        with open_archive(db, read_only=True) as arc:
            gap = arc.con.execute(
                "SELECT status, note, backfill_source, backfill_started_at FROM collect_gaps WHERE gap_id = ?",
                [gap_id],
            ).fetchall()[0]
    assert gap == ("partial", note, "jetstream cursor replay", None)
    assert not any("backfilling again" in m for m in said)
    assert any("no Bluesky login" in m for m in said)
