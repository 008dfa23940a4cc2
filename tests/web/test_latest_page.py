"""``GET /c/{slug}/latest?n=...``: n is validated, clamped to 1..200 and part of the page cache key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from salon.web.app import create_app
from tests.web.data import SLUG


@pytest.fixture
def client(archive: Path) -> Iterator[TestClient]:
    with TestClient(create_app(str(archive))) as c:
        yield c


def _cards(html: str) -> int:
    return html.count('<article class="post">')


def test_latest_n_is_validated(client: TestClient) -> None:
    r = client.get(f"/c/{SLUG}/latest?n=abc", headers={"accept": "text/html"})
    assert r.status_code == 400
    r = client.get(f"/c/{SLUG}/latest?n=abc", headers={"accept": "application/json"})
    assert r.status_code == 422
    assert client.get(f"/c/{SLUG}/latest?n=1.5").status_code in (400, 422)


def test_latest_n_is_clamped(client: TestClient) -> None:
    for n, want in (("-5", 1), ("0", 1), ("1", 1), ("3", 3), ("100000", 40)):  # the archive has 40 posts
        r = client.get(f"/c/{SLUG}/latest?n={n}")
        assert r.status_code == 200, (n, r.text)
        assert _cards(r.text) == want, n


def test_latest_cache_key_holds_n(client: TestClient) -> None:
    first = client.get(f"/c/{SLUG}/latest")
    assert first.status_code == 200 and _cards(first.text) == 12
    svc = client.app.state.svc  # type: ignore[attr-defined]
    assert any(k[:3] == ("latest", SLUG, 12) for k in svc.cache), list(svc.cache)
    assert _cards(client.get(f"/c/{SLUG}/latest?n=2").text) == 2
    assert _cards(client.get(f"/c/{SLUG}/latest").text) == 12
