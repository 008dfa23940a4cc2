"""Jetstream ``subscribeEvents`` frames (XRPC subscription ``network.bsky.jetstream.subscribeEvents``,
subprotocol ``xrpc.v1.json``): ``{"$type": "message", "payload": {"$type":
"network.bsky.jetstream.subscribeEvents#commit", "seq", "did", "time", "rev", "operation",
"collection", "rkey", "record", "cid"}}``, and ``#identity`` / ``#account`` / ``#sync`` payloads
wrapping the upstream firehose event (lexicon in ``../shared/corpora/bluesky-jetstream/lexicons``).

A commit is read exactly as the v1 event it carries (``salon.normalize.jetstream``), its ``time``
(RFC 3339, microseconds) standing for ``time_us``; an identity event naming a handle is an
``Author`` snapshot (the DID's new handle, observed at ``time``). Anything else yields nothing:
its raw frame is still kept by the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from salon.model import Item
from salon.normalize import BadRecord, Context
from salon.normalize import jetstream as v1
from salon.normalize.common import parse_time

FORMAT = "jetstream-events"
NSID = "network.bsky.jetstream.subscribeEvents"
_COMMIT_FIELDS = ("rev", "operation", "collection", "rkey", "record", "cid")


def sniff(obj: Any) -> bool:
    """A ``message`` frame whose payload is one of subscribeEvents' message types."""
    if not isinstance(obj, dict) or obj.get("$type") != "message":
        return False
    payload = obj.get("payload")
    return isinstance(payload, dict) and str(payload.get("$type", "")).startswith(NSID + "#")


def _time_us(payload: dict[str, Any]) -> int:
    seen = parse_time(payload.get("time"))
    if seen is None:
        raise BadRecord("subscribeEvents payload without time")
    return int(seen.timestamp()) * 1_000_000 + seen.microsecond


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts, reposts and tombstones of a commit; an author snapshot of an identity event."""
    if not sniff(obj):
        raise BadRecord("not a Jetstream subscribeEvents frame")
    payload = obj["payload"]
    kind = payload["$type"].rpartition("#")[2]
    did = payload.get("did")
    if kind == "commit":
        commit = {k: payload[k] for k in _COMMIT_FIELDS if k in payload}
        yield from v1.normalize(
            {"did": did, "time_us": _time_us(payload), "kind": "commit", "commit": commit}, ctx
        )
    elif kind == "identity":
        yield from v1.identity_author(did, payload.get("identity"))
