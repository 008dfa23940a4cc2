"""Misbehaving servers: one source's failure stays that source's, collectors stay on the
configured origin and bound a page's size, and coverage tells the truth (real HTTP/WebSocket
servers on 127.0.0.1 replaying recorded payloads, with faults)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from salon.collect.http import MAX_PAGE_BYTES

from .harness import Collector, campaign_file
from .jetstream_server import JetstreamServer
from .servers import JETSTREAM_EVENTS, MastodonServer, Request, _Handler, eventually, lines
from .test_jetstream import TAGS as JS_TAGS
from .test_jetstream import sources as js_sources
from .test_mastodon import TAGS, sources, tagged

POSTS = "SELECT count(*) FROM posts WHERE platform = 'mastodon' AND NOT is_context"


class Answers(MastodonServer):
    """A Mastodon instance whose tag timelines answer ``body`` with status 200."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def timeline(self, h: _Handler, req: Request, tag: str) -> None:
        self.send(h, 200, self.body)


class PointsAway(MastodonServer):
    """Timelines whose ``Link`` headers (``away="link"``) or redirects (``away="redirect"``)
    point to another server."""

    def __init__(self, other: str, away: str) -> None:
        super().__init__()
        self.other, self.away = other, away

    def timeline(self, h: _Handler, req: Request, tag: str) -> None:
        if self.away == "redirect":
            self.send(h, 302, b"", {"Location": f"{self.other}{req.path}"})
        else:
            super().timeline(h, req, tag)

    def send(
        self, h: _Handler, status: int, body: bytes, headers: dict[str, str] | None = None, **kw: Any
    ) -> None:
        if headers and "Link" in headers:
            headers["Link"] = headers["Link"].replace(self.base, self.other)
        super().send(h, status, body, headers, **kw)


def _problems(c: Collector, host: str) -> list[str]:
    return [s["last_problem"] or "" for s in c.board.snapshot() if s["source"] == f"mastodon:{host}"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"error":"This method requires an authenticated user [401]"}',
        b"<html><body>Bad gateway</body></html>",
        b'[{"id": "1", "uri',
    ],
    ids=["error-object", "html", "truncated"],
)
def test_a_misbehaving_instance_does_not_stop_the_others(tmp_path: Path, body: bytes) -> None:
    bad, good = Answers(body), MastodonServer()
    uris = {json.loads(t)["uri"] for t in tagged(good.texts)}
    with bad, good:
        camp = campaign_file(tmp_path, TAGS, sources(bad.base, good.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait(POSTS, len(uris), 30)
            eventually(lambda: any("not a Mastodon timeline page" in p for p in _problems(c, bad.host)))
            assert c.thread.is_alive()  # the run goes on
            quarantined = c.q("SELECT payload FROM quarantine")
            n_bad = len(bad.requests)
            time.sleep(1.0)
            assert len(bad.requests) - n_bad <= 3 * 2, "a failing timeline backs off"
        report = c.stop()
    assert report is not None
    assert body in {bytes(q[0]) for q in quarantined}  # the bad page is kept, not lost


@pytest.mark.parametrize("away", ["link", "redirect"])
def test_collectors_stay_on_the_configured_origin(tmp_path: Path, away: str) -> None:
    other = MastodonServer()
    with other:
        home = PointsAway(other.base, away)
        home.page_size_cap = 3  # a next page to follow
        with home:
            camp = campaign_file(tmp_path, TAGS, sources(home.base))
            with Collector(tmp_path / "a.duckdb", camp) as c:
                eventually(lambda: any("refused to go to" in p for p in _problems(c, home.host)), 15)
                time.sleep(0.5)
                assert c.thread.is_alive()
                sources_seen = {r[0] for r in c.q("SELECT DISTINCT source FROM raw")}
            c.stop()
    assert other.requests == []  # never reached
    assert all(home.host in s for s in sources_seen)


def test_a_page_over_the_bound_is_refused(tmp_path: Path) -> None:
    big = Answers(b"[" + b" " * (MAX_PAGE_BYTES + 1024) + b"]")
    with big:
        camp = campaign_file(tmp_path, TAGS, sources(big.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            eventually(lambda: any("bytes" in p and "refused" in p for p in _problems(c, big.host)), 20)
            assert c.thread.is_alive()
            assert c.n("SELECT count(*) FROM raw") == 0
        c.stop()


class TooMany(MastodonServer):
    """The first timeline request gets a 429 asking to wait ``retry_after`` seconds."""

    retry_after = 5

    def fault_headers(self, status: int) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if status == 429 else {}


def test_a_429_on_one_tag_pauses_the_other_tags_of_the_instance(tmp_path: Path) -> None:
    srv = TooMany()
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base, poll=0.1))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait(POSTS, len({json.loads(t)["uri"] for t in tagged(srv.texts)}), 30)
            time.sleep(0.5)
            armed = time.monotonic()  # the 429 answers a request that arrives after this
            srv.faults = [429]
            eventually(lambda: srv.too_many >= 1, 10)
            # Requests of other tags already sent before the collector read the 429 may still
            # land (seen on a loaded CI machine); count only what comes after they have.
            time.sleep(0.5)
            n = len(srv.requests)
            time.sleep(2)
            # Only what arrived inside the wait counts (it lasts at least until armed +
            # retry_after): a loaded machine that oversleeps sees the polling resume after it.
            during = [r.path for r in srv.requests[n:] if r.at < armed + srv.retry_after]
            eventually(lambda: len(srv.requests) > n + 3, 15)  # and polling resumes after it
    assert during == [], f"{len(during)} requests to the instance while it asked to wait"


def test_a_resumed_gap_is_backfilled_only_once_a_poll_ran_and_counts_its_records(tmp_path: Path) -> None:
    srv = MastodonServer(visible=100)
    db = tmp_path / "a.duckdb"
    gaps = "SELECT status, records FROM collect_gaps WHERE reason = 'disconnected' ORDER BY gap_id"
    with srv:
        camp = campaign_file(tmp_path, TAGS, sources(srv.base))
        with Collector(db, camp) as c:
            c.wait(POSTS, len({json.loads(t)["uri"] for t in tagged(srv.texts[:100])}))
        time.sleep(2.1)  # a gap between the runs (longer than the smallest gap recorded)
        srv.reveal(100)
        srv.faults = [404] * 1000  # the next run cannot poll at all
        with Collector(db, camp) as c:
            eventually(lambda: len(srv.requests) > 0 and len(srv.faults) < 1000 - 3, 15)
            failed_run = c.q(gaps)
        srv.faults = []
        with Collector(db, camp) as c:  # a run that polls: the gaps are covered now
            c.wait(POSTS, len({json.loads(t)["uri"] for t in tagged(srv.texts[:200])}))
            eventually(lambda: c.q(gaps) and all(s == "backfilled" for s, _n in c.q(gaps)), 15)
            covered = c.q(gaps)
    assert failed_run and all(s != "backfilled" for s, _n in failed_run), failed_run
    new = len(tagged(srv.texts[100:200]))
    assert new > 0
    assert sum(n for _s, n in covered) >= new, covered  # what the polls brought is counted


def test_jetstream_replay_does_not_cover_a_gap_older_than_the_server_keeps(tmp_path: Path) -> None:
    with JetstreamServer(lines(JETSTREAM_EVENTS)) as srv:
        camp = campaign_file(tmp_path, JS_TAGS, js_sources(srv.url, window_hours=24))  # starts in 2016
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM collect_gaps WHERE status <> 'open'", 1, 15)
            rows = c.q("SELECT reason, status, note FROM collect_gaps ORDER BY gap_start")
    first = rows[0]
    assert first[0] == "collection started after the campaign began"
    assert first[1] == "partial", rows
    assert "the server keeps about 24 h" in first[2]
