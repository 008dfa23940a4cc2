"""Registry verification signals against a local DNS server (UDP, TXT answers) and a local HTTP
server (/.well-known/atproto-did, a PLC directory, Mastodon's account lookup): both ways or
nothing, timeouts, and the cache."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from salon.campaigns.config import parse_campaign
from salon.campaigns.trust.verify import Resolver, bluesky_domain, mastodon_verified_link, verify_registry
from salon.store.archive import open_archive
from tests.conftest import corpus_path

DID_A = "did:plc:" + "a" * 24  # louvre.example via DNS, names itself back
DID_B = "did:plc:" + "b" * 24  # prado.example via /.well-known, names itself back
DID_C = "did:plc:" + "c" * 24  # liar.example points here, but the document names another handle


class DNS:
    """A tiny UDP DNS server answering TXT questions from a dict (dnspython builds the wire)."""

    def __init__(self, records: dict[str, str], delay: dict[str, float] | None = None) -> None:
        import dns.message
        import dns.rrset

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addr = self.sock.getsockname()
        self.queries: list[str] = []

        def run() -> None:
            while True:
                try:
                    data, peer = self.sock.recvfrom(4096)
                except OSError:
                    return
                threading.Thread(target=answer, args=(data, peer), daemon=True).start()

        def answer(data: bytes, peer: Any) -> None:
            q = dns.message.from_wire(data)
            name = q.question[0].name.to_text().rstrip(".")
            self.queries.append(name)
            if (delay or {}).get(name):
                time.sleep(delay[name])  # type: ignore[index]
            resp = dns.message.make_response(q)
            if name in records:
                resp.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "TXT", f'"{records[name]}"'))
            else:
                resp.set_rcode(3)  # NXDOMAIN
            with contextlib.suppress(OSError):  # closed at the end of a test
                self.sock.sendto(resp.to_wire(), peer)

        threading.Thread(target=run, daemon=True).start()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def mastodon_account() -> dict[str, Any]:
    path = corpus_path("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        acc = json.loads(line)["account"]
        if acc.get("fields") and "verified_at" in acc["fields"][0]:
            return acc  # a real account object whose fields carry verified_at (null)
    raise AssertionError("no account with fields in the corpus")


@pytest.fixture(scope="module")
def web(mastodon_account: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    verified = copy.deepcopy(mastodon_account)
    verified["fields"][0]["value"] = '<a href="https://louvre.example" rel="me">louvre.example</a>'
    verified["fields"][0]["verified_at"] = "2024-03-01T10:00:00.000+00:00"
    docs = {
        DID_A: {"id": DID_A, "alsoKnownAs": ["at://louvre.example"]},
        DID_B: {"id": DID_B, "alsoKnownAs": ["at://prado.example"]},
        DID_C: {"id": DID_C, "alsoKnownAs": ["at://someone-else.example"]},
    }
    seen: list[str] = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = self.headers.get("x-test-host", "")
            seen.append(f"{host}{self.path}")
            body: Any = None
            if self.path == "/.well-known/atproto-did":
                body = {"prado.example": DID_B, "liar.example": DID_C}.get(host)
            elif self.path.startswith("/plc/"):
                body = docs.get(self.path[5:])
            elif self.path == "/api/v1/accounts/lookup?acct=louvre":
                body = verified
            elif self.path == "/api/v1/accounts/lookup?acct=prado":
                body = mastodon_account  # the real one: verified_at null
            if self.path == "/slow":
                time.sleep(2)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(200)
            self.send_header("content-type", "text/plain" if isinstance(body, str) else "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()


def _resolver(base: str, dns_srv: DNS, timeout: float = 2.0) -> Resolver:
    import httpx

    class R(Resolver):
        def get(self, url: str) -> httpx.Response | None:  # every host is the local server
            host, _, path = url.split("://", 1)[1].partition("/")
            try:
                return httpx.get(f"{base}/{path}", headers={"x-test-host": host}, timeout=self.timeout)
            except httpx.HTTPError:
                return None

    return R(dns=dns_srv.addr, plc="https://plc.local/plc", timeout=timeout)


def test_bluesky_domain_both_ways(web: tuple[str, list[str]]) -> None:
    base, _seen = web
    d = DNS({"_atproto.louvre.example": f"did={DID_A}"})
    try:
        r = _resolver(base, d)
        s = bluesky_domain("louvre.example", r)
        assert s.ok and s.detail.startswith("controls louvre.example (DNS TXT _atproto")
        s = bluesky_domain("prado.example", r)  # no TXT: the well-known file
        assert s.ok and "/.well-known/atproto-did" in s.detail
        s = bluesky_domain("liar.example", r)  # one way only: not verified
        assert not s.ok and "does not name liar.example back" in s.detail
        assert not bluesky_domain("nobody.example", r).ok
        assert bluesky_domain("louvre.bsky.social", r).detail == "not a domain handle"
    finally:
        d.close()


def test_mastodon_verified_link(web: tuple[str, list[str]]) -> None:
    base, _seen = web
    d = DNS({})
    try:
        r = _resolver(base, d)
        s = mastodon_verified_link("louvre@mastodon.example", r)
        assert s.ok and s.detail.startswith("links https://louvre.example, verified by mastodon.example")
        s = mastodon_verified_link("prado@mastodon.example", r)
        assert not s.ok and s.detail == "no verified link on the profile"
        assert not mastodon_verified_link("ghost@mastodon.example", r).ok
    finally:
        d.close()


def test_timeouts_and_cache(tmp_path: Path, web: tuple[str, list[str]]) -> None:
    base, seen = web
    # The DNS server would answer slow.example after 60 s: a lookup that returns at all (long
    # before that) gave up at its 0.5 s timeout; the bound is loose so that a loaded machine
    # cannot fail it (how fast is a benchmark's question, not this test's).
    d = DNS({"_atproto.louvre.example": f"did={DID_A}"}, delay={"_atproto.slow.example": 60.0})
    try:
        r = _resolver(base, d, timeout=0.5)
        t0 = time.monotonic()
        assert not bluesky_domain("slow.example", r).ok  # the DNS server does not answer in time
        assert time.monotonic() - t0 < 30
        c = parse_campaign(
            '[campaign]\nname = "T"\nslug = "t"\ntimezone = "UTC"\nstart = 2024-01-01\nend = 2024-01-02\n'
            'hashtags = ["T"]\n',
            participants_csv="name,country,city,kind,x,mastodon,bluesky\n"
            "Louvre,FR,Paris,museum,,louvre@mastodon.example,louvre.example\n",
        )
        with open_archive(tmp_path / "a.duckdb") as arc:
            rows = verify_registry(arc, c, r)
            assert {(x["signal"], x["ok"]) for x in rows} == {
                ("mastodon_verified_link", True),
                ("bluesky_domain", True),
            }
            n_dns, n_http = len(d.queries), len(seen)
            again = verify_registry(arc, c, r)  # from the cache: no lookup
            assert [x["ok"] for x in again] == [x["ok"] for x in rows]
            assert (len(d.queries), len(seen)) == (n_dns, n_http)
            verify_registry(arc, c, r, max_age=timedelta(0))  # stale: looked up again
            assert len(d.queries) > n_dns
    finally:
        d.close()
