"""The plan as Bluesky Jetstream commit events (post and repost creates, post deletes); facet
offsets in UTF-8 bytes, record keys in the order Jetstream writes them."""

from __future__ import annotations

import json
import random
from typing import Any

from salon.demo.plan import (
    PlanPost,
    cid,
    digest,
    iso_ms,
    short,
    strip_mentions,
    tid,
    us,
)


def _b_text(p: PlanPost) -> tuple[str, list[dict[str, Any]]]:
    """Text and facets (UTF-8 byte offsets) of a Bluesky post; links show shortened."""
    out: list[str] = []
    facets: list[dict[str, Any]] = []
    pos = 0
    pieces = strip_mentions(p.pieces)
    for kind, s, val in pieces:
        if kind == "url":
            s = short(val, 30) if len(val.split("://", 1)[-1]) > 30 else val.split("://", 1)[-1]
        n = len(s.encode("utf-8"))
        if kind == "tag":
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": s[1:]}],
                    "index": {"byteEnd": pos + n, "byteStart": pos},
                }
            )
        elif kind == "url":
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": val}],
                    "index": {"byteEnd": pos + n, "byteStart": pos},
                }
            )
        out.append(s)
        pos += n
    return "".join(out), facets


def _b_record(p: PlanPost) -> dict[str, Any]:
    if p.reposted is not None:
        t = p.reposted
        return {
            "$type": "app.bsky.feed.repost",
            "createdAt": iso_ms(p.created),
            "subject": {"cid": t.b_cid, "uri": t.b_uri},
        }
    text, facets = _b_text(p)
    rec: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso_ms(p.created)}
    if p.quoted is not None:
        rec["embed"] = {
            "$type": "app.bsky.embed.record",
            "record": {"cid": p.quoted.b_cid, "uri": p.quoted.b_uri},
        }
    elif p.media:
        rec["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": m.alt,
                    "aspectRatio": {"height": m.height, "width": m.width},
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": cid(digest("blob", m.key), 0x55)},
                        "mimeType": "image/jpeg",
                        "size": 180_000 + int.from_bytes(digest("size", m.key)[:3], "big") % 900_000,
                    },
                }
                for m in p.media
            ],
        }
    if facets:
        rec["facets"] = facets
    rec["langs"] = [p.lang]
    if p.parent is not None:
        root = p.root
        rec["reply"] = {
            "parent": {"cid": p.parent.b_cid, "uri": p.parent.b_uri},
            "root": {"cid": root.b_cid, "uri": root.b_uri},
        }
    rec["text"] = text
    return rec


def jetstream_events(posts: list[PlanPost], rng: random.Random) -> list[dict[str, Any]]:
    """Jetstream commit events (creates in time order, deletes when they happen)."""
    events: list[tuple[int, int, dict[str, Any]]] = []
    # Built in time order, each record once: a post's subjects (reply parent and root, quoted or
    # reposted post) are at least 20 s older than it (``Planner.delay``), so their cids are known.
    records: dict[int, dict[str, Any]] = {}
    for p in sorted(posts, key=lambda q: (q.b_time_us, q.idx)):
        record = records[p.idx] = _b_record(p)
        p.b_cid = cid(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
    for p in posts:
        record = records[p.idx]
        rev = tid(p.b_time_us, rng.randrange(1024))
        events.append(
            (
                p.b_time_us,
                0,
                {
                    "did": p.author.native_id,
                    "time_us": p.b_time_us,
                    "kind": "commit",
                    "commit": {
                        "rev": rev,
                        "operation": "create",
                        "collection": p.b_collection,
                        "rkey": p.b_rkey,
                        "record": record,
                        "cid": p.b_cid,
                    },
                },
            )
        )
        if p.deleted_at is not None:
            t = us(p.deleted_at)
            events.append(
                (
                    t,
                    1,
                    {
                        "did": p.author.native_id,
                        "time_us": t,
                        "kind": "commit",
                        "commit": {
                            "rev": tid(t, rng.randrange(1024)),
                            "operation": "delete",
                            "collection": p.b_collection,
                            "rkey": p.b_rkey,
                        },
                    },
                )
            )
    events.sort(key=lambda e: (e[0], e[1], e[2]["commit"]["rkey"]))
    return [e[2] for e in events]
