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
