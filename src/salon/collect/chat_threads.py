"""Fetching the reply threads under a chat's question posts (``salon chat threads``), so that
answers which forgot the hashtag are stored too; the assignment then lists them as *untagged*
(DESIGN.md, Chat answer), never as answers.

- Mastodon: ``GET /api/v1/statuses/:id/context`` on the question's own server, stored as the
  context response with the serving ``instance`` added (as ``salon collect`` does), so reply
  links given as that server's ids resolve;
- Bluesky: ``app.bsky.feed.getPostThread`` on the public AppView (``depth`` 1000);
- X: recent search on ``conversation_id:<id>`` (pages as twarc2 stores them), with the bearer
  token of ``salon auth x``.

Every response is stored raw with its URL as provenance through ``ingest_batch`` (deduplicated
by bytes; posts by uid), like a collector's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from salon.campaigns.chat_answers import chat_assignment, posted_questions
from salon.campaigns.chats import Chat
from salon.collect.credentials import Secret
from salon.collect.x_api import FIELDS
from salon.importer import ingest_batch
from salon.sources.files import RawRecord
from salon.store.archive import Archive
from salon.store.writer import Writer

__all__ = ["ThreadReport", "fetch_threads"]

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_X_PAGES = 50  # 5,000 replies under one question


@dataclass
class ThreadReport:
    questions: int = 0  # question posts whose thread was fetched
    requests: int = 0
    posts_new: int = 0
    untagged: int = 0  # untagged thread posts after the fetch
    errors: list[str] = field(default_factory=list)


def _store(writer: Writer, url: str, payload: bytes, fmt: str) -> int:
    rec = RawRecord(payload=payload, line=0, obj=orjson.loads(payload))
    out = ingest_batch(writer, [rec], source=url, fmt=fmt, retrieved_at=datetime.now(UTC))
    return out.posts_new


def fetch_threads(
    archive: Archive,
    chat: Chat,
    *,
    client: httpx.Client | None = None,
    mastodon_base: dict[str, str] | None = None,
    bluesky_appview: str = "https://public.api.bsky.app",
    x_api: str = "https://api.x.com",
    x_token: Secret | None = None,
) -> ThreadReport:
    """Fetch and store the reply threads of every question post of ``chat`` found so far (and
    of every question Salon posted, stored or not).
    ``mastodon_base`` maps a server's host to the base URL to ask (default ``https://host``)."""
    client = client or httpx.Client(timeout=TIMEOUT)
    writer = Writer(archive)
    report = ThreadReport()
    a = chat_assignment(archive, chat)
    posted = posted_questions(archive, chat)  # known even before the post itself is collected
    for q in a.questions:
        for uid in dict.fromkeys([*q.uids, *posted.get(q.n, [])]):
            platform, _, native = uid.partition(":")
            try:
                if platform == "mastodon":
                    parts = urlsplit(native)
                    host = parts.netloc
                    status_id = native.rstrip("/").rsplit("/", 1)[-1]
                    base = (mastodon_base or {}).get(host, f"https://{host}")
                    url = f"{base}/api/v1/statuses/{status_id}/context"
                    r = client.get(url)
                    report.requests += 1
                    r.raise_for_status()
                    body = orjson.loads(r.content)
                    wrapped = orjson.dumps({"instance": host, **body})
                    report.posts_new += _store(writer, url, wrapped, "mastodon")
                elif platform == "bluesky":
                    url = f"{bluesky_appview.rstrip('/')}/xrpc/app.bsky.feed.getPostThread?" + urlencode(
                        {"uri": native, "depth": "1000", "parentHeight": "0"}
                    )
                    r = client.get(url)
                    report.requests += 1
                    r.raise_for_status()
                    report.posts_new += _store(writer, url, r.content, "bluesky")
                elif platform == "x":
                    if x_token is None:
                        report.errors.append(f"Q{q.n} on X: no bearer token (salon auth x)")
                        continue
                    token: str | None = None
                    tokens: set[str] = set()
                    while len(tokens) < MAX_X_PAGES:
                        params = {"query": f"conversation_id:{native}", "max_results": "100", **FIELDS}
                        if token:
                            params["next_token"] = token
                        url = f"{x_api.rstrip('/')}/2/tweets/search/recent?" + urlencode(params)
                        r = client.get(url, headers={"Authorization": f"Bearer {x_token.reveal()}"})
                        report.requests += 1
                        r.raise_for_status()
                        page = orjson.loads(r.content)
                        if page.get("data"):
                            report.posts_new += _store(writer, url, r.content, "x-v2")
                        token = (page.get("meta") or {}).get("next_token")
                        if not token or token in tokens:  # the end, or a server going round
                            break
                        tokens.add(token)
                report.questions += 1
            except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
                report.errors.append(f"Q{q.n} on {platform}: {type(exc).__name__}: {str(exc)[:120]}")
    report.untagged = len(chat_assignment(archive, chat).untagged)
    return report
