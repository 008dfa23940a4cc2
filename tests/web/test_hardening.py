"""Each hardening item of the web app (salon.web.hardening; docs/trust.md)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from salon.web import api, editor
from salon.web.app import create_app
from salon.web.deps import HERE
from salon.web.hardening import LoginThrottle, StreamSlots, neutralise, normalise_username
from tests.trust.data import SLUG, Builder

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def arc_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salon.store.archive import open_archive
    from salon.web import auth

    b = Builder(tmp_path_factory.mktemp("hard"))
    b.post('=HYPERLINK("http://evil.example") click', user="formula")
    b.post("@SUM(1+1) and -2 and +3", user="formula2")
    b.post("A quiet morning in our galleries", user="visitor")
    path = b.build()
    with open_archive(path) as arc:
        auth.add_user(arc, "ed", PASSWORD, "editor")
    return path


@pytest.fixture
def client(arc_path: Path) -> Iterator[TestClient]:
    editor.throttle = LoginThrottle()
    with TestClient(create_app(str(arc_path), local_token="local-secret")) as c:
        yield c


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def _login(c: TestClient, username: str = "ed", password: str = PASSWORD) -> Any:
    return c.post(
        "/login",
        data={"username": username, "password": password, "csrf": _csrf(c.get("/login").text)},
        follow_redirects=False,
    )


def test_csp_nonce_per_response_and_no_inline_script(client: TestClient) -> None:
    for name in (HERE / "templates").glob("*.html"):
        text = name.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {name.name}"
        assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {name.name}"
    seen = set()
    for url in (f"/c/{SLUG}", f"/c/{SLUG}", "/", "/explore", f"/wall/{SLUG}"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
        assert nonce not in seen  # a fresh nonce per response, cached pages included
        seen.add(nonce)
        tags = re.findall(r"<script[^>]*>", r.text)
        assert tags and all(f'nonce="{nonce}"' in t for t in tags), url
        assert "unsafe-inline" not in csp


def test_only_embed_and_wall_may_be_framed(arc_path: Path, client: TestClient) -> None:
    for url in (f"/embed/{SLUG}", f"/wall/{SLUG}"):
        r = client.get(url)
        assert (
            "frame-ancestors *" in r.headers["content-security-policy"] and "x-frame-options" not in r.headers
        )
    for url in ("/", f"/c/{SLUG}", "/explore", "/login", "/api/campaigns"):
        r = client.get(url)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url
        assert r.headers["x-frame-options"] == "DENY"
    with TestClient(create_app(str(arc_path), frame_ancestors=["https://museum.example"])) as c:
        csp = c.get(f"/wall/{SLUG}").headers["content-security-policy"]
        assert "frame-ancestors https://museum.example;" in csp
        assert "frame-ancestors 'none'" in c.get(f"/c/{SLUG}").headers["content-security-policy"]


def test_hsts_and_host_cookies_over_https(arc_path: Path, client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/").headers
    assert (
        "max-age="
        in client.get("/", headers={"x-forwarded-proto": "https"}).headers["strict-transport-security"]
    )
    with TestClient(create_app(str(arc_path)), base_url="https://testserver") as c:
        r = _login(c)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-salon_session=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        assert c.get("/edit").status_code == 200


def test_sessions_rotate_at_login(client: TestClient) -> None:
    assert _login(client).status_code == 303
    first = client.cookies.get("salon_session")
    assert client.get("/edit").status_code == 200
    assert _login(client).status_code == 303
    second = client.cookies.get("salon_session")
    assert first and second and first != second
    client.cookies.set("salon_session", first)
    assert client.get("/edit", headers={"accept": "text/html"}).status_code == 401  # the old one is gone


def test_login_limiter_normalises_the_name_and_backs_off_per_address(client: TestClient) -> None:
    assert normalise_username("  Bob ") == normalise_username("bob") == normalise_username("ＢＯＢ")
    for name in ("ed", " ed", "ED ", "Ed", "\u00a0ed"):
        assert _login(client, name, "wrong").status_code == 401
    r = _login(client, "ed", PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # one counter for every spelling
    # The same account from another address is not locked out (a back-off per address).
    t = editor.throttle
    assert t.wait("203.0.113.9", "ed") == 0
    # And the back-off ends: after its delay the real user logs in.
    t._fails[("testclient", "ed")] = (5, 0.0)  # the last failure long ago
    assert _login(client, " ed ", PASSWORD).status_code == 303


def test_body_bounded_before_auth_without_buffering(arc_path: Path) -> None:
    app = create_app(str(arc_path))
    received = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(m: dict[str, Any]) -> None:
        sent.append(m)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/campaigns",
        "raw_path": b"/api/campaigns",
        "query_string": b"",
        "headers": [
            (b"content-length", str(200 * 1024 * 1024).encode()),
            (b"content-type", b"application/json"),
        ],
        "scheme": "http",
        "server": ("t", 80),
        "client": ("1.2.3.4", 5),
        "http_version": "1.1",
        "root_path": "",
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and received == []  # refused before reading a byte
    # A chunked body (no length) is cut off at the limit.
    scope["headers"] = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    sent.clear()
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and 60 < len(received) < 80


def test_wrong_content_type_and_malformed_ingest_are_4xx(client: TestClient) -> None:
    r = client.post("/api/campaigns", content=b"not json", headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500
    r = client.post("/login", content=b'{"username": "ed"}', headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    r = client.post(
        "/login", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert 400 <= r.status_code < 500
    h = {"x-salon-token": "local-secret"}
    from salon.web.ingest import TOKEN_HEADER

    h = {TOKEN_HEADER: "local-secret"}
    iid = client.post("/api/local/imports", json={"kind": "import"}, headers=h).json()["import_id"]
    assert client.post(f"/api/local/imports/{iid}/files", json={"nopath": 1}, headers=h).status_code == 400
    fid = client.post(
        f"/api/local/imports/{iid}/files", json={"path": "x.jsonl", "size": 1}, headers=h
    ).json()["file_id"]
    for body in (b"garbage", b"[1,2]\nxx", b'{"n": "a"}\nxx', b'{"line": 1}\n'):
        r = client.post(f"/api/local/imports/{iid}/files/{fid}/records", content=body, headers=h)
        assert r.status_code == 400, body
    r = client.post(
        f"/api/local/imports/{iid}/files/{fid}/records?observed_at=yesterday", content=b"", headers=h
    )
    assert r.status_code == 400


def test_no_server_paths_in_public_responses(arc_path: Path, client: TestClient) -> None:
    secret = str(arc_path.parent)
    for url in (
        "/api/campaigns/nope/tally",
        "/api/posts/nope",
        "/c/nope",
        "/api/version",
        "/api/campaigns",
        "/nowhere",
        "/api/search?since=notadate",
        f"/api/campaigns/{SLUG}/tally",
    ):
        r = client.get(url)
        assert secret not in r.text and "Traceback" not in r.text, url


def test_live_stream_clients_capped_per_address(client: TestClient) -> None:
    slots = StreamSlots(per_ip=2)
    assert slots.take("a") and slots.take("a") and not slots.take("a") and slots.take("b")
    slots.give("a")
    assert slots.take("a")
    for _ in range(api.STREAMS.per_ip):
        assert api.STREAMS.take("testclient")
    try:
        r = client.get(f"/api/campaigns/{SLUG}/stream")
        assert r.status_code == 429 and "retry-after" in r.headers
    finally:
        for _ in range(api.STREAMS.per_ip):
            api.STREAMS.give("testclient")


def test_public_csv_neutralises_formula_cells(client: TestClient) -> None:
    assert neutralise("=1+1") == "'=1+1" and neutralise("-2") == "'-2" and neutralise(-2) == -2
    for url in (
        f"/api/search?q=&format=csv&campaign={SLUG}",
        f"/api/campaigns/{SLUG}/latest?format=csv",
        f"/api/campaigns/{SLUG}/institutions?format=csv",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        for row in csv.reader(io.StringIO(r.text)):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@"), (url, cell)
    text = client.get("/api/search?format=csv&q=hyperlink").text
    assert "'=HYPERLINK" in text


def test_a_real_server_refuses_a_200_mb_post_at_once(tmp_path: Path, arc_path: Path) -> None:
    """Over a socket, with only the headers sent: the answer comes before any body byte."""
    import threading

    import uvicorn

    app = create_app(str(arc_path))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    th = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    try:
        for _ in range(200):
            if server.started:
                break
            import time

            time.sleep(0.05)
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(
            b"POST /api/campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )
        head = c.recv(4096)
        c.close()
        assert head.startswith(b"HTTP/1.1 413"), head[:80]
    finally:
        server.should_exit = True
        th.join(timeout=10)
