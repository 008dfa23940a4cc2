"""Registry verification signals, said without over-claiming (docs/trust.md):

- ``bluesky_domain``: the Bluesky handle is a domain (not ``*.bsky.social``) and it resolves
  *both ways*: the handle names a DID (DNS TXT ``_atproto.<handle>`` = ``did=...``, else
  ``https://<handle>/.well-known/atproto-did``) and that DID's document names the handle back
  (``alsoKnownAs`` holds ``at://<handle>``; did:plc documents from the PLC directory, did:web
  from ``/.well-known/did.json``). It shows that whoever runs the account controls the domain --
  not that the domain is the institution's: the page says "controls <domain>".
- ``mastodon_verified_link``: the Mastodon profile has a field linking a site with
  ``verified_at`` set (the server checked a ``rel="me"`` link back): "links <site>, verified by
  <server>".

Every lookup has a timeout and its result is cached in ``trust_verifications`` (``max_age``,
default a day), so pages never wait on the network; ``Resolver`` says where to ask (tests point
it at a local DNS server and a local HTTP server).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from salon.campaigns.config import Campaign
from salon.store.archive import Archive

__all__ = [
    "Resolver",
    "Signal",
    "bluesky_domain",
    "cached",
    "cached_registry",
    "mastodon_verified_link",
    "verify_registry",
]

_DID = re.compile(r"^did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.\-%:]+)$")
_HANDLE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Signal:
    """One verification signal of one registry account."""

    platform: str
    handle: str
    signal: str
    ok: bool
    detail: str


@dataclass
class Resolver:
    """Where lookups go. ``dns``: (host, port) of a DNS server (None: the system's);
    ``url``: builds the URL of a path on a host (default HTTPS); ``plc``: the PLC directory."""

    dns: tuple[str, int] | None = None
    url: Callable[[str, str], str] = field(default=lambda host, path: f"https://{host}{path}")
    plc: str = "https://plc.directory"
    timeout: float = 3.0

    def txt(self, name: str) -> list[str]:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rdatatype
        import dns.resolver

        try:
            if self.dns is not None:
                q = dns.message.make_query(name, dns.rdatatype.TXT)
                resp = dns.query.udp(q, self.dns[0], port=self.dns[1], timeout=self.timeout)
                answers = [rr for rrset in resp.answer for rr in rrset]
            else:
                r = dns.resolver.Resolver()
                r.lifetime = self.timeout
                answers = list(r.resolve(name, "TXT"))
        except (dns.exception.DNSException, OSError):
            return []
        out = []
        for rr in answers:
            strings = getattr(rr, "strings", None)
            if strings:
                out.append(b"".join(strings).decode("utf-8", "replace"))
        return out

    def get(self, url: str) -> httpx.Response | None:
        try:
            return httpx.get(url, timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError:
            return None


def _did_of_handle(handle: str, r: Resolver) -> tuple[str | None, str]:
    for txt in r.txt(f"_atproto.{handle}"):
        if txt.startswith("did=") and _DID.match(txt[4:].strip()):
            return txt[4:].strip(), "DNS TXT _atproto"
    resp = r.get(r.url(handle, "/.well-known/atproto-did"))
    if resp is not None and resp.status_code == 200:
        did = resp.text.strip()
        if _DID.match(did):
            return did, "/.well-known/atproto-did"
    return None, ""


def _did_document(did: str, r: Resolver) -> dict[str, Any] | None:
    if did.startswith("did:plc:"):
        resp = r.get(f"{r.plc.rstrip('/')}/{did}")
    else:
        host = did.removeprefix("did:web:").replace("%3A", ":")
        resp = r.get(r.url(host, "/.well-known/did.json"))
    if resp is None or resp.status_code != 200:
        return None
    try:
        doc = resp.json()
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def bluesky_domain(handle: str, r: Resolver) -> Signal:
    """The ``bluesky_domain`` signal of a handle (see the module doc)."""
    h = handle.strip().lstrip("@").lower()
    if not _HANDLE.match(h) or h.endswith(".bsky.social"):
        return Signal("bluesky", handle, "bluesky_domain", False, "not a domain handle")
    did, how = _did_of_handle(h, r)
    if did is None:
        return Signal("bluesky", handle, "bluesky_domain", False, f"{h} names no DID")
    doc = _did_document(did, r)
    aka = doc.get("alsoKnownAs") if doc else None
    if not isinstance(aka, list) or f"at://{h}" not in aka:
        return Signal("bluesky", handle, "bluesky_domain", False, f"{did} does not name {h} back")
    return Signal("bluesky", handle, "bluesky_domain", True, f"controls {h} ({how} -> {did} -> at://{h})")


def mastodon_verified_link(acct: str, r: Resolver) -> Signal:
    """The ``mastodon_verified_link`` signal of ``user@server`` (see the module doc)."""
    user, _, server = acct.strip().lstrip("@").partition("@")
    if not user or not server:
        return Signal("mastodon", acct, "mastodon_verified_link", False, "not user@server")
    resp = r.get(r.url(server, f"/api/v1/accounts/lookup?acct={user}"))
    if resp is None or resp.status_code != 200:
        return Signal("mastodon", acct, "mastodon_verified_link", False, f"{server} did not answer")
    try:
        account = resp.json()
    except ValueError:
        account = None
    fields = account.get("fields") if isinstance(account, dict) else None
    for f in fields if isinstance(fields, list) else []:
        if isinstance(f, dict) and f.get("verified_at"):
            m = re.search(r'href="(https?://[^"]+)"', str(f.get("value") or ""))
            site = m.group(1) if m else re.sub(r"<[^>]+>", "", str(f.get("value") or ""))
            return Signal(
                "mastodon",
                acct,
                "mastodon_verified_link",
                True,
                f"links {site}, verified by {server} at {f['verified_at']}",
            )
    return Signal("mastodon", acct, "mastodon_verified_link", False, "no verified link on the profile")


def cached(archive: Archive, platform: str, handle: str, signal: str) -> dict[str, Any] | None:
    rows = archive.dicts(
        "SELECT ok, detail, checked_at FROM trust_verifications WHERE platform = ? AND handle = ? AND signal = ?",
        [platform, handle, signal],
    )
    return rows[0] if rows else None


def verify_registry(
    archive: Archive, c: Campaign, resolver: Resolver | None = None, *, max_age: timedelta = timedelta(days=1)
) -> list[dict[str, Any]]:
    """Check (or read from the cache) the signals of every Bluesky and Mastodon account of the
    campaign's registry; returns one row per account and signal."""
    r = resolver or Resolver()
    now = datetime.now(UTC)
    out = []
    for pid, acc in c.accounts():
        fn: Callable[[str, Resolver], Signal]
        if acc.platform == "bluesky" and not acc.handle.startswith("did:"):
            signal, fn = "bluesky_domain", bluesky_domain
        elif acc.platform == "mastodon":
            signal, fn = "mastodon_verified_link", mastodon_verified_link
        else:
            continue
        hit = cached(archive, acc.platform, acc.handle, signal)
        if hit is None or now - hit["checked_at"] > max_age:
            s = fn(acc.handle, r)
            if not archive.read_only:
                archive.con.execute(
                    "INSERT INTO trust_verifications VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE"
                    " SET ok = excluded.ok, detail = excluded.detail, checked_at = excluded.checked_at",
                    [acc.platform, acc.handle, signal, s.ok, s.detail, now],
                )
            hit = {"ok": s.ok, "detail": s.detail, "checked_at": now}
        out.append(
            {
                "participant_id": pid,
                "name": c.participants[pid].name,
                "platform": acc.platform,
                "handle": acc.handle,
                "signal": signal,
                **hit,
            }
        )
    return out


def cached_registry(archive: Archive, c: Campaign) -> list[dict[str, Any]]:
    """The cached signals of the campaign's registry accounts (no lookup: for pages)."""
    if c.campaign_id is None:
        return []
    return archive.dicts(
        "SELECT p.name, v.platform, v.handle, v.signal, v.ok, v.detail, v.checked_at FROM trust_verifications v"
        " JOIN participant_accounts pa ON pa.platform = v.platform AND pa.handle = v.handle"
        " JOIN participants p USING (campaign_id, participant_id) WHERE pa.campaign_id = ? ORDER BY p.name, v.platform",
        [c.campaign_id],
    )
