"""Reports in the web app: editors preview and publish (login and CSRF required), the public
reads the published report, read-only, with a CSP that allows no script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from salon.web.app import create_app
from tests.web.data import SLUG

PASSWORD = "correct horse battery"


@pytest.fixture
def client(archive: Path) -> Iterator[TestClient]:
    from salon.store.archive import open_archive
    from salon.web import auth

    with open_archive(archive) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    with TestClient(create_app(str(archive))) as c:
        yield c


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def test_preview_publish_unpublish(client: TestClient) -> None:
    assert client.get(f"/edit/{SLUG}/report").status_code == 401
    assert client.get(f"/edit/{SLUG}/report.html").status_code == 401
    assert client.get(f"/reports/{SLUG}").status_code == 404
    r = client.post(
        "/login", data={"username": "ed", "password": PASSWORD, "csrf": _csrf(client.get("/login").text)}
    )
    assert r.status_code == 200, r.text
    page = client.get(f"/edit/{SLUG}/report")
    assert page.status_code == 200 and f'src="/edit/{SLUG}/report.html"' in page.text
    assert f'href="/edit/{SLUG}/report"' in client.get("/edit").text
    csrf = _csrf(page.text)
    preview = client.get(f"/edit/{SLUG}/report.html")
    assert preview.status_code == 200 and "The official tally" in preview.text
    csp = preview.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    tally = client.get(f"/api/campaigns/{SLUG}/tally").json()
    shown = ((tally.get("spam") or {}).get("shown") or {}).get("posts", tally["posts"])  # spam left out
    assert f'id="fig-posts"><b>{shown:,}</b>' in preview.text  # the figures are the API's
    assert client.post(f"/edit/{SLUG}/report/publish", data={}).status_code == 403  # no CSRF token
    r = client.post(f"/edit/{SLUG}/report/publish", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "Published on" in client.get(f"/edit/{SLUG}/report").text
    client.post("/logout", data={"csrf": csrf})
    public = client.get(f"/reports/{SLUG}")
    assert public.status_code == 200 and "The official tally" in public.text
    assert "default-src 'none'" in public.headers["content-security-policy"]
    pdf = client.get(f"/reports/{SLUG}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.post(f"/edit/{SLUG}/report/unpublish", data={"csrf": csrf}).status_code in (401, 403)
    r = client.post(
        "/login", data={"username": "ed", "password": PASSWORD, "csrf": _csrf(client.get("/login").text)}
    )
    csrf = _csrf(client.get(f"/edit/{SLUG}/report").text)
    assert (
        client.post(f"/edit/{SLUG}/report/unpublish", data={"csrf": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert client.get(f"/reports/{SLUG}").status_code == 404
    assert client.get("/edit/no-such-campaign/report").status_code == 404


def _login(client: TestClient) -> None:
    r = client.post(
        "/login", data={"username": "ed", "password": PASSWORD, "csrf": _csrf(client.get("/login").text)}
    )
    assert r.status_code == 200, r.text


def _publish_cycle(client: TestClient, base: str, public: str, marker: str) -> None:
    """Editors only (401 logged out); preview and PDF; publishing needs CSRF; public, read-only,
    no script, until unpublished."""
    assert client.get(base).status_code == 401 and client.get(base + ".html").status_code == 401
    assert client.get(public).status_code == 404
    _login(client)
    page = client.get(base)
    assert page.status_code == 200 and f'src="{base}.html"' in page.text
    csrf = _csrf(page.text)
    preview = client.get(base + ".html")
    assert preview.status_code == 200 and marker in preview.text
    assert "default-src 'none'" in preview.headers["content-security-policy"]
    assert client.get(base + ".pdf").content.startswith(b"%PDF")
    assert client.post(base + "/publish", data={}).status_code == 403  # no CSRF token
    assert client.post(base + "/publish", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert "Published on" in client.get(base).text
    client.post("/logout", data={"csrf": csrf})
    pub = client.get(public)
    assert pub.status_code == 200 and marker in pub.text and "<script" not in pub.text
    assert "default-src 'none'" in pub.headers["content-security-policy"]
    assert client.get(public + ".pdf").content.startswith(b"%PDF")
    assert client.post(base + "/unpublish", data={"csrf": csrf}).status_code in (401, 403)
    _login(client)
    csrf = _csrf(client.get(base).text)
    assert client.post(base + "/unpublish", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get(public).status_code == 404


@pytest.fixture
def figs(archive: Path) -> list[dict]:
    """The institutions' figures, read before the app opens the archive (list it before ``client``)."""
    from salon.campaigns.institutions import institution_figures
    from salon.store.archive import open_archive

    with open_archive(archive, read_only=True) as arc:
        return institution_figures(arc, SLUG)


def test_institution_reports_for_editors(figs: list[dict], client: TestClient) -> None:
    """Every registered institution has its report page (listed on the campaign's), with the
    figures of ``institution_figures``, publishable like the campaign report."""
    assert figs
    top = max(figs, key=lambda f: f["posts"])
    n = top["participant_id"] + 1
    base, public = f"/edit/{SLUG}/report/institutions/{n}", f"/reports/{SLUG}/institutions/{n}"
    _publish_cycle(client, base, public, f'id="inst-posts">{top["posts"]:,}</b>')
    listing = client.get(f"/edit/{SLUG}/report").text
    for f in figs:  # the campaign's report page links every institution of the registry
        assert f'href="/edit/{SLUG}/report/institutions/{f["participant_id"] + 1}"' in listing
    assert client.get(f"/edit/{SLUG}/report/institutions/{len(figs) + 1}").status_code == 404
    assert client.get(f"/edit/{SLUG}/report/institutions/0.html").status_code == 404


def test_chat_reports_for_editors(tmp_path: Path) -> None:
    """A chat's report, linked from its campaign's report page, publishable like the campaign's."""
    from typer.testing import CliRunner

    from salon.campaigns.chat_stats import chat_report
    from salon.campaigns.chat_store import all_chats
    from salon.cli import app
    from salon.store.archive import open_archive
    from salon.web import auth

    arc_path = tmp_path / "demo.duckdb"
    res = CliRunner().invoke(app, ["demo", "--sample", "-a", str(arc_path), "--dir", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    with open_archive(arc_path) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
        chat = all_chats(arc)[0]
        stats = chat_report(arc, chat)
    with TestClient(create_app(str(arc_path))) as client:
        base, public = f"/edit/chats/{chat.slug}/report", f"/reports/chats/{chat.slug}"
        _publish_cycle(client, base, public, f'id="chat-posts">{stats["posts"]:,}<')
        assert f'href="{base}"' in client.get(f"/edit/{chat.campaign_slug}/report").text
        assert client.get("/edit/chats/no-such-chat/report").status_code == 404
