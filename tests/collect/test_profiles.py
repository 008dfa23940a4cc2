"""Names, not identifiers: Bluesky DIDs named by batched getProfiles lookups against a local
AppView (recorded profile view of ../shared), by Jetstream identity events during collection,
with ``salon authors refresh``; author snapshots keep the history; the pages show the names."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.collect.profiles import ProfileCache, dids_to_resolve, refresh_archive
from salon.importer import import_paths
from salon.store.archive import open_archive
from tests.conftest import corpus_path

from .harness import Collector, campaign_file
from .jetstream_server import JetstreamServer
from .servers import JETSTREAM_EVENTS, ProfilesServer, lines
from .test_jetstream import TAGS, expected
from .test_jetstream_events import sources

pytestmark = pytest.mark.usefixtures("needs_shared")


def jetstream_archive(path: Path) -> list[str]:
    """An archive of the recorded Jetstream events (authors known by DID only); their DIDs."""
    rep = import_paths([str(corpus_path(JETSTREAM_EVENTS))], path)
    assert rep.posts_new > 0
    with open_archive(path, read_only=True) as arc:
        dids = [r[0] for r in arc.con.execute("SELECT native_id FROM authors ORDER BY 1").fetchall()]
        assert arc.con.execute("SELECT count(*) FROM authors WHERE handle IS NOT NULL").fetchone() == (0,)
    return dids


def names(path: Path) -> dict[str, tuple[str | None, str | None]]:
    with open_archive(path, read_only=True) as arc:
        rows = arc.con.execute("SELECT native_id, handle, display_name FROM authors").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_getprofiles_in_batches_of_25_with_a_rate_limit_and_history(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    dids = jetstream_archive(db)
    assert len(dids) > 25  # more than one call's worth
    gone = dids[3]
    srv = ProfilesServer(unknown={gone})
    srv.rate_limited = 1  # the first call is told to wait (ratelimit-reset in 1 s)
    with srv:
        with open_archive(db) as arc:
            report = refresh_archive(arc, appview=srv.base)
            assert dids_to_resolve(arc) == [gone]  # the AppView does not know it
            again = refresh_archive(arc, appview=srv.base)  # only the unknown one is asked again
        named = names(db)
        before = srv.name(dids[0])
        # a display name changed since: a refresh of names older than 0 h brings the new one
        srv.names[dids[0]] = (srv.name(dids[0])[0], "Museum renamed")
        with open_archive(db) as arc:
            refresh_archive(arc, appview=srv.base, older_than=timedelta(0))
            history = arc.con.execute(
                "SELECT display_name FROM author_snapshots WHERE uid = ? AND display_name IS NOT NULL ORDER BY observed_at",
                [f"bluesky:{dids[0]}"],
            ).fetchall()
            raw = arc.con.execute(
                "SELECT count(*), min(format) FROM raw WHERE source LIKE '%/xrpc/app.bsky.actor.getProfiles?actors=%'"
            ).fetchone()
    assert srv.too_many == 1
    assert [len(c) for c in srv.calls[:2]] == [25, len(dids) - 25]  # 25 per call, each DID once
    assert report.asked == len(dids) and report.found == len(dids) - 1 and not report.failed
    assert again.asked == 1 and again.found == 0
    assert named == {d: (None, None) if d == gone else srv.name(d) if d != dids[0] else before for d in dids}
    assert history == [(before[1],), ("Museum renamed",)]  # the snapshots keep the history
    assert names(db)[dids[0]][1] == "Museum renamed"
    assert raw is not None and raw[0] >= 3 and raw[1] == "bluesky"


def test_profile_cache_asks_again_only_when_due() -> None:
    cache = ProfileCache(refresh=60.0)
    cache.mark(["did:plc:a"], now=100.0)
    assert cache.due(["did:plc:a", "did:plc:b"], now=120.0) == ["did:plc:b"]
    assert cache.due(["did:plc:a"], now=161.0) == ["did:plc:a"]


def test_salon_authors_refresh(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    dids = jetstream_archive(db)
    with ProfilesServer() as srv:
        res = CliRunner().invoke(app, ["authors", "refresh", "-a", str(db), "--appview", srv.base, "--json"])
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        res2 = CliRunner().invoke(app, ["authors", "refresh", "-a", str(db), "--appview", srv.base])
    assert out["asked"] == len(dids) and out["found"] == len(dids) and out["calls"] == 2
    assert "0 Bluesky author(s) looked up" in res2.stdout
    assert all(h == srv.name(d)[0] for d, (h, _n) in names(db).items())


def test_names_during_collection_from_profiles_and_identity_events(tmp_path: Path) -> None:
    """The collector names the authors of kept posts by getProfiles, and an identity event of
    a kept author (subscribeRepos#identity with its new handle) renames them."""
    events = lines(JETSTREAM_EVENTS)
    kept = [json.loads(e) for e in expected(events, TAGS)]
    author = kept[0]["did"]
    ident = next(json.loads(e) for e in events if json.loads(e)["kind"] == "identity")
    ident.update(did=author, time_us=max(json.loads(e)["time_us"] for e in events) + 1)
    ident["identity"].update(did=author, handle="renamed.museum.example")
    with JetstreamServer(events) as js, ProfilesServer() as appview:
        extra = f'profiles = "{appview.base}"\nprofiles_seconds = 0.2\n'
        camp = campaign_file(tmp_path, TAGS, sources(js.base).replace('profiles = ""\n', extra))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM authors WHERE handle IS NOT NULL", len({k["did"] for k in kept}))
            first = c.q("SELECT handle, display_name FROM authors WHERE native_id = ?", [author])[0]
            js.publish([json.dumps(ident)])
            c.wait("SELECT count(*) FROM authors WHERE handle = 'renamed.museum.example'", 1)
            snaps = c.q("SELECT handle FROM author_snapshots WHERE uid = ? AND handle IS NOT NULL ORDER BY observed_at",
                        [f"bluesky:{author}"])  # fmt: skip
            page = c.q(
                "SELECT a.handle FROM posts p JOIN authors a ON a.uid = p.author_uid WHERE p.platform = 'bluesky'"
            )
    assert first == appview.name(author)
    assert [s[0] for s in snaps] == [appview.name(author)[0], "renamed.museum.example"]
    assert all(p[0] for p in page)  # every kept post's author has a name
    assert all(len(call) <= 25 for call in appview.calls)


def test_identity_events_of_other_accounts_are_not_kept(tmp_path: Path) -> None:
    events = lines(JETSTREAM_EVENTS)
    with JetstreamServer(events) as js:
        camp = campaign_file(tmp_path, TAGS, sources(js.base))
        with Collector(tmp_path / "a.duckdb", camp) as c:
            c.wait("SELECT count(*) FROM posts WHERE platform = 'bluesky'", 2)
            asyncio.run(asyncio.sleep(0.3))
            frames = [json.loads(p) for p in c.payloads("jetstream-events")]
    assert {f["payload"]["$type"].rpartition("#")[2] for f in frames} == {"commit"}


def test_the_explorer_shows_names_not_dids(tmp_path: Path) -> None:
    """The explorer's post cards name Bluesky authors (display name and @handle) once refreshed;
    before, they could only show the DID."""
    import re

    from fastapi.testclient import TestClient

    from salon.web.app import create_app

    db = tmp_path / "a.duckdb"
    dids = jetstream_archive(db)
    with ProfilesServer() as srv, open_archive(db) as arc:
        refresh_archive(arc, appview=srv.base)
    with TestClient(create_app(str(db))) as client:
        html = client.get("/explore").text
    who = re.findall(r'<a class="who"[^>]*>(.*?)</a>', html)
    assert who and not any("did:plc:" in w for w in who)
    named = {f'<strong>{n}</strong> <span class="muted">@{h}</span>' for h, n in map(srv.name, dids)}
    assert all(w in named for w in who), who
