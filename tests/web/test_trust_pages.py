"""Editors' trust pages in-process: the spam queue decides, the wall's trash restores, lists
import a CSV, takedowns; public pages headline figures without spam and say how many are held."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from salon.web.app import create_app
from tests.trust.data import SLUG, Builder

PASSWORD = "correct horse battery"


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    b = Builder(tmp_path, '[moderation]\nspam = { promo_domains = ["win-a-trip.example"] }\n')
    u = {
        "spam": b.post(
            "Win a free trip to Paris now", user="spammer", links=("https://win-a-trip.example/a",)
        ),
        "good": b.post("A quiet morning in our galleries", user="visitor"),
        "louvre": b.post("Bienvenue au musée", user="louvre"),
        "fake": b.post("Tickets for the Louvre", user="l\u043euvre", name="Musée du Louvre"),
    }
    return b.build(), u


@pytest.fixture
def client(built: tuple[Path, dict[str, str]]) -> Iterator[TestClient]:
    from salon.store.archive import open_archive
    from salon.web import auth

    with open_archive(built[0]) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    with TestClient(create_app(str(built[0]))) as c:
        yield c


def _login(c: TestClient) -> str:
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": "ed", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/edit").text).group(1)  # type: ignore[union-attr]


def test_public_pages_exclude_spam_and_say_how_many_are_held(client: TestClient) -> None:
    t = client.get(f"/api/campaigns/{SLUG}/tally").json()
    assert t["posts"] == 4 and t["spam"]["posts"] == 1 and t["spam"]["shown"]["posts"] == 3
    for url in (f"/c/{SLUG}", f"/wall/{SLUG}", f"/embed/{SLUG}"):
        html = client.get(url).text
        assert re.search(r'data-k="spam.shown.posts">3<', html), url
        assert re.search(r'data-k="spam.posts">1</span> posts held as spam', html), url
    latest = client.get(f"/c/{SLUG}/latest").text
    assert "Win a free trip" not in latest and "quiet morning" in latest


def test_editors_trust_pages(client: TestClient, built) -> None:
    _path, u = built
    assert client.get(f"/edit/{SLUG}/trust", follow_redirects=False).status_code in (302, 303, 401)
    csrf = _login(client)
    page = client.get(f"/edit/{SLUG}/trust")
    assert page.status_code == 200 and "Win a free trip" in page.text and "promotional_link" in page.text
    assert "links to a promotional domain" in page.text
    # no CSRF token: refused
    r = client.post(f"/edit/{SLUG}/trust/spam", data={"uid": u["spam"], "decision": "not_spam"})
    assert r.status_code == 403
    r = client.post(
        f"/edit/{SLUG}/trust/spam",
        data={"uid": u["spam"], "decision": "not_spam", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.app.state.svc.refresh_now()  # type: ignore[attr-defined]
    assert client.get(f"/api/campaigns/{SLUG}/tally").json()["spam"]["posts"] == 0
    # the wall's trash, and restore
    r = client.post(
        f"/edit/{SLUG}/trust/wall",
        data={"uid": u["good"], "action": "trash", "reason": "off topic", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.app.state.svc.refresh_now()  # type: ignore[attr-defined]
    trash = client.get(f"/edit/{SLUG}/trust?tab=wall&queue=trash").text
    assert "quiet morning" in trash and "off topic" in trash
    client.cookies.clear()
    assert "quiet morning" not in client.get(f"/c/{SLUG}/latest").text
    csrf = _login(client)
    client.post(f"/edit/{SLUG}/trust/wall", data={"uid": u["good"], "action": "restore", "csrf": csrf})
    client.app.state.svc.refresh_now()  # type: ignore[attr-defined]
    client.cookies.clear()
    assert "quiet morning" in client.get(f"/c/{SLUG}/latest").text
    csrf = _login(client)
    # lists: CSV upload
    r = client.post(
        f"/edit/{SLUG}/trust/lists",
        data={"list": "block_words", "op": "import", "csrf": csrf},
        files={"file": ("words.csv", b"word\ngalleries\n", "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "galleries" in client.get(f"/edit/{SLUG}/trust?tab=lists").text
    # lookalikes with evidence
    looks = client.get(f"/edit/{SLUG}/trust?tab=lookalikes").text
    assert "l\u043euvre" in looks and "confusable_handle" in looks and "copied_display_name" in looks
    # a takedown; a bad one is a 404 with its reason, not a 500
    r = client.post(
        f"/edit/{SLUG}/trust/takedown",
        data={"target": "nope", "reason": "x", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 404
    r = client.post(
        f"/edit/{SLUG}/trust/takedown",
        data={"target": u["louvre"], "reason": "asked by the museum", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.app.state.svc.refresh_now()  # type: ignore[attr-defined]
    log = client.get(f"/edit/{SLUG}/trust?tab=log").text
    for what in ("not_spam", "trash", "restore", "list_add", "takedown", "asked by the museum"):
        assert what in log, what
    assert client.get(f"/api/campaigns/{SLUG}/tally").json()["posts"] == 3
