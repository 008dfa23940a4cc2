"""The web app in-process (no browser): the API's figures are the CLI's, read-only public
surface, accounts, CSRF, tokens, search folding and keyset paging, CSV, the ingest framing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from salon.web.app import create_app
from tests.web.data import CAMPAIGN, PARTICIPANTS, SLUG, write_batch

PASSWORD = "correct horse battery"


@pytest.fixture
def client(archive: Path) -> Iterator[TestClient]:
    from salon.store.archive import open_archive
    from salon.web import auth

    with open_archive(archive) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    with TestClient(create_app(str(archive), local_token="local-secret")) as c:
        yield c


def _login(c: TestClient) -> str:
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    edit = c.get("/edit")
    return re.search(r'name="csrf" value="([^"]+)"', edit.text).group(1)  # type: ignore[union-attr]


def test_tally_api_is_salon_tally_json(archive: Path) -> None:
    from salon.cli import app

    res = CliRunner().invoke(app, ["tally", SLUG, "-a", str(archive), "--json"])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output)
    with TestClient(create_app(str(archive))) as c:
        r = c.get(f"/api/campaigns/{SLUG}/tally")
        assert r.status_code == 200
        api = r.json()
        assert r.text.startswith("{\n  ")  # printed like the CLI: indented JSON
    for d in (cli, api):
        d.pop("computed_at")
    assert api == cli
    assert api["posts"] == 40 and api["institutions"] == 3 and api["countries"] == 3


def test_openapi_and_public_pages(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for p in (
        "/api/campaigns/{slug}/tally",
        "/api/campaigns/{slug}/stream",
        "/api/search",
        "/api/posts/{uid}",
    ):
        assert p in spec["paths"]
    for url in ("/", f"/c/{SLUG}", f"/embed/{SLUG}", f"/wall/{SLUG}", "/explore", "/login"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors *" in client.get(f"/embed/{SLUG}").headers["content-security-policy"]
    r = client.get("/nowhere", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    assert client.get("/api/campaigns/nope/tally").status_code == 404
    fr = client.get(f"/c/{SLUG}", headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert "Journées thématiques" in fr.text and 'lang="fr"' in fr.text


def test_search_is_accent_and_case_insensitive_both_ways(client: TestClient) -> None:
    def texts(q: str) -> list[str]:
        r = client.get("/api/search", params={"q": q, "limit": 200})
        assert r.status_code == 200
        return [i["text"] for i in r.json()["items"]]

    plain, accented = texts("musee"), texts("MUSÉE")
    assert any("Musée du Louvre" in t for t in plain)
    assert any("le musee reste" in t for t in accented)
    assert sorted(plain) == sorted(accented)
    assert not any("MUSEO" in t for t in plain)  # "museo" is another word
    assert texts("réserves secrets") and all("réserves" in t for t in texts("reserves"))
    assert texts("zzzz") == []


def test_filters_keyset_paging_and_csv(client: TestClient) -> None:
    seen: list[str] = []
    after = ""
    while True:
        r = client.get("/api/search", params={"limit": 7, "after": after}).json()
        seen += [i["uid"] for i in r["items"]]
        if not r["next"]:
            break
        after = r["next"]
    assert len(seen) == len(set(seen)) == 40
    r = client.get("/api/search", params={"lang": "es"}).json()
    assert r["items"] and all(i["lang"] == "es" for i in r["items"])
    r = client.get("/api/search", params={"hashtag": "#souvenirsmw"}).json()
    assert len(r["items"]) == 8
    r = client.get("/api/search", params={"campaign": SLUG, "country": "fr"}).json()
    assert r["items"] and all(i["handle"].startswith("louvre") for i in r["items"])
    r = client.get("/api/search", params={"author": "@prado", "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("uid,platform") and len(lines) == 1 + 10
    assert client.get(f"/api/campaigns/{SLUG}/tally/by_day.csv").text.startswith("day,posts")
    assert "Musée du Louvre" in client.get(f"/api/campaigns/{SLUG}/institutions?format=csv").text


def test_search_limit_is_a_validated_and_clamped_query_parameter(client: TestClient) -> None:
    for bad in ("abc", "1.5", ""):
        r = client.get("/api/search", params={"limit": bad})
        assert r.status_code == 422, (bad, r.status_code, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", "limit"]
    assert len(client.get("/api/search", params={"limit": 0}).json()["items"]) == 1
    assert len(client.get("/api/search", params={"limit": -5}).json()["items"]) == 1
    assert len(client.get("/api/search", params={"limit": 10**9}).json()["items"]) == 40
    assert len(client.get("/api/search").json()["items"]) == 40  # default PAGE_SIZE (50) > 40 posts
    spec = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params["limit"]["schema"]["type"] == "integer"


def test_post_page_shows_the_post_as_it_was(client: TestClient) -> None:
    uid = client.get("/api/search", params={"q": "louvre", "limit": 1}).json()["items"][0]["uid"]
    p = client.get(f"/api/posts/{uid}").json()
    assert p["provenance"]["format"] == "mastodon" and p["provenance"]["line"] >= 1
    html = client.get(f"/posts/{uid}").text
    assert "Provenance" in html and "batch0.jsonl" in html and "Musée du Louvre" in html
    with_media = client.get("/api/search", params={"q": "louvre", "limit": 50}).json()["items"]
    media = [i for i in with_media if i["media"]]
    assert media and media[0]["media"][0]["alt_text"] == "Une œuvre cachée"
    assert "Une œuvre cachée" in client.get(f"/posts/{media[0]['uid']}").text
    a = client.get(f"/authors/{p['author_uid']}")
    assert a.status_code == 200 and f"@{p['handle']}" in a.text
    inst = client.get(f"/c/{SLUG}/institutions/0")
    assert inst.status_code == 200 and "Musée du Louvre" in inst.text


def test_writes_need_an_editor_or_a_scoped_token(client: TestClient) -> None:
    body = {"toml": CAMPAIGN.replace(SLUG, "other-campaign"), "participants_csv": PARTICIPANTS}
    assert client.post("/api/campaigns", json=body).status_code == 401
    assert client.put(f"/api/campaigns/{SLUG}", json=body).status_code == 401
    svc = client.app.state.svc  # type: ignore[attr-defined]
    from salon.web import auth

    ingest_only = svc.submit(lambda a, w: auth.add_token(a, "collector", ["ingest"])).result()
    writer = svc.submit(lambda a, w: auth.add_token(a, "script", ["campaigns:write"])).result()
    r = client.post("/api/campaigns", json=body, headers={"Authorization": f"Bearer {ingest_only}"})
    assert r.status_code == 403
    r = client.post("/api/campaigns", json=body, headers={"Authorization": "Bearer salon_wrong"})
    assert r.status_code == 403
    r = client.post("/api/campaigns", json=body, headers={"Authorization": f"Bearer {writer}"})
    assert r.status_code == 201, r.text
    assert client.get("/api/campaigns/other-campaign/tally").json()["posts"] == 40
    bad = {"toml": "[campaign]\nname = 'x'\n"}
    r = client.post("/api/campaigns", json=bad, headers={"Authorization": f"Bearer {writer}"})
    assert r.status_code == 422 and r.json()["errors"]
    # A session alone is not enough for a cookie-authenticated write: the CSRF header is needed.
    csrf = _login(client)
    body2 = {"toml": CAMPAIGN.replace(SLUG, "third"), "participants_csv": ""}
    assert client.post("/api/campaigns", json=body2).status_code == 403
    assert client.post("/api/campaigns", json=body2, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_login_csrf_and_rate_limit(client: TestClient) -> None:
    from salon.web import editor
    from salon.web.hardening import LoginThrottle

    editor.throttle = LoginThrottle()
    assert client.get("/edit", headers={"accept": "text/html"}).status_code == 401
    # No CSRF token: refused before the password is even looked at.
    r = client.post("/login", data={"username": "ed", "password": PASSWORD})
    assert r.status_code == 403
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": "ed", "password": "wrong password", "csrf": csrf})
    assert r.status_code == 401 and "Wrong username or password" in r.text
    csrf = _login(client)
    cookie = client.cookies.get("salon_session")
    assert cookie
    r = client.get("/edit/new")
    assert r.status_code == 200
    # Saving without the session's CSRF token is refused; with it, the campaign is stored.
    toml = CAMPAIGN.replace(SLUG, "edited-in-ui").replace('[participants]\nfile = "participants.csv"\n', "")
    assert client.post("/edit/new", data={"toml": toml, "csv": ""}).status_code == 403
    r = client.post("/edit/new", data={"toml": toml, "csv": "", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/edit/edited-in-ui?saved=1"
    r = client.post(
        "/edit/edited-in-ui/participants",
        data={"name": "Rijksmuseum", "country": "NL", "mastodon": "rijks@mastodon.example", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Rijksmuseum,NL" in client.get("/edit/edited-in-ui/participants.csv").text
    assert 'slug = "edited-in-ui"' in client.get("/edit/edited-in-ui/campaign.toml").text
    client.post("/logout", data={"csrf": csrf})
    assert client.get("/edit", headers={"accept": "text/html"}).status_code == 401
    # Back-off: 5 failures per (address, user), then 429 with Retry-After (salon.web.hardening).
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    rs = [
        client.post("/login", data={"username": "nobody", "password": "x" * 12, "csrf": csrf})
        for _ in range(6)
    ]
    assert [r.status_code for r in rs[:5]] == [401] * 5 and rs[5].status_code == 429
    assert int(rs[5].headers["retry-after"]) >= 1
    editor.throttle = LoginThrottle()


def test_local_ingest_endpoint(client: TestClient, tmp_path: Path) -> None:
    from salon.sources.files import iter_inputs, read_records
    from salon.web.ingest import decode_records, encode_records

    path = write_batch(tmp_path / "more.jsonl", 40, 5)
    recs = list(read_records(next(iter(iter_inputs([str(path)])))))
    assert [r.payload for r in decode_records(encode_records(recs))] == [r.payload for r in recs]
    assert client.post("/api/local/imports", json={"arguments": "x"}).status_code == 401
    h = {"x-salon-local-token": "wrong"}
    assert client.post("/api/local/imports", json={"arguments": "x"}, headers=h).status_code == 403
    h = {"x-salon-local-token": "local-secret"}
    iid = client.post("/api/local/imports", json={"arguments": "import more.jsonl"}, headers=h).json()[
        "import_id"
    ]
    fid = client.post(f"/api/local/imports/{iid}/files", json={"path": str(path)}, headers=h).json()[
        "file_id"
    ]
    out: Any = client.post(
        f"/api/local/imports/{iid}/files/{fid}/records",
        params={"source": str(path)},
        content=encode_records(recs),
        headers=h,
    ).json()
    assert out["posts_new"] == 5 and out["records_new"] == 5
    client.post(f"/api/local/imports/{iid}/files/{fid}/finish", json={"counts": {"in": 5}}, headers=h)
    client.post(f"/api/local/imports/{iid}/finish", json={"counts": {"in": 5}}, headers=h)
    svc = client.app.state.svc  # type: ignore[attr-defined]
    svc.refresh_now()
    assert client.get(f"/api/campaigns/{SLUG}/tally").json()["posts"] == 45


def test_both_languages_have_every_string() -> None:
    from salon.web.i18n import MESSAGES

    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])


def test_replay_feeds_the_archive_live(archive: Path, tmp_path: Path) -> None:
    from salon.web.replay import Replay
    from salon.web.service import ArchiveService

    folder = tmp_path / "replay"
    folder.mkdir()
    write_batch(folder / "a.jsonl", 100, 30)
    svc = ArchiveService(str(archive))
    svc.start()
    try:
        seen = [svc.cached(SLUG).data["posts"]]  # type: ignore[union-attr]
        rep = Replay(svc, [str(folder)], rate=400, interval=0.02).start()
        while not rep.done.wait(0.03):
            seen.append(svc.cached(SLUG).data["posts"])  # type: ignore[union-attr]
        svc.refresh_now()
        seen.append(svc.cached(SLUG).data["posts"])  # type: ignore[union-attr]
    finally:
        svc.close()
    assert seen[0] == 40 and seen[-1] == 70
    assert len(set(seen)) > 2, "the counter moved in steps while replaying"
    assert rep.records == 30
