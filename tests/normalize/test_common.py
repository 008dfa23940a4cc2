"""The helpers the normalisers share (salon.normalize.common), and the one look-alike kept apart
on purpose (mastodon's host of a URL or bare host)."""

from __future__ import annotations

import html

import pytest

from salon.normalize import common, gnip, mastodon, x_v1, x_v2, zeeschuimer


def test_untrusted_value_readers() -> None:
    for junk in (None, 0, True, "x", [1], {"a": 1}):
        assert common.as_dict(junk) == (junk if isinstance(junk, dict) else {})
        assert common.as_list(junk) == (junk if isinstance(junk, list) else [])
    d, lst = {"a": 1}, [1]
    assert common.as_dict(d) is d and common.as_list(lst) is lst
    assert common.as_str("x") == "x"
    assert [common.as_str(v) for v in ("", None, 1, ["x"], b"x")] == [None] * 5


@pytest.mark.parametrize(
    "raw",
    [
        "a &amp; b",
        "&lt;3 &gt;_&lt;",
        "&amp;lt; stays escaped once",
        "no entity",
        "&quot;kept&quot; &#39;",
        "",
    ],
)
def test_unescape_x_undoes_only_what_x_escapes(raw: str) -> None:
    want = raw
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        want = want.replace(entity, char)
    assert common.unescape_x(raw) == want
    if "&quot;" not in raw and "&#39;" not in raw:
        assert common.unescape_x(raw) == html.unescape(raw)


def test_every_normaliser_uses_the_shared_helpers() -> None:
    assert x_v1.as_dict is common.as_dict and zeeschuimer.as_dict is common.as_dict
    assert gnip.unescape_x is common.unescape_x and x_v2.unescape_x is common.unescape_x
    assert x_v1.unescape_x is common.unescape_x
    assert mastodon.url_host is common.url_host and zeeschuimer.url_host is common.url_host


def test_url_host_and_mastodon_host_differ_on_purpose() -> None:
    assert common.url_host("https://Mastodon.Social/@a") == "mastodon.social"
    assert common.url_host("http://localhost:3000/x") == "localhost:3000"
    for not_a_url in ("mastodon.social", "", None, 5, "https:///path"):
        assert common.url_host(not_a_url) is None
    # mastodon's own _host also reads a bare host (a collector's "instance" key).
    assert mastodon._host("Mastodon.Social/whatever") == "mastodon.social"
    assert mastodon._host("https://Mastodon.Social/") == "mastodon.social"
