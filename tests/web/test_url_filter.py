"""Platform URLs (post, author, media, links) become links only when they are http: or https:
(the ``http_url`` template filter): ``javascript:alert(1)`` in an archive renders as no link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from salon.model import Author, Media, Post
from salon.store.archive import open_archive
from salon.store.batch import Batch
from salon.store.writer import Writer
from salon.web.app import create_app
from salon.web.deps import http_url, templates

BAD = "javascript:alert(1)"


@pytest.mark.parametrize(
    "value, want",
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("http://example.org/", "http://example.org/"),
        ("HTTPS://EXAMPLE.ORG/", "HTTPS://EXAMPLE.ORG/"),
        ("  https://example.org/  ", "https://example.org/"),
        (BAD, ""),
        ("JavaScript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html;base64,PHNjcmlwdD4=", ""),
        ("vbscript:msgbox(1)", ""),
        ("//evil.example/x", ""),
        ("/relative/path", ""),
        ("ftp://example.org/file", ""),
        ("https:", ""),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_http_url_filter(value: object, want: str) -> None:
    assert http_url(value) == want


def test_filter_is_registered() -> None:
    tpl = templates.env.from_string('<a href="{{ u | http_url }}">x</a>')
    assert tpl.render(u=BAD) == '<a href="">x</a>'
    assert tpl.render(u="https://a.example/?x=1&y=2") == '<a href="https://a.example/?x=1&amp;y=2">x</a>'


class _Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("href", "src")]


def _links(html: str) -> list[str]:
    p = _Links()
    p.feed(html)
    return p.urls


@pytest.fixture
def client(archive: Path) -> Iterator[TestClient]:
    """The web archive plus one post whose every platform URL is ``javascript:``, and one whose
    URLs are fine."""
    at = datetime(2015, 3, 23, 10, tzinfo=UTC)
    bad = Post(
        platform="mastodon",
        native_id="https://evil.example/statuses/1",
        created_at=at,
        text="look here",
        url=BAD,
        author=Author("mastodon", "https://evil.example/users/eve", handle="eve@evil.example", url=BAD),
        urls=[BAD],
        media=[Media("image", url=BAD, alt_text="a picture")],
    )
    good = Post(
        platform="mastodon",
        native_id="https://good.example/statuses/2",
        created_at=at,
        text="fine",
        url="https://good.example/@ann/2",
        author=Author(
            "mastodon",
            "https://good.example/users/ann",
            handle="ann@good.example",
            url="https://good.example/@ann",
        ),
        urls=["https://link.example/page"],
        media=[Media("image", url="https://files.example/ann.jpg", alt_text="a photo")],
    )
    with open_archive(archive) as arc:
        b = Batch()
        b.add_raw("raw-url-test", "test", b"raw-url-test", None, None, "test", None)
        b.add_items([bad, good], "raw-url-test", datetime.now(UTC))
        Writer(arc).write(b)
    with TestClient(create_app(str(archive))) as c:
        yield c


def test_javascript_urls_render_as_no_link(client: TestClient) -> None:
    r = client.get("/posts/mastodon:https://evil.example/statuses/1")
    assert r.status_code == 200, r.text
    assert "look here" in r.text and "a picture" in r.text  # the media is listed, without a link
    links = _links(r.text)
    assert links and not [u for u in links if "javascript" in u.lower()], links
    # Every link is the site's own or an http(s) URL.
    assert all(u.startswith(("/", "?", "#", "http://", "https://")) for u in links), links
    assert "View on the platform" not in r.text  # no link to the original post
    r = client.get("/authors/mastodon:https://evil.example/users/eve")
    assert r.status_code == 200, r.text
    assert "@eve@evil.example" in r.text
    assert not [u for u in _links(r.text) if "javascript" in u.lower()]


def test_http_urls_still_render_as_links(client: TestClient) -> None:
    r = client.get("/posts/mastodon:https://good.example/statuses/2")
    assert r.status_code == 200, r.text
    for url in ("https://good.example/@ann/2", "https://link.example/page", "https://files.example/ann.jpg"):
        assert f'href="{url}"' in r.text, url
    assert "View on the platform" in r.text
    r = client.get("/authors/mastodon:https://good.example/users/ann")
    assert r.status_code == 200, r.text
    assert 'href="https://good.example/@ann"' in r.text
